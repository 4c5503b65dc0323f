"""The views of a contract the templates read: every name, type, query and sample, from checked names."""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from skillrunner.contract import Contract, Endpoint, Field, Resource, Schema
from skillrunner.contract.model import enum_type_name, stats_model_name
from skillrunner.conventions import Conventions
from skillrunner.render.python import (
    LINE_LENGTH,
    _call,
    _db_name,
    _display,
    _lines,
    _q,
    _wrap_literal,
)
from skillrunner.render.samples import _SAMPLES, _bad_query, _invalid_samples, _sample

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
    summary: str  # one line for the OpenAPI (a client generator's docstring)
    filters: tuple[FieldView, ...] = ()
    sorts: tuple[str, ...] = ()
    default_sort: str = "-created_at"
    search_fields: tuple[str, ...] = ()
    stats_field: FieldView | None = None
    stats_model: str = ""
    stats_values: tuple[str, ...] = ()
    stats_counts: tuple[tuple[str, str], ...] = ()  # (attribute, value): one count per value of the field
    assignments: tuple[tuple[str, str, Any], ...] = ()  # (field, Python literal, JSON value)
    line: int = 0
    action: str = ""  # action: the user's function
    member: bool = False  # action: it acts on one row (its path has the row's id)
    body: str | None = None  # action: the schema of its body
    result: str = ""  # action: row | rows | page | schema | none (what the success body holds)
    model: str = ""  # action: the response model of one item (TaskPublic, Report)
    returns: str = ""  # action: the response model (TaskPublic, list[TaskPublic], Page[Report])
    page_model: str = ""  # action answering a page: its named response model (TaskPage, ReportPage)
    raw: str = ""  # action: what the user's function returns (Task, list[Task], Page[TaskPublic], Report)
    sample: Any = None  # action: a body it accepts (JSON)
    invalid: tuple[tuple[str, Any], ...] = ()  # action: (id, body) pairs it must refuse with 422


@dataclass(frozen=True)
class SchemaView:
    """A ``## Schema``: a pydantic model an action takes or answers."""

    name: str
    description: str
    fields: tuple[FieldView, ...]
    args: dict[str, tuple[str, ...]]  # field -> its Field(...) arguments (no database ones)
    paged: bool = False  # an action answers a page of it: {Name}Page is defined


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
    actions_import: str = ""  # how the generated code imports the user's action module
    actions_ref: str = ""  # the name it calls it by
    actions_path: str = ""  # the action module, relative to the backend root
    member_actions: bool = False  # an action loads one row
    sort_def: str = ""  # the right-hand side of the {Name}Sort alias, when a list sorts
    paged: bool = False  # a list, a search or an action answers pages of it: {Name}Page is defined


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


def _named_literal(name: str, values: Iterable[str], names: Iterable[str] = ()) -> str:
    """``TypeAliasType(name, Literal[...])``: the values become one named schema in the OpenAPI, shared
    by every model and parameter that uses them. ``names``: the member names a client generator gives
    them (``x-enum-varnames``), for values that are no identifiers."""
    wanted = list(names)
    if not wanted:
        literal = _lines([_q(v) for v in values], 4, "Literal[", "]")
        one = f"TypeAliasType({_q(name)}, {literal})"
        if len(f"{name} = {one}") <= LINE_LENGTH and "\n" not in one:
            return one
        return f"TypeAliasType(\n    {_q(name)},\n    {literal},\n)"
    literal = _lines([_q(v) for v in values], 8, "Literal[", "]")
    extra = _display({"x-enum-varnames": wanted}, 8, len("pydantic.Field(json_schema_extra=),"))
    if "\n" in extra:
        extra = _display({"x-enum-varnames": wanted}, 12, len("json_schema_extra=,"))
        field = f"pydantic.Field(\n            json_schema_extra={extra},\n        )"
    else:
        field = f"pydantic.Field(json_schema_extra={extra})"
    return f"TypeAliasType(\n    {_q(name)},\n    Annotated[\n        {literal},\n        {field},\n    ],\n)"


def _fit_subquery(name: str, expr: str, indent: int = 8) -> str:
    """``select(X.id).where(condition)``, its condition on a line of its own when ``name = expr`` at
    ``indent`` would be too long (the delete helpers assign these inside a ``with`` block)."""
    if indent + len(name) + 3 + len(expr) <= LINE_LENGTH or ".where(" not in expr:
        return expr
    head, _, condition = expr.partition(".where(")
    return f"{head}.where(\n{' ' * (indent + 4)}{condition[:-1]},\n{' ' * indent})"


