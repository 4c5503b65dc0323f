"""The contract model: immutable dataclasses of a contract and the format's vocabulary."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal[
    "string", "text", "integer", "number", "decimal", "boolean", "date", "datetime",
    "uuid", "email", "url", "enum", "list", "json", "ref",
]
FIELD_KINDS: tuple[str, ...] = FieldKind.__args__  # type: ignore[attr-defined]
OperationKind = Literal["create", "list", "get", "update", "delete", "search", "stats",
                        "bulk_update", "action"]
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
    name: str = ""  # action: the function the user writes
    body: str | None = None  # action: the schema its request body must match

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
        if self.kind == "action":
            return f"action({self.name}; body: {self.body})" if self.body else f"action({self.name})"
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
    def member(self) -> bool:
        """True when the endpoint acts on one row: its path holds ``{id}``."""
        return "id" in self.path_params

    @property
    def body_item(self) -> tuple[str | None, str]:
        """The Success body split into its wrapper and what it holds: ``("Page", "Task")`` for
        ``Page[Task]``, ``("list", "Task")``, ``(None, "Report")``; ``(None, "")`` without a body."""
        if not self.body:
            return None, ""
        match = re.fullmatch(r"(Page|list)\[(.+)\]", self.body)
        return (match.group(1), match.group(2).strip()) if match else (None, self.body.strip())

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
class Schema:
    """A ``## Schema: Name`` section: the fields of a request or response body of an action."""

    name: str
    fields: tuple[Field, ...] = ()
    description: str = ""
    line: int = 0

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
    schemas: tuple[Schema, ...] = field(default_factory=tuple)

    def resource(self, name: str) -> Resource | None:
        """The resource called ``name``, or None."""
        return next((r for r in self.resources if r.name == name), None)

    def schema(self, name: str) -> Schema | None:
        """The schema called ``name``, or None."""
        return next((s for s in self.schemas if s.name == name), None)

    def actions(self) -> tuple[tuple[Resource, Endpoint], ...]:
        """Every ``action(...)`` endpoint with its resource, in file order."""
        return tuple((r, e) for r in self.resources for e in r.endpoints if e.operation.kind == "action")

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


def enum_type_name(owner: str, field: str) -> str:
    """The type alias of an enum or pattern field: its resource or schema, then the field in PascalCase
    (``Task.status_kind`` gives ``TaskStatusKind``)."""
    return owner + "".join(part[:1].upper() + part[1:] for part in field.split("_") if part)


def stats_model_name(owner: str, field: str) -> str:
    """The response model of a stats endpoint over ``field`` (``TaskStatusKindStats``)."""
    return f"{enum_type_name(owner, field)}Stats"


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
    "action": ("GET", "POST", "PUT", "PATCH", "DELETE"),
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
    "ActionNotWritten", "AfterValidator", "AllowInfNan", "Annotated", "Any", "APIRoute", "APIRouter",
    "AppError", "AsyncIterator", "Base", "BaseModel", "BaseSettings", "BigInteger", "Body", "Boolean",
    "BulkRequest", "BulkResult", "Callable", "Caller", "Column", "ConfigDict", "Conflict", "CoreSchema",
    "CORSMiddleware", "CurrentUser", "Date", "DateTime", "Decimal", "Depends", "Dialect", "Email", "EmailStr",
    "Endpoint", "Enum", "ErrorBody", "ErrorInfo", "FastAPI", "Field", "FieldError", "Finite", "Float",
    "Forbidden", "Ge", "Generic", "GetCoreSchemaHandler", "GetJsonSchemaHandler", "Gt", "Health",
    "HTTPAuthorizationCredentials", "HTTPBearer", "HTTPException", "HttpUrl", "HttpUrlText", "IdT", "Index",
    "Int64", "IntBulkRequest", "IntBulkResult", "Integer", "IntegrityError", "Interval", "IntId",
    "InvalidHashError", "InvalidInput", "InvalidOperation", "Iterator", "JsonObject", "JSONResponse",
    "JsonSchemaValue", "Le", "Literal", "Lt", "Maker", "NoDecode", "NotFound", "Numeric",
    "OAuth2PasswordBearer", "OAuth2PasswordRequestForm", "Optional", "OrmSession", "Page", "PageQuery",
    "ParamSpec", "PasswordHasher", "Path", "Query", "Register", "Relationship", "Request",
    "RequestValidationError", "Response", "Row", "SafeText", "Scaled", "Scene", "Select", "Self", "Sequence",
    "Session", "Settings", "SettingsConfigDict", "SQLAlchemyError", "SQLModel", "Stats", "String",
    "StringConstraints", "TestClient", "Text", "ThreadPoolExecutor", "Token", "TypeAdapter", "TypeAliasType",
    "TypeDecorator", "TypeVar", "Unauthorized", "UniqueConstraint", "UnsupportedAlgorithm", "User",
    "UserPublic", "UTCDateTime", "UtcDatetime", "UUID", "Uuid", "UuidBulkRequest", "UuidBulkResult",
    "ValidationErrorBody", "VerificationError",
})
_SCHEMA_SUFFIXES = ("Base", "Create", "Update", "Public", "Read", "Page", "Sort")
#: What the generated code appends to every resource's name (``Page`` and ``Sort`` whether or not used).
_GENERATED_SUFFIXES = ("Base", "Create", "Update", "Public", "Page", "Sort")
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
