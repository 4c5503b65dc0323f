"""Migrations as history: the database schema of a contract, and the Alembic revision between two of them."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from skillrunner.contract import Contract, Field, Resource
from skillrunner.conventions import Conventions
from skillrunner.render.python import LINE_LENGTH, _call, _db_name, _lines, _q, _qs
from skillrunner.render.views import _Builder

__all__ = ["SCHEMA_VERSION", "Change", "Column", "MigrationRefused", "Revision", "Table", "plan_revision",
           "revision_context", "schema_from_json", "schema_from_revision", "schema_of", "schema_to_json"]

#: How a schema is written to ``.skillrunner/``; a different number means a state this code cannot read.
SCHEMA_VERSION = 1

_DOC_WIDTH = 100  # a revision's docstring lines
# Column types that convert into one another in place (ALTER ... TYPE); any other change of type
# drops the column and adds it again.
_FAMILIES = {"String": "text", "Text": "text", "Integer": "number", "BigInteger": "number",
             "Float": "number", "Numeric": "number"}
# The value a column that must not be null takes in a downgrade that brings it back with no default.
_FILLER = {"String": '""', "Text": '""', "Integer": "0", "BigInteger": "0", "Float": "0.0",
           "Numeric": 'Decimal("0")', "Boolean": "False", "Date": "date(1970, 1, 1)",
           "DateTime": "datetime(1970, 1, 1, tzinfo=UTC)", "JSON": "{}"}


@dataclass(frozen=True)
class Column:
    """One column, as a migration creates it."""

    name: str
    type: str  # the SQLAlchemy type as the revision writes it: sa.String(length=255)
    nullable: bool
    references: str | None = None  # the table whose id it holds
    on_delete: str | None = None  # CASCADE, or None
    fill: str | None = None  # a Python expression: the value rows already there take (the default)
    values: tuple[str, ...] = ()  # an enum's values
    line: int = field(default=0, compare=False)  # where the contract declares it (0: not a field)

    @property
    def family(self) -> str:
        """The type without its arguments (String), or a wider family its values convert within."""
        base = self.type.removeprefix("sa.").partition("(")[0]
        return _FAMILIES.get(base, base)

    @property
    def base(self) -> str:
        return self.type.removeprefix("sa.").partition("(")[0]

    @staticmethod
    def fill_value(code: str) -> Any:
        """The value a fill expression stands for, when it is a plain literal (else the code)."""
        try:
            return ast.literal_eval(code)
        except (ValueError, SyntaxError):
            return code

    def fk_name(self, table: str) -> str:
        return _db_name("fk", table, [self.name])


#: A unique's column compared without case (an email): a unique index on the expression, not a constraint.
_LOWER = re.compile(r"lower\((\w+)\)")


def _bare(cols: Sequence[str]) -> set[str]:
    """The columns a unique or index covers, ``lower(email)`` counting as ``email``."""
    return {m[1] if (m := _LOWER.fullmatch(c)) else c for c in cols}


def _is_index(cols: Sequence[str]) -> bool:
    """Whether a unique over ``cols`` is a unique index (on an expression), not a constraint."""
    return any(_LOWER.fullmatch(c) for c in cols)


def _index_columns(cols: Sequence[str], indent: int) -> str:
    """``cols`` as the list an index takes: names, and ``sa.text(...)`` for expressions."""
    return _lines([f"sa.text({_q(c)})" if _LOWER.fullmatch(c) else _q(c) for c in cols], indent)


@dataclass(frozen=True)
class Table:
    """One table: columns in creation order, its unique constraints and indexes by name. A unique
    whose columns include ``lower(email)`` is a unique index on that expression."""

    name: str
    columns: tuple[Column, ...]
    uniques: tuple[tuple[str, tuple[str, ...]], ...] = ()
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    resource: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def id(self) -> Column:
        return next(c for c in self.columns if c.name == "id")


@dataclass(frozen=True)
class Change:
    """One step of a revision, as ``run`` and ``plan.md`` name it."""

    summary: str  # add column tasks.priority
    slug: str  # add_tasks_priority
    loss: str = ""  # what data it loses, when it does


@dataclass(frozen=True)
class Revision:
    """A revision to render: its id, file name, what it changes, and the code of both directions."""

    id: str
    down: str | None
    file: str
    changes: tuple[Change, ...]
    upgrade: tuple[str, ...]
    downgrade: tuple[str, ...]

    @property
    def losses(self) -> tuple[str, ...]:
        """What upgrading loses, one sentence a change."""
        return tuple(c.loss for c in self.changes if c.loss)


class MigrationRefused(Exception):
    """A change the database cannot follow with the rows it holds."""

    def __init__(self, message: str, *, line: int, hint: str) -> None:
        super().__init__(message)
        self.message, self.line, self.hint = message, line, hint


# --- the schema of a contract ------------------------------------------------------------------------


_USERS = Table("users", (
    Column("id", "sa.Integer()", False),
    Column("email", "sa.String(length=320)", False),
    Column("password_hash", "sa.String(length=255)", False),
    Column("created_at", "sa.DateTime(timezone=True)", False),
), uniques=(("uq_users_email", ("email",)),), resource="User")


def _fill(f: Field) -> str | None:
    """The contract's default of ``f`` as a Python expression for a revision (None: no default)."""
    if not f.has_default or f.default is None:
        return None
    kind, value = f.type.kind, f.default
    if kind == "datetime":
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return f"datetime.fromisoformat({_q(moment.isoformat())})"
    return _Builder.value_code(f, value)


