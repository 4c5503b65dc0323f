"""The contract format: parsing, checking, the documented examples, the CLI and fuzzing."""

from __future__ import annotations

import ast
import builtins
import json
import keyword
import re
from pathlib import Path

import pydantic_core
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.token import Token

from skillrunner.cli import main
from skillrunner.contract import (
    CONSTRAINT_TYPES,
    FIELD_KINDS,
    OPERATION_KINDS,
    Constraint,
    Contract,
    Endpoint,
    Field,
    FieldType,
    Operation,
    Parent,
    Resource,
    check_contract,
    check_contract_files,
    contract_summary,
    contract_to_dict,
    find_contract,
    load_contract,
    parse_contract,
    skeleton_text,
)
from skillrunner.contract.parse import _read_type
from skillrunner.contract.values import _pattern_problem
from skillrunner.errors import ContractError, SkillrunnerError, UsageError
from skillrunner.findings import Finding, format_findings
from skillrunner.markdown import parse_blocks, parse_markdown
from skillrunner.render import render_backend
from skillrunner.skills import resolve_skill
from skillrunner.templating import py_identifier, py_literal

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = (REPO / "specs" / "api" / "task-crud.md").read_text(encoding="utf-8")
CONTRACTS = REPO / "tests" / "contracts"

BASE = """\
---
feature: base
title: Base
auth: jwt
---

## Resource: Task

- table: tasks
- id: int
- owner: user
- timestamps: yes

| Field  | Type                  | Required | Default | Constraints    | Description |
|--------|-----------------------|----------|---------|----------------|-------------|
| title  | string                | yes      |         | max_length=100 | Title       |
| status | enum(open, done)      | no       | open    | index          | State       |
| notes  | text                  | no       |         |                | Notes       |
| points | integer               | no       | 0       | ge=0           | Points      |

### Endpoints

| Method | Path                  | Operation                                 | Success        | Errors   |
|--------|-----------------------|-------------------------------------------|----------------|----------|
| POST   | /api/tasks            | create                                    | 201 Task       | 401, 422 |
| GET    | /api/tasks            | list(filter: status; sort: title, points) | 200 Page[Task] | 401, 422 |
| GET    | /api/tasks/search     | search(title, notes)                      | 200 Page[Task] | 401, 422 |
| GET    | /api/tasks/stats      | stats(status)                             | 200 Stats      | 401      |
| POST   | /api/tasks/close      | bulk_update(status=done)                  | 200 BulkResult | 401, 422 |
| GET    | /api/tasks/{id}       | get                                       | 200 Task       | 401, 404 |
| PATCH  | /api/tasks/{id}       | update                                    | 200 Task       | 401, 404 |
| DELETE | /api/tasks/{id}       | delete                                    | 204            | 401, 404 |

## Resource: Comment

- table: comments
- parent: Task (on delete: cascade)

| Field | Type | Required | Default | Constraints | Description |
|-------|------|----------|---------|-------------|-------------|
| body  | text | yes      |         |             | Text        |

### Endpoints

| Method | Path                               | Operation | Success           | Errors   |
|--------|------------------------------------|-----------|-------------------|----------|
| POST   | /api/tasks/{task_id}/comments      | create    | 201 Comment       | 401, 404 |
| GET    | /api/tasks/{task_id}/comments      | list      | 200 Page[Comment] | 401, 404 |
| DELETE | /api/tasks/{task_id}/comments/{id} | delete    | 204               | 401, 404 |
"""

WITHOUT_COMMENT_ENDPOINTS = BASE.split("### Endpoints\n\n| Method | Path                               |")[0]

#: Every form of action and two schemas; the cases below name its lines and columns.
ACTIONS = """\
---
feature: actions
title: Actions
auth: jwt
---

## Resource: Task

- table: tasks

| Field | Type | Required | Default | Constraints | Description |
|-------|------|----------|---------|-------------|-------------|
| title | string | yes | | max_length=200 | What to do |
| due_on | date | no | | | When |

### Endpoints

| Method | Path | Operation | Success | Errors |
|--------|------|-----------|---------|--------|
| POST | /api/tasks | create | 201 Task | 422 |
| GET | /api/tasks/{id} | get | 200 Task | 404 |
| POST | /api/tasks/{id}/archive | action(archive) | 200 Task | 404, 409 |
| POST | /api/tasks/{id}/snooze | action(snooze; body: Snooze) | 200 Task | 404, 422 |
| GET | /api/tasks/overdue | action(overdue) | 200 Page[Task] | |
| GET | /api/tasks/report | action(report) | 200 Report | |
| POST | /api/tasks/reopen-all | action(reopen_all) | 200 list[Task] | |
| DELETE | /api/tasks/{id}/due | action(clear_due) | 204 | 404 |

## Resource: Note

- table: notes
- parent: Task

| Field | Type | Required | Default | Constraints | Description |
|-------|------|----------|---------|-------------|-------------|
| body | text | yes | | | |

### Endpoints

| Method | Path | Operation | Success | Errors |
|--------|------|-----------|---------|--------|
| POST | /api/tasks/{task_id}/notes | create | 201 Note | 404 |
| POST | /api/tasks/{task_id}/notes/pin | action(pin_notes) | 200 list[Note] | 404 |
| POST | /api/tasks/{task_id}/notes/{id}/star | action(star) | 201 Note | 404 |

## Schema: Snooze

How long to push a task back.

| Field | Type | Required | Default | Constraints | Description |
|-------|------|----------|---------|-------------|-------------|
| days | integer | yes | | ge=1, le=30 | Days to push the due date |

## Schema: Report

| Field | Type | Required | Default | Constraints | Description |
|-------|------|----------|---------|-------------|-------------|
| open | integer | yes | | | Open tasks |
| overdue | integer | yes | | | Open tasks past due |
"""


def parse(text: str | bytes, path: str = "specs/api/base.md") -> tuple[Contract | None, list[Finding]]:
    return parse_contract(text, path)


def edit(*pairs: tuple[str, str], text: str = BASE) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, f"{old!r} must occur once"
        text = text.replace(old, new)
    return text


def errors(text: str, path: str = "specs/api/base.md") -> list[Finding]:
    contract, findings = parse(text, path)
    errs = [f for f in findings if f.severity == "error"]
    assert errs, "expected errors"
    assert contract is None
    return errs


def field_row(name: str, typ: str = "string", required: str = "no", default: str = "",
              constraints: str = "") -> tuple[str, str]:
    """An edit that adds a row to Task's field table."""
    anchor = "| points | integer               | no       | 0       | ge=0           | Points      |\n"
    return anchor, anchor + f"| {name} | {typ} | {required} | {default} | {constraints} | x |\n"


def op_row(method: str, path: str, operation: str, success: str) -> tuple[str, str]:
    """An edit that adds an endpoint row to Task's endpoint table."""
    anchor = ("| DELETE | /api/tasks/{id}       | delete                                    "
              "| 204            | 401, 404 |\n")
    return anchor, anchor + f"| {method} | {path} | {operation} | {success} | 401 |\n"


# --- the happy path ------------------------------------------------------------------------------


def test_base_and_example_check_clean() -> None:
    assert parse(BASE) [1] == []
    contract, findings = parse(EXAMPLE, "specs/api/task-crud.md")
    assert findings == [] and contract is not None


def test_example_model() -> None:
    contract, _ = parse(EXAMPLE, "specs/api/task-crud.md")
    assert contract is not None
    assert (contract.feature, contract.title, contract.version, contract.auth) == (
        "task-crud", "Task management API", "1.0.0", "jwt")
    assert contract.description.startswith("Authenticated users create")
    task, comment = contract.resources
    assert (task.name, task.table, task.id_type, task.owner, task.timestamps, task.soft_delete) == (
        "Task", "tasks", "int", "user", True, False)
    assert [f.name for f in task.fields] == ["title", "description", "status", "priority", "due_date", "tags"]
    status = task.field("status")
    assert status is not None
    assert status.type == FieldType("enum", enum_values=("pending", "in_progress", "completed"))
    assert (status.required, status.has_default, status.default) == (False, True, "pending")
    assert status.constraints == (Constraint("index", True),)
    title = task.field("title")
    assert title is not None and title.required and title.constraint("max_length") == 255
    tags = task.field("tags")
    assert tags is not None and tags.type == FieldType("list", item="string") and tags.default == ()
    assert tags.line == 29
    lst = task.endpoints[1]
    assert lst.operation == Operation("list", filters=("status", "priority"),
                                      sorts=("created_at", "due_date", "title"))
    assert (lst.method, lst.path, lst.status, lst.body, lst.errors) == (
        "GET", "/api/tasks", 200, "Page[Task]", (401, 422))
    bulk = task.endpoints[4]
    assert bulk.operation.assignments == (("status", "completed"),)
    assert task.endpoints[-1].body is None and task.endpoints[-1].status == 204
    assert comment.parent == Parent("Task", "cascade") and comment.parent_field == "task_id"
    assert comment.endpoints[2].path_params == ("task_id", "id")
    assert contract.children("Task") == (comment,)


@pytest.mark.parametrize("name", ["library.md", "inventory.md"])
def test_own_contracts_check_clean(name: str) -> None:
    contract, findings = parse((CONTRACTS / name).read_bytes(), f"tests/contracts/{name}")
    assert findings == []
    assert contract is not None


