"""The engine, the database threads, sessions that turn integrity errors into 409s, the UTC column type."""

import asyncio
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import DateTime, Dialect, Row, TypeDecorator, event, func, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, create_engine, select

from app.config import settings
from app.errors import Conflict
from app.schemas.common import as_utc


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def later(previous: datetime | None) -> datetime:
    """Now, or just after ``previous`` when the clock has not moved: ``updated_at`` always grows."""
    now = utcnow()
    if previous is not None and now <= previous:
        return previous + timedelta(microseconds=1)
    return now


class UTCDateTime(TypeDecorator[datetime]):
    """TIMESTAMP WITH TIME ZONE that always hands back aware UTC (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


_P = ParamSpec("_P")
_T = TypeVar("_T")

_sqlite = settings.database_url.startswith("sqlite")
# One pooled connection per database thread: a thread never waits for, or opens, a connection.
engine = create_engine(
    settings.database_url,
    pool_size=settings.db_threads,
    connect_args={"check_same_thread": False} if _sqlite else {},
)
_db_threads = ThreadPoolExecutor(max_workers=settings.db_threads, thread_name_prefix="db")


async def run_db(work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``work``, all of one request's database work, on a database thread; await its result.

    The event loop never blocks on the database, and a request makes one hop. A plain executor:
    anyio's ``to_thread`` (Starlette's ``run_in_threadpool``) costs more CPU per hop.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_db_threads, partial(work, *args, **kwargs))


if _sqlite:

    @event.listens_for(engine, "connect")
    def _foreign_keys(connection: Any, record: Any) -> None:
        # SQLite checks foreign keys only when asked, per connection.
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@contextmanager
def open_session() -> Iterator[Session]:
    """A session for one request's work; a unique or foreign key violation becomes a 409."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except IntegrityError:
            session.rollback()
            raise Conflict("This conflicts with existing data: a unique value is taken, "
                           "or other rows still depend on this one") from None


def fetch_page(session: Session, model: type[SQLModel], where: Sequence[Any], order: Sequence[Any],
               page: int, page_size: int) -> tuple[Sequence[Row[Any]], int]:
    """One page of ``model``'s rows and the number of rows ``where`` matches: at most two statements.

    Plain rows, not ORM objects: a page is only read, and building and tracking an object per row
    costs more than the query.
    """
    connection = session.connection()
    total = connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total
    table = inspect(model).local_table
    rows = connection.execute(select(table).where(*where).order_by(*order).offset(offset).limit(page_size))
    return rows.all(), total


def fetch_one(session: Session, model: type[SQLModel], where: Sequence[Any]) -> Row[Any] | None:
    """The first of ``model``'s rows that ``where`` matches, as a plain row, or None."""
    table = inspect(model).local_table
    return session.connection().execute(select(table).where(*where)).first()


def ordering(column: Any, id_column: Any, *, descending: bool, nullable: bool) -> list[Any]:
    """ORDER BY ``column`` then id in the same direction; NULLs last going up, first going down."""
    if descending:
        first = column.desc().nulls_first() if nullable else column.desc()
        return [first, id_column.desc()]
    first = column.asc().nulls_last() if nullable else column.asc()
    return [first, id_column.asc()]


def contains_text(column: Any, text: str) -> Any:
    """``column`` contains ``text`` in any case; %, _ and \\ in ``text`` match themselves.

    ILIKE where the database has it. On SQLite, plain LIKE: it already ignores ASCII case, as SQLite's
    lower() does, so it means what SQLAlchemy's lower(x) LIKE lower(y) means there, at a third the cost.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if _sqlite:
        return column.like(f"%{escaped}%", escape="\\")
    return column.ilike(f"%{escaped}%", escape="\\")


def create_tables() -> None:
    """Create every missing table (Alembic owns later changes)."""
    SQLModel.metadata.create_all(engine)
