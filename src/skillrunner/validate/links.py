"""Links in a skill's markdown, and the files its SKILL.md names: do they exist, and where."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["LinkProblem", "check_links", "links", "missing_files", "skill_placeholder"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A link destination after `](`, and a reference definition `[label]: destination rest`.
_INLINE_LINK = re.compile(r"\]\(\s*(<[^>\n]*>|[^\s()<>]+)")
_REF_DEF = re.compile(r"^ {0,3}\[([^\]\n]+)\]:[ \t]*(<[^>\n]*>|\S+)(.*)$")
_TITLE = re.compile(r"""\s*(?:"[^"]*"|'[^']*'|\([^)]*\))?\s*""")
_BRACKETS = re.compile(r"\[([^\[\]\n]+)\]")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$", re.MULTILINE)
# Indented or quoted lines with a link or a fence: code blocks the fast path does not follow.
_NESTED = re.compile(r"^(?:    |\t|[ \t]*>)[^\n]*?(?:\]\(|\]:|```|~~~)", re.MULTILINE)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# What agents put in for the skill's folder: Claude Code's {baseDir} and ${CLAUDE_SKILL_DIR}, and
# the like; ${CLAUDE_PLUGIN_ROOT} is the plugin's folder.
_SKILL_DIR = re.compile(r"^(?:\{(?:baseDir|base_dir|skillDir|skill_dir|SKILL_DIR)\}|"
                        r"\$\{?(?:CLAUDE_SKILL_DIR|SKILL_DIR|SKILL_ROOT)\}?)(?:/|$)")
_PLUGIN_DIR = re.compile(r"^\$\{?CLAUDE_PLUGIN_ROOT\}?(?:/|$)")
_TEMPLATED = re.compile(r"[{}$]|%\w+%")
# A path in scripts/, references/ or assets/ with an extension (what comes before it is checked
# apart: a regex starting with the literal words scans much faster).
_MENTION = re.compile(r"(?:scripts|references|assets)/[\w./-]*\.[A-Za-z0-9]{1,8}(?![\w/-])")
_PLACEHOLDER_PREFIX = re.compile(r"(?:\{(?:baseDir|base_dir|skillDir|skill_dir|SKILL_DIR)\}|"
                                 r"\$\{?(?:CLAUDE_SKILL_DIR|SKILL_DIR|SKILL_ROOT)\}?)/")
# Lines that draw a layout or give an example name files that need not exist.
_NOT_A_REFERENCE = re.compile(r"[\u251c\u2514\u2502]|\be\.g\.|\bfor example\b|\bsuch as\b", re.IGNORECASE)
_MARKDOWN_INFO = frozenset({"markdown", "md"})


def skill_placeholder(dest: str) -> str | None:
    """``dest`` with a leading skill-folder placeholder removed, or None when it has none."""
    m = _SKILL_DIR.match(dest)
    return dest[m.end():] if m else None


def _code_lines(text: str) -> set[int] | None:
    """Indexes of the lines inside fenced code, or None when only the markdown parser can tell.

    The fast path covers fences at the top level and in simple list items; indented code,
    block quotes and deeper nesting go to the parser.
    """
    if _NESTED.search(text):
        return None
    code: set[int] = set()
    fence, opened_at, line, pos = "", 0, 0, 0
    for m in _FENCE.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        if fence:
            if m[1][0] == fence[0] and len(m[1]) >= len(fence) and not m[2].strip():
                code.update(range(opened_at, line + 1))
                fence = ""
        elif not (m[1][0] == "`" and "`" in m[2]):
            fence, opened_at = m[1], line
    if fence:
        code.update(range(opened_at, text.count("\n") + 1))
    return code


def _all_code_lines(text: str) -> set[int]:
    code = _code_lines(text)
    if code is None:
        from skillrunner.markdown import parse_blocks

        code = set()
        for token in parse_blocks(text):
            if token.type in ("fence", "code_block") and token.map:
                code.update(range(token.map[0], token.map[1]))
    return code


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def links(text: str) -> Iterator[tuple[int, int, str]]:
    """``(line, col)`` and destination of every inline link or image, and of every reference
    definition that something uses; not in code, not footnotes (``[^1]: ...``), not bracketed text
    that only looks like a definition."""
    if "](" not in text and "]:" not in text:
        return
    lines = text.split("\n")
    code = _all_code_lines(text)
    bracketed: list[tuple[int, str]] = []  # lines outside code that hold a [, code spans blanked
    definitions: list[tuple[int, int, str, str]] = []
    for index, line in enumerate(lines):
        if "[" not in line or index in code:
            continue
        if "`" in line:
            line = _CODE_SPAN.sub(lambda m: " " * len(m.group()), line)
        definition = _REF_DEF.match(line) if "]:" in line else None
        if definition and not definition[1].startswith("^") and _TITLE.fullmatch(definition[3]):
            definitions.append((index + 1, definition.start(2) + 1, _label(definition[1]), definition[2]))
            bracketed.append((index, line[definition.end(1) + 2:]))
            continue
        bracketed.append((index, line))
        if "](" in line:
            for m in _INLINE_LINK.finditer(line):
                yield index + 1, m.start(1) + 1, m.group(1)
    if definitions:
        used = {_label(m[1]) for _, line in bracketed for m in _BRACKETS.finditer(line)}
        for line_no, col, label, dest in definitions:
            if label in used:
                yield line_no, col, dest


