"""The one markdown-it factory: CommonMark plus tables, the dialect of skills and contracts."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["markdown", "parse_markdown"]


@cache
def markdown() -> MarkdownIt:
    """A shared parser: CommonMark with GFM tables, no HTML passthrough, no linkify."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def parse_markdown(text: str) -> list[Token]:
    """The block token stream of ``text``; ``token.map`` gives 0-based ``[start, end)`` lines."""
    return markdown().parse(text)
