"""The renderer, fast: determinism, the golden tree, well-formed output, hostile text, overrides, writes."""

from __future__ import annotations

import ast
import configparser
import difflib
import json
import os
import random
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import Cli
from skillrunner.contract import Contract, parse_contract
from skillrunner.conventions import Conventions
from skillrunner.errors import ContractError, RenderError
from skillrunner.render import LINE_LENGTH, implement, render_backend, tidy_python
from skillrunner.resources import packaged_dir
from skillrunner.skills import resolve_skill

TESTS = Path(__file__).resolve().parent
EXAMPLE = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
#: Every contract the renderer is proved on: the example and each one under tests/contracts/.
SOURCES = {EXAMPLE.stem: EXAMPLE} | {p.stem: p for p in sorted((TESTS / "contracts").glob("*.md"))}
SKILLS = sorted(p.name for p in packaged_dir("skills").iterdir() if (p / "conventions.yaml").is_file())
GOLDEN = TESTS / "golden" / "task-crud"
_DIFF_LINES = 80  # per file, so one bad template does not bury the others


def _contract(source: Path) -> Contract:
    """``source`` read as ``specs/api/<feature>.md`` of a project, so output names it the same way."""
    contract, findings = parse_contract(source.read_text(encoding="utf-8"), f"specs/api/{source.stem}.md")
    assert contract is not None, "\n".join(map(str, findings))
    return contract


def _conventions(skill: str = "backend-builder") -> Conventions:
    return resolve_skill(skill).conventions


def _project(tmp_path: Path, source: Path = EXAMPLE, *, text: str | None = None) -> Path:
    """A project folder holding one contract at ``specs/api/<feature>.md``."""
    api = tmp_path / "specs" / "api"
    api.mkdir(parents=True, exist_ok=True)
    (api / source.name).write_text(source.read_text(encoding="utf-8") if text is None else text,
                                   encoding="utf-8")
    return tmp_path


