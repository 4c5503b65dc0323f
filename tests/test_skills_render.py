"""Every seed skill, and a sixth defined only by its folder, renders a working backend in its own layout."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jwt
import pytest

from skillrunner.contract import Contract, load_contract, parse_contract
from skillrunner.contract.model import _RESERVED_RESOURCES
from skillrunner.conventions import Conventions, load_conventions
from skillrunner.frontmatter import parse_document
from skillrunner.markdown import parse_markdown
from skillrunner.render import render_backend
from skillrunner.resources import packaged_dir

TESTS = Path(__file__).parent
SKILLS = packaged_dir("skills")
SIXTH = TESTS / "skills" / "backend-features"
TASK_CRUD = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
LIBRARY = TESTS / "contracts" / "library.md"
SECRET = "s4-test-secret-" + "x" * 40

#: The folder of each skill under test: the four seed skills besides backend-builder, and the sixth.
FOLDERS = {
    "backend-engineer": SKILLS / "backend-engineer",
    "backend-scaffolder": SKILLS / "backend-scaffolder",
    "backend-development": SKILLS / "backend-development",
    "backend-skill": SKILLS / "backend-skill",
    "backend-features": SIXTH,
}

_SHARED = {"README.md", "alembic.ini", "pyproject.toml", "requirements.txt", "requirements-dev.txt",
           "Dockerfile", ".dockerignore", "compose.yaml", ".env.example", ".gitignore"}
_ALEMBIC = {"alembic/env.py", "alembic/script.py.mako", "alembic/versions/0001_initial.py"}
_TESTS = {"tests/conftest.py", "tests/test_app.py", "tests/test_tasks.py", "tests/test_comments.py"}

#: task-crud rendered by each skill, package markers aside: the layouts issue 4 lists, file by file.
TASK_CRUD_TREES: dict[str, set[str]] = {
    "backend-engineer": _SHARED | _ALEMBIC | _TESTS | {
        "app/main.py", "app/config.py", "app/database.py", "app/dependencies.py",
        "app/models/task.py", "app/models/comment.py", "app/schemas/common.py", "app/schemas/task.py",
        "app/schemas/comment.py", "app/routers/tasks.py", "app/routers/comments.py",
        "app/services/task_service.py", "app/services/comment_service.py",
        "app/utils/auth.py", "app/utils/errors.py",
    },
    "backend-scaffolder": _SHARED | _ALEMBIC | _TESTS | {
        "app/main.py", "app/config.py", "app/database.py", "app/dependencies.py", "app/errors.py",
        "app/models/task.py", "app/models/comment.py", "app/schemas/common.py", "app/schemas/task.py",
        "app/schemas/comment.py", "app/routes/tasks.py", "app/routes/comments.py",
        "app/services/task_service.py", "app/services/comment_service.py",
    },
    "backend-development": _SHARED | _ALEMBIC | _TESTS | {
        "main.py", "models.py", "db.py", "auth.py", "config.py", "api/deps.py",
        "api/v1/tasks.py", "api/v1/comments.py", "schemas/common.py", "schemas/tasks.py",
        "schemas/comments.py", "utils/errors.py",
    },
    "backend-skill": _SHARED | _ALEMBIC | _TESTS | {
        "src/main.py", "src/config.py", "src/database.py", "src/dependencies.py", "src/errors.py",
        "src/models/task.py", "src/models/comment.py", "src/schemas/common.py", "src/schemas/task.py",
        "src/schemas/comment.py", "src/routers/tasks.py", "src/routers/comments.py",
        "src/services/task_service.py", "src/services/comment_service.py",
    },
    "backend-features": _SHARED | {
        "core/application.py", "core/settings.py", "core/storage.py", "core/security/tokens.py",
        "core/security/deps.py", "core/problems.py", "core/paging.py",
        "features/tasks/table.py", "features/tasks/payloads.py", "features/tasks/endpoints.py",
        "features/tasks/logic.py", "features/comments/table.py", "features/comments/payloads.py",
        "features/comments/endpoints.py", "features/comments/logic.py",
        "checks/conftest.py", "checks/test_app.py", "checks/test_tasks.py", "checks/test_comments.py",
        "migrations/env.py", "migrations/script.py.mako", "migrations/versions/0001_initial.py",
    },
}

#: What each skill says about errors: (envelope, status for another user's row).
MANNERS = {
    "backend-engineer": ("error", 403),
    "backend-scaffolder": ("detail", 404),
    "backend-development": ("detail-code-timestamp", 403),
    "backend-skill": ("detail", 404),
    "backend-features": ("detail-code-timestamp", 404),
}

#: A small contract using what task-crud does not: built-in accounts, soft delete, restrict.
SHELF = """---
feature: shelf
title: Shelf API
auth: builtin
---

