"""Shared fixtures: the CLI runner that shows its output on failure, and the golden-file switch."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from skillrunner.cli import main

#: ``cli(*args, input=None, expect=0)``: run the CLI in the current directory.
Cli = Callable[..., Result]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files under tests/golden/ from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to refresh golden files (``pytest --update-golden``)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def cli() -> Cli:
    """Invoke ``skillrunner`` in-process; a wrong exit code fails with the full output shown."""

    def invoke(*args: str | Path, input: str | None = None, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=True)
        if expect is not None and result.exit_code != expect:
            detail = result.output
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                import traceback

                detail += "".join(traceback.format_exception(result.exception))
            pytest.fail(f"skillrunner {' '.join(map(str, args))} exited {result.exit_code}, "
                        f"expected {expect}:\n{detail}")
        return result

    return invoke


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory, made the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


POSTGRES_ENV = "SKILLRUNNER_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database on the server ``SKILLRUNNER_TEST_POSTGRES_URL`` names; dropped afterwards.

    Skipped when the variable is unset, except in CI, where the PostgreSQL checks must run.
    """
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set, but CI is: the PostgreSQL checks must run in CI")
        pytest.skip(f"PostgreSQL checks need {POSTGRES_ENV}, e.g. "
                    "postgresql+psycopg://user:password@127.0.0.1:5432/postgres")
    url = make_url(base)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"skillrunner_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
