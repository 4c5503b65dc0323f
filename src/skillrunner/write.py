"""Safe writing of generated files: staged, all or nothing, hand edits kept or merged three-way."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from skillrunner.errors import RenderError, SkillrunnerError, WriteConflictError

__all__ = ["LABELS", "MANIFEST", "STATE_DIR", "MergeResult", "WriteReport", "conflict_lines", "edited_files",
           "merge3", "recorded_files", "unresolved_conflicts", "write_files", "writer_keys"]

#: Where skillrunner keeps its own state in a project; generated files never go there.
STATE_DIR = ".skillrunner"
#: What each writer wrote: ``{"version": 1, "writers": {key: {"files": {path: sha256}}}}``.
MANIFEST = f"{STATE_DIR}/manifest.json"
#: The text of every recorded render, named by its sha256 (the three-way merge base).
_BASES = f"{STATE_DIR}/base"
_VERSION = 1
_SHA = re.compile(r"[0-9a-f]{64}")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
#: A conflict ``merge3`` wrote with the default labels.
_MARKED = re.compile(r"^<<<<<<< yours\n(?:.*\n)*?\|\|\|\|\|\|\| generated before\n(?:.*\n)*?=======\n"
                     r"(?P<theirs>(?:.*\n)*?)>>>>>>> contract\n", re.MULTILINE)

#: ``conflict``: merged, with markers around the hunks where the user's edits and the render overlap.
#: ``refuse``: a differing file skillrunner never wrote (no merge base): written only with ``force``.
#: ``forget``: a file no longer rendered that the user edited or deleted: left as is, no longer recorded.
_Action = Literal["create", "update", "merge", "unchanged", "conflict", "refuse", "remove", "forget"]
#: The names of the three sides in conflict markers.
LABELS = ("yours", "generated before", "contract")


@dataclass(frozen=True)
class WriteReport:
    """What a write did (or, dry run, would do). Paths are relative to the project, POSIX, sorted.

    ``merged`` files hold the user's edits and the new render. ``conflicts`` lists files where the
    user's edits and the render overlap: each was written with git-style markers around those
    hunks (``conflict_lines``: ``path:line`` of each ``<<<<<<<``), for a person or an agent to
    resolve; with ``force`` the render's side was taken there instead (``forced``), every other
    edit kept. ``refused``: differing files skillrunner never wrote; without ``force`` the write
    raises ``WriteConflictError`` (a dry run reports them), with it they were replaced (listed in
    ``updated`` too). ``removed`` (only with ``prune``) lists generated files no longer rendered,
    deleted untouched; ``kept`` those the user edited, left in place and no longer recorded.
    """

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    merged: tuple[str, ...]
    conflicts: tuple[str, ...]
    diff: str = ""
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    conflict_lines: tuple[str, ...] = ()
    forced: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def changed(self) -> tuple[str, ...]:
        """Every file whose content on disk changes (created, updated, merged or removed)."""
        return tuple(sorted({*self.created, *self.updated, *self.merged, *self.removed}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"created": list(self.created), "updated": list(self.updated),
                "unchanged": list(self.unchanged), "merged": list(self.merged),
                "conflicts": list(self.conflicts), "conflict_lines": list(self.conflict_lines),
                "forced": list(self.forced), "refused": list(self.refused), "removed": list(self.removed),
                "kept": list(self.kept), "diff": self.diff}


@dataclass(frozen=True)
class MergeResult:
    """A line-level three-way merge: the text, with git-style markers around each conflict."""

    text: str
    conflicts: int

    @property
    def clean(self) -> bool:
        """True when every hunk merged."""
        return self.conflicts == 0


# --- the three-way merge ----------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def _matches(base: Sequence[str], other: Sequence[str]) -> list[difflib.Match]:
    return difflib.SequenceMatcher(None, base, other, autojunk=False).get_matching_blocks()


def _sync_regions(base: Sequence[str], ours: Sequence[str],
                  theirs: Sequence[str]) -> Iterator[tuple[int, int, int, int]]:
    """Runs of ``base`` that both sides kept: (base start, base end, ours start, theirs start),
    ending with an empty run at the three ends."""
    a, b = _matches(base, ours), _matches(base, theirs)
    ia = ib = 0
    while ia < len(a) and ib < len(b):
        abase, amatch, alen = a[ia]
        bbase, bmatch, blen = b[ib]
        start, end = max(abase, bbase), min(abase + alen, bbase + blen)
        if start < end:
            yield start, end, amatch + start - abase, bmatch + start - bbase
        if abase + alen < bbase + blen:
            ia += 1
        else:
            ib += 1
    yield len(base), len(base), len(ours), len(theirs)


def _edits(base: Sequence[str], other: Sequence[str]) -> list[tuple[int, int, tuple[str, ...]]]:
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [(i1, i2, tuple(other[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _combine(base: Sequence[str], ours: Sequence[str], theirs: Sequence[str]) -> list[str] | None:
    """Both sides' edits of one unstable chunk applied together, or None when they overlap.

    Edits overlap when they change a common base line, both insert at one point, or one inserts
    strictly inside the lines the other replaces. Edits of adjacent lines do not overlap.
    """
    edits = sorted(set(_edits(base, ours)) | set(_edits(base, theirs)), key=lambda e: (e[0], e[1], e[2]))
    reach, inserted_at = 0, -1
    for start, end, _ in edits:
        if start < reach or (start == end and start == inserted_at):
            return None
        if start == end:
            inserted_at = start
        reach = max(reach, end)
    out: list[str] = []
    pos = 0
    for start, end, lines in edits:
        out.extend(base[pos:start])
        out.extend(lines)
        pos = end
    out.extend(base[pos:])
    return out


def merge3(base: str, ours: str, theirs: str, *, labels: tuple[str, str, str] = LABELS,
           prefer_theirs: bool = False) -> MergeResult:
    """Merge the changes ``base`` -> ``ours`` and ``base`` -> ``theirs`` line by line.

    Hunks that change different lines of ``base`` (adjacent ones included) both apply; the same
    change made on both sides applies once; overlapping hunks are conflicts, written between
    ``<<<<<<<``, ``|||||||`` (the base), ``=======`` and ``>>>>>>>`` markers named by ``labels``,
    or, with ``prefer_theirs``, resolved to ``theirs`` (still counted).
    ``merge3(b, b, x) == merge3(b, x, b) == merge3(b, x, x) == x``.
    """
    old, mine, new = _lines(base), _lines(ours), _lines(theirs)
    out: list[str] = []
    conflicts = 0
    zb = za = zt = 0
    for start, end, astart, tstart in _sync_regions(old, mine, new):
        chunk, a, t = old[zb:start], mine[za:astart], new[zt:tstart]
        if a == t or chunk == t:
            out.extend(a)
        elif chunk == a:
            out.extend(t)
        else:
            both = _combine(chunk, a, t)
            if both is not None:
                out.extend(both)
            elif prefer_theirs:
                conflicts += 1
                out.extend(t)
            else:
                conflicts += 1
                for marker, lines in ((f"<<<<<<< {labels[0]}", a), (f"||||||| {labels[1]}", chunk),
                                      ("=======", t)):
                    out.append(marker + "\n")
                    out.extend(lines)
                    if lines and not lines[-1].endswith("\n"):
                        out.append("\n")
                out.append(f">>>>>>> {labels[2]}\n")
        out.extend(old[start:end])
        zb, za, zt = end, astart + end - start, tstart + end - start
    return MergeResult("".join(out), conflicts)


def conflict_lines(text: str, *, labels: tuple[str, str, str] = LABELS) -> tuple[int, ...]:
    """The line (1-based) of each unresolved conflict ``merge3`` wrote into ``text`` with ``labels``:
    each ``<<<<<<<`` line, and a ``|||||||`` or ``>>>>>>>`` line left behind without one."""
    start, middle, end = f"<<<<<<< {labels[0]}", f"||||||| {labels[1]}", f">>>>>>> {labels[2]}"
    out: list[int] = []
    inside = False
    for n, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if line == start:
            out.append(n)
            inside = True
        elif line in (middle, end):
            if not inside:
                out.append(n)
            inside = line == middle
    return tuple(out)


# --- the manifest -----------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(project: Path) -> dict[str, dict[str, str]]:
    """``{key: {path: sha256}}`` from the project's manifest (empty without one)."""
    path = project / MANIFEST
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise _bad_manifest(f"cannot be read ({exc})") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _bad_manifest(exc.msg, exc.lineno, exc.colno) from exc
    if (not isinstance(data, dict) or data.get("version") != _VERSION
            or not isinstance(data.get("writers"), dict)):
        raise _bad_manifest(f'expected {{"version": {_VERSION}, "writers": {{...}}}}', 1, 1)
    writers: dict[str, dict[str, str]] = {}
    for key, entry in data["writers"].items():
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, dict) or not all(
                isinstance(p, str) and isinstance(s, str) and _SHA.fullmatch(s) for p, s in files.items()):
            raise _bad_manifest(f'writer {key!r}: expected {{"files": {{path: sha256}}}}', 1, 1)
        writers[key] = dict(files)
    return writers


