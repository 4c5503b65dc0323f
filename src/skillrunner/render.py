"""The backend renderer: a checked contract plus a skill's conventions -> every file of a FastAPI app."""

from __future__ import annotations

import hashlib
import importlib
import itertools
import re
import sys
import textwrap
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, cast

from skillrunner.contract import (
    SAMPLES_PER_FIELD,
    Contract,
    Endpoint,
    Field,
    Resource,
    find_contract,
    load_contract,
)
from skillrunner.conventions import Conventions
from skillrunner.errors import RenderError
from skillrunner.skills import resolve_skill
from skillrunner.templating import py_literal, render_template
from skillrunner.write import write_files

__all__ = ["LINE_LENGTH", "WriteResult", "implement", "render_backend"]

#: The generated code's line length (its pyproject.toml tells ruff the same).
LINE_LENGTH = 110
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_NAME = 63  # PostgreSQL truncates longer identifiers, which alembic check would see as drift
_TEMPLATE_DIR = "backend"


# --- names --------------------------------------------------------------------------------------------


def _pascal(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


def _db_name(prefix: str, table: str, columns: Sequence[str]) -> str:
    """A constraint or index name PostgreSQL keeps whole: long ones end in a short hash instead."""
    name = "_".join([prefix, table, *columns])
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_NAME - 9]}_{digest}"


def _wrap_literal(text: str, indent: int, width: int = 72, *, used: int = 8) -> str:
    """``text`` as one Python string literal, split into implicitly joined pieces when long.

    ``used``: the characters on its line besides the indent and the literal (``description=``, ``,``).
    """
    whole = _q(text)
    if len(whole) + indent + used <= LINE_LENGTH:
        return whole
    pieces: list[str] = []
    current = ""
    for word in re.split(r"(?<= )", text):
        if current and len(_q(current + word)) > width:
            pieces.append(current)
            current = ""
        while len(_q(word)) > width:
            cut = width // 2
            pieces.append(word[:cut])
            word = word[cut:]
        current += word
    if current:
        pieces.append(current)
    pad = " " * (indent + 4)
    return "(\n" + "\n".join(pad + _q(p) for p in pieces) + "\n" + " " * indent + ")"


def _call(head: str, args: Sequence[str], indent: int, *, description: str = "", suffix: str = "") -> str:
    """``head(arg, ...)`` + ``suffix`` on one line when it fits, else one argument per line."""
    items = list(args)
    if description:
        items.append(f"description={_q(description)}")
    one = f"{head}({', '.join(items)}){suffix}"
    if indent + len(one) <= LINE_LENGTH and "\n" not in one:
        return one
    if description:
        items[-1] = f"description={_wrap_literal(description, indent + 4)}"
    return f"{head}({_one_per_line(items, indent)}){suffix}"


def _lines(items: Sequence[str], indent: int, open_: str = "[", close: str = "]", *, used: int = 0) -> str:
    """A list (or tuple) display: inline when it fits after ``used`` characters, else one item per line."""
    one = open_ + ", ".join(items) + (", " if open_ == "(" and len(items) == 1 else "") + close
    if indent + used + len(one) <= LINE_LENGTH:
        return one
    return f"{open_}{_one_per_line(items, indent)}{close}"


def _one_per_line(items: Sequence[str], indent: int) -> str:
    """What goes between a bracket and its closing twin: one item a line, each with a comma."""
    body = "".join(f"{' ' * (indent + 4)}{_wrap_expr(a, indent + 4)},\n" for a in items)
    return f"\n{body}{' ' * indent}"


def _wrap_expr(expr: str, indent: int) -> str:
    """``expr`` (followed by a comma) as it is when it fits, else broken inside the parentheses of the
    call it ends with, one argument per line, each broken the same way."""
    if indent + len(expr) + 1 <= LINE_LENGTH or "\n" in expr:
        return expr
    call = _final_call(expr)
    if call is None:
        return expr
    head, args = call
    return f"{head}({_one_per_line(args, indent)})"


def _final_call(expr: str) -> tuple[str, list[str]] | None:
    """``(head, arguments)`` when ``expr`` ends with a call's closing parenthesis, else None.

    Brackets inside string literals do not count. Only a call is split: breaking ``(a)`` over
    lines with a trailing comma would turn it into a tuple.
    """
    depth, quote, escaped, opened = 0, "", False, -1
    commas: list[int] = []
    for i, ch in enumerate(expr):
        if quote:
            escaped, quote = (False, quote) if escaped else (ch == "\\", "" if ch == quote else quote)
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            if depth == 0 and ch == "(":
                opened, commas = i, []
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 1 and opened >= 0:
            commas.append(i)
    if depth != 0 or opened <= 0 or not expr.endswith(")") or not re.match(r"[\w)\]]", expr[opened - 1]):
        return None
    bounds = [opened, *commas, len(expr) - 1]
    args = [expr[a + 1:b].strip() for a, b in itertools.pairwise(bounds)]
    return expr[:opened], [a for a in args if a]


def _q(value: Any) -> str:
    """``py_literal`` (the one quoting function), preferring double quotes as the generated code does."""
    if isinstance(value, str):
        text = py_literal(value)
        if text.startswith("'") and '"' not in value:
            return '"' + text[1:-1] + '"'
        return text
    if isinstance(value, list):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_q(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in value.items()) + "}"
    return py_literal(value)


def _code(value: Any) -> str:
    """A short Python expression for a JSON test value: long runs of one character and long lists
    of numbered strings are written as the expressions that build them."""
    if isinstance(value, str) and len(value) > 20 and len(set(value)) == 1:
        return f"{_q(value[0])} * {len(value)}"
    if (isinstance(value, list) and len(value) > 5
            and value == [f"x{i}" for i in range(len(value))]):
        return f'[f"x{{i}}" for i in range({len(value)})]'
    return _q(value)


def _qs(values: Iterable[Any]) -> list[str]:
    return [_q(v) for v in values]


def _display(value: Any, indent: int, used: int = 0) -> str:
    """A Python literal of JSON-like ``value``, one item per line where a line would be too long.

    ``used``: characters before the value on its first line, after the indent (a key, an
    assignment); one more is kept for a trailing comma.
    """
    one = _q(value)
    if indent + used + len(one) < LINE_LENGTH or not isinstance(value, list | tuple | dict) or not value:
        return one
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{_q(k)}: {_display(v, indent + 4, len(_q(k)) + 2)}" for k, v in value.items()]
        return "{\n" + "".join(f"{pad}{i},\n" for i in items) + " " * indent + "}"
    items = [_display(v, indent + 4) for v in value]
    if all("\n" not in i for i in items):  # short items share lines, as a formatter would leave them
        rows: list[str] = []
        for item in items:
            if rows and len(pad) + len(rows[-1]) + len(item) + 2 <= LINE_LENGTH:
                rows[-1] += f" {item},"
            else:
                rows.append(f"{item},")
        return "[\n" + "".join(f"{pad}{r}\n" for r in rows) + " " * indent + "]"
    return "[\n" + "".join(f"{pad}{i},\n" for i in items) + " " * indent + "]"


# --- samples the generated tests use -------------------------------------------------------------------

_BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
#: Samples per field: tests pick the first half by hand, rows made for them (parents, refs) the rest.
_SAMPLES = SAMPLES_PER_FIELD  # contract check warns when a unique field has fewer values


