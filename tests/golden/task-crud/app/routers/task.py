"""Tasks over HTTP: async endpoints that do their database work on a thread."""

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import Row, bindparam, func, or_, update
from sqlmodel import Session, col, select

from app.auth.jwt import CurrentUser
from app.database import (
    IntId,
    PageQuery,
    SafeText,
    contains,
    contains_pattern,
    fetch_one,
    fetch_page,
    later,
    open_session,
    ordering,
    page_count,
    page_query,
    row_query,
    run_db,
    utcnow,
)
from app.errors import NotFound, error_responses
from app.models.task import Task, TaskPriority, TaskStatus
from app.schemas.common import BulkResult, IntBulkRequest, IntBulkResult, Page
from app.schemas.task import TaskCreate, TaskPage, TaskPublic, TaskSort, TaskStatusStats, TaskUpdate


def _own() -> list[Any]:
    """Conditions for the rows a list, search, stats or bulk update of the caller may see.

    Values are bound by name, not written in: a statement built from them serves every caller.
    """
    return [col(Task.user_id) == bindparam("user_id")]


def _one() -> list[Any]:
    """Conditions for the Task at the bound id among the rows the caller may see."""
    return [col(Task.id) == bindparam("task_id"), col(Task.user_id) == bindparam("user_id")]


_READ = row_query(Task, _one())


def _load(session: Session, user_id: str, task_id: int) -> Task:
    """The Task at this id, or 404 when the caller cannot see it."""
    values: dict[str, Any] = {"user_id": user_id, "task_id": task_id}
    row = session.exec(select(Task).where(*_one()), params=values).first()
    if row is None:
        raise NotFound("Task not found")
    return row


def _read(session: Session, user_id: str, task_id: int) -> Row[Any]:
    """The Task at this id, or 404 when the caller cannot see it.

    A plain row: a read builds no ORM object.
    """
    values: dict[str, Any] = {"user_id": user_id, "task_id": task_id}
    row = fetch_one(session, _READ, values)
    if row is None:
        raise NotFound("Task not found")
    return row


_SORTS: dict[str, tuple[Any, bool]] = {
    "created_at": (Task.created_at, False),
    "due_date": (Task.due_date, True),
    "title": (Task.title, False),
}


def _order(sort: str) -> list[Any]:
    column, nullable = _SORTS[sort.removeprefix("-")]
    return ordering(column, Task.id, descending=sort.startswith("-"), nullable=nullable)


def _create_task(user_id: str, data: TaskCreate) -> TaskPublic:
    """Insert one Task owned by the caller."""
    with open_session() as session:
        now = utcnow()
        extra = {"user_id": user_id, "created_at": now, "updated_at": now}
        row = Task.model_validate(data, update=extra)
        session.add(row)
        session.commit()
        return TaskPublic.model_validate(row)


@cache
def _list_tasks_query(sort: str, status: bool, priority: bool) -> PageQuery:
    """The statements of one shape of request: which filters are set, and the order. Built once each."""
    where = _own()
    if status:
        where.append(col(Task.status) == bindparam("filter_status"))
    if priority:
        where.append(col(Task.priority) == bindparam("filter_priority"))
    return page_query(Task, where, _order(sort))


def _list_tasks(
    user_id: str,
    status: TaskStatus | None,
    priority: TaskPriority | None,
    sort: str,
    page: int,
    page_size: int,
) -> Page[TaskPublic]:
    """One page of the caller's tasks, filtered, in the order asked."""
    query = _list_tasks_query(sort, status is not None, priority is not None)
    values: dict[str, Any] = {"user_id": user_id, "filter_status": status, "filter_priority": priority}
    with open_session() as session:
        rows, total = fetch_page(session, query, values, page, page_size)
    pages = page_count(total, page_size)
    body = {"items": rows, "total": total, "page": page, "page_size": page_size, "pages": pages}
    return Page[TaskPublic].model_validate(body, from_attributes=True)


def _bulk_complete_tasks(user_id: str, ids: list[int]) -> BulkResult[int]:
    """Set status on every id the caller owns, all in one transaction."""
    wanted = list(dict.fromkeys(ids))
    values: dict[str, Any] = {"user_id": user_id}
    with open_session() as session:
        statement = select(Task.id).where(col(Task.id).in_(wanted), *_own())
        found = set(session.exec(statement, params=values).all())
        if found:
            changes: dict[str, Any] = {"status": "completed", "updated_at": utcnow()}
            session.exec(update(Task).where(col(Task.id).in_(found)).values(changes))
            session.commit()
    failed = [item for item in wanted if item not in found]
    return BulkResult[int](updated_count=len(found), failed_ids=failed)


_SEARCH_TASKS = page_query(
    Task,
    [
        *_own(),
        or_(contains(col(Task.title), "q"), contains(col(Task.description), "q")),
    ],
    ordering(Task.created_at, Task.id, descending=True, nullable=False),
)