def test_own_contracts_cover_every_type_constraint_operation_and_setting() -> None:
    contracts = [load_contract(CONTRACTS / n, project=REPO) for n in ("library.md", "inventory.md")]
    resources = [r for c in contracts for r in c.resources]
    fields = [f for r in resources for f in r.fields]
    assert {f.type.kind for f in fields} == set(FIELD_KINDS)
    assert {c.name for f in fields for c in f.constraints} == set(CONSTRAINT_TYPES)
    ops = [e.operation for r in resources for e in r.endpoints]
    assert {o.kind for o in ops} == set(OPERATION_KINDS)
    assert any(o.filters for o in ops) and any(o.sorts for o in ops)
    assert any(len(o.assignments) > 1 for o in ops)
    assert {c.auth for c in contracts} == {"jwt", "builtin"}
    assert {r.id_type for r in resources} == {"int", "uuid"}
    assert {r.owner for r in resources} == {"user", "none"}
    assert {r.parent.on_delete for r in resources if r.parent} == {"cascade", "restrict"}
    assert {r.timestamps for r in resources} == {True, False}
    assert {r.soft_delete for r in resources} == {True, False}
    assert {e.method for r in resources for e in r.endpoints} == {"GET", "POST", "PATCH", "DELETE"}
    # filters on boolean and integer fields, stats on a boolean: the inventory covers them
    inventory = contracts[1]
    warehouse = {f.name: f.type.kind for f in inventory.resources[0].fields}
    assert (warehouse["active"], warehouse["capacity"]) == ("boolean", "integer")
    specs = {e.operation.spec for e in inventory.resources[0].endpoints}
    assert "list(filter: active, city, capacity; sort: name, capacity, created_at)" in specs
    assert {"stats(active)", "bulk_update(active=false)"} <= specs


def test_spec_properties_are_what_the_contract_writes() -> None:
    for name in ("library.md", "inventory.md"):
        lines = (CONTRACTS / name).read_text(encoding="utf-8").split("\n")
        contract = load_contract(CONTRACTS / name, project=REPO)
        for res in contract.resources:
            for f in res.fields:
                assert _read_type(f.type.spec) == f.type
                assert f"| {f.type.spec} " in lines[f.line - 1]
            for e in res.endpoints:
                assert f"| {e.operation.spec} " in lines[e.line - 1]
                assert f"| {e.success} " in lines[e.line - 1]


# --- what the documentation shows ------------------------------------------------------------------


def doc_examples() -> list[tuple[int, str, str | None]]:
    """Every ```markdown block of docs/contract-format.md and the ```text block right after it."""
    text = (REPO / "docs" / "contract-format.md").read_text(encoding="utf-8")
    fences = [t for t in parse_markdown(text) if t.type == "fence"]
    out = []
    for i, tok in enumerate(fences):
        if tok.info.strip() != "markdown":
            continue
        nxt = fences[i + 1] if i + 1 < len(fences) else None
        expected = None
        if nxt is not None and nxt.info.strip() == "text" and tok.map and nxt.map:
            between = text.split("\n")[tok.map[1]:nxt.map[0]]
            if not any(line.strip() for line in between):
                expected = nxt.content
        out.append(((tok.map or [0])[0] + 1, tok.content, expected))
    return out


def test_documentation_has_clean_and_error_examples() -> None:
    examples = doc_examples()
    assert sum(e is None for _, _, e in examples) >= 2
    assert sum(e is not None for _, _, e in examples) >= 4


@pytest.mark.parametrize(("line", "block", "expected"), doc_examples(), ids=lambda v: str(v)[:12])
def test_documentation_example(line: int, block: str, expected: str | None) -> None:
    match = re.search(r"^feature: ([a-z0-9-]+)$", block, re.M)
    path = f"specs/api/{match.group(1) if match else 'example'}.md"
    contract, findings = parse_contract(block, path)
    if expected is None:
        assert findings == [], f"the example on line {line} must check clean"
        assert contract is not None
    else:
        assert format_findings(findings) == expected
        assert contract is None


# --- errors: each one, with its place and a hint ---------------------------------------------------