def schema_of(contract: Contract, conventions: Conventions) -> tuple[Table, ...]:
    """Every table the contract's backend keeps, parents and referenced tables first."""
    builder = _Builder(contract, conventions)
    tables = [_USERS] if contract.auth == "builtin" else []
    for res in contract.ordered_resources():
        tables.append(_table(builder, res))
    return tuple(tables)


def _table(builder: _Builder, res: Resource) -> Table:
    view = builder.resource_view(res)
    by_name = {f.name: f for f in res.fields}
    columns: list[Column] = []
    for fv in view.fields:
        f = by_name[fv.name]
        columns.append(Column(fv.name, fv.column_args[1], fv.nullable, references=fv.ref_table,
                              fill=_fill(f), values=fv.enum_values, line=f.line))
    id_type = "sa.Uuid()" if res.id_type == "uuid" else "sa.Integer()"
    columns.append(Column("id", id_type, False))
    if view.owner:
        columns.append(Column("user_id", "sa.String(length=255)", False))
    if view.parent is not None and view.parent_field:
        parent_id = "sa.Uuid()" if view.parent.id_type == "uuid" else "sa.Integer()"
        columns.append(Column(view.parent_field, parent_id, False, references=view.parent.table,
                              on_delete="CASCADE" if view.on_delete == "cascade" else None))
    if view.timestamps:
        columns += [Column("created_at", "sa.DateTime(timezone=True)", False),
                    Column("updated_at", "sa.DateTime(timezone=True)", False)]
    if view.soft_delete:
        columns.append(Column("deleted_at", "sa.DateTime(timezone=True)", True))
    # An email is unique without case, as registration compares them (model.py.j2 does the same).
    uniques = tuple((name, (*cols[:-1], f"lower({cols[-1]})") if by_name[cols[-1]].type.kind == "email"
                     else cols) for name, cols in view.uniques)
    return Table(view.table, tuple(columns), uniques=uniques, indexes=view.indexes,
                 resource=res.name, line=res.line)


def schema_to_json(tables: Sequence[Table]) -> list[dict[str, Any]]:
    """The schema as JSON (what ``.skillrunner/`` keeps of the last render)."""
    out = []
    for t in tables:
        columns = []
        for c in t.columns:
            item: dict[str, Any] = {"name": c.name, "type": c.type, "nullable": c.nullable}
            for key, value in (("references", c.references), ("on_delete", c.on_delete), ("fill", c.fill)):
                if value is not None:
                    item[key] = value
            if c.values:
                item["values"] = list(c.values)
            columns.append(item)
        out.append({"name": t.name, "resource": t.resource, "columns": columns,
                    "uniques": [[n, list(cols)] for n, cols in t.uniques],
                    "indexes": [[n, list(cols)] for n, cols in t.indexes]})
    return out


