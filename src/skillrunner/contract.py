"""API contracts: the typed, immutable model of a ``specs/api/*.md`` file, its parser and checker."""

from __future__ import annotations

import difflib
import json
import keyword
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

from markdown_it.token import Token

from skillrunner.errors import ContractError, SkillrunnerError, UsageError
from skillrunner.findings import Finding
from skillrunner.frontmatter import Document, parse_document
from skillrunner.markdown import parse_blocks

__all__ = [
    "AUTH_KINDS",
    "CONSTRAINT_TYPES",
    "ENDPOINT_COLUMNS",
    "FIELD_COLUMNS",
    "FIELD_KINDS",
    "FRONTMATTER_KEYS",
    "OPERATION_KINDS",
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
    "check_contract",
    "check_contract_files",
    "contract_summary",
    "contract_to_dict",
    "find_contract",
    "load_contract",
    "locate_contract",
    "parse_contract",
]

FieldKind = Literal[
    "string", "text", "integer", "number", "decimal", "boolean", "date", "datetime",
    "uuid", "email", "url", "enum", "list", "json", "ref",
]
FIELD_KINDS: tuple[str, ...] = FieldKind.__args__  # type: ignore[attr-defined]
OperationKind = Literal["create", "list", "get", "update", "delete", "search", "stats",
                        "bulk_update"]
OPERATION_KINDS: tuple[str, ...] = OperationKind.__args__  # type: ignore[attr-defined]
AuthKind = Literal["jwt", "builtin", "none"]
AUTH_KINDS: tuple[str, ...] = AuthKind.__args__  # type: ignore[attr-defined]
IdType = Literal["int", "uuid"]
#: A JSON-compatible scalar, or a tuple of them (lists are tuples so models stay hashable).
Value = str | int | float | bool | None | tuple["Value", ...]


@dataclass(frozen=True)
class FieldType:
    """A contract type: ``kind`` plus its parameters (``enum(a, b)``, ``decimal(10, 2)``...)."""

    kind: FieldKind
    enum_values: tuple[str, ...] = ()  # enum
    precision: int | None = None  # decimal
    scale: int | None = None  # decimal
    item: FieldKind | None = None  # list[item]
    ref: str | None = None  # ref(Resource): the resource's name

    @property
    def spec(self) -> str:
        """The type as a contract writes it: ``enum(a, b)``, ``decimal(10, 2)``, ``list[string]``."""
        if self.kind == "enum":
            return f"enum({', '.join(self.enum_values)})"
        if self.kind == "decimal":
            return f"decimal({self.precision}, {self.scale})"
        if self.kind == "list":
            return f"list[{self.item or 'string'}]"
        if self.kind == "ref":
            return f"ref({self.ref})"
        return self.kind


@dataclass(frozen=True)
class Constraint:
    """``name=value`` from the Constraints column; ``index`` and ``unique`` have value True."""

    name: str
    value: Value


@dataclass(frozen=True)
class Field:
    """One row of a resource's field table."""

    name: str
    type: FieldType
    required: bool
    has_default: bool = False
    default: Value = None
    constraints: tuple[Constraint, ...] = ()
    description: str = ""
    line: int = 0

    def constraint(self, name: str) -> Value:
        """The value of constraint ``name``, or None when it is absent."""
        return next((c.value for c in self.constraints if c.name == name), None)

    @property
    def nullable(self) -> bool:
        """True for an optional field without a default: it may be null (and PATCH may clear it)."""
        return not self.required and not self.has_default


@dataclass(frozen=True)
class Operation:
    """What an endpoint does: ``list(filter: a, b; sort: c)``, ``search(a, b)``, ``stats(a)``..."""

    kind: OperationKind
    filters: tuple[str, ...] = ()  # list
    sorts: tuple[str, ...] = ()  # list
    fields: tuple[str, ...] = ()  # search: fields matched; stats: the one field counted
    assignments: tuple[tuple[str, Value], ...] = ()  # bulk_update(field=value)

    @property
    def spec(self) -> str:
        """The operation as a contract writes it: ``list(filter: status; sort: title)``."""
        if self.kind == "list":
            clauses = [f"{name}: {', '.join(items)}"
                       for name, items in (("filter", self.filters), ("sort", self.sorts)) if items]
            return f"list({'; '.join(clauses)})" if clauses else "list"
        if self.kind in ("search", "stats"):
            return f"{self.kind}({', '.join(self.fields)})"
        if self.kind == "bulk_update":
            pairs = ", ".join(f"{name}={_format_value(value)}" for name, value in self.assignments)
            return f"bulk_update({pairs})"
        return self.kind


@dataclass(frozen=True)
class Endpoint:
    """One row of a resource's endpoint table."""

    method: str  # upper case: GET, POST, PUT, PATCH, DELETE
    path: str
    operation: Operation
    status: int
    body: str | None  # "Task", "Page[Task]", "Stats", "BulkResult", or None (e.g. 204)
    errors: tuple[int, ...] = ()
    line: int = 0

    @property
    def path_params(self) -> tuple[str, ...]:
        """The ``{name}`` parameters of the path, in order: ``("task_id", "id")``."""
        return tuple(seg[1:-1] for seg in self.path.split("/") if seg.startswith("{") and seg.endswith("}"))

    @property
    def success(self) -> str:
        """The Success cell: ``201 Task``, ``204``."""
        return f"{self.status} {self.body}" if self.body else str(self.status)


@dataclass(frozen=True)
class Parent:
    """``parent: Task (on delete: cascade)``."""

    resource: str
    on_delete: Literal["cascade", "restrict"] = "cascade"


