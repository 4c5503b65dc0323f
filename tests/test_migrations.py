"""Migrations as history: revisions computed from two contracts, and live databases carried through them."""

from __future__ import annotations

import json
import random
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import POSTGRES_ENV
from skillrunner.contract import Contract, parse_contract
from skillrunner.errors import RenderError
from skillrunner.render import implement, render_backend
from skillrunner.render.migrations import plan_revision, schema_of
from skillrunner.render.samples import _sample
from skillrunner.resources import packaged_dir
from skillrunner.skills import resolve_skill
from test_render import _random_resource, random_contract

EXAMPLE = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
TASK_CRUD = EXAMPLE.read_text(encoding="utf-8")
VERSIONS = Path("backend") / "alembic" / "versions"


def _project(root: Path, text: str = TASK_CRUD, feature: str = "task-crud") -> Path:
    api = root / "specs" / "api"
    api.mkdir(parents=True, exist_ok=True)
    (api / f"{feature}.md").write_text(text, encoding="utf-8")
    return root


def _rewrite(project: Path, text: str, feature: str = "task-crud") -> None:
    (project / "specs" / "api" / f"{feature}.md").write_text(text, encoding="utf-8")


def _parsed(text: str, feature: str = "task-crud") -> Contract:
    contract, findings = parse_contract(text, f"specs/api/{feature}.md")
    assert contract is not None and not [f for f in findings if f.severity == "error"], \
        "\n".join(map(str, findings))
    return contract


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- contract edits: each one kind of change ------------------------------------------------------------

_FIELD_ROW = re.compile(r"^\| tags .*\|$", re.MULTILINE)


def _add_row(text: str, row: str, after: re.Pattern[str] = _FIELD_ROW) -> str:
    changed = after.sub(lambda m: m.group(0) + "\n" + row, text, count=1)
    assert changed != text
    return changed


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


_LABEL = """
## Resource: Label

- table: labels
- id: int
- owner: user
- timestamps: yes

| Field | Type   | Required | Default | Constraints   | Description |
|-------|--------|----------|---------|---------------|-------------|
| name  | string | yes      |         | max_length=40 | Its name    |

### Endpoints

| Method | Path             | Operation | Success         | Errors        |
|--------|------------------|-----------|-----------------|---------------|
| POST   | /api/labels      | create    | 201 Label       | 401, 422      |
| GET    | /api/labels/{id} | get       | 200 Label       | 401, 404      |
| DELETE | /api/labels/{id} | delete    | 204             | 401, 404      |
"""


def _history() -> list[tuple[str, str, tuple[str, ...]]]:
    """(what changes, the contract after it, resources whose rows the change drops), in order."""
    steps: list[tuple[str, str, tuple[str, ...]]] = [("the first render", TASK_CRUD, ())]

    def step(what: str, edit: Callable[[str], str], lost: tuple[str, ...] = ()) -> None:
        steps.append((what, edit(steps[-1][1]), lost))

    step("a required field with a default", lambda t: _add_row(
        t, "| estimate | integer | no | 1 | ge=0 | Hours of work |"))
    step("an optional field, and an enum value longer than the others", lambda t: _sub(_add_row(
        t, "| notes | text | no | | max_length=500 | Notes |"),
        "enum(low, normal, high, urgent)", "enum(low, normal, high, urgent, critical_issue)"))
    step("an enum value removed", lambda t: _sub(
        t, "enum(low, normal, high, urgent, critical_issue)", "enum(low, normal, high, critical_issue)"))
    step("a shorter string", lambda t: _sub(
        t, "min_length=1, max_length=255 | Short title", "min_length=1, max_length=120 | Short title"))
    step("a unique field and an index", lambda t: _sub(_add_row(
        t, "| code | string | no | | max_length=20, unique | A short code |"),
        re.search(r"^\| due_date .*\|$", t, re.MULTILINE).group(0),  # type: ignore[union-attr]
        "| due_date | datetime | no | | index | When it is due |"))
    step("an optional field becomes required with a default", lambda t: _sub(
        t, "| notes | text | no | | max_length=500 | Notes |",
        "| notes | text | no | none | max_length=500 | Notes |"))
    step("a new resource, and a reference to it", lambda t: _add_row(
        t, "| label | ref(Label) | no | | | Its label |") + _LABEL)
    step("a child's on delete: cascade -> restrict", lambda t: _sub(
        t, "parent: Task (on delete: cascade)", "parent: Task (on delete: restrict)"))
    step("types that convert: integer -> number, text -> string", lambda t: _sub(_sub(
        t, "| estimate | integer | no | 1 | ge=0 |", "| estimate | number | no | 1.5 | ge=0 |"),
        "| notes | text | no | none | max_length=500 |", "| notes | string | no | none | max_length=500 |"))
    step("a type that does not convert: datetime -> date", lambda t: _sub(
        t, "| due_date | datetime | no | | index |", "| due_date | date | no | | index |"))
    step("fields dropped", lambda t: re.sub(r"^\| (notes|code) \|.*\n", "", t, flags=re.MULTILINE))
    step("a resource and the reference to it dropped", lambda t: _sub(
        re.sub(r"^\| label \|.*\n", "", t, flags=re.MULTILINE), _LABEL, ""), lost=("Label",))
    return steps