def schema_from_json(data: Any) -> tuple[Table, ...]:
    """``schema_to_json``'s inverse; ValueError when ``data`` is not one."""
    if not isinstance(data, list):
        raise ValueError("expected a list of tables")
    tables = []
    try:
        for t in data:
            columns = tuple(Column(str(c["name"]), str(c["type"]), bool(c["nullable"]),
                                   references=c.get("references"), on_delete=c.get("on_delete"),
                                   fill=c.get("fill"), values=tuple(c.get("values", ())))
                            for c in t["columns"])
            tables.append(Table(str(t["name"]), columns,
                                uniques=tuple((str(n), tuple(cols)) for n, cols in t["uniques"]),
                                indexes=tuple((str(n), tuple(cols)) for n, cols in t["indexes"]),
                                resource=str(t.get("resource", ""))))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a table or column is malformed ({exc})") from exc
    return tuple(tables)


def schema_from_revision(text: str) -> tuple[Table, ...] | None:
    """The tables a first revision in skillrunner's form creates (``op.create_table`` and
    ``op.create_index`` calls), or None when ``text`` is not one. Enum values and defaults are not
    in a revision, so the columns carry none."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    tables: dict[str, Table] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "op"):
            continue
        try:
            if node.func.attr == "create_table":
                table = _created_table(node)
                tables[table.name] = table
            elif node.func.attr == "create_index":
                name, table_name = (ast.literal_eval(a) for a in node.args[:2])
                assert isinstance(node.args[2], ast.List)
                cols = tuple(_index_column(a) for a in node.args[2].elts)
                held = tables[table_name]
                if any(k.arg == "unique" and ast.literal_eval(k.value) is True for k in node.keywords):
                    tables[table_name] = Table(held.name, held.columns, (*held.uniques, (name, cols)),
                                               held.indexes)
                else:
                    tables[table_name] = Table(held.name, held.columns, held.uniques,
                                               (*held.indexes, (name, cols)))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, AssertionError):
            return None
    return tuple(tables.values()) or None


def _index_column(node: ast.expr) -> str:
    """A column of ``op.create_index``'s list: a name, or the expression of ``sa.text("lower(x)")``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "text":
        return str(ast.literal_eval(node.args[0]))
    return str(ast.literal_eval(node))


def _created_table(node: ast.Call) -> Table:
    name = ast.literal_eval(node.args[0])
    columns: list[Column] = []
    uniques: list[tuple[str, tuple[str, ...]]] = []
    for arg in node.args[1:]:
        assert isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
        keywords = {k.arg: k.value for k in arg.keywords}
        if arg.func.attr == "Column":
            references = on_delete = None
            for extra in arg.args[2:]:
                if isinstance(extra, ast.Call) and isinstance(extra.func, ast.Attribute) \
                        and extra.func.attr == "ForeignKey":
                    references = str(ast.literal_eval(extra.args[0])).removesuffix(".id")
                    options = {k.arg: ast.literal_eval(k.value) for k in extra.keywords}
                    on_delete = options.get("ondelete")
            columns.append(Column(ast.literal_eval(arg.args[0]), ast.unparse(arg.args[1]),
                                  bool(ast.literal_eval(keywords["nullable"])), references, on_delete))
        elif arg.func.attr == "UniqueConstraint":
            cols = tuple(str(ast.literal_eval(a)) for a in arg.args)
            unique = ast.literal_eval(keywords["name"]) if "name" in keywords else _db_name("uq", name, cols)
            uniques.append((unique, cols))
    return Table(name, tuple(columns), tuple(uniques))


# --- the code of one direction ---------------------------------------------------------------------