@dataclass(frozen=True)
class Resource:
    """A ``## Resource: Name`` section."""

    name: str  # PascalCase, as written: "Task"
    table: str  # "tasks"
    id_type: IdType = "int"
    owner: Literal["user", "none"] = "user"
    parent: Parent | None = None
    timestamps: bool = True
    soft_delete: bool = False
    fields: tuple[Field, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    description: str = ""
    line: int = 0

    @property
    def snake(self) -> str:
        """``TaskItem`` -> ``task_item``: module and variable names."""
        return _snake(self.name)

    @property
    def parent_field(self) -> str | None:
        """The column and path parameter holding the parent's id (``task_id``), or None."""
        return f"{_snake(self.parent.resource)}_id" if self.parent else None

    def field(self, name: str) -> Field | None:
        """The field called ``name``, or None."""
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Contract:
    """A whole contract file."""

    path: str  # POSIX path as given, for messages
    feature: str
    title: str
    version: str = "1.0.0"
    auth: AuthKind = "jwt"
    description: str = ""
    resources: tuple[Resource, ...] = field(default_factory=tuple)

    def resource(self, name: str) -> Resource | None:
        """The resource called ``name``, or None."""
        return next((r for r in self.resources if r.name == name), None)

    def children(self, name: str) -> tuple[Resource, ...]:
        """The resources whose ``parent:`` is ``name``, in file order."""
        return tuple(r for r in self.resources if r.parent and r.parent.resource == name)

    def ordered_resources(self) -> tuple[Resource, ...]:
        """Resources with every parent and ``ref`` target before the resources that need it.

        File order is kept where nothing forces another; a ``ref`` cycle keeps file order.
        """
        done: list[Resource] = []
        seen: set[str] = set()

        def visit(res: Resource) -> None:
            if res.name in seen:
                return
            seen.add(res.name)
            needs = [res.parent.resource] if res.parent else []
            needs += [f.type.ref for f in res.fields if f.type.kind == "ref" and f.type.ref]
            for name in needs:
                dep = self.resource(name)
                if dep is not None:
                    visit(dep)
            done.append(res)

        for res in self.resources:
            visit(res)
        return tuple(done)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper()
                                   or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


# --- the format's vocabulary ---------------------------------------------------------------------

#: Frontmatter keys a contract may set.
FRONTMATTER_KEYS: tuple[str, ...] = ("feature", "title", "version", "auth")
#: A resource's bullet settings (keys are matched without case; ``soft_delete`` also works).
SETTINGS: tuple[str, ...] = ("table", "id", "owner", "parent", "timestamps", "soft delete")
FIELD_COLUMNS: tuple[str, ...] = ("Field", "Type", "Required", "Default", "Constraints", "Description")
ENDPOINT_COLUMNS: tuple[str, ...] = ("Method", "Path", "Operation", "Success", "Errors")

_TEXTUAL = ("string", "text", "email", "url")
_NUMERIC = ("integer", "number", "decimal")
#: Each constraint and the field types it applies to.
CONSTRAINT_TYPES: dict[str, tuple[str, ...]] = {
    "min_length": _TEXTUAL,
    "max_length": _TEXTUAL,
    "pattern": ("string", "text"),
    "ge": _NUMERIC,
    "le": _NUMERIC,
    "gt": _NUMERIC,
    "lt": _NUMERIC,
    "max_items": ("list",),
    "index": ("string", "integer", "number", "decimal", "boolean", "date", "datetime", "uuid",
              "email", "url", "enum", "ref"),
    "unique": ("string", "integer", "decimal", "date", "datetime", "uuid", "email", "url", "ref"),
}
_FLAGS = ("index", "unique")
#: Distinct values the generated tests give each field (render takes its sample count from here).
SAMPLES_PER_FIELD = 24
_FILTER_TYPES = ("string", "email", "url", "integer", "decimal", "boolean", "date", "uuid", "enum", "ref")
_SEARCH_TYPES = _TEXTUAL
_STATS_TYPES = ("enum", "boolean")
_UNSORTABLE = ("json", "list")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_OPERATION_METHODS: dict[str, tuple[str, ...]] = {
    "create": ("POST",), "list": ("GET",), "get": ("GET",), "update": ("PATCH",),
    "delete": ("DELETE",), "search": ("GET",), "stats": ("GET",), "bulk_update": ("POST", "PATCH"),
}
_ITEM_OPERATIONS = ("get", "update", "delete")
_ONCE_OPERATIONS = ("create", "list", "get", "update", "delete")
_QUERY_PARAMS = ("page", "page_size", "sort", "q")
_LIMITS = {"email": 320, "url": 2083, "string": 10_485_760, "text": 1_073_741_823}
_INT64 = 2**63
_MAX_NAME = 63  # PostgreSQL truncates identifiers longer than this

_TYPE_ALIASES = {
    "str": "string", "varchar": "string", "char": "string", "int": "integer", "bigint": "integer",
    "float": "number", "double": "number", "real": "number", "numeric": "decimal", "money": "decimal",
    "bool": "boolean", "timestamp": "datetime", "timestamptz": "datetime", "time": "datetime",
    "uri": "url", "link": "url", "dict": "json", "object": "json", "map": "json", "array": "list[string]",
    "choice": "enum(a, b)", "foreign_key": "ref(Resource)", "fk": "ref(Resource)",
}
_OPERATION_ALIASES = {
    "read": "get", "retrieve": "get", "show": "get", "patch": "update", "edit": "update",
    "remove": "delete", "destroy": "delete", "index": "list", "count": "stats", "find": "search",
    "bulk": "bulk_update", "post": "create", "new": "create",
}

#: Columns and attributes the generated models have whatever the contract says.
_GENERATED_FIELDS = ("id", "user_id", "created_at", "updated_at", "deleted_at")
#: Public attributes of SQLModel / pydantic models (a field of that name would shadow them).
_MODEL_ATTRS = frozenset({
    "construct", "copy", "dict", "from_orm", "json", "metadata", "parse_file", "parse_obj",
    "parse_raw", "registry", "schema", "schema_json", "update_forward_refs", "validate",
})
_MODEL_PREFIXES = ("model_", "sqlmodel_", "_")
#: Builtins of Python 3.11 (the lower-case ones: functions and types).
_BUILTINS = frozenset({
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes",
    "callable", "chr", "classmethod", "compile", "complex", "delattr", "dict", "dir", "divmod",
    "enumerate", "eval", "exec", "filter", "float", "format", "frozenset", "getattr", "globals",
    "hasattr", "hash", "hex", "id", "input", "int", "isinstance", "issubclass", "iter", "len", "list",
    "locals", "map", "max", "memoryview", "min", "next", "object", "oct", "open", "ord", "pow",
    "print", "property", "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted",
    "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip",
})
#: Names the generated modules import or define: a resource of that name would shadow them.
_RESERVED_RESOURCES = frozenset({
    "AfterValidator", "AllowInfNan", "Annotated", "Any", "APIRouter", "AppError", "AsyncIterator",
    "Base", "BaseModel", "BaseSettings", "BigInteger", "Body", "Boolean", "BulkRequest", "BulkResult",
    "Callable", "Caller", "Column", "ConfigDict", "Conflict", "CurrentUser", "Date", "DateTime",
    "Decimal", "Depends", "Dialect", "Email", "EmailStr", "Endpoint", "Enum", "ErrorBody", "ErrorInfo",
    "FastAPI", "Field", "FieldError", "Finite", "Float", "Forbidden", "Ge", "Generic", "Gt",
    "HTTPAuthorizationCredentials", "HTTPBearer", "HTTPException", "HttpUrl", "HttpUrlText", "IdT",
    "Index", "Int64", "Integer", "IntegrityError", "Interval", "IntId", "InvalidHashError",
    "InvalidInput", "InvalidOperation", "Iterator", "JsonObject", "JSONResponse", "Le", "Literal", "Lt",
    "Maker", "NotFound", "Numeric", "OAuth2PasswordRequestForm", "Optional", "OrmSession", "Page",
    "PageQuery", "ParamSpec", "PasswordHasher", "Path", "Query", "Register", "Relationship", "Request",
    "RequestValidationError", "Response", "Row", "SafeText", "Scene", "Select", "Sequence", "Session",
    "Settings", "SettingsConfigDict", "SQLModel", "Stats", "String", "StringConstraints", "TestClient",
    "Text", "ThreadPoolExecutor", "Token", "TypeAdapter", "TypeDecorator", "TypeVar", "Unauthorized",
    "UniqueConstraint", "User", "UserPublic", "UTCDateTime", "UtcDatetime", "Uuid", "UUID",
    "ValidationErrorBody", "VerificationError",
})
_SCHEMA_SUFFIXES = ("Base", "Create", "Update", "Public", "Read")
_RESERVED_SNAKE = frozenset({"auth", "common", "user"})
#: Reserved words of PostgreSQL and SQLite: not usable as table names unquoted.
_SQL_RESERVED = frozenset(str.split("""
abort action add after all alter analyse analyze and any array as asc asymmetric attach
authorization autoincrement before begin between binary both by cascade case cast check collate
collation column commit concurrently conflict constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user database default
deferrable deferred delete desc detach distinct do drop each else end escape except exclusive
exists explain fail false fetch for foreign freeze from full glob grant group having if ignore
ilike immediate in index indexed initially inner insert instead intersect into is isnull join key
lateral leading left like limit localtime localtimestamp match natural no not nothing notnull null
of offset on only or order outer overlaps placing plan pragma primary query raise recursive
references regexp reindex release rename replace restrict returning right rollback row rows
savepoint select session_user set similar some symmetric system_user table tablesample temp
temporary then to trailing transaction trigger true union unique update user using vacuum values
variadic verbose view virtual when where window with
"""))


def _reserved_table_hint(table: str) -> str:
    """A name for a table that is not reserved: the plural when it is free, else app_<name>."""
    plural = f"{table}s"
    if table.endswith("s") or plural in _SQL_RESERVED:
        return f"write e.g. app_{table}"
    return f"write e.g. {plural} or app_{table}"


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*")
_SNAKE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SEGMENT = re.compile(r"[a-z0-9_-]+")
_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_VERSION = re.compile(r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?")
_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")


# --- small helpers -------------------------------------------------------------------------------


def _format_value(value: Value) -> str:
    """A value as a contract writes it (bare word, number, true/false, quoted string, JSON list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if re.fullmatch(r"[A-Za-z0-9_.:@/+-]+", value):
            return value
        return f"'{value}'" if '"' in value and "'" not in value else json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return "null"


def _did_you_mean(word: str, options: Iterable[str], *, aliases: dict[str, str] | None = None) -> str:
    opts = list(options)
    if aliases and word.lower() in aliases:
        return f"did you mean {aliases[word.lower()]!r}?"
    close = difflib.get_close_matches(word.lower(), opts, n=1, cutoff=0.6)
    listed = ", ".join(opts)
    return f"did you mean {close[0]!r}? (one of: {listed})" if close else f"use one of: {listed}"


def _unquote(text: str) -> str | None:
    """The inside of ``"..."``, ``'...'`` or a code span; None when ``text`` is not quoted."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return None


def _unwrap(text: str) -> str:
    """A structural cell: stripped, and one surrounding pair of backticks removed."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "`":
        return text[1:-1].strip()
    return text


def _split_top(text: str, sep: str) -> list[tuple[int, str]]:
    """Split on ``sep`` outside quotes and brackets; each piece with its offset in ``text``."""
    pieces: list[tuple[int, str]] = []
    start = 0
    quote = ""
    depth = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            pieces.append((start, text[start:i]))
            start = i + 1
    pieces.append((start, text[start:]))
    return pieces


def _piece(offset: int, raw: str) -> tuple[int, str]:
    """A split piece stripped, its offset moved to its first non-space character."""
    stripped = raw.lstrip()
    return offset + len(raw) - len(stripped), stripped.rstrip()


class _Bad(Exception):
    """A cell that does not read; carries message and hint for the finding."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _read_literal(text: str) -> Value:
    """A constraint value: quoted string, integer, float, or a bare word."""
    inner = _unquote(text)
    if inner is not None:
        return inner
    try:
        if _INT.fullmatch(text):
            return int(text)
        if _FLOAT.fullmatch(text):
            return float(text)
    except ValueError:  # more digits than int() reads
        raise _Bad(f"number {text[:20]}... is too long") from None
    return text


def _read_value(raw: str, ftype: FieldType) -> Value:
    """A default or bulk_update value for a field of ``ftype``, from its cell text."""
    text = raw.strip()
    inner = _unquote(text)
    kind = ftype.kind
    if kind in ("string", "text", "email", "url", "enum", "date", "datetime"):
        return inner if inner is not None else text
    if kind == "uuid":
        value = inner if inner is not None else text
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value  # the checker names the problem
    if kind == "integer":
        if inner is None and _INT.fullmatch(text) and len(text) < 40:
            return int(text)
        raise _Bad(f"{text!r} is not an integer", "write digits, e.g. 0 or -5")
    if kind == "number":
        if inner is None and _FLOAT.fullmatch(text) and len(text) < 400:
            return float(text)
        raise _Bad(f"{text!r} is not a number", "write e.g. 1.5 or 0")
    if kind == "decimal":
        if inner is None and _DECIMAL.fullmatch(text) and len(text) < 80:
            return text
        raise _Bad(f"{text!r} is not a decimal", "write digits with an optional fraction, e.g. 9.99")
    if kind == "boolean":
        flag = _YES_NO.get(text.lower())
        if flag is None:
            raise _Bad(f"{text!r} is not a boolean", "write true or false")
        return flag
    if kind == "list":
        if not text.startswith("[") or len(text) > 10_000:
            raise _Bad(f"{text!r} is not a list", 'write a JSON list of strings: [] or ["a", "b"]')
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError):
            raise _Bad(f"{text!r} is not a JSON list", 'write [] or ["a", "b"]') from None
        if not isinstance(loaded, list) or not all(isinstance(v, str) for v in loaded):
            raise _Bad("a list[string] value holds only strings", 'write [] or ["a", "b"]')
        return tuple(loaded)
    raise _Bad(f"a {kind} field cannot be given a value here",
               "json and ref fields take no default and no bulk_update value")


_YES_NO = {"yes": True, "true": True, "no": False, "false": False}


def _value_problem(ftype: FieldType, value: Value) -> str | None:
    """Why ``value`` is not a value of ``ftype`` (None when it is)."""
    kind = ftype.kind
    if kind in ("string", "text"):
        return None if isinstance(value, str) else "is not a string"
    if kind == "email":
        return None if isinstance(value, str) and _EMAIL.fullmatch(value) else "is not an email address"
    if kind == "url":
        return None if isinstance(value, str) and _URL.fullmatch(value) else "is not an http(s) URL"
    if kind == "enum":
        if isinstance(value, str) and value in ftype.enum_values:
            return None
        return f"is not one of the enum's values ({', '.join(ftype.enum_values)})"
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return None if -_INT64 <= value < _INT64 else "does not fit in 64 bits"
        return "is not an integer"
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None if math.isfinite(value) else "is not a finite number"
        return "is not a number"
    if kind == "decimal":
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            return "is not a decimal written as a string like '9.99'"
        whole, _, frac = value.lstrip("-").partition(".")
        p, s = ftype.precision or 0, ftype.scale or 0
        if len(frac) > s or len(whole.lstrip("0")) > p - s:
            return f"does not fit decimal({p}, {s})"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else "is not true or false"
    if kind == "date":
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return "is not a date (YYYY-MM-DD)"
    if kind == "datetime":
        if isinstance(value, str) and len(value) <= 40:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                return None
        return "is not an ISO 8601 datetime with an offset (e.g. 2024-01-31T09:00:00Z)"
    if kind == "uuid":
        try:
            if isinstance(value, str) and str(uuid.UUID(value)) == value:
                return None
        except ValueError:
            pass
        return "is not a UUID"
    if kind == "list":
        if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            return None
        return "is not a list of strings"
    return f"cannot be given to a {kind} field"


def _pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a pydantic ``pattern``: it must compile in Python's ``re`` and
    use nothing that pydantic's default (Rust) engine refuses."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return f"does not compile as a regular expression: {exc}"
    unsupported = (("(?=", "look-ahead"), ("(?!", "look-ahead"), ("(?<=", "look-behind"),
                   ("(?<!", "look-behind"), ("(?P=", "backreferences"), ("(?>", "atomic groups"),
                   ("(?(", "conditional groups"), ("(?#", "comments"))
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1:i + 2]
            if not in_class and nxt in "123456789" and nxt:
                return "uses backreferences, which pydantic's regex engine does not support"
            if nxt == "Z":
                return r"uses \Z, which pydantic's regex engine does not know; use $"
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
            i += 1
            continue
        if ch == "[":
            i += 1
            i += pattern[i:i + 1] == "^"
            i += pattern[i:i + 1] == "]"
            in_class = True
            continue
        for opener, what in unsupported:
            if pattern.startswith(opener, i):
                return f"uses {what}, which pydantic's regex engine does not support"
        if ch in "*+?}" and pattern[i + 1:i + 2] == "+":
            return "uses a possessive quantifier, which pydantic's regex engine does not support"
        i += 1
    return None


