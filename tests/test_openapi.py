"""The OpenAPI of every skill's render of every test contract, as a client generator reads it: valid,
named operations and schemas, shared enums, required response fields, and a typed Python client.

Every app is imported in one subprocess (the trees' packages share names, so each is dropped from
``sys.modules`` before the next); the client test generates with ``openapi-python-client`` from the
backend-builder renders and type-checks a typed use of every client in one ``mypy --strict`` run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openapi_python_client.strings import PythonIdentifier
from openapi_spec_validator import validate

from skillrunner.contract import Contract, Resource, parse_contract
from skillrunner.contract.model import enum_type_name, stats_model_name
from skillrunner.conventions import Conventions, load_conventions
from skillrunner.findings import format_findings
from skillrunner.render import render_backend
from skillrunner.render.views import _Builder
from skillrunner.resources import packaged_dir
from skillrunner.verify import compare_openapi

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
EXAMPLE = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
SOURCES = {EXAMPLE.stem: EXAMPLE} | {p.stem: p for p in sorted((TESTS / "contracts").glob("*.md"))}
FOLDERS = {p.name: p for p in sorted(packaged_dir("skills").iterdir()) if (p / "conventions.yaml").is_file()}
FOLDERS["backend-features"] = TESTS / "skills" / "backend-features"
#: The skill whose renders the client test generates from (the OpenAPI is the same in every skill).
CLIENT_SKILL = "backend-builder"
_SECRET = "openapi-test-secret-0123456789abcdef-0123456789"

_DUMP_ALL = r"""
import importlib, json, sys
from sqlmodel import SQLModel
out = {}
for key, root, app in json.loads(sys.argv[1]):
    sys.path.insert(0, root)
    module, _, attr = app.partition(":")
    api = getattr(importlib.import_module(module), attr)
    out[key] = api.openapi()
    sys.path.remove(root)
    for name in [n for n, m in sys.modules.items() if (getattr(m, "__file__", None) or "").startswith(root)]:
        del sys.modules[name]
    SQLModel.metadata.clear()
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Render:
    """One contract rendered by one skill, and its app's OpenAPI."""

    skill: str
    contract: Contract
    conventions: Conventions
    root: Path
    spec: dict[str, Any]