CASES: list[tuple[str, tuple[tuple[str, str], ...], str]] = [
    ("unknown type", (field_row("size", "strng"),), "unknown type 'strng'"),
    ("alias type", (field_row("size", "int"),), "unknown type 'int'"),
    ("type params", (field_row("size", "string(50)"),), "string takes no parameters"),
    ("decimal params", (field_row("size", "decimal"),), "decimal needs its precision and scale"),
    ("decimal range", (field_row("size", "decimal(2, 5)"),), "decimal(2, 5) is out of range"),
    ("list item", (field_row("size", "list[integer]"),), "list[integer] is not supported"),
    ("ref target", (field_row("size", "ref(Nope)"),), "ref(Nope) names no resource"),
    ("ref self required", (field_row("size", "ref(Task)", "yes"),), "required reference to its own"),
    ("duplicate field", (field_row("title"),), "field 'title' is defined twice"),
    ("not identifier", (field_row("due-date"),), "'due-date' is not a Python identifier"),
    ("not snake", (field_row("dueDate"),), "'dueDate' is not snake_case"),
    ("underscore", (field_row("_secret"),), "'_secret' starts with _"),
    ("keyword", (field_row("import"),), "'import' is a Python keyword"),
    ("soft keyword", (field_row("match"),), "'match' is a Python keyword"),
    ("builtin", (field_row("type"),), "'type' is a Python builtin"),
    ("id", (field_row("id", "integer"),), "'id' is a column the generated code adds"),
    ("user_id", (field_row("user_id"),), "'user_id' is a column the generated code adds"),
    ("created_at", (field_row("created_at", "datetime"),), "'created_at' is a column"),
    ("updated_at", (field_row("updated_at", "datetime"),), "'updated_at' is a column"),
    ("deleted_at", (field_row("deleted_at", "datetime"),), "'deleted_at' is a column"),
    ("parent id", (("| body  | text | yes      |         |             | Text        |\n",
                    "| body  | text | yes      |         |             | Text        |\n"
                    "| task_id | integer | no | | | x |\n"),), "'task_id' is the column holding the parent"),
    ("child list", (field_row("comments"),), "'comments' is the list of Comment children"),
    ("model_config", (field_row("model_config"),), "would shadow an attribute of SQLModel"),
    ("metadata", (field_row("metadata"),), "'metadata' would shadow"),
    ("model_ prefix", (field_row("model_name"),), "'model_name' would shadow"),
    ("enum empty", (field_row("kind", "enum()"),), "enum has no values"),
    ("enum not word", (field_row("kind", "enum(High Risk, low)"),),
     "enum value 'High Risk' is not a plain word"),
    ("enum digit", (field_row("kind", "enum(1st, 2nd)"),), "enum value '1st' is not a plain word"),
    ("enum keyword", (field_row("kind", "enum(if, else)"),), "enum value 'if' is a Python keyword"),
    ("enum twice", (field_row("kind", "enum(a, a)"),), "enum value 'a' is listed twice"),
    ("default type", (field_row("size", "integer", default="big"),), "'big' is not an integer"),
    ("default enum", (field_row("kind", "enum(a, b)", default="c"),), "default c of kind is not one of"),
    ("default required", (field_row("size", "integer", "yes", "1"),), "size is required and has a default"),
    ("default bool", (field_row("flag", "boolean", default="maybe"),), "'maybe' is not a boolean"),
    ("default date", (field_row("day", "date", default="2024-02-30"),), "is not a date"),
    ("default datetime naive", (field_row("at", "datetime", default="2024-01-01T10:00:00"),),
     "is not an ISO 8601 datetime with an offset"),
    ("default uuid", (field_row("ref_id", "uuid", default="nope"),), "is not a UUID"),
    ("default email", (field_row("mail", "email", default="nope"),), "is not an email address"),
    ("default url", (field_row("site", "url", default="ftp://x"),), "is not an http(s) URL"),
    ("default decimal", (field_row("cost", "decimal(4, 2)", default="123.4"),), "does not fit decimal(4, 2)"),
    ("default list", (field_row("tags", "list[string]", default="[1, 2]"),), "holds only strings"),
    ("default json", (field_row("data", "json", default="{}"),), "json field cannot be given a value"),
    ("default breaks", (field_row("size", "integer", default="-1", constraints="ge=0"),), "breaks ge=0"),
    ("default length", (field_row("code", default="abcdef", constraints="max_length=3"),),
     "breaks max_length=3"),
    ("default pattern", (field_row("code", default="abc", constraints='pattern="^[0-9]+$"'),),
     "breaks pattern=^[0-9]+$"),
    ("unknown constraint", (field_row("code", constraints="maxlength=3"),), "unknown constraint 'maxlength'"),
    ("malformed constraint", (field_row("code", constraints="max length=3"),), "does not read"),
    ("constraint no value", (field_row("code", constraints="max_length="),),
     "constraint max_length has no value"),
    ("constraint value type", (field_row("code", constraints="max_length=ten"),), "must be a whole number"),
    ("constraint misfit", (field_row("size", "integer", constraints="max_length=3"),),
     "constraint max_length does not apply to integer"),
    ("constraint on text", (field_row("blob", "text", constraints="unique"),),
     "unique does not apply to text"),
    ("flag with value", (field_row("code", constraints="index=yes"),), "constraint index takes no value"),
    ("integer float bound", (field_row("size", "integer", constraints="ge=0.5"),),
     "must be a whole number on"),
    ("bounds", (field_row("size", "integer", constraints="ge=5, le=1"),), "no number fits between 5 and 1"),
    ("ge and gt", (field_row("size", "integer", constraints="ge=5, gt=1"),), "both ge and gt are given"),
    ("lengths", (field_row("code", constraints="min_length=5, max_length=1"),), "min_length 5 is above"),
    ("email length", (field_row("mail", "email", constraints="max_length=400"),),
     "above the email limit 320"),
    ("constraint twice", (field_row("code", constraints="index, index"),), "constraint index is given twice"),
    ("pattern compile", (field_row("code", constraints='pattern="(abc"'),), "does not compile"),
    ("pattern lookahead", (field_row("code", constraints='pattern="^(?=a)"'),), "uses look-ahead"),
    ("pattern backref", (field_row("code", constraints=r'pattern="(a)\1"'),), "uses backreferences"),
    ("unterminated quote", (field_row("code", constraints='pattern="abc'),), "unterminated quote"),
    ("required word", (field_row("code", required="maybe"),), "Required 'maybe' is not yes or no"),
    ("path param", (op_row("GET", "/api/tasks/{slug}/x", "stats(status)", "200 Stats"),),
     "path parameter {slug} is not explained by Task"),
    ("path syntax", (op_row("GET", "/api/tasks/{bad-name}/x", "stats(status)", "200 Stats"),),
     "path parameter '{bad-name}' does not read"),
    ("path slash", (op_row("GET", "api/tasks/x", "stats(status)", "200 Stats"),), "does not start with /"),
    ("path empty", (op_row("GET", "/api/tasks//x", "stats(status)", "200 Stats"),), "has an empty segment"),
    ("path trailing", (op_row("GET", "/api/tasks/x/", "stats(status)", "200 Stats"),),
     "has an empty segment"),
    ("path literal", (op_row("GET", "/api/tasks/$x", "stats(status)", "200 Stats"),), "may hold only a-z"),
    ("item path", (op_row("GET", "/api/tasks/one", "get", "200 Task"),), "get acts on one Task"),
    ("collection path", (op_row("GET", "/api/tasks/{id}/stats", "stats(status)", "200 Stats"),),
     "stats does not act on one Task"),
    ("nested path", (("| GET    | /api/tasks/{task_id}/comments      | list ",
                      "| GET    | /api/comments      | list "),), "its paths carry {task_id}"),
    ("duplicate route", (op_row("GET", "/api/tasks/{task_id}", "stats(status)", "200 Stats"),),
     "GET /api/tasks/{task_id} is already defined"),
    ("filter field", (op_row("GET", "/api/tasks/all", "list(filter: nope)", "200 Page[Task]"),),
     "list names 'nope', which is not a field of Task"),
    ("filter type", (("filter: status;", "filter: notes;"),), "list cannot filter by notes (text)"),
    ("filter query", (field_row("page", "integer"), ("filter: status;", "filter: page;")),
     "filter 'page' clashes with the query parameter"),
    ("sort field", (("sort: title, points", "sort: title, nope"),), "list names 'nope'"),
    ("sort twice", (("sort: title, points", "sort: title, title"),), "sort: names title twice"),
    ("sort created_at without timestamps", (("- timestamps: yes", "- timestamps: no"),
                                            ("sort: title, points", "sort: created_at")),
     "list names 'created_at'"),
    ("search field", (("search(title, notes)", "search(title, nope)"),), "search names 'nope'"),
    ("search type", (("search(title, notes)", "search(points)"),), "search cannot search points (integer)"),
    ("search empty", (("search(title, notes)", "search()"),), "search names no field"),
    ("stats type", (("stats(status)", "stats(title)"),), "stats cannot count title (string)"),
    ("stats two", (("stats(status)", "stats(status, title)"),), "stats counts one field, not 2"),
    ("stats field", (("stats(status)", "stats(nope)"),), "stats names 'nope'"),
    ("bulk field", (("bulk_update(status=done)", "bulk_update(nope=1)"),), "bulk_update names 'nope'"),
    ("bulk value", (("bulk_update(status=done)", "bulk_update(status=gone)"),),
     "bulk_update value gone for status is not one of"),
    ("bulk value type", (("bulk_update(status=done)", "bulk_update(points=many)"),),
     "bulk_update value for points: 'many' is not an integer"),
    ("bulk syntax", (("bulk_update(status=done)", "bulk_update(status)"),),
     "bulk_update item 'status' does not read"),
    ("unknown operation", (("| create                                    |", "| make |"),),
     "unknown operation 'make'"),
    ("operation args", (("| create                                    |", "| create(title) |"),),
     "create takes no arguments"),
    ("list clause", (("list(filter: status; sort: title, points)", "list(where: status)"),),
     "list clause 'where: status' does not read"),
    ("method", (("| PATCH  | /api/tasks/{id}       |", "| PUT    | /api/tasks/{id}       |"),),
     "update is served by PATCH, not PUT"),
    ("method unknown", (("| PATCH  | /api/tasks/{id}       |", "| FETCH  | /api/tasks/{id}       |"),),
     "method 'FETCH' is not known"),
    ("success", (("| 201 Task       |", "| 200 Task       |"),), "create answers 201 Task, not 200 Task"),
    ("success syntax", (("| 201 Task       |", "| created |"),), "success 'created' does not read"),
    ("errors syntax", (("| 201 Task       | 401, 422 |", "| 201 Task       | 401, oops |"),),
     "error status 'oops' is not a 4xx or 5xx code"),
    ("errors twice", (("| 201 Task       | 401, 422 |", "| 201 Task       | 401, 401 |"),),
     "error status 401 is listed twice"),
    ("second create", (op_row("POST", "/api/tasks/again", "create", "201 Task"),),
     "Task has a second create"),
    ("same stats", (op_row("GET", "/api/tasks/stats2", "stats(status)", "200 Stats"),),
     "stats(status) is already served"),
    ("missing column", (("| Default | Constraints    |", "| Default | Constraint     |"),),
     "lacks column(s) Constraints"),
    ("unknown column", (("| Field  | Type                  | Required | Default | Constraints    |",
                         "| Field  | Kind                  | Required | Default | Constraints    |"),),
     "unknown column 'Kind'"),
    ("row cells", (("| notes  | text                  | no       |         |                | Notes       |",
                    "| notes  | text                  | no       |"),),
     "this row has 3 cell(s), the header has 6"),
    ("endpoint column", (("| Method | Path                  | Operation ",
                          "| Verb   | Path                  | Operation "),),
     "lacks column(s) Method"),
    ("no field table", (("| body  | text | yes      |         |             | Text        |\n", ""),
                        ("| Field | Type | Required | Default | Constraints | Description |\n"
                         "|-------|------|----------|---------|-------------|-------------|\n", "")),
     "Comment has no field table"),
    ("id type", (("- id: int", "- id: long"),), "id type 'long' is not int or uuid"),
    ("owner", (("- owner: user", "- owner: me"),), "owner 'me' is not user or none"),
    ("owner without auth", (("auth: jwt", "auth: none"),),
     "Task is owner: user but the contract has auth: none"),
    ("parent missing", (("- parent: Task (on delete: cascade)", "- parent: Project"),),
     "parent 'Project' is not a resource"),
    ("parent self", (("- parent: Task (on delete: cascade)", "- parent: Comment"),),
     "Comment is its own parent"),
    ("parent cycle", (("- owner: user\n", "- owner: user\n- parent: Comment\n"),), "parents form a cycle"),
    ("on delete", (("(on delete: cascade)", "(on delete: nullify)"),), "on delete 'nullify' is not cascade"),
    ("parent syntax", (("- parent: Task (on delete: cascade)", "- parent: Task on delete"),),
     "does not read"),
    ("resource name", (("## Resource: Comment", "## Resource: comment_item"),), "is not PascalCase"),
    ("resource reserved", (("## Resource: Comment", "## Resource: Page"),), "is used by the generated code"),
    ("resource suffix", (("## Resource: Comment", "## Resource: TaskCreate"),),
     "clashes with the Create schema"),
    ("resource twice", (("## Resource: Comment", "## Resource: Task"),), "resource Task is defined twice"),
    ("resource heading", (("## Resource: Comment", "## Resource Comment"),), "is not a resource heading"),
    ("table twice", (("- table: comments", "- table: tasks"),), "table 'tasks' is used by Task too"),
    ("table unsafe", (("- table: comments", "- table: Comments!"),), "is not a safe SQL identifier"),
    ("table reserved", (("- table: comments", "- table: order"),), "'order' is a reserved word"),
    ("table keyword", (("- table: comments", "- table: lambda"),), "'lambda' is a reserved word"),
    ("resource keyword", (("## Resource: Comment", "## Resource: Class"),),
     "becomes 'class', a Python keyword"),
    ("table missing", (("- table: comments\n", ""),), "Comment has no `- table:` setting"),
    ("table users builtin", (("auth: jwt", "auth: builtin"), ("- table: comments", "- table: users")),
     "'users' is taken by auth: builtin"),
    ("auth path", (("auth: jwt", "auth: builtin"), ("/api/tasks/close", "/api/auth/close")),
     "is under /api/auth"),
    ("unknown setting", (("- timestamps: yes", "- timestamp: yes"),), "unknown setting 'timestamp'"),
    ("setting twice", (("- timestamps: yes", "- timestamps: yes\n- timestamps: no"),), "given twice"),
    ("setting value", (("- timestamps: yes", "- timestamps: often"),), "timestamps 'often' is not yes or no"),
    ("setting colon", (("- timestamps: yes", "- timestamps"),), "setting 'timestamps' has no value"),
    ("frontmatter key", (("auth: jwt", "auth: jwt\nauthor: me"),), "unknown frontmatter key 'author'"),
    ("frontmatter auth", (("auth: jwt", "auth: oauth"),), "auth 'oauth' is not known"),
    ("frontmatter version", (("auth: jwt", "auth: jwt\nversion: 1.0"),), "version must be a string"),
    ("version format", (("auth: jwt", "auth: jwt\nversion: v1"),), "version 'v1' is not MAJOR.MINOR.PATCH"),
    ("feature slug", (("feature: base", "feature: Base_API"),), "feature 'Base_API' is not a slug"),
    ("feature file", (("feature: base", "feature: other"),), "does not match the file name 'base.md'"),
    ("feature missing", (("feature: base\n", ""),), "the frontmatter has no feature"),
    ("title missing", (("title: Base\n", ""),), "the contract has no title"),
    ("no frontmatter", (("---\nfeature: base\ntitle: Base\nauth: jwt\n---\n", ""),), "has no frontmatter"),
    ("app path", (("| GET    | /api/tasks            | list", "| GET    | /health               | list"),),
     "/health is served by the generated app itself"),
    ("docs path", (("| GET    | /api/tasks            | list", "| GET    | /docs/                | list"),),
     "/docs/ is served by the generated app itself"),
    ("endpoints outside", (("## Resource: Task", "## Notes\n\n### Endpoints\n\n## Resource: Task"),),
     "### Endpoints is outside any resource"),
    ("second endpoints", (("- table: comments",
                           "- table: comments\n\n### Endpoints\n\n| a |\n|---|\n| b |\n\n"
                                                  "### Endpoints"),), "second ### Endpoints"),
]