def _bad_manifest(why: str, line: int | None = None, col: int | None = None) -> SkillrunnerError:
    return SkillrunnerError(f"the manifest of generated files is broken: {why}", path=MANIFEST, line=line,
                            col=col, hint=f"fix it, or delete {STATE_DIR}/ (then every existing file "
                                          "counts as yours and differing ones need --force)")


def _manifest_text(writers: Mapping[str, Mapping[str, str]]) -> str:
    data = {"version": _VERSION,
            "writers": {key: {"files": dict(files)} for key, files in writers.items() if files}}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def recorded_files(*, project: Path, key: str) -> dict[str, str]:
    """The files the writer ``key`` recorded in the project's manifest: path -> sha256 as rendered."""
    return dict(sorted(_read_manifest(project).get(key, {}).items()))


def writer_keys(*, project: Path, prefix: str = "") -> tuple[str, ...]:
    """The writer keys the manifest records files for (those starting with ``prefix``), sorted."""
    return tuple(sorted(k for k, files in _read_manifest(project).items() if files and k.startswith(prefix)))


def edited_files(*, project: Path, key: str) -> tuple[str, ...]:
    """Files the writer ``key`` recorded that are still there but differ from what it wrote."""
    out = []
    for rel, sha in recorded_files(project=project, key=key).items():
        data = _read_file(project, rel)
        if data is not None and _sha(data) != sha:
            out.append(rel)
    return tuple(out)


