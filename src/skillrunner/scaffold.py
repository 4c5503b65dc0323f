"""create_crud: seed 001's one-call scaffolder, as the one-resource contract it stands for, rendered."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from skillrunner.contract import Contract, parse_contract
from skillrunner.errors import ContractError, UsageError
from skillrunner.render import render_backend
from skillrunner.skills import resolve_skill

__all__ = ["FIELD_OPTIONS", "TYPE_ALIASES", "create_crud", "crud_contract"]

#: The old scaffolder's Python spellings and the contract types they stand for; contract type
#: names (``text``, ``datetime``, ``enum(a, b)``, ``decimal(10, 2)``...) are taken as they are.
TYPE_ALIASES: dict[str, str] = {
    "str": "string", "int": "integer", "float": "number", "bool": "boolean",
    "list[str]": "list[string]", "dict": "json",
}
#: Every key a field's options may hold.
FIELD_OPTIONS: tuple[str, ...] = (
    "required", "default", "choices", "description", "min_length", "max_length", "pattern",
    "ge", "le", "gt", "lt", "max_items", "index", "unique",
)
_VALUED = ("min_length", "max_length", "pattern", "ge", "le", "gt", "lt", "max_items")
_FLAGS = ("index", "unique")
_BARE = re.compile(r"[A-Za-z0-9_.:@/+-]+")
_PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*")

# (success, errors) per operation; 401 is dropped when the contract has no authentication.
_ANSWERS: dict[str, tuple[str, tuple[int, ...]]] = {
    "create": ("201 {name}", (401, 422)), "list": ("200 Page[{name}]", (401, 422)),
    "get": ("200 {name}", (401, 404)), "update": ("200 {name}", (401, 404, 422)),
    "delete": ("204", (401, 404)), "search": ("200 Page[{name}]", (401, 422)),
    "stats": ("200 Stats", (401,)), "bulk_update": ("200 BulkResult", (401, 422)),
    "action": ("200 {name}", (401,)),
}
_STANDARD = (("POST", "", "create"), ("GET", "", "list"), ("GET", "/{id}", "get"),
             ("PATCH", "/{id}", "update"), ("DELETE", "/{id}", "delete"))


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _plural(word: str) -> str:
    """English plural of a snake_case word, on its last part: task -> tasks, category -> categories."""
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def _cell(text: str, what: str) -> str:
    """Free text for a table cell: one line, ``|`` escaped."""
    if "\n" in text or "\r" in text:
        raise UsageError(f"{what} spans several lines", hint="keep it on one line")
    if "\x00" in text:  # markdown reads NUL as U+FFFD: the contract could not say it
        raise UsageError(f"{what} holds a NUL character, which a contract cannot hold")
    return text.replace("|", "\\|")


def _value(value: Any, what: str) -> str:
    """A default or constraint value as the contract writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{what} must be a finite number, not {value}")
        return repr(value)
    if isinstance(value, list | tuple):
        if not all(isinstance(v, str) for v in value):
            raise UsageError(f"{what} must be a list of strings", hint='e.g. [] or ["a", "b"]')
        return _cell(json.dumps(list(value), ensure_ascii=False), what)
    if isinstance(value, str):
        if _BARE.fullmatch(value):
            return value
        for quote in "\"'":
            if quote not in value:
                return _cell(quote + value + quote, what)
        raise UsageError(f"{what} holds both kinds of quote, which a contract cannot write",
                         hint="drop one kind of quote from it")
    raise UsageError(f"{what} must be a string, number, boolean or list of strings, "
                     f"not {type(value).__name__}")