def _cheap_to_match(pattern: str, value: str) -> bool:
    """True when Python's backtracking ``re`` surely matches ``pattern`` on ``value`` quickly.

    A repeated group can take 2**len(value) steps, and k quantifiers in a row len(value)**k;
    the check is skipped past a budget rather than risk hanging on a hostile contract.
    """
    if re.search(r"\)[*+{]", pattern):
        return len(value) <= 16
    quantifiers = len(re.findall(r"(?<!\\)(?:[*+?]|\{\d)", pattern))
    return max(quantifiers, 1) * math.log10(len(value) + 1) <= 7  # (len + 1) ** k <= 10 ** 7


# --- reading markdown ------------------------------------------------------------------------------


@dataclass
class _Block:
    """A top-level markdown block: its tokens (open to close) and 1-based lines [start, end]."""

    kind: str
    tag: str
    tokens: list[Token]
    start: int
    end: int

    @property
    def text(self) -> str:
        """The inline content of a heading (or the first inline token)."""
        return next((t.content for t in self.tokens if t.type == "inline"), "")


def _blocks(tokens: list[Token]) -> list[_Block]:
    out: list[_Block] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        j = i
        if tok.nesting == 1:
            depth = 0
            while j < len(tokens):
                depth += tokens[j].nesting
                if depth <= 0:
                    break
                j += 1
        span = tok.map or [0, 0]
        out.append(_Block(tok.type.removesuffix("_open"), tok.tag, tokens[i:j + 1], span[0] + 1, span[1]))
        i = j + 1
    return out


@dataclass(frozen=True)
class _Cell:
    text: str
    line: int
    col: int


@dataclass
class _Row:
    line: int
    cells: dict[str, _Cell]


_PIPE_OR_ESCAPE = re.compile(r"\\.|\|")


def _cell_cols(raw: str) -> list[int]:
    """1-based columns where each cell of a table row starts (its first non-space character)."""
    first = len(raw) - len(raw.lstrip(" "))
    if raw[first:first + 1] == "|":
        first += 1
    starts = [first]
    starts += [m.end() for m in _PIPE_OR_ESCAPE.finditer(raw, first) if m.group() == "|"]
    if not raw[starts[-1]:].strip():
        starts.pop()  # the closing pipe opens no cell
    return [s + len(raw[s:]) - len(raw[s:].lstrip(" \t")) + 1 for s in starts]


# --- the parser ------------------------------------------------------------------------------------

_Where = dict[tuple[Any, ...], tuple[int, int]]


