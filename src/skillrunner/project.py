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

from skillrunner.errors import SkillrunnerError, UsageError

__all__ = ["LOCK", "LOCK_TIMEOUT_ENV", "LockedError", "find_project", "lock_timeout", "project_lock"]

#: The lock file, relative to the project.
LOCK = ".skillrunner/lock"
#: What marks a project's root folder.
_MARKERS = ("specs", ".skillrunner", ".git")
_POLL = 0.1  # seconds between two tries for a held lock
#: The environment variable that sets how long a run waits for the lock, in seconds.
LOCK_TIMEOUT_ENV = "SKILLRUNNER_LOCK_TIMEOUT"
_DEFAULT_TIMEOUT = 10.0


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


def lock_timeout() -> float:
    """How long a run waits for the lock: ``SKILLRUNNER_LOCK_TIMEOUT`` seconds, else 10."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return _DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise UsageError(f"{LOCK_TIMEOUT_ENV}={raw!r} is not a number of seconds",
                         hint=f"set it to how long a run waits for another one, e.g. {LOCK_TIMEOUT_ENV}=30 "
                              f"(0: do not wait), or unset it for {_DEFAULT_TIMEOUT:g}")
    return value


def _holder(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {data['pid']} ({data['command']}) since {data['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def project_lock(project: Path, *, command: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the project's lock while the block runs: two runs on one project take turns.

    A second run waits up to ``timeout`` seconds (``lock_timeout()``), then raises
    ``LockedError`` naming the holder. The lock is the operating system's (``flock``): a run that
    dies releases it, so a stale lock file never blocks anyone.
    """
    if timeout is None:
        timeout = lock_timeout()
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
                        f"another skillrunner run is writing this project: {_holder(path)}; waited "
                        f"{timeout:g} s", path=LOCK,
                        hint=f"wait for it to finish and run again ({LOCK_TIMEOUT_ENV} sets how long to "
                             "wait, in seconds); the lock goes with the process that holds it") from None
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