def _field_row(index: int, spec: Any) -> list[str]:
    what = f"fields[{index}]"
    if not isinstance(spec, tuple | list) or len(spec) not in (2, 3):
        raise UsageError(f"{what} must be (name, type, options)",
                         hint='e.g. ("title", "str", {"required": True, "max_length": 200})')
    name, ftype, options = (*spec, {}) if len(spec) == 2 else spec
    if not isinstance(name, str) or not isinstance(ftype, str) or not isinstance(options, Mapping):
        raise UsageError(f"{what} must be (name: str, type: str, options: dict)",
                         hint='e.g. ("done", "bool", {"default": False})')
    what = f"fields[{index}] ({name!r})"
    unknown = sorted(set(options) - set(FIELD_OPTIONS))
    if unknown:
        raise UsageError(f"{what}: unknown option(s) {', '.join(map(str, unknown))}",
                         hint=f"the options are {', '.join(FIELD_OPTIONS)}")
    kind = TYPE_ALIASES.get(ftype.strip(), ftype.strip())
    if "choices" in options:
        choices = options["choices"]
        if kind != "string" or not isinstance(choices, list | tuple) or not choices:
            raise UsageError(f"{what}: choices need a str field and a non-empty list",
                             hint='e.g. ("priority", "str", {"choices": ["low", "high"]})')
        kind = f"enum({', '.join(_value(c, f'{what} choice') for c in choices)})"
    required = options.get("required", False)
    if not isinstance(required, bool):
        raise UsageError(f"{what}: required must be True or False")
    default = _value(options["default"], f"{what} default") if "default" in options else ""
    constraints = [f"{key}={_value(options[key], f'{what} {key}')}" for key in _VALUED if key in options]
    for flag in _FLAGS:
        if flag in options:
            if not isinstance(options[flag], bool):
                raise UsageError(f"{what}: {flag} must be True or False")
            if options[flag]:
                constraints.append(flag)
    description = options.get("description", "")
    if not isinstance(description, str):
        raise UsageError(f"{what}: description must be a string")
    return [name, _cell(kind, f"{what} type"), "yes" if required else "no", default,
            ", ".join(constraints), _cell(description, f"{what} description")]


def _route(index: int, spec: Any, collection: str) -> tuple[str, str, str]:
    what = f"custom_routes[{index}]"
    if (not isinstance(spec, tuple | list) or len(spec) != 3
            or not all(isinstance(part, str) for part in spec)):
        raise UsageError(f"{what} must be (method, path, operation)",
                         hint='e.g. ("GET", "/stats", "stats(priority)"); the path follows /api/<plural>')
    method, path, operation = (part.strip() for part in spec)
    if path and not path.startswith("/"):
        raise UsageError(f"{what}: the path {path!r} must be empty or start with /",
                         hint="it is appended to the collection, e.g. /stats -> " + collection + "/stats")
    return method.upper(), collection + path, _cell(operation, f"{what} operation")


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return lines


def _contract_lines(model_name: str, fields: Sequence[Any], *, user_field: bool, soft_delete: bool,
                    timestamps: bool, custom_routes: Sequence[Any],
                    auth: str) -> tuple[str, list[tuple[str, str]]]:
    """The feature and the contract's lines, each with the argument it comes from."""
    if not isinstance(model_name, str) or not _PASCAL.fullmatch(model_name):
        raise UsageError(f"model_name {model_name!r} is not a PascalCase name",
                         hint="e.g. Task or StockItem")
    for flag, value in (("user_field", user_field), ("soft_delete", soft_delete),
                        ("timestamps", timestamps)):
        if not isinstance(value, bool):
            raise UsageError(f"{flag} must be True or False, not {value!r}")
    snake = _snake(model_name)
    table = _plural(snake)
    feature = snake.replace("_", "-")
    collection = "/api/" + table.replace("_", "-")
    lines: list[tuple[str, str]] = [
        ("---", "model_name"), (f"feature: {feature}", "model_name"),
        (f"title: {model_name} API", "model_name"), ("version: 1.0.0", "model_name"),
        (f"auth: {auth}", "auth"), ("---", "model_name"), ("", ""),
        (f"# {model_name} API", "model_name"), ("", ""),
        (f"## Resource: {model_name}", "model_name"), ("", ""),
        (f"- table: {table}", "model_name"), ("- id: int", "model_name"),
        (f"- owner: {'user' if user_field else 'none'}", "user_field"),
        (f"- timestamps: {'yes' if timestamps else 'no'}", "timestamps"),
        (f"- soft delete: {'yes' if soft_delete else 'no'}", "soft_delete"), ("", ""),
    ]
    header = ["Field", "Type", "Required", "Default", "Constraints", "Description"]
    rows = [_field_row(i, spec) for i, spec in enumerate(fields)]
    labels = ["fields", "fields"] + [f"fields[{i}] ({row[0]!r})" for i, row in enumerate(rows)]
    lines += list(zip(_table([header, *rows]), labels, strict=True))
    routes: dict[tuple[str, str], tuple[str, str]] = {
        (method, collection + path): (op, "model_name") for method, path, op in _STANDARD}
    for i, spec in enumerate(custom_routes):
        method, path, op = _route(i, spec, collection)
        routes[(method, path)] = (op, f"custom_routes[{i}]")
    endpoint_rows = [["Method", "Path", "Operation", "Success", "Errors"]]
    endpoint_labels = ["custom_routes", "custom_routes"]
    # The table lists static paths before /{id} ones, the order the routers register them in.
    ordered = sorted(routes.items(), key=lambda item: "{" in item[0][1])
    for (method, path), (op, label) in ordered:
        kind = op.split("(", 1)[0].strip()
        success, errors = _ANSWERS.get(kind, ("200 " + model_name, (401, 422)))
        shown = [e for e in errors if e != 401 or auth != "none"]
        endpoint_rows.append([method, path, op, success.format(name=model_name),
                              ", ".join(map(str, shown)) or "-"])
        endpoint_labels.append(label)
    lines += [("", ""), ("### Endpoints", ""), ("", "")]
    lines += list(zip(_table(endpoint_rows), endpoint_labels, strict=True))
    return feature, lines