@pytest.mark.parametrize(("name", "edits", "message"), CASES, ids=[c[0] for c in CASES])
def test_error(name: str, edits: tuple[tuple[str, str], ...], message: str) -> None:
    found = errors(edit(*edits))
    assert any(message in f.message for f in found), "\n".join(map(str, found))
    for f in found:
        assert f.path == "specs/api/base.md" and f.line >= 1 and f.col >= 1
        assert f.hint, f"no hint for {f.message}"
        assert f.code


def test_positions_point_at_the_cell() -> None:
    text = edit(field_row("size", "strng"))
    (finding,) = errors(text)
    line = text.split("\n")[finding.line - 1]
    assert line.startswith("| size |")
    assert line[finding.col - 1:].startswith("strng")
    assert finding.hint == ("did you mean 'string'? (one of: " + ", ".join(FIELD_KINDS) + ")")
    assert str(finding).startswith(f"specs/api/base.md:{finding.line}:{finding.col}: error: unknown type")


def test_every_problem_is_reported_at_once() -> None:
    text = edit(field_row("class", "strng"), field_row("type"), ("- id: int", "- id: long"),
                ("stats(status)", "stats(title)"), ("feature: base", "feature: Base!"))
    found = errors(text)
    messages = " | ".join(f.message for f in found)
    for part in ("unknown type 'strng'", "'type' is a Python builtin", "id type 'long'",
                 "stats cannot count title", "is not a slug"):
        assert part in messages
    assert found == sorted(found)


def test_findings_after_a_broken_field_do_not_cascade() -> None:
    text = edit(field_row("size", "strng"), ("search(title, notes)", "search(title, size)"))
    found = errors(text)
    assert [f.message for f in found] == ["unknown type 'strng'"]


def test_warning_for_resource_without_endpoints_keeps_the_contract() -> None:
    text = edit(("### Endpoints\n\n| Method | Path                               |",
                 "| Method | Path                               |"))
    contract, findings = parse(text)
    assert contract is None  # the comment table became a second field table
    text = WITHOUT_COMMENT_ENDPOINTS
    contract, findings = parse(text)
    assert [(f.severity, f.message) for f in findings] == [("warning", "Comment has no endpoints")]
    assert contract is not None


def test_feature_may_match_the_endpoints_file_name() -> None:
    assert parse(BASE, "specs/api/base-endpoints.md")[1] == []
    assert errors(BASE, "specs/api/base-api.md")[0].message.startswith("feature 'base' does not match")


def test_owner_defaults_to_none_without_auth() -> None:
    text = edit(("auth: jwt", "auth: none"), ("- owner: user\n", ""))
    contract, findings = parse(text)
    assert findings == [] and contract is not None
    assert {r.owner for r in contract.resources} == {"none"}


def test_values_of_every_type() -> None:
    rows = [
        field_row("a_int", "integer", default="-7"),
        field_row("a_num", "number", default="2"),
        field_row("a_dec", "decimal(6, 2)", default="1234.50"),
        field_row("a_bool", "boolean", default="yes"),
        field_row("a_date", "date", default="2024-02-29"),
        field_row("a_dt", "datetime", default="2024-01-31T09:00:00+02:00"),
        field_row("a_uuid", "uuid", default="6F1C1B8E-8A52-4C55-9B1A-2D7B3C4E5F60"),
        field_row("a_mail", "email", default="a@example.com"),
        field_row("a_url", "url", default="https://example.com/x?y=1"),
        field_row("a_list", "list[string]", default='["x", "y, z"]'),
        field_row("a_str", "`string`", default='"  padded, "'),
        field_row("a_empty", "string", default='""'),
    ]
    contract, findings = parse(edit(*rows))
    assert findings == [] and contract is not None
    task = contract.resources[0]
    got = {f.name: f.default for f in task.fields if f.name.startswith("a_")}
    assert got == {
        "a_int": -7, "a_num": 2.0, "a_dec": "1234.50", "a_bool": True, "a_date": "2024-02-29",
        "a_dt": "2024-01-31T09:00:00+02:00", "a_uuid": "6f1c1b8e-8a52-4c55-9b1a-2d7b3c4e5f60",
        "a_mail": "a@example.com", "a_url": "https://example.com/x?y=1", "a_list": ("x", "y, z"),
        "a_str": "  padded, ", "a_empty": "",
    }
    assert all(f.has_default for f in task.fields if f.name.startswith("a_"))


def test_constraint_values_and_quoting() -> None:
    row = field_row("code", constraints=r'pattern="^[a-z]{1,3}(x\|y)$", min_length=1, max_length=9, unique')
    contract, findings = parse(edit(row))
    assert findings == [] and contract is not None
    code = contract.resources[0].field("code")
    assert code is not None
    assert code.constraints == (Constraint("pattern", "^[a-z]{1,3}(x|y)$"), Constraint("min_length", 1),
                                Constraint("max_length", 9), Constraint("unique", True))


def test_patterns_agree_with_pydantics_engine() -> None:
    accepted = [r"^[a-z]+$", r"^\d{3}-\d{4}$", r"(?i)^abc", r"^(a|b)*c$", r"^\w+@\w+\.\w+$", r"^[\]\[]+$",
                r"(?P<year>\d{4})", r"^\(?=x$"]
    refused = [r"(?=a)", r"(?!a)", r"(?<=a)b", r"(?<!a)b", r"(a)\1", r"(?P<x>a)(?P=x)", r"(?>a)", r"a*+",
               r"abc\Z", r"(abc", r"[a-", r"\p{L}"]
    for pattern in accepted:
        assert _pattern_problem(pattern) is None, pattern
        pydantic_core.SchemaValidator(pydantic_core.core_schema.str_schema(pattern=pattern))
    for pattern in refused:
        assert _pattern_problem(pattern) is not None, pattern


# --- generated names: no two alike ------------------------------------------------------------------


def resource_section(name: str, table: str, field: str, typ: str, stats: bool = True) -> str:
    """A resource with a required label and ``field``, created, listed and, if ``stats``, counted by it."""
    path = f"/api/{table.replace('_', '-')}"
    rows = [f"| POST | {path} | create | 201 {name} | 401, 422 |",
            f"| GET | {path} | list(sort: label) | 200 Page[{name}] | 401, 422 |"]
    if stats:
        rows.append(f"| GET | {path}/stats | stats({field}) | 200 Stats | 401 |")
    return (f"## Resource: {name}\n\n- table: {table}\n\n"
            "| Field | Type | Required | Default | Constraints | Description |\n"
            "|-------|------|----------|---------|-------------|-------------|\n"
            "| label | string | yes | | | Label |\n"
            f"| {field} | {typ} | no | | | Kind |\n\n"
            "### Endpoints\n\n| Method | Path | Operation | Success | Errors |\n"
            "|--------|------|-----------|---------|--------|\n" + "\n".join(rows) + "\n\n")


def names_contract(*sections: str) -> str:
    return "---\nfeature: names\ntitle: Names\nauth: jwt\n---\n\n" + "".join(sections)


def row_of(text: str, finding: Finding) -> str:
    return text.split("\n")[finding.line - 1][finding.col - 1:]


@pytest.mark.parametrize(("first", "second", "name"), [
    (("Task", "tasks", "status_kind"), ("TaskStatus", "task_statuses", "kind"), "TaskStatusKind"),
    (("Order", "orders", "line_status"), ("OrderLine", "order_lines", "status"), "OrderLineStatus"),
    (("OrderLine", "order_lines", "status"), ("Order", "orders", "line_status"), "OrderLineStatus"),
])
def test_enum_types_of_one_name_are_refused_at_the_later_field(
        first: tuple[str, str, str], second: tuple[str, str, str], name: str) -> None:
    text = names_contract(resource_section(*first, "enum(a, b)"), resource_section(*second, "enum(c, d)"))
    # The stats and counts models clash too: one cause, one finding.
    (finding,) = errors(text, "specs/api/names.md")
    assert finding.code == "name-clash"
    assert row_of(text, finding).startswith(f"{second[2]} | enum(c, d)")
    line = text.split("\n").index(f"| {first[2]} | enum(a, b) | no | | | Kind |") + 1
    assert finding.message == (f"the enum type of {second[0]}.{second[2]} and the enum type of "
                               f"{first[0]}.{first[2]} (line {line}) are both named {name}")
    assert finding.hint == (f"generated names must differ: rename field {second[2]} of {second[0]} "
                            f"(e.g. to {second[2]}_value) or field {first[2]} of {first[0]}")


def test_stats_models_of_one_name_are_refused_without_enum_types() -> None:
    text = names_contract(resource_section("Task", "tasks", "status_kind", "boolean"),
                          resource_section("TaskStatus", "task_statuses", "kind", "boolean"))
    (finding,) = errors(text, "specs/api/names.md")
    assert row_of(text, finding).startswith("kind | boolean")
    assert finding.message.startswith("the stats model of TaskStatus.kind and the stats model of "
                                      "Task.status_kind (line 14) are both named TaskStatusKindStats")