# --- what a revision holds ----------------------------------------------------------------------------------


def _revision_text(project: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((project / VERSIONS).glob("*.py"))}


def test_every_change_of_the_history_renders_a_revision_named_for_it(tmp_path: Path) -> None:
    project = _project(tmp_path)
    names: list[str] = []
    for i, (what, text, _) in enumerate(_history()):
        _rewrite(project, text)
        before = _revision_text(project)
        result = implement(project=project, feature="task-crud")
        after = _revision_text(project)
        new = sorted(set(after) - set(before))
        assert len(new) == 1, f"step {i} ({what}): expected one new revision, got {new}"
        assert new[0].startswith(f"{i + 1:04d}_"), new
        assert all(after[name] == before[name] for name in before), f"step {i} rewrote an applied revision"
        assert result.revision == (VERSIONS / new[0]).as_posix()
        assert f'revision: str = "{i + 1:04d}"' in after[new[0]]
        down = f'"{i:04d}"' if i else "None"
        assert f"down_revision: str | None = {down}" in after[new[0]], after[new[0]]
        names.append(new[0])
        again = implement(project=project, feature="task-crud")
        assert again.revision == "" and not again.created and not again.updated, f"step {i} is not stable"
    assert names[1] == "0002_add_tasks_estimate.py"
    assert names[-1] == "0013_drop_labels_and_2_more.py", names


def test_data_loss_is_named_and_safe_changes_are_not(tmp_path: Path) -> None:
    project = _project(tmp_path)
    losses: dict[str, tuple[str, ...]] = {}
    for what, text, _ in _history():
        _rewrite(project, text)
        losses[what] = implement(project=project, feature="task-crud").losses
    assert losses["a required field with a default"] == ()
    assert losses["a new resource, and a reference to it"] == ()
    assert losses["an enum value removed"] == (
        "tasks.priority: rows holding 'urgent' become 'normal'",)
    assert losses["a shorter string"] == ("tasks.title: texts longer than 120 characters are cut to fit",)
    assert any("tasks.due_date: every value is dropped" in loss
               for loss in losses["a type that does not convert: datetime -> date"])
    assert {loss.split(":")[0] for loss in losses["fields dropped"]} == {"tasks.notes", "tasks.code"}
    assert any(loss.startswith("labels: the table and every row") for loss in
               losses["a resource and the reference to it dropped"])


