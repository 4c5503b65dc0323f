"""Rendered backends, run for real: their own suite (SQLite, PostgreSQL), alembic, ruff, mypy, fuzzing, HTTP,
migrations on start.

Each contract is rendered once per module (``backend`` fixture) with backend-builder; every check
runs the generated code in a subprocess, so the backends' ``app`` packages never meet in one process.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jwt
import pytest

from skillrunner.contract import Contract, Endpoint, Field, Resource, find_contract, load_contract
from skillrunner.conventions import Conventions
from skillrunner.findings import format_findings
from skillrunner.render import implement
from skillrunner.resources import packaged_dir
from skillrunner.skills import resolve_skill
from skillrunner.verify import app_openapi, compare_openapi
from test_render import HOSTILE, hostile_contract_text, random_contract

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
EXAMPLE = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
SOURCES = {EXAMPLE.stem: EXAMPLE} | {p.stem: p for p in sorted((TESTS / "contracts").glob("*.md"))}
#: A random contract (test_render.random_contract) with three resources, nesting, soft delete, refs
#: and bulk updates: what the renderer has never been shown, proven like the hand-written ones.
RANDOM = {"random26": 26}
SKILL = "backend-builder"
MIN_TESTS_PER_RESOURCE = 12
FUZZ_EXAMPLES = 25  # per operation; schemathesis adds its own coverage cases on top
#: Values for the contracts' required pattern fields (a generic generator would be a test of its own).
PATTERN_SAMPLES = {
    "^[A-Z]{3}-[0-9]{2}$": "LYS-01",
    "^(97[89])?[0-9]{9}[0-9X]$": "9780306406157",
    r"^\+?[0-9 ]{6,20}$": "+33 1 23 45 67",
    "^[a-z]{2,8}$": "abcde",  # the patterns random_contract draws from
    "^[A-Z][0-9]{3}$": "B123",
    "^(red|green|blue)$": "green",
}
_SCRUBBED = ("DATABASE_URL", "TEST_DATABASE_URL", "MIGRATE_ON_START", "JWT_SECRET", "JWT_ALGORITHM",
             "JWT_PUBLIC_KEY", "JWT_JWKS_URL", "JWT_AUDIENCE", "JWT_ISSUER", "PYTHONPATH")


@dataclass(frozen=True)
class Backend:
    """One contract rendered into its own project."""

    contract: Contract
    project: Path
    root: Path
    conventions: Conventions

    @property
    def served(self) -> tuple[Resource, ...]:
        """The resources that have endpoints (a resource without any has no tests of its own)."""
        return tuple(r for r in self.contract.resources if r.endpoints)


@pytest.fixture(scope="module", params=sorted(SOURCES | RANDOM))
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    name: str = request.param
    project = tmp_path_factory.mktemp(f"backend-{name}")
    (project / "specs" / "api").mkdir(parents=True)
    source = random_contract(RANDOM[name]).encode() if name in RANDOM else SOURCES[name].read_bytes()
    (project / "specs" / "api" / f"{name}.md").write_bytes(source)
    result = implement(project=project, feature=name, skill=SKILL)
    contract = load_contract(find_contract(name, project=project), project=project)
    return Backend(contract, project, result.root, resolve_skill(SKILL, project=project).conventions)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every backend: the libraries' stubs are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


def _env(**extra: str) -> dict[str, str]:
    """This environment without anything that would steer the generated code or its tools."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED and not k.startswith("PYTEST_")}
    return env | {"PYTHONDONTWRITEBYTECODE": "1"} | extra


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env or _env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def _tail(done: subprocess.CompletedProcess[str], limit: int = 6000) -> str:
    text = f"$ {' '.join(map(str, done.args))}\n(exit {done.returncode})\n{done.stdout}\n{done.stderr}"
    return text if len(text) <= limit else "...\n" + text[-limit:]


# --- the generated suite ----------------------------------------------------------------------------------


def _run_suite(backend: Backend, tmp_path: Path, **env: str) -> None:
    report = tmp_path / "junit.xml"
    done = _run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={report}",
                 "-o", "junit_family=xunit2"], cwd=backend.root, env=_env(**env), timeout=600)
    assert done.returncode == 0, f"the generated suite of {backend.contract.feature} failed:\n{_tail(done)}"
    passed: dict[str, int] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        if not any(child.tag in ("failure", "error", "skipped") for child in case):
            passed[case.get("classname", "")] = passed.get(case.get("classname", ""), 0) + 1
    thin = {}
    for res in backend.served:
        module = backend.conventions.module("test", name=res.snake, plural=res.table)
        count = sum(n for cls, n in passed.items() if cls == module or cls.startswith(module + "."))
        if count < MIN_TESTS_PER_RESOURCE:
            thin[res.name] = count
    assert not thin, (f"the generated suite must pass at least {MIN_TESTS_PER_RESOURCE} tests per resource; "
                      f"passed: {thin}\n{_tail(done, 2000)}")