def _tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (POSIX path -> bytes), caches aside."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _constants(files: dict[str, str]) -> set[str]:
    """Every string constant of every generated module (implicitly joined pieces count as one)."""
    found: set[str] = set()
    for path, text in files.items():
        if path.endswith(".py"):
            found |= {n.value for n in ast.walk(ast.parse(text, path))
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


# --- determinism -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_rendering_twice_gives_the_same_files_in_the_same_order(name: str) -> None:
    first = render_backend(_contract(SOURCES[name]), _conventions())
    second = render_backend(_contract(SOURCES[name]), _conventions())
    assert list(first) == sorted(first), "render_backend must return its files sorted by path"
    assert list(first) == list(second)
    assert first == second


def test_implement_in_two_places_writes_byte_identical_trees(tmp_path: Path) -> None:
    here = _project(tmp_path / "here")
    there = _project(tmp_path / "somewhere" / "else" / "entirely")
    implement(project=here, feature="task-crud")
    implement(project=there, feature="task-crud")
    left, right = _tree(here / "backend"), _tree(there / "backend")
    assert left, "implement wrote nothing"
    assert left == right


_DIGEST = """
import hashlib, json, sys
from pathlib import Path
from skillrunner.contract import parse_contract
from skillrunner.errors import SkillrunnerError
from skillrunner.render import render_backend
from skillrunner.skills import resolve_skill

def digest(source):
    contract, _ = parse_contract(source.read_text(encoding="utf-8"), f"specs/api/{source.stem}.md")
    try:
        files = render_backend(contract, resolve_skill("backend-builder").conventions)
    except SkillrunnerError as exc:  # a contract the renderer fails on is another test's failure
        return f"error: {exc}"
    return hashlib.sha256(json.dumps(files).encode()).hexdigest()

if __name__ == "__main__":
    print(json.dumps({source.stem: digest(source) for source in map(Path, sys.argv[1:])}))
"""


def test_output_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    seed = "4243" if os.environ.get("PYTHONHASHSEED") == "4242" else "4242"
    done = subprocess.run([sys.executable, "-c", _DIGEST, *map(str, SOURCES.values())], cwd=tmp_path,
                          env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    here: dict[str, Any] = {}
    exec(_DIGEST, here)  # the same code in this process, under this process's hash seed
    ours = {name: here["digest"](source) for name, source in SOURCES.items()}
    assert json.loads(done.stdout) == ours


# --- the golden tree ---------------------------------------------------------------------------------------


def _write_golden(folder: Path, files: dict[str, str]) -> None:
    for stale in set(_tree(folder)) - set(files) if folder.is_dir() else ():
        (folder / stale).unlink()
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    for empty in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(empty.iterdir()):
            empty.rmdir()


def _golden_problems(folder: Path, files: dict[str, str]) -> list[str]:
    golden = {rel: data.decode("utf-8") for rel, data in _tree(folder).items()} if folder.is_dir() else {}
    problems = [f"rendered but not in the golden tree: {rel}" for rel in sorted(set(files) - set(golden))]
    problems += [f"in the golden tree but no longer rendered: {rel}"
                 for rel in sorted(set(golden) - set(files))]
    for rel in sorted(set(files) & set(golden)):
        if files[rel] != golden[rel]:
            diff = list(difflib.unified_diff(golden[rel].splitlines(keepends=True),
                                             files[rel].splitlines(keepends=True),
                                             f"golden/{rel}", f"rendered/{rel}", n=2))
            shown = "".join(diff[:_DIFF_LINES]) + (f"... {len(diff) - _DIFF_LINES} more diff lines\n"
                                                   if len(diff) > _DIFF_LINES else "")
            problems.append(shown.rstrip("\n"))
    return problems


def test_task_crud_with_backend_builder_matches_the_golden_tree(update_golden: bool) -> None:
    files = render_backend(_contract(EXAMPLE), _conventions("backend-builder"))
    if update_golden:
        _write_golden(GOLDEN, files)
    problems = _golden_problems(GOLDEN, files)
    assert not problems, ("the render of task-crud differs from tests/golden/task-crud/ (if the change is "
                          "meant, refresh with: pytest tests/test_render.py --update-golden)\n\n"
                          + "\n\n".join(problems))


def test_golden_problems_are_reported_file_by_file(tmp_path: Path) -> None:
    _write_golden(tmp_path, {"a.py": "x = 1\n", "b/c.py": "", "gone.py": "old\n"})
    problems = _golden_problems(tmp_path, {"a.py": "x = 2\n", "b/c.py": "", "new.py": "y\n"})
    assert problems[0] == "rendered but not in the golden tree: new.py"
    assert problems[1] == "in the golden tree but no longer rendered: gone.py"
    assert "--- golden/a.py" in problems[2] and "-x = 1" in problems[2] and "+x = 2" in problems[2]
    assert len(problems) == 3
    _write_golden(tmp_path, {"a.py": "x = 2\n"})
    assert _tree(tmp_path) == {"a.py": b"x = 2\n"}, "refreshing must remove stale files and empty folders"


# --- every generated file is well formed -------------------------------------------------------------------


@pytest.mark.parametrize("skill", SKILLS)
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_generated_file_is_well_formed(name: str, skill: str) -> None:
    files = render_backend(_contract(SOURCES[name]), _conventions(skill))
    assert any(p.endswith(".py") for p in files)
    for path, text in files.items():
        parts = path.split("/")
        assert not path.startswith("/") and "\\" not in path and ".." not in parts and "" not in parts, path
        assert text == "" or text.endswith("\n"), f"{path} does not end with a newline"
        assert "\r" not in text and not any(line != line.rstrip() for line in text.splitlines()), \
            f"{path} has trailing whitespace or CR"
        if path.endswith(".py"):
            compile(text, path, "exec", dont_inherit=True)
        elif path.endswith(".toml"):
            tomllib.loads(text)
        elif path.endswith(".ini"):
            parser = configparser.ConfigParser()
            parser.read_string(text, path)
            if parser.has_section("alembic"):  # alembic interpolates %(here)s in its own section
                for key in parser["alembic"]:
                    parser.get("alembic", key, vars={"here": "/x"})


# --- hostile free text --------------------------------------------------------------------------------------

HOSTILE = '""" \'\'\' \\ {{ 7*7 }} {% raw %} {% endraw %} \'); import os; os.system("x") # %(here)s ${x}'
_HOSTILE_CONTRACT = r"""---
feature: hostile
title: <<TITLE>>
auth: jwt
---

Prose <<HOSTILE>>
and a second line with \n and \\ in it, and <script>alert(1)</script>.

## Resource: Note

<<HOSTILE>>

- table: notes

| Field | Type   | Required | Default                | Constraints                      | Description      |
|-------|--------|----------|------------------------|----------------------------------|------------------|
| body  | text   | yes      |                        | max_length=500                   | Body <<HOSTILE>> |
| code  | string | no       | "{{ 7*7 }} C:\temp"    | pattern='^[^"]*$', max_length=40 | Code \| '''      |
| label | string | no       |                        | pattern="^\w+\\\d'?$"            | Label            |

### Endpoints

| Method | Path            | Operation                   | Success        | Errors   |
|--------|-----------------|-----------------------------|----------------|----------|
| POST   | /api/notes      | create                      | 201 Note       | 401, 422 |
| GET    | /api/notes      | list(filter: code; sort: label) | 200 Page[Note] | 401, 422 |
| GET    | /api/notes/find | search(body, code)          | 200 Page[Note] | 401, 422 |
| GET    | /api/notes/{id} | get                         | 200 Note       | 401, 404 |
"""


def hostile_contract_text() -> str:
    """The hostile contract (test_generated.py renders it too, to check the running app's OpenAPI)."""
    return (_HOSTILE_CONTRACT.replace("<<TITLE>>", json.dumps("Title " + HOSTILE))
            .replace("<<HOSTILE>>", HOSTILE))


@pytest.mark.parametrize("skill", SKILLS)
def test_hostile_free_text_lands_literally_and_compiles(tmp_path: Path, skill: str) -> None:
    contract, findings = parse_contract(hostile_contract_text(), "specs/api/hostile.md")
    assert contract is not None, "\n".join(map(str, findings))
    note = contract.resources[0]
    assert contract.title == "Title " + HOSTILE and HOSTILE in contract.description
    files = render_backend(contract, _conventions(skill))
    for path, text in files.items():
        if path.endswith(".py"):
            tree = ast.parse(text, path)  # a syntax error here is an injection
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Attribute) and n.func.attr == "system"]
            assert not calls, f"{path} calls os.system: contract text became code"
    constants = _constants(files)
    expected = {
        "the title": contract.title,
        "the description": contract.description,
        "Note.body's description": HOSTILE.join(["Body ", ""]),
        "Note.code's description": "Code | '''",
        "Note.code's default": "{{ 7*7 }} C:\\temp",
        "Note.code's pattern": '^[^"]*$',
        "Note.label's pattern": "^\\w+\\\\\\d'?$",
    }
    code = note.field("code")
    assert code is not None and code.default == expected["Note.code's default"]
    missing = {what: text for what, text in expected.items() if text not in constants}
    assert not missing, f"not found as a literal in the generated code: {missing}"
    readme = next(text for path, text in files.items() if path.endswith("README.md"))
    assert contract.title in readme, "the README must show the title as written, not evaluated"


