"""The built wheel carries the skill pack, the templates and the example, and runs outside the repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    (found,) = out.glob("skillrunner-*.whl")
    return found


def test_wheel_holds_skills_templates_and_example(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for skill in sorted(p.name for p in (REPO / "skills").iterdir() if (p / "SKILL.md").is_file()):
        assert f"skillrunner/_data/skills/{skill}/SKILL.md" in names
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "templates").rglob("*") if p.is_file()}
    for t in templates:
        assert f"skillrunner/_data/{t}" in names
    assert "skillrunner/_data/examples/specs/api/task-crud.md" in names
    for doc in ("contract-guide", "contract-format", "behaviour", "conventions"):
        assert f"skillrunner/_data/docs/{doc}.md" in names


def test_installed_wheel_takes_an_agent_from_no_contract_to_a_backend(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True, text=True)
    project = tmp_path / "empty-project"
    project.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PIP_NO_INDEX": "1"}

    def sr(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "skillrunner", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)

    stuck = sr("run", "/sp.backend-builder", "bookings", "--json")
    assert stuck.returncode == 1 and json.loads(stuck.stdout)["ok"] is False
    assert "skillrunner contract new bookings" in stuck.stderr and "docs/" not in stuck.stderr
    guide, full = sr("contract", "guide"), sr("contract", "guide", "--full")
    assert guide.returncode == 0 and full.returncode == 0
    assert "action(" in guide.stdout and len(full.stdout) > len(guide.stdout)
    assert sr("docs", "behaviour").returncode == 0
    made = sr("contract", "new", "bookings", "--title", "Room bookings")
    assert made.returncode == 0, made.stderr
    assert "wrote specs/api/bookings.md" in made.stdout
    again = sr("contract", "new", "bookings")
    assert again.returncode == 1 and "exists already" in again.stderr
    checked = sr("contract", "check", "specs/api/bookings.md", "--format", "json")
    assert checked.returncode == 0 and json.loads(checked.stdout) == []
    done = sr("run", "/sp.backend-builder", "bookings", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert (project / "backend" / "app" / "routers" / "booking.py").is_file()


def test_installed_wheel_runs_outside_the_repo_offline(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(site), str(wheel)],
        check=True, capture_output=True, text=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PIP_NO_INDEX": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import skillrunner; print(skillrunner.__file__)"],
        cwd=work, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(site)
    version = subprocess.run(
        [sys.executable, "-m", "skillrunner", "--version"],
        cwd=work, env=env, capture_output=True, text=True,
    )
    assert version.returncode == 0, version.stderr
    assert "skillrunner, version" in version.stdout
    probe = (
        "from skillrunner.resources import packaged_dir;"
        "print(packaged_dir('skills'));print(packaged_dir('templates'))"
    )
    dirs = subprocess.run(
        [sys.executable, "-c", probe], cwd=work, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()
    for d in dirs:
        assert Path(d).is_relative_to(site), d
        assert Path(d).is_dir()


def test_every_public_name_resolves_and_loads_lazily() -> None:
    code = ("import sys, skillrunner\n"
            "assert 'skillrunner.pipeline' not in sys.modules, 'import skillrunner loaded the pipeline'\n"
            "missing = [n for n in skillrunner.__all__ if getattr(skillrunner, n, None) is None]\n"
            "assert not missing, missing\n"
            "assert sorted(dir(skillrunner)) == sorted(skillrunner.__all__)\n")
    subprocess.run([sys.executable, "-c", code], check=True)