def test_generated_suite_passes_on_sqlite(backend: Backend, tmp_path: Path) -> None:
    _run_suite(backend, tmp_path)


@pytest.mark.postgres
def test_generated_suite_passes_on_postgres(backend: Backend, tmp_path: Path, postgres_url: str) -> None:
    _run_suite(backend, tmp_path, TEST_DATABASE_URL=postgres_url)


# --- the app migrates on start; the suite keeps to a database of its own ---------------------------------

_START = r'''
"""Start the generated app on DATABASE_URL (written by tests/test_generated.py). argv: app, action.

"write" puts a task and a comment on it in through the API; every action then prints what the API lists.
With START_GATE set, wait after the imports until that file exists: workers begin their start together.
"""
import importlib, json, os, pathlib, sys, time

import jwt
from fastapi.testclient import TestClient

sys.path.insert(0, os.getcwd())
module, _, attr = sys.argv[1].partition(":")
app = getattr(importlib.import_module(module), attr)
if os.environ.get("START_GATE"):
    gate = pathlib.Path(os.environ["START_GATE"])
    (gate.parent / f"ready-{os.getpid()}").touch()
    while not gate.exists():
        time.sleep(0.005)
token = jwt.encode({"sub": "dev", "exp": time.time() + 3600}, os.environ["JWT_SECRET"], algorithm="HS256")
headers = {"Authorization": "Bearer " + token}
with TestClient(app) as client:
    if sys.argv[2] == "write":
        task = client.post("/api/tasks", json={"title": "keep me"}, headers=headers).json()
        client.post(f"/api/tasks/{task['id']}/comments", json={"body": "and me"}, headers=headers)
    tasks = client.get("/api/tasks", headers=headers).json()["items"]
    comments = [c["body"] for t in tasks
                for c in client.get(f"/api/tasks/{t['id']}/comments", headers=headers).json()["items"]]
print(json.dumps({"tasks": [t["title"] for t in tasks], "comments": comments}))
'''
#: What ``_START ... write`` puts in, as the API lists it.
DEV_ROWS = {"tasks": ["keep me"], "comments": ["and me"]}


def _task_crud(project: Path) -> Path:
    """task-crud rendered into ``project`` (with its history, as ``implement`` keeps it); the backend root."""
    (project / "specs" / "api").mkdir(parents=True)
    (project / "specs" / "api" / "task-crud.md").write_bytes(EXAMPLE.read_bytes())
    return implement(project=project, feature="task-crud", skill=SKILL).root


def _dev(url: str, **extra: str) -> dict[str, str]:
    """The environment of a developer's shell: ``DATABASE_URL`` exported."""
    return _env(DATABASE_URL=url, JWT_SECRET=secrets.token_urlsafe(48), **extra)


def _start_args(action: str) -> list[str]:
    return [sys.executable, "-c", _START, resolve_skill(SKILL).conventions.app, action]


def _start(root: Path, env: dict[str, str], action: str = "read") -> subprocess.CompletedProcess[str]:
    return _run(_start_args(action), cwd=root, env=env)


