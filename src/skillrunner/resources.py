"""Where the packaged skill pack, templates and example contract live (wheel or source checkout)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

__all__ = ["packaged_dir"]


@cache
def packaged_dir(name: str) -> Path:
    """The packaged folder ``name`` (``skills``, ``templates``, ``examples``, ``docs``).

    In a wheel it is ``skillrunner/_data/<name>``; in a source checkout (editable install)
    it is the repository's top-level folder, two levels above ``src/skillrunner``.
    """
    data = Path(str(files("skillrunner"))) / "_data" / name
    checkout = Path(__file__).resolve().parents[2]
    if data.is_dir() or not (checkout / "pyproject.toml").is_file():
        return data
    return checkout if name == "examples" else checkout / name