def test_plan_names_the_revision_and_its_data_loss_before_anything_is_written(tmp_path: Path) -> None:
    from skillrunner.plan import plan

    project = _project(tmp_path)
    first = plan(project=project, feature="task-crud").text
    assert "`backend/alembic/versions/0001_initial.py` creates every table" in first
    implement(project=project, feature="task-crud")
    dropped = re.sub(r"^\| description .*\n", "", TASK_CRUD, flags=re.MULTILINE)
    _rewrite(project, _sub(dropped, "search(title, description)", "search(title)"))
    before = plan(project=project, feature="task-crud").text
    section = before.split("## Database Migration", 1)[1].split("\n## ", 1)[0]
    assert "`backend/alembic/versions/0002_drop_tasks_description.py`" in section
    assert "(revision 0002 of 2)" in section and "- drop column tasks.description" in section
    assert "**Data loss**" in section
    assert "- tasks.description: the column and every value in it are dropped" in section
    assert not (project / "backend/alembic/versions/0002_drop_tasks_description.py").exists()
    implement(project=project, feature="task-crud")
    after = plan(project=project, feature="task-crud").text
    assert after == before, "the plan reads the same before and after the revision is written"


def test_the_revision_fills_existing_rows_before_a_column_becomes_required() -> None:
    conv = resolve_skill("backend-builder").conventions
    old = schema_of(_parsed(TASK_CRUD), conv)
    new = schema_of(_parsed(_add_row(TASK_CRUD, "| estimate | integer | no | 7 | ge=0 | Hours |")), conv)
    rev = plan_revision(old, new, number=2, down="0001")
    assert rev is not None
    up = "\n".join(rev.upgrade)
    added = up.index('batch.add_column(sa.Column("estimate", sa.BigInteger(), nullable=True))')
    filled = up.index('op.execute(table.update().values({"estimate": 7}))')
    required = up.index('batch.alter_column("estimate", existing_type=sa.BigInteger(), nullable=False)')
    assert added < filled < required
    assert 'batch.drop_column("estimate")' in "\n".join(rev.downgrade)
    assert plan_revision(new, new, number=3, down="0002") is None


def test_a_change_rows_cannot_follow_is_refused_at_its_line_and_writes_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    implement(project=project, feature="task-crud")
    before = _tree(project)
    text = _add_row(TASK_CRUD, "| owner_name | string | yes | | max_length=80 | Who owns it |")
    _rewrite(project, text)
    with pytest.raises(RenderError) as caught:
        implement(project=project, feature="task-crud")
    line = text.splitlines().index("| owner_name | string | yes | | max_length=80 | Who owns it |") + 1
    error = caught.value
    assert error.path == "specs/api/task-crud.md" and error.line == line
    assert "Task.owner_name must hold a value" in error.message and "default" in error.hint
    after = _tree(project)
    after.pop("specs/api/task-crud.md")
    before.pop("specs/api/task-crud.md")
    assert after == before


def test_a_hand_written_revision_is_chained_onto(tmp_path: Path) -> None:
    project = _project(tmp_path)
    implement(project=project, feature="task-crud")
    ours = (project / VERSIONS / "0002_backfill.py")
    ours.write_text('"""Data fix."""\n\nrevision = "a1b2c3"\ndown_revision = "0001"\n\n\n'
                    "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
                    encoding="utf-8")
    _rewrite(project, _add_row(TASK_CRUD, "| estimate | integer | no | | | Hours |"))
    result = implement(project=project, feature="task-crud")
    assert result.revision == (VERSIONS / "0003_add_tasks_estimate.py").as_posix()
    text = (project / result.revision).read_text(encoding="utf-8")
    assert 'down_revision: str | None = "a1b2c3"' in text
    assert ours.is_file(), "a hand-written revision is the user's: never removed"


def test_a_backend_rendered_before_histories_keeps_its_first_revision(tmp_path: Path) -> None:
    project = _project(tmp_path)
    implement(project=project, feature="task-crud")
    initial = project / VERSIONS / "0001_initial.py"
    # What earlier versions wrote: no history, and an unnamed foreign key.
    old = initial.read_text(encoding="utf-8").replace(', name="fk_comments_task_id"', "")
    initial.write_text(old, encoding="utf-8")
    import shutil

    shutil.rmtree(project / ".skillrunner")
    _rewrite(project, _add_row(TASK_CRUD, "| estimate | integer | no | | | Hours |"))
    result = implement(project=project, feature="task-crud", force=True)
    assert initial.read_text(encoding="utf-8") == old, "the applied revision is kept as it was"
    assert result.revision == (VERSIONS / "0002_add_tasks_estimate.py").as_posix()
    assert result.changes == ("add column tasks.estimate",)


