"""Fixtures: one app for the session, empty tables per test, callers with tokens, makers of valid rows.

The suite runs on a database of its own, never on ``DATABASE_URL``'s (it empties every table): a new
SQLite file, or the database ``TEST_DATABASE_URL`` names (PostgreSQL too). The app's start brings it
to the newest migration, so every run proves the migrations as well.
"""

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, make_url
from sqlmodel import Session, SQLModel, select


def pytest_configure(config: pytest.Config) -> None:
    """Point the app at the suite's own database before a test module imports it (settings are read then)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        folder = tempfile.mkdtemp()
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        url = f"sqlite:///{Path(folder) / 'test.db'}"
    elif "DATABASE_URL" in os.environ and _database(url) == _database(os.environ["DATABASE_URL"]):
        raise pytest.UsageError("TEST_DATABASE_URL names the database DATABASE_URL uses; the suite empties "
                                "every table of its database, so give it one of its own")
    os.environ["DATABASE_URL"] = url
    os.environ["MIGRATE_ON_START"] = "true"
    os.environ["CORS_ORIGINS"] = "https://app.example.com"  # the one origin the app's tests allow
    # HS256 tokens for the suite's own audience and issuer, whatever the development settings say.
    os.environ |= {"JWT_ALGORITHM": "HS256", "JWT_SECRET": secrets.token_urlsafe(48),
                   "JWT_AUDIENCE": "tests", "JWT_ISSUER": "https://issuer.test"}
    os.environ |= {"JWT_PUBLIC_KEY": "", "JWT_JWKS_URL": ""}


def _database(url: str) -> tuple[Any, ...]:
    """What in ``url`` names the database: the driver, the credentials and the spelling
    ``postgres://`` (which the app reads as ``postgresql://``) may differ."""
    parts = make_url(url)
    backend = parts.get_backend_name()
    return "postgresql" if backend == "postgres" else backend, parts.host, parts.port, parts.database


#: Valid JSON values of each field, by resource: the ``n``-th of every field make one valid row.
SAMPLES: dict[str, dict[str, list[Any]]] = {
    "Task": {
        "title": [
            "title-0", "title-1", "title-2", "title-3", "title-4", "title-5", "title-6", "title-7", "title-8",
            "title-9", "title-10", "title-11", "title-12", "title-13", "title-14", "title-15", "title-16",
            "title-17", "title-18", "title-19", "title-20", "title-21", "title-22", "title-23",
        ],
        "description": [
            "description-0", "description-1", "description-2", "description-3", "description-4",
            "description-5", "description-6", "description-7", "description-8", "description-9",
            "description-10", "description-11", "description-12", "description-13", "description-14",
            "description-15", "description-16", "description-17", "description-18", "description-19",
            "description-20", "description-21", "description-22", "description-23",
        ],
        "status": [
            "pending", "in_progress", "completed", "pending", "in_progress", "completed", "pending",
            "in_progress", "completed", "pending", "in_progress", "completed", "pending", "in_progress",
            "completed", "pending", "in_progress", "completed", "pending", "in_progress", "completed",
            "pending", "in_progress", "completed",
        ],
        "priority": [
            "low", "normal", "high", "urgent", "low", "normal", "high", "urgent", "low", "normal", "high",
            "urgent", "low", "normal", "high", "urgent", "low", "normal", "high", "urgent", "low", "normal",
            "high", "urgent",
        ],
        "due_date": [
            "2024-01-01T00:00:00+00:00", "2024-01-01T01:00:00+00:00", "2024-01-01T02:00:00+00:00",
            "2024-01-01T03:00:00+00:00", "2024-01-01T04:00:00+00:00", "2024-01-01T05:00:00+00:00",
            "2024-01-01T06:00:00+00:00", "2024-01-01T07:00:00+00:00", "2024-01-01T08:00:00+00:00",
            "2024-01-01T09:00:00+00:00", "2024-01-01T10:00:00+00:00", "2024-01-01T11:00:00+00:00",
            "2024-01-01T12:00:00+00:00", "2024-01-01T13:00:00+00:00", "2024-01-01T14:00:00+00:00",
            "2024-01-01T15:00:00+00:00", "2024-01-01T16:00:00+00:00", "2024-01-01T17:00:00+00:00",
            "2024-01-01T18:00:00+00:00", "2024-01-01T19:00:00+00:00", "2024-01-01T20:00:00+00:00",
            "2024-01-01T21:00:00+00:00", "2024-01-01T22:00:00+00:00", "2024-01-01T23:00:00+00:00",
        ],
        "tags": [
            ["tags-0"], ["tags-1"], ["tags-2"], ["tags-3"], ["tags-4"], ["tags-5"], ["tags-6"], ["tags-7"],
            ["tags-8"], ["tags-9"], ["tags-10"], ["tags-11"], ["tags-12"], ["tags-13"], ["tags-14"],
            ["tags-15"], ["tags-16"], ["tags-17"], ["tags-18"], ["tags-19"], ["tags-20"], ["tags-21"],
            ["tags-22"], ["tags-23"],
        ],
    },
    "Comment": {
        "body": [
            "body-0", "body-1", "body-2", "body-3", "body-4", "body-5", "body-6", "body-7", "body-8",
            "body-9", "body-10", "body-11", "body-12", "body-13", "body-14", "body-15", "body-16", "body-17",
            "body-18", "body-19", "body-20", "body-21", "body-22", "body-23",
        ],
    },
}


