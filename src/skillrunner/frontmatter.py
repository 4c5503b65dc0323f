"""YAML frontmatter between ``---`` lines: split robustly, parse safely, keep every key's line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from skillrunner.findings import Finding

__all__ = ["Document", "parse_document"]


@dataclass(frozen=True)
class Document:
    """A markdown file with optional frontmatter.

    ``data`` is None when there is no usable frontmatter (``findings`` then says why).
    ``key_lines`` maps each top-level key to its ``(line, col)`` in the file (1-based).
    """

    path: str
    text: str
    data: dict[str, Any] | None
    key_lines: dict[str, tuple[int, int]]
    body: str
    body_line: int
    has_frontmatter: bool
    findings: tuple[Finding, ...] = field(default=())

    def where(self, key: str) -> tuple[int, int]:
        """The ``(line, col)`` of ``key``, or of the frontmatter's start when it is absent."""
        return self.key_lines.get(key, (1, 1))


def _decode(raw: str | bytes, path: str) -> tuple[str, list[Finding]]:
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff"), []
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        text = raw.decode("utf-8-sig", errors="replace")
        return text, [Finding(path, line, col, "error", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                              "save the file as UTF-8", "encoding")]


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Aliases can make a few lines expand to billions of nodes; no frontmatter needs this many.
_MAX_NODES = 10_000


def _expanded_size(node: yaml.Node, memo: dict[int, int], open_: set[int]) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (a cycle counts as too many)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in open_:
        return _MAX_NODES + 1
    open_.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    for child in children:
        size += _expanded_size(child, memo, open_)
        if size > _MAX_NODES:
            break
    open_.discard(key)
    memo[key] = size
    return size


def _construct(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def parse_document(raw: str | bytes, path: str) -> Document:
    """Split and parse ``raw``; never raises on content, every problem becomes a finding."""
    text, findings = _decode(raw, path)
    # Newlines are normalised so CRLF files give the same lines and columns as LF ones.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return Document(path, text, None, {}, text, 1, False, tuple(findings))
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if close is None:
        findings.append(Finding(path, 1, 1, "error", "frontmatter is opened with --- but never closed",
                                "end the frontmatter with a line holding only ---", "frontmatter"))
        return Document(path, text, None, {}, "", len(lines), True, tuple(findings))
    yaml_text = "\n".join(lines[1:close])
    body = "\n".join(lines[close + 1:])
    body_line = close + 2
    try:
        node = yaml.compose(yaml_text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = (mark.line + 2) if mark is not None else 2
        col = (mark.column + 1) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        findings.append(Finding(path, line, col, "error", f"frontmatter is not valid YAML: {problem}",
                                "quote values that contain ': ' or start with a special character",
                                "yaml"))
        return Document(path, text, None, {}, body, body_line, True, tuple(findings))
    except UnicodeEncodeError as exc:
        # The C loader reads UTF-8 bytes; a lone surrogate in a str cannot become one.
        before = yaml_text[: exc.start]
        findings.append(Finding(path, before.count("\n") + 2, exc.start - (before.rfind("\n") + 1) + 1,
                                "error", "frontmatter holds a lone surrogate, which is not text",
                                "save the file as UTF-8 text", "encoding"))
        return Document(path, text, None, {}, body, body_line, True, tuple(findings))
    except RecursionError:
        findings.append(Finding(path, 2, 1, "error", "frontmatter nests too deeply",
                                "flatten the YAML", "yaml"))
        return Document(path, text, None, {}, body, body_line, True, tuple(findings))
    if node is None:
        return Document(path, text, {}, {}, body, body_line, True, tuple(findings))
    if not isinstance(node, yaml.MappingNode):
        findings.append(Finding(path, node.start_mark.line + 2, node.start_mark.column + 1, "error",
                                "frontmatter must be a mapping of keys to values",
                                "write `key: value` lines", "yaml"))
        return Document(path, text, None, {}, body, body_line, True, tuple(findings))
    data: dict[str, Any] = {}
    key_lines: dict[str, tuple[int, int]] = {}
    for key_node, value_node in node.value:
        pos = (key_node.start_mark.line + 2, key_node.start_mark.column + 1)
        if not isinstance(key_node, yaml.ScalarNode):
            findings.append(Finding(path, *pos, "error", "frontmatter keys must be plain text",
                                    "write `key: value` with a word as the key", "yaml"))
            continue
        if _expanded_size(value_node, {}, set()) > _MAX_NODES:
            findings.append(Finding(path, *pos, "error",
                                    f"frontmatter value expands to more than {_MAX_NODES:,} nodes",
                                    "write the value out instead of repeating YAML aliases", "yaml"))
            continue
        try:
            key = _construct(key_node)
            value = _construct(value_node)
        except (yaml.YAMLError, RecursionError, TypeError, ValueError) as exc:
            findings.append(Finding(path, *pos, "error", f"frontmatter value does not load: {exc}",
                                    "use plain strings, lists and mappings", "yaml"))
            continue
        key = str(key) if not isinstance(key, str) else key
        if key in data:
            findings.append(Finding(path, *pos, "error", f"key {key!r} is given twice",
                                    "keep one of them", "duplicate-key"))
            continue
        data[key] = value
        key_lines[key] = pos
    return Document(path, text, data, key_lines, body, body_line, True, tuple(findings))
