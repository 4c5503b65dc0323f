"""The one markdown-it factory: CommonMark plus tables, the dialect of skills and contracts."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt, rules_core
from markdown_it.token import Token

__all__ = ["markdown", "parse_blocks", "parse_markdown"]


@cache
def markdown() -> MarkdownIt:
    """A shared parser: CommonMark with GFM tables, no HTML passthrough, no linkify."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def parse_markdown(text: str) -> list[Token]:
    """The block token stream of ``text``; ``token.map`` gives 0-based ``[start, end)`` lines."""
    return markdown().parse(text)


def parse_blocks(text: str) -> list[Token]:
    """``parse_markdown(text)`` without the inline pass: the same tokens, ``content`` included.

    For readers of block structure (tables, headings) that never look at inline children;
    skipping the inline pass halves the time on large files and avoids its slow paths on
    hostile lines (100,000 ``[`` in a row).
    """
    state = rules_core.StateCore(text, markdown(), {})
    rules_core.normalize(state)
    rules_core.block(state)
    return state.tokens
