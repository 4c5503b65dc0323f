"""create_crud: seed 001's call renders exactly what the contract it stands for renders."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillrunner.contract import Contract, load_contract, parse_contract
from skillrunner.errors import ContractError, UsageError
from skillrunner.render import implement, render_backend
from skillrunner.scaffold import create_crud, crud_contract
from skillrunner.skills import resolve_skill

#: The contract references/create-crud.md says this call stands for, written by hand (other widths,
#: other column order in the endpoint table: it is read as a contract, not compared as text).
TASK_CALL: dict[str, Any] = {
    "model_name": "Task",
    "fields": [
        ("title", "str", {"required": True, "min_length": 1, "max_length": 200}),
        ("priority", "str", {"default": "medium", "choices": ["low", "medium", "high"]}),
        ("due_date", "datetime", {"required": False, "description": "When it is due | UTC"}),
    ],
    "user_field": True,
    "soft_delete": True,
    "custom_routes": [("GET", "/stats", "stats(priority)")],
}
TASK_CONTRACT = """---
feature: task
title: Task API
auth: jwt
---

# Task API

## Resource: Task

- table: tasks
- id: int
- owner: user
- timestamps: yes
- soft delete: yes

| Field | Type | Required | Default | Constraints | Description |
|---|---|---|---|---|---|
| title | string | yes | | min_length=1, max_length=200 | |
| priority | enum(low, medium, high) | no | medium | | |
| due_date | datetime | no | | | When it is due \\| UTC |

### Endpoints

