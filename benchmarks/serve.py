"""Benchmark: the backend skillrunner generates against seed 000's hand-written app, side by side.

Run from the repository with the project's venv::

    python benchmarks/serve.py            # about three minutes
    python benchmarks/serve.py --quick    # under a minute, fewer and shorter runs
    python benchmarks/serve.py --postgres postgresql://user:pass@127.0.0.1:5432/postgres

Both apps get the same data (10,000 tasks for one user, 500 for another), the same uvicorn settings
(no access log, 127.0.0.1) and the same load (wrk when installed, else a small keep-alive client in
this process), interleaved run by run; medians over repeats are printed. By default each app has a
SQLite file and one worker; with ``--postgres`` (or ``SKILLRUNNER_BENCH_POSTGRES_URL``), a database
of its own on that server (created, and dropped after) and two workers.
SQL statements per request are counted in a child process by a ``before_cursor_execute`` listener.
The machine is shared and noisy: read ratios, not absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["contract_markdown", "main"]

REPO = Path(__file__).resolve().parent.parent
SEED_ROOT = REPO / "benchmarks" / "seed_app"
SPEC = REPO / "specs" / "api" / "task-crud.md"
SKILL = REPO / "skills" / "backend-builder"
SECRET = "benchmark-secret-0123456789abcdef-0123456789"  # >= 32 bytes, not a placeholder
USER, OTHER_USER = "bench-user-1", "bench-user-2"
SEARCH_TERM = "report"  # one title noun in ten: matches 10% of a user's rows
ENDPOINTS = ("list", "get", "stats", "search")
SQL_BUDGET = {"list": 2, "get": 1, "stats": 1, "search": 2}  # at most, per request (issue 7)
TARGET_RATIO = {"list": 1.5, "get": 1.5, "stats": 2.0, "search": 3.5}  # generated / seed (issue 7)
PAGE_RATIO_LIMIT = 2.0
RENDER_LIMITS = {"one feature": 0.3, "50 resources": 1.5}  # for "cold"; "first run" is shown beside
RENDER_REFERENCE = {"one feature": 0.9, "50 resources": 4.4}  # fastapi-code-generator


@dataclass(frozen=True)
class Settings:
    """How hard and how long to measure."""

    rows: int
    big_rows: int
    connections: int
    duration: float
    warmup: float
    repeats: int
    render_repeats: int
    show_sql: bool
    keep: bool
    postgres: str | None  # a server URL: each app gets a database of its own there
    workers: int


@dataclass
class App:
    """One app under test: where its code is, its database, and its server once started."""

    name: str
    root: Path
    module: str  # "app.main:app"
    url: str  # its database
    get_id: int = 0
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    rps: dict[str, list[float]] = field(default_factory=dict)
    sql: dict[str, Any] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(DATABASE_URL=self.url, JWT_SECRET=SECRET, JWT_ALGORITHM="HS256",
                   PYTHONDONTWRITEBYTECODE="1")
        return env


# --- contracts -----------------------------------------------------------------------------------

_RESOURCE_MD = """\
## Resource: {name}

- table: {table}
- id: int
- owner: user
- timestamps: yes

| Field | Type | Required | Default | Constraints | Description |
|---|---|---|---|---|---|
| title | string | yes | | min_length=1, max_length=255 | Short title |
| description | text | no | | max_length=2000 | Longer details |
| status | enum(pending, in_progress, completed) | no | pending | index | Where it stands |
| priority | enum(low, normal, high, urgent) | no | normal | | How urgent it is |
| due_date | datetime | no | | | When it is due (UTC) |
| tags | list[string] | no | [] | max_items=20 | Free labels |

### Endpoints

