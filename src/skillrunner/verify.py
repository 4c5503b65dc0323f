"""Verify: the contract, spec, plan, tasks, generated code and the running app's OpenAPI agree."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from skillrunner.artifacts import check_feature, feature_dir, is_sealed
from skillrunner.contract import Contract, Endpoint, Field, Resource, find_contract, load_contract
from skillrunner.conventions import Conventions
from skillrunner.errors import ContractError
from skillrunner.findings import Finding
from skillrunner.plan import DEFAULT_SKILL, expected_plan, planned_skill
from skillrunner.render import render_backend
from skillrunner.render.actions import read_actions, stray_functions
from skillrunner.skills import SkillChoice, resolve_skill
from skillrunner.specify import build_spec
from skillrunner.tasks import build_tasks, check_tasks, done_tasks, parse_tasks, unwritten_action_tasks
from skillrunner.write import conflict_lines, recorded_files, unresolved_conflicts, writer_keys

__all__ = ["VerifyReport", "app_openapi", "compare_openapi", "verify"]

_BUILTIN_AUTH = (("POST", "/api/auth/register"), ("POST", "/api/auth/login"), ("GET", "/api/auth/me"))
#: Routes every generated app serves besides the contract's (the load balancer's health check).
_OPERATIONAL = (("GET", "/health"),)
_INPUT = re.compile(r"^\*\*Input\*\*: (?P<text>.*)$", re.MULTILINE)
_SECRET = "skillrunner-verify-secret-0123456789abcdef-0123"
_DUMP = r"""
import importlib, inspect, json, sys
sys.path.insert(0, sys.argv[1])
module, _, attr = sys.argv[2].partition(":")
app = getattr(importlib.import_module(module), attr)
routes = []
def walk(items, prefix):
    for route in items:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.165 keeps routers nested
        if included is not None:
            context = getattr(route, "include_context", None)
            walk(included.routes, prefix + (getattr(context, "prefix", "") or ""))
            continue
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None or not getattr(route, "methods", None):
            continue
        try:
            file = inspect.getsourcefile(endpoint)
            lines, line = inspect.getsourcelines(endpoint)
            heads = [i for i, text in enumerate(lines) if text.lstrip().startswith(("def ", "async def "))]
            line += heads[0] if heads else 0
        except (OSError, TypeError):
            file, line = None, 0
        routes.append({"path": prefix + route.path, "methods": sorted(route.methods),
                       "module": endpoint.__module__, "file": file, "line": line})
walk(getattr(app, "routes", []), "")
print(json.dumps({"openapi": app.openapi(), "routes": routes}))
"""


@dataclass(frozen=True)
class VerifyReport:
    """Every finding, and which layers were compared."""

    findings: tuple[Finding, ...]
    checked: tuple[str, ...]


def _err(path: str, line: int, message: str, hint: str, code: str, col: int = 1) -> Finding:
    return Finding(path, max(line, 1), col, "error", message, hint, code)


def _warn(path: str, line: int, message: str, hint: str, code: str) -> Finding:
    return Finding(path, max(line, 1), 1, "warning", message, hint, code)


def _compare_artifact(project: Path, path: Path, expected: str, stage: str, feature: str) -> list[Finding]:
    shown = path.relative_to(project).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [_err(shown, 1, f"{shown} does not exist", f"run skillrunner {stage} {feature}", "missing")]
    if text == expected or _strip_ticks(text) == _strip_ticks(expected):
        return []
    if not is_sealed(text):
        return [_warn(shown, 1, f"{shown} was edited by hand, so it was not compared with the contract",
                      f"rerun skillrunner {stage} {feature} --force to regenerate it", "hand-edited")]
    old, new = text.splitlines(), expected.splitlines()
    line = next((i for i, (a, b) in enumerate(zip(old, new, strict=False), start=1) if a != b),
                min(len(old), len(new)) + 1)
    return [_err(shown, line, f"{shown} is out of date with the contract (first difference here)",
                 f"run skillrunner {stage} {feature}", "stale")]


def _strip_ticks(text: str) -> str:
    return re.sub(r"^(\s*- )\[[xX]\]", r"\1[ ]", text, flags=re.MULTILINE)


# --- the app's OpenAPI ------------------------------------------------------------------------------------


def app_openapi(*, root: Path, app: str, timeout: float = 120) -> dict[str, Any]:
    """Import ``app`` (``module:attribute``) in a subprocess with ``root`` on sys.path and dump
    ``{"openapi": app.openapi(), "routes": [{path, methods, module, file, line}]}``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "DATABASE_URL": "sqlite://"}
    if len(env.get("JWT_SECRET", "")) < 32:
        env["JWT_SECRET"] = _SECRET
    done = subprocess.run([sys.executable, "-c", _DUMP, str(root), app], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "no output")
        raise RuntimeError(last)
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")