def unresolved_conflicts(*, project: Path) -> tuple[tuple[str, int], ...]:
    """``(path, line)`` of every unresolved conflict marker in a file the manifest records (any
    writer), sorted: what a person or an agent still has to resolve."""
    out: list[tuple[str, int]] = []
    for rel in sorted({rel for files in _read_manifest(project).values() for rel in files}):
        text = _decode(_read_file(project, rel))
        if text is not None:
            out += [(rel, n) for n in conflict_lines(text)]
    return tuple(out)


def _read_file(project: Path, rel: str) -> bytes | None:
    """A recorded file's bytes; None when it is gone, not a file, or leads out of the project."""
    target = project.joinpath(*_check_rel(rel, "recorded file").parts)
    try:
        if not target.is_file() or not _inside(target.resolve(), project.resolve()):
            return None
        return target.read_bytes()
    except OSError:
        return None


# --- planning: what happens to each file ---------------------------------------------------------------


@dataclass
class _Plan:
    rel: str  # relative to the project
    target: Path
    action: _Action
    old: bytes | None  # on disk now
    new: bytes | None  # to put on disk (None: nothing to write, or removed)
    rendered: bytes | None  # as rendered: what the manifest records
    why: str = ""
    markers: tuple[int, ...] = ()  # conflict: the line of each <<<<<<< in ``new``
    forced: bool = False  # force took the render's side where the edits overlapped


def _check_rel(path: str, what: str) -> PurePosixPath:
    """``path`` as a relative POSIX path without ``.``/``..``/empty parts, or a RenderError."""
    pure = PurePosixPath(path)
    bad = (not path or "\\" in path or "\0" in path or pure.is_absolute() or path.startswith("/")
           or any(part in ("", ".", "..") for part in path.split("/")))
    if bad:
        raise RenderError(f"refusing to write {what} {path!r}: not a plain relative path",
                          hint="generated paths are relative, use '/' and have no '.', '..' or empty parts")
    return pure


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or path.is_relative_to(parent)