class _Parser:
    """One pass over one file's tokens; collects every finding and the positions of every cell."""

    def __init__(self, raw: str | bytes, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.where: _Where = {}
        self.broken: set[tuple[str, str]] = set()  # (resource, field) that did not read
        self.skip: set[tuple[int, str]] = set()  # (line, check) already reported while reading
        self.doc: Document = parse_document(raw, path)
        self.findings.extend(self.doc.findings)
        self.lines = self.doc.text.split("\n")
        self.auth = "jwt"

    def error(self, line: int, col: int, message: str, hint: str = "", code: str = "") -> None:
        self.findings.append(Finding(self.path, line, col, "error", message, hint, code))

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def col_of(self, line: int, needle: str, start: int = 0) -> int:
        found = self.line_text(line).find(needle, start) if needle else -1
        return found + 1 if found >= 0 else 1

    # frontmatter --------------------------------------------------------------------------------

    def frontmatter(self) -> dict[str, str]:
        doc = self.doc
        out: dict[str, str] = {}
        if not doc.has_frontmatter:
            self.error(1, 1, "the contract has no frontmatter",
                       "start the file with lines ---, feature: <name>, title: <title>, auth: jwt, ---",
                       "frontmatter")
            return out
        if doc.data is None:
            return out
        for key, value in doc.data.items():
            line, col = doc.where(key)
            self.where[("fm", key)] = (line, col)
            if key not in FRONTMATTER_KEYS:
                hint = (f"{key} is a resource setting: write `- {key}: ...` under `## Resource: Name`"
                        if key.replace("_", " ") in SETTINGS else _did_you_mean(key, FRONTMATTER_KEYS))
                self.error(line, col, f"unknown frontmatter key {key!r}", hint, "frontmatter")
                continue
            if not isinstance(value, str):
                shown = "nothing" if value is None else f"a {type(value).__name__}"
                hint = 'quote it: version: "1.0.0"' if key == "version" else f"write {key}: <text>"
                self.error(line, col, f"frontmatter {key} must be a string, not {shown}", hint, "frontmatter")
                continue
            out[key] = value
        return out

    # structure ----------------------------------------------------------------------------------

    def parse(self) -> Contract:
        meta = self.frontmatter()
        doc = self.doc
        # Leading newlines keep token lines equal to file lines; they do not change the markdown.
        blocks = _blocks(parse_blocks("\n" * (doc.body_line - 1) + doc.body))
        preamble: list[_Block] = []
        sections: list[tuple[str, int, int, list[_Block]]] = []
        h1: str | None = None
        current: list[_Block] | None = None  # blocks of the resource being read, None elsewhere
        in_resources = False
        for block in blocks:
            if block.kind == "heading" and block.tag == "h1" and h1 is None and not in_resources:
                h1 = block.text.strip()
                continue
            if block.kind == "heading" and block.tag == "h2":
                in_resources = True
                title = block.text.strip()
                match = re.fullmatch(r"Resource:\s*(.*)", title)
                if match:
                    name = _unwrap(match.group(1))
                    current = []
                    sections.append((name, block.start, self.col_of(block.start, name) if name else 1,
                                     current))
                    continue
                current = None
                if title.lower().startswith("resource"):
                    self.error(block.start, 1, f"heading {title!r} is not a resource heading",
                               "write `## Resource: Name`, e.g. `## Resource: Task`", "structure")
                continue
            if current is not None:
                current.append(block)
            elif not in_resources:
                preamble.append(block)
            elif block.kind == "heading" and block.text.strip().lower() == "endpoints":
                self.error(block.start, 1, "### Endpoints is outside any resource",
                           "put it under a `## Resource: Name` heading", "structure")
        auth = meta.get("auth", "jwt")
        if auth not in AUTH_KINDS:
            self.error(*self.where.get(("fm", "auth"), (1, 1)), f"auth {auth!r} is not known",
                       _did_you_mean(auth, AUTH_KINDS), "frontmatter")
            auth = "jwt"
        self.auth = auth
        resources = tuple(self.resource(name, line, col, blks) for name, line, col, blks in sections)
        title = meta.get("title", "")
        if "title" not in meta:
            title = h1 or ""
            if not title and doc.data is not None and "title" not in doc.data:
                self.error(1, 1, "the contract has no title",
                           "add `title: <text>` to the frontmatter (or a # heading)", "frontmatter")
        feature = meta.get("feature", "")
        if "feature" not in meta and doc.data is not None and "feature" not in doc.data:
            stem = _stem(self.path)
            self.error(1, 1, "the frontmatter has no feature",
                       f"add `feature: {stem if stem and _SLUG.fullmatch(stem) else '<name>'}`",
                       "frontmatter")
        self.feature_matches_file(feature)
        preamble_text = self.prose(preamble)
        return Contract(path=self.path, feature=feature, title=title, version=meta.get("version", "1.0.0"),
                        auth=cast(AuthKind, auth), description=preamble_text, resources=resources)

    def feature_matches_file(self, feature: str) -> None:
        stem = _stem(self.path)
        if not feature or not stem or not _SLUG.fullmatch(feature):
            return
        if stem not in (feature, f"{feature}-endpoints"):
            self.error(*self.where.get(("fm", "feature"), (1, 1)),
                       f"feature {feature!r} does not match the file name {PurePosixPath(self.path).name!r}",
                       f"name the file {feature}.md, or write feature: {stem.removesuffix('-endpoints')}",
                       "feature")

    def prose(self, blocks: Sequence[_Block]) -> str:
        parts = ["\n".join(self.lines[b.start - 1:b.end]).strip("\n") for b in blocks if b.end >= b.start]
        return "\n\n".join(p for p in parts if p.strip())

    # a resource section ---------------------------------------------------------------------------

    def resource(self, name: str, line: int, col: int, blocks: list[_Block]) -> Resource:
        self.where[("resource", line)] = (line, col)
        settings: _Block | None = None
        fields_table: _Block | None = None
        endpoints_table: _Block | None = None
        endpoints_heading: int | None = None
        prose: list[_Block] = []
        part = "top"  # top | fields | endpoints | other
        for block in blocks:
            if block.kind == "heading" and block.tag == "h3":
                heading = block.text.strip().lower()
                if heading == "endpoints":
                    if endpoints_heading is not None:
                        self.error(block.start, 1, f"{name} has a second ### Endpoints",
                                   f"merge it with the one on line {endpoints_heading}", "structure")
                    else:
                        endpoints_heading = block.start
                    part = "endpoints"
                    continue
                part = "fields" if heading == "fields" else "other"
                if part == "other":
                    prose.append(block)
                continue
            if block.kind == "table" and part in ("top", "fields"):
                if fields_table is None:
                    fields_table = block
                else:
                    header = " ".join(t.content.lower() for t in block.tokens if t.type == "inline")
                    hint = ("put the endpoint table under a `### Endpoints` heading" if "method" in header
                            else "a resource has one field table")
                    self.error(block.start, 1, f"{name} has a second field table", hint, "structure")
                continue
            if block.kind == "table" and part == "endpoints":
                if endpoints_table is None:
                    endpoints_table = block
                else:
                    self.error(block.start, 1, f"{name} has a second endpoint table",
                               "a resource has one endpoint table", "structure")
                continue
            if block.kind == "bullet_list" and part == "top" and settings is None and fields_table is None:
                settings = block
                continue
            if part != "endpoints":
                prose.append(block)
        values = self.settings(name, line, settings)
        fields: tuple[Field, ...] = ()
        if fields_table is None:
            self.error(line, 1, f"{name} has no field table",
                       "add a table with columns " + " | ".join(FIELD_COLUMNS) + " (it may have no rows)",
                       "structure")
        else:
            fields = self.fields(name, fields_table)
        endpoints: tuple[Endpoint, ...] = ()
        if endpoints_heading is not None and endpoints_table is None:
            self.error(endpoints_heading, 1, f"{name}'s ### Endpoints has no table",
                       "add a table with columns " + " | ".join(ENDPOINT_COLUMNS), "structure")
        if endpoints_table is not None:
            self.where[("endpoints", line)] = (endpoints_table.start, 1)
            endpoints = self.endpoints(name, endpoints_table, fields)
        return Resource(name=name, fields=fields, endpoints=endpoints, description=self.prose(prose),
                        line=line, **values)

    def settings(self, name: str, line: int, block: _Block | None) -> dict[str, Any]:
        # Without auth there is no user to own a row: resources are shared unless they say otherwise.
        values: dict[str, Any] = {"table": "", "owner": "none" if self.auth == "none" else "user"}
        seen: dict[str, int] = {}
        items: list[list[Token]] = []
        if block is not None:
            for tok in block.tokens[1:-1]:
                if tok.type == "list_item_open" and tok.level == 1:
                    items.append([tok])
                elif items:
                    items[-1].append(tok)
        for item in items:
            start = (item[0].map or [0, 0])[0] + 1
            inlines = [t for t in item if t.type == "inline"]
            if len(inlines) != 1 or "\n" in inlines[0].content:
                self.error(start, 1, "a setting is one line: `- key: value`",
                           "keys: " + ", ".join(SETTINGS), "setting")
                continue
            text = inlines[0].content
            key_raw, colon, value_raw = text.partition(":")
            key = " ".join(key_raw.replace("_", " ").replace("-", " ").lower().split())
            col = self.col_of(start, key_raw.strip())
            if not colon:
                self.error(start, col, f"setting {text.strip()!r} has no value",
                           "write `- key: value`; keys: " + ", ".join(SETTINGS), "setting")
                continue
            if key not in SETTINGS:
                self.error(start, col, f"unknown setting {key_raw.strip()!r}",
                           _did_you_mean(key, SETTINGS), "setting")
                continue
            if key in seen:
                self.error(start, col, f"setting {key!r} is given twice", f"keep line {seen[key]}", "setting")
                continue
            seen[key] = start
            value = _unwrap(value_raw)
            vcol = self.col_of(start, value, len(key_raw) + 1) if value else col
            self.where[("setting", line, key)] = (start, vcol)
            self.setting(key, value, start, vcol, values)
        if "table" not in seen:
            self.error(line, 1, f"{name} has no `- table:` setting",
                       f"add `- table: {_snake(name)}s` below the heading", "setting")
        return values

    def setting(self, key: str, value: str, line: int, col: int, values: dict[str, Any]) -> None:
        if key == "table":
            values["table"] = value
        elif key == "id":
            if value.lower() in ("int", "uuid"):
                values["id_type"] = value.lower()
            else:
                self.error(line, col, f"id type {value!r} is not int or uuid",
                           _did_you_mean(value, ("int", "uuid"), aliases={"integer": "int", "guid": "uuid"}),
                           "id")
        elif key == "owner":
            if value.lower() in ("user", "none"):
                values["owner"] = value.lower()
            else:
                self.error(line, col, f"owner {value!r} is not user or none",
                           "owner: user (each row belongs to the caller) or owner: none (shared rows)",
                           "owner")
        elif key == "parent":
            if value.lower() == "none":
                return
            match = re.fullmatch(r"([^\s()]+)\s*(?:\(\s*on\s+delete\s*:\s*([^)]*?)\s*\))?", value)
            if not match:
                self.error(line, col, f"parent {value!r} does not read",
                           "write `parent: Task` or `parent: Task (on delete: restrict)`", "parent")
                return
            on_delete = (match.group(2) or "cascade").lower()
            if on_delete not in ("cascade", "restrict"):
                self.error(line, col + match.start(2) if match.group(2) is not None else col,
                           f"on delete {match.group(2)!r} is not cascade or restrict",
                           "cascade removes the children with the parent; restrict refuses (409)", "parent")
                on_delete = "cascade"
            values["parent"] = Parent(match.group(1), cast(Literal["cascade", "restrict"], on_delete))
        else:
            flag = _YES_NO.get(value.lower())
            if flag is None:
                self.error(line, col, f"{key} {value!r} is not yes or no", f"write `- {key}: yes`", "setting")
                return
            values["soft_delete" if key == "soft delete" else "timestamps"] = flag

    # tables ---------------------------------------------------------------------------------------

    def table(self, res: str, block: _Block, columns: tuple[str, ...], what: str) -> list[_Row] | None:
        rows: list[tuple[int, list[str]]] = []
        for tok in block.tokens:
            if tok.type == "tr_open":
                rows.append(((tok.map or [0, 0])[0] + 1, []))
            elif tok.type == "inline" and rows:
                rows[-1][1].append(tok.content)
        if not rows:
            return None
        head_line, head_cells = rows[0]
        cols = _cell_cols(self.line_text(head_line))
        known = {c.lower(): c for c in columns}
        index: dict[str, int] = {}
        for i, text in enumerate(head_cells):
            col = cols[i] if i < len(cols) else 1
            name = _unwrap(text).strip("*_ ").lower()
            if name not in known:
                self.error(head_line, col, f"unknown column {text.strip()!r} in the {what} table",
                           _did_you_mean(name, [c.lower() for c in columns]), "columns")
            elif name in index:
                self.error(head_line, col, f"column {known[name]!r} appears twice", "keep one", "columns")
            else:
                index[name] = i
        missing = [c for c in columns if c.lower() not in index]
        if missing:
            self.error(head_line, 1, f"the {what} table lacks column(s) {', '.join(missing)}",
                       "its columns are " + " | ".join(columns) + " (a cell may be empty)", "columns")
            return None
        out: list[_Row] = []
        for line, texts in rows[1:]:
            cols = _cell_cols(self.line_text(line))
            if len(cols) != len(head_cells):
                self.error(line, 1, f"this row has {len(cols)} cell(s), the header has {len(head_cells)}",
                           r"give every row one cell per column; write a | inside a cell as \|", "columns")
                if "field" in index and texts:
                    # The row still names a field: later checks stay quiet about it.
                    self.broken.add((res, _unwrap(texts[index["field"]])))
                continue
            cells = {name: _Cell(texts[i], line, cols[i]) for name, i in index.items()}
            out.append(_Row(line, cells))
        return out

    def fields(self, res: str, block: _Block) -> tuple[Field, ...]:
        rows = self.table(res, block, FIELD_COLUMNS, "field")
        if rows is None:
            self.broken.add((res, "*"))
            return ()
        out: list[Field] = []
        for row in rows:
            cells = row.cells
            for key, cell in cells.items():
                self.where[("cell", row.line, key)] = (cell.line, cell.col)
            name = _unwrap(cells["field"].text)
            if not name:
                self.error(row.line, cells["field"].col, "a field row has no name",
                           "write the field's name in the Field column", "field-name")
                continue
            ftype = self.type_cell(cells["type"])
            if ftype is None:
                self.broken.add((res, name))
                continue
            required = _YES_NO.get(_unwrap(cells["required"].text).lower())
            if required is None:
                cell = cells["required"]
                self.error(row.line, cell.col, f"Required {cell.text.strip()!r} is not yes or no",
                           "write yes (the client must send it) or no", "required")
                required = False
            has_default, default = False, cast(Value, None)
            text = cells["default"].text.strip()
            if text:
                try:
                    default = _read_value(text, ftype)
                    has_default = True
                except _Bad as bad:
                    self.error(row.line, cells["default"].col, f"default of {name}: {bad.message}", bad.hint,
                               "default")
            constraints = self.constraint_cell(cells["constraints"])
            out.append(Field(name=name, type=ftype, required=required, has_default=has_default,
                             default=default, constraints=constraints,
                             description=cells["description"].text, line=row.line))
        return tuple(out)

    def type_cell(self, cell: _Cell) -> FieldType | None:
        try:
            return _read_type(_unwrap(cell.text))
        except _Bad as bad:
            self.error(cell.line, cell.col, bad.message, bad.hint, "type")
            return None

    def constraint_cell(self, cell: _Cell) -> tuple[Constraint, ...]:
        text = _unwrap(cell.text) if cell.text.strip().count("`") == 2 else cell.text
        out: list[Constraint] = []
        if not text.strip():
            return ()
        for offset, raw in _split_top(text, ","):
            offset, item = _piece(offset, raw)
            col = cell.col + offset
            if not item:
                self.error(cell.line, col, "empty constraint (two commas in a row?)",
                           "write name=value items separated by commas", "constraint")
                continue
            name, eq, value = item.partition("=")
            name = name.strip()
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                self.error(cell.line, col, f"constraint {item!r} does not read",
                           'write name=value, e.g. max_length=255 or pattern="^[a-z]+$"', "constraint")
                continue
            if not eq:
                out.append(Constraint(name, True))
                continue
            value = value.strip()
            if not value:
                self.error(cell.line, col, f"constraint {name} has no value", f"write {name}=<value>",
                           "constraint")
                continue
            if value[0] in "\"'`" and _unquote(value) is None:
                self.error(cell.line, col, f"constraint {name}: unterminated quote",
                           "close the quote; a quoted value may hold commas", "constraint")
                continue
            try:
                out.append(Constraint(name, _read_literal(value)))
            except _Bad as bad:
                self.error(cell.line, col, f"constraint {name}: {bad.message}", bad.hint, "constraint")
            self.where[("constraint", cell.line, name)] = (cell.line, col)
        return tuple(out)

    def endpoints(self, res: str, block: _Block, fields: tuple[Field, ...]) -> tuple[Endpoint, ...]:
        rows = self.table(res, block, ENDPOINT_COLUMNS, "endpoint")
        if rows is None:
            return ()
        types = {f.name: f.type for f in fields}
        out: list[Endpoint] = []
        for row in rows:
            cells = row.cells
            for key, cell in cells.items():
                self.where[("cell", row.line, key)] = (cell.line, cell.col)
            method = _unwrap(cells["method"].text).upper()
            path = _unwrap(cells["path"].text)
            operation = self.operation_cell(cells["operation"], types, res)
            if operation is None:
                self.skip.add((row.line, "operation"))
                operation = Operation("get")
            success = self.success_cell(cells["success"])
            if success is None:
                self.skip.add((row.line, "success"))
                success = (0, None)
            errors = self.errors_cell(cells["errors"])
            out.append(Endpoint(method=method, path=path, operation=operation, status=success[0],
                                body=success[1], errors=errors, line=row.line))
        return tuple(out)

    def operation_cell(self, cell: _Cell, types: dict[str, FieldType], res: str) -> Operation | None:
        text = _unwrap(cell.text)
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?", text, re.S)
        if not match:
            self.error(cell.line, cell.col, f"operation {text!r} does not read",
                       "write e.g. create, get, list(filter: status; sort: title), search(title)",
                       "operation")
            return None
        kind, args = match.group(1), match.group(2)
        if kind not in OPERATION_KINDS:
            self.error(cell.line, cell.col, f"unknown operation {kind!r}",
                       _did_you_mean(kind, OPERATION_KINDS, aliases=_OPERATION_ALIASES), "operation")
            return None
        lead = len(cell.text) - len(cell.text.lstrip())
        base = cell.col + (match.start(2) if args is not None else 0) + lead
        args_text = args or ""
        if kind in ("create", "get", "update", "delete"):
            if args_text.strip():
                self.error(cell.line, cell.col, f"{kind} takes no arguments", f"write just {kind}",
                           "operation")
                return None
            return Operation(cast(OperationKind, kind))
        items = [_piece(o, r) for o, r in _split_top(args_text, ",")] if args_text.strip() else []
        if kind == "list":
            return self.list_args(cell, args_text, base)
        if kind in ("search", "stats"):
            names = []
            for offset, item in items:
                if not item:
                    self.error(cell.line, base + offset, f"empty field name in {kind}(...)",
                               "separate field names with single commas", "operation")
                    return None
                names.append(item)
            return Operation(cast(OperationKind, kind), fields=tuple(names))
        pairs: list[tuple[str, Value]] = []
        for offset, item in items:
            name, eq, value = item.partition("=")
            name = name.strip()
            if not eq or not name or not value.strip():
                self.error(cell.line, base + offset, f"bulk_update item {item!r} does not read",
                           "write bulk_update(field=value), e.g. bulk_update(status=completed)", "operation")
                return None
            ftype = types.get(name)
            if ftype is None:
                pairs.append((name, value.strip()))  # the checker reports the unknown field
                continue
            try:
                pairs.append((name, _read_value(value, ftype)))
            except _Bad as bad:
                self.error(cell.line, base + offset, f"bulk_update value for {name}: {bad.message}", bad.hint,
                           "operation")
                self.broken.add((res, f"bulk:{cell.line}:{name}"))
                pairs.append((name, value.strip()))
        return Operation("bulk_update", assignments=tuple(pairs))

    def list_args(self, cell: _Cell, args: str, base: int) -> Operation | None:
        clauses: dict[str, tuple[str, ...]] = {}
        if not args.strip():
            return Operation("list")
        for offset, raw in _split_top(args, ";"):
            offset, clause = _piece(offset, raw)
            key, colon, rest = clause.partition(":")
            key = key.strip().lower()
            if not colon or key not in ("filter", "sort"):
                self.error(cell.line, base + offset, f"list clause {clause!r} does not read",
                           "write list(filter: a, b; sort: c, d)", "operation")
                return None
            if key in clauses:
                self.error(cell.line, base + offset, f"list has two {key}: clauses", "merge them",
                           "operation")
                return None
            names = [item.strip() for item in rest.split(",")]
            if not all(names):
                self.error(cell.line, base + offset, f"empty field name in {key}:",
                           "separate field names with single commas", "operation")
                return None
            clauses[key] = tuple(names)
        return Operation("list", filters=clauses.get("filter", ()), sorts=clauses.get("sort", ()))

    def success_cell(self, cell: _Cell) -> tuple[int, str | None] | None:
        text = _unwrap(cell.text)
        match = re.fullmatch(r"(\d{3})(?:\s+(\S.*))?", text)
        if not match:
            self.error(cell.line, cell.col, f"success {text!r} does not read",
                       "write the status and the body: 201 Task, 200 Page[Task], 204", "success")
            return None
        body = _unwrap(match.group(2)) if match.group(2) else None
        return int(match.group(1)), body

    def errors_cell(self, cell: _Cell) -> tuple[int, ...]:
        text = _unwrap(cell.text)
        if text in ("", "-", "\u2014", "\u2013", "none"):  # nothing, or a dash
            return ()
        out: list[int] = []
        for offset, raw in _split_top(text, ","):
            offset, item = _piece(offset, raw)
            if not re.fullmatch(r"[45]\d\d", item):
                self.error(cell.line, cell.col + offset, f"error status {item!r} is not a 4xx or 5xx code",
                           "list status codes separated by commas: 401, 404, 422", "errors")
                continue
            if int(item) in out:
                self.error(cell.line, cell.col + offset, f"error status {item} is listed twice", "keep one",
                           "errors")
                continue
            out.append(int(item))
        return tuple(out)


def _stem(path: str) -> str:
    name = PurePosixPath(path.replace("\\", "/")).name
    return name[:-3] if name.endswith(".md") else ""


def _read_type(text: str) -> FieldType:
    """A Type cell: ``string``, ``decimal(10, 2)``, ``enum(a, b)``, ``list[string]``, ``ref(Task)``."""
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\)|\[(.*)\])?", text, re.S)
    if not text:
        raise _Bad("a field has no type", "write one of: " + ", ".join(_type_examples()))
    if not match:
        raise _Bad(f"type {text!r} does not read", "write one of: " + ", ".join(_type_examples()))
    name, paren, bracket = match.group(1), match.group(2), match.group(3)
    if name not in FIELD_KINDS:
        hint = _did_you_mean(name, FIELD_KINDS, aliases=_TYPE_ALIASES)
        raise _Bad(f"unknown type {name!r}", hint)
    kind = cast(FieldKind, name)
    if kind == "list":
        if bracket is None:
            raise _Bad("list needs its item type", "write list[string]")
        item = bracket.strip()
        if item not in FIELD_KINDS:
            raise _Bad(f"unknown list item type {item!r}", "write list[string]")
        return FieldType("list", item=cast(FieldKind, item))
    if bracket is not None:
        raise _Bad(f"{kind} takes no [...]", "only list[string] uses brackets")
    if kind == "enum":
        if paren is None or not paren.strip():
            raise _Bad("enum has no values", "write enum(a, b, c)")
        return FieldType("enum", enum_values=tuple(v.strip() for v in paren.split(",")))
    if kind == "decimal":
        nums = re.fullmatch(r"\s*(\d{1,4})\s*,\s*(\d{1,4})\s*", paren or "")
        if not nums:
            raise _Bad("decimal needs its precision and scale",
                       "write decimal(10, 2): 10 digits, 2 after the point")
        return FieldType("decimal", precision=int(nums.group(1)), scale=int(nums.group(2)))
    if kind == "ref":
        if paren is None or not paren.strip():
            raise _Bad("ref needs the resource it points to", "write ref(Task)")
        return FieldType("ref", ref=paren.strip())
    if paren is not None:
        hint = ("write the length in Constraints: max_length=..." if kind in _TEXTUAL
                else f"write just {kind}")
        raise _Bad(f"{kind} takes no parameters", hint)
    return FieldType(kind)


