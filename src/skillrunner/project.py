"""The project a command works on: found from any of its subfolders, and locked while one run writes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from skillrunner.errors import SkillrunnerError

__all__ = ["LOCK", "LockedError", "find_project", "project_lock"]

#: The lock file, relative to the project.
LOCK = ".skillrunner/lock"
#: What marks a project's root folder.
_MARKERS = ("specs", ".skillrunner", ".git")
_POLL = 0.1  # seconds between two tries for a held lock


class LockedError(SkillrunnerError):
    """Another run holds the project's lock."""


def find_project(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``specs/``, ``.skillrunner/`` or ``.git``;
    ``start`` itself when none does."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _MARKERS):
            return folder
    return start


def _holder(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {data['pid']} ({data['command']}) since {data['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def project_lock(project: Path, *, command: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the project's lock while the block runs: two runs on one project take turns.

    A second run waits up to ``timeout`` seconds (``SKILLRUNNER_LOCK_TIMEOUT``, else 10), then raises
    ``LockedError`` naming the holder. The lock is the operating system's (``flock``): a run that
    dies releases it, so a stale lock file never blocks anyone.
    """
    if timeout is None:
        try:
            timeout = float(os.environ.get("SKILLRUNNER_LOCK_TIMEOUT", "10"))
        except ValueError:
            timeout = 10.0
    path = project / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():  # the rest of .skillrunner/ belongs in version control, the lock does not
        ignore.write_text("lock\n", encoding="utf-8")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"another skillrunner run is writing this project: {_holder(path)}", path=LOCK,
                        hint="wait for it to finish and run again (SKILLRUNNER_LOCK_TIMEOUT sets how long "
                             "to wait, in seconds)") from None
                time.sleep(_POLL)
        holder = {"pid": os.getpid(), "command": command,
                  "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
