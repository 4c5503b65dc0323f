"""The documents shipped with skillrunner (format, behaviour, conventions...), read from the package."""

from __future__ import annotations

from skillrunner.errors import UsageError
from skillrunner.resources import packaged_dir

__all__ = ["list_docs", "read_doc"]


def _title(text: str) -> str:
    first = next((line for line in text.splitlines() if line.startswith("# ")), "")
    return first.removeprefix("# ").strip()


def list_docs() -> list[tuple[str, str]]:
    """(name, title) of every shipped document, by name."""
    folder = packaged_dir("docs")
    return [(p.stem, _title(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.md"))]


def read_doc(name: str) -> str:
    """The text of the shipped document ``name`` (``behaviour``, ``contract-guide``...)."""
    names = [n for n, _ in list_docs()]
    stem = name.removesuffix(".md")
    if stem not in names:
        raise UsageError(f"no document named {name!r}", hint=f"one of: {', '.join(names)}")
    return (packaged_dir("docs") / f"{stem}.md").read_text(encoding="utf-8")