def _type_examples() -> list[str]:
    return [k for k in FIELD_KINDS if k not in ("enum", "decimal", "list", "ref")] + [
        "decimal(10, 2)", "enum(a, b)", "list[string]", "ref(Resource)"]


# --- the checker -----------------------------------------------------------------------------------


class _Checker:
    """Meaning checks over a model; positions come from the parser when it read the file."""

    def __init__(self, contract: Contract, where: _Where | None = None,
                 skip: set[tuple[int, str]] | None = None,
                 broken: set[tuple[str, str]] | None = None) -> None:
        self.contract = contract
        self.where: _Where = where or {}
        self.skip = skip or set()
        self.broken = broken or set()
        self.findings: list[Finding] = []

    def emit(self, at: tuple[int, int], message: str, hint: str, code: str,
             severity: Literal["error", "warning"] = "error") -> None:
        self.findings.append(Finding(self.contract.path, at[0], at[1], severity, message, hint, code))

    def fm(self, key: str) -> tuple[int, int]:
        return self.where.get(("fm", key), (1, 1))

    def cell(self, line: int, column: str) -> tuple[int, int]:
        return self.where.get(("cell", line, column), (line, 1))

    def known(self, res: Resource, name: str) -> bool:
        """True when the field exists, or did not read (its error is already reported)."""
        return (res.field(name) is not None or (res.name, name) in self.broken
                or (res.name, "*") in self.broken)

    def run(self) -> list[Finding]:
        c = self.contract
        if c.feature and not _SLUG.fullmatch(c.feature):
            self.emit(self.fm("feature"), f"feature {c.feature!r} is not a slug",
                      "use lower-case letters, digits and single hyphens, e.g. task-crud", "feature")
        if c.feature and len(c.feature) > 64:
            self.emit(self.fm("feature"), "feature is longer than 64 characters", "shorten it", "feature")
        if not _VERSION.fullmatch(c.version):
            self.emit(self.fm("version"), f"version {c.version!r} is not MAJOR.MINOR.PATCH",
                      'write e.g. version: "1.0.0"', "version")
        if c.auth not in AUTH_KINDS:
            self.emit(self.fm("auth"), f"auth {c.auth!r} is not known", _did_you_mean(c.auth, AUTH_KINDS),
                      "auth")
        if not c.resources:
            self.emit((1, 1), "the contract defines no resource",
                      "add a `## Resource: Name` section with a field table and ### Endpoints", "structure")
        self.resources()
        routes: dict[tuple[str, str], int] = {}
        for res in c.resources:
            self.fields(res)
            for ep in res.endpoints:
                self.endpoint(res, ep, routes)
            self.operations_once(res)
            if not res.endpoints and ("endpoints", res.line) not in self.where:
                self.emit((res.line, 1), f"{res.name} has no endpoints",
                          "add a ### Endpoints table, or leave it out if it is internal", "endpoint",
                          "warning")
        return self.findings

    # resources ----------------------------------------------------------------------------------

    def resources(self) -> None:
        c = self.contract
        names: dict[str, int] = {}
        snakes: dict[str, str] = {}
        tables: dict[str, str] = {}
        for res in c.resources:
            at = self.where.get(("resource", res.line), (res.line, 1))
            self.resource_name(res, at, names, snakes)
            self.table_name(res, tables)
            if res.id_type not in ("int", "uuid"):
                self.emit(self.where.get(("setting", res.line, "id"), at),
                          f"id type {res.id_type!r} is not int or uuid", "write `- id: int` or `- id: uuid`",
                          "id")
            if res.owner not in ("user", "none"):
                self.emit(self.where.get(("setting", res.line, "owner"), at),
                          f"owner {res.owner!r} is not user or none", "write `- owner: user`", "owner")
            elif res.owner == "user" and c.auth == "none":
                self.emit(self.where.get(("setting", res.line, "owner"), at),
                          f"{res.name} is owner: user but the contract has auth: none",
                          "without auth there is no user: write `- owner: none`, or set auth: jwt", "owner")
            self.parent(res, at)

    def resource_name(self, res: Resource, at: tuple[int, int], names: dict[str, int],
                      snakes: dict[str, str]) -> None:
        name = res.name
        if not name:
            self.emit(at, "a resource has no name", "write `## Resource: Name`", "resource-name")
            return
        if not _PASCAL.fullmatch(name) or not name.isascii():
            self.emit(at, f"resource name {name!r} is not PascalCase",
                      "write letters and digits starting with a capital, e.g. TaskItem", "resource-name")
            return
        if name in names:
            self.emit(at, f"resource {name} is defined twice", f"the first is on line {names[name]}",
                      "duplicate")
            return
        names[name] = res.line
        if len(name) > _MAX_NAME:
            self.emit(at, f"resource name {name!r} is longer than {_MAX_NAME} characters", "shorten it",
                      "resource-name")
        if keyword.iskeyword(res.snake) or keyword.issoftkeyword(res.snake):
            self.emit(at, f"resource name {name!r} becomes {res.snake!r}, a Python keyword",
                      f"choose another name, e.g. {name}Item", "resource-name")
        if name in _RESERVED_RESOURCES or res.snake in _RESERVED_SNAKE:
            self.emit(at, f"resource name {name!r} is used by the generated code itself",
                      "choose another name (e.g. Member instead of User)", "resource-name")
        others = [r.name for r in self.contract.resources if r.name != name]
        for other in others:
            suffix = name.removeprefix(other)
            if suffix != name and suffix in _SCHEMA_SUFFIXES:
                self.emit(at, f"resource name {name!r} clashes with the {suffix} schema of {other}",
                          "choose a name that is not another resource's name plus Base, Create, Update, "
                          "Public or Read", "resource-name")
        if res.snake in snakes:
            self.emit(at, f"resources {snakes[res.snake]} and {name} both become module {res.snake!r}",
                      "rename one of them", "resource-name")
        snakes[res.snake] = name

    def table_name(self, res: Resource, tables: dict[str, str]) -> None:
        at = self.where.get(("setting", res.line, "table"), (res.line, 1))
        table = res.table
        if not table:
            if ("setting", res.line, "table") in self.where:
                self.emit(at, f"{res.name}'s table has no name", f"write `- table: {res.snake}s`",
                          "table-name")
            return
        if not _SNAKE_NAME.fullmatch(table):
            self.emit(at, f"table name {table!r} is not a safe SQL identifier",
                      "use lower-case letters, digits and _, starting with a letter", "table-name")
        elif len(table) > _MAX_NAME:
            self.emit(at, f"table name {table!r} is longer than {_MAX_NAME} characters", "shorten it",
                      "table-name")
        elif table in _SQL_RESERVED or keyword.iskeyword(table) or keyword.issoftkeyword(table):
            self.emit(at, f"table name {table!r} is a reserved word (SQL or Python)",
                      _reserved_table_hint(table), "table-name")
        elif table == "alembic_version" or table.startswith("sqlite_"):
            self.emit(at, f"table name {table!r} is used by the database tools", "choose another name",
                      "table-name")
        elif table == "users" and self.contract.auth == "builtin":
            self.emit(at, "table name 'users' is taken by auth: builtin", "choose another name, e.g. members",
                      "table-name")
        if table in tables:
            self.emit(at, f"table {table!r} is used by {tables[table]} too",
                      "give each resource its own table", "duplicate")
        else:
            tables[table] = res.name

    def parent(self, res: Resource, at: tuple[int, int]) -> None:
        if res.parent is None:
            return
        where = self.where.get(("setting", res.line, "parent"), at)
        name = res.parent.resource
        if res.parent.on_delete not in ("cascade", "restrict"):
            self.emit(where, f"on delete {res.parent.on_delete!r} is not cascade or restrict",
                      "write (on delete: cascade) or (on delete: restrict)", "parent")
        if name == res.name:
            self.emit(where, f"{res.name} is its own parent", "a parent is another resource", "parent")
            return
        if self.contract.resource(name) is None:
            self.emit(where, f"parent {name!r} is not a resource of this contract",
                      _did_you_mean(name, [r.name for r in self.contract.resources]), "parent")
            return
        chain = [res.name]
        step: Resource | None = self.contract.resource(name)
        while step is not None and step.parent is not None:
            chain.append(step.name)
            if step.parent.resource == res.name:
                self.emit(where, "parents form a cycle: " + " -> ".join([*chain, res.name]),
                          "one of them must have no parent", "parent")
                return
            if step.parent.resource in chain:
                return  # a cycle that does not pass through res: reported on its own members
            step = self.contract.resource(step.parent.resource)

    # fields ----------------------------------------------------------------------------------------

    def reserved_fields(self, res: Resource) -> dict[str, str]:
        names = {name: "a column the generated code adds" for name in _GENERATED_FIELDS}
        if res.parent is not None:
            pf = res.parent_field or ""
            names[pf] = f"the column holding the parent {res.parent.resource}'s id"
            names[_snake(res.parent.resource)] = f"the link to the parent {res.parent.resource}"
        for child in self.contract.children(res.name):
            names[child.table] = f"the list of {child.name} children"
        return names

    def fields(self, res: Resource) -> None:
        reserved = self.reserved_fields(res)
        seen: dict[str, int] = {}
        for f in res.fields:
            at = self.cell(f.line, "field")
            problem = _field_name_problem(f.name)
            if problem:
                hint = (f"choose another name, e.g. {res.snake}_{f.name} or {f.name}_"
                        if problem == "is a Python keyword"
                        else "use snake_case: lower-case letters, digits and _, starting with a letter")
                self.emit(at, f"field name {f.name!r} {problem}", hint, "field-name")
            elif f.name in reserved:
                self.emit(at, f"field name {f.name!r} is {reserved[f.name]}",
                          "remove it (it is there already) or choose another name", "field-name")
            elif f.name.startswith(_MODEL_PREFIXES) or f.name in _MODEL_ATTRS:
                self.emit(at, f"field name {f.name!r} would shadow an attribute of SQLModel/pydantic models",
                          f"choose another name, e.g. {res.snake}_{f.name.removeprefix('model_')}",
                          "field-name")
            elif f.name in _BUILTINS:
                self.emit(at, f"field name {f.name!r} is a Python builtin",
                          f"choose a more specific name, e.g. {res.snake}_{f.name} or {f.name}_name",
                          "field-name")
            if f.name in seen:
                self.emit(at, f"field {f.name!r} is defined twice in {res.name}",
                          f"the first is on line {seen[f.name]}", "duplicate")
            seen.setdefault(f.name, f.line)
            self.field_type(res, f)
            self.constraints(f)
            self.default(f)

    def field_type(self, res: Resource, f: Field) -> None:
        at = self.cell(f.line, "type")
        t = f.type
        if t.kind not in FIELD_KINDS:
            self.emit(at, f"unknown type {t.kind!r}", _did_you_mean(t.kind, FIELD_KINDS), "type")
            return
        if t.kind == "enum":
            if not t.enum_values:
                self.emit(at, f"enum of {f.name} has no values", "write enum(a, b, c)", "enum")
            seen: set[str] = set()
            for value in t.enum_values:
                if not _SNAKE_NAME.fullmatch(value) or len(value) > _MAX_NAME:
                    self.emit(at, f"enum value {value!r} is not a plain word",
                              "enum values are lower-case letters, digits and _, starting with a letter "
                              "(at most 63 characters)", "enum")
                elif keyword.iskeyword(value):
                    self.emit(at, f"enum value {value!r} is a Python keyword", f"write e.g. {value}_", "enum")
                if value in seen:
                    self.emit(at, f"enum value {value!r} is listed twice", "list each value once", "enum")
                seen.add(value)
        elif t.enum_values:
            self.emit(at, f"{t.kind} has enum values", "only enum(...) lists values", "type")
        if t.kind == "decimal":
            p, s = t.precision, t.scale
            if p is None or s is None or not 1 <= p <= 38 or not 0 <= s <= p:
                self.emit(at, f"decimal({p}, {s}) is out of range",
                          "precision is 1..38 digits and scale 0..precision, e.g. decimal(10, 2)", "type")
        if t.kind == "list" and t.item != "string":
            self.emit(at, f"list[{t.item}] is not supported", "write list[string]", "type")
        if t.kind == "ref":
            target = self.contract.resource(t.ref or "")
            if target is None:
                self.emit(at, f"ref({t.ref}) names no resource of this contract",
                          _did_you_mean(t.ref or "", [r.name for r in self.contract.resources]), "type")
            elif target.name == res.name and f.required:
                self.emit(at, f"{f.name} is a required reference to its own resource",
                          "make it Required: no, or the first row could never be created", "type")

    def constraints(self, f: Field) -> None:
        kind = f.type.kind
        seen: set[str] = set()
        for c in f.constraints:
            at = self.where.get(("constraint", f.line, c.name), self.cell(f.line, "constraints"))
            if c.name not in CONSTRAINT_TYPES:
                self.emit(at, f"unknown constraint {c.name!r}", _did_you_mean(c.name, CONSTRAINT_TYPES),
                          "constraint")
                continue
            if c.name in seen:
                self.emit(at, f"constraint {c.name} is given twice", "keep one", "constraint")
                continue
            seen.add(c.name)
            if kind not in CONSTRAINT_TYPES[c.name]:
                fits = [n for n, kinds in CONSTRAINT_TYPES.items() if kind in kinds]
                self.emit(at, f"constraint {c.name} does not apply to {kind}",
                          f"{kind} takes: {', '.join(fits) or 'no constraints'}", "constraint")
                continue
            problem = _constraint_value_problem(c, kind)
            if problem:
                self.emit(at, f"constraint {c.name} {problem}", _CONSTRAINT_HINTS[c.name], "constraint")
        self.constraint_ranges(f)

    def constraint_ranges(self, f: Field) -> None:
        at = self.cell(f.line, "constraints")
        values = {c.name: c.value for c in f.constraints
                  if isinstance(c.value, int | float) and not isinstance(c.value, bool)}
        lo_len, hi_len = values.get("min_length"), values.get("max_length")
        if lo_len is not None and hi_len is not None and lo_len > hi_len:
            self.emit(at, f"min_length {lo_len} is above max_length {hi_len}", "swap or fix them",
                      "constraint")
        limit = _LIMITS.get(f.type.kind)
        if limit is not None and hi_len is not None and hi_len > limit:
            self.emit(at, f"max_length {hi_len} is above the {f.type.kind} limit {limit}",
                      f"write max_length={limit} or less", "constraint")
        for a, b in (("ge", "gt"), ("le", "lt")):
            if a in values and b in values:
                self.emit(at, f"both {a} and {b} are given", f"keep one of {a} and {b}", "constraint")
        lo = values.get("ge", values.get("gt"))
        hi = values.get("le", values.get("lt"))
        strict = "gt" in values or "lt" in values
        if lo is not None and hi is not None and (lo > hi or (lo == hi and strict)):
            self.emit(at, f"no number fits between {lo} and {hi}", "fix the bounds", "constraint")
        elif f.type.kind == "integer" and f.constraint("unique") and lo is not None and hi is not None:
            first = math.floor(lo) + 1 if "gt" in values else math.ceil(lo)
            last = math.ceil(hi) - 1 if "lt" in values else math.floor(hi)
            if 0 < last - first + 1 < SAMPLES_PER_FIELD:
                self.emit(at, f"unique {f.name} has only {last - first + 1} possible values, so only as "
                          "many rows (per user on owner: user)",
                          f"widen the bounds to {SAMPLES_PER_FIELD} values or more, or drop unique: "
                          "the generated tests need that many distinct rows", "constraint", "warning")

    def default(self, f: Field) -> None:
        if not f.has_default:
            return
        at = self.cell(f.line, "default")
        if f.required:
            self.emit(at, f"{f.name} is required and has a default",
                      "a default applies when the field is not sent: "
                      "make it Required: no, or drop the default",
                      "default")
            return
        if f.type.kind not in FIELD_KINDS:
            return
        problem = _value_problem(f.type, f.default)
        if problem:
            self.emit(at, f"default {_format_value(f.default)} of {f.name} {problem}",
                      "give a value of the field's type, or leave Default empty", "default")
            return
        broken = _breaks_constraints(f, f.default)
        if broken:
            self.emit(at, f"default {_format_value(f.default)} of {f.name} breaks {broken}",
                      "make the default fit the constraints", "default")

    # endpoints ------------------------------------------------------------------------------------

    def endpoint(self, res: Resource, ep: Endpoint, routes: dict[tuple[str, str], int]) -> None:
        op = ep.operation
        known_op = (ep.line, "operation") not in self.skip
        if ep.method not in _METHODS:
            close = difflib.get_close_matches(ep.method, _METHODS, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]}? " if close else ""
            self.emit(self.cell(ep.line, "method"), f"method {ep.method!r} is not known",
                      f"{hint}methods: {', '.join(_METHODS)}", "method")
        elif known_op and ep.method not in _OPERATION_METHODS[op.kind]:
            expected = " or ".join(_OPERATION_METHODS[op.kind])
            self.emit(self.cell(ep.line, "method"), f"{op.kind} is served by {expected}, not {ep.method}",
                      f"write {expected}", "method")
        self.path(res, ep, known_op)
        shape = "/".join("{}" if seg.startswith("{") else seg for seg in ep.path.split("/"))
        key = (ep.method, shape)
        if key in routes:
            self.emit(self.cell(ep.line, "path"),
                      f"{ep.method} {ep.path} is already defined on line {routes[key]}",
                      "each method and path is one endpoint", "duplicate")
        else:
            routes[key] = ep.line
        if known_op:
            self.operation(res, ep)
            if (ep.line, "success") not in self.skip:
                self.success(res, ep)
        for status in ep.errors:
            if not 400 <= status <= 599:
                self.emit(self.cell(ep.line, "errors"), f"error status {status} is not 4xx or 5xx",
                          "list error statuses only", "errors")

    def path(self, res: Resource, ep: Endpoint, known_op: bool) -> None:
        at = self.cell(ep.line, "path")
        path = ep.path
        if not path.startswith("/"):
            self.emit(at, f"path {path!r} does not start with /", "write e.g. /api/tasks", "path")
            return
        params: list[str] = []
        for seg in path[1:].split("/"):
            if not seg:
                self.emit(at, f"path {path!r} has an empty segment", "no // and no trailing /", "path")
                return
            if "{" in seg or "}" in seg:
                match = _PARAM.fullmatch(seg)
                if not match:
                    self.emit(at, f"path parameter {seg!r} does not read",
                              "a parameter is a whole segment {name}, name in snake_case", "path")
                    return
                if match.group(1) in params:
                    self.emit(at, f"path parameter {seg} appears twice", "name each parameter once", "path")
                    return
                params.append(match.group(1))
            elif not _SEGMENT.fullmatch(seg):
                self.emit(at, f"path segment {seg!r} may hold only a-z, 0-9, - and _",
                          "write e.g. bulk-complete", "path")
                return
        if self.contract.auth == "builtin" and (path == "/api/auth" or path.startswith("/api/auth/")):
            self.emit(at, f"{path} is under /api/auth, which auth: builtin serves",
                      "choose another path", "path")
        allowed = {"id": f"{res.name}'s id"}
        if res.parent_field:
            allowed[res.parent_field] = f"the parent {res.parent.resource if res.parent else ''}'s id"
        for name in params:
            if name not in allowed:
                explained = ", ".join(f"{{{k}}} is {v}" for k, v in allowed.items())
                self.emit(at, f"path parameter {{{name}}} is not explained by {res.name}",
                          f"{explained}; nothing else can be in {res.name}'s paths", "path")
        if res.parent_field and res.parent_field not in params and res.parent \
                and self.contract.resource(res.parent.resource) is not None:
            self.emit(at, f"{res.name} is nested under {res.parent.resource if res.parent else ''}: "
                          f"its paths carry {{{res.parent_field}}}",
                      f"write e.g. /api/{self.parent_table(res)}/{{{res.parent_field}}}/{res.table}", "path")
        if not known_op:
            return
        kind = ep.operation.kind
        if kind in _ITEM_OPERATIONS and path.rsplit("/", 1)[-1] != "{id}":
            self.emit(at, f"{kind} acts on one {res.name}: its path ends with /{{id}}",
                      f"write e.g. {path.rstrip('/')}/{{id}}", "path")
        elif kind not in _ITEM_OPERATIONS and "id" in params:
            self.emit(at, f"{kind} does not act on one {res.name}: its path has no {{id}}",
                      "drop the /{id} segment", "path")

    def parent_table(self, res: Resource) -> str:
        parent = self.contract.resource(res.parent.resource) if res.parent else None
        return parent.table if parent and parent.table else "parents"

    def operation(self, res: Resource, ep: Endpoint) -> None:
        op = ep.operation
        at = self.cell(ep.line, "operation")

        def check(name: str, allowed: Sequence[str], role: str) -> bool:
            f = res.field(name)
            if f is None:
                if not self.known(res, name):
                    options = [g.name for g in res.fields]
                    self.emit(at, f"{op.kind} names {name!r}, which is not a field of {res.name}",
                              _did_you_mean(name, options) if options else f"{res.name} has no fields",
                              "operation")
                return False
            if f.type.kind not in allowed:
                self.emit(at, f"{op.kind} cannot {role} {name} ({f.type.kind})",
                          f"{role} works on: {', '.join(allowed)}", "operation")
                return False
            return True

        def once(names: Sequence[str], what: str) -> None:
            dup = sorted({n for n in names if list(names).count(n) > 1})
            if dup:
                self.emit(at, f"{what} names {', '.join(dup)} twice", "list each field once", "operation")

        if op.kind == "list":
            for name in op.filters:
                if name in _QUERY_PARAMS:
                    self.emit(at, f"filter {name!r} clashes with the query parameter of that name",
                              "page, page_size, sort and q are taken", "operation")
                else:
                    check(name, _FILTER_TYPES, "filter by")
            once(op.filters, "filter:")
            system = {"id"} | ({"created_at", "updated_at"} if res.timestamps else set())
            for name in op.sorts:
                if name not in system:
                    check(name, [k for k in FIELD_KINDS if k not in _UNSORTABLE], "sort by")
            once(op.sorts, "sort:")
        elif op.kind == "search":
            if not op.fields:
                self.emit(at, "search names no field", "write search(title, description)", "operation")
            for name in op.fields:
                check(name, _SEARCH_TYPES, "search")
            once(op.fields, "search")
        elif op.kind == "stats":
            if len(op.fields) != 1:
                self.emit(at, f"stats counts one field, not {len(op.fields)}", "write stats(status)",
                          "operation")
            for name in op.fields:
                check(name, _STATS_TYPES, "count")
        elif op.kind == "bulk_update":
            if not op.assignments:
                self.emit(at, "bulk_update sets no field", "write bulk_update(status=completed)", "operation")
            for name, value in op.assignments:
                kinds = [k for k in FIELD_KINDS if k not in ("json", "ref")]
                if not check(name, kinds, "set") or (res.name, f"bulk:{ep.line}:{name}") in self.broken:
                    continue
                f = res.field(name)
                assert f is not None
                problem = _value_problem(f.type, value) or (
                    f"breaks {b}" if (b := _breaks_constraints(f, value)) else None)
                if problem:
                    self.emit(at, f"bulk_update value {_format_value(value)} for {name} {problem}",
                              "give a value that create would accept", "operation")
            once([n for n, _ in op.assignments], "bulk_update")

    def success(self, res: Resource, ep: Endpoint) -> None:
        kind = ep.operation.kind
        status, body = {
            "create": (201, res.name), "get": (200, res.name), "update": (200, res.name),
            "list": (200, f"Page[{res.name}]"), "search": (200, f"Page[{res.name}]"),
            "stats": (200, "Stats"), "bulk_update": (200, "BulkResult"), "delete": (204, None),
        }[kind]
        if (ep.status, ep.body) != (status, body):
            expected = f"{status} {body}" if body else str(status)
            self.emit(self.cell(ep.line, "success"), f"{kind} answers {expected}, not {ep.success}",
                      f"write {expected}", "success")
        if status in ep.errors:
            self.emit(self.cell(ep.line, "errors"), f"{status} is the success status", "drop it from Errors",
                      "errors")

    def operations_once(self, res: Resource) -> None:
        seen: dict[str, int] = {}
        for ep in res.endpoints:
            if (ep.line, "operation") in self.skip:
                continue
            op = ep.operation
            key = op.kind if op.kind in _ONCE_OPERATIONS else op.spec
            if key in seen:
                what = f"{res.name} has a second {op.kind}" if op.kind in _ONCE_OPERATIONS else \
                    f"{op.spec} is already served"
                self.emit(self.cell(ep.line, "operation"), what, f"see line {seen[key]}", "duplicate")
            else:
                seen[key] = ep.line