def _regex_sample(pattern: str, seed: int) -> str | None:
    """A string matching ``pattern``; distinct seeds vary the characters chosen (None: not supported)."""
    try:
        parsed = _sre_parse(pattern)
    except Exception:  # a pattern the parser refuses: no sample
        return None
    out: list[str] = []
    state = [seed]

    def pick(options: Sequence[str]) -> str:
        choice = options[state[0] % len(options)]
        state[0] //= len(options)
        return choice

    def klass(items: Sequence[tuple[Any, Any]]) -> list[str] | None:
        chars: list[str] = []
        negate = False
        for op, arg in items:
            name = str(op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                chars.append(chr(arg))
            elif name == "RANGE":
                chars.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 25) + 1))
            elif name == "CATEGORY":
                cat = str(arg)
                chars.extend({"CATEGORY_DIGIT": "0123456789", "CATEGORY_WORD": "abcdefghij",
                              "CATEGORY_SPACE": " "}.get(cat, ""))
                if cat.startswith("CATEGORY_NOT"):
                    chars.extend("abc")
            else:
                return None
        if negate:
            pool = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789" if c not in chars]
            return pool or None
        return sorted(set(chars), key=chars.index) or None

    def emit(items: Any) -> bool:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "NOT_LITERAL":
                out.append("a" if chr(arg) != "a" else "b")
            elif name == "ANY":
                out.append(pick("abcdefghij"))
            elif name == "IN":
                chars = klass(arg)
                if chars is None:
                    return False
                out.append(pick(chars))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, _high, body = arg
                for _ in range(max(low, 0)):
                    if not emit(body):
                        return False
            elif name == "SUBPATTERN":
                if not emit(arg[-1]):
                    return False
            elif name == "BRANCH":  # seeds take turns through the alternatives too
                branches = arg[1]
                if not emit(branches[int(pick([str(i) for i in range(len(branches))]))]):
                    return False
            elif name == "AT":
                continue
            elif name == "CATEGORY":
                out.append(klass([(op, arg)])[0] if klass([(op, arg)]) else "a")  # type: ignore[index]
            else:
                return False
        return True

    if not emit(parsed):
        return None
    text = "".join(out)
    try:
        return text if re.search(pattern, text) else None
    except re.error:
        return None


def _sre_parse(pattern: str) -> Any:
    parser = importlib.import_module("re._parser")
    return parser.parse(pattern)


