"""Migration history under .skillrunner/: the schema of the last render and the revisions that led to it."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillrunner.errors import RenderError
from skillrunner.render.migrations import SCHEMA_VERSION, Table, schema_from_json, schema_to_json

__all__ = ["History", "RecordedRevision", "feature_state_dir", "foreign_revisions", "load_history",
           "save_history"]

_STATE = ".skillrunner/features"
_REVISION = re.compile(r"^revision(?:\s*:[^=\n]*)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=\n]*)?\s*=\s*(None|['\"]([^'\"]+)['\"])", re.MULTILINE)


@dataclass(frozen=True)
class RecordedRevision:
    """A revision skillrunner rendered: it is never rendered again, only written back as it was."""

    id: str
    down: str | None
    file: str
    text: str
    changes: tuple[str, ...] = ()  # what it changes, as plan.md and run name it
    losses: tuple[str, ...] = ()  # the data it loses


@dataclass(frozen=True)
class History:
    """The schema of the last render and every revision that led to it, oldest first."""

    tables: tuple[Table, ...]
    revisions: tuple[RecordedRevision, ...]
    skill: str = ""


def feature_state_dir(project: Path, feature: str) -> Path:
    """Where a feature's migration history lives."""
    return project / _STATE / feature


def _broken(path: Path, project: Path, why: str) -> RenderError:
    rel = path.relative_to(project).as_posix()
    return RenderError(f"the migration history is broken: {why}", path=rel,
                       hint="restore .skillrunner/ from version control; it records which revisions your "
                            "databases have, so it belongs in the repository")


def load_history(project: Path, feature: str) -> History | None:
    """The feature's recorded history, or None when it was never rendered with one."""
    folder = feature_state_dir(project, feature)
    path = folder / "schema.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _broken(path, project, f"cannot be read ({exc})") from exc
    if not isinstance(data, dict) or data.get("version") != SCHEMA_VERSION:
        raise _broken(path, project, f'expected {{"version": {SCHEMA_VERSION}, ...}}')
    try:
        tables = schema_from_json(data.get("tables"))
        revisions = []
        for item in data.get("revisions", []):
            file = str(item["file"])
            if "/" in file or "\\" in file or not file.endswith(".py"):
                raise ValueError(f"revision file {file!r} is not a plain file name")
            text = (folder / "revisions" / file).read_text(encoding="utf-8")
            revisions.append(RecordedRevision(str(item["id"]), item.get("down"), file, text,
                                              tuple(map(str, item.get("changes", ()))),
                                              tuple(map(str, item.get("losses", ())))))
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise _broken(path, project, str(exc)) from exc
    return History(tables, tuple(revisions), str(data.get("skill", "")))


def _atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_history(project: Path, feature: str, history: History, contract_text: str) -> None:
    """Record ``history``: revision files first, the contract, then ``schema.json`` (the commit point)."""
    folder = feature_state_dir(project, feature)
    for rev in history.revisions:
        target = folder / "revisions" / rev.file
        if not target.is_file() or target.read_text(encoding="utf-8") != rev.text:
            _atomic(target, rev.text)
    _atomic(folder / "contract.md", contract_text)
    data: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "skill": history.skill,
        "revisions": [{"id": r.id, "down": r.down, "file": r.file, "changes": list(r.changes),
                       "losses": list(r.losses)} for r in history.revisions],
        "tables": schema_to_json(history.tables),
    }
    _atomic(folder / "schema.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def foreign_revisions(folder: Path, ours: set[str]) -> dict[str, tuple[str | None, str]]:
    """Revisions in ``folder`` that skillrunner did not render (hand-written data migrations, say):
    revision id -> (down revision, file name)."""
    out: dict[str, tuple[str | None, str]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.py")):
        if path.name in ours:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        rev, down = _REVISION.search(text), _DOWN.search(text)
        if rev is None:
            continue
        out[rev.group(1)] = (down.group(2) if down and down.group(2) else None, path.name)
    return out