_CONSTRAINT_HINTS = {
    "min_length": "write min_length=<count>, e.g. min_length=1",
    "max_length": "write max_length=<count>, e.g. max_length=255",
    "max_items": "write max_items=<count>, e.g. max_items=20",
    "ge": "write ge=<number>", "le": "write le=<number>",
    "gt": "write gt=<number>", "lt": "write lt=<number>",
    "pattern": 'write pattern="^[a-z]+$" (quote it when it holds a comma; write | as \\|)',
    "index": "write just index", "unique": "write just unique",
}


def _field_name_problem(name: str) -> str | None:
    if not name.isidentifier() or not name.isascii():
        return "is not a Python identifier"
    if name.startswith("_"):
        return "starts with _"
    if not _SNAKE_NAME.fullmatch(name):
        return "is not snake_case"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "is a Python keyword"
    if len(name) > _MAX_NAME:
        return f"is longer than {_MAX_NAME} characters"
    return None


def _constraint_value_problem(c: Constraint, kind: str) -> str | None:
    value = c.value
    if c.name in _FLAGS:
        return None if value is True else "takes no value"
    if c.name in ("min_length", "max_length", "max_items"):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be a whole number, not {_format_value(value)}"
        least = 0 if c.name == "min_length" else 1
        return None if least <= value <= 2**31 else f"must be between {least} and {2**31}"
    if c.name == "pattern":
        if not isinstance(value, str) or not value:
            return "must be a non-empty regular expression"
        problem = _pattern_problem(value)
        return problem
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"must be a number, not {_format_value(value)}"
    if kind == "integer" and not isinstance(value, int):
        return f"must be a whole number on an integer field, not {value!r}"
    if not math.isfinite(value) or abs(value) >= _INT64:
        return "is out of range"
    return None