def _target(project: Path, real_project: Path, real_root: Path, root: PurePosixPath,
            name: str) -> tuple[str, Path]:
    pure = _check_rel(name, "file")
    rel = (root / pure).as_posix()
    target = project.joinpath(*root.parts, *pure.parts)
    real = target.resolve()
    if not _inside(real, real_root) or real == real_root:
        raise RenderError(f"refusing to write {rel}: it resolves to {real}, outside {real_root}",
                          path=rel, hint="remove the symbolic link that leads out of the target")
    if _inside(real, real_project / STATE_DIR):
        raise RenderError(f"refusing to write {rel}: {STATE_DIR}/ holds skillrunner's own state", path=rel,
                          hint=f"generate files outside {STATE_DIR}/")
    if target.is_dir():
        raise RenderError(f"cannot write {rel}: a directory is in the way", path=rel,
                          hint="move the directory away, or rename the generated file")
    for parent in target.relative_to(project).parents:
        folder = project / parent
        if folder.exists() and not folder.is_dir():
            raise RenderError(f"cannot write {rel}: {parent.as_posix()} is a file, not a folder", path=rel,
                              hint="move that file away")
    return rel, target


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _plan_file(rel: str, target: Path, text: str, recorded: str | None, project: Path, force: bool) -> _Plan:
    try:
        new = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RenderError(f"cannot write {rel}: the rendered text is not valid Unicode ({exc.reason})",
                          path=rel, hint="a template or the contract produced a lone surrogate") from exc
    old = _read(target)
    if old is None:
        return _Plan(rel, target, "create", None, new, new)
    if old == new:
        return _Plan(rel, target, "unchanged", old, None, new)
    if recorded is not None and _sha(old) == recorded:
        return _Plan(rel, target, "update", old, new, new)
    if recorded is None:
        why = "exists and was not written by skillrunner"
    else:
        base, mine = _decode(_read(project / _BASES / recorded)), _decode(old)
        if base is None or _sha(base.encode("utf-8")) != recorded:
            why = f"edited by hand, and the generated original is missing from {_BASES}/"
        elif mine is None:
            why = "edited by hand and no longer UTF-8 text"
        else:
            taken = 0
            if force:  # markers a run left: the contract's side, as --force takes it now
                mine, taken = _MARKED.subn(lambda m: m["theirs"], mine)
            merged = merge3(base, mine, text, prefer_theirs=force)
            data = merged.text.encode("utf-8")
            written = None if data == old else data
            # Markers written now, or left from an earlier run and not resolved yet: still a conflict.
            lines = conflict_lines(merged.text)
            if lines:
                why = (f"your edits overlap the new render in {merged.conflicts} place(s)" if merged.conflicts
                       else "the conflict markers of an earlier run are not resolved yet")
                return _Plan(rel, target, "conflict", old, written, new, why, lines)
            return _Plan(rel, target, "unchanged" if written is None else "merge", old, written, new,
                         forced=bool(taken or merged.conflicts))
    return _Plan(rel, target, "refuse", old, new if force else None, new, why)


def _plan_removal(rel: str, recorded: str, project: Path) -> _Plan | None:
    """A generated file no longer rendered: removed when untouched, else left to the user."""
    pure = _check_rel(rel, "recorded file")
    target = project.joinpath(*pure.parts)
    real = target.resolve()
    if not _inside(real, project.resolve()) or _inside(real, project.resolve() / STATE_DIR):
        return None
    old = _read(target) if target.is_file() or target.is_symlink() else None
    untouched = old is not None and _sha(old) == recorded
    return _Plan(rel, target, "remove" if untouched else "forget", old, None, None)


# --- diffs ------------------------------------------------------------------------------------------