def _deref(spec: dict[str, Any], schema: Any) -> dict[str, Any]:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        ref = str(schema["$ref"])
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema, seen = node, seen + 1
    if isinstance(schema, dict):
        for key in ("allOf", "anyOf", "oneOf"):
            for option in schema.get(key, []):
                inner = _deref(spec, option)
                if inner.get("properties"):
                    return inner
    return schema if isinstance(schema, dict) else {}


def _properties(spec: dict[str, Any], schema: Any) -> dict[str, Any] | None:
    """The ``properties`` of an object schema (``$ref`` followed), by name; None when not an object."""
    props = _deref(spec, schema).get("properties")
    return props if isinstance(props, dict) else None


def _body_schema(op: dict[str, Any]) -> Any:
    content = op.get("requestBody", {}).get("content", {})
    return next((v.get("schema") for v in content.values()), None)


def _response_schema(op: dict[str, Any], status: int) -> Any:
    content = op.get("responses", {}).get(str(status), {}).get("content", {})
    return next((v.get("schema") for v in content.values()), None)


def _generated_fields(res: Resource) -> set[str]:
    out = {"id"}
    if res.owner == "user":
        out.add("user_id")
    if res.parent_field:
        out.add(res.parent_field)
    if res.timestamps:
        out |= {"created_at", "updated_at"}
    if res.soft_delete:
        out.add("deleted_at")
    return out


def compare_openapi(contract: Contract, dump: dict[str, Any], *, project: Path,
                    ignore_modules: tuple[str, ...] = ()) -> list[Finding]:
    """Every difference between the contract and the app's OpenAPI: endpoints either side lacks,
    success statuses, and fields missing from (or extra in) request and response bodies."""
    spec: dict[str, Any] = dump.get("openapi", {})
    paths: dict[str, Any] = spec.get("paths", {})
    ops: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for path, item in paths.items():
        for method, op in item.items():
            if isinstance(op, dict) and method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                ops[(method.upper(), _norm(path))] = (path, op)
    where: dict[tuple[str, str], tuple[str, int, str]] = {}
    for route in dump.get("routes", []):
        file = route.get("file") or ""
        shown = _display(Path(file), project) if file else "<app>"
        for method in route.get("methods", []):
            where[(method, _norm(route["path"]))] = (shown, int(route.get("line") or 1),
                                                     str(route.get("module", "")))
    findings: list[Finding] = []
    named: set[tuple[str, str]] = set(_OPERATIONAL)
    implement = f"run skillrunner implement {contract.feature}"
    for res in contract.resources:
        for ep in res.endpoints:
            key = (ep.method, _norm(ep.path))
            named.add(key)
            if key not in ops:
                findings.append(_err(contract.path, ep.line, f"`{ep.method} {ep.path}` is in the contract "
                                     "but the app does not serve it", implement, "openapi-missing-endpoint"))
                continue
            findings += _compare_operation(contract, res, ep, ops[key][1], spec)
    if contract.auth == "builtin":
        # auth: builtin brings these three with it (docs/behaviour.md); the contract does not list them.
        named |= set(_BUILTIN_AUTH)
        for method, route in _BUILTIN_AUTH:
            if (method, route) not in ops:
                findings.append(_err(contract.path, 1, f"`auth: builtin` but the app does not serve "
                                     f"`{method} {route}`", implement, "openapi-missing-endpoint"))
    for key, (path, _) in sorted(ops.items()):
        if key in named:
            continue
        file, line, module = where.get(key, ("<app>", 1, ""))
        if any(module == m or module.startswith(m + ".") for m in ignore_modules if m):
            continue
        findings.append(_err(file, line, f"the app serves `{key[0]} {path}` but no contract names it",
                             f"declare it in {contract.path} (a route of your own is an action(name) row, "
                             "its code in the resource's action module), or remove it",
                             "openapi-extra-endpoint"))
    return findings


