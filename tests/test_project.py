"""The project root found from a subfolder, and the lock that makes runs on one project take turns."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Cli
from skillrunner.project import LOCK, LockedError, find_project, project_lock
from skillrunner.resources import packaged_dir

EXAMPLE = packaged_dir("examples") / "specs" / "api" / "task-crud.md"


def test_the_project_is_the_nearest_folder_with_specs_skillrunner_or_git(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    deep = tmp_path / "backend" / "app" / "models"
    deep.mkdir(parents=True)
    assert find_project(deep) == tmp_path.resolve()
    inner = tmp_path / "backend" / ".git"
    inner.mkdir()
    assert find_project(deep) == (tmp_path / "backend").resolve(), "the nearest marker wins"
    lone = tmp_path.parent / f"{tmp_path.name}-lone" / "x"
    lone.mkdir(parents=True)
    assert find_project(lone) == lone.resolve(), "no marker above: the folder itself"


def test_a_command_from_a_subfolder_works_on_the_project(project: Path, cli: Cli,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "specs" / "api").mkdir(parents=True)
    (project / "specs" / "api" / "task-crud.md").write_bytes(EXAMPLE.read_bytes())
    cli("implement", "task-crud")
    monkeypatch.chdir(project / "backend" / "app")
    cli("specify", "notes", "--description", "Notes a user keeps")
    assert (project / "specs" / "notes" / "spec.md").is_file()
    assert not (project / "backend" / "app" / "specs").exists(), "no second specs/ inside the backend"
    again = cli("implement", "task-crud")
    assert "0 created, 0 updated" in again.output and "backend/" in again.output


_HOLD = r"""
import sys, time
from pathlib import Path
from skillrunner.project import project_lock
with project_lock(Path(sys.argv[1]), command="skillrunner run /sp.backend-builder task-crud"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(project: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(project), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_run_waits_then_names_who_holds_the_lock(tmp_path: Path) -> None:
    (tmp_path / "specs" / "api").mkdir(parents=True)
    (tmp_path / "specs" / "api" / "task-crud.md").write_bytes(EXAMPLE.read_bytes())
    holder = _holder(tmp_path, 30)
    try:
        env = {**os.environ, "SKILLRUNNER_LOCK_TIMEOUT": "0.3"}
        done = subprocess.run([sys.executable, "-m", "skillrunner", "implement", "task-crud"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 1, done.stderr
        assert f"{LOCK}: error: another skillrunner run is writing this project: pid {holder.pid} " \
               "(skillrunner run /sp.backend-builder task-crud) since " in done.stderr
        assert "Traceback" not in done.stderr
        assert not (tmp_path / "backend").exists(), "the refused run wrote nothing"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # A run that died released the lock with it.
    done = subprocess.run([sys.executable, "-m", "skillrunner", "implement", "task-crud"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "backend" / "app" / "main.py").is_file()


def test_the_second_run_goes_on_when_the_first_ends_within_the_wait(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 0.5)
    try:
        started = time.monotonic()
        with project_lock(tmp_path, command="second", timeout=30):
            waited = time.monotonic() - started
            assert "second" in (tmp_path / LOCK).read_text(encoding="utf-8")
        assert waited > 0.2, "the second run waited for the first"
    finally:
        holder.wait()


def test_one_process_cannot_take_the_lock_twice_at_once(tmp_path: Path) -> None:
    with project_lock(tmp_path, command="first", timeout=0), pytest.raises(LockedError) as caught, \
            project_lock(tmp_path, command="second", timeout=0):
        pass
    assert "(first)" in caught.value.message and caught.value.path == LOCK
    assert (tmp_path / ".skillrunner/.gitignore").read_text(encoding="utf-8") == "lock\n"


def _tree(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("args", [
    ["implement", "task-crud"], ["run", "/sp.backend-builder", "task-crud"], ["specify", "task-crud"],
    ["plan", "task-crud"], ["tasks", "task-crud"], ["phr", "new", "--stage", "general", "--title", "Ask"],
    ["adr", "new", "Use SQLite"], ["adr", "supersede", "1", "--by", "2"], ["init", "--agent", "claude"],
])
def test_every_command_that_writes_takes_the_lock(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                                  args: list[str]) -> None:
    (project / "specs" / "api").mkdir(parents=True)
    (project / "specs" / "api" / "task-crud.md").write_bytes(EXAMPLE.read_bytes())
    holder = _holder(project, 30)
    try:
        before = _tree(project)
        monkeypatch.setenv("SKILLRUNNER_LOCK_TIMEOUT", "0")
        result = cli(*args, expect=1)
        assert f"another skillrunner run is writing this project: pid {holder.pid}" in result.stderr
        assert "Traceback" not in result.output
        assert _tree(project) == before, "a run that waited for the lock in vain wrote nothing"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def test_commands_that_only_read_do_not_wait_for_the_lock(project: Path, cli: Cli,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "specs" / "api").mkdir(parents=True)
    (project / "specs" / "api" / "task-crud.md").write_bytes(EXAMPLE.read_bytes())
    holder = _holder(project, 30)
    try:
        monkeypatch.setenv("SKILLRUNNER_LOCK_TIMEOUT", "0")
        cli("contract", "check")
        cli("implement", "task-crud", "--dry-run")
        cli("adr", "list")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_lock_timeout_is_a_usage_error(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                             value: str) -> None:
    monkeypatch.setenv("SKILLRUNNER_LOCK_TIMEOUT", value)
    result = cli("adr", "new", "Use SQLite", expect=2)
    assert f"error: SKILLRUNNER_LOCK_TIMEOUT='{value}' is not a number of seconds" in result.stderr
    assert "SKILLRUNNER_LOCK_TIMEOUT=30" in result.stderr
    assert not (project / "history").exists()


def test_two_real_runs_at_once_take_turns(tmp_path: Path) -> None:
    (tmp_path / "specs" / "api").mkdir(parents=True)
    (tmp_path / "specs" / "api" / "task-crud.md").write_bytes(EXAMPLE.read_bytes())
    env = {**os.environ, "SKILLRUNNER_LOCK_TIMEOUT": "120"}
    argv = [sys.executable, "-m", "skillrunner", "run", "/sp.backend-builder", "task-crud"]
    runs = [subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [err for _, err in outputs]
    records = sorted(p.name for p in (tmp_path / "history/prompts/task-crud").glob("*.md"))
    assert [name[:4] for name in records] == [f"{n:04d}" for n in range(1, 9)], "no record number taken twice"
    assert any("changed: 0 file(s)" in out for out, _ in outputs), "the second ran after the first"


def test_from_a_subfolder_the_command_says_where_the_project_is(project: Path, cli: Cli,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "specs" / "api").mkdir(parents=True)
    (project / "specs" / "api" / "task-crud.md").write_bytes(EXAMPLE.read_bytes())
    deep = project / "backend" / "app"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = cli("contract", "check")
    assert "note: working on the project in ../.. (the nearest folder above holding specs/" in result.stderr
    assert "checked 1 contract(s): OK" in result.stderr
    adr = cli("adr", "new", "Use SQLite")
    assert adr.stdout == "history/adr/0001-use-sqlite.md\n"
    assert (project / "history/adr/0001-use-sqlite.md").is_file() and not (deep / "history").exists()
    monkeypatch.chdir(project)
    assert "note:" not in cli("contract", "check").stderr, "from the project itself: nothing to say"