_LONG_PATTERN = (r"^(?:[A-Z]{2,4}-[0-9]{3,6}|[a-z]{3,12}_[0-9]{1,4}"
                 r"|(?:alpha|beta|gamma|delta)-[0-9a-f]{8,16})\d?$")
_LONG_NAMES = """---
feature: long-names
title: Long names
auth: jwt
---

## Resource: Specimen

- table: specimens

| Field             | Type | Required | Default | Constraints | Description |
|-------------------|------|----------|---------|-------------|-------------|
| classification_code | string | yes | | pattern="<<PATTERN>>" | A code |
| preservation_state  | enum(<<STATES>>) | no | state_00 | index | Its state |

### Endpoints

| Method | Path                 | Operation                          | Success            | Errors   |
|--------|----------------------|------------------------------------|--------------------|----------|
| POST   | /api/specimens       | create                             | 201 Specimen       | 401, 422 |
| GET    | /api/specimens       | list(filter: preservation_state)   | 200 Page[Specimen] | 401, 422 |
| GET    | /api/specimens/stats | stats(preservation_state)          | 200 Stats          | 401      |
"""


def _assert_parses_within_the_line_length(files: dict[str, str], label: str = "") -> None:
    """Every generated Python file parses, and none has a line longer than ruff allows."""
    for path, source in files.items():
        if path.endswith(".py"):
            ast.parse(source, f"{label}{path}")
            long = [n for n, line in enumerate(source.splitlines(), 1) if len(line) > LINE_LENGTH]
            assert not long, f"{label}{path}: lines {long} are longer than {LINE_LENGTH}"


@pytest.mark.parametrize("skill", SKILLS)
def test_long_patterns_and_enums_wrap_within_the_line_length(skill: str) -> None:
    states = ", ".join(f"state_{n:02}" for n in range(24))
    pattern = _LONG_PATTERN.replace("|", "\\|")  # a | inside a table cell is written \|
    text = _LONG_NAMES.replace("<<PATTERN>>", pattern).replace("<<STATES>>", states)
    contract, findings = parse_contract(text, "specs/api/long-names.md")
    assert contract is not None, "\n".join(map(str, findings))
    files = render_backend(contract, _conventions(skill))
    _assert_parses_within_the_line_length(files)
    assert _LONG_PATTERN in _constants(files), "the pattern must survive the wrapping intact"