def _unified(rel: str, old: bytes | None, new: bytes | None) -> str:
    a, b = (f"a/{rel}" if old is not None else "/dev/null"), (f"b/{rel}" if new is not None else "/dev/null")
    before, after = _decode(old if old is not None else b""), _decode(new if new is not None else b"")
    if before is None or after is None:
        return f"Binary files {a} and {b} differ\n"
    out: list[str] = []
    for line in difflib.unified_diff(_lines(before), _lines(after), a, b, lineterm="\n"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# --- committing: stage everything, then move into place, undoing on failure -------------------------------


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _make_dirs(folder: Path, made: list[Path]) -> None:
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _undo(done: Sequence[tuple[Path, Path | None]], made: Sequence[Path]) -> None:
    for target, backup in reversed(done):
        try:
            if backup is not None and os.path.lexists(backup):
                os.replace(backup, target)
            elif backup is None:
                target.unlink(missing_ok=True)
        except OSError:
            pass  # best effort: the original error is the one to report
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _commit(project: Path, moves: Sequence[_Plan], bases: Mapping[str, bytes],
            manifest: bytes | None) -> None:
    state = project / STATE_DIR
    state_made: list[Path] = []
    _make_dirs(state, state_made)
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=state))
    done: list[tuple[Path, Path | None]] = []
    made: list[Path] = []
    current = ""
    try:
        for i, plan in enumerate(moves):
            current = plan.rel
            if plan.new is not None:
                staged = stage / "files" / str(i)
                _write_bytes(staged, plan.new)
                if plan.old is not None:
                    shutil.copymode(plan.target, staged)
        for sha, data in bases.items():
            current = f"{_BASES}/{sha}"
            _write_bytes(stage / "base" / sha, data)
        # Everything is rendered and on disk: only renames from here on.
        for sha in bases:
            base = project / _BASES / sha
            _make_dirs(base.parent, state_made)
            done.append((base, None))
            os.replace(stage / "base" / sha, base)
        for i, plan in enumerate(moves):
            current = plan.rel
            _make_dirs(plan.target.parent, made)
            backup = None
            if plan.old is not None:
                backup = stage / "backup" / str(i)
                backup.parent.mkdir(exist_ok=True)
                done.append((plan.target, backup))
                os.replace(plan.target, backup)
            if plan.new is not None:
                if backup is None:
                    done.append((plan.target, None))
                os.replace(stage / "files" / str(i), plan.target)
        if manifest is not None:
            current = MANIFEST
            _atomic_write(project / MANIFEST, manifest)
    except OSError as exc:
        _undo(done, made)
        raise RenderError(f"could not write {current}: {exc.strerror or exc}; nothing was changed",
                          path=current, hint="check the permissions and free space, then rerun") from exc
    except BaseException:
        _undo(done, made)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        for folder in reversed(state_made):
            with contextlib.suppress(OSError):  # only when empty: a failed first write leaves none behind
                folder.rmdir()


def _collect_bases(project: Path, writers: Mapping[str, Mapping[str, str]]) -> None:
    """Delete recorded renders no writer refers to any more."""
    folder = project / _BASES
    if not folder.is_dir():
        return
    used = {sha for files in writers.values() for sha in files.values()}
    for path in folder.iterdir():
        if _SHA.fullmatch(path.name) and path.name not in used:
            path.unlink(missing_ok=True)


# --- the one entry point ------------------------------------------------------------------------------