# Shelf API

Members keep shelves of boxes. A shelf that still holds boxes cannot be removed.

## Resource: Shelf

- table: shelves
- soft delete: yes

| Field | Type              | Required | Default | Constraints                 | Description |
|-------|-------------------|----------|---------|-----------------------------|-------------|
| name  | string            | yes      |         | min_length=1, max_length=80 | Shelf name  |
| kind  | enum(wood, metal) | no       | wood    |                             | Material    |

### Endpoints

| Method | Path                | Operation    | Success         | Errors        |
|--------|---------------------|--------------|-----------------|---------------|
| POST   | /api/shelves        | create       | 201 Shelf       | 401, 422      |
| GET    | /api/shelves        | list         | 200 Page[Shelf] | 401, 422      |
| GET    | /api/shelves/search | search(name) | 200 Page[Shelf] | 401, 422      |
| GET    | /api/shelves/stats  | stats(kind)  | 200 Stats       | 401           |
| GET    | /api/shelves/{id}   | get          | 200 Shelf       | 401, 404      |
| DELETE | /api/shelves/{id}   | delete       | 204             | 401, 404, 409 |

## Resource: Box

- table: boxes
- parent: Shelf (on delete: restrict)

| Field | Type   | Required | Default | Constraints                 | Description |
|-------|--------|----------|---------|-----------------------------|-------------|
| label | string | yes      |         | min_length=1, max_length=80 | Box label   |

### Endpoints