def _bounds(f: Field) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low exclusive, high exclusive) of a numeric field."""
    low: float | None = None
    high: float | None = None
    low_x = high_x = False
    for name in ("ge", "gt"):
        value = f.constraint(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, low_x = float(value), name == "gt"
    for name in ("le", "lt"):
        value = f.constraint(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            high, high_x = float(value), name == "lt"
    return low, high, low_x, high_x


def _in_bounds(value: float, f: Field) -> bool:
    low, high, low_x, high_x = _bounds(f)
    if low is not None and (value < low or (low_x and value == low)):
        return False
    return not (high is not None and (value > high or (high_x and value == high)))


def _numeric_candidates(f: Field, step: float, offset: float) -> list[float]:
    low, high, _, _ = _bounds(f)
    start = low if low is not None else (high - 60 * step if high is not None else 0.0)
    values = [start + offset + k * step for k in range(60)]
    good = [v for v in values if _in_bounds(v, f)]
    if not good and low is not None and high is not None:
        good = [(low + high) / 2]
    return good


def _text_sample(f: Field, n: int) -> str | None:
    pattern = f.constraint("pattern")
    if isinstance(pattern, str):
        return _regex_sample(pattern, n)
    low = f.constraint("min_length")
    high = f.constraint("max_length")
    text = f"{f.name.replace('_', '-')}-{n}"  # no LIKE wildcard: search tests count matches
    if isinstance(high, int) and len(text) > high:
        text = (chr(ord("a") + n % 26) + str(n // 26))[:high] if high > 1 else chr(ord("a") + n % 26)
    if isinstance(low, int) and len(text) < low:
        text = text + "x" * (low - len(text))
    return text


def _sample(f: Field, n: int) -> Any:
    """The ``n``-th valid JSON value for ``f`` (values differ by ``n`` and grow with it where they can)."""
    t = f.type
    kind = t.kind
    if kind == "enum":
        return t.enum_values[n % len(t.enum_values)]
    if kind == "boolean":
        return n % 2 == 1
    if kind == "integer":
        ints = [int(v) for v in _numeric_candidates(f, 1.0, 0.0) if float(v).is_integer()]
        if not ints:
            low, _, low_x, _ = _bounds(f)
            base = int(low or 0) + (1 if low_x else 0)
            ints = [base + k for k in range(60) if _in_bounds(base + k, f)]
        return ints[n % len(ints)] if ints else 0
    if kind == "number":
        nums = _numeric_candidates(f, 1.0, 0.5)
        return nums[n % len(nums)] if nums else 0.5
    if kind == "decimal":
        scale = t.scale or 0
        nums = _numeric_candidates(f, 1.0, 0.0 if scale == 0 else 0.5)
        value = nums[n % len(nums)] if nums else 0.0
        quant = Decimal(1).scaleb(-scale)
        return str(Decimal(str(value)).quantize(quant))
    if kind == "date":
        return (_BASE_TIME.date() + timedelta(days=n)).isoformat()
    if kind == "datetime":
        return (_BASE_TIME + timedelta(hours=n)).isoformat()
    if kind == "uuid":
        return str(uuid.UUID(f"00000000-0000-4000-8000-{n + 1:012d}"))
    if kind == "email":
        return f"user{n}@example.com"
    if kind == "url":
        # No _ from the field's name: search tests count on samples without LIKE wildcards.
        return f"https://example.com/{f.name.replace('_', '-')}/{n}"
    if kind == "list":
        return [f"{f.name}-{n}"]
    if kind == "json":
        return {"n": n}
    if kind in ("string", "text"):
        return _text_sample(f, n)
    return None


def _invalid_samples(f: Field) -> list[tuple[str, Any]]:
    """(why, JSON value) pairs that create must refuse for ``f``."""
    t = f.type
    out: list[tuple[str, Any]] = []
    wrong = {
        "string": 12345, "text": ["not", "text"], "integer": "not-a-number", "number": "not-a-number",
        "decimal": "not-a-number", "boolean": "not-a-boolean", "date": "not-a-date",
        "datetime": "not-a-datetime", "uuid": "not-a-uuid", "email": "not-an-email",
        "url": "not a url", "enum": "not_a_value", "list": "not-a-list", "json": ["not", "an", "object"],
    }
    if t.kind in wrong:
        out.append(("type", wrong[t.kind]))
    if t.kind in ("string", "text"):
        out.append(("nul", "nul\x00char"))
    if t.kind == "url":
        out.append(("scheme", "ftp://example.com/file"))
    if t.kind == "number":
        out.append(("huge", "1e999"))
    if t.kind == "decimal" and t.scale is not None:
        out.append(("scale", "1." + "1" * (t.scale + 1)))
    if t.kind == "integer":
        out.append(("int64", 2**63))
    if t.kind == "list":
        out.append(("item", [123]))
    low, high = f.constraint("min_length"), f.constraint("max_length")
    if isinstance(low, int) and low > 0 and t.kind in ("string", "text"):
        out.append(("min_length", "" if low == 1 else "x" * (low - 1)))
    if isinstance(high, int) and t.kind in ("string", "text"):
        out.append(("max_length", "x" * (high + 1)))
    elif t.kind == "string" and not isinstance(f.constraint("pattern"), str):
        out.append(("max_length", "x" * 256))
    pattern = f.constraint("pattern")
    if isinstance(pattern, str):
        for candidate in ("!", "~~~", " ", "", "zz-not-matching-99"):
            try:
                if re.search(pattern, candidate) is None:
                    out.append(("pattern", candidate))
                    break
            except re.error:
                break
    lo, hi, lo_x, hi_x = _bounds(f)
    if t.kind in ("integer", "number", "decimal"):
        if lo is not None:
            bad = lo if lo_x else lo - 1
            out.append(("lower bound", _number_json(t.kind, bad)))
        if hi is not None:
            bad = hi if hi_x else hi + 1
            out.append(("upper bound", _number_json(t.kind, bad)))
    items = f.constraint("max_items")
    if isinstance(items, int) and t.kind == "list":
        out.append(("max_items", [f"x{i}" for i in range(items + 1)]))
    return out


def _bad_query(kind: str, length: int | None) -> str | None:
    """A query string value a list filter of ``kind`` must refuse, or None when every text reads."""
    if kind in ("string", "email", "url") and length is not None:
        return "x" * (length + 1)
    return {
        "text": "nul\x00char", "integer": "not-a-number", "number": "not-a-number",
        "decimal": "not-a-number", "boolean": "not-a-boolean", "date": "not-a-date",
        "datetime": "not-a-datetime", "uuid": "not-a-uuid", "enum": "not_a_value", "ref": "not-an-id",
    }.get(kind)


def _number_json(kind: str, value: float) -> Any:
    if kind == "integer":
        return int(value)
    if kind == "decimal":
        return str(Decimal(str(value)))
    return value


# --- the view model the templates read ------------------------------------------------------------------


_Check = tuple[str, tuple[str, ...], str]


#: Names the endpoint and data functions of a list already use (parameters, locals, imports): a
#: filter on a field of that name takes it as ``name_`` (the query parameter keeps the name).
_TAKEN = frozenset({
    "any", "annotated", "bindparam", "body", "cache", "changes", "col", "column", "contains",
    "contains_pattern", "count", "counts", "data", "date", "datetime", "delete", "error_responses",
    "extra", "failed", "fetch_one", "fetch_page", "found", "func", "ids", "item", "later", "now",
    "open_session", "or_", "order", "ordering", "page", "page_count", "page_query", "page_size",
    "pages", "q", "query", "result", "router", "row", "row_query", "rows", "run_db", "select",
    "service", "session", "sort", "statement", "total", "update", "user_id", "utcnow", "value",
    "values", "wanted", "where",
})


@dataclass(frozen=True)
class FieldView:
    """One contract field, as the model, schema, migration and test templates need it."""

    name: str
    kind: str
    spec: str
    required: bool
    nullable: bool
    has_default: bool
    type: str  # the Python type of a value, without None
    annotation: str  # on the Base model
    args: tuple[str, ...]  # Field(...) arguments on the Base model (no description)
    update_args: tuple[str, ...]  # Field(...) arguments on the Update schema
    column_args: tuple[str, ...]  # the migration's sa.Column(...) arguments
    description: str
    ref: str | None = None  # the target resource's class name
    ref_table: str | None = None
    alias: str | None = None  # a type alias the model module defines for this field (enum, pattern)
    alias_def: str = ""  # its right-hand side
    enum_values: tuple[str, ...] = ()
    unique: bool = False
    sortable: bool = True
    query: str = ""  # the annotation of a list filter on this field
    arg: str = ""  # its name as a filter parameter: the field's, or with a trailing _ (see _TAKEN)
    default_json: Any = None  # the contract's default as JSON (when has_default)
    bad_query: str | None = None  # a query value a list filter on this field must refuse (422)


@dataclass(frozen=True)
class EndpointView:
    """One endpoint: its route, function names and what it takes."""

    kind: str
    method: str
    path: str  # with {id} named after the resource
    function: str
    helper: str
    status: int
    responses: tuple[int, ...]
    filters: tuple[FieldView, ...] = ()
    sorts: tuple[str, ...] = ()
    default_sort: str = "-created_at"
    search_fields: tuple[str, ...] = ()
    stats_field: FieldView | None = None
    stats_model: str = ""
    stats_values: tuple[str, ...] = ()
    assignments: tuple[tuple[str, str, Any], ...] = ()  # (field, Python literal, JSON value)
    line: int = 0


@dataclass(frozen=True)
class ResourceView:
    """One resource with every name and query the templates need."""

    name: str
    snake: str
    table: str
    plural_title: str
    description: str
    id_type: str  # "int" | "uuid"
    id_py: str  # IntId | UUID
    id_param: str  # task_id
    id_plain: str  # int | UUID
    owner: bool
    timestamps: bool
    soft_delete: bool
    fields: tuple[FieldView, ...]
    endpoints: tuple[EndpointView, ...]
    parent: ResourceView | None
    parent_field: str | None
    parent_param: str | None
    on_delete: str | None
    modules: dict[str, str]
    indexes: tuple[tuple[str, tuple[str, ...]], ...]
    uniques: tuple[tuple[str, tuple[str, ...]], ...]
    scope_owned: tuple[str, ...]  # conditions on this table for rows the caller may see
    scope_visible: tuple[str, ...]  # the same, without the owner (403 mode)
    owned_extra: tuple[str, ...]  # ancestors' owner conditions (403 mode, nested)
    parent_scope_owned: tuple[str, ...]
    parent_scope_visible: tuple[str, ...]
    parent_owned_extra: tuple[str, ...]
    delete_checks: tuple[_Check, ...]  # (model, conditions, message): a row found means 409
    delete_steps: tuple[tuple[str, str], ...]  # (model, condition) of dependent rows, deepest first
    delete_subqueries: tuple[tuple[str, str], ...]  # (variable, id subquery) the two above use
    restrict_checks: tuple[_Check, ...]  # soft delete: live children block it
    refs: tuple[tuple[FieldView, str, tuple[str, ...]], ...]  # (field, target class, conditions)
    models: tuple[str, ...]  # other model classes the data code uses
    has: frozenset[str]  # operation kinds present
    samples: dict[str, list[Any]]
    invalid: dict[str, list[tuple[str, Any]]]
    create_required: tuple[str, ...]
    search_probe: str | None  # the field the search tests write into
    nested_children: tuple[tuple[str, str, str], ...]  # (child class, table, on delete)
    service_import: str = ""  # how the router imports its service module
    service_ref: str = ""  # the name the router calls it by
    private: bool = False  # it or an ancestor has an owner: other users' rows are out of reach
    missing_id: Any = None  # an id (JSON) no row ever has

    def op(self, kind: str) -> EndpointView | None:
        """The first endpoint of ``kind``, or None."""
        return next((e for e in self.endpoints if e.kind == kind), None)

    def ops(self, kind: str) -> tuple[EndpointView, ...]:
        """Every endpoint of ``kind``."""
        return tuple(e for e in self.endpoints if e.kind == kind)

    def has_any(self, *kinds: str) -> bool:
        """True when any endpoint is of one of ``kinds``."""
        return bool(self.has & set(kinds))

    def field(self, name: str) -> FieldView:
        """The field called ``name``."""
        return next(f for f in self.fields if f.name == name)

    def uses(self, kind: str) -> bool:
        """True when a field of ``kind`` (or a ref to a uuid id, for ``uuid``) is present."""
        return any(f.kind == kind for f in self.fields)


class _Builder:
    """Turns the contract into views; every Python expression here is built from checked names."""

    def __init__(self, contract: Contract, conv: Conventions) -> None:
        self.contract = contract
        self.conv = conv
        self.views: dict[str, ResourceView] = {}
        self.by_name = {r.name: r for r in contract.resources}

    # -- types ------------------------------------------------------------------------------------

    def id_py(self, res: Resource) -> str:
        return "UUID" if res.id_type == "uuid" else "IntId"

    def field_view(self, res: Resource, f: Field) -> FieldView:
        t = f.type
        kind = t.kind
        pattern = f.constraint("pattern")
        alias = f"{res.name}{_pascal(f.name)}" if kind == "enum" or isinstance(pattern, str) else None
        alias_def = ""
        if kind == "enum":
            alias_def = _lines([_q(v) for v in t.enum_values], 0, "Literal[", "]", used=len(f"{alias} = "))
        max_length = f.constraint("max_length")
        length = max_length if isinstance(max_length, int) else None
        args: list[str] = []
        sa_type = ""
        column_type = ""
        py = ""
        ref_target: Resource | None = None
        if kind == "string":
            length = length or 255
            py, sa_type, column_type = "SafeText", f"String({length})", f"sa.String(length={length})"
        elif kind == "text":
            py, sa_type, column_type = "SafeText", "Text", "sa.Text()"
        elif kind == "email":
            length = min(length or 320, 320)
            py, sa_type, column_type = "Email", f"String({length})", f"sa.String(length={length})"
        elif kind == "url":
            length = min(length or 2083, 2083)
            py, sa_type, column_type = "HttpUrlText", f"String({length})", f"sa.String(length={length})"
        elif kind == "integer":
            py, sa_type, column_type = "Int64", "BigInteger", "sa.BigInteger()"
        elif kind == "number":
            py, sa_type, column_type = "Finite", "Float", "sa.Float()"
        elif kind == "decimal":
            p, s = t.precision or 10, t.scale or 0
            py = f"Annotated[Decimal, scaled({s})]"
            sa_type, column_type = f"Numeric({p}, {s})", f"sa.Numeric(precision={p}, scale={s})"
            args += [f"max_digits={p}", f"decimal_places={s}"]
        elif kind == "boolean":
            py, sa_type, column_type = "bool", "Boolean", "sa.Boolean()"
        elif kind == "date":
            py, sa_type, column_type = "date", "Date", "sa.Date()"
        elif kind == "datetime":
            py, sa_type, column_type = "UtcDatetime", "UTCDateTime", "sa.DateTime(timezone=True)"
        elif kind == "uuid":
            py, sa_type, column_type = "UUID", "Uuid", "sa.Uuid()"
        elif kind == "enum":
            width = max(len(v) for v in t.enum_values)
            py, sa_type, column_type = str(alias), f"String({width})", f"sa.String(length={width})"
        elif kind == "list":
            py, sa_type, column_type = "list[SafeText]", "JSON", "sa.JSON()"
        elif kind == "json":
            py, sa_type, column_type = "JsonObject", "JSON", "sa.JSON()"
        elif kind == "ref":
            ref_target = self.by_name[str(t.ref)]
            if ref_target.id_type == "uuid":
                py, sa_type, column_type = "UUID", "Uuid", "sa.Uuid()"
            else:
                py, sa_type, column_type = "IntId", "Integer", "sa.Integer()"
        constraint_args: list[str] = []
        for c in f.constraints:
            if c.name in ("index", "unique"):
                continue
            if c.name == "max_items":
                constraint_args.append(f"max_length={_q(c.value)}")
            elif c.name == "max_length" and kind in ("email", "url"):
                continue
            elif c.name == "pattern":
                # Before clean_text, on the str itself: behind a validator (Annotated[SafeText, ...]) the
                # pattern is still enforced but vanishes from the OpenAPI schema.
                py = str(alias)
                constraint = _call("StringConstraints", [f"pattern={_q(c.value)}"], 4, suffix=",")
                if "\n" in constraint:  # a long pattern: implicitly joined pieces
                    piece = _wrap_literal(str(c.value), 8, used=len("pattern=,"))
                    constraint = f"StringConstraints(\n        pattern={piece},\n    ),"
                alias_def = f"Annotated[\n    str,\n    {constraint}\n    AfterValidator(clean_text),\n]"
            elif c.name in ("ge", "le", "gt", "lt") and kind == "decimal":
                # Likewise a bound on a Decimal goes before scaled(), where the schema documents it.
                bound = f"{c.name.capitalize()}(Decimal({_q(str(c.value))}))"
                py = py.replace("Annotated[Decimal, ", f"Annotated[Decimal, {bound}, ", 1)
            else:
                constraint_args.append(f"{c.name}={_q(c.value)}")
        if kind in ("string", "email", "url") and not isinstance(max_length, int):
            constraint_args.append(f"max_length={length}")
        if kind in ("email", "url") and isinstance(max_length, int):
            constraint_args.append(f"max_length={length}")
        bounds = {c.name for c in f.constraints if c.name in ("ge", "gt", "le", "lt")}
        if kind == "integer" and bounds:
            # Int64's own bounds would replace the contract's (pydantic keeps the last ge/le), so a
            # bounded integer is a plain int with the BIGINT range filling the side left open.
            py = "int"
            if not bounds & {"ge", "gt"}:
                constraint_args.append("ge=INT64_MIN")
            if not bounds & {"le", "lt"}:
                constraint_args.append("le=INT64_MAX")
        args += constraint_args
        base_args: list[str] = []
        if f.has_default:
            base_args.append(self.default_arg(f))
        elif f.nullable:
            base_args.append("default=None")
        base_args += args
        base_args.append(f"sa_type={sa_type}")
        if f.nullable:
            base_args.append("nullable=True")
        if ref_target is not None:
            base_args.append(f"foreign_key={_q(ref_target.table + '.id')}")
        annotation = f"{py} | None" if f.nullable else py
        update_args = ["default=None", *args]
        col_parts = [_q(f.name), column_type]
        if ref_target is not None:
            col_parts.append(f"sa.ForeignKey({_q(ref_target.table + '.id')})")
        col_parts.append(f"nullable={f.nullable}")
        col_parts = [p for p in col_parts if p]
        arg = f"{f.name}_" if f.name in _TAKEN else f.name
        query_args = [f"alias={_q(f.name)}"] if arg != f.name else []
        if kind in ("string", "email", "url"):
            query_args.insert(0, f"max_length={length}")
            query = f"Annotated[SafeText | None, Query({', '.join(query_args)})]"
        else:
            plain = {"decimal": "Decimal", "number": "Finite", "integer": "Int64"}.get(kind, py)
            query = f"Annotated[{plain} | None, Query({', '.join(query_args)})]"
        return FieldView(
            query=query, arg=arg, name=f.name, kind=kind, spec=t.spec, required=f.required,
            nullable=f.nullable, has_default=f.has_default, type=py, annotation=annotation,
            args=tuple(base_args), update_args=tuple(update_args), column_args=tuple(col_parts),
            description=f.description, ref=ref_target.name if ref_target else None,
            ref_table=ref_target.table if ref_target else None, alias=alias, alias_def=alias_def,
            enum_values=t.enum_values, unique=f.constraint("unique") is True,
            sortable=kind not in ("json", "list"),
            default_json=list(f.default) if isinstance(f.default, tuple) else f.default,
            bad_query=_bad_query(kind, length),
        )

    def value_code(self, f: Field, value: Any) -> str:
        """A Python expression for a contract value (a default or a bulk_update value) of ``f``."""
        kind = f.type.kind
        if value is None:
            return "None"
        if kind == "decimal":
            return f"Decimal({_q(str(value))})"
        if kind == "date":
            return f"date.fromisoformat({_q(str(value))})"
        if kind == "datetime":
            return f"as_utc(datetime.fromisoformat({_q(str(value))}))"
        if kind == "uuid":
            return f"UUID({_q(str(value))})"
        if kind == "number":
            return _q(float(value))
        if kind == "list":
            return _q(list(value))
        return _q(value)

    def default_arg(self, f: Field) -> str:
        if f.type.kind == "list":
            items = list(cast(Iterable[Any], f.default or ()))
            return "default_factory=list" if not items else f"default_factory=lambda: {_q(items)}"
        return f"default={self.value_code(f, f.default)}"

    # -- scopes: which rows a caller may reach -----------------------------------------------------

    def scope(self, res: Resource, *, owner: bool, local: bool = False, user: str = "user_id") -> list[str]:
        """Conditions (code) on ``res``'s table for rows visible to ``user`` (code: a name or a bindparam)."""
        out: list[str] = []
        if res.soft_delete:
            out.append(f"col({res.name}.deleted_at).is_(None)")
        if owner and res.owner == "user":
            out.append(f"col({res.name}.user_id) == {user}")
        if res.parent and not local:
            parent = self.by_name[res.parent.resource]
            inner = self.scope(parent, owner=owner)
            if inner:
                out.append(f"col({res.name}.{res.parent_field}).in_(select({parent.name}.id)"
                           f".where({', '.join(inner)}))")
        return out

    def owner_extra(self, parent: Resource) -> list[str]:
        """403 mode: conditions on ``parent``'s table holding when the caller owns every ancestor
        above it (``parent``'s own owner is compared in Python); empty when none has an owner."""
        above = self.by_name[parent.parent.resource] if parent.parent else None
        if above is None or not self.has_owner_above(above):
            return []
        return self.scope(parent, owner=True)

    def has_owner_above(self, res: Resource) -> bool:
        node: Resource | None = res
        while node is not None:
            if node.owner == "user":
                return True
            node = self.by_name[node.parent.resource] if node.parent else None
        return False

    def models_in(self, code: Iterable[str]) -> set[str]:
        names = set()
        for text in code:
            names |= set(re.findall(r"\b([A-Z][A-Za-z0-9]*)\.", text)) & set(self.by_name)
        return names

    # -- deletes ------------------------------------------------------------------------------------

    def delete_plan(self, res: Resource) -> tuple[list[_Check], list[tuple[str, str]], list[tuple[str, str]]]:
        """Checks (409), the deletes of the rows that go with one row of ``res`` (deepest first), and
        the id subqueries (variable, expression) both use, in the order they must be assigned."""
        checks: list[_Check] = []
        steps: list[tuple[str, str]] = []
        gone: list[tuple[Resource, str]] = [(res, f"col({res.name}.id) == {res.snake}_id")]
        subqueries: dict[str, str] = {}

        def ids(node: Resource, cond: str) -> str:
            # Named, so that three levels of nesting still read (and fit on a line).
            name = f"{node.snake}_ids"
            subqueries.setdefault(name, f"select({node.name}.id).where({cond})")
            return name

        def visit(node: Resource, cond: str) -> None:
            for child in self.contract.children(node.name):
                assert child.parent is not None
                if node is res:
                    child_cond = f"col({child.name}.{child.parent_field}) == {res.snake}_id"
                else:
                    child_cond = f"col({child.name}.{child.parent_field}).in_({ids(node, cond)})"
                if child.parent.on_delete == "restrict":
                    live = [child_cond] + ([f"col({child.name}.deleted_at).is_(None)"]
                                           if child.soft_delete else [])
                    checks.append((child.name, tuple(live),
                                   f"{node.name} still has {child.table}; delete them first"))
                gone.append((child, child_cond))
                visit(child, child_cond)

        visit(res, gone[0][1])
        in_plan = {r.name: c for r, c in gone}
        for target, cond in gone:
            for other in self.contract.resources:
                for f in other.fields:
                    if f.type.kind != "ref" or f.type.ref != target.name:
                        continue
                    if target is res:
                        where = [f"col({other.name}.{f.name}) == {res.snake}_id"]
                    else:
                        where = [f"col({other.name}.{f.name}).in_({ids(target, cond)})"]
                    if other.name in in_plan:
                        where.append(f"col({other.name}.id).not_in({ids(other, in_plan[other.name])})")
                    checks.append((other.name, tuple(where),
                                   f"{other.table} still refer to this {target.snake.replace('_', ' ')}"))
        for node, cond in reversed(gone[1:]):
            steps.append((node.name, cond))
        code = " ".join([*(c for _, conds, _ in checks for c in conds), *(c for _, c in steps),
                         *subqueries.values()])
        used = [(name, expr) for name, expr in subqueries.items() if re.search(rf"\b{name}\b", code)]
        return checks, steps, used

    def restrict_plan(self, res: Resource) -> list[_Check]:
        """For a soft delete: live restrict children still block it."""
        checks: list[_Check] = []
        for child in self.contract.children(res.name):
            assert child.parent is not None
            if child.parent.on_delete != "restrict":
                continue
            live = [f"col({child.name}.{child.parent_field}) == {res.snake}_id"]
            if child.soft_delete:
                live.append(f"col({child.name}.deleted_at).is_(None)")
            checks.append((child.name, tuple(live), f"{res.name} still has {child.table}; delete them first"))
        return checks

    # -- endpoints ------------------------------------------------------------------------------------

    def statuses(self, res: Resource, ep: Endpoint) -> tuple[int, ...]:
        kind = ep.operation.kind
        codes = set(ep.errors)
        if self.contract.auth != "none":
            codes.add(401)
        nested = res.parent is not None
        if kind in ("get", "update", "delete") or nested:
            codes.add(404)
            if self.conv.not_owned_status == 403 and self.has_owner_above(res):
                codes.add(403)
        if kind in ("create", "update", "list", "search", "bulk_update") or ep.path_params:
            codes.add(422)
        if kind in ("create", "update", "bulk_update") and any(f.constraint("unique") is True
                                                                 for f in res.fields):
            codes.add(409)
        if kind == "delete":
            checks = self.delete_plan(res)[0] if not res.soft_delete else self.restrict_plan(res)
            if checks:
                codes.add(409)
        if kind in ("create", "update", "bulk_update"):
            codes.add(400)
        codes.discard(ep.status)
        return tuple(sorted(c for c in codes if c >= 400))

    def endpoint_views(self, res: Resource, fields: dict[str, FieldView]) -> list[EndpointView]:
        out: list[EndpointView] = []
        taken: set[str] = set()
        id_param = f"{res.snake}_id"
        default_sort = "-created_at" if res.timestamps else "-id"

        def unique(name: str) -> str:
            base, i = name, 2
            while name in taken:
                name, i = f"{base}_{i}", i + 1
            taken.add(name)
            return name

        for ep in res.endpoints:
            op = ep.operation
            kind = op.kind
            path = ep.path.replace("{id}", "{" + id_param + "}")
            last = ep.path.rstrip("/").split("/")[-1]
            word = last.replace("-", "_") if re.fullmatch(r"[a-z][a-z0-9_-]*", last) else kind
            if kind in ("create", "get", "update", "delete"):
                function = unique(f"{kind}_{res.snake}")
            elif kind == "list":
                function = unique(f"list_{res.table}")
            else:
                function = unique(f"{word}_{res.table}" if word != res.table else f"{kind}_{res.table}")
            sorts: tuple[str, ...] = ()
            if kind == "list" and (op.filters or op.sorts):
                extra = ("created_at",) if res.timestamps else ("id",)
                sorts = tuple(dict.fromkeys([*op.sorts, *extra]))
            stats_field = fields[op.fields[0]] if kind == "stats" else None
            stats_values: tuple[str, ...] = ()
            if stats_field is not None:
                stats_values = stats_field.enum_values if stats_field.kind == "enum" else ("true", "false")
            assignments = []
            for name, value in op.assignments:
                f = res.field(name)
                assert f is not None
                json_value = list(value) if isinstance(value, tuple) else value
                assignments.append((name, self.value_code(f, value), json_value))
            out.append(EndpointView(
                kind=kind, method=ep.method, path=path, function=function, helper=f"_{function}",
                status=ep.status, responses=self.statuses(res, ep),
                filters=tuple(fields[n] for n in op.filters), sorts=sorts, default_sort=default_sort,
                search_fields=op.fields if kind == "search" else (), stats_field=stats_field,
                stats_model=f"{res.name}{_pascal(op.fields[0])}Stats" if kind == "stats" else "",
                stats_values=stats_values, assignments=tuple(assignments), line=ep.line,
            ))
        # Static segments before parameters, so /search is never read as an id.
        return sorted(out, key=lambda e: [(1, "") if part.startswith("{") else (0, part)
                                          for part in e.path.split("/")])

    # -- resources ------------------------------------------------------------------------------------

    def resource_view(self, res: Resource) -> ResourceView:
        if res.name in self.views:
            return self.views[res.name]
        parent_res = self.by_name[res.parent.resource] if res.parent else None
        parent = self.resource_view(parent_res) if parent_res else None
        fields = {f.name: self.field_view(res, f) for f in res.fields}
        endpoints = self.endpoint_views(res, fields)
        conv = self.conv
        modules: dict[str, str] = {kind: conv.module(kind, name=res.snake, plural=res.table)
                   for kind in ("model", "schema", "router", "service", "test") if kind in conv.layout}
        owner_cols = ["user_id"] if res.owner == "user" else []
        order_cols = ["created_at", "id"] if res.timestamps else ["id"]
        indexes: dict[tuple[str, ...], str] = {}

        def add_index(cols: list[str]) -> None:
            key = tuple(cols)
            if key and key not in indexes:
                indexes[key] = _db_name("ix", res.table, key)

        if res.owner == "user":
            add_index(["user_id", *order_cols])
        if res.parent_field:
            add_index([res.parent_field, *order_cols])
        scope_prefix = owner_cols or ([res.parent_field] if res.parent_field else [])
        for ep in res.endpoints:
            for name in ep.operation.filters:
                add_index([*scope_prefix, name])
        for f in res.fields:
            indexed = f.constraint("index") is True or f.type.kind == "ref"
            if indexed and (f.name,) not in indexes and (*scope_prefix, f.name) not in indexes:
                add_index([f.name])
        uniques = []
        for f in res.fields:
            if f.constraint("unique") is True:
                cols = (*owner_cols, f.name)
                uniques.append((_db_name("uq", res.table, cols), cols))
        refs = []
        for f in res.fields:
            if f.type.kind == "ref":
                target = self.by_name[str(f.type.ref)]
                refs.append((fields[f.name], target.name, tuple(self.scope(target, owner=True))))
        checks, steps, subqueries = self.delete_plan(res)
        restrict = self.restrict_plan(res)
        # Bound, not literal: _own() and _one() build statements once, for every caller.
        scope_owned = tuple(self.scope(res, owner=True, local=True, user='bindparam("user_id")'))
        scope_visible = tuple(self.scope(res, owner=False, local=True, user='bindparam("user_id")'))
        parent_scope_owned = tuple(self.scope(parent_res, owner=True)) if parent_res else ()
        parent_scope_visible = tuple(self.scope(parent_res, owner=False)) if parent_res else ()
        parent_owned_extra = tuple(self.owner_extra(parent_res)) if parent_res else ()
        code = [*parent_scope_owned, *parent_scope_visible, *parent_owned_extra,
                *(f"{m}. {' '.join(c)}" for m, c, _ in [*checks, *restrict]),
                *(f"{m}. {c}" for m, c in steps), *(e for _, e in subqueries),
                *(c for r in refs for c in r[2]), *(r[1] + "." for r in refs)]
        models = sorted(self.models_in(code) - {res.name})
        if parent_res is not None:
            models = sorted({*models, parent_res.name})
        samples: dict[str, list[Any]] = {}
        invalid: dict[str, list[tuple[str, Any]]] = {}
        for f in res.fields:
            if f.type.kind != "ref":
                samples[f.name] = [_sample(f, n) for n in range(_SAMPLES)]
            invalid[f.name] = _invalid_samples(f) if f.type.kind != "ref" else [("type", "not-an-id")]
        probe = None
        search = next((ep for ep in res.endpoints if ep.operation.kind == "search"), None)
        if search is not None:
            for name in search.operation.fields:
                candidate = res.field(name)
                if (candidate is None or candidate.type.kind not in ("string", "text")
                        or candidate.constraint("pattern")):
                    continue
                low, high = candidate.constraint("min_length"), candidate.constraint("max_length")
                if (not isinstance(low, int) or low <= 3) and (not isinstance(high, int) or high >= 5):
                    probe = name
                    break
        children = tuple((c.name, c.table, c.parent.on_delete if c.parent else "cascade")
                         for c in self.contract.children(res.name))
        service_import = service_ref = ""
        if "service" in modules:
            package, _, leaf = modules["service"].rpartition(".")
            service_import = f"from {package} import {leaf} as service" if package else f"import {leaf}"
            service_ref = "service" if package else leaf
        view = ResourceView(
            service_import=service_import, service_ref=service_ref, name=res.name, snake=res.snake,
            table=res.table, plural_title=res.table.replace("_", " "),
            description=res.description, id_type=res.id_type, id_py=self.id_py(res),
            id_param=f"{res.snake}_id", id_plain="UUID" if res.id_type == "uuid" else "int",
            owner=res.owner == "user", timestamps=res.timestamps,
            soft_delete=res.soft_delete, fields=tuple(fields.values()), endpoints=tuple(endpoints),
            parent=parent, parent_field=res.parent_field,
            parent_param=res.parent_field, on_delete=res.parent.on_delete if res.parent else None,
            modules=modules, indexes=tuple((name, cols) for cols, name in indexes.items()),
            uniques=tuple(uniques), scope_owned=scope_owned, scope_visible=scope_visible,
            owned_extra=(), parent_scope_owned=parent_scope_owned, parent_scope_visible=parent_scope_visible,
            parent_owned_extra=parent_owned_extra, delete_checks=tuple(checks), delete_steps=tuple(steps),
            delete_subqueries=tuple(subqueries),
            restrict_checks=tuple(restrict), refs=tuple(refs), models=tuple(models),
            has=frozenset(ep.operation.kind for ep in res.endpoints), samples=samples, invalid=invalid,
            create_required=tuple(f.name for f in res.fields if f.required), search_probe=probe,
            nested_children=children, private=self.has_owner_above(res),
            missing_id="00000000-0000-4000-8000-0000deadbeef" if res.id_type == "uuid" else 2**31 - 1,
        )
        self.views[res.name] = view
        return view


