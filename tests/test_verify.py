"""verify: contract, spec, plan, tasks, code and the running app's OpenAPI compared; every gap named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from skillrunner.cli import main
from skillrunner.contract import parse_contract
from skillrunner.findings import has_errors
from skillrunner.pipeline import run
from skillrunner.verify import app_openapi, compare_openapi, verify

CONTRACT = """\
---
feature: notes
title: Notes API
version: 1.0.0
auth: jwt
---

# Notes API

## Resource: Notebook

- table: notebooks
- id: int
- owner: user
- timestamps: yes

| Field | Type             | Required | Default | Constraints                  | Description |
|-------|------------------|----------|---------|------------------------------|-------------|
| name  | string           | yes      |         | min_length=1, max_length=100 | Its name    |
| kind  | enum(work, home) | no       | work    |                              | Its kind    |

### Endpoints

| Method | Path                | Operation | Success      | Errors        |
|--------|---------------------|-----------|--------------|---------------|
| POST   | /api/notebooks      | create    | 201 Notebook | 401, 422      |
| GET    | /api/notebooks/{id} | get       | 200 Notebook | 401, 404      |
| DELETE | /api/notebooks/{id} | delete    | 204          | 401, 404      |
"""

APP = '''\
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict


class NotebookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    colour: str | None = None


class NotebookPublic(BaseModel):
    id: int
    user_id: str
    name: str
    created_at: str
    updated_at: str


app = FastAPI()


@app.post("/api/notebooks", status_code=201, response_model=NotebookPublic)
async def create(body: NotebookCreate) -> NotebookPublic:
    raise NotImplementedError


@app.get("/api/notebooks/{notebook_id}", response_model=NotebookPublic)
async def read(notebook_id: int) -> NotebookPublic:
    raise NotImplementedError


@app.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
'''


def _app(root: Path) -> None:
    (root / "app").mkdir(parents=True)
    (root / "app/__init__.py").write_text("", encoding="utf-8")
    (root / "app/main.py").write_text(APP, encoding="utf-8")


def test_openapi_comparison_names_every_mismatch(tmp_path: Path) -> None:
    contract, findings = parse_contract(CONTRACT, "specs/api/notes.md")
    assert contract is not None, findings
    root = tmp_path / "backend"
    _app(root)
    dump = app_openapi(root=root, app="app.main:app")
    assert "/api/notebooks" in dump["openapi"]["paths"]
    got = compare_openapi(contract, dump, project=tmp_path)
    messages = {(f.path, f.line, f.message) for f in got}
    assert ("specs/api/notes.md", 28, "`DELETE /api/notebooks/{id}` is in the contract but the app does not "
                                     "serve it") in messages
    assert ("specs/api/notes.md", 20, "field `kind` of Notebook is in the contract but not in the body of "
                                     "`POST /api/notebooks`") in messages
    assert ("specs/api/notes.md", 26, "the body of `POST /api/notebooks` accepts `colour`, which the "
                                     "contract does not name") in messages
    assert ("specs/api/notes.md", 20, "field `kind` of Notebook is missing from the response of "
                                     "`GET /api/notebooks/{id}`") in messages
    health = APP.splitlines().index('@app.get("/api/health")') + 2  # the def line, below the decorator
    extra = "the app serves `GET /api/health` but no contract names it"
    assert ("backend/app/main.py", health, extra) in messages
    assert all(f.severity == "error" and f.hint for f in got)
    # the path parameter's name does not matter: {notebook_id} serves {id}
    assert not any("`GET /api/notebooks/{id}` is in the contract" in f.message for f in got)


def test_builtin_auth_brings_its_three_endpoints(tmp_path: Path) -> None:
    contract, findings = parse_contract(CONTRACT.replace("auth: jwt", "auth: builtin"), "specs/api/notes.md")
    assert contract is not None, findings
    root = tmp_path / "backend"
    _app(root)
    main = root / "app/main.py"
    main.write_text(main.read_text(encoding="utf-8") + (
        '\n\n@app.post("/api/auth/register")\nasync def register() -> None:\n    return None\n'
        '\n\n@app.get("/api/auth/me")\nasync def me() -> None:\n    return None\n'), encoding="utf-8")
    messages = {f.message for f in compare_openapi(contract, app_openapi(root=root, app="app.main:app"),
                                                   project=tmp_path)}
    assert "`auth: builtin` but the app does not serve `POST /api/auth/login`" in messages
    assert not any("/api/auth/register" in m or "/api/auth/me" in m for m in messages)


def test_app_that_does_not_import_is_reported(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/main.py").write_text("raise SystemExit('JWT_SECRET is a placeholder')\n",
                                          encoding="utf-8")
    with pytest.raises(RuntimeError):
        app_openapi(root=tmp_path, app="app.main:app")


def _project(tmp_path: Path) -> Path:
    (tmp_path / "specs/api").mkdir(parents=True)
    (tmp_path / "specs/api/notes.md").write_text(CONTRACT, encoding="utf-8")
    for command in ("/sp.specify", "/sp.plan", "/sp.tasks"):
        assert run(project=tmp_path, command=command, feature="notes").ok
    return tmp_path


def _artifact_findings(project: Path) -> list[tuple[str, str]]:
    report = verify(project=project, feature="notes", openapi=False)
    return [(f.path, f.code) for f in report.findings if f.path.startswith("specs/")]


def test_fresh_artifacts_agree(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert _artifact_findings(project) == []


def test_ticked_task_whose_file_is_missing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    path = project / "specs/notes/tasks.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n- [ ] T001 ", "\n- [x] T001 ", 1), encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("- [ ] T001 "))
    report = verify(project=project, feature="notes", openapi=False)
    missing = [f for f in report.findings if f.code == "task-missing-file"]
    assert len(missing) == 1
    assert (missing[0].path, missing[0].line, missing[0].col) == ("specs/notes/tasks.md", line, 4)
    assert "T001 is ticked but backend/requirements.txt does not exist" in missing[0].message


def test_contract_change_makes_artifacts_stale_and_hand_edits_are_warned(tmp_path: Path) -> None:
    project = _project(tmp_path)
    contract = project / "specs/api/notes.md"
    listing = "| GET    | /api/notebooks      | list      | 200 Page[Notebook] | 401 |\n"
    contract.write_text(CONTRACT + listing, encoding="utf-8")
    found = _artifact_findings(project)
    assert ("specs/notes/spec.md", "stale") in found
    assert ("specs/notes/plan.md", "stale") in found
    assert ("specs/notes/tasks.md", "stale") in found
    report = verify(project=project, feature="notes", openapi=False)
    assert any(f.code == "task-coverage" and "`GET /api/notebooks`" in f.message for f in report.findings)
    plan = project / "specs/notes/plan.md"
    plan.write_text(plan.read_text(encoding="utf-8") + "\nMy review notes.\n", encoding="utf-8")
    hand = [f for f in verify(project=project, feature="notes", openapi=False).findings
            if f.path == "specs/notes/plan.md"]
    assert [(f.severity, f.code) for f in hand] == [("warning", "hand-edited")]


def test_a_conflict_marker_left_in_a_generated_file_fails_verify(tmp_path: Path) -> None:
    from skillrunner.render import implement

    project = _project(tmp_path)
    implement(project=project, feature="notes")
    config = project / "backend/app/config.py"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2:2] = ["<<<<<<< yours\n", "mine\n", "||||||| generated before\n", "=======\n", "theirs\n",
                  ">>>>>>> contract\n"]
    config.write_text("".join(lines), encoding="utf-8")
    report = verify(project=project, feature="notes", openapi=False)
    found = [(f.path, f.line, f.severity) for f in report.findings if f.code == "code-conflict"]
    assert found == [("backend/app/config.py", 3, "error")]
    assert has_errors(report.findings, strict=False)


def test_a_conflict_marker_in_any_recorded_file_fails_verify_and_cli_names_file_and_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillrunner.render import implement
    from skillrunner.write import write_files

    project = _project(tmp_path)
    implement(project=project, feature="notes")
    # a file skillrunner records that this render does not produce (another writer's)
    write_files({"AGENTS.md": "one\ntwo\n"}, project=project, root="", key="init")
    (project / "AGENTS.md").write_text("one\n||||||| generated before\ntwo\n=======\n2\n>>>>>>> contract\n",
                                       encoding="utf-8")
    (project / "notes.md").write_text("<<<<<<< yours\n", encoding="utf-8")  # not recorded: not checked
    report = verify(project=project, feature="notes", openapi=False)
    found = [(f.path, f.line) for f in report.findings if f.code == "code-conflict"]
    assert found == [("AGENTS.md", 2)]
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["verify", "notes"])
    assert result.exit_code == 1
    assert "AGENTS.md:2:1: error: an unresolved conflict: your edits and the contract's change overlap here" \
        in result.stdout


def test_missing_artifacts_and_broken_contract(tmp_path: Path) -> None:
    (tmp_path / "specs/api").mkdir(parents=True)
    (tmp_path / "specs/api/notes.md").write_text(CONTRACT, encoding="utf-8")
    codes = {(f.path, f.code) for f in verify(project=tmp_path, feature="notes", openapi=False).findings}
    assert {("specs/notes/spec.md", "missing"), ("specs/notes/plan.md", "missing"),
            ("specs/notes/tasks.md", "missing")} <= codes
    (tmp_path / "specs/api/notes.md").write_text(CONTRACT.replace("| 201 Notebook", "| 200 Notebook"),
                                                 encoding="utf-8")
    report = verify(project=tmp_path, feature="notes")
    assert report.checked == ("contract",)
    assert any(f.path == "specs/api/notes.md" and f.line == 26 for f in report.findings)


def test_cli_verify_exit_code_and_github_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    (project / "specs/notes/tasks.md").unlink()
    result = CliRunner().invoke(main, ["verify", "notes", "--format", "github"])
    assert result.exit_code == 1
    assert "::error file=specs/notes/tasks.md,line=1,col=1,title=missing::" in result.stdout
    text = CliRunner().invoke(main, ["verify", "notes"])
    assert text.exit_code == 1
    assert "specs/notes/tasks.md:1:1: error: specs/notes/tasks.md does not exist" in text.stdout
    assert textwrap.dedent("verified notes (") in text.stderr


TYPED = """\
---
feature: shop
title: Shop
auth: jwt
---