@dataclass(frozen=True)
class Caller:
    """A user: the id the API sees and the headers that prove it."""

    id: str
    headers: dict[str, str]


def sign(claims: dict[str, Any], *, secret: str | None = None, algorithm: str | None = None) -> str:
    """A JWT with ``claims``, signed with the app's secret unless told otherwise. It expires in an hour
    and names the app's audience and issuer, unless ``claims`` say otherwise (None leaves a claim out)."""
    from app.config import settings

    usual = {"exp": datetime.now(UTC) + timedelta(hours=1), "aud": settings.jwt_audience,
             "iss": settings.jwt_issuer}
    payload = {name: value for name, value in (usual | claims).items() if value is not None}
    return jwt.encode(payload, secret or settings.jwt_secret, algorithm=algorithm or settings.jwt_algorithm)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


#: Credentials every endpoint refuses with a 401.
BAD_TOKENS = (
    "no header",
    "another scheme",
    "malformed",
    "bad signature",
    "expired",
    "no exp",
    "alg none",
    "no sub",
    "another audience",
    "another issuer",
)


def bad_headers(kind: str) -> dict[str, str]:
    """Headers of ``kind`` (one of ``BAD_TOKENS``): each must be refused with a 401."""
    claims: dict[str, Any] = {"sub": "alice"}
    if kind == "no header":
        return {}
    if kind == "another scheme":
        return {"Authorization": f"Basic {sign(claims)}"}
    if kind == "malformed":
        return bearer("not.a.token")
    if kind == "bad signature":
        return bearer(sign(claims, secret=secrets.token_urlsafe(48)))
    if kind == "expired":
        return bearer(sign(claims | {"exp": datetime.now(UTC) - timedelta(minutes=5)}))
    if kind == "no exp":
        return bearer(sign(claims | {"exp": None}))
    if kind == "alg none":  # claims that would pass, unsigned
        unsigned = jwt.decode(sign(claims), options={"verify_signature": False})
        return bearer(jwt.encode(unsigned, "", algorithm="none"))
    if kind == "no sub":
        return bearer(sign({"name": "alice"}))
    if kind == "another audience":
        return bearer(sign(claims | {"aud": "another-api"}))
    if kind == "another issuer":
        return bearer(sign(claims | {"iss": "https://another-issuer.test"}))
    raise ValueError(kind)


def error_of(response: Response, status: int) -> Any:
    """The error ``response`` carries, checked against this backend's envelope.

    The envelope is FastAPI's ``{"detail": ...}``. Returns the message, or for a
    422 the list of field errors (``type``, ``loc``, ``msg``).
    """
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"}, body
    detail = body["detail"]
    if status == 422:
        assert isinstance(detail, list) and detail, body
        assert all({"type", "loc", "msg"} <= set(item) for item in detail), body
    else:
        assert isinstance(detail, str) and detail, body
    if status == 401:
        assert response.headers.get("WWW-Authenticate") == "Bearer"
    for leak in ("Traceback", "SELECT ", "INSERT ", "UPDATE ", "DELETE ", "sqlalchemy", "psycopg"):
        assert leak not in response.text, response.text
    return detail


def refused(response: Response, name: str) -> None:
    """``response`` is a 422 that blames ``name`` (a body field or a query parameter)."""
    errors = error_of(response, 422)
    assert any(name in item["loc"] for item in errors), errors


def stored(model: type[SQLModel], public: type[SQLModel], row_id: Any) -> dict[str, Any] | None:
    """The row with ``row_id`` as the API would show it, read straight from the database (even when
    the API hides it), or None."""
    from app.database import engine

    with Session(engine) as session:
        row = session.get(model, db_id(row_id))
        return None if row is None else public.model_validate(row).model_dump(mode="json")