def _search_tasks(user_id: str, q: str, page: int, page_size: int) -> Page[TaskPublic]:
    """The caller's tasks whose title, description contain ``q``, in any case.

    ``%``, ``_`` and ``\\`` in ``q`` match themselves.
    """
    values: dict[str, Any] = {"user_id": user_id, "q": contains_pattern(q)}
    with open_session() as session:
        rows, total = fetch_page(session, _SEARCH_TASKS, values, page, page_size)
    pages = page_count(total, page_size)
    body = {"items": rows, "total": total, "page": page, "page_size": page_size, "pages": pages}
    return Page[TaskPublic].model_validate(body, from_attributes=True)


_STATS_TASKS = (
    select(col(Task.status), func.count())
    .where(*_own())
    .group_by(col(Task.status))
)


def _stats_tasks(user_id: str) -> TaskStatusStats:
    """How many of the caller's tasks have each status: one GROUP BY query."""
    values: dict[str, Any] = {"user_id": user_id}
    with open_session() as session:
        rows = session.connection().execute(_STATS_TASKS, values).all()
    counts = dict.fromkeys(("pending", "in_progress", "completed"), 0)
    total = 0
    for value, count in rows:
        total += count
        if value is not None:
            counts[str(value)] = count
    return TaskStatusStats(total=total, by_status=counts)


def _get_task(user_id: str, task_id: int) -> TaskPublic:
    """One Task."""
    with open_session() as session:
        row = _read(session, user_id, task_id)
        return TaskPublic.model_validate(row, from_attributes=True)


def _update_task(user_id: str, task_id: int, data: TaskUpdate) -> TaskPublic:
    """Change the keys sent, nothing else; ``updated_at`` moves even for ``{}``."""
    changes = data.model_dump(exclude_unset=True)
    with open_session() as session:
        row = _load(session, user_id, task_id)
        row.sqlmodel_update(changes)
        row.updated_at = later(row.updated_at)
        session.add(row)
        session.commit()
        return TaskPublic.model_validate(row)


def _delete_task(user_id: str, task_id: int) -> None:
    """Delete the Task and what goes with it, or nothing at all (409)."""
    with open_session() as session:
        row = _load(session, user_id, task_id)
        session.delete(row)
        session.commit()


router = APIRouter(tags=["tasks"])


@router.post(
    "/api/tasks",
    status_code=201,
    response_model=TaskPublic,
    summary="Create a task",
    responses=error_responses(400, 401, 422),
)
async def create_task(data: TaskCreate, user_id: CurrentUser) -> Response:
    result = await run_db(_create_task, user_id, data)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=201, media_type="application/json")


@router.get("/api/tasks", response_model=TaskPage, summary="List tasks", responses=error_responses(401, 422))
async def list_tasks(
    user_id: CurrentUser,
    status: Annotated[TaskStatus | None, Query()] = None,
    priority: Annotated[TaskPriority | None, Query()] = None,
    sort: Annotated[TaskSort, Query()] = "-created_at",
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    result = await run_db(_list_tasks, user_id, status, priority, sort, page, page_size)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=200, media_type="application/json")


@router.post(
    "/api/tasks/bulk-complete",
    response_model=IntBulkResult,
    summary="Set status on many tasks",
    responses=error_responses(400, 401, 422),
)
async def bulk_complete_tasks(body: IntBulkRequest, user_id: CurrentUser) -> Response:
    result = await run_db(_bulk_complete_tasks, user_id, body.ids)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=200, media_type="application/json")


@router.get(
    "/api/tasks/search",
    response_model=TaskPage,
    summary="Search tasks by title, description",
    responses=error_responses(401, 422),
)
async def search_tasks(
    q: Annotated[SafeText, Query(min_length=1, max_length=256)],
    user_id: CurrentUser,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    result = await run_db(_search_tasks, user_id, q, page, page_size)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=200, media_type="application/json")


@router.get(
    "/api/tasks/stats",
    response_model=TaskStatusStats,
    summary="Count tasks by status",
    responses=error_responses(401),
)
async def stats_tasks(user_id: CurrentUser) -> Response:
    result = await run_db(_stats_tasks, user_id)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=200, media_type="application/json")


@router.get(
    "/api/tasks/{task_id}",
    response_model=TaskPublic,
    summary="Read a task",
    responses=error_responses(401, 404, 422),
)
async def get_task(task_id: IntId, user_id: CurrentUser) -> Response:
    result = await run_db(_get_task, user_id, task_id)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=200, media_type="application/json")


@router.patch(
    "/api/tasks/{task_id}",
    response_model=TaskPublic,
    summary="Update a task",
    responses=error_responses(400, 401, 404, 422),
)
async def update_task(task_id: IntId, data: TaskUpdate, user_id: CurrentUser) -> Response:
    result = await run_db(_update_task, user_id, task_id, data)
    # Built and checked as response_model in the worker; serialised once here, not re-validated.
    return Response(result.model_dump_json(), status_code=200, media_type="application/json")


@router.delete(
    "/api/tasks/{task_id}",
    status_code=204,
    summary="Delete a task",
    responses=error_responses(401, 404, 422),
)
async def delete_task(task_id: IntId, user_id: CurrentUser) -> Response:
    await run_db(_delete_task, user_id, task_id)
    return Response(status_code=204)