def _column_args(table: str, c: Column, *, nullable: bool | None = None, fk: bool = True) -> list[str]:
    args = [_q(c.name), c.type]
    if fk and c.references:
        fk_args = [_q(f"{c.references}.id"), f"name={_q(c.fk_name(table))}"]
        if c.on_delete:
            fk_args.append(f"ondelete={_q(c.on_delete)}")
        args.append(f"sa.ForeignKey({', '.join(fk_args)})")
    args.append(f"nullable={c.nullable if nullable is None else nullable}")
    return args


def _create_table(t: Table) -> list[str]:
    body = [f"        {_call('sa.Column', _column_args(t.name, c), 8, suffix=',')}" for c in t.columns]
    lines = ["    op.create_table(", f"        {_q(t.name)},", *body]
    lines.append('        sa.PrimaryKeyConstraint("id"),')
    for name, cols in t.uniques:
        if not _is_index(cols):
            lines.append(f"        sa.UniqueConstraint({', '.join(_qs(cols))}, name={_q(name)}),")
    lines.append("    )")
    for name, cols in t.indexes:
        columns = "[" + ", ".join(_qs(cols)) + "]"
        lines.append("    " + _call("op.create_index", [_q(name), _q(t.name), columns], 4))
    lines += [_create_unique_index(t.name, name, cols) for name, cols in t.uniques if _is_index(cols)]
    return lines


def _create_unique_index(table: str, name: str, cols: Sequence[str]) -> str:
    return "    " + _call("op.create_index", [_q(name), _q(table), _index_columns(cols, 4), "unique=True"], 4)


def _replacement(new: Column) -> str:
    """What rows holding an enum value that no longer exists become."""
    if new.fill is not None:
        return new.fill
    if new.nullable:
        return "None"
    return _q(new.values[0])


def _filler(c: Column) -> str | None:
    """A value for a column that must not be null, when the contract gives none (downgrades only)."""
    if c.fill is not None:
        return c.fill
    if c.references or c.base in ("Uuid",):
        return None
    return _FILLER.get(c.base)


@dataclass
class _Steps:
    """The statements of one direction, phase by phase, and what they change."""

    create: list[str] = field(default_factory=list)
    alter: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


def _batch(table: str, ops: Sequence[str]) -> list[str]:
    if not ops:
        return []
    return [f"    with op.batch_alter_table({_q(table)}) as batch:", *(f"        {o}" for o in ops)]


