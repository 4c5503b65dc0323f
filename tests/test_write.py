"""Safe writing: staged all-or-nothing writes, the manifest, three-way merges, conflicts, the CLI."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillrunner import write as write_mod
from skillrunner.errors import RenderError, SkillrunnerError, WriteConflictError
from skillrunner.render import WriteResult
from skillrunner.write import MANIFEST, merge3, recorded_files, write_files

KEY = "implement:backend-builder"
MAIN = "a\nb\nc\nd\ne\nf\ng\n"


def _write(project: Path, files: dict[str, str], **kw: Any) -> write_mod.WriteReport:
    kw.setdefault("root", "backend")
    kw.setdefault("key", KEY)
    return write_files(files, project=project, **kw)


def _snapshot(project: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``project``: path -> bytes (None for a folder)."""
    return {p.relative_to(project).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(project.rglob("*"))}


# --- created, unchanged, updated ---------------------------------------------------------------------


def test_first_write_creates_files_and_records_them(tmp_path: Path) -> None:
    report = _write(tmp_path, {"app/main.py": MAIN, "README.md": "hi\n"})
    assert report.created == ("backend/README.md", "backend/app/main.py")
    assert report.updated == report.unchanged == report.merged == report.conflicts == ()
    assert (tmp_path / "backend/app/main.py").read_text() == MAIN
    recorded = recorded_files(project=tmp_path, key=KEY)
    assert sorted(recorded) == ["backend/README.md", "backend/app/main.py"]
    base = tmp_path / ".skillrunner/base" / recorded["backend/app/main.py"]
    assert base.read_text() == MAIN
    # nothing of the staging is left behind
    assert sorted(p.name for p in (tmp_path / ".skillrunner").iterdir()) == ["base", "manifest.json"]


def test_identical_file_is_not_rewritten(tmp_path: Path) -> None:
    _write(tmp_path, {"app/main.py": MAIN})
    target = tmp_path / "backend/app/main.py"
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    manifest_before = (tmp_path / MANIFEST).read_bytes()
    report = _write(tmp_path, {"app/main.py": MAIN})
    assert report.unchanged == ("backend/app/main.py",)
    assert report.changed == ()
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert (tmp_path / MANIFEST).read_bytes() == manifest_before


def test_untouched_file_is_updated_and_keeps_its_mode(tmp_path: Path) -> None:
    _write(tmp_path, {"run.sh": "echo 1\n"})
    target = tmp_path / "backend/run.sh"
    target.chmod(0o755)
    report = _write(tmp_path, {"run.sh": "echo 2\n"})
    assert report.updated == ("backend/run.sh",)
    assert target.read_text() == "echo 2\n"
    assert target.stat().st_mode & 0o777 == 0o755