def test_two_heads_are_refused_with_the_command_that_joins_them(tmp_path: Path) -> None:
    project = _project(tmp_path)
    implement(project=project, feature="task-crud")
    (project / VERSIONS / "fork.py").write_text('revision = "fork"\ndown_revision = None\n', encoding="utf-8")
    _rewrite(project, _add_row(TASK_CRUD, "| estimate | integer | no | | | Hours |"))
    with pytest.raises(RenderError) as caught:
        implement(project=project, feature="task-crud")
    assert "2 heads" in caught.value.message and "alembic merge heads" in caught.value.hint


def test_a_broken_history_names_its_file(tmp_path: Path) -> None:
    project = _project(tmp_path)
    implement(project=project, feature="task-crud")
    state = project / ".skillrunner" / "features" / "task-crud" / "schema.json"
    state.write_text("{not json", encoding="utf-8")
    with pytest.raises(RenderError) as caught:
        implement(project=project, feature="task-crud")
    assert caught.value.path == ".skillrunner/features/task-crud/schema.json"
    assert "migration history is broken" in caught.value.message


def test_the_same_two_contracts_give_the_same_revision_bytes(tmp_path: Path) -> None:
    texts = [t for _, t, _ in _history()[:6]]
    trees = []
    for name in ("a", "b"):
        project = _project(tmp_path / name)
        for text in texts:
            _rewrite(project, text)
            implement(project=project, feature="task-crud")
        trees.append(_revision_text(project))
    assert trees[0] == trees[1]


def test_a_dry_run_records_no_history(tmp_path: Path) -> None:
    project = _project(tmp_path)
    implement(project=project, feature="task-crud")
    _rewrite(project, _add_row(TASK_CRUD, "| estimate | integer | no | | | Hours |"))
    dry = implement(project=project, feature="task-crud", dry_run=True)
    assert dry.revision.endswith("0002_add_tasks_estimate.py") and dry.revision in dry.created
    assert not (project / dry.revision).exists()
    real = implement(project=project, feature="task-crud")
    assert real.revision == dry.revision


def test_render_backend_without_a_project_creates_every_table_in_one_revision() -> None:
    files = render_backend(_parsed(_history()[-2][1]), resolve_skill("backend-builder").conventions)
    revisions = [p for p in files if p.startswith("alembic/versions/")]
    assert revisions == ["alembic/versions/0001_initial.py"]
    assert 'op.create_table(\n        "labels"' in files[revisions[0]]


# --- contracts evolved at random ---------------------------------------------------------------------

_ROW = re.compile(r"^\| (?!Field\b)(\w+) \| ([^|]+) \| (yes|no) \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$",
                  re.MULTILINE)
_ADDED = [("text", ""), ("integer", "3"), ("boolean", "true"), ("date", ""), ("enum(aa, bbb)", "aa"),
          ("string", ""), ("number", "2.5"), ("uuid", "")]