def _alter(old: Table, new: Table, steps: _Steps, *, strict: bool) -> None:
    """``old`` -> ``new``, for a table both schemas hold. ``strict``: an upgrade, which refuses what
    it cannot do with rows in the table; a downgrade makes do (a filler value, or a nullable column)."""
    t = new.name
    first: list[str] = []  # dropped constraints and added columns
    fills: list[str] = []  # UPDATEs between the two batches (SQLite adds columns without copying the table)
    fill_cols: dict[str, str] = {}
    second: list[str] = []  # altered and dropped columns, new constraints
    old_uniques, new_uniques = dict(old.uniques), dict(new.uniques)
    old_indexes, new_indexes = dict(old.indexes), dict(new.indexes)
    # A column dropped and added again loses its indexes and constraints with it: they are made again.
    replaced = {c.name for c in new.columns
                if (before := old.column(c.name)) is not None and before.family != c.family}

    def kept(cols: tuple[str, ...], now: tuple[str, ...] | None) -> bool:
        return now == cols and not replaced & _bare(cols)

    # Unique indexes on lower(): outside the batches, before and after them. On SQLite a batch may copy
    # the table, and the copy would lose them (SQLite's expression indexes are not reflected).
    index_drops: list[str] = []
    index_creates: list[str] = []

    for name, cols in old.indexes:
        if not kept(cols, new_indexes.get(name)):
            first.append(f"batch.drop_index({_q(name)})")
            if name not in new_indexes:
                steps.changes.append(Change(f"drop index {name}", f"drop_{name}"))
    for name, cols in old.uniques:
        if not kept(cols, new_uniques.get(name)):
            if _is_index(cols):
                index_drops.append(f"    op.drop_index({_q(name)}, table_name={_q(t)})")
            else:
                first.append(f'batch.drop_constraint({_q(name)}, type_="unique")')
            if name not in new_uniques:
                steps.changes.append(Change(f"drop unique {t}({', '.join(cols)})", f"drop_{name}"))

    def fill(c: Column, value: str, where: str = "") -> None:
        fill_cols[c.name] = c.type
        fills.append(_update(where, f"{{{_q(c.name)}: {value}}}"))

    def add(c: Column, *, why: str) -> None:
        value = c.fill if strict else _filler(c)
        if not c.nullable and value is None and strict:
            raise MigrationRefused(
                f"{new.resource}.{c.name} must hold a value, has no default, and {t} may already have rows"
                f" ({why})", line=c.line or new.line,
                hint=f"give {c.name} a default (the Default column) so existing rows take it, or make it"
                     " optional (Required: no)")
        later = not c.nullable and value is not None
        column = _call("sa.Column", _column_args(t, c, nullable=True if later else None, fk=False), 8)
        first.append(f"batch.add_column({column})")
        if later:
            assert value is not None
            fill(c, value)
            second.append(f"batch.alter_column({_q(c.name)}, existing_type={c.type}, nullable=False)")
        if c.references:
            second.append(_fk_code(t, c))

    for c in new.columns:
        before = old.column(c.name)
        if before is None:
            add(c, why="a new field")
            steps.changes.append(Change(f"add column {t}.{c.name}", f"add_{t}_{c.name}"))
            continue
        if before.family != c.family:
            # No conversion between these types: the column goes, and comes back empty.
            if before.references:
                first.append(f'batch.drop_constraint({_q(before.fk_name(t))}, type_="foreignkey")')
            first.append(f"batch.drop_column({_q(c.name)})")
            add(c, why=f"its type changes from {before.type} to {c.type}, which existing values cannot take")
            steps.changes.append(Change(f"replace column {t}.{c.name} ({before.base} -> {c.base})",
                                        f"replace_{t}_{c.name}",
                                        loss=f"{t}.{c.name}: every value is dropped ({before.base} does not "
                                             f"convert to {c.base})"))
            continue
        kw: list[str] = []
        notes: list[str] = []
        loss = ""
        removed = [v for v in before.values if v not in c.values] if before.values and c.values else []
        if removed:
            with_ = _replacement(c)
            where = f"table.c[{_q(c.name)}].in_({_lines(_qs(removed), 0)})"
            fill(c, with_, where)
            shown = "null" if with_ == "None" else repr(c.fill_value(with_))
            loss = f"{t}.{c.name}: rows holding {', '.join(repr(v) for v in removed)} become {shown}"
            notes.append(f"drop value{'s' if len(removed) > 1 else ''} {', '.join(removed)}")
        if before.type != c.type:
            kw.append(f"type_={c.type}")
            length = re.fullmatch(r"sa\.String\(length=(\d+)\)", c.type)
            if _narrower(before, c) and length is not None:
                # Longer texts are cut to fit: PostgreSQL refuses to shorten a column they overflow.
                column, most = f"table.c[{_q(c.name)}]", length[1]
                fill(c, f"sa.func.substr({column}, 1, {most})", f"sa.func.length({column}) > {most}")
                loss = loss or f"{t}.{c.name}: texts longer than {length[1]} characters are cut to fit"
            elif _narrower(before, c):
                loss = loss or f"{t}.{c.name}: values that do not fit {c.type} are refused by the database"
            notes.append(f"{before.type.removeprefix('sa.')} -> {c.type.removeprefix('sa.')}")
        if before.nullable != c.nullable:
            if not c.nullable:
                value = c.fill if strict else _filler(c)
                if value is None and strict:
                    raise MigrationRefused(
                        f"{new.resource}.{c.name} becomes required with no default, and rows of {t} may hold"
                        " no value", line=c.line or new.line,
                        hint=f"give {c.name} a default (the Default column) so those rows take it")
                if value is not None:
                    fill(c, value, f"table.c[{_q(c.name)}].is_(None)")
                    kw.append("nullable=False")
            else:
                kw.append("nullable=True")
            notes.append("required" if not c.nullable else "optional")
        if kw:
            second.append(_call("batch.alter_column", [_q(c.name), f"existing_type={before.type}", *kw,
                                                       *([] if "nullable" in " ".join(kw) else
                                                         [f"existing_nullable={c.nullable}"])], 8))
        if (before.references, before.on_delete) != (c.references, c.on_delete):
            if before.references:
                first.append(f'batch.drop_constraint({_q(before.fk_name(t))}, type_="foreignkey")')
            if c.references:
                second.append(_fk_code(t, c))
            notes.append(f"on delete {c.on_delete or 'no action'}" if c.references else "no foreign key")
        if notes:
            steps.changes.append(Change(f"alter column {t}.{c.name} ({'; '.join(notes)})",
                                        f"alter_{t}_{c.name}", loss=loss))
    for c in old.columns:
        if new.column(c.name) is None:
            if c.references:
                first.append(f'batch.drop_constraint({_q(c.fk_name(t))}, type_="foreignkey")')
            second.append(f"batch.drop_column({_q(c.name)})")
            steps.changes.append(Change(f"drop column {t}.{c.name}", f"drop_{t}_{c.name}",
                                        loss=f"{t}.{c.name}: the column and every value in it are dropped"))
    for name, cols in new.uniques:
        if not kept(cols, old_uniques.get(name)):
            if _is_index(cols):
                index_creates.append(_create_unique_index(t, name, cols))
            else:
                second.append(f"batch.create_unique_constraint({_q(name)}, {_lines(_qs(cols), 8)})")
            steps.changes.append(Change(f"add unique {t}({', '.join(cols)})", f"add_{name}"))
    for name, cols in new.indexes:
        if not kept(cols, old_indexes.get(name)):
            second.append(_call("batch.create_index", [_q(name), _lines(_qs(cols), 8)], 8))
            if name not in old_indexes:
                steps.changes.append(Change(f"add index {name}", f"add_{name}"))
    if first or second:
        for name, cols in new.uniques:
            if _is_index(cols) and kept(cols, old_uniques.get(name)):
                index_drops.append(f"    op.drop_index({_q(name)}, table_name={_q(t)})")
                index_creates.append(_create_unique_index(t, name, cols))
    steps.alter += index_drops
    steps.alter += _batch(t, first)
    if fills:
        columns = [f"sa.column({_q(n)}, {ty})" for n, ty in fill_cols.items()]
        steps.alter.append("    " + _call("table = sa.table", [_q(t), *columns], 4))
        steps.alter += fills
    steps.alter += _batch(t, second)
    steps.alter += index_creates