def test_deleted_generated_file_is_created_again(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": "x\n"})
    (tmp_path / "backend/a.py").unlink()
    assert _write(tmp_path, {"a.py": "x\n"}).created == ("backend/a.py",)


def test_root_may_be_the_project_itself(tmp_path: Path) -> None:
    report = write_files({".claude/commands/sp.plan.md": "x\n"}, project=tmp_path, root="", key="init")
    assert report.created == (".claude/commands/sp.plan.md",)
    assert (tmp_path / ".claude/commands/sp.plan.md").read_text() == "x\n"


def test_bytes_are_written_exactly(tmp_path: Path) -> None:
    text = "crlf\r\nné\u2028no newline"
    _write(tmp_path, {"a.txt": text})
    assert (tmp_path / "backend/a.txt").read_bytes() == text.encode("utf-8")


# --- hand edits: merged, conflicts, force ---------------------------------------------------------------


def test_hand_edit_and_new_render_on_different_lines_merge(tmp_path: Path) -> None:
    _write(tmp_path, {"app/main.py": MAIN})
    target = tmp_path / "backend/app/main.py"
    target.write_text(MAIN.replace("b\n", "b  # mine\n"))
    report = _write(tmp_path, {"app/main.py": MAIN.replace("f\n", "f  # new\n")})
    assert report.merged == ("backend/app/main.py",)
    assert target.read_text() == MAIN.replace("b\n", "b  # mine\n").replace("f\n", "f  # new\n")
    # the manifest keeps the render (the next merge base), not the merged text
    recorded = recorded_files(project=tmp_path, key=KEY)["backend/app/main.py"]
    assert (tmp_path / ".skillrunner/base" / recorded).read_text() == MAIN.replace("f\n", "f  # new\n")
    # the same render again: the user's merged file stays as it is
    again = _write(tmp_path, {"app/main.py": MAIN.replace("f\n", "f  # new\n")})
    assert again.unchanged == ("backend/app/main.py",)
    assert "# mine" in target.read_text()


def test_overlapping_edits_become_conflict_markers_and_everything_else_is_written(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": MAIN, "b.py": MAIN, "c.py": "c\n"})
    (tmp_path / "backend/a.py").write_text(MAIN.replace("c\n", "c mine\n"))
    (tmp_path / "backend/b.py").write_text(MAIN.replace("d\n", "d mine\n").replace("g\n", "g mine\n"))
    report = _write(tmp_path, {"a.py": MAIN.replace("c\n", "c new\n"), "b.py": MAIN.replace("d\n", "d new\n"),
                               "c.py": "c changed\n", "new.py": "new\n"})
    assert report.conflicts == ("backend/a.py", "backend/b.py")
    assert report.conflict_lines == ("backend/a.py:3", "backend/b.py:4")
    assert report.created == ("backend/new.py",) and report.updated == ("backend/c.py",)
    b, a_marked = (tmp_path / "backend/b.py").read_text(), (tmp_path / "backend/a.py").read_text()
    assert "g mine\n" in b, "an edit that overlaps nothing stays"
    hunk = "<<<<<<< yours\nd mine\n||||||| generated before\nd\n=======\nd new\n>>>>>>> contract\n"
    assert hunk in b
    # the manifest records the render: once resolved, the next run merges from there
    resolved = b.replace(hunk, "d mine and new\n")
    (tmp_path / "backend/b.py").write_text(resolved)
    again = _write(tmp_path, {"a.py": MAIN.replace("c\n", "c new\n"), "b.py": MAIN.replace("d\n", "d new\n"),
                              "c.py": "c changed\n", "new.py": "new\n"})
    assert (tmp_path / "backend/b.py").read_text() == resolved
    # a.py was not resolved: it stays as it is, and is still a conflict (the run fails again)
    assert again.conflicts == ("backend/a.py",) and again.conflict_lines == ("backend/a.py:3",)
    assert again.unchanged == ("backend/b.py", "backend/c.py", "backend/new.py")
    assert (tmp_path / "backend/a.py").read_text() == a_marked


def test_force_takes_the_contracts_side_where_edits_overlap_and_keeps_the_rest(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": MAIN})
    (tmp_path / "backend/a.py").write_text(MAIN.replace("c\n", "c mine\n").replace("g\n", "g mine\n"))
    report = _write(tmp_path, {"a.py": MAIN.replace("c\n", "c new\n")}, force=True)
    assert report.conflicts == () and report.forced == ("backend/a.py",)
    assert report.merged == ("backend/a.py",)
    expected = MAIN.replace("c\n", "c new\n").replace("g\n", "g mine\n")
    assert (tmp_path / "backend/a.py").read_text() == expected
    # recorded as generated: an edit-free rerun merges from the new render
    assert _write(tmp_path, {"a.py": MAIN.replace("c\n", "c new\n")}).unchanged == ("backend/a.py",)


def test_unresolved_markers_in_a_file_that_changes_elsewhere_stay_a_conflict(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": MAIN})
    (tmp_path / "backend/a.py").write_text(MAIN.replace("b\n", "b mine\n"))
    _write(tmp_path, {"a.py": MAIN.replace("b\n", "b new\n")})
    marked = (tmp_path / "backend/a.py").read_text()
    report = _write(tmp_path, {"a.py": MAIN.replace("b\n", "b new\n").replace("g\n", "g new\n")})
    assert report.conflicts == ("backend/a.py",) and report.conflict_lines == ("backend/a.py:2",)
    text = (tmp_path / "backend/a.py").read_text()
    assert text == marked.replace("g\n", "g new\n"), "the render's other change is merged in"


def test_force_takes_the_contracts_side_of_markers_left_before_and_keeps_other_edits(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": MAIN})
    (tmp_path / "backend/a.py").write_text(MAIN.replace("b\n", "b mine\n"))
    _write(tmp_path, {"a.py": MAIN.replace("b\n", "b new\n")})
    marked = (tmp_path / "backend/a.py").read_text()
    (tmp_path / "backend/a.py").write_text(marked.replace("f\n", "f mine\n"))
    report = _write(tmp_path, {"a.py": MAIN.replace("b\n", "b new\n")}, force=True)
    assert report.forced == ("backend/a.py",) and report.conflicts == ()
    expected = MAIN.replace("b\n", "b new\n").replace("f\n", "f mine\n")
    assert (tmp_path / "backend/a.py").read_text() == expected


def test_conflict_lines_finds_every_hunk_and_markers_left_half_resolved() -> None:
    from skillrunner.write import conflict_lines

    text = merge3("1\n2\n3\n4\n5\n", "1\nA\n3\n4\nE\n", "1\nB\n3\n4\nF\n").text
    assert conflict_lines(text) == (2, 11)
    assert conflict_lines("x\n=======\ny\n>>>>>>> contract\nz\n") == (4,), "a stray end marker"
    assert conflict_lines("||||||| generated before\nb\n=======\nc\n>>>>>>> contract\n") == (1,)
    assert conflict_lines("<<<<<<< HEAD\n=======\n") == (), "only the markers skillrunner writes"
    assert conflict_lines("a\r\n<<<<<<< yours\r\n") == (2,)


def test_unresolved_conflicts_looks_at_every_recorded_file(tmp_path: Path) -> None:
    from skillrunner.write import unresolved_conflicts

    _write(tmp_path, {"a.py": MAIN, "b.py": MAIN})
    write_files({"CLAUDE.md": "c\n"}, project=tmp_path, root="", key="init")
    assert unresolved_conflicts(project=tmp_path) == ()
    (tmp_path / "backend/b.py").write_text("x\n<<<<<<< yours\ny\n")
    (tmp_path / "CLAUDE.md").write_text(">>>>>>> contract\n")
    (tmp_path / "backend/a.py").unlink()
    (tmp_path / "notes.md").write_text("<<<<<<< yours\n")  # not recorded: not skillrunner's business
    assert unresolved_conflicts(project=tmp_path) == (("CLAUDE.md", 1), ("backend/b.py", 2))


def test_force_replaces_a_file_skillrunner_never_wrote_and_writes_the_rest(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend/README.md").write_text("my notes\n")
    dry = _write(tmp_path, {"README.md": "generated\n", "a.py": "a\n"}, dry_run=True)
    assert dry.refused == ("backend/README.md",) and dry.created == ("backend/a.py",)
    report = _write(tmp_path, {"README.md": "generated\n", "a.py": "a\n"}, force=True)
    assert report.refused == ("backend/README.md",) and report.updated == ("backend/README.md",)
    assert (tmp_path / "backend/README.md").read_text() == "generated\n"
    assert sorted(recorded_files(project=tmp_path, key=KEY)) == ["backend/README.md", "backend/a.py"]


def test_existing_file_not_written_by_skillrunner_is_the_users(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend/README.md").write_text("my notes\n")
    with pytest.raises(WriteConflictError) as caught:
        _write(tmp_path, {"README.md": "generated\n"})
    assert caught.value.paths == ("backend/README.md",)
    assert "backend/README.md: exists and was not written by skillrunner" in caught.value.message
    assert "nothing was written" in caught.value.message and "--force" in caught.value.hint
    assert (tmp_path / "backend/README.md").read_text() == "my notes\n"
    assert not (tmp_path / ".skillrunner").exists()


def test_existing_identical_file_is_adopted(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend/README.md").write_text("same\n")
    assert _write(tmp_path, {"README.md": "same\n"}).unchanged == ("backend/README.md",)
    assert "backend/README.md" in recorded_files(project=tmp_path, key=KEY)
    assert _write(tmp_path, {"README.md": "new\n"}).updated == ("backend/README.md",)


def test_edited_file_without_its_recorded_base_is_a_conflict(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": MAIN})
    (tmp_path / "backend/a.py").write_text(MAIN + "mine\n")
    for base in (tmp_path / ".skillrunner/base").iterdir():
        base.unlink()
    with pytest.raises(WriteConflictError) as caught:
        _write(tmp_path, {"a.py": "new\n" + MAIN})
    assert "edited by hand, and the generated original is missing" in caught.value.message


def test_a_file_passes_from_one_writer_to_another_when_untouched(tmp_path: Path) -> None:
    _write(tmp_path, {"app/main.py": MAIN}, key="implement:backend-builder")
    report = _write(tmp_path, {"app/main.py": MAIN + "more\n"}, key="implement:backend-engineer")
    assert report.updated == ("backend/app/main.py",)
    assert recorded_files(project=tmp_path, key="implement:backend-builder") == {}
    assert list(recorded_files(project=tmp_path, key="implement:backend-engineer")) == ["backend/app/main.py"]


def test_other_writers_entries_are_kept(tmp_path: Path) -> None:
    write_files({"CLAUDE.md": "x\n"}, project=tmp_path, root="", key="init")
    _write(tmp_path, {"a.py": "a\n"})
    assert list(recorded_files(project=tmp_path, key="init")) == ["CLAUDE.md"]
    assert list(recorded_files(project=tmp_path, key=KEY)) == ["backend/a.py"]


# --- dry run and diff -----------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_everything(tmp_path: Path) -> None:
    _write(tmp_path, {"same.py": "s\n", "old.py": "o\n", "mine.py": MAIN, "clash.py": MAIN})
    (tmp_path / "backend/mine.py").write_text(MAIN.replace("a\n", "a mine\n"))
    (tmp_path / "backend/clash.py").write_text(MAIN.replace("a\n", "a mine\n"))
    before = _snapshot(tmp_path)
    report = _write(tmp_path, {"same.py": "s\n", "old.py": "o2\n", "mine.py": MAIN.replace("g\n", "g new\n"),
                               "clash.py": MAIN.replace("a\n", "a new\n"), "new.py": "n\n"}, dry_run=True)
    assert report.created == ("backend/new.py",)
    assert report.updated == ("backend/old.py",)
    assert report.unchanged == ("backend/same.py",)
    assert report.merged == ("backend/mine.py",)
    assert report.conflicts == ("backend/clash.py",)
    assert _snapshot(tmp_path) == before


def test_dry_run_in_a_fresh_project_creates_nothing(tmp_path: Path) -> None:
    report = _write(tmp_path, {"a.py": "a\n"}, dry_run=True, diff=True)
    assert report.created == ("backend/a.py",)
    assert "+++ b/backend/a.py" in report.diff
    assert list(tmp_path.iterdir()) == []


def test_diff_is_unified_with_project_relative_paths(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": "one\ntwo\n", "same.py": "s\n"})
    report = _write(tmp_path, {"a.py": "one\n2", "same.py": "s\n", "b.py": "b\n"}, diff=True)
    assert report.diff == (
        "--- a/backend/a.py\n+++ b/backend/a.py\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
        "\\ No newline at end of file\n"
        "--- /dev/null\n+++ b/backend/b.py\n@@ -0,0 +1 @@\n+b\n"
    )
    assert _write(tmp_path, {"a.py": "one\n2", "b.py": "b\n"}).diff == ""  # only when asked


def test_diff_of_a_merge_shows_the_merged_text(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": MAIN})
    (tmp_path / "backend/a.py").write_text(MAIN.replace("a\n", "a mine\n"))
    report = _write(tmp_path, {"a.py": MAIN.replace("g\n", "g new\n")}, dry_run=True, diff=True)
    assert "-g\n+g new\n" in report.diff
    assert "a mine" not in "".join(line for line in report.diff.splitlines() if line[:1] in "+-")


# --- paths that would leave the target ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.py", "app/../../x.py", "a//b.py", "./a.py",
                                  "a\\b.py", ""])
def test_unsafe_paths_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(RenderError):
        _write(tmp_path, {"ok.py": "ok\n", name: "x\n"})
    assert list(tmp_path.iterdir()) == []


def test_symlink_leading_out_of_the_root_is_refused(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    (project / "backend").mkdir(parents=True)
    outside.mkdir()
    (project / "backend/app").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RenderError, match="outside"):
        _write(project, {"app/main.py": MAIN})
    assert list(outside.iterdir()) == []


def test_root_outside_the_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "backend").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(RenderError):
        _write(project, {"a.py": "a\n"})
    with pytest.raises(RenderError):
        write_files({"a.py": "a\n"}, project=project, root="../elsewhere", key=KEY)


def test_skillrunner_state_is_never_a_target(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"\.skillrunner"):
        write_files({".skillrunner/manifest.json": "{}"}, project=tmp_path, root="", key="init")


def test_file_and_folder_clash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="both a file and a folder"):
        _write(tmp_path, {"app": "x\n", "app/main.py": MAIN})
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend/app").write_text("a file\n")
    with pytest.raises(RenderError, match="is a file"):
        _write(tmp_path, {"app/main.py": MAIN})


# --- all or nothing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fail_at", range(1, 10))  # 3 bases, 2 backups, 3 files, manifest
def test_a_failure_while_moving_leaves_the_project_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    _write(tmp_path, {"a.py": "a1\n", "b.py": "b1\n"})
    before = _snapshot(tmp_path)
    real = os.replace
    calls = 0

    def flaky(src: Any, dst: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == fail_at:
            raise PermissionError(13, "Permission denied", str(dst))
        real(src, dst)

    monkeypatch.setattr("skillrunner.write.os.replace", flaky)
    with pytest.raises(RenderError, match="nothing was changed"):
        _write(tmp_path, {"a.py": "a2\n", "b.py": "b2\n", "c/new.py": "c\n"})
    monkeypatch.setattr("skillrunner.write.os.replace", real)
    assert _snapshot(tmp_path) == before


def test_a_failure_on_the_first_write_leaves_no_state_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("skillrunner.write.os.replace", broken)
    with pytest.raises(RenderError):
        _write(tmp_path, {"a.py": "a\n"})
    assert list(tmp_path.iterdir()) == []


def test_text_that_cannot_be_encoded_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="not valid Unicode"):
        _write(tmp_path, {"a.py": "fine\n", "b.py": "lone \udc80 surrogate\n"})
    assert list(tmp_path.iterdir()) == []


# --- the manifest -------------------------------------------------------------------------------------


def test_manifest_is_deterministic_sorted_json(tmp_path: Path) -> None:
    files = {"z.py": "z\n", "a.py": "a\n", "m/n.py": "n\n"}
    _write(tmp_path / "one", files)
    _write(tmp_path / "two", dict(reversed(files.items())))
    one = (tmp_path / "one" / MANIFEST).read_text()
    assert one == (tmp_path / "two" / MANIFEST).read_text()
    data = json.loads(one)
    assert data["version"] == 1
    assert list(data["writers"][KEY]["files"]) == ["backend/a.py", "backend/m/n.py", "backend/z.py"]


def test_unused_bases_are_collected(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": "v1\n"})
    _write(tmp_path, {"a.py": "v2\n"})
    bases = [p.read_text() for p in (tmp_path / ".skillrunner/base").iterdir()]
    assert bases == ["v2\n"]


def test_broken_manifest_is_reported_where_it_breaks(tmp_path: Path) -> None:
    (tmp_path / ".skillrunner").mkdir()
    (tmp_path / MANIFEST).write_text('{\n  "version": 1,\n  "writers": {,}\n}\n')
    with pytest.raises(SkillrunnerError) as caught:
        _write(tmp_path, {"a.py": "a\n"})
    assert str(caught.value).startswith(".skillrunner/manifest.json:3:")
    assert caught.value.hint
    (tmp_path / MANIFEST).write_text('{"version": 7, "writers": {}}')
    with pytest.raises(SkillrunnerError, match="version"):
        _write(tmp_path, {"a.py": "a\n"})


# --- prune ---------------------------------------------------------------------------------------------


def test_prune_removes_untouched_files_no_longer_rendered(tmp_path: Path) -> None:
    _write(tmp_path, {"keep.py": "k\n", "gone.py": "g\n", "edited.py": "e\n"})
    (tmp_path / "backend/edited.py").write_text("mine\n")
    assert _write(tmp_path, {"keep.py": "k\n"}).removed == ()  # only when asked
    assert (tmp_path / "backend/gone.py").exists()
    report = _write(tmp_path, {"keep.py": "k\n"}, prune=True, diff=True)
    assert report.removed == ("backend/gone.py",)
    assert "+++ /dev/null" in report.diff
    assert not (tmp_path / "backend/gone.py").exists()
    assert (tmp_path / "backend/edited.py").read_text() == "mine\n"
    assert list(recorded_files(project=tmp_path, key=KEY)) == ["backend/keep.py"]


# --- merge3 ---------------------------------------------------------------------------------------------


def test_merge_of_adjacent_lines_is_clean() -> None:
    result = merge3("1\n2\n3\n", "1\nTWO\n3\n", "1\n2\nTHREE\n")
    assert result.clean
    assert result.text == "1\nTWO\nTHREE\n"


def test_merge_of_the_same_change_applies_it_once() -> None:
    assert merge3("1\n2\n", "1\nx\n", "1\nx\n").text == "1\nx\n"


def test_merge_conflict_is_marked() -> None:
    result = merge3("1\n2\n3\n", "1\nmine\n3\n", "1\ntheirs\n3\n")
    assert result.conflicts == 1
    assert result.text == ("1\n<<<<<<< yours\nmine\n||||||| generated before\n2\n=======\ntheirs\n"
                           ">>>>>>> contract\n3\n")
    preferred = merge3("1\n2\n3\n4\n", "1\nmine\n3\n4 mine\n", "1\ntheirs\n3\n4\n", prefer_theirs=True)
    assert preferred.conflicts == 1 and preferred.text == "1\ntheirs\n3\n4 mine\n"


def test_merge_of_two_insertions_at_one_point_conflicts() -> None:
    assert not merge3("1\n2\n", "1\nx\n2\n", "1\ny\n2\n").clean


def test_merge_without_final_newline() -> None:
    result = merge3("a\nb\nc", "A\nb\nc", "a\nb\nC")
    assert result.text == "A\nb\nC"


_BASE = st.lists(st.integers(0, 10_000), min_size=0, max_size=30, unique=True).map(
    lambda ns: [f"line {n}\n" for n in ns])


@settings(max_examples=200, deadline=None)
@given(base=_BASE, data=st.data())
def test_property_disjoint_edits_merge_into_both(base: list[str], data: st.DataObject) -> None:
    owner = data.draw(st.lists(st.sampled_from(["user", "render", "none"]), min_size=len(base),
                               max_size=len(base)))
    deleted = data.draw(st.lists(st.booleans(), min_size=len(base), max_size=len(base)))
    mine, theirs, expected = [], [], []
    for i, line in enumerate(base):
        edited = "" if deleted[i] else f"{owner[i]} edit {i}\n"
        mine.append(edited if owner[i] == "user" else line)
        theirs.append(edited if owner[i] == "render" else line)
        expected.append(edited if owner[i] != "none" else line)
    result = merge3("".join(base), "".join(mine), "".join(theirs))
    assert result.clean
    assert result.text == "".join(expected)


_TEXT = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "x", "d\r\n"]), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(base=_TEXT, other=_TEXT)
def test_property_one_sided_changes_win(base: str, other: str) -> None:
    assert merge3(base, base, other).text == other
    assert merge3(base, other, base).text == other
    assert merge3(base, other, other).text == other


# --- the implement command ------------------------------------------------------------------------------


@pytest.fixture
def fake_render(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``skillrunner.render.implement`` writing the files of the returned dict through write_files."""
    files = {"app/main.py": MAIN}
    calls: list[dict[str, Any]] = []

    def implement(*, project: Path, feature: str, skill: str = "backend-builder", force: bool = False,
                  dry_run: bool = False, diff: bool = False) -> WriteResult:
        calls.append({"feature": feature, "skill": skill})
        r = write_files(files, project=project, root="backend", key=f"implement:{skill}", force=force,
                        dry_run=dry_run, diff=diff, prune=True)
        return WriteResult(r.created, r.updated, r.unchanged, r.merged, r.conflicts, project / "backend",
                           "app.main:app", r.diff, removed=r.removed, kept=r.kept,
                           conflict_lines=r.conflict_lines, forced=r.forced, refused=r.refused)

    import skillrunner.render as real

    module = types.ModuleType("skillrunner.render")
    module.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
    module.implement = implement  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "skillrunner.render", module)
    return files


def test_implement_dry_run_lists_and_diffs_without_writing(cli: Any, project: Path,
                                                             fake_render: dict[str, str]) -> None:
    result = cli("implement", "task-crud", "--dry-run", "--diff")
    assert "would write backend/ (app app.main:app): 1 created" in result.output
    assert "created   backend/app/main.py" in result.output
    assert "+++ b/backend/app/main.py" in result.output
    assert list(project.iterdir()) == []


def test_implement_writes_records_and_then_merges(cli: Any, project: Path,
                                                  fake_render: dict[str, str]) -> None:
    first = cli("implement", "task-crud")
    assert "wrote backend/ (app app.main:app): 1 created" in first.output
    assert "recorded history/prompts/task-crud/" in first.output
    assert (project / "backend/app/main.py").read_text() == MAIN
    (project / "backend/app/main.py").write_text(MAIN.replace("a\n", "a mine\n"))
    fake_render["app/main.py"] = MAIN.replace("g\n", "g new\n")
    second = cli("implement", "task-crud", "--json")
    data = json.loads(second.output)
    assert data["ok"] is True
    assert data["merged"] == ["backend/app/main.py"]
    assert data["root"] == "backend"
    assert (project / "backend/app/main.py").read_text() == MAIN.replace("a\n", "a mine\n").replace(
        "g\n", "g new\n")


def test_implement_conflict_exits_1_and_names_the_files(cli: Any, project: Path,
                                                         fake_render: dict[str, str]) -> None:
    cli("implement", "task-crud")
    (project / "backend/app/main.py").write_text(MAIN.replace("a\n", "a mine\n"))
    fake_render["app/main.py"] = MAIN.replace("a\n", "a new\n")
    dry = cli("implement", "task-crud", "--dry-run", expect=1)
    assert "\nbackend/app/main.py:1: conflict: your edits and the contract's change overlap" in dry.output
    assert "would hold conflict markers" in dry.stderr
    assert "a mine\n" in (project / "backend/app/main.py").read_text() and "<<<<<<< yours" not in dry.stdout
    as_json = json.loads(cli("implement", "task-crud", "--json", "--dry-run", expect=1).stdout)
    assert as_json["ok"] is False and as_json["conflicts"] == ["backend/app/main.py"]
    assert as_json["conflict_lines"] == ["backend/app/main.py:1"]
    failed = cli("implement", "task-crud", expect=1)
    assert "\nbackend/app/main.py:1: conflict: " in failed.stdout and "--force" in failed.stderr
    marked = (project / "backend/app/main.py").read_text()
    assert marked.startswith(
        "<<<<<<< yours\na mine\n||||||| generated before\na\n=======\na new\n>>>>>>> contract\n")
    # not resolved yet: the next run changes nothing, and fails again naming the same line
    again = cli("implement", "task-crud", "--json", expect=1)
    data = json.loads(again.stdout)
    assert data["ok"] is False and data["conflict_lines"] == ["backend/app/main.py:1"]
    assert data["unchanged"] == [] and data["merged"] == []
    assert (project / "backend/app/main.py").read_text() == marked
    forced = cli("implement", "task-crud", "--force")  # the markers resolved to the contract's side
    assert "the contract's side where they overlapped" in forced.output
    assert (project / "backend/app/main.py").read_text() == MAIN.replace("a\n", "a new\n")


def test_implement_lists_deleted_and_kept_files_in_the_dry_run_the_summary_and_json(
        cli: Any, project: Path, fake_render: dict[str, str]) -> None:
    fake_render.update({"app/old.py": "old\n", "app/edited.py": "edited\n"})
    cli("implement", "task-crud")
    (project / "backend/app/edited.py").write_text("edited\nmine\n")
    del fake_render["app/old.py"], fake_render["app/edited.py"]
    dry = cli("implement", "task-crud", "--dry-run", "--diff")
    assert "1 deleted, 1 kept, 1 unchanged" in dry.stdout
    assert "  deleted   backend/app/old.py  (no longer generated, untouched)" in dry.stdout
    assert "  kept      backend/app/edited.py  (no longer generated, but edited by you: left in place)" \
        in dry.stdout
    assert "--- a/backend/app/old.py\n+++ /dev/null\n" in dry.stdout
    assert (project / "backend/app/old.py").is_file(), "a dry run deletes nothing"
    data = json.loads(cli("implement", "task-crud", "--json").stdout)
    assert data["removed"] == ["backend/app/old.py"] and data["kept"] == ["backend/app/edited.py"]
    assert not (project / "backend/app/old.py").exists()
    assert (project / "backend/app/edited.py").read_text() == "edited\nmine\n"
    assert sorted(recorded_files(project=project, key=KEY)) == ["backend/app/main.py"]


def test_implement_refuses_a_file_it_never_wrote_and_json_says_which(
        cli: Any, project: Path, fake_render: dict[str, str]) -> None:
    (project / "backend/app").mkdir(parents=True)
    (project / "backend/app/main.py").write_text("mine\n")
    failed = cli("implement", "task-crud", "--json", expect=1)
    data = json.loads(failed.stdout)
    assert data["ok"] is False and data["refused"] == ["backend/app/main.py"] and data["created"] == []
    assert "backend/app/main.py: exists and was not written by skillrunner" in failed.stderr
    assert "Traceback" not in failed.output
    assert (project / "backend/app/main.py").read_text() == "mine\n"
    forced = cli("implement", "task-crud", "--force")
    assert "updated   backend/app/main.py  (not written by skillrunner: replaced, --force)" in forced.stdout
    assert (project / "backend/app/main.py").read_text() == MAIN


def test_implement_refuses_dry_run_with_tests(cli: Any, project: Path, fake_render: dict[str, str]) -> None:
    result = cli("implement", "task-crud", "--dry-run", "--with-tests", expect=2)
    assert "--with-tests" in result.output


# --- another skill takes the backend over -----------------------------------------------------------------


def _backend_tree(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in (project / "backend").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def _example_project(root: Path) -> Path:
    from skillrunner.resources import packaged_dir

    (root / "specs" / "api").mkdir(parents=True)
    example = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
    (root / "specs" / "api" / "task-crud.md").write_bytes(example.read_bytes())
    return root


def test_another_skill_moves_the_backend_to_its_layout(tmp_path: Path) -> None:
    from skillrunner.render import implement

    project = _example_project(tmp_path / "switched")
    implement(project=project, feature="task-crud", skill="backend-builder")
    result = implement(project=project, feature="task-crud", skill="backend-engineer")
    assert result.switched_from == ("backend-builder",)
    fresh = _example_project(tmp_path / "fresh")
    implement(project=fresh, feature="task-crud", skill="backend-engineer")
    assert _backend_tree(project) == _backend_tree(fresh), "not one file of the old layout is left"
    assert "backend/app/routers/task.py" in result.removed
    assert recorded_files(project=project, key="implement:backend-builder") == {}
    # the migration history goes on: the first revision is the same file
    assert (project / "backend/alembic/versions/0001_initial.py").read_bytes() == (
        fresh / "backend/alembic/versions/0001_initial.py").read_bytes()


def test_a_switch_that_would_strand_your_edits_is_refused_then_forced(tmp_path: Path) -> None:
    from skillrunner.errors import RenderError
    from skillrunner.render import implement

    project = _example_project(tmp_path)
    implement(project=project, feature="task-crud", skill="backend-builder")
    edited = project / "backend/app/routers/task.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# my route notes\n", encoding="utf-8")
    before = _backend_tree(project)
    with pytest.raises(RenderError) as caught:
        implement(project=project, feature="task-crud", skill="backend-engineer")
    error = caught.value
    assert "rendered with backend-builder; backend-engineer renders another layout" in error.message
    assert "backend/app/routers/task.py" in error.message and "--force" in error.hint
    assert _backend_tree(project) == before, "a refused switch writes nothing"
    forced = implement(project=project, feature="task-crud", skill="backend-engineer", force=True)
    assert forced.kept == ("backend/app/routers/task.py",)
    assert "# my route notes" in edited.read_text(encoding="utf-8")
    assert "backend/app/routers/comment.py" in forced.removed


def test_implement_with_another_skill_previews_then_moves_the_backend(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _example_project(tmp_path)
    monkeypatch.chdir(project)
    cli("implement", "task-crud", "--skill", "backend-builder")
    before = _backend_tree(project)
    dry = cli("implement", "task-crud", "--skill", "backend-engineer", "--dry-run")
    assert "  would move the backend from backend-builder's layout: its files you did not edit would be " \
           "deleted" in dry.stdout
    assert "  deleted   backend/app/routers/task.py  (no longer generated, untouched)" in dry.stdout
    assert _backend_tree(project) == before
    data = json.loads(cli("implement", "task-crud", "--skill", "backend-engineer", "--json").stdout)
    assert data["ok"] is True and data["switched_from"] == ["backend-builder"]
    assert "backend/app/routers/task.py" in data["removed"] and data["kept"] == []
    assert not (project / "backend/app/routers/task.py").exists()


@pytest.mark.slow
def test_after_a_switch_the_generated_suite_passes(tmp_path: Path) -> None:
    import subprocess
    import sys

    from skillrunner.render import implement

    project = _example_project(tmp_path)
    implement(project=project, feature="task-crud", skill="backend-builder")
    implement(project=project, feature="task-crud", skill="backend-engineer")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "TEST_DATABASE_URL", "PYTHONPATH") and not k.startswith("PYTEST_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
                          cwd=project / "backend", env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
    assert "[100%]" in done.stdout, "the suite ran to its end"