| Method | Path | Operation | Success | Errors |
|---|---|---|---|---|
| POST | /api/{table} | create | 201 {name} | 401, 422 |
| GET | /api/{table} | {list_op} | 200 Page[{name}] | 401, 422 |
| GET | /api/{table}/search | search(title, description) | 200 Page[{name}] | 401, 422 |
| GET | /api/{table}/stats | stats(status) | 200 Stats | 401 |
| POST | /api/{table}/bulk-complete | bulk_update(status=completed) | 200 BulkResult | 401, 422 |
| GET | /api/{table}/{{id}} | get | 200 {name} | 401, 404 |
| PATCH | /api/{table}/{{id}} | update | 200 {name} | 401, 404, 422 |
| DELETE | /api/{table}/{{id}} | delete | 204 | 401, 404 |
"""


def _names(count: int) -> list[tuple[str, str]]:
    return [("Task", "tasks")] if count == 1 else [(f"Item{i:02d}", f"item{i:02d}s") for i in range(count)]


def contract_markdown(count: int) -> str:
    """A contract in the ``specs/api`` format with ``count`` task-like resources."""
    head = f"---\nfeature: bench-{count}\ntitle: Benchmark API\nversion: 1.0.0\nauth: jwt\n---\n\n"
    head += "# Benchmark API\n\nTask-like resources, for timing the renderer.\n\n"
    list_op = "list(filter: status, priority; sort: created_at, due_date, title)"
    return head + "\n".join(_RESOURCE_MD.format(name=n, table=t, list_op=list_op) for n, t in _names(count))


def _parse(text: str, path: Path) -> Any:
    """The contract in ``text``, parsed and checked by skillrunner; exits on any error."""
    from skillrunner.contract import parse_contract
    from skillrunner.findings import format_findings

    contract, findings = parse_contract(text, str(path))
    if contract is None:
        raise SystemExit(f"{path}: the contract does not parse:\n{format_findings(findings, 'text')}")
    return contract


# --- the generated app ---------------------------------------------------------------------------

def _render_generated(dest: Path) -> str:
    """Render task-crud with backend-builder's conventions into ``dest``; the app's ``module:attr``."""
    from skillrunner.conventions import load_conventions
    from skillrunner.render import render_backend

    contract = _parse(SPEC.read_text(encoding="utf-8"), SPEC)
    conventions = load_conventions(SKILL)
    for rel, text in render_backend(contract, conventions).items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    app: str = conventions.app
    return app


# --- data ----------------------------------------------------------------------------------------

_FILL_DB = r"""
import datetime as dt, importlib, json, pathlib, random, sys
args = json.loads(sys.argv[1])
sys.path.insert(0, args["root"])
from sqlalchemy import create_engine, insert, select
from sqlmodel import SQLModel
importlib.import_module("app.models.task")
table = SQLModel.metadata.tables["tasks"]
engine = create_engine(args["url"])
ini = pathlib.Path(args["root"]) / "alembic.ini"
if ini.is_file():  # the generated app: its schema comes from its migrations, as the app itself makes it
    from alembic import command
    from alembic.config import Config
    command.upgrade(Config(ini), "head")
else:
    table.create(engine)
rng = random.Random(7)
adjectives = ["quarterly", "urgent", "draft", "final", "weekly", "client", "internal", "annual",
              "pending", "shared"]
nouns = ["report", "invoice", "meeting", "release", "backup", "review", "design", "budget",
         "migration", "survey"]
teams = ["sales", "ops", "design", "platform", "support", "legal"]
base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

def row(owner, j, at):
    return {
        "user_id": owner,
        "title": f"{rng.choice(adjectives).capitalize()} {nouns[j % 10]} #{j}",
        "description": None if j % 4 == 0 else f"Follow up with the {rng.choice(teams)} team before Friday",
        "status": rng.choice(["pending", "in_progress", "completed"]),
        "priority": rng.choice(["low", "normal", "high", "urgent"]),
        "due_date": None if j % 2 else at + dt.timedelta(days=rng.randint(1, 60)),
        "tags": rng.sample(["work", "home", "q1", "q2", "blocked", "later"], rng.randint(0, 3)),
        "created_at": at,
        "updated_at": at,
    }