_DEEP = """---
feature: deep
title: Deep
auth: builtin
---

## Resource: WarehouseSample

- table: warehouse_samples
- soft delete: yes

| Field | Type | Required | Default | Constraints | Description |
|---|---|---|---|---|---|
| label | string | no |  | max_length=40 | A label |

### Endpoints

| Method | Path | Operation | Success | Errors |
|---|---|---|---|---|
| POST | /api/warehouse-samples | create | 201 WarehouseSample | 401, 422 |

## Resource: ShippingParcel

- table: shipping_parcels
- parent: WarehouseSample (on delete: restrict)
- soft delete: yes

| Field | Type | Required | Default | Constraints | Description |
|---|---|---|---|---|---|
| label | string | no |  | max_length=40 | A label |

### Endpoints

| Method | Path | Operation | Success | Errors |
|---|---|---|---|---|
| POST | /api/warehouse-samples/{warehouse_sample_id}/parcels | create | 201 ShippingParcel | 401, 404, 422 |

## Resource: CustomsTicket

- table: customs_tickets
- owner: none
- parent: ShippingParcel

| Field | Type | Required | Default | Constraints | Description |
|---|---|---|---|---|---|
| state | enum(open, shut) | no | open |  | Its state |

### Endpoints

| Method | Path | Operation | Success | Errors |
|---|---|---|---|---|
| POST | /api/parcels/{shipping_parcel_id}/tickets | create | 201 CustomsTicket | 401, 404, 422 |
| GET | /api/parcels/{shipping_parcel_id}/tickets | list(filter: state) | 200 Page[CustomsTicket] | - |
| GET | /api/parcels/{shipping_parcel_id}/tickets/stats | stats(state) | 200 Stats | 401, 404 |
| PATCH | /api/parcels/{shipping_parcel_id}/tickets/shut | bulk_update(state=shut) | 200 BulkResult | - |
| DELETE | /api/parcels/{shipping_parcel_id}/tickets/{id} | delete | 204 | 401, 404 |
"""


@pytest.mark.parametrize("skill", SKILLS)
def test_deep_nesting_under_soft_deleted_owners_wraps_within_the_line_length(skill: str) -> None:
    contract, findings = parse_contract(_DEEP, "specs/api/deep.md")
    assert contract is not None, "\n".join(map(str, findings))
    _assert_parses_within_the_line_length(render_backend(contract, _conventions(skill)))


# --- random contracts ---------------------------------------------------------------------------------------

_NAMES = ["Ticket", "Widget", "Album", "Recipe", "Gadget", "Sample", "Invoice", "Lesson", "Parcel", "Badge"]
#: Field names, many of them words the generated code uses for its own variables.
_FIELDS = ["title", "label", "values", "query", "total", "session", "where", "data", "row", "result",
           "count", "value", "item", "rank", "score", "flag", "state", "kind", "level", "price", "amount",
           "born_on", "seen_at", "email_addr", "homepage", "tags", "meta", "code", "note", "body_text",
           "changes", "found", "extra", "now", "column", "statement", "wanted", "pages", "rows"]
_KINDS = ["string", "text", "integer", "number", "decimal", "boolean", "date", "datetime", "uuid", "email",
          "url", "enum", "list", "json", "ref"]
_FILTERABLE = ("string", "email", "url", "integer", "boolean", "date", "uuid", "enum")
_SEARCHABLE = ("string", "text", "email", "url")
_PATTERNS = ["^[a-z]{2,8}$", "^[A-Z][0-9]{3}$", r"^(red\|green\|blue)$"]  # \| inside a table cell
_ENUM_VALUES = ["low", "mid", "high", "open", "done", "x1", "in_progress"]
#: The last segments of action paths: none is a table or another endpoint's word (search, stats, bulk-set).
_ACTION_WORDS = ["archive", "approve", "recount", "publish", "restore", "snooze", "pin", "reopen-all",
                 "overdue", "report", "touch", "export", "mark-seen", "clear"]
_ACTION_METHODS = ["GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE"]
_ACTION_ERRORS = ["404, 422", "404", "409, 422", "-", "", "400, 404, 409, 422"]
_SCHEMA_NAMES = ["Snooze", "Report", "Reason", "Tally", "Window", "Verdict"]
#: A schema's field names: a resource's, and the names a table takes for itself or Python has, free here.
_SCHEMA_FIELDS = [*_FIELDS, "id", "type", "user_id", "format", "hash", "created_at"]
_FIELD_HEAD = "| Field | Type | Required | Default | Constraints | Description |\n|---|---|---|---|---|---|\n"
_ENDPOINT_HEAD = "| Method | Path | Operation | Success | Errors |\n|---|---|---|---|---|\n"


@dataclass(frozen=True)
class _RandomField:
    name: str
    kind: str
    values: tuple[str, ...]  # an enum's
    row: str  # its line of the field table