def _breaks_constraints(f: Field, value: Value) -> str | None:
    """The constraint ``value`` breaks, as ``name=limit``, or None."""
    for c in f.constraints:
        limit = c.value
        if not isinstance(limit, int | float | str) or isinstance(limit, bool):
            continue
        if isinstance(value, str | tuple) and isinstance(limit, int) and (
                (c.name == "min_length" and isinstance(value, str) and len(value) < limit)
                or (c.name == "max_length" and isinstance(value, str) and len(value) > limit)
                or (c.name == "max_items" and len(value) > limit)):
            return f"{c.name}={limit}"
        # Python's re backtracks: a repeated group could make this check itself hang.
        if (c.name == "pattern" and isinstance(value, str) and isinstance(limit, str)
                and _pattern_problem(limit) is None and _cheap_to_match(limit, value)
                and re.search(limit, value) is None):
            return f"pattern={limit}"
        if c.name in ("ge", "le", "gt", "lt") and not isinstance(limit, str):
            number: float | None = None
            if isinstance(value, int | float) and not isinstance(value, bool):
                number = value
            elif isinstance(value, str) and _DECIMAL.fullmatch(value):
                number = float(value)
            if number is None:
                continue
            ok = {"ge": number >= limit, "le": number <= limit, "gt": number > limit, "lt": number < limit}
            if not ok[c.name]:
                return f"{c.name}={limit}"
    return None


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
        raise ContractError(f"{shown}: {errors} error(s); the format is in docs/contract-format.md",
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
            hint=f"write {shown[0]} (the format is in docs/contract-format.md; "
                 "specs/api/task-crud.md is a complete example)")
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
            raise SkillrunnerError("no contracts to check: specs/api/ has no .md file", path=api,
                                   hint="write specs/api/<feature>.md (see docs/contract-format.md)")
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
                          "assignments": [[n, _jsonable(v)] for n, v in op.assignments]},
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
    }