def _mutate(text: str, r: random.Random, feature: str) -> str:
    rows = list(_ROW.finditer(text))
    kind = r.choice(["add", "add", "drop", "length", "index", "enum", "type", "resource", "drop_resource"])
    if kind == "add" and rows:
        row = r.choice(rows)
        type_, default = r.choice(_ADDED)
        added = f"| added{r.randint(0, 999)} | {type_} | no | {default} | | Added later |"
        return text[:row.end()] + "\n" + added + text[row.end():]
    if kind == "drop" and rows:
        row = r.choice(rows)
        return text[:row.start()] + text[row.end() + 1:]
    if kind == "length":
        spots = list(re.finditer(r"max_length=(\d+)", text))
        if spots:
            spot = r.choice(spots)
            return text[:spot.start(1)] + str(r.randint(8, 300)) + text[spot.end(1):]
    if kind == "index" and rows:
        row = r.choice(rows)
        if not row.group(5).strip() and row.group(2).strip() not in ("json",) and "list" not in row.group(2):
            return text[:row.start(5)] + "index" + text[row.end(5):]
    if kind == "enum":
        spots = [m for m in re.finditer(r"enum\(([^)]*)\)", text) if "," in m.group(1)]
        if spots:
            spot = r.choice(spots)
            values = [v.strip() for v in spot.group(1).split(",")]
            values.remove(r.choice(values))
            return text[:spot.start(1)] + ", ".join(values) + text[spot.end(1):]
    if kind == "type" and rows:
        row = r.choice(rows)
        if row.group(3) == "no" and "ref(" not in row.group(2):
            type_, _ = r.choice(_ADDED)
            return text[:row.start()] + f"| {row.group(1)} | {type_} | no | | | Retyped |" + text[row.end():]
    if kind == "resource":
        used = set(re.findall(r"^## Resource: (\w+)", text, re.MULTILINE))
        names = [n for n in ("Parcel", "Badge", "Lesson", "Sample") if n not in used]
        if names:
            auth = re.search(r"^auth: (\w+)", text, re.MULTILINE)
            return text + _random_resource(r, r.choice(names), auth.group(1) if auth else "jwt", [])
    if kind == "drop_resource":
        section_re = re.compile(r"^## Resource: .*?(?=^## Resource: |\Z)", re.MULTILINE | re.DOTALL)
        sections = list(section_re.finditer(text))
        if len(sections) > 1:
            section = r.choice(sections)
            return text[:section.start()] + text[section.end():]
    return text


def evolve(text: str, seed: int, feature: str) -> str:
    """``text`` after a few random changes, each kept only when the contract still checks clean."""
    r = random.Random(seed)
    for _ in range(r.randint(2, 5)):
        for _attempt in range(30):
            candidate = _mutate(text, r, feature)
            if candidate == text:
                continue
            contract, findings = parse_contract(candidate, f"specs/api/{feature}.md")
            if contract is not None and not [f for f in findings if f.severity == "error"]:
                text = candidate
                break
    return text


@pytest.mark.parametrize("seed", range(20))
def test_random_contracts_evolve_into_revisions_that_parse(seed: int, tmp_path: Path) -> None:
    first = random_contract(seed)
    feature = f"random{seed}"
    second = evolve(first, seed, feature)
    assert second != first
    project = _project(tmp_path, first, feature)
    implement(project=project, feature=feature)
    _rewrite(project, second, feature)
    # Every change evolve() makes is one rows can follow: nothing is refused.
    result = implement(project=project, feature=feature)
    if _parsed(first, feature).resources != _parsed(second, feature).resources:
        assert result.revision, "the tables changed but no revision was rendered"
    for path in (project / VERSIONS).glob("*.py"):
        text = path.read_text(encoding="utf-8")
        compile(text, path.name, "exec")
        assert max(map(len, text.splitlines())) <= 110, path.name


# --- live databases: rows through the API, then every revision up, down and up again ------------------

