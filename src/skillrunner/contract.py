"""API contracts: the typed, immutable model of a ``specs/api/*.md`` file, its parser and checker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AUTH_KINDS",
    "FIELD_KINDS",
    "OPERATION_KINDS",
    "Constraint",
    "Contract",
    "Endpoint",
    "Field",
    "FieldType",
    "Operation",
    "Parent",
    "Resource",
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


@dataclass(frozen=True)
class Operation:
    """What an endpoint does: ``list(filter: a, b; sort: c)``, ``search(a, b)``, ``stats(a)``..."""

    kind: OperationKind
    filters: tuple[str, ...] = ()  # list
    sorts: tuple[str, ...] = ()  # list
    fields: tuple[str, ...] = ()  # search: fields matched; stats: the one field counted
    assignments: tuple[tuple[str, Value], ...] = ()  # bulk_update(field=value)


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
        out = []
        for i, ch in enumerate(self.name):
            if ch.isupper() and i and (not self.name[i - 1].isupper()
                                       or (i + 1 < len(self.name) and self.name[i + 1].islower())):
                out.append("_")
            out.append(ch.lower())
        return "".join(out)

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