| Method | Path                               | Operation | Success       | Errors        |
|--------|------------------------------------|-----------|---------------|---------------|
| POST   | /api/shelves/{shelf_id}/boxes      | create    | 201 Box       | 401, 404, 422 |
| GET    | /api/shelves/{shelf_id}/boxes      | list      | 200 Page[Box] | 401, 404, 422 |
| DELETE | /api/shelves/{shelf_id}/boxes/{id} | delete    | 204           | 401, 404      |
"""


def _conventions(skill: str) -> Conventions:
    return load_conventions(FOLDERS[skill])


def _shelf() -> Contract:
    contract, findings = parse_contract(SHELF, "specs/api/shelf.md")
    assert contract is not None, findings
    return contract


def _without_markers(files: dict[str, str]) -> set[str]:
    return {p for p in files if PurePosixPath(p).name != "__init__.py"}


def _write(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def task_crud() -> Contract:
    return load_contract(TASK_CRUD)


@pytest.fixture(scope="module")
def library() -> Contract:
    return load_contract(LIBRARY)


# --- layout ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_task_crud_tree_is_the_layout_the_seed_teaches(skill: str, task_crud: Contract) -> None:
    files = render_backend(task_crud, _conventions(skill))
    assert _without_markers(files) == TASK_CRUD_TREES[skill]


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_every_generated_python_file_compiles(skill: str, task_crud: Contract, library: Contract) -> None:
    for contract in (task_crud, library, _shelf()):
        for rel, text in render_backend(contract, _conventions(skill)).items():
            if rel.endswith(".py"):
                compile(text, rel, "exec")


def test_the_sixth_skill_is_data_only_and_its_layout_is_new() -> None:
    assert sorted(p.name for p in SIXTH.iterdir()) == ["SKILL.md", "conventions.yaml"]
    sixth = _conventions("backend-features")
    shipped = [load_conventions(folder) for folder in sorted(SKILLS.iterdir()) if folder.is_dir()]
    assert {Path(c.source).parent.name for c in shipped} >= set(FOLDERS) - {"backend-features"}
    for other in shipped:
        shared = {kind for kind, path in sixth.layout.items()
                  if path.endswith(".py") and other.layout.get(kind) == path}
        assert not shared, f"{other.source} uses the same path for {sorted(shared)}"


def test_tables_share_one_module_with_the_users_table(library: Contract) -> None:
    files = render_backend(library, _conventions("backend-development"))
    models = files["models.py"]
    for table in ("users", "authors", "books", "loans"):
        assert f'__tablename__ = "{table}"' in models
    assert "models/" not in " ".join(files)
    assert "from models import Author, Book, Loan, User" in files["alembic/env.py"]
    assert "import models" not in models  # never imports itself


def test_dependencies_module_holds_the_dependency_and_auth_the_checks(task_crud: Contract) -> None:
    files = render_backend(task_crud, _conventions("backend-engineer"))
    assert "def decode_subject" in files["app/utils/auth.py"]
    assert "CurrentUser" not in files["app/utils/auth.py"]
    assert "from app.utils.auth import decode_subject" in files["app/dependencies.py"]
    assert "CurrentUser = Annotated[str, Depends(get_current_user)]" in files["app/dependencies.py"]
    assert "from app.dependencies import CurrentUser" in files["app/routers/tasks.py"]


def test_every_name_the_generated_code_takes_is_refused_as_a_resource_name(
        task_crud: Contract, library: Contract) -> None:
    contracts = [task_crud, library, _shelf(),
                 *(load_contract(p) for p in sorted((TESTS / "contracts").glob("*.md")))]
    ours = {r.name for c in contracts for r in c.resources} | {s.name for c in contracts for s in c.schemas}
    taken: set[str] = set()
    for contract in contracts:
        for skill in ["backend-builder", *FOLDERS]:
            folder = SKILLS / skill if (SKILLS / skill).is_dir() else FOLDERS[skill]
            for rel, text in render_backend(contract, load_conventions(folder)).items():
                if rel.endswith(".py"):
                    tree = ast.parse(text)
                    for node in tree.body:
                        if isinstance(node, ast.ImportFrom):
                            taken |= {a.asname or a.name for a in node.names}
                        elif isinstance(node, ast.ClassDef):
                            taken.add(node.name)
                        elif isinstance(node, ast.Assign):
                            taken |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    # PascalCase names, as a resource's; those made from a resource's own name are its to take
    pascal = {n for n in taken if re.fullmatch(r"[A-Z][A-Za-z0-9]*", n) and not n.isupper()}
    missing = sorted(n for n in pascal if not any(n.startswith(r) for r in ours))
    assert not [n for n in missing if n not in _RESERVED_RESOURCES], \
        "a contract may name a resource after these, and the generated code would break"


# --- SKILL.md bodies in step with the rendered trees ----------------------------------------------------


def _listed_files(skill_md: Path) -> list[str]:
    """The ```text block under the body's '## Files this skill generates' heading, one path a line."""
    body = parse_document(skill_md.read_bytes(), str(skill_md)).body
    tokens = parse_markdown(body)
    section = False
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            section = tokens[i + 1].content.strip() == "Files this skill generates"
        elif section and token.type == "fence" and token.info.strip() == "text":
            return [line.strip() for line in token.content.splitlines() if line.strip()]
    raise AssertionError(f"{skill_md} has no ```text block under '## Files this skill generates'")


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_skill_md_lists_exactly_the_files_runs_produce(skill: str, task_crud: Contract,
                                                       library: Contract) -> None:
    listed = _listed_files(FOLDERS[skill] / "SKILL.md")
    assert listed == sorted(listed), "keep the list sorted"
    conv = _conventions(skill)
    rendered: set[str] = set()
    for contract in (task_crud, library, _shelf()):
        # {name}/{plural} stand for each resource, and for the users of auth: builtin (their tests)
        pairs = [(r.snake, r.table) for r in contract.resources] + [("user", "users")]
        expanded = {entry.format(name=n, plural=p) for entry in listed for n, p in pairs}
        # The user's action modules are written once from stubs, not rendered: listed all the same.
        stubs = {conv.path("actions", name=r.snake, plural=r.table) for r, _ in contract.actions()}
        produced = _without_markers(render_backend(contract, conv)) | stubs
        assert produced <= expanded, f"rendered but not listed: {sorted(produced - expanded)}"
        rendered |= produced
    for entry in listed:
        assert any(entry.format(name=n, plural=p) in rendered
                   for contract in (task_crud, library, _shelf())
                   for n, p in [(r.snake, r.table) for r in contract.resources]
                   + [("user", "users")]), f"{entry} is listed but never rendered"