_STEP = r'''
import importlib, json, os, sys, time
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

app_spec, auth, plan_path, store_path, how = sys.argv[1:6]
sys.path.insert(0, os.getcwd())
from fastapi.testclient import TestClient

def load_app():
    module, _, attr = app_spec.partition(":")
    return getattr(importlib.import_module(module), attr or "app")

cfg = Config("alembic.ini")
if how == "app":  # the app brings the database to head as it starts
    with TestClient(load_app()):
        pass
else:
    command.upgrade(cfg, "head")
command.check(cfg)
script = ScriptDirectory.from_config(cfg)
if script.get_revision(script.get_current_head()).down_revision is not None:
    command.downgrade(cfg, "-1")
    command.upgrade(cfg, "head")
    command.check(cfg)

app = load_app()

plan = json.loads(open(plan_path).read())
store = json.loads(open(store_path).read()) if os.path.exists(store_path) else []
problems = []
with TestClient(app) as client:
    headers = {}
    if auth == "jwt":
        import jwt
        claims = {"sub": "user-1", "exp": int(time.time()) + 3600}
        token = jwt.encode(claims, os.environ["JWT_SECRET"], algorithm="HS256")
        headers = {"Authorization": "Bearer " + token}
    elif auth == "builtin":
        creds = {"email": "migrate@example.com", "password": "correct horse battery"}
        client.post("/api/auth/register", json=creds)
        form = {"username": creds["email"], "password": creds["password"]}
        token = client.post("/api/auth/login", data=form).json()["access_token"]
        headers = {"Authorization": "Bearer " + token}
    live = {item["resource"] for item in plan["resources"]} - set(plan["lost"])
    store = [row for row in store if row["resource"] in live]
    for row in store:
        response = client.get(row["read"], headers=headers)
        found = response.status_code == 200 and (
            row["read_is_list"] is False or row["id"] in [item["id"] for item in response.json()["items"]])
        if not found:
            problems.append(f"{row['resource']} {row['id']}: {response.status_code} {response.text[:300]}")
    made = {}
    for item in plan["resources"]:
        params = {}
        if item["parent"]:
            if item["parent"] not in made:
                continue
            parent_id, parent_params = made[item["parent"]]
            params = {**parent_params, item["parent_param"]: parent_id}
        body = dict(item["body"])
        if any(target not in made for target in item["refs"].values()):
            continue
        body.update({field: made[target][0] for field, target in item["refs"].items()})
        response = client.post(item["create"].format(**params), json=body, headers=headers)
        if response.status_code != 201:
            problems.append(f"create {item['resource']}: {response.status_code} {response.text[:300]}")
            continue
        row_id = response.json()["id"]
        made[item["resource"]] = (row_id, params)
        if item["get"]:
            store.append({"resource": item["resource"], "id": row_id, "read_is_list": False,
                          "read": item["get"].format(**params, id=row_id)})
        elif item["list"]:
            store.append({"resource": item["resource"], "id": row_id, "read_is_list": True,
                          "read": item["list"].format(**params)})
open(store_path, "w").write(json.dumps(store))
print(json.dumps({"rows": len(store), "problems": problems}))
sys.exit(1 if problems else 0)
'''

_SCHEMA = r'''
import json, os
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

command.upgrade(Config("alembic.ini"), "head")
inspector = inspect(create_engine(os.environ["DATABASE_URL"]))
out = {}
for table in sorted(inspector.get_table_names()):
    if table == "alembic_version":
        continue
    columns = inspector.get_columns(table)
    indexes = inspector.get_indexes(table)
    uniques = inspector.get_unique_constraints(table)
    keys = inspector.get_foreign_keys(table)
    out[table] = {
        "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in columns),
        "indexes": sorted((i["name"], i["column_names"], bool(i["unique"])) for i in indexes),
        "uniques": sorted((u["name"], u["column_names"]) for u in uniques),
        "foreign_keys": sorted((f["constrained_columns"], f["referred_table"],
                                f.get("options", {}).get("ondelete")) for f in keys),
    }
print(json.dumps(out, sort_keys=True))
'''


def _request_plan(contract: Contract, n: int, lost: tuple[str, ...]) -> dict[str, Any]:
    """One create request a resource (parents and references first), and how to read the row back."""
    resources = []
    for res in contract.ordered_resources():
        ops = {e.operation.kind: e.path for e in res.endpoints}
        if "create" not in ops:
            continue
        body, refs, usable = {}, {}, True
        for f in res.fields:
            if f.type.kind == "ref":
                if f.required:
                    refs[f.name] = str(f.type.ref)
                continue
            value = _sample(f, n)
            if value is None:
                usable = usable and not f.required
                continue
            body[f.name] = value
        if usable:
            resources.append({"resource": res.name, "create": ops["create"], "get": ops.get("get"),
                              "list": ops.get("list"), "body": body, "refs": refs,
                              "parent": res.parent.resource if res.parent else None,
                              "parent_param": res.parent_field})
    return {"resources": resources, "lost": list(lost)}


def _env(**extra: str) -> dict[str, str]:
    import os

    scrubbed = ("DATABASE_URL", "TEST_DATABASE_URL", "JWT_SECRET", "JWT_ALGORITHM", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in scrubbed and not k.startswith("PYTEST_")}
    return env | {"PYTHONDONTWRITEBYTECODE": "1", "JWT_SECRET": secrets.token_urlsafe(48)} | extra


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=600,
                          check=False)