def crud_contract(model_name: str, fields: Sequence[Any] = (), *, user_field: bool = True,
                  soft_delete: bool = False, timestamps: bool = True,
                  custom_routes: Sequence[Any] = (), auth: str = "jwt") -> str:
    """The text of the one-resource contract a ``create_crud`` call stands for.

    Save it as ``specs/api/<feature>.md`` (the feature is the model's kebab-case name) to render
    the same backend with ``skillrunner implement``. Raises UsageError for arguments that cannot
    be written as a contract at all; the contract checker judges the rest.
    """
    _, lines = _contract_lines(model_name, fields, user_field=user_field, soft_delete=soft_delete,
                               timestamps=timestamps, custom_routes=custom_routes, auth=auth)
    return "\n".join(text for text, _ in lines) + "\n"


def _checked(model_name: str, fields: Sequence[Any], *, user_field: bool, soft_delete: bool,
             timestamps: bool, custom_routes: Sequence[Any], auth: str) -> Contract:
    feature, lines = _contract_lines(model_name, fields, user_field=user_field, soft_delete=soft_delete,
                                     timestamps=timestamps, custom_routes=custom_routes, auth=auth)
    text = "\n".join(t for t, _ in lines) + "\n"
    contract, findings = parse_contract(text, f"specs/api/{feature}.md")
    if contract is not None:
        return contract
    # Name the argument behind each problem: the caller never saw the contract's lines.
    shown = []
    for f in findings:
        label = lines[f.line - 1][1] if 0 < f.line <= len(lines) else ""
        where = f"{label}: " if label else ""
        shown.append(replace(f, path=f"create_crud({model_name!r})", message=where + f.message))
    errors = sum(f.severity == "error" for f in shown)
    raise ContractError(f"create_crud({model_name!r}): {errors} error(s) in the contract it stands for; "
                        "see crud_contract(...) for its text", shown)


def create_crud(model_name: str, fields: Sequence[Any] = (), *, user_field: bool = True,
                soft_delete: bool = False, timestamps: bool = True, custom_routes: Sequence[Any] = (),
                auth: str = "jwt", skill: str = "backend-scaffolder",
                project: Path | None = None) -> dict[str, str]:
    """Every file of a backend serving one resource: POSIX path relative to the skill's root -> text.

    ``fields`` are ``(name, type, options)`` tuples; ``custom_routes`` are ``(method, path,
    operation)`` with ``path`` after ``/api/<plural>`` and a contract operation such as
    ``stats(priority)`` (a custom route on a standard method and path replaces that endpoint).
    The call is the contract ``crud_contract`` writes, checked by the same checker and rendered
    by the same renderer with ``skill``: byte for byte what that contract renders. Raises
    UsageError for malformed arguments and ContractError naming the argument behind each problem.
    """
    contract = _checked(model_name, fields, user_field=user_field, soft_delete=soft_delete,
                        timestamps=timestamps, custom_routes=custom_routes, auth=auth)
    conventions = resolve_skill(skill, project=project).conventions
    # The action modules too, as a first implement writes them: the backend imports them.
    return render_backend(contract, conventions, project=project, stubs=True)