def count(model: type[SQLModel], *where: Any) -> int:
    """Rows of ``model``'s table (matching ``where``), straight from the database."""
    from app.database import engine

    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def same(a: Any, b: Any) -> bool:
    """JSON values equal as the API means them: datetimes by instant, decimals by value."""
    if isinstance(a, str) and isinstance(b, str) and a != b:
        try:
            left, right = datetime.fromisoformat(a), datetime.fromisoformat(b)
            if left.tzinfo is not None and right.tzinfo is not None:
                return left == right
        except ValueError:
            pass
        try:
            return Decimal(a) == Decimal(b)
        except (InvalidOperation, ValueError):
            return False
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return float(a) == float(b)
    if isinstance(a, str) and isinstance(b, int | float) and not isinstance(b, bool):
        try:
            return Decimal(a) == Decimal(str(b))
        except InvalidOperation:
            return False
    return bool(a == b)


def alike(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Two rows as JSON: the same keys, and values ``same`` one for one."""
    if a is None or b is None:
        return a is b
    return set(a) == set(b) and all(same(a[key], b[key]) for key in a)


def query_value(value: Any) -> str:
    """A JSON value as a query string carries it (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def db_id(value: Any) -> Any:
    """An id from a response as the database compares it (a uuid arrives as text)."""
    return UUID(value) if isinstance(value, str) else value


@pytest.fixture(scope="session")
def app_client() -> Iterator[TestClient]:
    from app.main import app

    with TestClient(app) as test_client:  # runs the lifespan: the database is migrated
        yield test_client


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    """The app, every table emptied first."""
    from app.database import engine

    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    return app_client


@pytest.fixture
def alice() -> Caller:
    return Caller("alice", bearer(sign({"sub": "alice"})))


@pytest.fixture
def bob() -> Caller:
    return Caller("bob", bearer(sign({"sub": "bob"})))


class Maker:
    """Valid rows written straight to the database, returned as the API shows them.

    ``n`` (0 to 11) picks the sample values: rows made with different ``n`` differ in every field.
    Rows made without ``n`` (parents, rows a ref points to) take the samples from 12 on, one after
    the other, so they never take a unique value a test chose. Rows are stamped one second apart,
    in the order they are made.
    """

    def __init__(self) -> None:
        self.made = 0
        self.unnamed: dict[str, int] = {}

    def _stamp(self) -> datetime:
        self.made += 1
        return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=self.made)

    def _next(self, kind: str, n: int | None) -> int:
        if n is not None:
            return n
        self.unnamed[kind] = self.unnamed.get(kind, 0) + 1
        return 11 + self.unnamed[kind]

    def task(self, owner: Caller | None = None, n: int | None = None, **values: Any) -> dict[str, Any]:
        """A Task owned by ``owner``."""
        from app.database import engine
        from app.models.task import Task
        from app.schemas.task import TaskPublic

        index = self._next("Task", n)
        samples = SAMPLES["Task"]
        data = {name: choices[index % len(choices)] for name, choices in samples.items()} | values
        extra: dict[str, Any] = {}
        extra["user_id"] = (owner or Caller("alice", {})).id
        extra["created_at"] = extra["updated_at"] = self._stamp()
        with Session(engine) as session:
            row = Task.model_validate(data, update=extra)
            session.add(row)
            session.commit()
            session.refresh(row)
            return TaskPublic.model_validate(row).model_dump(mode="json")

    def comment(
        self,
        owner: Caller | None = None,
        parent: dict[str, Any] | None = None,
        n: int | None = None,
        **values: Any,
    ) -> dict[str, Any]:
        """A Comment owned by ``owner``, under ``parent`` (made when not given)."""
        from app.database import engine
        from app.models.comment import Comment
        from app.schemas.comment import CommentPublic

        index = self._next("Comment", n)
        if parent is None:
            parent = self.task(owner)
        samples = SAMPLES["Comment"]
        data = {name: choices[index % len(choices)] for name, choices in samples.items()} | values
        extra: dict[str, Any] = {}
        extra["user_id"] = (owner or Caller("alice", {})).id
        extra["task_id"] = parent["id"]
        extra["created_at"] = extra["updated_at"] = self._stamp()
        with Session(engine) as session:
            row = Comment.model_validate(data, update=extra)
            session.add(row)
            session.commit()
            session.refresh(row)
            return CommentPublic.model_validate(row).model_dump(mode="json")


@pytest.fixture
def make(client: TestClient) -> Maker:
    return Maker()