def _walk(project: Path, feature: str, steps: list[tuple[str, str, tuple[str, ...]]], url: str,
          skill: str = "backend-builder") -> Path:
    """Render each contract in turn and carry the database at ``url`` through every revision."""
    conv = resolve_skill(skill).conventions
    store = project / "rows.json"
    plan_file = project / "plan.json"
    for i, (what, text, lost) in enumerate(steps):
        _rewrite(project, text, feature)
        implement(project=project, feature=feature, skill=skill)
        contract = _parsed(text, feature)
        plan_file.write_text(json.dumps(_request_plan(contract, i, lost)), encoding="utf-8")
        # Every other step, the app migrates as it starts, as a deployment with MIGRATE_ON_START does.
        how = "app" if i % 2 else "alembic"
        done = _run([sys.executable, "-c", _STEP, conv.app, contract.auth, str(plan_file), str(store), how],
                    project / conv.root, DATABASE_URL=url)
        assert done.returncode == 0, f"step {i} ({what}):\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return project / conv.root


def _schema(root: Path, url: str) -> dict[str, Any]:
    done = _run([sys.executable, "-c", _SCHEMA], root, DATABASE_URL=url)
    assert done.returncode == 0, done.stderr[-4000:]
    return dict(json.loads(done.stdout))


def _suite(root: Path, **env: str) -> None:
    done = _run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"], root, **env)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@pytest.fixture
def database(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """``database(name)``: the URL of a new, empty database of the kind the test is parametrized with
    (PostgreSQL ones are dropped afterwards)."""
    if request.param == "sqlite":
        yield lambda name: f"sqlite:///{tmp_path / (name + '.db')}"
        return
    import os
    import uuid

    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    base = request.getfixturevalue("postgres_url")  # skips (or fails in CI) without a server
    url = make_url(base)
    admin = url.set(drivername="postgresql", database=make_url(os.environ[POSTGRES_ENV]).database)
    made: list[str] = []

    def create(name: str) -> str:
        database_name = f"{url.database}_{name}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name)))
        made.append(database_name)
        return url.set(database=database_name).render_as_string(hide_password=False)

    yield create
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        for name in made:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_a_live_database_follows_twelve_contract_changes(tmp_path: Path,
                                                         database: Callable[[str], str]) -> None:
    project = _project(tmp_path / "project")
    steps = _history()
    assert len(steps) >= 11
    dev = database("dev")
    root = _walk(project, "task-crud", steps, dev)
    # The generated suite runs green on the last tree, on a database of its own.
    test_url = {} if dev.startswith("sqlite") else {"TEST_DATABASE_URL": database("suite")}
    _suite(root, DATABASE_URL=dev, **test_url)
    # Built from every revision or from the last contract alone, the database is the same.
    fresh = _project(tmp_path / "fresh", steps[-1][1])
    implement(project=fresh, feature="task-crud")
    assert _schema(root, database("history")) == _schema(fresh / "backend", database("direct"))


#: Every pair on SQLite; every other one on PostgreSQL too (each costs a few seconds a database).
_PAIRS = [(seed, "sqlite") for seed in range(20)] + [(seed, "postgresql") for seed in range(0, 20, 2)]


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "database"), _PAIRS, indirect=["database"])
def test_random_contract_pairs_migrate_a_database_holding_rows(seed: int, tmp_path: Path,
                                                               database: Callable[[str], str]) -> None:
    first = random_contract(seed)
    feature = f"random{seed}"
    second = evolve(first, seed, feature)
    project = _project(tmp_path, first, feature)
    steps = [("first", first, ()), ("evolved", second, _dropped(first, second))]
    root = _walk(project, feature, steps, database("dev"))
    fresh = _project(tmp_path / "fresh", second, feature)
    implement(project=fresh, feature=feature)
    assert _schema(root, database("history")) == _schema(fresh / "backend", database("direct"))


def _dropped(first: str, second: str) -> tuple[str, ...]:
    """Resources of ``first`` that ``second`` no longer has (their rows go with their tables)."""
    names = re.compile(r"^## Resource: (\w+)", re.MULTILINE)
    return tuple(sorted(set(names.findall(first)) - set(names.findall(second))))