def _update(where: str, values: str) -> str:
    """``op.execute(UPDATE table [WHERE ...] SET ...)``, one clause a line when it is long."""
    clauses = ["table.update()", *([f".where({where})"] if where else []), f".values({values})"]
    one = f"    op.execute({''.join(clauses)})"
    if len(one) <= LINE_LENGTH:
        return one
    return "    op.execute(\n" + "".join(f"        {c}\n" for c in clauses) + "    )"


def _fk_code(table: str, c: Column) -> str:
    args = [_q(c.fk_name(table)), _q(c.references), f"[{_q(c.name)}]", '["id"]']
    if c.on_delete:
        args.append(f"ondelete={_q(c.on_delete)}")
    return _call("batch.create_foreign_key", args, 8)


def _narrower(old: Column, new: Column) -> bool:
    """Whether some value of ``old`` may not fit ``new`` (a shorter string, fewer digits, ...)."""
    def numbers(c: Column) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", c.type))

    if old.base == new.base == "String":
        return numbers(new) < numbers(old)
    if old.base == "Text" and new.base == "String":
        return True
    if old.base == new.base == "Numeric":
        (p1, s1), (p2, s2) = numbers(old), numbers(new)
        return p2 - s2 < p1 - s1 or s2 < s1
    order = {"Integer": 0, "BigInteger": 1, "Numeric": 2, "Float": 3}
    return order.get(new.base, 0) < order.get(old.base, 0)