def _random_field(r: random.Random, name: str, targets: list[str], *, stored: bool = True) -> _RandomField:
    """One field, valid by construction: a type, constraints that fit it, maybe a default.

    A field of a schema (``stored=False``) takes no ``index`` or ``unique``; without ``targets``, no ref.
    """
    kind = r.choice(_KINDS if targets else _KINDS[:-1])
    required = r.random() < 0.4 and kind != "ref"

    def maybe(value: str) -> str:
        return "" if required or r.random() < 0.5 else value

    spec, default, cons, values, width = kind, "", [], (), 0
    if kind == "string" and r.random() < 0.3:
        cons.append(f'pattern="{r.choice(_PATTERNS)}"')
    elif kind == "string":
        cons.append(f"max_length={r.choice([20, 80, 255])}")
        default = maybe("hello")
    elif kind == "text":
        cons.append(f"max_length={r.choice([500, 2000])}")
    elif kind == "integer":
        low, width = r.choice([0, 1, -5]), r.choice([10, 1000])
        cons += [f"ge={low}", f"le={low + width}"]
        default = maybe(str(low + 1))
    elif kind in ("number", "decimal"):
        spec = "decimal(8, 2)" if kind == "decimal" else kind
        cons.append("gt=0")
        default = maybe("1.5")
    elif kind == "boolean":
        default = maybe(r.choice(["true", "false"]))
    elif kind == "date":
        default = maybe("2024-01-31")
    elif kind == "url":
        cons.append("max_length=300")
    elif kind == "enum":
        values = tuple(r.sample(_ENUM_VALUES, r.randint(1, 4)))
        spec = f"enum({', '.join(values)})"
        default = maybe(values[0])
    elif kind == "list":
        spec, default = "list[string]", "" if required else "[]"
        cons.append("max_items=5")
    elif kind == "ref":
        spec = f"ref({r.choice(targets)})"
    if stored and kind in ("string", "email", "integer", "date", "uuid", "enum") and r.random() < 0.3:
        cons.append("index")
    if stored and kind in ("integer", "uuid", "email") and r.random() < 0.15 \
            and not (kind == "integer" and width < 24):
        cons.append("unique")  # not on 11 integers: contract check warns, the generated tests need 24
    cells = [name, spec, "yes" if required else "no", default, ", ".join(cons), f"The {name}"]
    row = f"| {' | '.join(cells)} |\n"
    return _RandomField(name, kind, values, row)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _random_actions(r: random.Random, name: str, base: str, others: list[str],
                    schemas: list[str]) -> list[tuple[str, str, str, str, str]]:
    """0-3 actions of resource ``name``: on one row or the collection, with or without a body, any answer."""
    out = []
    for word in r.sample(_ACTION_WORDS, r.randint(0, 3)):
        action = f"{word.replace('-', '_')}_{_snake(name)}"  # unique in the contract: one resource, one word
        method = r.choice(_ACTION_METHODS)
        body = r.choice(schemas) if schemas and method != "GET" and r.random() < 0.5 else None
        form = r.choice(["200", "201", "page", "list", "204"])
        if schemas and r.random() < (0.4 if form in ("200", "201") else 0.15):
            answer = r.choice(schemas)
        elif others and r.random() < 0.2:
            answer = r.choice(others)
        else:
            answer = name
        success = {"page": f"200 Page[{answer}]", "list": f"200 list[{answer}]", "204": "204"}.get(
            form, f"{form} {answer}")
        path = f"{base}/{{id}}/{word}" if r.random() < 0.5 else f"{base}/{word}"
        operation = f"action({action}; body: {body})" if body else f"action({action})"
        out.append((method, path, operation, success, r.choice(_ACTION_ERRORS)))
    return out


def _random_schema(r: random.Random, name: str) -> str:
    """A schema section: maybe prose, and a field table (maybe empty) without refs, index or unique."""
    fields = [_random_field(r, f, [], stored=False)
              for f in r.sample(_SCHEMA_FIELDS, r.choice([0, 1, 1, 2, 3, 4]))]
    prose = f"What an action takes or answers: a {name.lower()}.\n\n" if r.random() < 0.5 else ""
    return f"\n## Schema: {name}\n\n{prose}" + _FIELD_HEAD + "".join(f.row for f in fields)


