"""Python source the templates need: literals, calls and displays within the line length, and tidy imports."""

from __future__ import annotations

import ast
import hashlib
import itertools
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from skillrunner.templating import py_literal

#: The generated code's line length (its pyproject.toml tells ruff the same).
LINE_LENGTH = 110
_MAX_NAME = 63  # PostgreSQL truncates longer identifiers, which alembic check would see as drift


# --- names --------------------------------------------------------------------------------------------


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
    for word in re.split(r"(?<=[ /])", text):
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
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_q(k)}: {_code(v)}" for k, v in value.items()) + "}"
    return _q(value)


def _qs(values: Iterable[Any]) -> list[str]:
    return [_q(v) for v in values]


def _display(value: Any, indent: int, used: int = 0, *, short: bool = False) -> str:
    """A Python literal of JSON-like ``value``, one item per line where a line would be too long.

    ``used``: characters before the value on its first line, after the indent (a key, an
    assignment); one more is kept for a trailing comma. ``short``: values as ``_code`` writes them.
    """
    one = _code(value) if short else _q(value)
    if indent + used + len(one) < LINE_LENGTH or not isinstance(value, list | tuple | dict) or not value:
        return one
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{_q(k)}: {_display(v, indent + 4, len(_q(k)) + 2, short=short)}" for k, v in value.items()]
        return "{\n" + "".join(f"{pad}{i},\n" for i in items) + " " * indent + "}"
    items = [_display(v, indent + 4, short=short) for v in value]
    if all("\n" not in i for i in items):  # short items share lines, as a formatter would leave them
        rows: list[str] = []
        for item in items:
            if rows and len(pad) + len(rows[-1]) + len(item) + 2 <= LINE_LENGTH:
                rows[-1] += f" {item},"
            else:
                rows.append(f"{item},")
        return "[\n" + "".join(f"{pad}{r}\n" for r in rows) + " " * indent + "]"
    return "[\n" + "".join(f"{pad}{i},\n" for i in items) + " " * indent + "]"


# --- import blocks: sorted and pruned as ruff's isort wants them -------------------------------------

_IMPORT = re.compile(r"^(?:import (?P<plain>[\w.]+(?: as \w+)?)"
                     r"|from (?P<module>[\w.]+) import (?P<names>[\w, ]+))$")
_AS = re.compile(r"^(?P<name>\w+)(?: as (?P<alias>\w+))?$")


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|\D+", text.lower()))


def _member_key(name: str) -> tuple[int, tuple[tuple[int, int, str], ...], str]:
    if len(name) > 1 and name.isupper():
        rank = 0
    elif name[:1].isupper():
        rank = 1
    else:
        rank = 2
    return rank, _natural(name), name  # names equal but for case: upper case first, as ruff has it


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
        statements.append(((_natural(module), 0, ()), _from_import(module, names, "")))
    for module, name, alias in aliased:
        statement = _from_import(module, [f"{name} as {alias}"], "")
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
    return _normalise(_fit_lines(out))


def _from_import(module: str, names: Sequence[str], indent: str) -> str:
    """``from module import names`` on one line when it fits, else in parentheses one name a line."""
    one = f"{indent}from {module} import {', '.join(names)}"
    if len(one) <= LINE_LENGTH:
        return one
    return f"{indent}from {module} import (\n" + "".join(f"{indent}    {n},\n" for n in names) + f"{indent})"


_ONE_LINE_DOCSTRING = re.compile(r'^(?P<indent> *)"""(?P<text>(?:[^"\\]|"(?!""))+)"""$')
_FROM_IMPORT = re.compile(r"^(?P<indent> *)from (?P<module>[\w.]+) import (?P<names>[\w ,]+)$")
_OPENING_DOCSTRING = re.compile(r'^(?P<indent> *)"""(?P<text>(?:[^"\\]|"(?!""))+)$')
_COMMENT = re.compile(r"^(?P<indent> *)(?P<mark>#:? )(?P<text>[^-].*)$")
_DICT_ENTRY = re.compile(r'^(?P<key> *"(?:[^"\\]|\\.)*": )(?P<value>[\w.]+)(?P<comma>,?)$')
_PLAIN_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _inside_strings(text: str) -> set[int]:
    """The numbers of the lines that start inside a multi-line string literal: never to be touched."""
    inside: set[int] = set()
    for match in _STRING_OR_COMMENT.finditer(text):
        first = text.count("\n", 0, match.start())
        inside.update(range(first + 1, first + 1 + match[0].count("\n")))
    return inside


