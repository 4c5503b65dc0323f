"""The engine, the database threads, migrations on start, sessions that turn integrity errors into 409s,
the UTC column type and the value types every column holds (models and schemas share them)."""

import asyncio
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import alembic.command
import alembic.config
import alembic.runtime.migration
import alembic.script
from annotated_types import Interval
from pydantic import AfterValidator
from sqlalchemy import DateTime, Dialect, Row, Select, TypeDecorator, bindparam, event, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, create_engine

from app.config import settings
from app.errors import Conflict


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


#: Text as a database can store it.
SafeText = Annotated[str, AfterValidator(clean_text)]
#: A datetime, read as UTC when naive and answered with its offset.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
#: The smallest value a BIGINT column holds.
INT64_MIN = -(2**63)
#: The largest value a BIGINT column holds.
INT64_MAX = 2**63 - 1
#: An integer a BIGINT column holds; anything larger is a 422, not a database error.
Int64 = Annotated[int, Interval(ge=INT64_MIN, le=INT64_MAX)]
#: An integer id in a path, a query or a body.
IntId = Int64


def page_count(total: int, page_size: int) -> int:
    """How many pages ``total`` items fill (0 when there are none)."""
    return (total + page_size - 1) // page_size


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
# SQLite runs in this process and holds the GIL between steps, so threads past two only contend for it
# (measured: list and get serve fewer requests at 4 and 8); a server's threads mostly wait on the network.
_threads = settings.db_threads or (2 if _sqlite else 8)
# One pooled connection per database thread: a thread never waits for, or opens, a connection.
engine = create_engine(
    settings.database_url,
    pool_size=_threads,
    connect_args={"check_same_thread": False} if _sqlite else {},
)
_db_threads = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="db")


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


@dataclass(frozen=True)
class PageQuery:
    """The two statements of a page: how many rows match, and one page of them (``limit``, ``offset``)."""

    count: Select[Any]
    rows: Select[Any]


def page_query(model: type[SQLModel], where: Sequence[Any], order: Sequence[Any]) -> PageQuery:
    """Pages of ``model``'s rows that ``where`` matches, in ``order``, as plain rows.

    Build it once per shape of request, its values as ``bindparam``s, and reuse it: SQLAlchemy then
    neither builds the statements nor computes their cache keys again, which costs more than SQLite
    takes to run them.
    """
    table = inspect(model).local_table
    count = select(func.count()).select_from(table).where(*where)
    rows = select(table).where(*where).order_by(*order)
    return PageQuery(count, rows.limit(bindparam("limit")).offset(bindparam("offset")))


def row_query(model: type[SQLModel], where: Sequence[Any]) -> Select[Any]:
    """``model``'s rows that ``where`` matches, as plain rows; built once, like ``page_query``."""
    return select(inspect(model).local_table).where(*where)


def fetch_page(session: Session, query: PageQuery, values: dict[str, Any],
               page: int, page_size: int) -> tuple[Sequence[Row[Any]], int]:
    """One page of rows and the number of rows that match: at most two statements.

    Plain rows, not ORM objects: a page is only read, and building and tracking an object per row
    costs more than the query.
    """
    connection = session.connection()
    total = connection.execute(query.count, values).scalar_one()
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total
    rows = connection.execute(query.rows, {**values, "limit": page_size, "offset": offset})
    return rows.all(), total


def fetch_one(session: Session, query: Select[Any], values: dict[str, Any]) -> Row[Any] | None:
    """The first row ``query`` (a ``row_query``) finds with these values, or None."""
    return session.connection().execute(query, values).first()


def ordering(column: Any, id_column: Any, *, descending: bool, nullable: bool) -> list[Any]:
    """ORDER BY ``column`` then id in the same direction; NULLs last going up, first going down."""
    if descending:
        first = column.desc().nulls_first() if nullable else column.desc()
        return [first, id_column.desc()]
    first = column.asc().nulls_last() if nullable else column.asc()
    return [first, id_column.asc()]


def contains(column: Any, name: str) -> Any:
    """``column`` contains, in any case, the text whose ``contains_pattern`` is bound to ``name``.

    ILIKE where the database has it. On SQLite, plain LIKE: it already ignores ASCII case, as SQLite's
    lower() does, so it means what SQLAlchemy's lower(x) LIKE lower(y) means there, at a third the cost.
    """
    if _sqlite:
        return column.like(bindparam(name), escape="\\")
    return column.ilike(bindparam(name), escape="\\")


def contains_pattern(text: str) -> str:
    """The pattern ``contains`` matches ``text`` with: %, _ and \\ in ``text`` match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: Found from this file, so the app migrates whichever folder it is started from.
_ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
#: The key of the advisory lock migrations take on PostgreSQL: any number, the same in every worker.
_MIGRATION_LOCK = 4_242_001


def migrate() -> None:
    """Bring the database to the newest revision under ``alembic/versions`` through Alembic, before the
    app serves it; with ``MIGRATE_ON_START`` off, refuse a database behind that revision instead.

    One transaction on a connection of the app's engine. On PostgreSQL an advisory lock comes first:
    workers starting together migrate one at a time, and the later ones find the database up to date.
    """
    config = alembic.config.Config(_ALEMBIC_INI)
    head = alembic.script.ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        if _sqlite:
            # A batch migration copies a table and drops the old one: with foreign keys on, the drop
            # would delete the rows that refer to it. SQLite ignores the pragma inside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
                migration_context = alembic.runtime.migration.MigrationContext.configure(connection)
                current = migration_context.get_current_revision()
                if current != head:
                    tables = set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables)
                    _refuse_unsafe_start(current, head, sorted(tables))
                    config.attributes["connection"] = connection
                    alembic.command.upgrade(config, "head")
        finally:
            if _sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _refuse_unsafe_start(current: str | None, head: str | None, tables: list[str]) -> None:
    """Raise when the database at revision ``current``, holding ``tables`` of this app, is not to be
    brought to ``head``: tables made without Alembic, or ``MIGRATE_ON_START`` off."""
    folder = _ALEMBIC_INI.parent
    if current is None and tables:
        raise RuntimeError(
            f"The database holds this app's tables ({', '.join(tables)}) but no alembic_version table: "
            "they were made without Alembic, so the revision they match is unknown. Find it "
            f"(`alembic history`), record it with `alembic stamp <revision>` from {folder}, "
            "then start the app again")
    if not settings.migrate_on_start:
        state = f"at revision {current}" if current else "not migrated yet"
        raise RuntimeError(
            f"The database is {state} and this code's head revision is {head}; with "
            f"MIGRATE_ON_START=false the app does not migrate it. Run `alembic upgrade head` "
            f"from {folder}, then start the app again")