| Method | Path | Operation | Errors | Success |
|---|---|---|---|---|
| POST | /api/tasks | create | 401, 422 | 201 Task |
| GET | /api/tasks | list | 401, 422 | 200 Page[Task] |
| GET | /api/tasks/stats | stats(priority) | 401 | 200 Stats |
| GET | /api/tasks/{id} | get | 401, 404 | 200 Task |
| PATCH | /api/tasks/{id} | update | 401, 404, 422 | 200 Task |
| DELETE | /api/tasks/{id} | delete | 401, 404 | 204 |
"""


def _rendered_from_file(tmp_path: Path, feature: str, text: str,
                        skill: str = "backend-scaffolder") -> dict[str, str]:
    path = tmp_path / "specs" / "api" / f"{feature}.md"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    contract = load_contract(path, project=tmp_path)
    return render_backend(contract, resolve_skill(skill).conventions)


def test_create_crud_renders_byte_for_byte_what_its_contract_renders(tmp_path: Path) -> None:
    from_call = create_crud(**TASK_CALL)
    from_contract = _rendered_from_file(tmp_path, "task", TASK_CONTRACT)
    assert list(from_call) == list(from_contract)
    for path, text in from_contract.items():
        assert from_call[path] == text, path
    assert "deleted_at" in from_call["app/models/task.py"]
    assert re.search(r'@router\.get\(\s*"/api/tasks/stats"', from_call["app/routes/tasks.py"])


def test_crud_contract_is_the_text_create_crud_renders(tmp_path: Path) -> None:
    text = crud_contract(**TASK_CALL)
    assert create_crud(**TASK_CALL) == _rendered_from_file(tmp_path, "task", text)
    contract, findings = parse_contract(text, "specs/api/task.md")
    assert contract is not None and findings == []
    again, _ = parse_contract(TASK_CONTRACT, "specs/api/task.md")
    assert again is not None

    def meaning(c: Contract) -> list[Any]:
        return [(f.name, f.type, f.required, f.default, f.constraints, f.description)
                for r in c.resources for f in r.fields]

    assert meaning(contract) == meaning(again)


def test_the_seeds_quick_start_call_gives_the_scaffolder_layout() -> None:
    files = create_crud(
        model_name="Task",
        fields=[
            ("title", "str", {"required": True, "max_length": 200}),
            ("description", "str", {"required": False, "max_length": 1000}),
            ("completed", "bool", {"default": False}),
        ],
        user_field=True,
    )
    for path in ("app/models/task.py", "app/schemas/task.py", "app/routes/tasks.py",
                 "app/services/task_service.py", "app/database.py", "app/main.py"):
        assert path in files
    model = files["app/models/task.py"]
    assert "completed: bool = Field(default=False" in model
    assert "user_id: str" in model and "created_at" in model
    assert not [path for path, text in files.items() if "datetime.utcnow" in text]


def test_options_map_to_the_contract() -> None:
    contract, _ = parse_contract(crud_contract(
        "StockItem",
        [("sku", "str", {"required": True, "pattern": "^[A-Z]{3}-[0-9]+$", "unique": True}),
         ("quantity", "int", {"default": 0, "ge": 0, "index": True}),
         ("price", "decimal(10, 2)", {"required": True, "gt": 0}),
         ("tags", "list[str]", {"default": ["new"], "max_items": 5}),
         ("active", "bool", {"default": True})],
        user_field=False, timestamps=False,
        custom_routes=[("GET", "", "list(filter: active; sort: quantity)"),
                       ("POST", "/bulk-archive", "bulk_update(active=false)")],
    ), "specs/api/stock-item.md")
    assert contract is not None
    res = contract.resources[0]
    assert (res.table, res.owner, res.timestamps, res.soft_delete) == ("stock_items", "none", False, False)
    sku, quantity, price, tags, active = res.fields
    assert sku.required and sku.constraint("pattern") == "^[A-Z]{3}-[0-9]+$"
    assert sku.constraint("unique") is True
    assert quantity.default == 0 and quantity.constraint("ge") == 0 and quantity.constraint("index") is True
    assert price.type.kind == "decimal" and price.constraint("gt") == 0
    assert tags.type.kind == "list" and tags.default == ("new",) and tags.constraint("max_items") == 5
    assert active.type.kind == "boolean" and active.default is True
    ops = {(ep.method, ep.path): ep.operation.spec for ep in res.endpoints}
    assert ops[("GET", "/api/stock-items")] == "list(filter: active; sort: quantity)"  # replaced
    assert ops[("POST", "/api/stock-items/bulk-archive")] == "bulk_update(active=false)"
    assert len(ops) == 6


def test_another_skill_renders_the_same_call_in_its_layout() -> None:
    files = create_crud("Note", [("body", "text", {"required": True})], skill="backend-skill")
    assert "src/services/note_service.py" in files and "src/routers/notes.py" in files


def test_builtin_auth_adds_the_accounts() -> None:
    files = create_crud("Note", [("body", "text", {"required": True})], auth="builtin")
    assert {"app/models/user.py", "app/routes/auth.py", "app/services/user_service.py"} <= set(files)


def test_contract_problems_name_the_argument_behind_them() -> None:
    with pytest.raises(ContractError) as caught:
        create_crud("Task", [("title", "strng", {}), ("class", "str", {})],
                    custom_routes=[("PATCH", "/{id}/complete", "toggle_complete")])
    messages = [f.message for f in caught.value.findings]
    assert any(m.startswith("fields[0] ('title'): unknown type 'strng'") for m in messages)
    assert any(m.startswith("fields[1] ('class'): ") and "keyword" in m for m in messages)
    assert any(m.startswith("custom_routes[0]: unknown operation 'toggle_complete'") for m in messages)
    assert all(f.path == "create_crud('Task')" for f in caught.value.findings)


def test_a_reserved_model_name_is_a_contract_error() -> None:
    with pytest.raises(ContractError) as caught:
        create_crud("User", [("name", "str", {})])
    assert any(f.message.startswith("model_name: ") for f in caught.value.findings)


@pytest.mark.parametrize(("args", "words"), [
    ({"model_name": "task"}, "PascalCase"),
    ({"model_name": "Task", "fields": [("title",)]}, "(name, type, options)"),
    ({"model_name": "Task", "fields": [("title", "str", {"maxlen": 3})]}, "unknown option(s) maxlen"),
    ({"model_name": "Task", "fields": [("title", "str", {"description": "two\nlines"})]}, "several lines"),
    ({"model_name": "Task", "fields": [("title", "str", {"default": "it's \"x\""})]}, "both kinds of quote"),
    ({"model_name": "Task", "fields": [("n", "float", {"default": float("nan")})]}, "finite"),
    ({"model_name": "Task", "fields": [("n", "int", {"choices": [1, 2]})]}, "choices need a str field"),
    ({"model_name": "Task", "soft_delete": "yes"}, "soft_delete must be True or False"),
    ({"model_name": "Task", "custom_routes": [("GET", "stats", "stats(x)")]}, "start with /"),
    ({"model_name": "Task", "custom_routes": ["GET /stats"]}, "(method, path, operation)"),
])
def test_arguments_that_cannot_be_a_contract_are_usage_errors(args: dict[str, Any], words: str) -> None:
    with pytest.raises(UsageError) as caught:
        create_crud(**args)
    assert words in caught.value.message


_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r\x00"),
                min_size=1, max_size=40)


def _trimmed(text: str) -> bool:
    return all(unicodedata.category(c)[0] not in "ZC" for c in (text[0], text[-1]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(description=_TEXT.filter(_trimmed), default=_TEXT)
def test_free_text_and_defaults_reach_the_contract_exactly(description: str, default: str) -> None:
    try:
        text = crud_contract("Note", [("body", "text", {"description": description, "default": default})])
    except UsageError:
        assert '"' in default and "'" in default
        return
    contract, findings = parse_contract(text, "specs/api/note.md")
    assert contract is not None, findings
    field = contract.resources[0].fields[0]
    assert (field.description, field.default) == (description, default)


def test_create_crud_is_exported_from_the_package() -> None:
    import skillrunner

    assert skillrunner.create_crud is create_crud


def test_an_action_route_comes_with_its_stub_module(tmp_path: Path) -> None:
    archive = ("POST", "/{id}/archive", "action(archive)")
    call = {**TASK_CALL, "custom_routes": [*TASK_CALL["custom_routes"], archive]}
    files = create_crud(**call)
    text = crud_contract(**call)
    assert re.search(r"\| POST +\| /api/tasks/\{id\}/archive +\| action\(archive\) +\| 200 Task", text)
    implement_dir = tmp_path / "project"
    (implement_dir / "specs" / "api").mkdir(parents=True)
    (implement_dir / "specs" / "api" / "task.md").write_text(text, encoding="utf-8")
    implement(project=implement_dir, feature="task", skill="backend-scaffolder")
    on_disk = {p.relative_to(implement_dir / "backend").as_posix(): p.read_text(encoding="utf-8")
               for p in (implement_dir / "backend").rglob("*") if p.is_file()}
    assert files == on_disk  # the whole tree a first implement writes, the action module included
    assert 'raise ActionNotWritten("archive")' in files["app/actions/task.py"]
