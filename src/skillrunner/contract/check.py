"""The contract checker: meaning rules over the model (names, types, paths), every problem at once."""

from __future__ import annotations

import dataclasses
import difflib
import keyword
import math
from collections.abc import Sequence
from typing import Literal

from skillrunner.contract.model import (
    _BUILTINS,
    _FILTER_TYPES,
    _FLAGS,
    _GENERATED_FIELDS,
    _GENERATED_SUFFIXES,
    _INT64,
    _ITEM_OPERATIONS,
    _LIMITS,
    _MAX_NAME,
    _METHODS,
    _MODEL_ATTRS,
    _MODEL_PREFIXES,
    _ONCE_OPERATIONS,
    _OPERATION_METHODS,
    _PARAM,
    _PASCAL,
    _QUERY_PARAMS,
    _RESERVED_RESOURCES,
    _RESERVED_SNAKE,
    _SCHEMA_SUFFIXES,
    _SEARCH_TYPES,
    _SEGMENT,
    _SLUG,
    _SNAKE_NAME,
    _SQL_RESERVED,
    _STATS_TYPES,
    _UNSORTABLE,
    _VERSION,
    AUTH_KINDS,
    CONSTRAINT_TYPES,
    FIELD_KINDS,
    SAMPLES_PER_FIELD,
    Constraint,
    Contract,
    Endpoint,
    Field,
    Resource,
    Schema,
    _format_value,
    _reserved_table_hint,
    _snake,
    enum_type_name,
    stats_model_name,
)
from skillrunner.contract.parse import (
    _Where,
)
from skillrunner.contract.values import (
    _breaks_constraints,
    _did_you_mean,
    _pattern_problem,
    _value_problem,
)
from skillrunner.findings import Finding

# --- the checker -----------------------------------------------------------------------------------