def _random_resource(r: random.Random, name: str, auth: str, made: list[tuple[str, str]], *,
                     actions: random.Random | None = None, schemas: list[str] | None = None) -> str:
    """A resource section: settings, fields and a random choice of every operation.

    With ``actions``, an RNG of its own, also 0-3 actions among the other endpoints, answering this
    resource, an earlier one of ``made`` or one of ``schemas`` and taking one of ``schemas`` as body.
    """
    table = _snake(name) + "s"
    timestamps = r.choice(["yes", "yes", "no"])
    parent = made[-1] if made and r.random() < 0.5 else None
    settings = [f"table: {table}", f"id: {r.choice(['int', 'int', 'uuid'])}",
                f"owner: {'none' if auth == 'none' else r.choice(['user', 'user', 'none'])}",
                f"timestamps: {timestamps}"]
    if r.random() < 0.25:
        settings.append("soft delete: yes")
    if parent:
        settings.append(f"parent: {parent[0]} (on delete: {r.choice(['cascade', 'restrict'])})")
    fields = [_random_field(r, f, [m for m, _ in made]) for f in r.sample(_FIELDS, r.randint(1, 6))]

    def named(*kinds: str) -> list[str]:
        return [f.name for f in fields if f.kind in kinds]

    def some(names: list[str], most: int) -> list[str]:
        return r.sample(names, min(len(names), r.randint(0, most)))

    base = f"/api/{parent[1]}/{{{_snake(parent[0])}_id}}/{table}" if parent else f"/api/{table}"
    ops: list[tuple[str, ...]] = [("POST", base, "create", f"201 {name}"),
                                  ("GET", f"{base}/{{id}}", "get", f"200 {name}")]
    if r.random() < 0.8:
        stamps = ["created_at"] if timestamps == "yes" else []
        sortable = [*named(*(set(_KINDS) - {"json", "list"})), "id", *stamps]
        clauses = [f"{k}: {', '.join(v)}" for k, v in (("filter", some(named(*_FILTERABLE), 3)),
                                                        ("sort", some(sortable, 3))) if v]
        operation = "list" + (f"({'; '.join(clauses)})" if clauses else "")
        ops.append(("GET", base, operation, f"200 Page[{name}]"))
    if named(*_SEARCHABLE) and r.random() < 0.6:
        searched = r.sample(named(*_SEARCHABLE), min(2, len(named(*_SEARCHABLE))))
        ops.append(("GET", f"{base}/search", f"search({', '.join(searched)})", f"200 Page[{name}]"))
    if named("enum", "boolean") and r.random() < 0.6:
        ops.append(("GET", f"{base}/stats", f"stats({r.choice(named('enum', 'boolean'))})", "200 Stats"))
    if named("enum", "boolean") and r.random() < 0.5:
        chosen = r.choice(named("enum", "boolean"))
        field = next(f for f in fields if f.name == chosen)
        value = field.values[-1] if field.kind == "enum" else "true"
        method = r.choice(["POST", "PATCH"])
        ops.append((method, f"{base}/bulk-set", f"bulk_update({field.name}={value})", "200 BulkResult"))
    ops += [op for op in [("PATCH", f"{base}/{{id}}", "update", f"200 {name}"),
                          ("DELETE", f"{base}/{{id}}", "delete", "204")] if r.random() < 0.8]
    if actions is not None:
        for op in _random_actions(actions, name, base, [m for m, _ in made], schemas or []):
            ops.insert(actions.randint(0, len(ops)), op)  # anywhere: a route's order is the renderer's
    made.append((name, table))
    rows = [(*op, "404, 422") if len(op) == 4 else op for op in ops]
    return (f"\n## Resource: {name}\n\n" + "".join(f"- {x}\n" for x in settings)
            + "\n" + _FIELD_HEAD + "".join(f.row for f in fields)
            + "\n### Endpoints\n\n" + _ENDPOINT_HEAD
            + "".join(f"| {' | '.join(row)} |\n" for row in rows))


def random_contract(seed: int) -> str:
    """A valid contract that uses a random mix of what the format allows: the same seed, the same text."""
    r = random.Random(seed)
    # Actions and schemas draw from a stream of their own, so the resources stay those of before actions.
    a = random.Random(f"actions{seed}")
    acting = a.random() < 0.7
    schemas = a.sample(_SCHEMA_NAMES, a.randint(0, 3)) if acting else []
    auth = r.choice(["jwt", "jwt", "builtin", "none"])
    made: list[tuple[str, str]] = []  # (name, table) of the resources so far: parents and ref targets
    sections = [_random_resource(r, name, auth, made, actions=a if acting else None, schemas=schemas)
                for name in r.sample(_NAMES, r.randint(1, 3))]
    resources = "".join(sections)
    # A schema no action names is a warning: only those some action uses are written.
    bodies = "".join(_random_schema(a, s) for s in schemas if re.search(rf"\b{s}\b", resources))
    head = f"---\nfeature: random{seed}\ntitle: Random {seed}\nauth: {auth}\n---\n"
    return head + (bodies + resources if a.random() < 0.3 else resources + bodies)


@pytest.mark.parametrize("seed", range(40))
def test_random_contracts_check_clean_and_render_within_the_line_length(seed: int) -> None:
    contract, findings = parse_contract(random_contract(seed), f"specs/api/random{seed}.md")
    assert contract is not None and not findings, "\n".join(map(str, findings))
    for skill in SKILLS:
        _assert_parses_within_the_line_length(render_backend(contract, _conventions(skill)), f"{skill}/")