def _listings(folder: Path) -> Iterator[tuple[str, int, str, str]]:
    """Each python listing of a skill that names its file: (document, line, path, code)."""
    for doc in sorted([folder / "SKILL.md", *sorted((folder / "references").glob("*.md"))]):
        if not doc.is_file():
            continue
        body = doc.read_text(encoding="utf-8")
        for token in parse_markdown(body):
            first, _, code = token.content.partition("\n")
            if token.type == "fence" and token.info.strip() == "python" and first.startswith("# "):
                line = (token.map[0] + 1) if token.map else 0
                path = first[2:].split(" (", 1)[0].strip()  # "# backend/app/x.py (excerpt)"
                yield doc.name, line, path, code


def _top_level(module: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Signatures of top-level functions and classes by name, and every imported name."""
    signatures: dict[str, str] = {}
    imports: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            returns = ast.unparse(node.returns) if node.returns else ""
            head = [ast.unparse(d) for d in node.decorator_list]
            kind = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
            signatures[node.name] = f"{head} {kind} {node.name}({ast.unparse(node.args)}) -> {returns}"
        elif isinstance(node, ast.ClassDef):
            signatures[node.name] = f"class {node.name}({', '.join(ast.unparse(b) for b in node.bases)})"
        elif isinstance(node, ast.ImportFrom):
            imports |= {f"from {node.module} import {a.name} as {a.asname}" for a in node.names}
        elif isinstance(node, ast.Import):
            imports |= {f"import {a.name} as {a.asname}" for a in node.names}
    return signatures, imports


@pytest.mark.parametrize("skill", sorted(["backend-builder", *FOLDERS]))
def test_listings_agree_with_the_files_the_skill_renders(skill: str, task_crud: Contract,
                                                         library: Contract) -> None:
    folder = SKILLS / skill if (SKILLS / skill).is_dir() else FOLDERS[skill]
    conv = load_conventions(folder)
    rendered: dict[str, list[tuple[dict[str, str], set[str]]]] = {}
    for contract in (task_crud, library, _shelf()):
        for rel, text in render_backend(contract, conv).items():
            if rel.endswith(".py"):
                rendered.setdefault(f"{conv.root}/{rel}", []).append(_top_level(ast.parse(text)))
    problems = []
    checked = 0
    for doc, line, path, code in _listings(folder):
        if path not in rendered:
            continue  # a listing of a file this skill never renders (an example, a test)
        checked += 1
        signatures, imports = _top_level(ast.parse(code))
        for name, signature in signatures.items():
            if not any(signature == r[0].get(name) for r in rendered[path]):
                found = {r[0].get(name) for r in rendered[path]}
                problems.append(f"{doc}:{line} {path}: {signature}\n    generated: {found}")
        for name in sorted(imports - set().union(*(r[1] for r in rendered[path]))):
            problems.append(f"{doc}:{line} {path}: {name} is not imported by the generated file")
    assert not problems, "\n".join(problems)
    if skill != "backend-features":  # the sixth skill is conventions only, no listings
        assert checked >= 5, f"only {checked} listings name a file {skill} renders"


# --- on the wire: real requests through the ASGI app ----------------------------------------------------

_DRIVER = r'''
import asyncio, importlib, json, os, sys
sys.path.insert(0, os.getcwd())
import httpx
from sqlalchemy import text

module, _, attr = sys.argv[1].partition(":")
app = getattr(importlib.import_module(module), attr)
engine = importlib.import_module(sys.argv[2]).engine


def sql(query):
    with engine.connect() as connection:
        return [[v if isinstance(v, (int, float, str, type(None))) else str(v) for v in row]
                for row in connection.execute(text(query))]


async def main():
    loop = asyncio.get_running_loop()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            print(json.dumps({"ready": True}), flush=True)
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                ask = json.loads(line)
                if "sql" in ask:
                    print(json.dumps({"rows": sql(ask["sql"])}), flush=True)
                    continue
                r = await client.request(ask["method"], ask["url"], headers=ask["headers"],
                                         json=ask.get("json"), data=ask.get("data"))
                body = r.json() if r.content else None
                print(json.dumps({"status": r.status_code, "headers": dict(r.headers), "body": body}),
                      flush=True)


asyncio.run(main())
'''


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Backend:
    """A rendered backend served in a subprocess (its modules would clash with another skill's)."""

    def __init__(self, root: Path, conv: Conventions) -> None:
        env = {**os.environ, "JWT_SECRET": SECRET, "DATABASE_URL": f"sqlite:///{root / 'probe.db'}"}
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _DRIVER, conv.app, conv.module("database")], cwd=root, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            assert self.proc.stderr is not None
            raise AssertionError("the backend stopped:\n" + self.proc.stderr.read())
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _send(self, ask: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(ask) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def call(self, method: str, url: str, *, user: str | None = None, token: str | None = None,
             json: Any = None, data: dict[str, str] | None = None) -> Answer:
        if user is not None:
            token = jwt.encode({"sub": user, "exp": time.time() + 3600}, SECRET, algorithm="HS256")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        got = self._send({"method": method, "url": url, "headers": headers, "json": json, "data": data})
        return Answer(got["status"], got["headers"], got["body"])

    def sql(self, query: str) -> list[list[Any]]:
        rows: list[list[Any]] = self._send({"sql": query})["rows"]
        return rows

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _serve(contract: Contract, skill: str, root: Path) -> Iterator[Backend]:
    conv = _conventions(skill)
    backend = Backend(_write(render_backend(contract, conv), root), conv)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module", params=sorted(FOLDERS))
def served(request: pytest.FixtureRequest, task_crud: Contract,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Backend]]:
    skill: str = request.param
    for backend in _serve(task_crud, skill, tmp_path_factory.mktemp(skill)):
        yield skill, backend


def _message(envelope: str, body: Any) -> Any:
    """The message (or, for 422, the field errors) of an error body, checking the envelope's shape."""
    if envelope == "error":
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        error = body["error"]
        return error["details"] if error["code"] == "VALIDATION_ERROR" else error["message"]
    if envelope == "detail-code-timestamp":
        assert set(body) == {"detail", "error_code", "timestamp"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["timestamp"])
        return body["detail"]
    assert set(body) == {"detail"}
    return body["detail"]


def test_unknown_id_is_404_in_the_envelope(served: tuple[str, Backend]) -> None:
    skill, app = served
    envelope, _ = MANNERS[skill]
    r = app.call("GET", "/api/tasks/987654", user="alice")
    assert r.status == 404
    assert _message(envelope, r.body) == "Task not found"
    if envelope == "error":
        assert r.body["error"]["code"] == "NOT_FOUND"
    if envelope == "detail-code-timestamp":
        assert r.body["error_code"] == "not_found"


def test_another_users_row_answers_as_the_skill_says(served: tuple[str, Backend]) -> None:
    skill, app = served
    envelope, status = MANNERS[skill]
    made = app.call("POST", "/api/tasks", user="alice", json={"title": "alice's secret plan"})
    assert made.status == 201
    url = f"/api/tasks/{made.body['id']}"
    for method, body in (("GET", None), ("PATCH", {"title": "mine now"}), ("DELETE", None)):
        r = app.call(method, url, user="bob", json=body)
        assert r.status == status, (method, r.body)
        message = _message(envelope, r.body)
        assert "secret plan" not in json.dumps(r.body)
        assert message == ("Task not found" if status == 404 else "Task belongs to another user")
    child = app.call("GET", f"{url}/comments", user="bob")
    assert child.status == status
    assert app.call("GET", url, user="alice").body["title"] == "alice's secret plan"
    listed = app.call("GET", "/api/tasks", user="bob")
    assert listed.status == 200 and listed.body["total"] == 0


def test_422_has_the_envelopes_shape_and_never_echoes_input(served: tuple[str, Backend]) -> None:
    skill, app = served
    envelope, _ = MANNERS[skill]
    r = app.call("POST", "/api/tasks", user="alice", json={"title": "", "user_id": "mallory"})
    assert r.status == 422
    errors = _message(envelope, r.body)
    assert isinstance(errors, list) and errors
    assert {tuple(e["loc"]) for e in errors} >= {("body", "title"), ("body", "user_id")}
    for e in errors:
        assert set(e) == {"type", "loc", "msg"}
    assert "mallory" not in json.dumps(r.body)
    if envelope == "error":
        assert r.body["error"]["code"] == "VALIDATION_ERROR"
    if envelope == "detail-code-timestamp":
        assert r.body["error_code"] == "validation_error"


def test_401_carries_www_authenticate_in_the_envelope(served: tuple[str, Backend]) -> None:
    skill, app = served
    envelope, _ = MANNERS[skill]
    forged = jwt.encode({"sub": "alice", "exp": time.time() + 3600}, "another-secret-" + "y" * 40)
    for token in (None, "not-a-jwt", forged):
        r = app.call("GET", "/api/tasks", token=token)
        assert r.status == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert isinstance(_message(envelope, r.body), str)


# --- auth: builtin, soft delete, on delete: restrict, on layouts other than backend-builder -------------


@pytest.fixture(scope="module", params=["backend-development", "backend-features", "backend-engineer"])
def shelves(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Backend]]:
    skill: str = request.param
    for backend in _serve(_shelf(), skill, tmp_path_factory.mktemp(f"shelf-{skill}")):
        yield skill, backend