def before_comment(section: str) -> tuple[str, str]:
    """An edit that adds a section before Comment's."""
    return "## Resource: Comment", section + "## Resource: Comment"


@pytest.mark.parametrize(("edits", "start", "message"), [
    ((field_row("public", "enum(a, b)"),), "public |",
     "the enum type of Task.public and the Public schema of Task (line 7) are both named TaskPublic"),
    ((field_row("code", "string", constraints="pattern=^[a-z]+$"),
      before_comment(resource_section("TaskCode", "task_codes", "kind", "boolean", stats=False))),
     "TaskCode",
     "resource TaskCode and the pattern type of Task.code (line 20) are both named TaskCode"),
    ((before_comment(resource_section("Safe", "safes", "text", "enum(a, b)", stats=False)),), "text |",
     "the enum type of Safe.text and a class the generated code imports or defines are both named SafeText"),
], ids=["suffix", "resource-heading", "reserved"])
def test_a_generated_name_may_not_be_another_one(edits: tuple[tuple[str, str], ...], start: str,
                                                 message: str) -> None:
    text = edit(*edits)
    (finding,) = errors(text)
    assert finding.code == "name-clash"
    assert row_of(text, finding).startswith(start)
    assert finding.message == message


def test_names_that_come_close_but_differ_check_clean() -> None:
    text = names_contract(
        resource_section("Task", "tasks", "status_kind", "enum(a, b)"),
        resource_section("TaskState", "task_states", "kind", "enum(c, d)"),  # TaskStateKind
        resource_section("TaskStat", "task_stats", "us_kind", "enum(e, f)"),  # TaskStatUsKind: case differs
        # A boolean has no type alias, only OrderLineStatusStats and OrderLineStatusCounts.
        resource_section("Order", "orders", "line_status", "boolean"),
        resource_section("OrderLine", "order_lines", "state", "enum(g, h)", stats=False))
    contract, findings = parse(text, "specs/api/names.md")
    assert findings == []
    assert contract is not None


# --- actions and schemas ---------------------------------------------------------------------------


def parse_actions(text: str = ACTIONS) -> tuple[Contract | None, list[Finding]]:
    return parse(text, "specs/api/actions.md")


def test_actions_parse() -> None:
    contract, findings = parse_actions()
    assert findings == [] and contract is not None
    lines = ACTIONS.split("\n")
    ops = {e.operation.name: e for _, e in contract.actions()}
    assert list(ops) == ["archive", "snooze", "overdue", "report", "reopen_all", "clear_due", "pin_notes",
                         "star"]
    assert ops["archive"].operation == Operation("action", name="archive")
    assert ops["snooze"].operation == Operation("action", name="snooze", body="Snooze")
    assert ops["snooze"].operation.spec == "action(snooze; body: Snooze)"
    assert ops["archive"].operation.spec == "action(archive)"
    for _, e in contract.actions():
        assert f"| {e.operation.spec} |" in lines[e.line - 1]
        assert f"| {e.success} |" in lines[e.line - 1]
    assert [(e.status, e.body) for e in ops.values()] == [
        (200, "Task"), (200, "Task"), (200, "Page[Task]"), (200, "Report"), (200, "list[Task]"), (204, None),
        (200, "list[Note]"), (201, "Note")]
    assert contract.actions()[-1][0].name == "Note"
    # A backticked cell, spaces anywhere and a capital Body: read the same.
    loose = edit(("action(snooze; body: Snooze)", "`action( snooze ;Body:Snooze )`"), text=ACTIONS)
    again, findings = parse_actions(loose)
    assert findings == [] and again is not None
    assert again.resources[0].endpoints[3].operation == ops["snooze"].operation


def test_member_actions_have_an_id_collection_actions_do_not() -> None:
    contract, _ = parse_actions()
    assert contract is not None
    member = {e.operation.name: e.member for _, e in contract.actions()}
    assert member == {"archive": True, "snooze": True, "overdue": False, "report": False,
                      "reopen_all": False, "clear_due": True, "pin_notes": False, "star": True}
    # The parent's id does not make an endpoint a member one.
    pin = contract.resources[1].endpoints[1]
    assert pin.path_params == ("task_id",) and not pin.member


def test_schemas_parse() -> None:
    contract, _ = parse_actions()
    assert contract is not None
    snooze, report = contract.schemas
    assert (snooze.name, snooze.line, snooze.description) == ("Snooze", 46, "How long to push a task back.")
    assert snooze.fields == (Field("days", FieldType("integer"), True,
                                   constraints=(Constraint("ge", 1), Constraint("le", 30)),
                                   description="Days to push the due date", line=52),)
    assert snooze.field("days") is snooze.fields[0] and snooze.field("hours") is None
    assert (report.name, report.line, report.description) == ("Report", 54, "")
    assert [(f.name, f.line) for f in report.fields] == [("open", 58), ("overdue", 59)]
    assert contract.schema("Report") is report
    assert contract.schema("Task") is None and contract.resource("Snooze") is None


def test_a_contract_without_schemas_has_none() -> None:
    contract, _ = parse(BASE)
    assert contract is not None and contract.schemas == () and contract.actions() == ()


SCHEMA_TABLE = ("| Field | Type | Required | Default | Constraints | Description |\n"
                "|-------|------|----------|---------|-------------|-------------|\n"
                "| open | integer | yes | | | Open tasks |\n"
                "| overdue | integer | yes | | | Open tasks past due |\n")
OPEN_ROW = "| open | integer | yes | | | Open tasks |"