def test_random_contracts_check_clean_and_use_every_form_of_action_and_schema() -> None:
    """200 seeds check clean; between them, every success form, both kinds of path, bodies and schemas."""
    seen: set[str] = set()
    for seed in range(200):
        text = random_contract(seed)
        assert text == random_contract(seed)
        contract, findings = parse_contract(text, f"specs/api/random{seed}.md")
        assert contract is not None and not findings, f"seed {seed}:\n" + "\n".join(map(str, findings))
        schemas = {s.name for s in contract.schemas}
        resources = {r.name for r in contract.resources}
        seen |= {"schemas"} if schemas else {"no actions"} if not contract.actions() else set()
        seen |= {"no schema field"} if any(not s.fields for s in contract.schemas) else set()
        if schemas:
            first = text.index("## Schema") < text.index("## Resource")
            seen.add("schemas first" if first else "schemas last")
        for res, ep in contract.actions():
            wrapper, _, name = (ep.body or "").rstrip("]").rpartition("[")
            kind = "schema" if name in schemas else "own" if name == res.name else \
                "other" if name in resources else "none"
            seen |= {f"{ep.status} {wrapper or '-'} {kind}", "member" if ep.member else "collection",
                     "body" if ep.operation.body else "no body", ep.method, "nested" if res.parent else "top"}
            assert not (ep.method == "GET" and ep.operation.body), (seed, ep.path)
    wanted = {"200 - own", "201 - own", "200 - other", "200 - schema", "201 - schema", "200 Page own",
              "200 list own", "200 Page schema", "200 list schema", "204 - none", "member", "collection",
              "body", "no body", "schemas", "no actions", "no schema field", "schemas first", "schemas last",
              "nested", "top",
              "GET", "POST", "PUT", "PATCH", "DELETE"}
    assert wanted <= seen, sorted(wanted - seen)


# --- project templates override packaged ones --------------------------------------------------------------


def test_a_project_template_overrides_the_packaged_one(tmp_path: Path) -> None:
    contract, conv = _contract(EXAMPLE), _conventions()
    packaged = render_backend(contract, conv, project=tmp_path)
    override = tmp_path / "templates" / "backend" / "README.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text("# {{ title }}\n\nOur own README for {{ contract.feature }}.\n", encoding="utf-8")
    ours = render_backend(contract, conv, project=tmp_path)
    readme = conv.path("readme")
    assert ours[readme] == "# Task management API\n\nOur own README for task-crud.\n"
    ours.pop(readme)
    packaged_readme = packaged.pop(readme)
    assert ours == packaged, "only the overridden file may change"
    assert render_backend(contract, conv)[readme] == packaged_readme, "an override must stay in its project"


def test_implement_uses_the_project_override(tmp_path: Path) -> None:
    project = _project(tmp_path)
    override = project / "templates" / "backend" / "requirements.txt.j2"
    override.parent.mkdir(parents=True)
    override.write_text("fastapi==0.0.0-pinned-by-us\n", encoding="utf-8")
    result = implement(project=project, feature="task-crud")
    assert (result.root / "requirements.txt").read_text(encoding="utf-8") == "fastapi==0.0.0-pinned-by-us\n"


def test_a_broken_project_template_is_a_render_error_and_writes_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    override = project / "templates" / "backend" / "config.py.j2"
    override.parent.mkdir(parents=True)
    override.write_text('"""Config."""\n{% if %}\n', encoding="utf-8")
    before = _tree(project)
    with pytest.raises(RenderError) as caught:
        implement(project=project, feature="task-crud")
    assert "config.py.j2" in str(caught.value) and caught.value.line == 2
    assert _tree(project) == before


# --- a contract error writes nothing; a rerun updates what changed ------------------------------------------

_ADDED_FIELD = "| estimate    | integer | no | | ge=0, le=1000 | Hours of work |"


def _with_estimate(text: str) -> str:
    changed = re.sub(r"^(\| tags .*\|)$", lambda m: m.group(1) + "\n" + _ADDED_FIELD, text, count=1,
                     flags=re.MULTILINE)
    assert changed != text
    return changed


def _broken(text: str) -> str:
    changed = text.replace("| title       | string ", "| title       | strng  ", 1)
    assert changed != text
    return changed


def test_a_contract_error_writes_nothing_in_a_new_project(tmp_path: Path) -> None:
    project = _project(tmp_path, text=_broken(EXAMPLE.read_text(encoding="utf-8")))
    before = _tree(project)
    with pytest.raises(ContractError) as caught:
        implement(project=project, feature="task-crud")
    assert any("strng" in f.message for f in caught.value.findings)
    assert _tree(project) == before


