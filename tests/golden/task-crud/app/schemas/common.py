"""The bodies every resource shares: pages, bulk requests and results."""

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.database import IntId

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list or a search."""

    items: list[T]
    total: int
    page: int
    page_size: int
    pages: int

IdT = TypeVar("IdT")


class BulkRequest(BaseModel, Generic[IdT]):
    """The ids a bulk update acts on (1 to 500; a repeated id counts once)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[IdT] = Field(min_length=1, max_length=500)


class BulkResult(BaseModel, Generic[IdT]):
    """How many rows a bulk update changed, and the ids it could not change."""

    updated_count: int
    failed_ids: list[IdT]


# Named classes, not BulkRequest[IntId]: the OpenAPI names a schema after its class.
class IntBulkRequest(BulkRequest[IntId]):
    """The int ids a bulk update acts on (1 to 500; a repeated id counts once)."""


class IntBulkResult(BulkResult[IntId]):
    """How many rows a bulk update changed, and the int ids it could not change."""