#: (id, edits of ACTIONS, the finding's first line after the path, a piece of its hint)
ACTION_CASES: list[tuple[str, tuple[tuple[str, str], ...], str, str]] = [
    ("body unknown", (("body: Snooze", "body: Snoze"),),
     "23:35: error: the body of snooze names no `## Schema: Snoze` [action]", "did you mean 'Snooze'?"),
    ("body names a resource", (("body: Snooze", "body: Task"),),
     "23:35: error: the body of snooze names the resource Task, not a schema [action]",
     "declare `## Schema: TaskInput`"),
    ("GET with a body", (("action(report)", "action(report; body: Snooze)"),),
     "25:29: error: report is a GET with a body; GET requests carry none [action]", "serve it with POST"),
    ("name twice", (("action(reopen_all)", "action(archive)"),),
     "26:34: error: two actions are named archive [duplicate]", "the first is on line 22"),
    ("name twice across resources", (("action(pin_notes)", "action(archive)"),),
     "43:43: error: two actions are named archive [duplicate]", "the first is on line 22"),
    ("path ends with {id}", (("/api/tasks/{id}/due", "/api/tasks/due/{id}"),),
     "27:12: error: an action's path ends with a word naming it, not a parameter [path]",
     "write e.g. /api/tasks/{id}/due"),
    ("{id} not before the last segment", (("/api/tasks/{id}/archive", "/api/tasks/{id}/x/archive"),),
     "22:10: error: {id} in an action's path comes right before its last segment [path]",
     "write e.g. /api/tasks/{id}/archive for one Task"),
    ("name capitalised", (("action(archive)", "action(Archive)"),),
     "22:36: error: action name 'Archive' is not snake_case [action]", "in snake_case"),
    ("name camelCase", (("action(archive)", "action(archiveTask)"),),
     "22:36: error: action name 'archiveTask' is not snake_case [action]", "in snake_case"),
    ("name not identifier", (("action(archive)", "action(arch-ive)"),),
     "22:36: error: action name 'arch-ive' is not a Python identifier [action]", "in snake_case"),
    ("name underscore", (("action(archive)", "action(_archive)"),),
     "22:36: error: action name '_archive' starts with _ [action]", "in snake_case"),
    ("name keyword", (("action(archive)", "action(import)"),),
     "22:36: error: action name 'import' is a Python keyword [action]", "in snake_case"),
    ("name soft keyword", (("action(archive)", "action(match)"),),
     "22:36: error: action name 'match' is a Python keyword [action]", "in snake_case"),
    ("name builtin", (("action(archive)", "action(filter)"),),
     "22:36: error: action name 'filter' is a Python builtin [action]", "filter_items"),
    ("no name", (("action(archive)", "action()"),),
     "22:36: error: action has no name [operation]", "action(archive)"),
    ("clause", (("action(snooze; body: Snooze)", "action(snooze; input: Snooze)"),),
     "23:50: error: action clause 'input: Snooze' does not read [operation]", "action(name; body: Schema)"),
    ("two bodies", (("action(snooze; body: Snooze)", "action(snooze; body: Snooze; body: Snooze)"),),
     "23:64: error: action clause 'body: Snooze' does not read [operation]", "with one body"),
    ("201 Page", (("| 200 Page[Task] |", "| 201 Page[Task] |"),),
     "24:48: error: Page[...] answers 200, not 201 [success]", "write 200 Page[Task]"),
    ("201 list", (("| 200 list[Task] |", "| 201 list[Task] |"),),
     "26:55: error: list[...] answers 200, not 201 [success]", "write 200 list[Task]"),
    ("204 with a body", (("| 204 | 404 |", "| 204 Task | 404 |"),),
     "27:54: error: 204 answers no body [success]", "write 204 alone"),
    ("200 without a body", (("| 204 | 404 |", "| 200 | 404 |"),),
     "27:54: error: 200 needs the body it answers [success]", "write 200 Name, or 204"),
    ("202", (("| 200 Task | 404, 409 |", "| 202 Task | 404, 409 |"),),
     "22:54: error: an action answers 200, 201 or 204, not 202 [success]", "200 Page[Name], 200 list[Name]"),
    ("202 without a body", (("| 204 | 404 |", "| 202 | 404 |"),),
     "27:54: error: an action answers 200, 201 or 204, not 202 [success]", "or 204"),
    ("success names nothing", (("| 200 Report |", "| 200 Repot |"),),
     "25:46: error: Repot is neither a resource nor a schema of this contract [success]",
     "did you mean 'Report'?"),
    ("schema named like a resource", (("## Schema: Report", "## Schema: Note"),
                                      ("| 200 Report |", "| 200 Note |")),
     "54:12: error: schema Note is named like a resource [schema]", "NoteSummary"),
    ("schema named like a generated one", (("## Schema: Report", "## Schema: TaskCreate"),
                                           ("| 200 Report |", "| 200 TaskCreate |")),
     "54:12: error: schema TaskCreate clashes with a schema generated for a resource [schema]",
     "Base, Create, Update, Public, Read, Page or Sort"),
    ("schema named Page", (("## Schema: Report", "## Schema: Page"), ("| 200 Report |", "| 200 Page |")),
     "54:12: error: schema name 'Page' is used by the generated code itself [schema]", "PageBody"),
    ("schema named User", (("## Schema: Report", "## Schema: User"), ("| 200 Report |", "| 200 User |")),
     "54:12: error: schema name 'User' is used by the generated code itself [schema]", "UserBody"),
    ("schema not PascalCase", (("## Schema: Report", "## Schema: report"),
                               ("| 200 Report |", "| 200 report |")),
     "54:12: error: schema name 'report' is not PascalCase [schema]", "starting with a capital"),
    ("schema twice", (("## Schema: Report", "## Schema: Snooze"),),
     "54:12: error: schema Snooze is defined twice [duplicate]", "the first is on line 46"),
    ("schema settings", (("How long to push a task back.\n", "- table: snoozes\n"),),
     "48:1: error: schema Snooze has settings [schema]", "remove the list"),
    ("schema endpoints", ((SCHEMA_TABLE, SCHEMA_TABLE + "\n### Endpoints\n"),),
     "61:1: error: schema Report has ### Endpoints [schema]", "put endpoints under a `## Resource: Name`"),
    ("schema without a table", ((SCHEMA_TABLE, "Just prose.\n"),),
     "54:1: error: schema Report has no field table [structure]", "add a table with columns Field | Type"),
    ("schema second table", ((SCHEMA_TABLE, SCHEMA_TABLE + "\n| a | b |\n|---|---|\n| 1 | 2 |\n"),),
     "61:1: error: schema Report has a second table [schema]", "one field table"),
    ("schema field type", ((OPEN_ROW, "| open | integr | yes | | | Open tasks |"),),
     "58:10: error: unknown type 'integr' [type]", "did you mean 'integer'?"),
    ("schema field name", ((OPEN_ROW, "| Open | integer | yes | | | Open tasks |"),),
     "58:3: error: field name 'Open' is not snake_case [field-name]", "use snake_case"),
    ("ref in a schema", ((OPEN_ROW, "| open | ref(Task) | yes | | | Open tasks |"),),
     "58:10: error: open is a ref; a schema is not stored [schema]", "take the id as integer or uuid"),
    ("unique in a schema", ((OPEN_ROW, "| open | integer | yes | | unique | Open tasks |"),),
     "58:28: error: unique applies to stored fields; a schema is not stored [schema]", "drop unique"),
    ("index in a schema", ((OPEN_ROW, "| open | integer | yes | | index | Open tasks |"),),
     "58:28: error: index applies to stored fields; a schema is not stored [schema]", "drop index"),
    ("ref to a schema", (("| due_on | date | no | | | When |",
                          "| due_on | date | no | | | When |\n| snooze | ref(Snooze) | no | | | x |"),),
     "15:12: error: ref(Snooze) names a schema; a ref points to a stored resource [type]",
     "refer to a `## Resource: ...`"),
    ("schemas heading", (("## Schema: Report", "## Schemas: Report"),),
     "54:1: error: heading 'Schemas: Report' is not a schema heading [structure]", "`## Schema: Snooze`"),
    ("schema heading without colon", (("## Schema: Report", "## Schema Report"),),
     "54:1: error: heading 'Schema Report' is not a schema heading [structure]", "`## Schema: Name`"),
]


@pytest.mark.parametrize(("name", "edits", "expected", "hint"), ACTION_CASES,
                         ids=[c[0] for c in ACTION_CASES])
def test_action_and_schema_error(name: str, edits: tuple[tuple[str, str], ...], expected: str,
                                 hint: str) -> None:
    contract, findings = parse_actions(edit(*edits, text=ACTIONS))
    assert contract is None
    found = {str(f).split("\n")[0]: f for f in findings}
    key = f"specs/api/actions.md:{expected}"
    assert key in found, "\n".join(found)
    assert hint in found[key].hint, found[key].hint
    for f in findings:
        assert f.hint, f"no hint for {f.message}"


def test_an_unused_schema_is_a_warning() -> None:
    contract, findings = parse_actions(edit(("| 200 Report |", "| 200 Task |"), text=ACTIONS))
    assert contract is not None
    assert [str(f) for f in findings] == [
        "specs/api/actions.md:54:12: warning: schema Report is the body of no action [schema]\n"
        "  hint: name it in an action's body: or Success cell, or remove it"]


def test_a_schema_answered_in_a_page_or_list_is_used() -> None:
    for success in ("200 Page[Report]", "200 list[Report]"):
        contract, findings = parse_actions(edit(("| 200 Report |", f"| {success} |"), text=ACTIONS))
        assert findings == [] and contract is not None


def test_actions_take_any_method() -> None:
    text = edit(("| POST | /api/tasks/{id}/archive |", "| PUT | /api/tasks/{id}/archive |"),
                ("| POST | /api/tasks/reopen-all |", "| PATCH | /api/tasks/reopen-all |"),
                ("| POST | /api/tasks/{id}/snooze |", "| DELETE | /api/tasks/{id}/snooze |"), text=ACTIONS)
    contract, findings = parse_actions(text)
    assert findings == [] and contract is not None


def test_check_contract_on_actions_built_in_python() -> None:
    note = Resource("Note", "notes", fields=(Field("body", FieldType("text"), True),), endpoints=(
        Endpoint("POST", "/api/notes/{id}/pin", Operation("action", name="pin", body="Pin"), 200, "Note"),
        Endpoint("GET", "/api/notes/{id}", Operation("action", name="list"), 200, "Note")))
    messages = [f.message for f in check_contract(Contract("x.md", "x", "X", resources=(note,)))]
    assert messages == ["action name 'list' is a Python builtin",
                        "an action's path ends with a word naming it, not a parameter",
                        "the body of pin names no `## Schema: Pin`"]


SNAKE = st.from_regex(r"[a-z][a-z0-9_]{0,24}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name) and not keyword.issoftkeyword(name) and name not in dir(builtins)
    and name not in {"archive", "snooze", "report", "reopen_all", "clear_due", "pin_notes", "star"})


@settings(max_examples=50, deadline=None)
@given(SNAKE, st.booleans())
def test_any_snake_name_is_an_action_and_its_spec_reads_back(name: str, body: bool) -> None:
    cell = f"action({name}; body: Snooze)" if body else f"action({name})"
    old = "| POST | /api/tasks/{id}/snooze | action(snooze; body: Snooze) |" if body else \
        "| GET | /api/tasks/overdue | action(overdue) |"
    row = old.split(" | action(")[0] + f" | {cell} |"
    text = edit((old, row), text=ACTIONS)
    contract, findings = parse_actions(text)
    assert findings == [] and contract is not None
    (ep,) = [e for _, e in contract.actions() if e.operation.name == name]
    assert ep.operation.spec == cell
    assert ep.operation.body == ("Snooze" if body else None)
    assert f"| {ep.operation.spec} |" in text.split("\n")[ep.line - 1]


# --- free text stays text; structure stays safe -----------------------------------------------------


NASTY = ['"""', "'''", "\\", "{{ 7*7 }}", "{% raw %}", "'); import os; os.system('id')", "${HOME}", "\\n"]


@pytest.mark.parametrize("text", NASTY)
def test_free_text_is_kept_literally(text: str) -> None:
    cell = text.replace("|", "\\|")
    yaml_title = json.dumps(f"Title {text}")
    source = edit(("title: Base", f"title: {yaml_title}"),
                  ("| Text        |", f"| {cell} |"),
                  ("## Resource: Task\n", f"## Resource: Task\n\nAbout {text} here.\n"))
    contract, findings = parse(source)
    assert findings == [] and contract is not None
    assert contract.title == f"Title {text}"
    assert contract.resources[1].fields[0].description == text
    assert contract.resources[0].description == f"About {text} here."


@pytest.mark.parametrize("default", ['"""', "x'y\"z", "{{ 7*7 }}", "'); import os; #", "a\\b"])
def test_string_defaults_reach_code_only_as_literals(default: str) -> None:
    contract, findings = parse(edit(field_row("label", default=default)))
    assert findings == [] and contract is not None
    label = contract.resources[0].field("label")
    assert label is not None
    assert ast.literal_eval(py_literal(label.default)) == label.default


def test_the_frontmatter_is_loaded_safely() -> None:
    text = edit(("title: Base", "title: !!python/object/apply:os.system ['echo hacked']"))
    found = errors(text)
    assert any("frontmatter" in f.code or "yaml" in f.code for f in found)


