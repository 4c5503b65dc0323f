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
