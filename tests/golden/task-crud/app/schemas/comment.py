"""What a client may send for a Comment, and what it gets back."""

from datetime import datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from app.models.comment import CommentBase
from app.schemas.common import SafeText


class CommentCreate(CommentBase):
    """The body of a create: the contract's fields and nothing else (an unknown key is a 422)."""

    model_config = {"extra": "forbid"}


class CommentUpdate(SQLModel):
    """The body of a PATCH: only the keys sent change; null only clears a field that may be empty."""

    model_config = {"extra": "forbid"}

    body: SafeText | None = Field(default=None, min_length=1, max_length=2000, description="Comment text")

    @field_validator("body", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Leaving a key out keeps the stored value; null would store an empty required value.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class CommentPublic(CommentBase):
    """A Comment as every response shows it."""

    id: int
    user_id: str
    task_id: int
    created_at: datetime
    updated_at: datetime