def assert_safe(contract: Contract) -> None:
    """What the renderer may trust: names are identifiers, values are literals that read back."""
    for res in contract.resources:
        py_identifier(res.name)
        py_identifier(res.snake)
        py_identifier(res.table)
        for f in res.fields:
            py_identifier(f.name)
            for value in f.type.enum_values:
                py_identifier(value)
            for value in (f.default, *(c.value for c in f.constraints)):
                assert ast.literal_eval(py_literal(value)) == value
        for e in res.endpoints:
            for name in e.path_params:
                py_identifier(name)
            for name, value in e.operation.assignments:
                py_identifier(name)
                assert ast.literal_eval(py_literal(value)) == value
            if e.operation.kind == "action":
                py_identifier(e.operation.name)
                assert e.operation.body is None or contract.schema(e.operation.body) is not None
    for schema in contract.schemas:
        py_identifier(schema.name)
        for f in schema.fields:
            py_identifier(f.name)
            for value in (f.default, *(c.value for c in f.constraints)):
                assert ast.literal_eval(py_literal(value)) == value


# --- the model as data --------------------------------------------------------------------------


def test_contract_to_dict_is_json_and_deterministic() -> None:
    contract, _ = parse(EXAMPLE, "specs/api/task-crud.md")
    assert contract is not None
    data = contract_to_dict(contract)
    dumped = json.dumps(data, sort_keys=True)
    again = parse(EXAMPLE, "specs/api/task-crud.md")[0]
    assert again is not None and json.dumps(contract_to_dict(again), sort_keys=True) == dumped
    task = data["resources"][0]
    assert task["fields"][2]["type"] == {"kind": "enum", "spec": "enum(pending, in_progress, completed)",
                                         "enum_values": ["pending", "in_progress", "completed"],
                                         "precision": None, "scale": None, "item": None, "ref": None}
    assert task["endpoints"][4]["operation"]["assignments"] == [["status", "completed"]]
    assert data["resources"][1]["parent"] == {"resource": "Task", "on_delete": "cascade", "field": "task_id"}
    assert data["schemas"] == []
    assert {(e["operation"]["name"], e["operation"]["body"]) for e in task["endpoints"]} == {("", None)}


def test_contract_to_dict_has_schemas_and_action_names() -> None:
    contract, _ = parse_actions()
    assert contract is not None
    data = json.loads(json.dumps(contract_to_dict(contract)))
    assert [s["name"] for s in data["schemas"]] == ["Snooze", "Report"]
    snooze = data["schemas"][0]
    assert (snooze["description"], snooze["line"]) == ("How long to push a task back.", 46)
    assert snooze["fields"] == [{
        "name": "days",
        "type": {"kind": "integer", "spec": "integer", "enum_values": [], "precision": None, "scale": None,
                 "item": None, "ref": None},
        "required": True, "nullable": False, "has_default": False, "default": None,
        "constraints": [{"name": "ge", "value": 1}, {"name": "le", "value": 30}],
        "description": "Days to push the due date", "line": 52}]
    ops = [e["operation"] for r in data["resources"] for e in r["endpoints"]]
    assert ops[3] == {"kind": "action", "spec": "action(snooze; body: Snooze)", "filters": [], "sorts": [],
                      "fields": [], "assignments": [], "name": "snooze", "body": "Snooze"}
    assert [(o["name"], o["body"]) for o in ops if o["kind"] == "action"] == [
        ("archive", None), ("snooze", "Snooze"), ("overdue", None), ("report", None), ("reopen_all", None),
        ("clear_due", None), ("pin_notes", None), ("star", None)]


@pytest.mark.parametrize("source", [EXAMPLE, BASE, ACTIONS, *(b for _, b, _ in doc_examples()),
                                    (CONTRACTS / "library.md").read_text(encoding="utf-8")])
def test_block_tokens_are_the_shared_parsers_tokens(source: str) -> None:
    def shape(tokens: list[Token]) -> list[tuple[object, ...]]:
        return [(t.type, t.tag, t.map, t.level, t.nesting, t.content, t.info, t.markup) for t in tokens]

    assert shape(parse_blocks(source)) == shape(parse_markdown(source))


def test_crlf_bom_and_bytes_read_the_same() -> None:
    plain = parse(BASE)
    crlf = parse(("\ufeff" + BASE.replace("\n", "\r\n")).encode("utf-8"))
    assert plain == crlf


def test_invalid_utf8_is_a_finding() -> None:
    found = errors(BASE.encode("utf-8").replace(b"Title", b"Ti\xfftle"))
    assert any(f.code == "encoding" for f in found)


def test_summary_names_everything() -> None:
    contract = load_contract(CONTRACTS / "library.md", project=REPO)
    text = contract_summary(contract)
    assert ("Book: table books, id uuid, owner none, parent Author (on delete: restrict), timestamps, "
            "soft delete") in text
    assert "price         decimal(8, 2)" in text
    assert "POST   /api/loans/return" in text


def test_summary_shows_actions_and_lists_schemas_after_resources() -> None:
    contract, _ = parse_actions()
    assert contract is not None
    text = contract_summary(contract)
    lines = text.split("\n")
    assert ("  POST   /api/tasks/{id}/snooze   action(snooze; body: Snooze) -> 200 Task  errors 404, 422"
            in lines)
    assert "  DELETE /api/tasks/{id}/due      action(clear_due) -> 204  errors 404" in lines
    assert "  POST   /api/tasks/{task_id}/notes/{id}/star  action(star) -> 201 Note  errors 404" in lines
    assert text.endswith("errors 404\n"
                         "\n"
                         "Schema Snooze:\n"
                         "  days  integer  required, ge=1, le=30\n"
                         "\n"
                         "Schema Report:\n"
                         "  open     integer  required\n"
                         "  overdue  integer  required\n")
    base, _ = parse(BASE)
    assert base is not None and "Schema" not in contract_summary(base)


def test_ordered_resources_put_parents_and_refs_first() -> None:
    contract = load_contract(CONTRACTS / "library.md", project=REPO)
    reordered = Contract(contract.path, contract.feature, contract.title, auth=contract.auth,
                         resources=tuple(reversed(contract.resources)))
    assert [r.name for r in reordered.ordered_resources()] == ["Author", "Book", "Loan"]


def test_check_contract_on_a_model_built_in_python() -> None:
    good = Contract("x.md", "x", "X", resources=(
        Resource("Note", "notes", fields=(Field("body", FieldType("text"), True),),
                 endpoints=(Endpoint("POST", "/api/notes", Operation("create"), 201, "Note"),)),))
    assert check_contract(good) == []
    bad = Contract("x.md", "x", "X", resources=(
        Resource("Note", "notes", id_type="long",  # type: ignore[arg-type]
                 fields=(Field("class", FieldType("text"), True),
                         Field("n", FieldType("integer"), False, True, "5")),
                 endpoints=(Endpoint("GET", "/api/notes", Operation("stats", fields=("body",)), 200,
                                     "Stats"),)),))
    messages = [f.message for f in check_contract(bad)]
    assert "id type 'long' is not int or uuid" in messages
    assert "field name 'class' is a Python keyword" in messages
    assert "default '5' of n is not an integer" in messages or "default 5 of n is not an integer" in messages
    assert "stats names 'body', which is not a field of Note" in messages


# --- finding and loading --------------------------------------------------------------------------


def write(project: Path, name: str, text: str) -> Path:
    path = project / "specs" / "api" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_find_contract(tmp_path: Path) -> None:
    with pytest.raises(SkillrunnerError) as missing:
        find_contract("base", project=tmp_path)
    assert "specs/api/base.md" in str(missing.value) and "specs/api/base-endpoints.md" in str(missing.value)
    assert "skillrunner contract new base" in missing.value.hint
    assert "skillrunner contract guide" in missing.value.hint and "docs/" not in missing.value.hint
    seed = write(tmp_path, "base-endpoints.md", BASE)
    assert find_contract("base", project=tmp_path) == seed
    plain = write(tmp_path, "base.md", BASE)
    with pytest.raises(SkillrunnerError, match="both"):
        find_contract("base", project=tmp_path)
    seed.unlink()
    assert find_contract("base", project=tmp_path) == plain
    with pytest.raises(UsageError):
        find_contract("../etc/passwd", project=tmp_path)


def test_load_contract(tmp_path: Path) -> None:
    path = write(tmp_path, "base.md", BASE)
    contract = load_contract(path, project=tmp_path)
    assert contract.path == "specs/api/base.md"
    write(tmp_path, "base.md", edit(field_row("type", "strng"), ("- id: int", "- id: long")))
    with pytest.raises(ContractError) as err:
        load_contract(path, project=tmp_path)
    assert len(err.value.findings) == 2
    assert "specs/api/base.md:" in str(err.value)


def test_check_contract_files(tmp_path: Path) -> None:
    write(tmp_path, "base.md", BASE)
    write(tmp_path, "broken.md", BASE)
    report = check_contract_files(project=tmp_path)
    assert report.files == ("specs/api/base.md", "specs/api/broken.md")
    assert report.errors == 1 and "does not match the file name" in report.findings[0].message
    with pytest.raises(SkillrunnerError, match="no contracts"):
        check_contract_files(project=tmp_path / "empty")


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "base.md", BASE)
    return tmp_path


def test_cli_check_clean(project: Path) -> None:
    result = CliRunner().invoke(main, ["contract", "check"])
    assert result.exit_code == 0, result.output
    assert "checked 1 contract(s): OK" in result.stderr