def write_files(
    files: Mapping[str, str],
    *,
    project: Path,
    root: str,
    key: str,
    force: bool = False,
    dry_run: bool = False,
    diff: bool = False,
    prune: bool = False,
    replaces: Sequence[str] = (),
    owned: Mapping[str, str] | None = None,
) -> WriteReport:
    """Write ``files`` (POSIX paths relative to ``project/root`` -> text) safely, all or nothing.

    A file already holding its new text is left alone; one still as skillrunner last wrote it
    (per ``.skillrunner/manifest.json``, under the writer ``key``) is overwritten; one edited by
    hand since gets the new render merged three-way into it (``merged``). Where the edits and the
    render overlap, the file gets git-style conflict markers around those hunks (``conflicts``,
    ``conflict_lines``) and everything else is written as usual; markers an earlier write left
    and nobody resolved count as conflicts again. With ``force`` the render's side is taken in
    the overlapping hunks (and in markers left before), every other edit kept (``forced``). The
    manifest records the render, never the merged text, so the next merge starts from it.
    A differing file skillrunner has no record of writing (no merge base) raises
    ``WriteConflictError`` listing every such file, with nothing written, unless ``force``
    replaces it. Every file is staged under ``.skillrunner/`` first and moved into place only
    when all are; a failure puts back what was moved. ``dry_run`` writes nothing and reports
    what would happen; ``diff`` fills ``WriteReport.diff`` with unified diffs. ``prune`` deletes
    files this writer generated before, no longer renders and nobody edited since (``removed``);
    edited ones are left in place and no longer recorded (``kept``). ``replaces`` names other
    writers this one takes over (another skill's render of the same backend): their files are
    pruned the same way, and they leave the manifest. ``owned`` files (same form as ``files``)
    are the user's: each is written as given, created or replaced, with the others and all or
    nothing, but never recorded, merged or pruned.
    """
    if not key:
        raise RenderError("a writer key is required", hint='e.g. key="implement:backend-builder"')
    root_pure = PurePosixPath() if root in ("", ".") else _check_rel(root.rstrip("/"), "root")
    real_project = project.resolve()
    real_root = project.joinpath(*root_pure.parts).resolve()
    if not _inside(real_root, real_project):
        raise RenderError(f"refusing to write into {root}: it resolves to {real_root}, outside the project",
                          path=root, hint="choose a root inside the project")
    writers = _read_manifest(project)
    owner = {path: (writer, sha) for writer, recorded in writers.items() for path, sha in recorded.items()}
    folders = {parent.as_posix() for name in files for parent in PurePosixPath(name).parents}
    plans: list[_Plan] = []
    for name in sorted(files):
        rel, target = _target(project, real_project, real_root, root_pure, name)
        if name in folders:
            raise RenderError(f"cannot write {rel}: it is both a file and a folder of other files", path=rel,
                              hint="a template produced clashing paths")
        plans.append(_plan_file(rel, target, files[name], owner.get(rel, ("", None))[1], project, force))
    for name, text in sorted((owned or {}).items()):
        rel, target = _target(project, real_project, real_root, root_pure, name)
        if name in files or name in folders:
            raise RenderError(f"cannot write {rel}: it is both yours and generated", path=rel,
                              hint="give the action modules their own path in conventions.yaml")
        before, new = _read(target), text.encode("utf-8")
        action: _Action = "unchanged" if before == new else "create" if before is None else "update"
        plans.append(_Plan(rel, target, action, before, None if before == new else new, None))
    rendered = {p.rel for p in plans}
    pruned = {rel: sha for k in ([key] if prune else []) + list(replaces)
              for rel, sha in writers.get(k, {}).items()}
    for rel, sha in sorted(pruned.items()):
        if rel not in rendered:
            removal = _plan_removal(rel, sha, project)
            if removal is not None:
                plans.append(removal)
    refused = sorted(p.rel for p in plans if p.action == "refuse")
    if refused and not force and not dry_run:
        raise WriteConflictError(refused, reasons={p.rel: p.why for p in plans if p.action == "refuse"})

    def listed(*actions: _Action) -> tuple[str, ...]:
        return tuple(sorted(p.rel for p in plans if p.action in actions))

    replaced = tuple(refused) if force else ()
    report_diff = ""
    if diff:
        report_diff = "".join(_unified(p.rel, p.old, p.new if p.action != "refuse" else p.rendered)
                              for p in sorted(plans, key=lambda p: p.rel)
                              if p.new is not None or p.action in ("remove", "refuse"))
    report = WriteReport(
        created=listed("create"), updated=tuple(sorted({*listed("update"), *replaced})),
        unchanged=listed("unchanged"), merged=listed("merge"), conflicts=listed("conflict"), diff=report_diff,
        removed=listed("remove"), kept=tuple(sorted(p.rel for p in plans if p.action == "forget" and p.old)),
        conflict_lines=tuple(f"{p.rel}:{n}" for p in sorted(plans, key=lambda p: p.rel) for n in p.markers),
        forced=tuple(sorted(p.rel for p in plans if p.forced)), refused=tuple(refused))
    if dry_run:
        return report
    for old in replaces:
        writers.pop(old, None)
    for plan in plans:
        for recorded in writers.values():
            recorded.pop(plan.rel, None)
        if plan.rendered is not None:
            writers.setdefault(key, {})[plan.rel] = _sha(plan.rendered)
    new_manifest = _manifest_text(writers).encode("utf-8")
    old_manifest = _read(project / MANIFEST)
    moves = [p for p in plans if p.new is not None or p.action == "remove"]
    bases = {_sha(p.rendered): p.rendered for p in plans if p.rendered is not None
             and not (project / _BASES / _sha(p.rendered)).is_file()}
    if moves or bases or new_manifest != old_manifest:
        _commit(project, moves, dict(sorted(bases.items())),
                None if new_manifest == old_manifest else new_manifest)
        with contextlib.suppress(OSError):  # an unreferenced base only costs space
            _collect_bases(project, writers)
    return report