@dataclass(frozen=True)
class LinkProblem:
    """One link that does not resolve as it should: ``code`` is the rule id."""

    line: int
    col: int
    error: bool
    message: str
    hint: str
    code: str


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_links(text: str, file: str, skill: str, plugin: str | None) -> Iterator[LinkProblem]:
    """Every relative link in ``text`` (the file ``file`` of the skill folder ``skill``, absolute paths)
    that resolves neither from the file's folder nor from the skill's root, resolves only from the root
    (a warning), or leaves the skill."""
    base = os.path.dirname(file)
    exists: dict[str, bool] = {}
    for line, col, raw in links(text):
        dest = raw[1:-1] if raw.startswith("<") else raw
        from_root = skill_placeholder(dest)
        if from_root is None and plugin is not None and _PLUGIN_DIR.match(dest):
            continue  # a file of the plugin, outside the skill on purpose
        if from_root is not None:
            dest = from_root
        if not dest or dest.startswith(("#", "/", "\\")) or _SCHEME.match(dest) or _TEMPLATED.search(dest):
            continue
        target = dest.split("#", 1)[0].split("?", 1)[0]
        if "%" in target:
            from urllib.parse import unquote

            target = unquote(target)
        if not target:
            continue
        here = os.path.normpath(os.path.join(skill if from_root is not None else base, target))
        if here not in exists:
            exists[here] = os.path.exists(here)
        if not exists[here]:
            rooted = os.path.normpath(os.path.join(skill, target))
            if from_root is None and base != skill and os.path.exists(rooted) and _inside(rooted, skill):
                fixed = os.path.relpath(rooted, base).replace(os.sep, "/")
                yield LinkProblem(line, col, False, f"link to {raw} resolves only from the skill's root",
                                  f"agents resolve links from the file's folder: write {fixed}",
                                  "link-root-relative")
                continue
            yield LinkProblem(line, col, True, f"link to {raw}: no such file",
                              "create the file, or fix the link (relative to this file's folder, or to the "
                              "skill's root)", "broken-link")
        elif not _inside(here, skill):
            yield LinkProblem(line, col, False, f"link to {raw} leaves the skill's folder",
                              "agents install a skill folder alone; copy the file into the skill",
                              "link-outside")


def _markdown_fence_lines(text: str) -> set[int]:
    """The 0-based lines inside fenced code blocks whose info string is ``markdown`` or ``md``: examples
    of other skills' text, whose paths are theirs."""
    inside: set[int] = set()
    fence = ""
    markdown = False
    for index, line in enumerate(text.split("\n")):
        m = _FENCE.match(line)
        if not fence:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                fence = m.group(1)
                words = m.group(2).split()
                markdown = bool(words) and words[0].lower() in _MARKDOWN_INFO
            continue
        if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
            fence = ""
        elif markdown:
            inside.add(index)
    return inside


def missing_files(body: str, skill: str, plugin: str | None = None) -> Iterator[tuple[int, int, str]]:
    """``(line, col, path)`` of each ``scripts/``, ``references/`` or ``assets/`` file the body names
    (in prose or code, not as a link) that neither the skill's folder nor its plugin's holds; lines
    that draw a layout or give an example ("e.g.", "for example", "such as"), and markdown code
    blocks, are passed over."""
    if "scripts/" not in body and "references/" not in body and "assets/" not in body:
        return
    examples = _markdown_fence_lines(body) if "```" in body or "~~~" in body else set()
    checked: dict[str, bool] = {}
    lines: dict[int, str] = {}
    # Mentions are rare: find them in the whole body, then look at the lines that hold one.
    masked = _PLACEHOLDER_PREFIX.sub(lambda m: " " * len(m.group()), body)
    index, pos = 0, 0
    for found in _MENTION.finditer(masked):
        at = found.start()
        if at >= 2 and masked[at - 2:at] == "./":
            at -= 2  # ./scripts/x.py is the skill's too
        if at and (masked[at - 1] in "_./\\-" or masked[at - 1].isalnum()):
            continue  # part of a longer path or word: src/scripts/x.py, ../references/x.md
        start = masked.rfind("\n", 0, found.start()) + 1
        index += masked.count("\n", pos, start)
        pos = start
        if index not in lines:
            end = masked.find("\n", found.end())
            line = masked[start:end if end >= 0 else len(masked)]
            skip = index in examples or _NOT_A_REFERENCE.search(line) or _REF_DEF.match(line)
            lines[index] = "" if skip else _INLINE_LINK.sub(lambda m: " " * len(m.group()), line)
        col = found.start() - start
        path = found.group()
        if lines[index][col:col + len(path)] != path:
            continue  # on a passed-over line, or inside a link (checked as one)
        if path not in checked:
            checked[path] = any(os.path.exists(os.path.join(root, path)) for root in (skill, plugin) if root)
        if not checked[path]:
            yield index + 1, col + 1, path
