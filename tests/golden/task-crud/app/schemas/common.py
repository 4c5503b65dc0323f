"""Types and bodies every resource shares: safe text, bounded ids, pages, bulk requests and results."""

import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Interval
from pydantic import AfterValidator, AllowInfNan, BaseModel, ConfigDict, EmailStr, Field, HttpUrl, TypeAdapter


def clean_text(value: str) -> str:
    """Refuse text a database cannot store: NUL characters (PostgreSQL) and lone surrogates."""
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode") from None
    return value


def as_utc(value: datetime) -> datetime:
    """Read a naive datetime as UTC; convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("datetime is out of range in UTC") from None


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def check_http_url(value: str) -> str:
    """Keep the URL as sent once it reads as an http(s) URL."""
    _HTTP_URL.validate_python(value)
    return value


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > 64:
        raise ValueError("JSON nests too deeply")
    if isinstance(value, str):
        clean_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("JSON numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            clean_text(str(key))
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def check_json(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON object every database can store."""
    _check_json(value)
    return value


def scaled(places: int) -> AfterValidator:
    """Refuse more than ``places`` digits after the point, then write exactly ``places`` of them, as
    a NUMERIC column stores the value (so a response shows what a later read will)."""
    quantum = Decimal(1).scaleb(-places)

    def quantize(value: Decimal) -> Decimal:
        try:
            exact = value.quantize(quantum)
        except InvalidOperation:
            raise ValueError("the number has too many digits") from None
        if exact != value:
            raise ValueError(f"at most {places} digits are allowed after the point")
        return exact

    return AfterValidator(quantize)


#: Text as a database can store it.
SafeText = Annotated[str, AfterValidator(clean_text)]
#: An email address, validated.
Email = Annotated[EmailStr, AfterValidator(clean_text)]
#: An http(s) URL, kept as sent.
HttpUrlText = Annotated[str, AfterValidator(clean_text), AfterValidator(check_http_url)]
#: Any JSON object.
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
#: A datetime, read as UTC when naive and answered with its offset.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
#: The range of a BIGINT column.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: An integer a BIGINT column holds; anything larger is a 422, not a database error.
Int64 = Annotated[int, Interval(ge=INT64_MIN, le=INT64_MAX)]
#: An integer id in a path, a query or a body.
IntId = Int64
#: A finite float (no NaN or infinity).
Finite = Annotated[float, AllowInfNan(False)]

T = TypeVar("T")
IdT = TypeVar("IdT")


class Page(BaseModel, Generic[T]):
    """One page of a list or a search."""

    items: list[T]
    total: int
    page: int
    page_size: int
    pages: int


class BulkRequest(BaseModel, Generic[IdT]):
    """The ids a bulk update acts on (1 to 500; a repeated id counts once)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[IdT] = Field(min_length=1, max_length=500)


class BulkResult(BaseModel, Generic[IdT]):
    """How many rows a bulk update changed, and the ids it could not change."""

    updated_count: int
    failed_ids: list[IdT]


def page_count(total: int, page_size: int) -> int:
    """How many pages ``total`` items fill (0 when there are none)."""
    return (total + page_size - 1) // page_size
