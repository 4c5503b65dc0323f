"""The contract parser: markdown tokens to the model, every cell's position kept for messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal, cast

from markdown_it.token import Token

from skillrunner.contract.model import (
    _OPERATION_ALIASES,
    _SLUG,
    _TEXTUAL,
    _TYPE_ALIASES,
    AUTH_KINDS,
    ENDPOINT_COLUMNS,
    FIELD_COLUMNS,
    FIELD_KINDS,
    FRONTMATTER_KEYS,
    OPERATION_KINDS,
    SETTINGS,
    AuthKind,
    Constraint,
    Contract,
    Endpoint,
    Field,
    FieldKind,
    FieldType,
    Operation,
    OperationKind,
    Parent,
    Resource,
    Schema,
    Value,
    _snake,
)
from skillrunner.contract.values import (
    _YES_NO,
    _Bad,
    _did_you_mean,
    _piece,
    _read_literal,
    _read_value,
    _split_top,
    _unquote,
    _unwrap,
)
from skillrunner.findings import Finding
from skillrunner.frontmatter import Document, parse_document
from skillrunner.markdown import parse_blocks

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


_COMMENT = re.compile(r"<!--(?:(?!-->).)*-->", re.S)


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
        sections: list[tuple[str, str, int, int, list[_Block]]] = []  # (kind, name, line, col, blocks)
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
                match = re.fullmatch(r"(Resource|Schema):\s*(.*)", title)
                if match:
                    name = _unwrap(match.group(2))
                    current = []
                    sections.append((match.group(1).lower(), name, block.start,
                                     self.col_of(block.start, name) if name else 1, current))
                    continue
                current = None
                for word in ("resource", "schema"):
                    if title.lower().startswith(word):
                        self.error(block.start, 1, f"heading {title!r} is not a {word} heading",
                                   f"write `## {word.capitalize()}: Name`, e.g. "
                                   f"`## {word.capitalize()}: {'Task' if word == 'resource' else 'Snooze'}`",
                                   "structure")
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
        resources = tuple(self.resource(name, line, col, blks)
                          for kind, name, line, col, blks in sections if kind == "resource")
        schemas = tuple(self.schema(name, line, col, blks)
                        for kind, name, line, col, blks in sections if kind == "schema")
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
                        auth=cast(AuthKind, auth), description=preamble_text, resources=resources,
                        schemas=schemas)

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
        # A paragraph that is one <!-- comment --> is a note to whoever edits the contract, not API text.
        kept = [b for b in blocks if not (b.kind in ("paragraph", "html_block") and _COMMENT.fullmatch(
            "\n".join(self.lines[b.start - 1:b.end]).strip()))]
        parts = ["\n".join(self.lines[b.start - 1:b.end]).strip("\n") for b in kept if b.end >= b.start]
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

    def schema(self, name: str, line: int, col: int, blocks: list[_Block]) -> Schema:
        """A ``## Schema: Name`` section: prose and one field table, nothing else."""
        self.where[("schema", line)] = (line, col)
        fields_table: _Block | None = None
        prose: list[_Block] = []
        for block in blocks:
            if block.kind == "heading" and block.tag == "h3":
                heading = block.text.strip().lower()
                if heading == "endpoints":
                    self.error(block.start, 1, f"schema {name} has ### Endpoints",
                               "a schema is only a body: put endpoints under a `## Resource: Name`", "schema")
                elif heading != "fields":
                    prose.append(block)
                continue
            if block.kind == "table":
                if fields_table is None:
                    fields_table = block
                else:
                    self.error(block.start, 1, f"schema {name} has a second table",
                               "a schema has one field table and no endpoints", "schema")
                continue
            if block.kind == "bullet_list" and fields_table is None and not prose:
                self.error(block.start, 1, f"schema {name} has settings",
                           "a schema is not stored: it has no table, id, owner or other settings; "
                           "remove the list", "schema")
                continue
            prose.append(block)
        fields: tuple[Field, ...] = ()
        if fields_table is None:
            self.error(line, 1, f"schema {name} has no field table",
                       "add a table with columns " + " | ".join(FIELD_COLUMNS), "structure")
        else:
            fields = self.fields(f"schema:{name}", fields_table)
        return Schema(name=name, fields=fields, description=self.prose(prose), line=line)

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
        if kind == "action":
            return self.action_args(cell, args_text, base)
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

    def action_args(self, cell: _Cell, args: str, base: int) -> Operation | None:
        """``action(name)`` or ``action(name; body: Schema)``."""
        pieces = [_piece(o, r) for o, r in _split_top(args, ";")]
        offset, name = pieces[0]
        if not name:
            self.error(cell.line, cell.col, "action has no name",
                       "write action(archive) or action(snooze; body: Snooze)", "operation")
            return None
        body: str | None = None
        for offset, clause in pieces[1:]:
            key, colon, value = clause.partition(":")
            if key.strip().lower() != "body" or not colon or not value.strip() or body is not None:
                self.error(cell.line, base + offset, f"action clause {clause!r} does not read",
                           "write action(name; body: Schema), with one body", "operation")
                return None
            body = _unwrap(value)
        return Operation("action", name=name, body=body)

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