def _compare_operation(contract: Contract, res: Resource, ep: Endpoint, op: dict[str, Any],
                       spec: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    call = f"`{ep.method} {ep.path}`"
    implement = f"run skillrunner implement {contract.feature}"
    statuses = sorted(op.get("responses", {}))
    if str(ep.status) not in statuses:
        out.append(_err(contract.path, ep.line, f"{call} answers {ep.status} in the contract, but the app "
                        f"documents {', '.join(statuses) or 'nothing'}", implement, "openapi-status"))
    if ep.operation.kind == "action":
        missing = [str(s) for s in ep.errors if str(s) not in statuses]
        if missing:
            out.append(_err(contract.path, ep.line, f"{call} may answer {', '.join(missing)} in the "
                            "contract, but the app does not document it", implement, "openapi-status"))
    names = {f.name for f in res.fields}
    kind = ep.operation.kind
    if kind in ("create", "update"):
        body = _properties(spec, _body_schema(op))
        if body is None:
            out.append(_err(contract.path, ep.line, f"{call} takes no JSON object body in the app", implement,
                            "openapi-body"))
        else:
            out += [_err(contract.path, f.line or ep.line, f"field `{f.name}` of {res.name} is in the "
                         f"contract but not in the body of {call}", implement, "openapi-field")
                    for f in res.fields if f.name not in body]
            out += [_err(contract.path, ep.line, f"the body of {call} accepts `{extra}`, which the contract "
                         "does not name", f"add `{extra}` to {res.name}'s fields, or {implement}",
                         "openapi-extra-field")
                    for extra in sorted(body.keys() - names)]
            if kind == "create":
                for typed in res.fields:
                    if typed.name not in body:
                        continue
                    out += [_err(contract.path, typed.line or ep.line, f"field `{typed.name}` of {res.name}: "
                                 f"{why} in the body of {call}", implement, "openapi-type")
                            for why in _schema_mismatches(contract, typed, _deref(spec, body[typed.name]),
                                                          spec)]
    if kind in ("create", "get", "update") and ep.body == res.name:
        public = _properties(spec, _response_schema(op, ep.status))
        if public is not None:
            for name in sorted((names | _generated_fields(res)) - public.keys()):
                f = res.field(name)
                out.append(_err(contract.path, f.line if f and f.line else ep.line,
                                f"field `{name}` of {res.name} is missing from the response of {call}",
                                implement, "openapi-field"))
    return out


# JSON Schema type and format each contract type documents (docs/behaviour.md); decimal may be either.
_JSON_TYPES: dict[str, tuple[set[str], str | None]] = {
    "string": ({"string"}, None), "text": ({"string"}, None), "integer": ({"integer"}, None),
    "number": ({"number"}, None), "decimal": ({"number", "string"}, None), "boolean": ({"boolean"}, None),
    "date": ({"string"}, "date"), "datetime": ({"string"}, "date-time"), "uuid": ({"string"}, "uuid"),
    "email": ({"string"}, "email"), "url": ({"string"}, None), "enum": ({"string"}, None),
    "list": ({"array"}, None), "json": ({"object"}, None),
}
# The JSON Schema keyword each contract constraint becomes.
_KEYWORDS = {"min_length": "minLength", "max_length": "maxLength", "max_items": "maxItems",
             "pattern": "pattern", "ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum",
             "lt": "exclusiveMaximum"}


def _branches(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a property schema (``X | None`` is an ``anyOf`` with null)."""
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return [schema]
    # A nested union (Decimal is number | string, inside X | None) keeps its outer keywords.
    outer = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
    out = [b for o in options for b in _branches(spec, {**outer, **_deref(spec, o)})]
    return [b for b in out if b.get("type") != "null"] or [schema]


def _schema_mismatches(contract: Contract, f: Field, schema: dict[str, Any],
                       spec: dict[str, Any]) -> list[str]:
    """How the documented schema of ``f`` differs from its contract type and constraints."""
    branches = _branches(spec, schema)
    kind = f.type.kind
    if kind == "ref":
        target = next((r for r in contract.resources if r.name == f.type.ref), None)
        types, fmt = ({"string"}, "uuid") if target and target.id_type == "uuid" else ({"integer"}, None)
    else:
        types, fmt = _JSON_TYPES[kind]
    out: list[str] = []
    seen = {str(b.get("type")) for b in branches if "type" in b}
    if not seen or not seen <= types:
        out.append(f"the contract says {kind}, the schema documents {', '.join(sorted(seen)) or 'no type'}")
    if fmt and not any(b.get("format") == fmt for b in branches):
        out.append(f"the schema lacks format {fmt!r}")
    if kind == "enum":
        # A one-value Literal is documented as {"const": value}: an enum of one.
        documented = next((b["enum"] if isinstance(b.get("enum"), list) else [b["const"]]
                           for b in branches if isinstance(b.get("enum"), list) or "const" in b), None)
        if documented is None or sorted(map(str, documented)) != sorted(f.type.enum_values):
            out.append(f"the contract allows {', '.join(f.type.enum_values)}, the schema documents "
                       f"{', '.join(map(str, documented or [])) or 'no enum'}")
    as_text = kind == "decimal" and all(b.get("type") == "string" for b in branches)
    for c in f.constraints:
        keyword = _KEYWORDS.get(c.name)
        if keyword is None:
            continue
        if as_text and c.name in ("ge", "gt", "le", "lt"):
            # JSON Schema bounds numbers only: a decimal documented as a string states a lower bound of
            # 0 or more by a pattern that admits no sign, and other bounds nowhere.
            if c.name in ("ge", "gt") and _at_least_zero(c.value) and not _unsigned(branches):
                out.append(f"constraint {c.name}={c.value} is not documented as {keyword}")
            continue
        values = [b[keyword] for b in branches if keyword in b]
        if not any(v == c.value or (isinstance(v, (int, float)) and isinstance(c.value, (int, float, str))
                                    and _same_number(v, c.value)) for v in values):
            out.append(f"constraint {c.name}={c.value} is not documented as {keyword}")
    return out


def _at_least_zero(value: object) -> bool:
    try:
        return float(str(value)) >= 0
    except ValueError:
        return False


def _unsigned(branches: list[dict[str, Any]]) -> bool:
    """Whether a string branch's pattern admits digits but no minus sign."""
    patterns = [b["pattern"] for b in branches if isinstance(b.get("pattern"), str)]
    return any(re.search(p, "1") and not re.search(p, "-1") for p in patterns)


def _same_number(documented: float, value: object) -> bool:
    try:
        return float(documented) == float(str(value))
    except ValueError:
        return False


def _display(path: Path, project: Path) -> str:
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# --- verify ------------------------------------------------------------------------------------------


def _code(project: Path, contract: Contract, skill: SkillChoice) -> tuple[list[Finding], bool]:
    """Generated files: missing (error) or different from what the contract renders now (warning)."""
    conv = skill.conventions
    files = render_backend(contract, conv, project=project)
    root = PurePosixPath(conv.root)
    findings = []
    conflicts: set[tuple[str, int]] = set()
    present = False
    for rel, text in sorted(files.items()):
        p = PurePosixPath(str(rel))
        full = project / (p if p.parts[: len(root.parts)] == root.parts else root / p)
        shown = _display(full, project)
        try:
            on_disk = full.read_text(encoding="utf-8")
        except FileNotFoundError:
            findings.append(_err(shown, 1, f"generated file {shown} is missing",
                                 f"run skillrunner implement {contract.feature} --skill {skill.name}",
                                 "code-missing"))
            continue
        except UnicodeDecodeError:
            on_disk = ""
        present = True
        markers = conflict_lines(on_disk)
        conflicts.update((shown, n) for n in markers)
        if on_disk != text and not markers:
            findings.append(_warn(shown, 1, f"{shown} differs from what {contract.path} renders now "
                                  "(edited by hand, or the contract changed since implement)",
                                  f"run skillrunner implement {contract.feature} to update it",
                                  "code-differs"))
    # Every file skillrunner records, not only this render's: a kept or another writer's file too.
    conflicts.update(unresolved_conflicts(project=project))
    for shown, n in sorted(conflicts):
        findings.append(_err(
            shown, n, "an unresolved conflict: your edits and the contract's change overlap here",
            "keep yours, the contract's or both, and delete the <<<<<<< ||||||| ======= >>>>>>> lines; or "
            f"rerun skillrunner implement {contract.feature} --force to take the contract's side",
            "code-conflict"))
    for other in writer_keys(project=project, prefix="implement:"):
        if other != f"implement:{skill.name}":
            name = other.removeprefix("implement:")
            for rel in recorded_files(project=project, key=other):
                if (project / rel).is_file():
                    findings.append(_err(rel, 1, f"{rel} is {name}'s layout, in a backend verified as "
                                         f"{skill.name}'s", f"run skillrunner implement {contract.feature} "
                                         f"--skill {skill.name} to move the backend to one layout",
                                         "code-mixed"))
    return findings, present


def _actions(project: Path, contract: Contract, conv: Conventions) -> list[Finding]:
    """Each declared action has its function in the resource's action module (a stub still unwritten
    is a warning); a public function there that no action names is a warning too."""
    findings: list[Finding] = []
    if "actions" not in conv.layout:
        return findings
    root = project / conv.root
    implement = f"run skillrunner implement {contract.feature}"
    for res in contract.resources:
        names = [ep for ep in res.endpoints if ep.operation.kind == "action"]
        module = root / conv.path("actions", name=res.snake, plural=res.table)
        shown = _display(module, project)
        if not names and not module.is_file():
            continue
        try:
            functions = read_actions(module)
        except FileNotFoundError:
            findings.append(_err(shown, 1, f"{res.name}'s action module {shown} is missing",
                                 f"{implement} to write it with a stub per action", "action-missing"))
            continue
        except SyntaxError as exc:
            findings.append(_err(shown, exc.lineno or 1, f"{shown} does not parse: {exc.msg}",
                                 "fix it: the app cannot import it", "action-syntax"))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            findings.append(_err(shown, 1, f"{shown} cannot be read: {exc}", "make it UTF-8 text",
                                 "action-syntax"))
            continue
        for ep in names:
            name = ep.operation.name
            line, stub = functions.get(name, (0, False))
            if not line:
                findings.append(_err(shown, 1, f"{shown} defines no {name}, the action of "
                                     f"`{ep.method} {ep.path}`",
                                     f"write def {name}(...) there ({implement} appends its stub)",
                                     "action-missing"))
            elif stub:
                findings.append(_warn(shown, line, f"action {name} is not written yet: "
                                      f"`{ep.method} {ep.path}` answers 501",
                                      "replace its raise ActionNotWritten(...) with the action's code",
                                      "action-unwritten"))
        for name, line in stray_functions(functions, {ep.operation.name for ep in names}):
            findings.append(_warn(shown, line, f"{name} is no action of the contract: nothing generated "
                                  "calls it", "delete it, or name a helper _like_this", "action-stray"))
    return findings


def verify(*, project: Path, feature: str, skill: str | None = None, openapi: bool = True) -> VerifyReport:
    """Compare every layer of ``feature``; each mismatch is a finding with file:line:col and a fix."""
    check_feature(feature)
    checked = ["contract"]
    try:
        contract = load_contract(find_contract(feature, project=project), project=project)
    except ContractError as exc:
        return VerifyReport(exc.findings, tuple(checked))
    choice = resolve_skill(skill or planned_skill(project=project, feature=feature) or DEFAULT_SKILL,
                           project=project)
    fdir = feature_dir(project, feature)
    findings: list[Finding] = []

    spec_path = fdir / "spec.md"
    description = None
    if spec_path.is_file():
        found = _INPUT.search(spec_path.read_text(encoding="utf-8", errors="replace"))
        description = found["text"] if found else None
    findings += _compare_artifact(project, spec_path, build_spec(feature=feature, contract=contract,
                                                                 description=description, project=project),
                                  "specify", feature)
    checked.append("spec")
    expected = expected_plan(project=project, contract=contract, skill=choice)
    findings += _compare_artifact(project, fdir / "plan.md", expected, "plan", feature)
    checked.append("plan")

    tasks_path = fdir / "tasks.md"
    if tasks_path.is_file():
        text = tasks_path.read_text(encoding="utf-8", errors="replace")
        shown = tasks_path.relative_to(project).as_posix()
        findings += check_tasks(text, path=shown, contract=contract)
        findings += unwritten_action_tasks(text, path=shown, project=project)
        expected, _ = build_tasks(contract=contract, skill=choice, project=project,
                                  done=done_tasks(tasks_path))
        findings += _compare_artifact(project, tasks_path, expected, "tasks", feature)
        for task in parse_tasks(text):
            if task.done and not (project / task.path).exists():
                findings.append(_err(shown, task.line, f"{task.id} is ticked but {task.path} does not exist",
                                     f"run skillrunner implement {feature}, or untick {task.id}",
                                     "task-missing-file", col=4))
    else:
        shown = tasks_path.relative_to(project).as_posix()
        findings.append(_err(shown, 1, f"{shown} does not exist", f"run skillrunner tasks {feature}",
                             "missing"))
    checked.append("tasks")

    findings += _actions(project, contract, choice.conventions)
    compared = _code(project, contract, choice)
    code, present = compared or ([], False)
    findings += code
    if compared is not None:
        checked.append("code")
    conv = choice.conventions
    root = project / conv.root
    if openapi and present:
        try:
            dump = app_openapi(root=root, app=conv.app)
        except (RuntimeError, OSError, subprocess.SubprocessError, json.JSONDecodeError, IndexError) as exc:
            main = _display(root / conv.path("main"), project)
            findings.append(_err(main, 1, f"the app {conv.app} does not import: {exc}",
                                 f"run the backend's suite (cd {conv.root} && pytest) to see the traceback",
                                 "openapi-import"))
        else:
            ignore = tuple(conv.module(k) for k in ("users_router",) if k in conv.layout) \
                if contract.auth == "builtin" else ()
            findings += compare_openapi(contract, dump, project=project, ignore_modules=ignore)
        checked.append("openapi")
    return VerifyReport(tuple(sorted(set(findings))), tuple(checked))