def _steps(old: Sequence[Table], new: Sequence[Table], *, strict: bool) -> _Steps:
    steps = _Steps()
    before = {t.name: t for t in old}
    after = {t.name: t for t in new}
    for t in new:
        prior = before.get(t.name)
        if prior is not None and prior.id.type != t.id.type:
            users = [o.name for o in new
                     if o.name != t.name and any(c.references == t.name for c in o.columns)]
            if users and strict:
                raise MigrationRefused(
                    f"{t.resource}'s id type changes ({prior.id.base} -> {t.id.base}) while "
                    f"{', '.join(users)} refer to it", line=t.line,
                    hint="keep the id type; to start the table over, remove the resource in one run and add"
                         " it back in the next")
    for t in new:
        prior = before.get(t.name)
        if prior is None or prior.id.type != t.id.type:
            if prior is not None:  # a new id type: the table starts over
                steps.create.append(f"    op.drop_table({_q(t.name)})")
                steps.changes.append(Change(f"recreate table {t.name} ({prior.id.base} ids -> {t.id.base})",
                                            f"recreate_{t.name}",
                                            loss=f"{t.name}: every row is dropped (the id type changes)"))
            else:
                steps.changes.append(Change(f"create table {t.name}", f"create_{t.name}"))
            steps.create += _create_table(t)
        elif prior != t:
            _alter(prior, t, steps, strict=strict)
    for t in reversed(old):
        if t.name not in after:
            steps.drop.append(f"    op.drop_table({_q(t.name)})")
            steps.changes.append(Change(f"drop table {t.name}", f"drop_{t.name}",
                                        loss=f"{t.name}: the table and every row in it are dropped"))
    return steps


# --- a revision ----------------------------------------------------------------------------------------


def _slug(changes: Sequence[Change]) -> str:
    if not changes:
        return "no_change"
    # Named for its weightiest change: tables, then columns, then constraints and indexes.
    rank = {"table": 0, "column": 1}
    main = min(changes, key=lambda c: rank.get(c.summary.split()[1], 2))
    words = main.slug
    if len(changes) > 1:
        words += f"_and_{len(changes) - 1}_more"
    words = re.sub(r"[^a-z0-9_]+", "_", words.lower()).strip("_")
    return words[:60].rstrip("_")


def plan_revision(old: Sequence[Table] | None, new: Sequence[Table], *, number: int, down: str | None,
                  initial_file: str = "0001_initial.py") -> Revision | None:
    """The revision from ``old`` (None: an empty database) to ``new``, or None when nothing changes.

    Computed from the two schemas alone, never from a live database, so the same pair always gives
    the same bytes. Raises ``MigrationRefused`` for a change rows already there could not follow.
    """
    old_tables = tuple(old or ())
    if old is not None and tuple(old) == tuple(new):
        return None
    up = _steps(old_tables, new, strict=True)
    down_steps = _steps(new, old_tables, strict=False)
    rev = f"{number:04d}"
    file = initial_file if old is None else f"{rev}_{_slug(up.changes)}.py"
    return Revision(rev, down, file, tuple(up.changes), tuple(up.create + up.alter + up.drop),
                    tuple(down_steps.create + down_steps.alter + down_steps.drop))


def revision_context(revision: Revision, feature: str) -> dict[str, Any]:
    """What ``migration.py.j2`` reads."""
    if revision.down is None:
        title = f"Create every table of {feature}."
    else:
        title = f"{feature}: {revision.changes[0].summary}" + (
            f", and {len(revision.changes) - 1} more" if len(revision.changes) > 1 else "") + "."
    body = []
    for c in revision.changes:
        text = c.summary + (f". Data loss: {c.loss}" if c.loss else "")
        body.append("\n  ".join(textwrap.wrap(text, _DOC_WIDTH - 2, break_on_hyphens=False)))
    if len(title) > _DOC_WIDTH:
        title = f"{feature}: {len(revision.changes)} changes to the schema."
    return {"revision": revision, "title": title, "changes": body if revision.down else []}