def _fit_lines(text: str) -> str:
    """Lines past the line length because they hold contract names, broken as a person would: a
    docstring or comment filled over several lines, an import put in parentheses, a call or display
    one item a line, a long string in implicitly joined pieces."""
    lines = text.split("\n")
    inside = _inside_strings(text)
    out: list[str] = []
    for number, line in enumerate(lines):
        if len(line) <= LINE_LENGTH or number in inside:
            out.append(line)
        elif doc := _ONE_LINE_DOCSTRING.match(line):
            out.append(_fill(doc["indent"], '"""', doc["text"], '"""'))
        elif doc := _OPENING_DOCSTRING.match(line):
            out.append(_fill(doc["indent"], '"""', doc["text"], ""))
        elif comment := _COMMENT.match(line):
            out.append(_fill(comment["indent"], comment["mark"], comment["text"], "", every=True))
        elif found := _FROM_IMPORT.match(line):
            names = [n.strip() for n in found["names"].split(",")]
            out.append(_from_import(found["module"], names, found["indent"]))
        else:
            out.append(_break_code(line))
    return "\n".join(out)


def _fill(indent: str, opening: str, text: str, closing: str, *, every: bool = False) -> str:
    """``text``'s words filled into lines within the line length after ``indent``: ``opening`` on the
    first line (on ``every`` line for a comment), ``closing`` after the last."""
    rows: list[str] = []
    current = ""
    room = LINE_LENGTH - len(indent) - len(opening) - len(closing)
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > room:
            rows.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    rows.append(current)
    marks = [opening if every or i == 0 else "" for i in range(len(rows))]
    return "\n".join(f"{indent}{mark}{row}" for mark, row in zip(marks, rows, strict=True)) + closing


def _break_code(line: str, *, item: bool = False) -> str:
    """A code line broken inside its last bracket pair that holds something (one item a line, each
    broken again while too long), or its trailing plain string in pieces; as it is when neither fits.

    ``item``: the line is one item inside brackets, so a string alone on it needs no parentheses.
    """
    if len(line) <= LINE_LENGTH:
        return line
    indent = len(line) - len(line.lstrip(" "))
    if entry := _DICT_ENTRY.match(line):
        pad = " " * (indent + 4)
        return f"{entry['key']}(\n{_break_code(pad + entry['value'])}\n{' ' * indent}){entry['comma']}"
    pair = _last_pair(line)
    if pair is None:
        string = _trailing_string(line)
        if string is None:
            return line
        start, end = string
        value = ast.literal_eval(line[start:end])
        pieces = _wrap_literal(value, indent, used=start - indent + len(line) - end)
        if item and start == indent and pieces.startswith("(\n"):
            return "\n".join(row[4:] for row in pieces.split("\n")[1:-1]) + line[end:]
        return line[:start] + pieces + line[end:]
    opened, closed = pair
    items = _split_items(line[opened + 1:closed])
    pad = " " * (indent + 4)
    comma = "," if len(items) > 1 else ""
    body = "".join(_break_code(f"{pad}{item}{comma}", item=True) + "\n" for item in items)
    return f"{line[:opened + 1]}\n{body}{' ' * indent}{line[closed:]}"


def _trailing_string(line: str) -> tuple[int, int] | None:
    """Where the plain string literal a line ends with (before ``,`` or ``)``) starts and ends."""
    found = None
    for match in _PLAIN_STRING.finditer(line):
        found = match
    if found is None or line[found.end():].strip(" ,)") or line[found.start() - 1:found.start()].isalpha():
        return None
    return found.start(), found.end()


def _last_pair(line: str) -> tuple[int, int] | None:
    """The last bracket pair at the outer level of ``line`` (outside strings) holding enough to bring
    the line within the length once moved out, else the last holding anything."""
    depth, quote, escaped, opened = 0, "", False, -1
    pairs: list[tuple[int, int]] = []
    for i, ch in enumerate(line):
        if quote:
            escaped, quote = (False, quote) if escaped else (ch == "\\", "" if ch == quote else quote)
            continue
        if ch == "#":
            break
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            if depth == 0:
                opened = i
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0 and line[opened + 1:i].strip():
                pairs.append((opened, i))
    enough = [(a, b) for a, b in pairs if b - a - 1 >= len(line) - LINE_LENGTH]
    chosen = enough or pairs
    return chosen[-1] if chosen else None


def _split_items(inner: str) -> list[str]:
    """The comma-separated items of a bracket's contents (commas inside brackets or strings kept)."""
    items: list[str] = []
    depth, quote, escaped, start = 0, "", False, 0
    for i, ch in enumerate(inner):
        if quote:
            escaped, quote = (False, quote) if escaped else (ch == "\\", "" if ch == quote else quote)
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(inner[start:i].strip())
            start = i + 1
    items.append(inner[start:].strip())
    return [item for item in items if item]


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