def _member(app: Backend, email: str) -> str:
    made = app.call("POST", "/api/auth/register", json={"email": email, "password": "correct horse 1"})
    assert made.status == 201, made.body
    assert set(made.body) == {"id", "email", "created_at"}
    login = app.call("POST", "/api/auth/login", data={"username": email, "password": "correct horse 1"})
    assert login.status == 200 and login.body["token_type"] == "bearer"
    token: str = login.body["access_token"]
    return token


def test_builtin_accounts_register_login_me_with_argon2(shelves: tuple[str, Backend]) -> None:
    skill, app = shelves
    envelope, _ = MANNERS[skill]
    token = _member(app, "Ann@Example.com")
    me = app.call("GET", "/api/auth/me", token=token)
    assert me.status == 200 and me.body["email"] == "ann@example.com"
    stored = app.sql("SELECT email, password_hash FROM users")
    assert [row[0] for row in stored] == ["ann@example.com"]
    assert stored[0][1].startswith("$argon2id$") and "correct horse" not in stored[0][1]
    again = app.call("POST", "/api/auth/register", json={"email": "ANN@example.com", "password": "another 1"})
    assert again.status == 409
    login = "/api/auth/login"
    wrong = app.call("POST", login, data={"username": "ann@example.com", "password": "wrong pass"})
    nobody = app.call("POST", login, data={"username": "zed@example.com", "password": "wrong pass"})
    assert wrong.status == nobody.status == 401
    assert _message(envelope, wrong.body) == _message(envelope, nobody.body)
    assert app.call("GET", "/api/auth/me").status == 401