# --- import blocks: sorted and pruned as ruff's isort wants them -------------------------------------

_IMPORT = re.compile(r"^(?:import (?P<plain>[\w.]+(?: as \w+)?)"
                     r"|from (?P<module>[\w.]+) import (?P<names>[\w, ]+))$")
_AS = re.compile(r"^(?P<name>\w+)(?: as (?P<alias>\w+))?$")


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|\D+", text.lower()))


def _member_key(name: str) -> tuple[int, tuple[tuple[int, int, str], ...]]:
    if len(name) > 1 and name.isupper():
        rank = 0
    elif name[:1].isupper():
        rank = 1
    else:
        rank = 2
    return rank, _natural(name)


# A comment or a string literal (any prefix, single or triple quoted), scanned left to right so that
# a quote inside a comment or a # inside a string never starts a match.
_STRING_OR_COMMENT = re.compile(
    r"""\#[^\n]*"""
    r"""|(?P<prefix>(?<![\w])[rRbBuUfF]{0,2})"""
    r"""(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')""",
    re.DOTALL,
)
_KEYWORD_TAIL = re.compile(r"\s*=(?!=)")


class _Uses:
    """``name in uses``: whether ``code`` reads ``name`` (not as an attribute after a dot, not as a
    keyword argument's name, not inside a comment or a plain string; f-strings count).

    Regular expressions, asked only for the names a module imports: this runs on every generated
    module, and tokenizing them all was most of a large render's time.
    """

    def __init__(self, code: str) -> None:
        self._code = _STRING_OR_COMMENT.sub(
            lambda m: m[0] if m["prefix"] and "f" in m["prefix"].lower() else '""', code)
        self._known: dict[str, bool] = {}

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name not in self._known:
            # A literal first lets the search skip ahead; the character before is checked by hand.
            found = re.finditer(rf"{re.escape(name)}(?!\w)", self._code)
            self._known[name] = any(not self._after_dot_or_word(m) and not self._keyword_name(m)
                                    for m in found)
        return self._known[name]

    def _after_dot_or_word(self, match: re.Match[str]) -> bool:
        start = match.start()
        return start > 0 and (self._code[start - 1] == "." or self._code[start - 1].isalnum()
                              or self._code[start - 1] == "_")

    def _keyword_name(self, match: re.Match[str]) -> bool:
        before = match.start() - 1
        while before >= 0 and self._code[before] in " \t\n":
            before -= 1
        opens = before >= 0 and self._code[before] in "(,"
        return opens and _KEYWORD_TAIL.match(self._code, match.end()) is not None


