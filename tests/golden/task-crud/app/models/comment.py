"""The comments table and the fields every Comment schema shares."""

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from app.database import SafeText, UTCDateTime, utcnow


class CommentBase(SQLModel):
    """The fields a client may set on a Comment."""

    body: SafeText = Field(min_length=1, max_length=2000, sa_type=Text, description="Comment text")


class Comment(CommentBase, table=True):
    """A row of comments."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_comments_task_id_created_at_id", "task_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255, sa_type=String(255))
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE", sa_type=Integer)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
