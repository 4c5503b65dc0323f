"""The tasks table and the fields every Task schema shares."""

from datetime import datetime
from typing import Literal

from sqlalchemy import JSON, Index, String, Text
from sqlmodel import Field, SQLModel
from typing_extensions import TypeAliasType

from app.database import SafeText, UTCDateTime, UtcDatetime, utcnow

TaskStatus = TypeAliasType("TaskStatus", Literal["pending", "in_progress", "completed"])
TaskPriority = TypeAliasType("TaskPriority", Literal["low", "normal", "high", "urgent"])


class TaskBase(SQLModel):
    """The fields a client may set on a Task."""

    title: SafeText = Field(min_length=1, max_length=255, sa_type=String(255), description="Short title")
    description: SafeText | None = Field(
        default=None,
        max_length=2000,
        sa_type=Text,
        nullable=True,
        description="Longer details",
    )
    status: TaskStatus = Field(default="pending", sa_type=String(11), description="Where the task stands")
    priority: TaskPriority = Field(default="normal", sa_type=String(6), description="How urgent it is")
    due_date: UtcDatetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        nullable=True,
        description="When it is due (UTC)",
    )
    tags: list[SafeText] = Field(default_factory=list, max_length=20, sa_type=JSON, description="Free labels")


class Task(TaskBase, table=True):
    """A row of tasks."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_tasks_user_id_status", "user_id", "status"),
        Index("ix_tasks_user_id_priority", "user_id", "priority"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255, sa_type=String(255))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