mine = [base + dt.timedelta(seconds=j) for j in range(args["rows"])]
theirs = [base + dt.timedelta(seconds=j * 20 + 0.5) for j in range(args["rows"] // 20)]
rows = [(at, row(args["user"], j, at)) for j, at in enumerate(mine)]
rows += [(at, row(args["other"], j, at)) for j, at in enumerate(theirs)]
rows.sort(key=lambda pair: pair[0])
known = set(rows[0][1])
columns = [c for c in table.columns if c.name != "id"]
for c in columns:
    if c.name not in known and not (c.nullable or c.default is not None or c.server_default is not None):
        sys.exit(f"cannot fill required column tasks.{c.name}")
names = [c.name for c in columns if c.name in known]
with engine.begin() as conn:
    conn.execute(insert(table), [{n: r[n] for n in names} for _, r in rows])
    own = select(table.c.id).where(table.c.user_id == args["user"]).order_by(table.c.id)
    ids = conn.execute(own).scalars().all()
print(json.dumps({"get_id": ids[len(ids) // 2], "count": len(ids)}))
"""


def _fill_db(app: App, rows: int) -> None:
    """Create the tasks table (the generated app's migrations, or the seed's model) and insert the rows."""
    args = {"root": str(app.root), "url": app.url, "rows": rows, "user": USER,
            "other": OTHER_USER}
    out = _child(_FILL_DB, args, app, timeout=300)
    app.get_id = int(out["get_id"])


def _child(script: str, args: dict[str, Any], app: App, timeout: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(args)], cwd=app.root, env=app.env(),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{app.name}: child process failed:\n{proc.stderr[-3000:]}{proc.stdout[-1000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _paths(app: App) -> dict[str, str]:
    return {"list": "/api/tasks", "get": f"/api/tasks/{app.get_id}", "stats": "/api/tasks/stats",
            "search": f"/api/tasks/search?q={SEARCH_TERM}"}


def _token(sub: str) -> str:
    """An HS256 JWT with ``sub`` and an ``exp`` a day away: it outlives the run."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"sub": sub, "exp": int(time.time()) + 86_400}
    signing = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
    return signing + "." + b64(hmac.new(SECRET.encode(), signing.encode(), hashlib.sha256).digest())


TOKEN = _token(USER)


# --- SQL statements per request ------------------------------------------------------------------

_COUNT_SQL = r"""
import importlib, json, sys
args = json.loads(sys.argv[1])
sys.path.insert(0, args["root"])
from sqlalchemy import event
from sqlalchemy.engine import Engine
seen = []
event.listen(Engine, "before_cursor_execute",
             lambda conn, cursor, statement, *rest: seen.append(" ".join(statement.split())))
module, _, attr = args["app"].partition(":")
app = getattr(importlib.import_module(module), attr)
from fastapi.testclient import TestClient
out = {}
with TestClient(app, base_url="http://127.0.0.1") as client:
    headers = {"Authorization": "Bearer " + args["token"]}
    for name, path in args["paths"].items():
        first = client.get(path, headers=headers)  # warm: connection set-up is not the request's
        seen.clear()
        response = client.get(path, headers=headers)
        out[name] = {"status": response.status_code, "count": len(seen), "statements": list(seen),
                     "bytes": len(response.content)}
print(json.dumps(out))
"""


def _count_sql(app: App) -> None:
    args = {"root": str(app.root), "app": app.module, "token": TOKEN, "paths": _paths(app)}
    app.sql = _child(_COUNT_SQL, args, app, timeout=120)
    for name, result in app.sql.items():
        if result["status"] != 200:
            raise SystemExit(f"{app.name}: GET {_paths(app)[name]} answered {result['status']} in-process")


# --- servers -------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _start(app: App, workdir: Path, workers: int) -> None:
    app.port = _free_port()
    app.log = workdir / f"{app.name}.log"
    cmd = [sys.executable, "-m", "uvicorn", app.module, "--app-dir", str(app.root), "--host", "127.0.0.1",
           "--port", str(app.port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with app.log.open("wb") as log:
        app.proc = subprocess.Popen(cmd, cwd=app.root, env=app.env(), stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.proc.poll() is not None:
            raise SystemExit(f"{app.name}: uvicorn exited:\n{app.log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError):
            status, _ = _get(app.port, "/api/tasks", timeout=2)
            if status == 200:
                break
        time.sleep(0.1)
    else:
        raise SystemExit(f"{app.name}: not answering 200 on /api/tasks after 60 s")
    for name, path in _paths(app).items():
        status, body = _get(app.port, path)
        if status != 200:
            raise SystemExit(f"{app.name}: GET {path} answered {status}: {body[:300]!r}")
        if name in ("list", "search") and not json.loads(body).get("items"):
            raise SystemExit(f"{app.name}: GET {path} found nothing")


def _stop(app: App) -> None:
    if app.proc is None or app.proc.poll() is not None:
        return
    app.proc.send_signal(signal.SIGTERM)
    try:
        app.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        app.proc.kill()
        app.proc.wait(timeout=10)


# --- load ----------------------------------------------------------------------------------------

def _wrk(port: int, path: str, connections: int, duration: float) -> float:
    wrk = shutil.which("wrk")
    assert wrk is not None
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
           "-H", f"Authorization: Bearer {TOKEN}", f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, check=False).stdout
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    rate = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if bad or rate is None:
        raise SystemExit(f"wrk on {path}: errors or no result:\n{out}")
    return float(rate.group(1))


async def _load_async(port: int, path: str, connections: int, duration: float) -> float:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Authorization: Bearer {TOKEN}\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration

    async def worker() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        try:
            while loop.time() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if head[9:12] != b"200":
                    raise SystemExit(f"load on {path}: {head[:12]!r}")
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if length is None:
                    raise SystemExit(f"load on {path}: no content-length")
                await reader.readexactly(int(length.group(1)))
                done += 1
        finally:
            writer.close()
        return done

    start = loop.time()
    counts = await asyncio.gather(*(worker() for _ in range(connections)))
    return sum(counts) / (loop.time() - start)


def _load(port: int, path: str, connections: int, duration: float) -> float:
    """Requests per second on ``path`` over ``connections`` keep-alive connections for ``duration``."""
    if shutil.which("wrk"):
        return _wrk(port, path, connections, duration)
    return asyncio.run(_load_async(port, path, connections, duration))


def _measure(apps: list[App], settings: Settings) -> None:
    for app in apps:
        for name, path in _paths(app).items():
            _load(app.port, path, settings.connections, settings.warmup)
            app.rps[name] = []
    for rep in range(settings.repeats):
        for name in ENDPOINTS:
            for app in apps if rep % 2 == 0 else apps[::-1]:  # alternate who goes first
                rate = _load(app.port, _paths(app)[name], settings.connections, settings.duration)
                app.rps[name].append(rate)
        print(f"  repeat {rep + 1}/{settings.repeats} done", file=sys.stderr)


def _page_ratio(app: App, settings: Settings) -> dict[str, float]:
    page1, page500 = "/api/tasks?page=1", "/api/tasks?page=500"
    for path in (page1, page500):
        status, body = _get(app.port, path)
        if status != 200 or len(json.loads(body)["items"]) != 20:
            raise SystemExit(f"{app.name}: GET {path} answered {status} or not 20 items")
        _load(app.port, path, settings.connections, settings.warmup)
    first: list[float] = []
    last: list[float] = []
    for _ in range(settings.repeats):
        first.append(_load(app.port, page1, settings.connections, settings.duration))
        last.append(_load(app.port, page500, settings.connections, settings.duration))
    return {"page1": statistics.median(first), "page500": statistics.median(last)}


# --- rendering time ------------------------------------------------------------------------------

_RENDER_CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
start = time.perf_counter()
args = json.loads(sys.argv[1])
from skillrunner.contract import parse_contract
from skillrunner.conventions import load_conventions
from skillrunner.render import render_backend
imported = time.perf_counter()
path = Path(args["spec"])
contract, findings = parse_contract(path.read_text(encoding="utf-8"), str(path))
assert contract is not None, findings
files = render_backend(contract, load_conventions(Path(args["skill"])))
rendered = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    for rel, text in files.items():
        target = Path(out, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    written = time.perf_counter()
print(json.dumps({"import": imported - start, "render": rendered - imported, "write": written - rendered,
                  "files": len(files)}))
"""


def _time_render(workdir: Path, repeats: int) -> dict[str, dict[str, float]]:
    """Wall time of a fresh interpreter that imports skillrunner, parses, renders and writes.

    "cold" is a new process with the compiled-template cache a first run leaves behind (as Python
    keeps ``.pyc`` files); "first run" is a new process with an empty cache, each time.
    """
    fifty = workdir / "bench-50.md"
    fifty.write_text(contract_markdown(50), encoding="utf-8")
    # Imports read .pyc files, as from an installed wheel (pip compiles them at install time); a
    # PYTHONDONTWRITEBYTECODE in the caller's environment would make every run compile the sources.
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=False,
                   capture_output=True, env=base)
    results: dict[str, dict[str, float]] = {}
    for name, spec in (("one feature", SPEC), ("50 resources", fifty)):
        args = json.dumps({"spec": str(spec), "skill": str(SKILL)})
        warm_cache = workdir / f"cache-{name.replace(' ', '-')}"
        for kind in ("cold", "first run"):
            walls: list[float] = []
            inner: list[dict[str, float]] = []
            for i in range(repeats + (1 if kind == "cold" else 0)):
                empty = workdir / f"cache-empty-{name.replace(' ', '-')}-{i}"
                cache = warm_cache if kind == "cold" else empty
                env = {**base, "SKILLRUNNER_CACHE_DIR": str(cache)}
                start = time.perf_counter()
                proc = subprocess.run([sys.executable, "-c", _RENDER_CHILD, args], capture_output=True,
                                      text=True, env=env, cwd=workdir, timeout=120, check=False)
                wall = time.perf_counter() - start
                if proc.returncode != 0:
                    raise SystemExit(f"render ({name}, {kind}) failed:\n{proc.stderr[-3000:]}")
                if kind == "cold" and i == 0:
                    continue  # this run fills the cache the timed ones read
                walls.append(wall)
                inner.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            label = f"{name}, {kind}"
            parts = ("import", "render", "write")
            results[label] = {k: statistics.median(r[k] for r in inner) for k in parts}
            results[label].update(wall=statistics.median(walls), files=inner[0]["files"])
    return results


# --- report --------------------------------------------------------------------------------------

def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} CPUs, load average {load}; {platform.platform()}"


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}"]
    for name in ("fastapi", "starlette", "uvicorn", "sqlmodel", "sqlalchemy", "pydantic", "python-jose",
                 "pyjwt", "uvloop", "httptools"):
        with contextlib.suppress(PackageNotFoundError):
            parts.append(f"{name} {version(name)}")
    return ", ".join(parts)


def _cell(values: list[float]) -> str:
    """The median, and the range when there is more than one run."""
    median = f"{statistics.median(values):.0f}"
    return f"{median} ({min(values):.0f}-{max(values):.0f})" if len(values) > 1 else median


def _report(seed: App, gen: App, page: dict[str, float], render: dict[str, dict[str, float]],
            settings: Settings, notes: list[str]) -> None:
    tool = "wrk -t1" if shutil.which("wrk") else "python keep-alive client (wrk not installed)"
    database = "PostgreSQL, a database per app" if settings.postgres else "SQLite file"
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    print()
    print(f"machine: {_machine()}")
    print(f"versions: {_versions()}")
    print(f"load: {tool}, {settings.connections} connections, {settings.duration:g} s per run, "
          f"{settings.repeats} repeats interleaved, median shown (min-max in brackets); uvicorn {workers} "
          f"per app, --no-access-log, 127.0.0.1; {database}")
    print(f"data: {settings.rows:,} tasks for the caller, {settings.rows // 20:,} for another user; "
          f"search q={SEARCH_TERM!r} matches 10% of the caller's rows; get asks for id {seed.get_id}")
    for note in notes:
        print(note)
    print("the machine is shared and noisy: compare the two columns of one run, not runs with each other")
    print()
    head = ("endpoint", "seed rps", "generated rps", "ratio", "target", "seed SQL/req", "generated SQL/req",
            "budget")
    print(f"{head[0]:<9} {head[1]:>20} {head[2]:>20} {head[3]:>7} {head[4]:>7} {head[5]:>13} {head[6]:>18} "
          f"{head[7]:>7}")
    for name in ENDPOINTS:
        s, g = statistics.median(seed.rps[name]), statistics.median(gen.rps[name])
        seed_col, gen_col = _cell(seed.rps[name]), _cell(gen.rps[name])
        budget = f"<= {SQL_BUDGET[name]}" if name in ("list", "search") else f"{SQL_BUDGET[name]}"
        ok = "" if g / s >= TARGET_RATIO[name] or settings.postgres else " *"
        sql_mark = "" if gen.sql[name]["count"] <= SQL_BUDGET[name] else " *"
        print(f"{name:<9} {seed_col:>20} {gen_col:>20} {g / s:>6.2f}x {TARGET_RATIO[name]:>6.1f}x{ok:<2}"
              f"{seed.sql[name]['count']:>11} {gen.sql[name]['count']:>16}{sql_mark:<2} {budget:>7}")
    print("(* = below the issue's target or over the SQL budget)" if not settings.postgres else
          "(* = over the SQL budget; the rps targets are issue 7's, set on SQLite, shown for reference)")
    ratio = page["page1"] / page["page500"]
    print()
    print(f"generated list on {settings.big_rows:,} rows: page 1 {page['page1']:.0f} rps, page 500 "
          f"{page['page500']:.0f} rps: page 500 takes {ratio:.2f}x the time of page 1 "
          f"(limit {PAGE_RATIO_LIMIT:.0f}x){'' if ratio <= PAGE_RATIO_LIMIT else ' *'}")
    if not render:
        print("\nrendering: not timed with --postgres (the database plays no part; see a SQLite run)")
    else:
        print()
        print("rendering (fresh interpreter: start + import + parse + render + write; median of "
              f"{settings.render_repeats}):")
    for label, r in render.items():
        name, _, kind = label.partition(", ")
        mark = "" if kind != "cold" or r["wall"] <= RENDER_LIMITS[name] else " *"
        limit = f"limit {RENDER_LIMITS[name] * 1000:.0f} ms; " if kind == "cold" else ""
        print(f"  {label:<25} {r['wall'] * 1000:7.0f} ms{mark:<2} "
              f"({limit}fastapi-code-generator ~{RENDER_REFERENCE[name] * 1000:.0f} ms) "
              f"import {r['import'] * 1000:.0f} ms, parse+render {r['render'] * 1000:.0f} ms, "
              f"write {r['write'] * 1000:.0f} ms, {r['files']:.0f} files")
    if settings.show_sql:
        for app in (seed, gen):
            print(f"\nSQL of {app.name}:")
            for name in ENDPOINTS:
                for statement in app.sql[name]["statements"]:
                    print(f"  {name}: {textwrap.shorten(statement, 220)}")


# --- main ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def _workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="skillrunner-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _databases(settings: Settings, work: Path, names: list[str]) -> Iterator[dict[str, str]]:
    """A database URL per name: a SQLite file in ``work``, or a new database on the PostgreSQL
    server of ``--postgres``, dropped on the way out (kept with ``--keep``)."""
    if settings.postgres is None:
        yield {name: f"sqlite:///{work / name}.db" for name in names}
        return
    from sqlalchemy import create_engine, make_url

    server = make_url(settings.postgres)
    if server.drivername in ("postgres", "postgresql"):
        server = server.set(drivername="postgresql+psycopg")
    tag = uuid.uuid4().hex[:8]
    created = {name: f"skillrunner_bench_{tag}_{name.replace('-', '_')}" for name in names}
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for database in created.values():
                connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        yield {name: server.set(database=database).render_as_string(hide_password=False)
               for name, database in created.items()}
    finally:
        if settings.keep:
            print(f"kept databases {', '.join(created.values())}", file=sys.stderr)
        else:
            with admin.connect() as connection:
                for database in created.values():
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def _parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short run per endpoint (under a minute)")
    parser.add_argument("--rows", type=int, default=10_000, help="tasks of the caller (default 10000)")
    parser.add_argument("--big-rows", type=int, default=100_000, help="rows of the page-500 test (100000)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--duration", type=float, help="seconds per run (default 3, quick 1)")
    parser.add_argument("--repeats", type=int, help="runs per endpoint and app (default 5, quick 1)")
    parser.add_argument("--show-sql", action="store_true", help="print each request's SQL statements")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (apps, databases)")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("SKILLRUNNER_BENCH_POSTGRES_URL"),
                        help="a PostgreSQL server (a user who may create databases): serve from it, "
                             "two uvicorn workers per app (default: $SKILLRUNNER_BENCH_POSTGRES_URL)")
    parser.add_argument("--workers", type=int, help="uvicorn workers per app (default 1, 2 with --postgres)")
    ns = parser.parse_args(argv)
    if ns.rows < 100 or ns.big_rows < 10_000 or not 1 <= ns.connections <= 256:
        parser.error("--rows >= 100, --big-rows >= 10000 (page 500), 1 <= --connections <= 256")
    duration = ns.duration or (1.0 if ns.quick else 3.0)
    repeats = ns.repeats or (1 if ns.quick else 5)
    if not 0 < duration <= 30 or not 1 <= repeats <= 20:
        parser.error("0 < --duration <= 30 and 1 <= --repeats <= 20 (the run stays bounded)")
    workers = ns.workers or (2 if ns.postgres else 1)
    if not 1 <= workers <= 8:
        parser.error("1 <= --workers <= 8")
    return Settings(rows=ns.rows, big_rows=ns.big_rows, connections=ns.connections, duration=duration,
                    warmup=min(1.0, duration), repeats=repeats, render_repeats=3 if ns.quick else 7,
                    show_sql=ns.show_sql, keep=ns.keep, postgres=ns.postgres or None, workers=workers)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; 0 when it ran (whether or not targets are met)."""
    settings = _parse_args(argv)
    if importlib.util.find_spec("skillrunner.render") is None:
        print("skillrunner.render is missing: nothing to compare the seed with yet", file=sys.stderr)
        return 1
    started = time.monotonic()
    jose = importlib.util.find_spec("jose") is not None
    library = "python-jose (as in the seed)" if jose else "PyJWT (python-jose is not installed)"
    notes = [f"seed JWT library: {library}"]
    with _workdir(settings.keep) as work, _databases(settings, work, ["seed", "generated", "big"]) as urls:
        gen_root = work / "generated"
        module = _render_generated(gen_root)
        notes.append("generated app: specs/api/task-crud.md rendered with skills/backend-builder")
        seed = App("seed", SEED_ROOT, "app.main:app", urls["seed"])
        gen = App("generated", gen_root, module, urls["generated"])
        big = App("generated-100k", gen_root, module, urls["big"])
        print("filling databases...", file=sys.stderr)
        for app in (seed, gen):
            _fill_db(app, settings.rows)
        if seed.get_id != gen.get_id:
            raise SystemExit(f"the two databases differ (ids {seed.get_id} / {gen.get_id})")
        _fill_db(big, settings.big_rows)
        print("counting SQL statements...", file=sys.stderr)
        for app in (seed, gen):
            _count_sql(app)
        try:
            print("serving and measuring...", file=sys.stderr)
            for app in (seed, gen):
                _start(app, work, settings.workers)
            _measure([seed, gen], settings)
            for app in (seed, gen):
                _stop(app)
            _start(big, work, settings.workers)
            page = _page_ratio(big, settings)
        finally:
            for app in (seed, gen, big):
                _stop(app)
        render: dict[str, dict[str, float]] = {}
        if settings.postgres is None:
            print("timing the renderer...", file=sys.stderr)
            render = _time_render(work, settings.render_repeats)
        _report(seed, gen, page, render, settings, notes)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
