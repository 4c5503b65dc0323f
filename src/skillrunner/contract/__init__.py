"""API contracts: the typed, immutable model of a ``specs/api/*.md`` file, its parser and checker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillrunner.contract.check import (
    _Checker,
)
from skillrunner.contract.model import (
    _SLUG,
    AUTH_KINDS,
    CONSTRAINT_TYPES,
    ENDPOINT_COLUMNS,
    FIELD_COLUMNS,
    FIELD_KINDS,
    FRONTMATTER_KEYS,
    OPERATION_KINDS,
    SAMPLES_PER_FIELD,
    SETTINGS,
    Constraint,
    Contract,
    Endpoint,
    Field,
    FieldType,
    Operation,
    Parent,
    Resource,
    Schema,
    _format_value,
)
from skillrunner.contract.parse import (
    _Parser,
)
from skillrunner.contract.skeleton import new_contract, skeleton_text
from skillrunner.errors import ContractError, SkillrunnerError, UsageError
from skillrunner.findings import Finding

__all__ = [
    "AUTH_KINDS",
    "CONSTRAINT_TYPES",
    "ENDPOINT_COLUMNS",
    "FIELD_COLUMNS",
    "FIELD_KINDS",
    "FRONTMATTER_KEYS",
    "OPERATION_KINDS",
    "SAMPLES_PER_FIELD",
    "SETTINGS",
    "Constraint",
    "Contract",
    "ContractCheck",
    "Endpoint",
    "Field",
    "FieldType",
    "Operation",
    "Parent",
    "Resource",
    "Schema",
    "check_contract",
    "check_contract_files",
    "contract_summary",
    "contract_to_dict",
    "find_contract",
    "load_contract",
    "locate_contract",
    "new_contract",
    "parse_contract",
    "skeleton_text",
]


# --- the public API ---------------------------------------------------------------------------------


def parse_contract(text: str | bytes, path: str) -> tuple[Contract | None, list[Finding]]:
    """Read and check one contract; never raises on content.

    Returns the contract and every finding, sorted; the contract is None when any finding is an
    error, so a returned contract is always safe to render.
    """
    path = Path(path).as_posix() if path else "<contract>"
    try:
        parser = _Parser(text, path)
        contract = parser.parse()
        checker = _Checker(contract, parser.where, parser.skip, parser.broken)
        findings = parser.findings + checker.run()
    except RecursionError:
        findings = [Finding(path, 1, 1, "error", "the contract nests too deeply to read",
                            "flatten nested lists and quotes", "structure")]
        return None, findings
    findings = sorted(set(findings))
    if any(f.severity == "error" for f in findings):
        return None, findings
    return contract, findings


def check_contract(contract: Contract) -> list[Finding]:
    """Every meaning problem of a contract built in Python (positions are resource/field lines)."""
    return sorted(set(_Checker(contract).run()))


def load_contract(path: Path, *, project: Path | None = None) -> Contract:
    """Read ``path``; raises ContractError carrying every finding when it has errors.

    ``Contract.path`` (and every message) names the file relative to ``project`` (default: the
    working directory) when it lies inside it, so output does not depend on where the project is.
    """
    shown = _display(Path(path), project if project is not None else Path.cwd())
    contract, findings = parse_contract(Path(path).read_bytes(), shown)
    if contract is None:
        errors = sum(f.severity == "error" for f in findings)
        raise ContractError(f"{shown}: {errors} error(s); the format: skillrunner contract guide",
                            findings)
    return contract


def find_contract(feature: str, *, project: Path) -> Path:
    """``specs/api/<feature>.md``, or ``specs/api/<feature>-endpoints.md`` (seed 003's name)."""
    if not _SLUG.fullmatch(feature):
        raise UsageError(f"feature {feature!r} is not a slug",
                         hint="use lower-case letters, digits and single hyphens, e.g. task-crud")
    api = project / "specs" / "api"
    candidates = [api / f"{feature}.md", api / f"{feature}-endpoints.md"]
    found = [p for p in candidates if p.is_file()]
    shown = [p.relative_to(project).as_posix() for p in candidates]
    if len(found) == 2:
        raise SkillrunnerError(f"both {shown[0]} and {shown[1]} exist", path=found[1],
                               hint="keep one contract per feature")
    if not found:
        raise SkillrunnerError(
            f"no contract for {feature!r}: neither {shown[0]} nor {shown[1]} exists",
            hint=f"skillrunner contract new {feature} writes one that checks clean; edit it (the format: "
                 f"skillrunner contract guide), then skillrunner contract check {shown[0]}")
    return found[0]


def locate_contract(ref: str, *, project: Path) -> Path:
    """A contract given as a file path, or as a feature name looked up under ``specs/api/``."""
    path = Path(ref)
    if path.is_file():
        return path
    if _SLUG.fullmatch(ref):
        return find_contract(ref, project=project)
    raise UsageError(f"{ref}: no such file", hint="give a contract file or a feature name such as task-crud")


@dataclass(frozen=True)
class ContractCheck:
    """The result of checking some contract files."""

    files: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(f.severity == "warning" for f in self.findings)


def check_contract_files(*, files: Sequence[Path] = (), project: Path) -> ContractCheck:
    """Check ``files``, or every ``specs/api/*.md`` of ``project`` when none are given."""
    paths = list(files)
    if not paths:
        api = project / "specs" / "api"
        paths = sorted(api.glob("*.md")) if api.is_dir() else []
        if not paths:
            raise SkillrunnerError("no contracts to check: specs/api/ has no .md file", path="specs/api",
                                   hint="skillrunner contract new <feature> writes one to start from "
                                        "(the format: skillrunner contract guide)")
    findings: list[Finding] = []
    shown: list[str] = []
    for p in paths:
        name = _display(p, project)
        shown.append(name)
        findings.extend(parse_contract(p.read_bytes(), name)[1])
    return ContractCheck(tuple(shown), tuple(sorted(findings)))


def _display(path: Path, project: Path) -> str:
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def contract_to_dict(contract: Contract) -> dict[str, Any]:
    """The contract as plain JSON-ready data (tuples become lists), in file order."""

    def field_dict(f: Field) -> dict[str, Any]:
        t = f.type
        return {
            "name": f.name,
            "type": {"kind": t.kind, "spec": t.spec, "enum_values": list(t.enum_values),
                     "precision": t.precision, "scale": t.scale, "item": t.item, "ref": t.ref},
            "required": f.required, "nullable": f.nullable, "has_default": f.has_default,
            "default": _jsonable(f.default),
            "constraints": [{"name": c.name, "value": _jsonable(c.value)} for c in f.constraints],
            "description": f.description, "line": f.line,
        }

    def endpoint_dict(e: Endpoint) -> dict[str, Any]:
        op = e.operation
        return {
            "method": e.method, "path": e.path, "path_params": list(e.path_params),
            "operation": {"kind": op.kind, "spec": op.spec, "filters": list(op.filters),
                          "sorts": list(op.sorts), "fields": list(op.fields),
                          "assignments": [[n, _jsonable(v)] for n, v in op.assignments],
                          "name": op.name, "body": op.body},
            "status": e.status, "body": e.body, "errors": list(e.errors), "line": e.line,
        }

    return {
        "path": contract.path, "feature": contract.feature, "title": contract.title,
        "version": contract.version, "auth": contract.auth, "description": contract.description,
        "resources": [
            {
                "name": r.name, "snake": r.snake, "table": r.table, "id_type": r.id_type, "owner": r.owner,
                "parent": None if r.parent is None else {
                    "resource": r.parent.resource, "on_delete": r.parent.on_delete, "field": r.parent_field},
                "timestamps": r.timestamps, "soft_delete": r.soft_delete, "description": r.description,
                "line": r.line,
                "fields": [field_dict(f) for f in r.fields],
                "endpoints": [endpoint_dict(e) for e in r.endpoints],
            }
            for r in contract.resources
        ],
        "schemas": [
            {"name": s.name, "description": s.description, "line": s.line,
             "fields": [field_dict(f) for f in s.fields]}
            for s in contract.schemas
        ],
    }


def contract_summary(contract: Contract) -> str:
    """A readable overview: each resource's settings, fields and endpoints, then each schema's fields."""
    out = [f"{contract.title}", f"  feature {contract.feature}, version {contract.version}, "
                                f"auth {contract.auth}  ({contract.path})"]

    def field_lines(fields: Sequence[Field]) -> None:
        width = max((len(f.name) for f in fields), default=0)
        twidth = max((len(f.type.spec) for f in fields), default=0)
        for f in fields:
            extra = ["required" if f.required else "optional"]
            if f.has_default:
                extra.append(f"default {_format_value(f.default)}")
            extra += [c.name if c.value is True else f"{c.name}={_format_value(c.value)}"
                      for c in f.constraints]
            out.append(f"  {f.name:<{width}}  {f.type.spec:<{twidth}}  {', '.join(extra)}")

    for r in contract.resources:
        flags = [f"table {r.table}", f"id {r.id_type}", f"owner {r.owner}"]
        if r.parent:
            flags.append(f"parent {r.parent.resource} (on delete: {r.parent.on_delete})")
        flags += ["timestamps"] * r.timestamps + ["soft delete"] * r.soft_delete
        out += ["", f"{r.name}: {', '.join(flags)}"]
        field_lines(r.fields)
        pwidth = max((len(e.path) for e in r.endpoints), default=0)
        for e in r.endpoints:
            errors = f"  errors {', '.join(map(str, e.errors))}" if e.errors else ""
            out.append(f"  {e.method:<6} {e.path:<{pwidth}}  {e.operation.spec} -> {e.success}{errors}")
    for s in contract.schemas:
        out += ["", f"Schema {s.name}:"]
        field_lines(s.fields)
    return "\n".join(out) + "\n"