def _attributes(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(attribute, value): a pydantic field name for each value; the value is its alias when they differ
    (not an identifier, a keyword, or a name BaseModel already has)."""
    out: list[tuple[str, str]] = []
    taken: set[str] = set()
    for value in values:
        name = re.sub(r"\W", "_", value)
        if not name or name[0].isdigit() or name.startswith("_"):
            name = f"v_{name.lstrip('_')}"
        if keyword.iskeyword(name) or name in _MODEL_NAMES:
            name += "_"
        while name in taken:
            name += "_"
        taken.add(name)
        out.append((name, value))
    return tuple(out)


#: Attribute names a pydantic model already has: a field may not take them.
_MODEL_NAMES = frozenset({
    "construct", "copy", "dict", "from_orm", "json", "model_computed_fields", "model_config",
    "model_construct", "model_copy", "model_dump", "model_dump_json", "model_extra", "model_fields",
    "model_fields_set", "model_json_schema", "model_parametrized_name", "model_post_init",
    "model_rebuild", "model_validate", "model_validate_json", "model_validate_strings", "parse_file",
    "parse_obj", "parse_raw", "schema", "schema_json", "update_forward_refs", "validate",
})


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
        alias = enum_type_name(res.name, f.name) if kind == "enum" or isinstance(pattern, str) else None
        alias_def = ""
        if kind == "enum":
            alias_def = _named_literal(str(alias), t.enum_values)
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
            py = f"Annotated[Decimal, Scaled({p}, {s})]"
            sa_type, column_type = f"Numeric({p}, {s})", f"sa.Numeric(precision={p}, scale={s})"
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
                # A bound on a Decimal goes before Scaled, on the number itself.
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

    @staticmethod
    def value_code(f: Field, value: Any) -> str:
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
        # ON DELETE CASCADE takes a cascade child with its parent. A restrict foreign key still holds
        # soft-deleted children, which do not block the delete: those are deleted here, deepest first.
        for node, cond in reversed(gone[1:]):
            if node.parent is not None and node.parent.on_delete == "restrict" and node.soft_delete:
                steps.append((node.name, cond))
        code = " ".join([*(c for _, conds, _ in checks for c in conds), *(c for _, c in steps)])
        used: list[tuple[str, str]] = []
        for name, expr in reversed(subqueries.items()):  # a subquery uses only those made before it
            if re.search(rf"\b{name}\b", code):
                used.insert(0, (name, _fit_subquery(name, expr)))
                code += " " + expr
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
        if kind == "action":
            codes.add(501)
            if ep.operation.body or ep.path_params or ep.body_item[0] == "Page":
                codes.add(422)
            if ep.operation.body:
                codes.add(400)  # a body that is not JSON at all
            if ep.member or nested:
                codes.add(404)
                if self.conv.not_owned_status == 403 and self.has_owner_above(res):
                    codes.add(403)
            codes.discard(ep.status)
            return tuple(sorted(c for c in codes if c >= 400))
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

    @staticmethod
    def summary(res: Resource, ep: Endpoint) -> str:
        op = ep.operation
        one, many = res.snake.replace("_", " "), res.table.replace("_", " ")
        article = "an" if one[:1] in "aeiou" else "a"
        fields = ", ".join(op.fields)
        named = {
            "create": f"Create {article} {one}",
            "get": f"Read {article} {one}",
            "update": f"Update {article} {one}",
            "delete": f"Delete {article} {one}",
            "list": f"List {many}",
            "search": f"Search {many} by {fields}",
            "stats": f"Count {many} by {fields}",
            "bulk_update": f"Set {', '.join(n for n, _ in op.assignments)} on many {many}",
        }.get(op.kind)
        if named:
            return named
        what = f"one {one}" if ep.member else f"the {many}"
        return f"{op.name.replace('_', ' ').capitalize()} ({what})"

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
            if kind == "action":
                function = unique(f"{op.name}_{res.snake if ep.member else res.table}")
            elif kind in ("create", "get", "update", "delete"):
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
                status=ep.status, responses=self.statuses(res, ep), summary=self.summary(res, ep),
                filters=tuple(fields[n] for n in op.filters), sorts=sorts, default_sort=default_sort,
                search_fields=op.fields if kind == "search" else (), stats_field=stats_field,
                stats_model=stats_model_name(res.name, op.fields[0]) if kind == "stats" else "",
                stats_values=stats_values, stats_counts=_attributes(stats_values),
                assignments=tuple(assignments), line=ep.line,
                **(self.action_fields(ep) if kind == "action" else {}),
            ))
        # Static segments before parameters, so /search is never read as an id.
        return sorted(out, key=lambda e: [(1, "") if part.startswith("{") else (0, part)
                                          for part in e.path.split("/")])

    @staticmethod
    def sort_def(name: str, endpoints: Iterable[EndpointView]) -> str:
        """The orders the lists of a resource accept (``field``, ascending; ``-field``, descending), with
        the member names a client generator gives them (``CREATED_AT``, ``CREATED_AT_DESC``)."""
        fields = dict.fromkeys(s for ep in endpoints if ep.kind == "list" for s in ep.sorts)
        if not fields:
            return ""
        values = [v for f in fields for v in (f, f"-{f}")]
        names = [n for f in fields for n in (f.upper(), f"{f.upper()}_DESC")]
        return _named_literal(f"{name}Sort", values, names)

    # -- actions and schemas ----------------------------------------------------------------------------

    def action_fields(self, ep: Endpoint) -> dict[str, Any]:
        """What an action's route, call and tests need: its body, and what its function returns."""
        op = ep.operation
        wrapper, name = ep.body_item
        stored = name in self.by_name
        model = f"{name}Public" if stored else name
        result, returns, raw, page_model = "none", "", "None", ""
        if wrapper == "Page":
            result, returns, raw = "page", f"Page[{model}]", f"Page[{model}]"
            page_model = f"{name}Page"
        elif wrapper == "list":
            result, returns, raw = "rows", f"list[{model}]", f"Sequence[{name}]"
        elif name:
            result, returns, raw = ("row" if stored else "schema"), model, name
        fields: dict[str, Any] = {"action": op.name, "member": ep.member, "body": op.body, "result": result,
                                  "model": model, "returns": returns, "raw": raw, "page_model": page_model}
        schema = self.contract.schema(op.body) if op.body else None
        if schema is not None:
            sample = {f.name: _sample(f, 1) for f in schema.fields if f.required}
            invalid = [("unknown-key", {**sample, "not_a_field": 1})]
            invalid += [(f"{f.name}-missing", {k: v for k, v in sample.items() if k != f.name})
                        for f in schema.fields if f.required]
            invalid += [(f"{f.name}-{why}".replace(" ", "-"), {**sample, f.name: value})
                        for f in schema.fields for why, value in _invalid_samples(f)]
            fields |= {"sample": sample, "invalid": tuple(invalid)}
        return fields

    def schema_view(self, schema: Schema) -> SchemaView:
        stand_in = Resource(name=schema.name, table="", fields=schema.fields)
        fields = tuple(self.field_view(stand_in, f) for f in schema.fields)
        database = ("sa_type=", "nullable=", "foreign_key=")
        args = {f.name: tuple(a for a in f.args if not a.startswith(database)) for f in fields}
        return SchemaView(name=schema.name, description=schema.description, fields=fields, args=args,
                          paged=self.paged(schema.name))

    def paged(self, name: str) -> bool:
        """Whether some action answers a page of ``name`` (a resource or a schema)."""
        return any(ep.body_item == ("Page", name) for _, ep in self.contract.actions())

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
        actions_import = actions_ref = actions_path = ""
        if any(ep.operation.kind == "action" for ep in res.endpoints) and "actions" in conv.layout:
            actions_path = conv.path("actions", name=res.snake, plural=res.table)
            package, _, leaf = conv.module("actions", name=res.snake, plural=res.table).rpartition(".")
            actions_ref = f"{res.snake}_actions"
            alias = f" as {actions_ref}" if leaf != actions_ref else ""
            actions_import = f"from {package} import {leaf}{alias}" if package else f"import {leaf}{alias}"
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
            actions_import=actions_import, actions_ref=actions_ref, actions_path=actions_path,
            member_actions=any(ep.operation.kind == "action" and ep.member for ep in res.endpoints),
            sort_def=self.sort_def(res.name, endpoints),
            paged=bool({"list", "search"} & {ep.kind for ep in endpoints}) or self.paged(res.name),
        )
        self.views[res.name] = view
        return view