def test_soft_delete_hides_the_row_everywhere_and_restrict_refuses_with_409(
        shelves: tuple[str, Backend]) -> None:
    skill, app = shelves
    envelope, _ = MANNERS[skill]
    token = _member(app, f"keeper-{skill}@example.com")
    shelf = app.call("POST", "/api/shelves", token=token, json={"name": "oak shelf"})
    assert shelf.status == 201
    url = f"/api/shelves/{shelf.body['id']}"
    box = app.call("POST", f"{url}/boxes", token=token, json={"label": "winter clothes"})
    assert box.status == 201

    refused = app.call("DELETE", url, token=token)
    assert refused.status == 409
    assert isinstance(_message(envelope, refused.body), str) and _message(envelope, refused.body)
    assert app.call("GET", url, token=token).status == 200  # nothing deleted
    assert app.call("GET", f"{url}/boxes", token=token).body["total"] == 1

    assert app.call("DELETE", f"{url}/boxes/{box.body['id']}", token=token).status == 204
    assert app.call("DELETE", url, token=token).status == 204
    assert app.call("GET", url, token=token).status == 404
    assert app.call("GET", "/api/shelves", token=token).body["total"] == 0
    assert app.call("GET", "/api/shelves/search?q=oak", token=token).body["total"] == 0
    stats = app.call("GET", "/api/shelves/stats", token=token).body
    assert stats["total"] == 0 and stats["by_kind"] == {"wood": 0, "metal": 0}
    assert app.call("DELETE", url, token=token).status == 404
    rows = app.sql(f"SELECT deleted_at FROM shelves WHERE id = {int(shelf.body['id'])}")
    assert len(rows) == 1 and rows[0][0] is not None  # kept, marked deleted