def _api_rows(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, _tail(done)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _alembic_cli(root: Path, env: dict[str, str], *args: str) -> str:
    done = _run([sys.executable, "-m", "alembic", *args], cwd=root, env=env)
    assert done.returncode == 0, f"alembic {' '.join(args)} failed:\n{_tail(done)}"
    return done.stdout


def _pytest(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root, env=env)


def test_the_readme_order_in_one_shell_keeps_the_development_rows(tmp_path: Path) -> None:
    """DATABASE_URL exported, the app started (it migrates), pytest, then alembic: nothing is lost."""
    root = _task_crud(tmp_path)
    dev = _dev(f"sqlite:///{tmp_path / 'dev.db'}")
    assert _api_rows(_start(root, dev, "write")) == DEV_ROWS
    head = _alembic_cli(root, dev, "heads").split()[0]
    assert _alembic_cli(root, dev, "current").split() == [head, "(head)"]
    _alembic_cli(root, dev, "check")
    suite = _pytest(root, dev)
    assert suite.returncode == 0, _tail(suite)
    _alembic_cli(root, dev, "upgrade", "head")  # on the database the app made: nothing to create again
    _alembic_cli(root, dev, "check")
    assert _api_rows(_start(root, dev)) == DEV_ROWS


def test_the_suite_refuses_to_run_on_the_development_database(tmp_path: Path) -> None:
    root = _task_crud(tmp_path)
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    dev = _dev(url)
    assert _api_rows(_start(root, dev, "write")) == DEV_ROWS
    for same in (url, url.replace("sqlite://", "sqlite+pysqlite://")):  # the driver named or not
        refused = _pytest(root, dev | {"TEST_DATABASE_URL": same})
        assert refused.returncode == pytest.ExitCode.USAGE_ERROR, _tail(refused)
        assert "TEST_DATABASE_URL names the database DATABASE_URL uses" in refused.stderr, _tail(refused)
        assert "Traceback" not in refused.stderr
    assert _api_rows(_start(root, dev)) == DEV_ROWS


def test_tables_made_without_alembic_are_refused_with_the_way_on(tmp_path: Path) -> None:
    root = _task_crud(tmp_path)
    dev = _dev(f"sqlite:///{tmp_path / 'dev.db'}")
    # What the app used to do on start: create_all, no alembic_version.
    old = "import app.main\nfrom sqlmodel import SQLModel\nfrom app.database import engine\n" \
          "SQLModel.metadata.create_all(engine)"
    made = _run([sys.executable, "-c", old], cwd=root, env=dev)
    assert made.returncode == 0, _tail(made)
    refused = _start(root, dev)
    assert refused.returncode != 0
    said = "holds this app's tables (comments, tasks) but no alembic_version table"
    assert said in refused.stderr, _tail(refused)
    assert "`alembic stamp <revision>`" in refused.stderr
    _alembic_cli(root, dev, "stamp", "head")
    assert _api_rows(_start(root, dev)) == {"tasks": [], "comments": []}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_database_behind_head_is_migrated_on_start_or_refused_when_told(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    project = tmp_path / "project"
    root = _task_crud(project)
    dev = _dev(url)
    assert _api_rows(_start(root, dev, "write")) == DEV_ROWS
    before = _alembic_cli(root, dev, "current").split()[0]
    # A longer title: a new revision; on SQLite the tasks table is copied and the old one dropped.
    contract = project / "specs" / "api" / "task-crud.md"
    text = contract.read_text(encoding="utf-8")
    assert "max_length=255 " in text
    contract.write_text(text.replace("max_length=255 ", "max_length=300 "), encoding="utf-8")
    implement(project=project, feature="task-crud", skill=SKILL)
    head = _alembic_cli(root, dev, "heads").split()[0]
    assert head != before

    refused = _start(root, dev | {"MIGRATE_ON_START": "false"})
    assert refused.returncode != 0
    for said in (f"at revision {before} ", f"head revision is {head};",
                 f"`alembic upgrade head` from {root}"):
        assert said in refused.stderr, _tail(refused)
    assert _alembic_cli(root, dev, "current").split() == [before]

    assert _api_rows(_start(root, dev)) == DEV_ROWS  # migrated, the comment on the copied task kept
    assert _alembic_cli(root, dev, "current").split() == [head, "(head)"]
    _alembic_cli(root, dev, "check")


@pytest.mark.postgres
def test_workers_starting_together_on_postgres_migrate_one_at_a_time(tmp_path: Path,
                                                                     postgres_url: str) -> None:
    root = _task_crud(tmp_path / "project")
    gate = tmp_path / "gate" / "go"
    gate.parent.mkdir()
    env = _dev(postgres_url, START_GATE=str(gate))
    # A data migration of one's own, named as Alembic names it, that holds the first worker's transaction
    # open for a second: every other worker checks the database meanwhile.
    _alembic_cli(root, env, "revision", "-m", "slow data migration")
    written = next(root.glob("alembic/versions/*_slow_data_migration.py"))
    text = written.read_text(encoding="utf-8")
    assert "def upgrade() -> None:\n    pass\n" in text
    written.write_text(text.replace("def upgrade() -> None:\n    pass\n",
                                    "def upgrade() -> None:\n    op.execute(\"SELECT pg_sleep(1)\")\n"),
                       encoding="utf-8")
    workers = [subprocess.Popen(_start_args("read"), cwd=root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        deadline = time.monotonic() + 120
        while len(list(gate.parent.glob("ready-*"))) < len(workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        gate.touch()
        outcomes = [worker.communicate(timeout=120) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    failed = [err[-3000:] for worker, (_, err) in zip(workers, outcomes, strict=True) if worker.returncode]
    assert not failed, "\n\n".join(failed)
    head = _alembic_cli(root, env, "heads").split()[0]
    assert _alembic_cli(root, env, "current").split() == [head, "(head)"]
    _alembic_cli(root, env, "check")


@pytest.mark.postgres
def test_replicas_running_alembic_upgrade_together_on_postgres_migrate_one_at_a_time(
        tmp_path: Path, postgres_url: str) -> None:
    """The image's command line, `alembic upgrade head`, in three replicas at once on a new database."""
    root = _task_crud(tmp_path)
    env = _dev(postgres_url)
    # A migration that holds the first run's transaction open for a second, so the runs overlap.
    _alembic_cli(root, env, "revision", "-m", "slow data migration")
    written = next(root.glob("alembic/versions/*_slow_data_migration.py"))
    empty = "def upgrade() -> None:\n    pass\n"
    text = written.read_text(encoding="utf-8")
    assert empty in text
    written.write_text(text.replace(empty, empty.replace("pass", "op.execute(\"SELECT pg_sleep(1)\")")),
                       encoding="utf-8")
    runs = [subprocess.Popen([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=root, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        outcomes = [run.communicate(timeout=120) for run in runs]
    finally:
        for run in runs:
            run.kill()
    failed = [err[-3000:] for run, (_, err) in zip(runs, outcomes, strict=True) if run.returncode]
    assert not failed, "\n\n".join(failed)
    _alembic_cli(root, env, "check")


# --- alembic, ruff, mypy ------------------------------------------------------------------------------------


def _alembic(backend: Backend, database_url: str) -> None:
    env = _env(DATABASE_URL=database_url, JWT_SECRET=secrets.token_urlsafe(48))
    for step in (["upgrade", "head"], ["check"], ["downgrade", "base"], ["upgrade", "head"], ["check"]):
        done = _run([sys.executable, "-m", "alembic", *step], cwd=backend.root, env=env)
        assert done.returncode == 0, f"alembic {' '.join(step)} failed:\n{_tail(done)}"


def test_alembic_upgrade_and_check_on_sqlite(backend: Backend, tmp_path: Path) -> None:
    _alembic(backend, f"sqlite:///{tmp_path / 'alembic.db'}")


@pytest.mark.postgres
def test_alembic_upgrade_and_check_on_postgres(backend: Backend, postgres_url: str) -> None:
    _alembic(backend, postgres_url)


def test_ruff_is_clean(backend: Backend) -> None:
    done = _run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=backend.root)
    assert done.returncode == 0, _tail(done)


def test_mypy_is_clean(backend: Backend, mypy_cache: Path) -> None:
    done = _run([sys.executable, "-m", "mypy", "--cache-dir", str(mypy_cache), "."], cwd=backend.root)
    assert done.returncode == 0, _tail(done)


# --- the app's OpenAPI against the contract -----------------------------------------------------------------


def test_openapi_matches_the_contract(backend: Backend) -> None:
    dump = app_openapi(root=backend.root, app=backend.conventions.app)
    conv = backend.conventions
    ignore = (conv.module("users_router"),) if backend.contract.auth == "builtin" else ()
    findings = compare_openapi(backend.contract, dump, project=backend.project, ignore_modules=ignore)
    assert not findings, format_findings(findings, "text")
    info = dump["openapi"]["info"]
    assert info["title"] == backend.contract.title
    assert info["version"] == backend.contract.version
    assert info.get("description", "") == backend.contract.description


def test_hostile_free_text_reaches_the_openapi_schema_as_written(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "specs" / "api").mkdir(parents=True)
    (project / "specs" / "api" / "hostile.md").write_text(hostile_contract_text(), encoding="utf-8")
    result = implement(project=project, feature="hostile", skill=SKILL)
    spec = app_openapi(root=result.root, app=result.app)["openapi"]
    assert spec["info"]["title"] == "Title " + HOSTILE
    assert HOSTILE in spec["info"]["description"]
    dumped = json.dumps(spec)
    assert json.dumps("Body " + HOSTILE) in dumped, "a field description is not in the schema as written"
    assert json.dumps('^[^"]*$') in dumped, "a pattern is not in the schema as written"


# --- schemathesis -------------------------------------------------------------------------------------------

_FUZZ = '''
"""Schemathesis against the generated app, in-process through ASGI (written by tests/test_generated.py)."""
import collections, importlib, json, os, sys, time

sys.path.insert(0, os.environ["FUZZ_ROOT"])

import jwt
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)

module, _, attr = os.environ["FUZZ_APP"].partition(":")
app = getattr(importlib.import_module(module), attr)
HEADERS = {}
with TestClient(app) as client:  # runs the lifespan: the tables exist from here on
    if os.environ["FUZZ_AUTH"] == "builtin":
        account = {"email": "fuzz@example.com", "password": "fuzz-password-123"}
        assert client.post("/api/auth/register", json=account).status_code == 201
        login = client.post("/api/auth/login", data={"username": account["email"],
                                                     "password": account["password"]})
        HEADERS["Authorization"] = "Bearer " + login.json()["access_token"]
    elif os.environ["FUZZ_AUTH"] == "jwt":
        HEADERS["Authorization"] = "Bearer " + jwt.encode({"sub": "fuzzer", "exp": time.time() + 3600},
                                                          os.environ["JWT_SECRET"], algorithm="HS256")

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
SEEN = collections.defaultdict(set)


@schema.parametrize()
@settings(max_examples=int(os.environ["FUZZ_EXAMPLES"]), deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api(case):
    response = case.call(headers=HEADERS)
    # 501 is an action nobody has written yet: documented and in the envelope, not a crash.
    checks = [c for c in CHECKS if c is not not_a_server_error or response.status_code != 501]
    case.validate_response(response, checks=checks, headers=HEADERS)
    SEEN[case.operation.label].add(response.status_code)
    with open(os.environ["FUZZ_SEEN"], "w") as out:
        json.dump({k: sorted(v) for k, v in SEEN.items()}, out)
'''


def test_schemathesis_no_server_error_and_responses_conform(backend: Backend, tmp_path: Path) -> None:
    driver = tmp_path / "test_fuzz.py"
    driver.write_text(_FUZZ, encoding="utf-8")
    seen_file = tmp_path / "seen.json"
    env = _env(FUZZ_ROOT=str(backend.root), FUZZ_APP=backend.conventions.app, FUZZ_AUTH=backend.contract.auth,
               FUZZ_EXAMPLES=str(FUZZ_EXAMPLES), FUZZ_SEEN=str(seen_file),
               JWT_SECRET=secrets.token_urlsafe(48), DATABASE_URL=f"sqlite:///{tmp_path / 'fuzz.db'}")
    done = _run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                 "-W", "ignore::DeprecationWarning",
                 str(driver)], cwd=tmp_path, env=env, timeout=600)
    assert done.returncode == 0, _tail(done, 12000)
    seen = {_shape(op): codes for op, codes in json.loads(seen_file.read_text(encoding="utf-8")).items()}
    expected = {_shape(f"{ep.method} {ep.path}"): _needs_a_row(res, ep)
                for res in backend.contract.resources for ep in res.endpoints}
    assert set(expected) <= set(seen), f"operations never fuzzed: {sorted(set(expected) - set(seen))}"
    # Proof that the fuzzer got past authentication: every operation succeeded at least once, except
    # those random ids cannot satisfy (a path parameter, or a create that needs a ref to an existing row),
    # which must at least have answered something other than 401.
    # An action nobody has written answers 501 once past authentication and validation: as far as it goes.
    actions = {_shape(f"{ep.method} {ep.path}") for res in backend.contract.resources
               for ep in res.endpoints if ep.operation.kind == "action"}
    stuck = {op: seen[op] for op, needs_a_row in sorted(expected.items()) if not any(
        200 <= c < 300 or (c == 501 and op in actions) for c in seen[op])
        and (not needs_a_row or set(seen[op]) <= {401, 405})}
    assert not stuck, (f"fuzzing never got these operations to succeed (status codes seen): {stuck}; "
                       "either the token is refused, or the documented request schema admits no body "
                       "the app accepts")


def _needs_a_row(res: Resource, ep: Endpoint) -> bool:
    """True when random input cannot succeed: the path names a row, or create needs a ref to one."""
    required_ref = any(f.type.kind == "ref" and f.required for f in res.fields)
    return bool(ep.path_params) or (ep.operation.kind == "create" and required_ref)


def _shape(operation: str) -> str:
    """``GET /api/tasks/{task_id}`` -> ``GET /api/tasks/{}``: path parameters compared by place, not name."""
    return re.sub(r"\{[^}]*\}", "{}", operation)


# --- a real request cycle through httpx.ASGITransport -------------------------------------------------------

_CYCLE = '''
"""Run a request plan against the generated app through httpx.ASGITransport (from tests/test_generated.py)."""
import asyncio, importlib, json, os, sys

sys.path.insert(0, os.getcwd())

import httpx

module, _, attr = os.environ["CYCLE_APP"].partition(":")
app = getattr(importlib.import_module(module), attr)
plan = json.loads(open(sys.argv[1], encoding="utf-8").read())


def fill(value, ids):
    if isinstance(value, str) and value.startswith("@") and value[1:] in ids:
        return ids[value[1:]]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


async def main():
    ids, token, out = {}, os.environ.get("CYCLE_TOKEN", ""), []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for step in plan:
                headers = {"Authorization": "Bearer " + token} if step.get("auth", True) and token else {}
                response = await client.request(
                    step["method"], step["path"].format(**ids), headers=headers,
                    json=fill(step["json"], ids) if "json" in step else None, data=step.get("form"))
                try:
                    body = response.json()
                except ValueError:
                    body = response.text
                out.append({"status": response.status_code, "body": body,
                            "headers": {k.lower(): v for k, v in response.headers.items()}})
                if step.get("save") and response.status_code < 300:
                    ids[step["save"]] = body["id"]
                if step.get("token") and response.status_code == 200:
                    token = body["access_token"]
    print(json.dumps(out))


asyncio.run(main())
'''


def _bounds(f: Field) -> tuple[float | None, float | None]:
    low = f.constraint("ge")
    high = f.constraint("le")
    gt, lt = f.constraint("gt"), f.constraint("lt")
    if isinstance(gt, int | float) and not isinstance(gt, bool):
        low = gt + (1 if f.type.kind == "integer" else 0.5)
    if isinstance(lt, int | float) and not isinstance(lt, bool):
        high = lt - (1 if f.type.kind == "integer" else 0.5)
    return (float(low) if isinstance(low, int | float) else None,
            float(high) if isinstance(high, int | float) else None)


def _number(f: Field, variant: int) -> float:
    low, high = _bounds(f)
    value = (low if low is not None else 0.0) + 2 + variant
    if high is not None and value > high:
        value = high - variant if low is None or high - variant >= low else high
    return value


def _value(f: Field, variant: int = 0) -> Any:
    """A valid JSON value for ``f``; variant 1 differs from variant 0 (for a PATCH)."""
    kind = f.type.kind
    if kind == "enum":
        values = f.type.enum_values
        return values[(len(values) - 1 - variant) % len(values)]
    if kind == "boolean":
        return f.default is not True if variant == 0 else f.default is True
    if kind == "integer":
        return int(_number(f, variant))
    if kind == "number":
        return _number(f, variant) + 0.25
    if kind == "decimal":
        scale = f.type.scale or 0
        return str(Decimal(str(_number(f, variant))).quantize(Decimal(1).scaleb(-scale)))
    if kind == "date":
        return f"2030-01-{10 + variant:02d}"
    if kind == "datetime":
        return f"2030-01-31T09:{30 + variant}:00Z"
    if kind == "uuid":
        return str(uuid.UUID(int=0x6F1C1B8E8A524C559B1A2D7B3C4E5F60 + variant))
    if kind == "email":
        return f"someone{variant}@example.com"
    if kind == "url":
        return f"https://example.com/{f.name}/{variant}"
    if kind == "list":
        most = f.constraint("max_items")
        return ["alpha", f"beta{variant}"][: most if isinstance(most, int) else 2]
    if kind == "json":
        return {"k": [1, "two", variant]}
    if kind == "ref":
        return f"@{f.type.ref}"
    pattern = f.constraint("pattern")
    if isinstance(pattern, str):
        sample = PATTERN_SAMPLES.get(pattern)
        assert sample is not None and re.search(pattern, sample), f"add a sample for {pattern!r}"
        return sample
    low, high = f.constraint("min_length"), f.constraint("max_length")
    text = ("changed " if variant else "") + f"{f.name} value"
    text = text[: high if isinstance(high, int) else None]
    return text + "x" * max(0, (low if isinstance(low, int) else 0) - len(text))


def _same(f: Field | None, sent: Any, got: Any) -> bool:
    """Equal as the API means it: decimals by value, datetimes by instant (and answered with an offset)."""
    kind = f.type.kind if f is not None else ""
    try:
        if kind == "decimal":
            return Decimal(str(sent)) == Decimal(str(got))
        if kind == "datetime":
            moment = datetime.fromisoformat(str(got))
            return moment.tzinfo is not None and moment == datetime.fromisoformat(str(sent))
    except (ArithmeticError, ValueError):
        return False
    if kind == "number":
        return isinstance(got, int | float) and float(got) == float(sent)
    return bool(sent == got)


def _sendable(res: Resource, f: Field, created: set[str]) -> bool:
    """Refs only to rows made before (not to the resource itself); pattern fields only with a sample."""
    if f.type.kind == "ref":
        return f.type.ref in created and f.type.ref != res.name
    return not (f.type.kind == "string" and isinstance(f.constraint("pattern"), str) and not f.required
                and f.constraint("pattern") not in PATTERN_SAMPLES)


#: A step's check: (the response as the driver saw it, the ids saved so far) -> a problem, or None.
Check = Callable[[dict[str, Any], dict[str, Any]], str | None]


@dataclass
class _Step:
    method: str
    path: str  # {Name} stands for the id saved under Name
    expect: int
    json: Any = None  # "@Name" stands for the id saved under Name
    form: dict[str, str] | None = None
    auth: bool = True
    save: str | None = None  # save the response's id under this name
    token: bool = False  # take the response's access_token for the next steps
    check: Check | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path, "auth": self.auth,
                               "save": self.save, "token": self.token}
        if self.json is not None:
            out["json"] = self.json
        if self.form is not None:
            out["form"] = self.form
        return out


def _path(res: Resource, ep_path: str) -> str:
    path = ep_path.replace("{id}", "{" + res.name + "}")
    if res.parent and res.parent_field:
        path = path.replace("{" + res.parent_field + "}", "{" + res.parent.resource + "}")
    return path


def _account(r: dict[str, Any], ids: dict[str, Any]) -> str | None:
    body = r["body"]
    if set(body) != {"id", "email", "created_at"} or body["email"].lower() != "reader@example.com":
        return f"expected exactly id, email, created_at for the account: {body!r}"
    return None if "User" not in ids or body["id"] == ids["User"] else f"another account: {body!r}"


def _bearer_token(r: dict[str, Any], ids: dict[str, Any]) -> str | None:
    ok = r["body"].get("token_type") == "bearer" and r["body"].get("access_token")
    return None if ok else f"not a bearer token: {r['body']!r}"


def _challenge(r: dict[str, Any], ids: dict[str, Any]) -> str | None:
    ok = r["headers"].get("www-authenticate", "").lower().startswith("bearer")
    return None if ok else "a 401 without WWW-Authenticate: Bearer"


def _empty(r: dict[str, Any], ids: dict[str, Any]) -> str | None:
    return None if r["body"] == "" else f"a 204 with a body: {r['body']!r}"


def _echoes(res: Resource, body: dict[str, Any], user: str) -> Check:
    """The row as sent, with its id, parent id, owner and timestamps."""
    fields = {f.name: f for f in res.fields}

    def check(r: dict[str, Any], ids: dict[str, Any]) -> str | None:
        got = r["body"]
        if not isinstance(got, dict) or "id" not in got:
            return f"no id in {got!r}"
        wrong: dict[str, tuple[Any, Any]] = {}
        for name, sent in body.items():
            if isinstance(sent, str) and sent.startswith("@"):
                sent = ids.get(sent[1:])
            if not _same(fields.get(name), sent, got.get(name)):
                wrong[name] = (sent, got.get(name))
        if res.parent and res.parent_field and got.get(res.parent_field) != ids.get(res.parent.resource):
            wrong[res.parent_field] = (ids.get(res.parent.resource), got.get(res.parent_field))
        if res.owner == "user" and got.get("user_id") != str(ids.get("User", user)):
            wrong["user_id"] = (str(ids.get("User", user)), got.get("user_id"))
        if res.timestamps and not {"created_at", "updated_at"} <= set(got):
            wrong["created_at, updated_at"] = ("present", "missing")
        return f"not as sent (sent, got): {wrong}" if wrong else None

    return check


def _listed(name: str) -> Check:
    def check(r: dict[str, Any], ids: dict[str, Any]) -> str | None:
        page = r["body"]
        found = ids.get(name) in [item.get("id") for item in page.get("items", [])]
        return None if found and page.get("total", 0) >= 1 else f"the new {name} is not listed: {page!r}"

    return check


def _patched(change: dict[str, Any]) -> Check:
    def check(r: dict[str, Any], ids: dict[str, Any]) -> str | None:
        ok = all(r["body"].get(k) == v for k, v in change.items())
        return None if ok else f"sent {change}, got {r['body']!r}"

    return check


def _plan(contract: Contract, user: str) -> list[_Step]:
    """Register and log in where built in; create, get, list, patch every resource; delete in reverse."""
    steps: list[_Step] = []
    if contract.auth == "builtin":
        account = {"email": "Reader@Example.com", "password": "a long enough password"}
        steps += [
            _Step("POST", "/api/auth/register", 201, json=account, auth=False, save="User", check=_account),
            _Step("POST", "/api/auth/login", 200, form={"username": "reader@example.com",
                                                       "password": account["password"]},
                  auth=False, token=True, check=_bearer_token),
            _Step("GET", "/api/auth/me", 200, check=_account),
        ]
    served = [r for r in contract.ordered_resources() if r.endpoints]
    if contract.auth != "none" and served:
        first = served[0].endpoints[0]
        steps.append(_Step(first.method, _path(served[0], first.path), 401, auth=False, check=_challenge,
                           json={} if first.method in ("POST", "PATCH") else None))
    created: list[Resource] = []
    for res in served:
        ops = {ep.operation.kind: ep for ep in res.endpoints}
        if "create" not in ops:
            continue
        names = {r.name for r in created}
        body = {f.name: _value(f) for f in res.fields if _sendable(res, f, names)}
        echoes = _echoes(res, body, user)
        steps.append(_Step("POST", _path(res, ops["create"].path), 201, json=body, save=res.name,
                           check=echoes))
        created.append(res)
        if "get" in ops:
            steps.append(_Step("GET", _path(res, ops["get"].path), 200, check=echoes))
        if "list" in ops:
            steps.append(_Step("GET", _path(res, ops["list"].path), 200, check=_listed(res.name)))
        patchable = [f for f in res.fields if f.type.kind in ("string", "text", "enum", "integer", "boolean")
                     and not isinstance(f.constraint("pattern"), str) and f.constraint("unique") is None
                     and len(f.type.enum_values) != 1]  # a one-value enum cannot change
        if "update" in ops and patchable:
            change = {patchable[0].name: _value(patchable[0], 1)}
            assert change[patchable[0].name] != body.get(patchable[0].name)
            steps.append(_Step("PATCH", _path(res, ops["update"].path), 200, json=change,
                               check=_patched(change)))
    for res in reversed(created):
        ops = {ep.operation.kind: ep for ep in res.endpoints}
        if "delete" in ops:
            steps.append(_Step("DELETE", _path(res, ops["delete"].path), 204, check=_empty))
            if "get" in ops:
                steps.append(_Step("GET", _path(res, ops["get"].path), 404))
    return steps


def test_http_request_cycle_through_asgi_transport(backend: Backend, tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(48)
    user = "cycle-user"
    steps = _plan(backend.contract, user)
    assert any(s.method == "DELETE" for s in steps), "the plan must exercise the contract"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps([s.to_dict() for s in steps]), encoding="utf-8")
    script = tmp_path / "cycle.py"
    script.write_text(_CYCLE, encoding="utf-8")
    claims = {"sub": user, "exp": time.time() + 3600}
    token = jwt.encode(claims, secret, algorithm="HS256") if backend.contract.auth == "jwt" else ""
    env = _env(CYCLE_APP=backend.conventions.app, CYCLE_TOKEN=token, JWT_SECRET=secret,
               DATABASE_URL=f"sqlite:///{tmp_path / 'cycle.db'}")
    done = _run([sys.executable, str(script), str(plan_file)], cwd=backend.root, env=env, timeout=300)
    assert done.returncode == 0, _tail(done)
    responses: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    ids: dict[str, Any] = {}
    problems = []
    for step, response in zip(steps, responses, strict=True):
        if step.save and response["status"] < 300 and isinstance(response["body"], dict):
            ids[step.save] = response["body"].get("id")
        where = f"{step.method} {step.path}"
        if response["status"] != step.expect:
            problems.append(f"{where}: {response['status']}, expected {step.expect}: {response['body']!r}")
        elif step.check is not None and (problem := step.check(response, ids)):
            problems.append(f"{where}: {problem}")
    leaked = [r["body"] for r in responses if re.search(r"\$argon2|password", json.dumps(r["body"]), re.I)]
    assert not leaked, f"a response carries a password or its hash: {leaked}"
    assert not problems, "\n".join(problems)