def contract_summary(contract: Contract) -> str:
    """A readable overview: each resource's settings, fields and endpoints."""
    out = [f"{contract.title}", f"  feature {contract.feature}, version {contract.version}, "
                                f"auth {contract.auth}  ({contract.path})"]
    for r in contract.resources:
        flags = [f"table {r.table}", f"id {r.id_type}", f"owner {r.owner}"]
        if r.parent:
            flags.append(f"parent {r.parent.resource} (on delete: {r.parent.on_delete})")
        flags += ["timestamps"] * r.timestamps + ["soft delete"] * r.soft_delete
        out += ["", f"{r.name}: {', '.join(flags)}"]
        width = max((len(f.name) for f in r.fields), default=0)
        twidth = max((len(f.type.spec) for f in r.fields), default=0)
        for f in r.fields:
            extra = ["required" if f.required else "optional"]
            if f.has_default:
                extra.append(f"default {_format_value(f.default)}")
            extra += [c.name if c.value is True else f"{c.name}={_format_value(c.value)}"
                      for c in f.constraints]
            out.append(f"  {f.name:<{width}}  {f.type.spec:<{twidth}}  {', '.join(extra)}")
        pwidth = max((len(e.path) for e in r.endpoints), default=0)
        for e in r.endpoints:
            errors = f"  errors {', '.join(map(str, e.errors))}" if e.errors else ""
            out.append(f"  {e.method:<6} {e.path:<{pwidth}}  {e.operation.spec} -> {e.success}{errors}")
    return "\n".join(out) + "\n"