# --- the generated project's own proof, per skill (subprocesses: slow) ----------------------------------


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    scrubbed = ("PYTHONPATH", "DATABASE_URL", "TEST_DATABASE_URL", "MIGRATE_ON_START")
    full = {k: v for k, v in os.environ.items() if k not in scrubbed} | {"JWT_SECRET": SECRET, **env}
    return subprocess.run(args, cwd=cwd, env=full, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module", params=sorted(FOLDERS))
def rendered_tree(request: pytest.FixtureRequest, task_crud: Contract,
                  tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    skill: str = request.param
    root = tmp_path_factory.mktemp(f"tree-{skill}")
    return skill, _write(render_backend(task_crud, _conventions(skill)), root)


@pytest.mark.slow
def test_generated_suite_passes_with_enough_tests_per_resource(rendered_tree: tuple[str, Path]) -> None:
    skill, root = rendered_tree
    conv = _conventions(skill)
    listed = _run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], root)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    minimum = {conv.path("test", name=t[:-1], plural=t): 12 for t in ("tasks", "comments")}
    minimum[conv.path("test_app")] = 9  # /health up and down, CORS, the settings
    for module, least in minimum.items():
        # One line per test ("path::name"), or per file ("path: N") when the project's addopts add -q.
        lines = listed.stdout.splitlines()
        count = sum(1 for line in lines if line.startswith(module + "::"))
        per_file = re.compile(re.escape(module) + r": (\d+)")
        count += sum(int(m[1]) for m in map(per_file.fullmatch, lines) if m)
        assert count >= least, f"{module}: {count} tests"
    run = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], root)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.slow
def test_generated_tree_is_ruff_and_mypy_clean(rendered_tree: tuple[str, Path]) -> None:
    _, root = rendered_tree
    bin_dir = Path(sys.executable).parent
    ruff = _run([str(bin_dir / "ruff"), "check", "--no-cache", "."], root)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = _run([sys.executable, "-m", "mypy", "--cache-dir", str(root / ".mypy_cache"), "."], root)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


@pytest.mark.slow
def test_migration_matches_the_models(rendered_tree: tuple[str, Path]) -> None:
    _, root = rendered_tree
    url = {"DATABASE_URL": f"sqlite:///{root / 'migrated.db'}"}
    alembic = str(Path(sys.executable).parent / "alembic")
    upgrade = _run([alembic, "upgrade", "head"], root, **url)
    assert upgrade.returncode == 0, upgrade.stderr
    check = _run([alembic, "check"], root, **url)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture(scope="module", params=["backend-development", "backend-features"])
def shelf_tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    skill: str = request.param
    root = tmp_path_factory.mktemp(f"shelf-tree-{skill}")
    return skill, _write(render_backend(_shelf(), _conventions(skill)), root)


@pytest.mark.slow
def test_generated_suite_covers_accounts_soft_delete_and_restrict(shelf_tree: tuple[str, Path]) -> None:
    _, root = shelf_tree
    run = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], root)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.postgres
def test_generated_suite_passes_on_postgres(rendered_tree: tuple[str, Path], postgres_url: str) -> None:
    _, root = rendered_tree
    run = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], root,
               TEST_DATABASE_URL=postgres_url)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.postgres
def test_accounts_soft_delete_and_restrict_on_postgres(shelf_tree: tuple[str, Path],
                                                      postgres_url: str) -> None:
    _, root = shelf_tree
    alembic = str(Path(sys.executable).parent / "alembic")
    for step in (["upgrade", "head"], ["check"]):
        done = _run([alembic, *step], root, DATABASE_URL=postgres_url)
        assert done.returncode == 0, done.stdout + done.stderr
    run = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], root,
               TEST_DATABASE_URL=postgres_url)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
