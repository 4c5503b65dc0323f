"""What a client may send for a Task, and what it gets back."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, field_validator
from sqlmodel import Field, SQLModel

from app.models.task import TaskBase, TaskPriority, TaskStatus
from app.schemas.common import SafeText, UtcDatetime


class TaskCreate(TaskBase):
    """The body of a create: the contract's fields and nothing else (an unknown key is a 422)."""

    model_config = {"extra": "forbid"}


class TaskUpdate(SQLModel):
    """The body of a PATCH: only the keys sent change; null only clears a field that may be empty."""

    model_config = {"extra": "forbid"}

    title: SafeText | None = Field(default=None, min_length=1, max_length=255, description="Short title")
    description: SafeText | None = Field(default=None, max_length=2000, description="Longer details")
    status: TaskStatus | None = Field(default=None, description="Where the task stands")
    priority: TaskPriority | None = Field(default=None, description="How urgent it is")
    due_date: UtcDatetime | None = Field(default=None, description="When it is due (UTC)")
    tags: list[SafeText] | None = Field(default=None, max_length=20, description="Free labels")

    @field_validator("title", "status", "priority", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Leaving a key out keeps the stored value; null would store an empty required value.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class TaskPublic(TaskBase):
    """A Task as every response shows it."""

    id: int
    user_id: str
    created_at: datetime
    updated_at: datetime


#: The orders a list accepts: a field, ascending, or ``-field``, descending.
TaskSort = Literal["created_at", "-created_at", "due_date", "-due_date", "title", "-title"]


class TaskStatusStats(BaseModel):
    """How many tasks there are, by status (every value, zeros included)."""

    total: int
    by_status: dict[str, int]
