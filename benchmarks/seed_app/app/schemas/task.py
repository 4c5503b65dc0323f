# ruff: noqa
"""
Task Pydantic schemas for API validation.
File: backend/app/schemas/task.py
"""
from datetime import datetime
from typing import Optional
from uuid import UUID
from pydantic import BaseModel, Field, validator


class TaskBase(BaseModel):
    """Base schema with common fields."""
    title: str = Field(..., min_length=1, max_length=255, description="Task title")
    description: Optional[str] = Field(None, description="Task description")
    status: str = Field("pending", description="pending, in_progress, or completed")
    priority: str = Field("normal", description="low, normal, high, or urgent")
    due_date: Optional[datetime] = Field(None, description="Task due date")

    @validator("status")
    def validate_status(cls, v):
        """Validate status is one of the allowed values."""
        allowed = ["pending", "in_progress", "completed"]
        if v not in allowed:
            raise ValueError(f"Status must be one of {allowed}")
        return v

    @validator("priority")
    def validate_priority(cls, v):
        """Validate priority is one of the allowed values."""
        allowed = ["low", "normal", "high", "urgent"]
        if v not in allowed:
            raise ValueError(f"Priority must be one of {allowed}")
        return v


class TaskCreate(TaskBase):
    """Schema for creating a new task."""
    pass  # All fields from TaskBase are required/optional as defined


class TaskUpdate(BaseModel):
    """Schema for updating a task (all fields optional)."""
    title: Optional[str] = Field(None, min_length=1, max_length=255)
    description: Optional[str] = None
    status: Optional[str] = None
    priority: Optional[str] = None
    due_date: Optional[datetime] = None


class TaskResponse(TaskBase):
    """Schema for task responses (includes auto-generated fields)."""
    id: int
    user_id: str  # UUID as string for JSON serialization
    created_at: datetime
    updated_at: datetime

    class Config:
        from_attributes = True  # Pydantic v2: allows ORM mode


class TaskListResponse(BaseModel):
    """Schema for paginated task list."""
    items: list[TaskResponse]
    total: int
    page: int
    page_size: int


class TaskStatsResponse(BaseModel):
    """Schema for task statistics."""
    total: int
    pending: int
    in_progress: int
    completed: int
    completion_rate: float
