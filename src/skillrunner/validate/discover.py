"""Which folders are skills: every folder holding SKILL.md under a path, minus what git ignores."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillrunner.findings import Finding
from skillrunner.skills import SKILL_FILE

__all__ = ["PROJECT_FOLDERS", "SKIP_DIRS", "Found", "GitIgnore", "Tracked", "find_skills", "glob_regex",
           "plugin_of", "project_skills", "shown_path", "skill_file"]

#: Where a project keeps skills: its own folder and the folders agents read (``init --agent``).
PROJECT_FOLDERS: tuple[str, ...] = ("skills", ".claude/skills", ".agents/skills", ".github/skills",
                                    ".cursor/skills", ".qwen/skills", ".kiro/skills", ".augment/skills")
#: Never searched for skills nor scanned inside one: version control, dependencies, caches.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox", ".nox",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache"})
#: The manifest that makes a folder a Claude Code plugin; its skills are named ``plugin:skill``.
PLUGIN_MANIFEST = ".claude-plugin/plugin.json"


@dataclass
class Found:
    """The skill folders found, the path each was found under (as shown), and paths that held none."""

    folders: list[tuple[Path, str]] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    looked_in: list[str] = field(default_factory=list)


def shown_path(path: Path, project: Path | None) -> str:
    """``path`` relative to the project when inside it, else as given."""
    if project is not None:
        try:
            return path.resolve().relative_to(project.resolve()).as_posix() or "."
        except ValueError:
            pass
    return path.as_posix()


def skill_file(folder: Path) -> Path | None:
    """The folder's ``SKILL.md``, or a lowercase ``skill.md`` (accepted by some tools, reported); a
    symlink whose target is missing counts, so that it is reported rather than passed over."""
    for name in (SKILL_FILE, "skill.md"):
        if (folder / name).is_file() or (folder / name).is_symlink():
            return folder / name
    return None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-style glob as a regex over ``/``-separated paths: ``*``, ``?``, ``[...]``, ``**``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


@dataclass(frozen=True)
class _IgnoreRule:
    base: str  # the folder of the .gitignore, absolute, with a trailing /
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


class GitIgnore:
    """The ``.gitignore`` rules met so far on a walk (and those above it, up to the repository's root)."""

    def __init__(self) -> None:
        self._rules: list[_IgnoreRule] = []
        self._read: set[str] = set()

    def add_file(self, folder: str, name: str = ".gitignore") -> None:
        """Read ``folder/name`` once, if it exists; its patterns apply below ``folder``."""
        path = os.path.join(folder, name)
        if path in self._read:
            return
        self._read.add(path)
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            return
        base = folder.rstrip(os.sep) + "/"
        if name != ".gitignore":  # .git/info/exclude applies from the repository's root
            base = os.path.dirname(os.path.dirname(folder.rstrip(os.sep))) + "/"
        for raw in lines:
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            line = line[1:] if negate else line
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if not line:
                continue
            anchored = "/" in line
            line = line.lstrip("/")
            regex = glob_regex(line if anchored or line.startswith("**") else "**/" + line)
            self._rules.append(_IgnoreRule(base, regex, negate, dir_only))

    def add_above(self, start: Path) -> None:
        """The ``.gitignore`` files from the repository holding ``start`` down to ``start``'s parent."""
        real = start.resolve()
        chain = [real, *real.parents]
        root = next((p for p in chain if (p / ".git").exists()), None)
        if root is None:
            return
        self.add_file(str(root / ".git" / "info"), "exclude")
        for folder in reversed(chain[1:chain.index(root) + 1]):
            self.add_file(str(folder))

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        """True when the last rule matching the absolute ``path`` ignores it."""
        result = False
        for rule in self._rules:
            if not path.startswith(rule.base) or (rule.dir_only and not is_dir):
                continue
            if rule.regex.fullmatch(path[len(rule.base):]):
                result = not rule.negate
        return result


class Tracked:
    """The folders holding a skill file git tracks, and every folder above them: ``.gitignore`` does
    not apply to tracked files. One ``git ls-files`` per repository per run; none without git."""

    def __init__(self) -> None:
        self._repos: dict[str, frozenset[str]] = {}

    def holds_skill(self, path: str) -> bool:
        """True when the folder ``path`` is, or is above, a folder whose skill file git tracks."""
        real = os.path.realpath(path)
        root = next((str(p) for p in (Path(real), *Path(real).parents) if (p / ".git").exists()), None)
        if root is None:
            return False
        if root not in self._repos:
            self._repos[root] = _tracked_skill_folders(root)
        return real in self._repos[root]


def _tracked_skill_folders(root: str) -> frozenset[str]:
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, check=False,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    folders: set[str] = set()
    for rel in out.decode("utf-8", errors="replace").split("\0"):
        if rel.rsplit("/", 1)[-1] not in (SKILL_FILE, "skill.md"):
            continue
        folder = os.path.dirname(os.path.join(root, rel))
        while folder.startswith(root) and folder not in folders:
            folders.add(folder)
            folder = os.path.dirname(folder)
    return frozenset(folders)


def _inside(path: str, boundary: str) -> bool:
    return path == boundary or path.startswith(boundary.rstrip(os.sep) + os.sep)


def _walk(root: Path, skip: Callable[[str], bool], boundary: Path | None = None,
          tracked: Tracked | None = None) -> Iterator[Path]:
    """Every folder at or under ``root`` holding a skill file, not descending into a skill or a skipped
    folder; hidden folders are searched. A folder reached by several paths is yielded by each (the
    caller checks it once); symlinks leading outside ``boundary`` (default ``root``) are not followed,
    nor those back up the tree."""
    ignore = GitIgnore()
    ignore.add_above(root)
    tracked = tracked or Tracked()
    limit = os.path.realpath(boundary if boundary is not None else root)
    chain: dict[str, str] = {}  # each folder walked -> its real path, to see a link back up the tree
    entered: set[str] = set()  # ignored folders walked only because a tracked skill is below them
    for top, dirs, _files in os.walk(root, followlinks=True):
        real = os.path.realpath(top)
        chain[top] = real
        parent = os.path.dirname(top)
        while parent in chain:
            if chain[parent] == real:  # a symlink back up the tree
                break
            parent = os.path.dirname(parent)
        else:
            parent = ""
        if parent:
            dirs[:] = []
            continue
        folder = Path(top)
        if skill_file(folder) is not None:
            dirs[:] = []
            yield folder
            continue
        here = os.path.abspath(top)
        ignore.add_file(here)
        kept = []
        for d in dirs:
            path = os.path.join(here, d)
            if d in SKIP_DIRS or skip(path):
                continue
            if os.path.islink(path) and not _inside(os.path.realpath(path), limit):
                continue  # outside what was asked for
            if here in entered or ignore.ignored(path, is_dir=True):
                if not tracked.holds_skill(path):
                    continue
                entered.add(path)
            kept.append(d)
        dirs[:] = sorted(kept)


def _boundary(path: Path, project: Path | None) -> Path:
    """How far symlinks under ``path`` are followed: the project when ``path`` is inside it, else
    ``path`` itself."""
    if project is not None and _inside(os.path.realpath(path), os.path.realpath(project)):
        return project
    return path


def find_skills(paths: Sequence[Path], project: Path | None, skip: Callable[[str], bool]) -> Found:
    """The skills under each path: a skill folder, its SKILL.md, or any folder above skills.

    ``skip(path)`` excludes folders (the configuration's ``exclude``). A path holding no skill is a
    ``not-a-skill`` finding.
    """
    found = Found()
    tracked = Tracked()
    for path in paths:
        shown = shown_path(path, project)
        found.looked_in.append(shown)
        if path.is_file():
            if path.name.lower() == SKILL_FILE.lower():
                found.folders.append((path.parent, shown))
            else:
                found.problems.append(Finding(shown, 1, 1, "error", f"not a skill: give a folder or its "
                                              f"{SKILL_FILE}", f"a skill is a folder holding {SKILL_FILE}",
                                              "not-a-skill"))
            continue
        if not path.is_dir():
            found.problems.append(Finding(shown, 1, 1, "error", "no such file or folder", "check the path",
                                          "not-a-skill"))
            continue
        try:
            folders = list(_walk(path, skip, _boundary(path, project), tracked))
        except OSError as exc:
            found.problems.append(Finding(shown, 1, 1, "error", f"cannot read the folder: "
                                          f"{exc.strerror or exc}", "check its permissions", "not-a-skill"))
            continue
        if not folders:
            found.problems.append(Finding(
                shown, 1, 1, "error", f"no {SKILL_FILE} in this folder or any folder below it",
                f"a skill is a folder holding {SKILL_FILE}; folders git ignores, .git and node_modules are "
                "not searched", "not-a-skill"))
        found.folders += [(folder, shown) for folder in folders]
    return found


def project_skills(project: Path | None, skip: Callable[[str], bool]) -> Found:
    """The skills in the project's own folders (``skills/`` and the agents' folders), those that exist."""
    found = Found()
    if project is None:
        return found
    tracked = Tracked()
    for name in PROJECT_FOLDERS:
        root = project / name
        found.looked_in.append(name)
        if root.is_dir() and not skip(str(root)):
            found.folders += [(folder, name) for folder in _walk(root, skip, project, tracked)]
    return found


def _manifest_name(folder: Path) -> str | None:
    manifest = folder / PLUGIN_MANIFEST
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else folder.name


def plugin_of(folder: Path, stop: Path | None, memo: dict[Path, str | None]) -> tuple[Path, str] | None:
    """The Claude Code plugin holding the skill ``folder`` (its root and name), looking up to ``stop``
    or the repository's root; ``memo`` keeps what each folder was found to be during one run."""
    real = folder.resolve()
    limit = stop.resolve() if stop is not None else None
    for parent in real.parents:
        if parent not in memo:
            memo[parent] = _manifest_name(parent)
        name = memo[parent]
        if name is not None:
            return parent, name
        if parent == limit or (parent / ".git").exists():
            return None
    return None
