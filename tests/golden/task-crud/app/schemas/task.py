"""What a client may send for a Task, and what it gets back."""

from datetime import datetime
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel
from sqlmodel import Field, SQLModel
from typing_extensions import TypeAliasType

from app.database import SafeText, UtcDatetime
from app.models.task import TaskBase, TaskPriority, TaskStatus
from app.schemas.common import Page


class TaskCreate(TaskBase):
    """The body of a create: the contract's fields and nothing else (an unknown key is a 422)."""

    model_config = {"extra": "forbid"}


def _no_defaults(schema: dict[str, Any]) -> None:
    # A key left out of a PATCH keeps its stored value: no property has a default to document.
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class TaskUpdate(SQLModel):
    """The body of a PATCH: only the keys sent change; null clears a field that may be empty, and only
    such a field (its type says so). The default None is never read: changes are the keys sent."""

    model_config = {"extra": "forbid", "json_schema_extra": _no_defaults}

    title: SafeText = Field(default=None, min_length=1, max_length=255, description="Short title")
    description: SafeText | None = Field(default=None, max_length=2000, description="Longer details")
    status: TaskStatus = Field(default=None, description="Where the task stands")
    priority: TaskPriority = Field(default=None, description="How urgent it is")
    due_date: UtcDatetime | None = Field(default=None, description="When it is due (UTC)")
    tags: list[SafeText] = Field(default=None, max_length=20, description="Free labels")


class TaskPublic(TaskBase):
    """A Task as every response shows it: every field present, null where it may be empty."""

    model_config = {"json_schema_serialization_defaults_required": True}

    id: int
    user_id: str
    created_at: datetime
    updated_at: datetime


# Named, not Page[TaskPublic]: the OpenAPI names a schema after its class.
class TaskPage(Page[TaskPublic]):
    """One page of tasks."""


#: The orders a list accepts: a field, ascending, or ``-field``, descending.
TaskSort = TypeAliasType(
    "TaskSort",
    Annotated[
        Literal["created_at", "-created_at", "due_date", "-due_date", "title", "-title"],
        pydantic.Field(
            json_schema_extra={
                "x-enum-varnames": [
                    "CREATED_AT", "CREATED_AT_DESC", "DUE_DATE", "DUE_DATE_DESC", "TITLE", "TITLE_DESC",
                ],
            },
        ),
    ],
)


class TaskStatusCounts(BaseModel):
    """How many tasks have each status, zeros included."""

    pending: int
    in_progress: int
    completed: int


class TaskStatusStats(BaseModel):
    """How many tasks there are, by status (every value, zeros included)."""

    total: int
    by_status: TaskStatusCounts