def _contract(name: str) -> Contract:
    contract, findings = parse_contract(SOURCES[name].read_text(encoding="utf-8"), f"specs/api/{name}.md")
    assert contract is not None, "\n".join(map(str, findings))
    return contract


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Render]:
    base = tmp_path_factory.mktemp("openapi")
    made: dict[tuple[str, str], tuple[Contract, Conventions, Path]] = {}
    for skill, folder in FOLDERS.items():
        conv = load_conventions(folder)
        for name in SOURCES:
            contract = _contract(name)
            root = base / skill / name
            for rel, text in render_backend(contract, conv, stubs=True).items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text, encoding="utf-8")
            made[skill, name] = (contract, conv, root)
    jobs = [[f"{s}/{n}", str(root), conv.app] for (s, n), (_, conv, root) in made.items()]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "DATABASE_URL": "sqlite://", "JWT_SECRET": _SECRET}
    # Importing an app is most of the time: a few processes share the renders between them.
    workers = max(1, min(4, os.cpu_count() or 1))
    running = [subprocess.Popen([sys.executable, "-c", _DUMP_ALL, json.dumps(jobs[i::workers])], cwd=base,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(workers)]
    specs: dict[str, Any] = {}
    for process in running:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-4000:]
        specs |= json.loads(out.strip().splitlines()[-1])
    return {key: Render(key[0], contract, conv, root, specs[f"{key[0]}/{key[1]}"])
            for key, (contract, conv, root) in made.items()}


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def _ref(schema: dict[str, Any]) -> str | None:
    """The component a property schema names (``$ref``, or the non-null branch of ``X | None``)."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for branch in schema.get("anyOf", []):
        if "$ref" in branch:
            return str(branch["$ref"]).rsplit("/", 1)[-1]
    return None


def _nullable(schema: dict[str, Any]) -> bool:
    return any(branch.get("type") == "null" for branch in schema.get("anyOf", []))


# --- the document -----------------------------------------------------------------------------------------


def test_every_openapi_is_valid_and_matches_its_contract(renders: dict[tuple[str, str], Render]) -> None:
    problems: list[str] = []
    for r in renders.values():
        try:
            validate(r.spec)
        except Exception as exc:  # the validator's own error classes; its message is what matters
            problems.append(f"{r.skill}/{r.contract.feature}: {str(exc)[:400]}")
        ignore = (r.conventions.module("users_router"),) if r.contract.auth == "builtin" else ()
        findings = compare_openapi(r.contract, {"openapi": r.spec, "routes": []}, project=r.root,
                                   ignore_modules=ignore)
        if findings:
            problems.append(f"{r.skill}/{r.contract.feature}:\n{format_findings(findings, 'text')}")
    assert not problems, "\n".join(problems)


def test_operations_are_named_tagged_and_summarised(renders: dict[tuple[str, str], Render]) -> None:
    for r in renders.values():
        builder = _Builder(r.contract, r.conventions)
        expected = {(ep.method.lower(), ep.path): ep.function
                    for res in r.contract.resources for ep in builder.resource_view(res).endpoints}
        ids: list[str] = []
        declared = {tag["name"]: tag for tag in r.spec.get("tags", [])}
        for path, item in r.spec["paths"].items():
            for method, op in item.items():
                ids.append(op["operationId"])
                if (method, path) in expected:
                    assert op["operationId"] == expected[method, path], (r.skill, method, path)
                assert op.get("summary"), (r.skill, method, path)
                assert op.get("tags") and set(op["tags"]) <= set(declared) | {"health"}, (method, path)
        assert len(ids) == len(set(ids)), f"{r.skill}/{r.contract.feature}: repeated operation ids {ids}"
        assert set(expected.values()) <= set(ids)
        for res in r.contract.resources:
            if res.endpoints:
                assert declared[res.table].get("description", "") == res.description


def test_schemas_have_readable_names_and_no_custom_keywords(renders: dict[tuple[str, str], Render]) -> None:
    for r in renders.values():
        names = list(r.spec["components"]["schemas"])
        # Class names, never a generic's (Page_TaskPublic_); FastAPI names a form body Body_<operation>.
        assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*|Body_[a-z_]+", n) for n in names), (r.skill, names)
        keys = {path.rsplit("/", 1)[-1] for path, _ in _walk(r.spec)}
        assert not keys & {"decimal_places", "max_digits"}, r.skill


def test_enums_and_sorts_are_one_named_schema_each(renders: dict[tuple[str, str], Render]) -> None:
    for r in renders.values():
        schemas = r.spec["components"]["schemas"]
        named: dict[tuple[str, ...], str] = {}
        for res in r.contract.resources:
            for f in res.fields:
                if f.type.kind == "enum":
                    name = enum_type_name(res.name, f.name)
                    assert schemas[name]["enum"] == list(f.type.enum_values), (r.skill, name)
                    named[tuple(f.type.enum_values)] = name
        # Nowhere else does the document spell out one of those sets of values.
        for path, node in _walk(r.spec):
            if isinstance(node, dict) and isinstance(node.get("enum"), list) and tuple(node["enum"]) in named:
                assert path == f"/components/schemas/{named[tuple(node['enum'])]}", (r.skill, path)
        for res in r.contract.resources:
            for ep in res.endpoints:
                if ep.operation.kind != "list" or not ep.operation.sorts:
                    continue
                op = r.spec["paths"][_route(res, ep.path)]["get"]
                sort = next(p for p in op["parameters"] if p["name"] == "sort")
                assert _ref(sort["schema"]) == f"{res.name}Sort", (r.skill, res.name)
                component = schemas[f"{res.name}Sort"]
                names = component["x-enum-varnames"]
                assert len(names) == len(component["enum"]) and all(n.isidentifier() for n in names)
                assert "-created_at" not in component["enum"] or "CREATED_AT_DESC" in names


def test_responses_require_every_field_and_patch_admits_null_only_where_it_clears(
    renders: dict[tuple[str, str], Render],
) -> None:
    for r in renders.values():
        schemas = r.spec["components"]["schemas"]
        for res in r.contract.resources:
            if not res.endpoints:
                continue
            public = schemas[f"{res.name}Public"]
            assert sorted(public["required"]) == sorted(public["properties"]), (r.skill, res.name)
            for f in res.fields:
                assert _nullable(public["properties"][f.name]) == f.nullable, (r.skill, res.name, f.name)
                if f.type.kind == "decimal":
                    prop = public["properties"][f.name]
                    branch = next((b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"), prop)
                    assert branch["type"] == "string" and branch["pattern"].startswith("^"), f.name
            if any(ep.operation.kind == "update" for ep in res.endpoints):
                update = schemas[f"{res.name}Update"]
                for f in res.fields:
                    prop = update["properties"][f.name]
                    assert _nullable(prop) == f.nullable, (r.skill, res.name, f.name)
                    assert "default" not in prop


def test_token_and_error_bodies_require_every_field(renders: dict[tuple[str, str], Render]) -> None:
    seen: set[str] = set()
    for r in renders.values():
        schemas = r.spec["components"]["schemas"]
        for name in ("Token", "ErrorInfo", "ErrorBody", "ValidationErrorBody"):
            if name in schemas:
                seen.add(name)
                assert sorted(schemas[name].get("required", [])) == sorted(schemas[name]["properties"]), \
                    (r.skill, r.contract.feature, name)
        if "ErrorInfo" in schemas:
            assert _nullable(schemas["ErrorInfo"]["properties"]["details"]), r.skill
    assert {"Token", "ErrorInfo"} <= seen


def test_decimals_are_strings_unsigned_when_bounded_at_zero(renders: dict[tuple[str, str], Render]) -> None:
    numeric = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    unsigned = 0
    for r in renders.values():
        for path, node in _walk(r.spec):
            if isinstance(node, dict) and node.get("type") == "string":
                assert not numeric & node.keys(), (r.skill, path, node)
        schemas = r.spec["components"]["schemas"]
        for res in r.contract.resources:
            if f"{res.name}Create" not in schemas:
                continue
            for f in res.fields:
                if f.type.kind != "decimal" or f.name not in schemas[f"{res.name}Create"]["properties"]:
                    continue
                prop = schemas[f"{res.name}Create"]["properties"][f.name]
                branch = next(b for b in prop.get("anyOf", [prop]) if b.get("type") != "null")
                at_zero = any(c.name in ("ge", "gt") and float(str(c.value)) >= 0 for c in f.constraints)
                pattern = re.compile(branch["pattern"])
                assert pattern.fullmatch("1") and bool(pattern.fullmatch("-1")) != at_zero, (r.skill, f.name)
                unsigned += at_zero
    assert unsigned


def test_stats_count_every_value_as_a_required_integer(renders: dict[tuple[str, str], Render]) -> None:
    seen = 0
    for r in renders.values():
        schemas = r.spec["components"]["schemas"]
        for res in r.contract.resources:
            for ep in res.endpoints:
                if ep.operation.kind != "stats":
                    continue
                field = res.field(ep.operation.fields[0])
                assert field is not None
                values = list(field.type.enum_values) if field.type.kind == "enum" else ["true", "false"]
                op = r.spec["paths"][_route(res, ep.path)]["get"]
                stats = schemas[_ref(op["responses"]["200"]["content"]["application/json"]["schema"]) or ""]
                counts = schemas[_ref(stats["properties"][f"by_{field.name}"]) or ""]
                assert sorted(counts["properties"]) == sorted(values) == sorted(counts["required"])
                assert {p["type"] for p in counts["properties"].values()} == {"integer"}
                seen += 1
    assert seen


def test_conflicts_are_documented(renders: dict[tuple[str, str], Render]) -> None:
    """A unique field makes create and update answer 409; a restricting child makes delete answer it."""
    checked = 0
    for r in renders.values():
        for res in r.contract.resources:
            unique = any(f.constraint("unique") is True for f in res.fields)
            restricted = any(c.parent and c.parent.on_delete == "restrict"
                             for c in r.contract.children(res.name))
            for ep in res.endpoints:
                kind = ep.operation.kind
                if (unique and kind in ("create", "update")) or (restricted and kind == "delete"):
                    op = r.spec["paths"][_route(res, ep.path)][ep.method.lower()]
                    assert "409" in op["responses"], (r.skill, ep.method, ep.path)
                    checked += 1
    assert checked


def _route(res: Resource, path: str) -> str:
    """The path as the app serves it: ``{id}`` named after the resource."""
    return path.replace("{id}", "{" + res.snake + "_id}")


# --- a typed client ---------------------------------------------------------------------------------------

_CLIENT_TYPES = {"string": "str", "text": "str", "email": "str", "url": "str", "integer": "int",
                 "number": "float", "decimal": "str", "boolean": "bool", "date": "datetime.date",
                 "datetime": "datetime.datetime", "uuid": "UUID", "list": "list[str]"}


def _attr(name: str) -> str:
    return str(PythonIdentifier(name, prefix="field"))


def typed_use(package: str, contract: Contract) -> str:
    """A module that uses the client as its types say: every field of every response model read as
    the contract's type, enum values passed from a response to a filter and a PATCH body, and every
    stats count read as an int. Only ``mypy --strict`` runs it."""
    lines = ["import datetime", "from uuid import UUID", "", f"from {package} import AuthenticatedClient",
             f"from {package} import models", ""]
    api = f"{package}.api"
    builder = _Builder(contract, load_conventions(FOLDERS[CLIENT_SKILL]))
    for res in contract.resources:
        # A client module per operation, named by its id: the endpoint's function name.
        functions = {(v.method, v.path): v.function for v in builder.resource_view(res).endpoints}
        parent = f"row.{_attr(res.parent_field)}, " if res.parent_field else ""
        if not res.endpoints:
            continue
        body = [f"def use_{res.snake}(client: AuthenticatedClient, row: models.{res.name}Public) -> int:",
                "    total = 0"]
        for f in res.fields:
            if f.type.kind == "enum":
                kind = f"models.{enum_type_name(res.name, f.name)}"
            elif f.type.kind == "ref":
                target = next(t for t in contract.resources if t.name == f.type.ref)
                kind = "UUID" if target.id_type == "uuid" else "int"
            elif f.type.kind in _CLIENT_TYPES:
                kind = _CLIENT_TYPES[f.type.kind]
            else:
                continue  # a JSON object: a model of its own, with additional properties
            kind = f"{kind} | None" if f.nullable else kind
            body.append(f"    {_attr(f.name)}_: {kind} = row.{_attr(f.name)}")
        body.append(f"    row_id: {'UUID' if res.id_type == 'uuid' else 'int'} = row.id")
        for ep in res.endpoints:
            module = f"{api}.{_attr(res.table)}.{functions[ep.method, _route(res, ep.path)]}"
            kind = ep.operation.kind
            if kind == "stats":
                field = res.field(ep.operation.fields[0])
                assert field is not None
                values = field.type.enum_values if field.type.kind == "enum" else ("true", "false")
                lines.append(f"import {module}")
                body.append(f"    stats_{field.name} = {module}.sync({parent}client=client)")
                model = f"models.{stats_model_name(res.name, field.name)}"
                body.append(f"    assert isinstance(stats_{field.name}, {model})")
                body += [f"    total += stats_{field.name}.by_{field.name}.{_attr(v)}" for v in values]
            elif kind == "list":
                enums = [f.name for f in res.fields
                         if f.name in ep.operation.filters and f.type.kind == "enum" and not f.nullable]
                lines.append(f"import {module}")
                args = "".join(f", {_attr(n)}=row.{_attr(n)}" for n in enums)
                body.append(f"    page = {module}.sync({parent}client=client{args})")
                body.append(f"    assert isinstance(page, models.{res.name}Page)")
                body.append(f"    listed: list[models.{res.name}Public] = page.items")
                body.append("    total += len(listed) + page.total")
            elif kind == "update":
                enums = [f.name for f in res.fields if f.type.kind == "enum"]
                args = ", ".join(f"{_attr(n)}=row.{_attr(n)}" for n in enums)
                body.append(f"    models.{res.name}Update({args})")
        body.append("    return total")
        lines += ["", "", *body]
    return "\n".join(lines) + "\n"


def test_a_generated_python_client_type_checks_as_its_types_say(
    renders: dict[tuple[str, str], Render], tmp_path: Path,
) -> None:
    packages = []
    for name in SOURCES:
        r = renders[CLIENT_SKILL, name]
        spec = tmp_path / f"{name}.json"
        spec.write_text(json.dumps(r.spec), encoding="utf-8")
        package = re.sub(r"\W", "_", name) + "_client"
        done = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
                               "--output-path", str(tmp_path / package), "--meta", "none"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
        said = [line for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and not line.startswith("Generating ")]
        assert done.returncode == 0 and not said, f"{name}:\n" + "\n".join(said)
        (tmp_path / f"use_{package}.py").write_text(typed_use(package, r.contract), encoding="utf-8")
        packages.append(package)
    # The generator's own client.py trips mypy over the httpx stubs (exception types in __exit__):
    # its code, not what our schemas made of the models and operations.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n" + "".join(f"\n[mypy-{p}.client]\nignore_errors = True\n"
                                                          for p in packages), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir",
                           str(tmp_path / ".mypy_cache"), *[f"use_{p}.py" for p in packages]],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-6000:]
