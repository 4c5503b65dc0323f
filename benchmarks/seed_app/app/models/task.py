# ruff: noqa
"""
Task SQLModel for TODO application.
File: backend/app/models/task.py
"""
from datetime import datetime, timezone
from typing import Optional
from uuid import UUID
from sqlmodel import Field, SQLModel, Index


class Task(SQLModel, table=True):
    """
    Task model for multi-user TODO application.

    Attributes:
        id: Primary key
        user_id: Foreign key to users table (owner)
        title: Task title
        description: Optional detailed description
        status: Task status (pending, in_progress, completed)
        priority: Task priority (low, normal, high, urgent)
        due_date: Optional due date
        created_at: Timestamp when task was created
        updated_at: Timestamp when task was last modified
    """
    __tablename__ = "tasks"

    # Primary key
    id: Optional[int] = Field(default=None, primary_key=True)

    # Foreign key to users table
    # FIX (benchmark): the seed has `user_id: UUID = Field(foreign_key="users.id", ...)`.
    # There is no users table (tokens come from elsewhere), so create_all raises
    # NoReferencedTableError; and the JWT `sub` the router compares it with is a str, which a
    # UUID column cannot bind. So: a str, no foreign key; still indexed as in the seed.
    user_id: str = Field(
        index=True,
        description="User who owns this task"
    )

    # Task fields
    title: str = Field(max_length=255, description="Task title")
    description: Optional[str] = Field(default=None, description="Task description")
    status: str = Field(default="pending", description="pending, in_progress, or completed")
    priority: str = Field(default="normal", description="low, normal, high, or urgent")
    due_date: Optional[datetime] = Field(default=None, description="Task due date")

    # Timestamps
    # FIX (benchmark): the seed's default_factory=datetime.utcnow gives naive datetimes, which
    # SQLModel 0.0.5x refuses to write ("Datetime values must have timezone information");
    # now the same instant, timezone-aware.
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    # Indexes for performance
    __table_args__ = (
        Index("ix_tasks_user_status", "user_id", "status"),
        Index("ix_tasks_user_created", "user_id", "created_at"),
    )