def tidy_python(text: str, first_party: frozenset[str]) -> str:
    """Sort and prune the top import block (isort style, as ruff checks it) and normalise blank lines.

    Templates import generously; a name the rest of the file never uses is dropped, so each file
    imports exactly what it needs whatever the contract holds.
    """
    lines = text.split("\n")
    i = 0
    head: list[str] = []
    if lines and lines[0].startswith('"""'):
        while i < len(lines):
            head.append(lines[i])
            closed = lines[i].count('"""') >= (2 if i == 0 else 1)
            i += 1
            if closed:
                break
    start = i
    imports: list[re.Match[str]] = []
    while i < len(lines):
        stripped = lines[i].strip()
        match = _IMPORT.match(stripped)
        if match:
            imports.append(match)
        elif stripped.startswith("#") and not _import_follows(lines, i):
            break  # a comment on the code after the imports, not inside them
        elif stripped and not stripped.startswith("#"):
            break
        i += 1
    body = "\n".join(lines[i:])
    used = _Uses(body)
    future: set[str] = set()
    plain: dict[str, set[str]] = {}
    froms: dict[str, set[str]] = {}
    aliased: set[tuple[str, str, str]] = set()
    for m in imports:
        if m["plain"]:
            module, _, alias = m["plain"].partition(" as ")
            if (alias or module.split(".")[0]) in used:
                plain.setdefault(m["plain"], set())
            continue
        module = m["module"]
        for piece in (n.strip() for n in m["names"].split(",")):
            part = _AS.match(piece)
            if part is None:
                continue
            name, alias = part["name"], part["alias"]
            if module == "__future__":
                future.add(name)
            elif alias:
                if alias in used:
                    aliased.add((module, name, alias))
            elif name in used:
                froms.setdefault(module, set()).add(name)
    sections: dict[int, list[str]] = {}

    def section(module: str) -> int:
        top = module.split(".")[0]
        if module == "__future__":
            return 0
        if top in first_party:
            return 3
        if top in sys.stdlib_module_names:
            return 1
        return 2

    for module in sorted(plain, key=_natural):
        sections.setdefault(section(module), []).append(f"import {module}")
    statements: list[tuple[Any, str]] = []
    for module in froms:
        names = sorted(froms[module], key=_member_key)
        one = f"from {module} import {', '.join(names)}"
        if len(one) > LINE_LENGTH:
            one = f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
        statements.append(((_natural(module), 0, ()), one))
    for module, name, alias in aliased:
        statement = f"from {module} import {name} as {alias}"
        statements.append(((_natural(module), 1, _member_key(name)), statement))
    for _key, text in sorted(statements):
        sections.setdefault(section(text.split()[1]), []).append(text)
    if future:
        sections[0] = [f"from __future__ import {', '.join(sorted(future, key=_member_key))}"]
    block = "\n\n".join("\n".join(sections[k]) for k in sorted(sections))
    rest = body.strip("\n")
    code = [line for line in rest.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    first = code[0] if code else ""
    gap = "\n\n\n" if re.match(r"(async def|def|class|@)", first) else "\n\n"
    out = "\n".join(head).rstrip("\n")
    if out:
        out += "\n\n" if block or rest else "\n"
    del start
    if block:
        out += block + (gap if rest else "\n")
    out += rest
    return _normalise(out)


def _import_follows(lines: list[str], i: int) -> bool:
    """Whether the next line after ``lines[i]`` that is neither blank nor a comment is an import."""
    for line in lines[i + 1:]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return _IMPORT.match(stripped) is not None
    return False


def _normalise(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return text.strip("\n") + "\n"


# --- rendering --------------------------------------------------------------------------------------------


def _packages(paths: Iterable[str], skip: Iterable[str]) -> list[str]:
    """``__init__.py`` for every folder holding generated Python modules (not for ``skip`` folders)."""
    skipped = {PurePosixPath(s) for s in skip}
    out: set[str] = set()
    for rel in paths:
        p = PurePosixPath(rel)
        if p.suffix != ".py":
            continue
        for parent in p.parents:
            if parent == PurePosixPath(".") or parent in skipped or any(s in parent.parents for s in skipped):
                continue
            out.add((parent / "__init__.py").as_posix())
    return sorted(out)


def _top_level(paths: Iterable[str]) -> frozenset[str]:
    tops = set()
    for rel in paths:
        p = PurePosixPath(rel)
        if p.suffix == ".py" or len(p.parts) > 1:
            tops.add(p.parts[0].removesuffix(".py"))
    return frozenset(t for t in tops if t.isidentifier())


def _dir(conv: Conventions, kind: str) -> str:
    return str(PurePosixPath(conv.path(kind)).parent)


def _context(contract: Contract, conv: Conventions) -> dict[str, Any]:
    builder = _Builder(contract, conv)
    resources = [builder.resource_view(r) for r in contract.ordered_resources()]
    once = {kind: conv.module(kind) for kind in conv.layout
            if kind not in ("model", "schema", "router", "service", "test")
            and conv.layout[kind].endswith(".py")}
    builtin = contract.auth == "builtin"
    users_test_path = conv.path("test", name="user", plural="users")
    paths = [conv.path(k) for k in conv.layout if k not in ("model", "schema", "router", "service", "test")]
    paths += [conv.path(k, name=r.snake, plural=r.table) for r in contract.resources
              for k in ("model", "schema", "router", "service", "test") if k in conv.layout]
    return {
        "first_party": sorted(_top_level(p for p in paths if not p.startswith(_dir(conv, "alembic_env")))),
        "alembic_dir": _dir(conv, "alembic_env"),
        "versions_dir": _dir(conv, "migration"),
        "tests_dir": _dir(conv, "conftest"),
        "contract": contract,
        "title": contract.title,
        "version": contract.version,
        "description": contract.description,
        "auth": contract.auth,
        "builtin": builtin,
        "conv": conv,
        "envelope": conv.error_envelope,
        "not_owned": conv.not_owned_status,
        "service_layer": conv.service_layer,
        "modules": once,
        "resources": resources,
        "users_test_path": users_test_path,
        "wrap": _wrap_literal,
        "call": _call,
        "display": _display,
        "q": _q,
        "qs": _qs,
        "code": _code,
        "lines": _lines,
        "py": _q,
        "db_name": _db_name,
        "app_module": conv.app.partition(":")[0],
        "app_attr": conv.app.partition(":")[2] or "app",
        "line_length": LINE_LENGTH,
    }


def _tables_module(conv: Conventions) -> str | None:
    """The one module holding every table, when the layout's ``model`` path has no placeholder."""
    path = conv.layout["model"]
    return None if "{name}" in path or "{plural}" in path else path


def _tables_docstring(contract: Contract) -> str:
    tables = ["users"] if contract.auth == "builtin" else []
    tables += [r.table for r in contract.ordered_resources()]
    text = f"Every table ({', '.join(tables)}) and the fields each resource's schemas share."
    lines = textwrap.wrap(text, LINE_LENGTH - 10)
    return '"""' + "\n".join(lines) + '"""'


def _merge_modules(docstring: str, parts: Sequence[str], module: str) -> str:
    """Rendered modules joined into one: their imports together (``tidy_python`` sorts and prunes
    them later; imports of ``module`` itself are dropped), then each body in turn."""
    imports: list[str] = []
    bodies: list[str] = []
    for text in parts:
        lines = text.split("\n")
        i = 0
        if lines and lines[0].startswith('"""'):
            while i < len(lines):
                closed = lines[i].count('"""') >= (2 if i == 0 else 1)
                i += 1
                if closed:
                    break
        while i < len(lines):
            stripped = lines[i].strip()
            match = _IMPORT.match(stripped)
            if match:
                if match["module"] != module:
                    imports.append(stripped)
            elif stripped and not stripped.startswith("#"):
                break
            i += 1
        bodies.append("\n".join(lines[i:]).strip("\n"))
    return docstring + "\n\n" + "\n".join(imports) + "\n\n\n" + "\n\n\n".join(bodies) + "\n"


def _render(name: str, context: Mapping[str, Any], project: Path | None) -> str:
    return render_template(f"{_TEMPLATE_DIR}/{name}", context, project=project)


def render_backend(contract: Contract, conventions: Conventions, *,
                   project: Path | None = None) -> dict[str, str]:
    """Every file of the backend: POSIX path relative to ``conventions.root`` -> text, sorted.

    Pure and deterministic: the same contract, conventions and templates give the same bytes.
    Project templates (``<project>/templates/backend/...``) override the packaged ones.
    """
    conv = conventions
    ctx = _context(contract, conv)
    builtin = contract.auth == "builtin"
    files: dict[str, str] = {}
    once = ["main", "config", "database", "errors", "common", "conftest", "alembic_ini", "alembic_env",
            "alembic_script", "migration", "requirements", "pyproject", "readme"]
    if contract.auth != "none":
        once += ["auth", "dependencies"] if "dependencies" in conv.layout else ["auth"]
    if builtin:
        once += ["users_model", "users_router"]
        if conv.service_layer:
            once.append("users_service")
    templates = {
        "main": "main.py.j2", "config": "config.py.j2", "database": "database.py.j2",
        "errors": "errors.py.j2", "common": "common.py.j2", "conftest": "conftest.py.j2",
        "alembic_ini": "alembic.ini.j2", "alembic_env": "alembic_env.py.j2",
        "alembic_script": "script.py.mako.j2", "migration": "migration.py.j2",
        "requirements": "requirements.txt.j2", "pyproject": "pyproject.toml.j2", "readme": "README.md.j2",
        "auth": "auth.py.j2", "users_model": "users_model.py.j2", "users_router": "users_router.py.j2",
        "users_service": "users_service.py.j2", "dependencies": "dependencies.py.j2",
    }
    tables = _tables_module(conv)
    parts: list[str] = []  # the tables rendered into ``tables``, users first
    for kind in once:
        if kind == "users_model" and conv.path(kind) == tables:
            parts.append(_render(templates[kind], ctx, project))
            continue
        files[conv.path(kind)] = _render(templates[kind], ctx, project)
    per = ["model", "schema", "router", "test"] + (["service"] if conv.service_layer else [])
    for res in ctx["resources"]:
        local = {**ctx, "res": res}
        for kind in per:
            path = conv.path(kind, name=res.snake, plural=res.table)
            if kind == "model" and tables:
                parts.append(_render("model.py.j2", local, project))
                continue
            if path in files:
                raise RenderError(f"two files would be written to {path}",
                                  hint="give every file kind its own path in conventions.yaml")
            files[path] = _render(f"{kind}.py.j2", local, project)
    if tables:
        if tables in files:
            raise RenderError(f"two files would be written to {tables}",
                              hint="only the users table may share the tables module's path")
        files[tables] = _merge_modules(_tables_docstring(contract), parts, conv.module("model"))
    if builtin:
        files[ctx["users_test_path"]] = _render("test_users.py.j2", ctx, project)
    skip = {str(PurePosixPath(conv.path(k)).parent) for k in ("alembic_env", "migration")}
    for init in _packages(files, skip):
        files.setdefault(init, "")
    first_party = frozenset(ctx["first_party"])
    out: dict[str, str] = {}
    for path in sorted(files):
        text = files[path]
        if path.endswith(".py") and text:
            text = tidy_python(text, first_party)
        elif text:
            text = _normalise(text)
        out[path] = text
    return out


# --- implement: render and write ----------------------------------------------------------------------


@dataclass(frozen=True)
class WriteResult:
    """What ``implement`` wrote; paths relative to the project, sorted."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    merged: tuple[str, ...]
    conflicts: tuple[str, ...]
    root: Path
    app: str
    diff: str = ""


def implement(*, project: Path, feature: str, skill: str = "backend-builder", force: bool = False,
              dry_run: bool = False, diff: bool = False) -> WriteResult:
    """Render ``specs/api/<feature>.md`` with ``skill`` and write it under the skill's root.

    A contract error raises before anything is written; files the user edited are merged or
    refused (``WriteConflictError``) unless ``force``.
    """
    contract = load_contract(find_contract(feature, project=project), project=project)
    choice = resolve_skill(skill, project=project)
    conv: Conventions = choice.conventions
    files = render_backend(contract, conv, project=project)
    report = write_files(files, project=project, root=conv.root, key=f"implement:{choice.name}",
                         force=force, dry_run=dry_run, diff=diff, prune=True)
    return WriteResult(
        created=tuple(sorted(report.created)), updated=tuple(sorted(report.updated)),
        unchanged=tuple(sorted(report.unchanged)), merged=tuple(sorted(report.merged)),
        conflicts=tuple(sorted(report.conflicts)), root=project / conv.root, app=conv.app,
        diff=report.diff,
    )