#: Paths every generated app answers on its own: the health check and FastAPI's documentation.
_APP_PATHS = frozenset({"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})

@dataclasses.dataclass(frozen=True)
class _Named:
    """A class or type alias the generated code defines, and what in the contract gives it its name."""

    name: str
    what: str  # the enum type of Task.status_kind
    at: tuple[int, int]  # where the contract defines it: the field row or the heading
    subject: str  # what to rename: field status_kind of Task ("" for the generated code's own names)
    rename: str  # a new name for the subject
    covered: bool  # a resource, its suffixed schemas or a schema: resources() and schemas() check those


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
        self.schemas()
        self.generated_names()
        actions: dict[str, int] = {}
        routes: dict[tuple[str, str], int] = {}
        for res in c.resources:
            self.fields(res)
            for ep in res.endpoints:
                self.endpoint(res, ep, routes)
            self.operations_once(res)
            for ep in res.endpoints:
                if ep.operation.kind == "action" and (ep.line, "operation") not in self.skip:
                    self.action_name(ep, actions)
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

    def schemas(self) -> None:
        names: dict[str, int] = {}
        used = {ep.operation.body for _, ep in self.contract.actions()}
        used |= {ep.body_item[1] for _, ep in self.contract.actions()}
        resources = {r.name for r in self.contract.resources}
        derived = {f"{r}{s}" for r in resources for s in _SCHEMA_SUFFIXES}
        for schema in self.contract.schemas:
            at = self.where.get(("schema", schema.line), (schema.line, 1))
            name = schema.name
            if not name or not _PASCAL.fullmatch(name) or not name.isascii():
                self.emit(at, f"schema name {name!r} is not PascalCase",
                          "write letters and digits starting with a capital, e.g. Snooze", "schema")
                continue
            if name in names:
                self.emit(at, f"schema {name} is defined twice", f"the first is on line {names[name]}",
                          "duplicate")
                continue
            names[name] = schema.line
            if name in resources:
                self.emit(at, f"schema {name} is named like a resource",
                          f"a resource's own schemas come with it; name the body e.g. {name}Summary",
                          "schema")
            elif name in derived:
                self.emit(at, f"schema {name} clashes with a schema generated for a resource",
                          "choose a name that is not a resource's name plus Base, Create, Update, Public, "
                          "Read, Page or Sort", "schema")
            elif name in _RESERVED_RESOURCES or name in _ACTION_MODULE_NAMES:
                self.emit(at, f"schema name {name!r} is used by the generated code itself",
                          f"choose another name, e.g. {name}Body", "schema")
            if name not in used:
                self.emit(at, f"schema {name} is the body of no action",
                          "name it in an action's body: or Success cell, or remove it", "schema", "warning")
            self.schema_fields(schema)

    def generated_names(self) -> None:
        """Two generated classes or type aliases may not share a name: FastAPI would then name their
        schemas by module path (``app__models__task__TaskStatusKind``). Clashes among resource names,
        their suffixed schemas and schema names are reported by ``resources`` and ``schemas``."""
        own = "a class the generated code imports or defines"
        entries = [_Named(name, own, (0, 0), "", "", True) for name in sorted(_RESERVED_RESOURCES)]
        resources: set[str] = set()
        for res in self.contract.resources:
            if not _PASCAL.fullmatch(res.name) or not res.name.isascii() or res.name in resources:
                continue
            resources.add(res.name)
            at = self.where.get(("resource", res.line), (res.line, 1))
            subject, rename = f"resource {res.name}", f"{res.name}Item"
            entries.append(_Named(res.name, f"resource {res.name}", at, subject, rename, True))
            entries += [_Named(f"{res.name}{suffix}", f"the {suffix} schema of {res.name}", at, subject,
                               rename, True) for suffix in _GENERATED_SUFFIXES]
            stats = {ep.operation.fields[0] for ep in res.endpoints
                     if ep.operation.kind == "stats" and ep.operation.fields}
            entries += self.field_names(res.name, res.fields, stats)
        schemas: set[str] = set()
        paged = {ep.body_item[1] for _, ep in self.contract.actions() if ep.body_item[0] == "Page"}
        for schema in self.contract.schemas:
            name = schema.name
            if not _PASCAL.fullmatch(name) or not name.isascii() or name in schemas | resources:
                continue
            schemas.add(name)
            at = self.where.get(("schema", schema.line), (schema.line, 1))
            subject, rename = f"schema {name}", f"{name}Body"
            entries.append(_Named(name, f"schema {name}", at, subject, rename, True))
            if name in paged:
                entries.append(_Named(f"{name}Page", f"the Page schema of {name}", at, subject, rename,
                                      False))
            entries += self.field_names(name, schema.fields, set())
        seen: dict[str, _Named] = {}
        reported: set[tuple[str, str]] = set()
        for later in sorted(entries, key=lambda e: e.at):
            earlier = seen.setdefault(later.name, later)
            if earlier is later or (earlier.covered and later.covered):
                continue
            if (later.subject, earlier.subject) in reported:
                continue
            reported.add((later.subject, earlier.subject))
            where = f" (line {earlier.at[0]})" if earlier.subject else ""
            other = f" or {earlier.subject}" if earlier.subject else ""
            self.emit(later.at, f"{later.what} and {earlier.what}{where} are both named {later.name}",
                      f"generated names must differ: rename {later.subject} (e.g. to {later.rename}){other}",
                      "name-clash")

    def field_names(self, owner: str, fields: Sequence[Field], stats: set[str]) -> list[_Named]:
        """The names generated for the fields of a resource or schema: enum and pattern types, and the
        models of stats endpoints."""
        out: list[_Named] = []
        seen: set[str] = set()
        for f in fields:
            if _field_name_problem(f.name) or f.name in seen:
                continue
            seen.add(f.name)
            at = self.cell(f.line, "field")
            subject, rename = f"field {f.name} of {owner}", f"{f.name}_value"
            if f.type.kind == "enum" or isinstance(f.constraint("pattern"), str):
                what = "enum type" if f.type.kind == "enum" else "pattern type"
                out.append(_Named(enum_type_name(owner, f.name), f"the {what} of {owner}.{f.name}", at,
                                  subject, rename, False))
            if f.name in stats:
                model = stats_model_name(owner, f.name)
                out.append(_Named(model, f"the stats model of {owner}.{f.name}", at, subject, rename, False))
                # schema.py.j2 names the counts model so.
                out.append(_Named(model.replace("Stats", "Counts"), f"the stats counts of {owner}.{f.name}",
                                  at, subject, rename, False))
        return out

    def schema_fields(self, schema: Schema) -> None:
        seen: dict[str, int] = {}
        for f in schema.fields:
            at = self.cell(f.line, "field")
            problem = _field_name_problem(f.name)
            if problem:
                self.emit(at, f"field name {f.name!r} {problem}",
                          "use snake_case: lower-case letters, digits and _, starting with a letter",
                          "field-name")
            elif f.name.startswith(_MODEL_PREFIXES) or f.name in _MODEL_ATTRS:
                self.emit(at, f"field name {f.name!r} would shadow an attribute of pydantic models",
                          "choose another name", "field-name")
            if f.name in seen:
                self.emit(at, f"field {f.name!r} is defined twice in {schema.name}",
                          f"the first is on line {seen[f.name]}", "duplicate")
            seen.setdefault(f.name, f.line)
            if f.type.kind == "ref":
                self.emit(self.cell(f.line, "type"), f"{f.name} is a ref; a schema is not stored",
                          "take the id as integer or uuid; the action checks that the row exists", "schema")
            else:
                self.field_type(schema.name, f)
            for c in f.constraints:
                if c.name in _FLAGS:
                    where = self.where.get(("constraint", f.line, c.name), self.cell(f.line, "constraints"))
                    self.emit(where, f"{c.name} applies to stored fields; a schema is not stored",
                              f"drop {c.name}", "schema")
            self.constraints(dataclasses.replace(f, constraints=tuple(c for c in f.constraints
                                                                      if c.name not in _FLAGS)))
            self.default(f)

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
                          "Public, Read, Page or Sort", "resource-name")
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
            self.field_type(res.name, f)
            self.constraints(f)
            self.default(f)

    def field_type(self, owner: str, f: Field) -> None:
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
            if target is None and self.contract.schema(t.ref or "") is not None:
                self.emit(at, f"ref({t.ref}) names a schema; a ref points to a stored resource",
                          "schemas are bodies, not tables: refer to a `## Resource: ...`", "type")
            elif target is None:
                self.emit(at, f"ref({t.ref}) names no resource of this contract",
                          _did_you_mean(t.ref or "", [r.name for r in self.contract.resources]), "type")
            elif target.name == owner and f.required:
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
        if ep.path.rstrip("/") in _APP_PATHS:
            self.emit(self.cell(ep.line, "path"), f"{ep.path} is served by the generated app itself",
                      "put the resource under its own prefix, e.g. /api" + ep.path, "path")
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
        if kind == "action":
            segments = path[1:].split("/")
            name = ep.operation.name or "name"
            word = name.replace("_", "-")
            if segments[-1].startswith("{"):
                fixed = f"{path}/{word}"
                if segments[-1] == "{id}" and len(segments) > 1 and segments[-2] not in (res.table, "api") \
                        and not segments[-2].startswith("{"):
                    fixed = "/" + "/".join([*segments[:-2], "{id}", segments[-2]])  # /tasks/due/{id}
                self.emit(at, "an action's path ends with a word naming it, not a parameter",
                          f"write e.g. {fixed}", "path")
            elif "{id}" in segments[:-2]:
                head = segments[:segments.index("{id}") + 1]
                self.emit(at, "{id} in an action's path comes right before its last segment",
                          f"write e.g. /{'/'.join([*head, segments[-1]])} for one {res.name}, or no {{id}} "
                          "for an action on the collection", "path")
            return
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

        if op.kind == "action":
            if op.body is not None and self.contract.schema(op.body) is None:
                if self.contract.resource(op.body) is not None:
                    self.emit(at, f"the body of {op.name} names the resource {op.body}, not a schema",
                              f"declare `## Schema: {op.body}Input` with the fields the action takes, and "
                              f"write body: {op.body}Input", "action")
                else:
                    self.emit(at, f"the body of {op.name} names no `## Schema: {op.body}`",
                              _did_you_mean(op.body, [s.name for s in self.contract.schemas])
                              if self.contract.schemas else f"add a `## Schema: {op.body}` section with a "
                              "field table", "action")
            if op.body is not None and ep.method == "GET":
                self.emit(at, f"{op.name} is a GET with a body; GET requests carry none",
                          "serve it with POST (or another method), or drop the body", "action")
            return
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

    def action_success(self, ep: Endpoint) -> None:
        at = self.cell(ep.line, "success")
        forms = "200 Name, 201 Name, 200 Page[Name], 200 list[Name] or 204 (Name: a resource or a schema)"
        body = ep.body
        if body is None:
            if ep.status not in (200, 201, 204):
                self.emit(at, f"an action answers 200, 201 or 204, not {ep.status}", f"write {forms}",
                          "success")
            elif ep.status != 204:
                self.emit(at, f"{ep.status} needs the body it answers", f"write {ep.status} Name, or 204",
                          "success")
        else:
            wrapper, name = ep.body_item
            if ep.status == 204:
                self.emit(at, "204 answers no body", "write 204 alone, or 200 with the body", "success")
            elif wrapper and ep.status != 200:
                self.emit(at, f"{wrapper}[...] answers 200, not {ep.status}", f"write 200 {body}", "success")
            elif ep.status not in (200, 201):
                self.emit(at, f"an action answers 200, 201 or 204, not {ep.status}", f"write {forms}",
                          "success")
            if self.contract.resource(name) is None and self.contract.schema(name) is None:
                names = [r.name for r in self.contract.resources] + [s.name for s in self.contract.schemas]
                self.emit(at, f"{name} is neither a resource nor a schema of this contract",
                          _did_you_mean(name, names) if names else f"write {forms}", "success")
        if ep.status in ep.errors:
            self.emit(self.cell(ep.line, "errors"), f"{ep.status} is the success status",
                      "drop it from Errors", "errors")

    def action_name(self, ep: Endpoint, seen: dict[str, int]) -> None:
        at = self.cell(ep.line, "operation")
        name = ep.operation.name
        problem = _field_name_problem(name)
        if not problem and name in _ACTION_MODULE_NAMES:
            problem = "is a name the action module imports"
        if problem:
            self.emit(at, f"action name {name!r} {problem}",
                      "name the Python function it becomes in snake_case, e.g. archive or send_reminder",
                      "action")
        elif name in _BUILTINS:
            self.emit(at, f"action name {name!r} is a Python builtin", f"choose another, e.g. {name}_items",
                      "action")
        if name in seen:
            self.emit(at, f"two actions are named {name}", f"the first is on line {seen[name]}; names are "
                      "unique in a contract", "duplicate")
        seen.setdefault(name, ep.line)

    def success(self, res: Resource, ep: Endpoint) -> None:
        kind = ep.operation.kind
        if kind == "action":
            self.action_success(ep)
            return
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
            if op.kind == "action":
                continue  # action names are checked across the whole contract
            key = op.kind if op.kind in _ONCE_OPERATIONS else op.spec
            if key in seen:
                what = f"{res.name} has a second {op.kind}" if op.kind in _ONCE_OPERATIONS else \
                    f"{op.spec} is already served"
                self.emit(self.cell(ep.line, "operation"), what, f"see line {seen[key]}", "duplicate")
            else:
                seen[key] = ep.line


#: Names an action module (as first written) imports or that a function there would shadow.
_ACTION_MODULE_NAMES = frozenset({
    "ActionNotWritten", "Conflict", "InvalidInput", "NotFound", "Page", "Sequence", "Session", "UTC", "UUID",
    "col", "date", "datetime", "func", "paginate", "select", "timedelta", "utcnow",
})

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