def test_cli_check_errors(project: Path) -> None:
    write(project, "base.md", edit(field_row("size", "strng")))
    result = CliRunner().invoke(main, ["contract", "check"])
    assert result.exit_code == 1
    assert re.search(r"^specs/api/base\.md:\d+:\d+: error: unknown type 'strng' \[type\]\n"
                     r"  hint: did you mean", result.stdout, re.M)
    assert "Traceback" not in result.output
    as_json = CliRunner().invoke(main, ["contract", "check", "--format", "json", "specs/api/base.md"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)[0]["message"] == "unknown type 'strng'"
    github = CliRunner().invoke(main, ["contract", "check", "--format", "github"])
    assert github.stdout.startswith("::error file=specs/api/base.md,line=")


def test_cli_check_strict_fails_on_warnings(project: Path) -> None:
    write(project, "base.md", WITHOUT_COMMENT_ENDPOINTS)
    assert CliRunner().invoke(main, ["contract", "check"]).exit_code == 0
    assert CliRunner().invoke(main, ["contract", "check", "--strict"]).exit_code == 1


def test_cli_check_without_contracts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["contract", "check"])
    assert result.exit_code == 1 and "no contracts to check" in result.stderr
    missing = CliRunner().invoke(main, ["contract", "check", "nope.md"])
    assert missing.exit_code == 2


def test_cli_show(project: Path) -> None:
    result = CliRunner().invoke(main, ["contract", "show", "base", "--json"])
    assert result.exit_code == 0, result.output
    contract = load_contract(project / "specs/api/base.md", project=project)
    assert json.loads(result.stdout) == contract_to_dict(contract)
    summary = CliRunner().invoke(main, ["contract", "show", "specs/api/base.md"])
    assert summary.exit_code == 0 and summary.stdout == contract_summary(contract)
    write(project, "base.md", edit(field_row("size", "strng")))
    broken = CliRunner().invoke(main, ["contract", "show", "base"])
    assert broken.exit_code == 1
    assert "unknown type 'strng'" in broken.stderr and "Traceback" not in broken.output
    unknown = CliRunner().invoke(main, ["contract", "show", "nope"])
    assert unknown.exit_code == 1
    assert "neither specs/api/nope.md nor specs/api/nope-endpoints.md" in unknown.stderr


def test_cli_help_teaches() -> None:
    result = CliRunner().invoke(main, ["contract", "check", "--help"])
    assert result.exit_code == 0 and "skillrunner contract check specs/api/task-crud.md" in result.output


# --- fuzzing: any input gives findings, never an exception --------------------------------------------


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCES = [BASE.split("\n"), ACTIONS.split("\n")]


def check_outcome(text: str | bytes) -> None:
    contract, findings = parse_contract(text, "specs/api/base.md")
    assert isinstance(findings, list) and all(isinstance(f, Finding) for f in findings)
    assert all(f.line >= 1 and f.col >= 1 for f in findings)
    if contract is None:
        assert any(f.severity == "error" for f in findings)
    else:
        assert_safe(contract)
        json.dumps(contract_to_dict(contract))


@FUZZ
@given(st.text(max_size=400))
def test_fuzz_random_text(text: str) -> None:
    check_outcome(text)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(raw: bytes) -> None:
    check_outcome(raw)


JUNK = st.sampled_from(["|", "||", "\\", "`", "(", ")", "[", "]", "{", "}", "=", ",", ";", ":", "\"", "'",
                        "-", "#", "## Resource: X", "## Schema: X", "action(a; body: X)",
                        "### Endpoints", "---", "\t", " ", "\x00", "\ud800",
                        "é", "*", "_", "<", ">", "{{", "%}", "\n", "| a | b |", "|---|"])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = list(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "swap", "dup", "junk", "char", "cell", "cells"]))
        if action == "drop":
            del lines[i]
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "junk":
            lines.insert(i, draw(st.lists(JUNK, max_size=5).map("".join)) + draw(st.text(max_size=10)))
        elif action == "char" and lines[i]:
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + draw(JUNK) + lines[i][k + 1:]
        elif lines[i].count("|") > 2:
            cells = lines[i].split("|")
            k = draw(st.integers(1, len(cells) - 2))
            if action == "cell":
                del cells[k]
            else:
                cells[k] = draw(st.lists(JUNK, max_size=4).map("".join)) or cells[k]
            lines[i] = "|".join(cells)
        if not lines:
            lines = [""]
    return "\n".join(lines)


@FUZZ
@given(mutated())
def test_fuzz_mutated_contracts(text: str) -> None:
    check_outcome(text)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([EXAMPLE, BASE, ACTIONS, (CONTRACTS / "library.md").read_text(encoding="utf-8")]),
       st.integers(0, 10_000), st.binary(min_size=1, max_size=8))
def test_fuzz_byte_splices(source: str, at: int, junk: bytes) -> None:
    raw = source.encode("utf-8")
    at %= len(raw)
    check_outcome(raw[:at] + junk + raw[at + len(junk):])


def test_unique_on_too_few_integers_is_a_warning_the_tests_need_as_many_rows() -> None:
    from skillrunner.contract import SAMPLES_PER_FIELD
    from skillrunner.render.samples import _SAMPLES

    assert SAMPLES_PER_FIELD == _SAMPLES
    text = """---
feature: seats
title: Seats
auth: jwt
---

## Resource: Seat

- table: seats

| Field | Type    | Required | Default | Constraints              | Description |
|-------|---------|----------|---------|--------------------------|-------------|
| row   | integer | yes      |         | gt=0, lt=12, unique      | Row number  |
| place | integer | yes      |         | ge=1, le=24, unique      | Seat number |

### Endpoints

| Method | Path       | Operation | Success  | Errors   |
|--------|------------|-----------|----------|----------|
| POST   | /api/seats | create    | 201 Seat | 401, 422 |
"""
    contract, findings = parse_contract(text, "specs/api/seats.md")
    assert contract is not None
    assert [(f.line, f.severity, f.message.split(",")[0]) for f in findings] == [
        (13, "warning", "unique row has only 11 possible values")]


# --- contract new: a start that checks clean ---------------------------------------------------------


@pytest.mark.parametrize("feature", ["bookings", "room-bookings", "task-crud", "users", "a", "categories",
                                     "x1-status", "boxes", "api"])
@pytest.mark.parametrize("auth", ["jwt", "builtin", "none"])
def test_a_new_contract_checks_clean_and_renders(feature: str, auth: str, tmp_path: Path) -> None:
    text = skeleton_text(feature, auth=auth)
    contract, findings = parse_contract(text, f"specs/api/{feature}.md")
    assert contract is not None and findings == []
    assert contract.feature == feature and contract.auth == auth
    assert "<!--" not in contract.description + "".join(r.description for r in contract.resources)
    assert {e.operation.kind for r in contract.resources for e in r.endpoints} == {
        "create", "list", "get", "update", "delete"}
    conv = resolve_skill("backend-builder", project=tmp_path).conventions
    assert render_backend(contract, conv)  # renders as it is


def test_contract_new_never_overwrites(project: Path) -> None:
    made = CliRunner().invoke(main, ["contract", "new", "room-bookings", "--title", "Room bookings",
                                     "--auth", "none"])
    assert made.exit_code == 0, made.output
    path = project / "specs" / "api" / "room-bookings.md"
    text = path.read_text(encoding="utf-8")
    assert "title: Room bookings" in text and "auth: none" in text and "## Resource: RoomBooking" in text
    path.write_text(text + "\nmy edits\n", encoding="utf-8")
    again = CliRunner().invoke(main, ["contract", "new", "room-bookings"])
    assert again.exit_code == 1 and "exists already" in again.stderr
    assert path.read_text(encoding="utf-8").endswith("my edits\n")
    bad = CliRunner().invoke(main, ["contract", "new", "Room Bookings"])
    assert bad.exit_code == 2 and "not a slug" in bad.stderr and "Traceback" not in bad.output


def test_contract_guide_and_docs_print_the_shipped_documents() -> None:
    guide = CliRunner().invoke(main, ["contract", "guide"])
    full = CliRunner().invoke(main, ["contract", "guide", "--full"])
    assert guide.exit_code == full.exit_code == 0
    assert guide.stdout == (REPO / "docs" / "contract-guide.md").read_text(encoding="utf-8")
    assert full.stdout == (REPO / "docs" / "contract-format.md").read_text(encoding="utf-8")
    listed = CliRunner().invoke(main, ["docs"])
    names = {line.split()[0] for line in listed.stdout.splitlines()}
    assert {"behaviour", "contract-guide", "conventions"} <= names
    missing = CliRunner().invoke(main, ["docs", "nope"])
    assert missing.exit_code == 2 and "one of:" in missing.stderr


def test_usage_errors_under_format_json_are_json(project: Path) -> None:
    for args in (["contract", "check", "--format", "json", "missing.md"],
                 ["contract", "check", "--format", "json", "--bogus"],
                 ["contract", "show", "nope", "--json"]):
        result = CliRunner().invoke(main, args)
        error = json.loads(result.stdout)["error"]
        usage = "--bogus" in args or "missing.md" in args
        assert result.exit_code == error["exit_code"] == (2 if usage else 1)
        assert error["message"] and "Traceback" not in result.output


def test_every_finding_of_the_documented_broken_examples_comes_out_as_json(tmp_path: Path) -> None:
    broken = [(line, block) for line, block, expected in doc_examples() if expected is not None]
    assert len(broken) >= 4
    for i, (_, example) in enumerate(broken):
        path = tmp_path / f"example{i}" / "specs" / "api"
        match = re.search(r"^feature: ([a-z0-9-]+)$", example, re.M)
        name = match.group(1) if match else "example"
        path.mkdir(parents=True)
        (path / f"{name}.md").write_text(example, encoding="utf-8")
        result = CliRunner().invoke(main, ["contract", "check", "--format", "json", str(path / f"{name}.md")])
        assert result.exit_code == 1
        rows = json.loads(result.stdout)
        _, findings = parse_contract(example, (path / f"{name}.md").as_posix())
        assert [(r["line"], r["column"], r["rule"], r["message"]) for r in rows] == [
            (f.line, f.col, f.code, f.message) for f in findings]
        assert all(set(r) == {"file", "line", "column", "severity", "rule", "message", "hint"} for r in rows)
