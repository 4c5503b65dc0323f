"""What a client may send for a Comment, and what it gets back."""

from datetime import datetime

from app.models.comment import CommentBase
from app.schemas.common import Page


class CommentCreate(CommentBase):
    """The body of a create: the contract's fields and nothing else (an unknown key is a 422)."""

    model_config = {"extra": "forbid"}


class CommentPublic(CommentBase):
    """A Comment as every response shows it: every field present, null where it may be empty."""

    model_config = {"json_schema_serialization_defaults_required": True}

    id: int
    user_id: str
    task_id: int
    created_at: datetime
    updated_at: datetime


# Named, not Page[CommentPublic]: the OpenAPI names a schema after its class.
class CommentPage(Page[CommentPublic]):
    """One page of comments."""