## Resource: Item

- table: items

| Field | Type             | Required | Default | Constraints                       | Description |
|-------|------------------|----------|---------|-----------------------------------|-------------|
| code  | string           | yes      |         | pattern="^[A-Z]{3}$", max_length=3 | Its code   |
| price | decimal(8, 2)    | no       |         | ge=0                              | Its price   |
| kind  | enum(new, used)  | no       | new     |                                   | Its kind    |
| seen  | datetime         | no       |         |                                   | When seen   |

### Endpoints

| Method | Path       | Operation | Success  | Errors   |
|--------|------------|-----------|----------|----------|
| POST   | /api/items | create    | 201 Item | 401, 422 |
"""


def _typed_dump(properties: dict[str, object]) -> dict[str, object]:
    body = {"$ref": "#/components/schemas/ItemCreate"}
    op = {"requestBody": {"content": {"application/json": {"schema": body}}},
          "responses": {"201": {"description": "ok"}}}
    create = {"type": "object", "properties": properties}
    schemas = {"ItemCreate": create}
    spec = {"paths": {"/api/items": {"post": op}}, "components": {"schemas": schemas}}
    return {"openapi": spec, "routes": []}


def test_openapi_comparison_checks_each_fields_type_and_constraints(tmp_path: Path) -> None:
    contract, findings = parse_contract(TYPED, "specs/api/shop.md")
    assert contract is not None, findings
    right = {
        "code": {"type": "string", "pattern": "^[A-Z]{3}$", "maxLength": 3},
        "price": {"anyOf": [{"anyOf": [{"type": "number", "minimum": 0.0}, {"type": "string"}]},
                            {"type": "null"}]},
        "kind": {"anyOf": [{"$ref": "#/components/schemas/Kind"}, {"type": "null"}]},
        "seen": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
    }
    dump = _typed_dump(right)
    dump["openapi"]["components"]["schemas"]["Kind"] = {"type": "string", "enum": ["used", "new"]}  # type: ignore[index]
    assert compare_openapi(contract, dump, project=tmp_path) == []

    wrong = {
        "code": {"type": "string", "maxLength": 3},  # the pattern is enforced but not documented
        "price": {"type": "string"},
        "kind": {"type": "string", "enum": ["new"]},
        "seen": {"type": "string"},
    }
    got = {(f.line, f.message, f.code)
           for f in compare_openapi(contract, _typed_dump(wrong), project=tmp_path)}
    where = "in the body of `POST /api/items`"
    assert got == {
        (13, f"field `code` of Item: constraint pattern=^[A-Z]{{3}}$ is not documented as pattern {where}",
         "openapi-type"),
        (14, f"field `price` of Item: constraint ge=0 is not documented as minimum {where}", "openapi-type"),
        (15, f"field `kind` of Item: the contract allows new, used, the schema documents new {where}",
         "openapi-type"),
        (16, f"field `seen` of Item: the schema lacks format 'date-time' {where}", "openapi-type"),
    }
    wrong["price"] = {"type": "boolean", "minimum": 0}
    messages = {f.message for f in compare_openapi(contract, _typed_dump(wrong), project=tmp_path)}
    assert f"field `price` of Item: the contract says decimal, the schema documents boolean {where}" \
        in messages


def test_a_tree_of_two_layouts_fails_verify(tmp_path: Path) -> None:
    import json

    from skillrunner.render import implement

    project = _project(tmp_path)
    implement(project=project, feature="notes", skill="backend-builder")
    manifest = project / ".skillrunner/manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    # What an older skillrunner left after a second skill's render: both writers recorded.
    data["writers"]["implement:backend-skill"] = {"files": {"backend/app/models/notebook.py": "0" * 64}}
    manifest.write_text(json.dumps(data), encoding="utf-8")
    report = verify(project=project, feature="notes", skill="backend-builder", openapi=False)
    mixed = [f for f in report.findings if f.code == "code-mixed"]
    assert [(f.path, f.severity) for f in mixed] == [("backend/app/models/notebook.py", "error")]
    assert "backend-skill's layout" in mixed[0].message
