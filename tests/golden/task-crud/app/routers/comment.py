"""Comments over HTTP: async endpoints that do their database work on a thread."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.auth.jwt import CurrentUser
from app.database import IntId, fetch_page, open_session, ordering, page_count, page_query, run_db, utcnow
from app.errors import NotFound, error_responses
from app.models.comment import Comment
from app.models.task import Task
from app.schemas.comment import CommentCreate, CommentPage, CommentPublic
from app.schemas.common import Page


def _check_parent(session: Session, user_id: str, task_id: int) -> None:
    """The parent Task must exist and be the caller's, else 404."""
    where = [col(Task.id) == task_id, col(Task.user_id) == user_id]
    if session.exec(select(Task.id).where(*where)).first() is None:
        raise NotFound("Task not found")


def _own() -> list[Any]:
    """Conditions for the rows a list, search, stats or bulk update of the caller may see.

    Values are bound by name, not written in: a statement built from them serves every caller.
    """
    return [col(Comment.user_id) == bindparam("user_id"), col(Comment.task_id) == bindparam("task_id")]


def _one() -> list[Any]:
    """Conditions for the Comment at the bound id among the rows the caller may see."""
    return [
        col(Comment.id) == bindparam("comment_id"),
        col(Comment.task_id) == bindparam("task_id"),
        col(Comment.user_id) == bindparam("user_id"),
        col(Comment.task_id).in_(
            select(Task.id).where(
                col(Task.id) == bindparam("task_id"),
                col(Task.user_id) == bindparam("user_id"),
            ),
        ),
    ]


def _load(session: Session, user_id: str, task_id: int, comment_id: int) -> Comment:
    """The Comment at this id, or 404 when the caller cannot see it."""
    values: dict[str, Any] = {"user_id": user_id, "task_id": task_id, "comment_id": comment_id}
    row = session.exec(select(Comment).where(*_one()), params=values).first()
    if row is None:
        # Missed: the parent may be why, and then its own 404 is the answer.
        _check_parent(session, user_id, task_id)
        raise NotFound("Comment not found")
    return row


def _create_comment(user_id: str, task_id: int, data: CommentCreate) -> CommentPublic:
    """Insert one Comment owned by the caller."""
    with open_session() as session:
        _check_parent(session, user_id, task_id)
        now = utcnow()
        extra = {"user_id": user_id, "task_id": task_id, "created_at": now, "updated_at": now}
        row = Comment.model_validate(data, update=extra)
        session.add(row)
        session.commit()
        return CommentPublic.model_validate(row)


_LIST_COMMENTS = page_query(
    Comment,
    _own(),
    ordering(Comment.created_at, Comment.id, descending=True, nullable=False),
)


def _list_comments(user_id: str, task_id: int, page: int, page_size: int) -> Page[CommentPublic]:
    """One page of the caller's comments."""
    query = _LIST_COMMENTS
    values: dict[str, Any] = {"user_id": user_id, "task_id": task_id}
    with open_session() as session:
        _check_parent(session, user_id, task_id)
        rows, total = fetch_page(session, query, values, page, page_size)
    pages = page_count(total, page_size)
    body = {"items": rows, "total": total, "page": page, "page_size": page_size, "pages": pages}
    return Page[CommentPublic].model_validate(body, from_attributes=True)


def _delete_comment(user_id: str, task_id: int, comment_id: int) -> None:
    """Delete the Comment, or nothing at all (409)."""
    with open_session() as session:
        row = _load(session, user_id, task_id, comment_id)
        session.delete(row)
        session.commit()


router = APIRouter(tags=["comments"])


@router.post(
    "/api/tasks/{task_id}/comments",
    status_code=201,
    response_model=CommentPublic,
    summary="Create a comment",
    responses=error_responses(400, 401, 404, 422),
)
async def create_comment(task_id: IntId, data: CommentCreate, user_id: CurrentUser) -> Response:
    result = await run_db(_create_comment, user_id, task_id, data)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=201, media_type="application/json")


@router.get(
    "/api/tasks/{task_id}/comments",
    response_model=CommentPage,
    summary="List comments",
    responses=error_responses(401, 404, 422),
)
async def list_comments(
    task_id: IntId,
    user_id: CurrentUser,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    result = await run_db(_list_comments, user_id, task_id, page, page_size)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=200, media_type="application/json")


@router.delete(
    "/api/tasks/{task_id}/comments/{comment_id}",
    status_code=204,
    summary="Delete a comment",
    responses=error_responses(401, 404, 422),
)
async def delete_comment(task_id: IntId, comment_id: IntId, user_id: CurrentUser) -> Response:
    await run_db(_delete_comment, user_id, task_id, comment_id)
    return Response(status_code=204)