def test_a_contract_error_leaves_an_existing_backend_untouched(project: Path, cli: Cli) -> None:
    _project(project)
    cli("implement", "task-crud")
    before = _tree(project)
    contract = project / "specs" / "api" / "task-crud.md"
    contract.write_text(_broken(contract.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ContractError):
        implement(project=project, feature="task-crud")
    result = cli("implement", "task-crud", expect=1)
    where = re.search(r"specs/api/task-crud\.md:\d+:\d+: error: unknown type 'strng'", result.output)
    assert where, result.output
    assert "Traceback" not in result.output
    after = _tree(project)
    after.pop("specs/api/task-crud.md")
    before.pop("specs/api/task-crud.md")
    assert after == before


def test_a_rerun_after_a_contract_change_updates_only_what_changed(project: Path, cli: Cli) -> None:
    _project(project)
    first = json.loads(cli("implement", "task-crud", "--json").output)
    assert first["ok"] and first["created"] and not first["updated"]
    config_before = (project / "backend" / "app" / "config.py").read_bytes()

    contract_file = project / "specs" / "api" / "task-crud.md"
    contract_file.write_text(_with_estimate(contract_file.read_text(encoding="utf-8")), encoding="utf-8")
    initial = (project / "backend" / "alembic" / "versions" / "0001_initial.py").read_bytes()
    second = json.loads(cli("implement", "task-crud", "--json").output)
    # The applied revision stays as it was; the change is a revision of its own.
    assert second["ok"] and second["created"] == ["backend/alembic/versions/0002_add_tasks_estimate.py"]
    assert not second["conflicts"]
    assert "backend/app/models/task.py" in second["updated"]
    assert "backend/app/schemas/task.py" in second["updated"]
    assert "backend/alembic/versions/0001_initial.py" in second["unchanged"]
    assert (project / "backend" / "alembic" / "versions" / "0001_initial.py").read_bytes() == initial
    assert "backend/app/config.py" in second["unchanged"]
    assert set(second["updated"]) | set(second["unchanged"]) | set(second["merged"]) == set(first["created"])
    assert (project / "backend" / "app" / "config.py").read_bytes() == config_before

    contract, _ = parse_contract(contract_file.read_text(encoding="utf-8"), "specs/api/task-crud.md")
    assert contract is not None
    expected = render_backend(contract, _conventions(), project=project)
    on_disk = {rel: data.decode("utf-8") for rel, data in _tree(project / "backend").items()}
    assert on_disk == expected, "the tree on disk is not the render of the changed contract"
    assert "estimate" in expected["app/models/task.py"]

    third = cli("implement", "task-crud").output
    assert "0 created, 0 updated" in third, third


def test_implement_reports_paths_relative_to_the_project(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = implement(project=project, feature="task-crud")
    rendered = render_backend(_contract(EXAMPLE), _conventions(), project=project)
    assert result.root == project / "backend" and result.app == "app.main:app"
    assert list(result.created) == sorted(f"backend/{rel}" for rel in rendered)
    assert not (result.updated or result.unchanged or result.merged or result.conflicts)
    again = implement(project=project, feature="task-crud", dry_run=True)
    assert again.unchanged == result.created and not again.created



def test_tidy_python_keeps_the_comment_on_the_code_after_the_imports() -> None:
    source = ('import os\n# the standard library\nimport sys\n\n\n'
              '# One blank line less would fail ruff: the comment belongs to the function.\n'
              'def main() -> None:\n    print(os.sep, sys.argv)\n')
    tidied = tidy_python(source, frozenset({"app"}))
    assert tidied == ('import os\nimport sys\n\n\n'
                      '# One blank line less would fail ruff: the comment belongs to the function.\n'
                      'def main() -> None:\n    print(os.sep, sys.argv)\n')


def test_tidy_python_keeps_exactly_the_imports_the_code_reads() -> None:
    source = '''"""A module: Unused in this docstring."""

from typing import Any
from sqlalchemy import delete, func, update
from app.models import Session, Task, Unused, escape_like

# Session is only named in this comment
NOTE = "update, delete and Unused are only words in this string"


def load(data: Any, extra: dict[str, int]) -> str:
    row = Task.model_validate(data, update=extra)  # update is a keyword here, not the import
    row.delete = None  # and an attribute here
    return f"{escape_like(str(row))} {func.count()}"
'''
    tidied = tidy_python(source, frozenset({"app"}))
    expected = ("from typing import Any\n\nfrom sqlalchemy import func\n\n"
                "from app.models import Task, escape_like\n\n"
                "# Session is only named in this comment\nNOTE = ")
    assert expected in tidied, tidied
    assert tidied.endswith(source[source.index("NOTE = ") + len("NOTE = "):]), "the code itself changed"
