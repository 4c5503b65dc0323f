"""tasks: tasks.md phases, [P] and story labels, the checker, and ticking after files exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from skillrunner.artifacts import is_sealed
from skillrunner.cli import main
from skillrunner.contract import Contract, parse_contract
from skillrunner.conventions import load_conventions
from skillrunner.plan import file_map, plan
from skillrunner.resources import packaged_dir
from skillrunner.tasks import TASK_LINE, check_tasks, parse_tasks, plan_tasks, tasks, tick_tasks

NOTES = """\
---
feature: notes
title: Notes API
version: 1.0.0
auth: jwt
---

# Notes API

Users keep notes in notebooks.

## Resource: Notebook

- table: notebooks
- id: int
- owner: user
- timestamps: yes

| Field | Type             | Required | Default | Constraints                  | Description |
|-------|------------------|----------|---------|------------------------------|-------------|
| name  | string           | yes      |         | min_length=1, max_length=100 | Its name    |
| kind  | enum(work, home) | no       | work    | index                        | Its kind    |
| note  | text             | no       |         |                              | A remark    |

### Endpoints

| Method | Path                 | Operation                      | Success            | Errors        |
|--------|----------------------|--------------------------------|--------------------|---------------|
| POST   | /api/notebooks       | create                         | 201 Notebook       | 401, 422      |
| GET    | /api/notebooks       | list(filter: kind; sort: name) | 200 Page[Notebook] | 401, 422      |
| GET    | /api/notebooks/stats | stats(kind)                    | 200 Stats          | 401           |
| GET    | /api/notebooks/{id}  | get                            | 200 Notebook       | 401, 404      |
| PATCH  | /api/notebooks/{id}  | update                         | 200 Notebook       | 401, 404, 422 |
| DELETE | /api/notebooks/{id}  | delete                         | 204                | 401, 404      |

## Resource: Note

- table: notes
- id: int
- owner: user
- parent: Notebook (on delete: cascade)
- timestamps: yes

| Field | Type | Required | Default | Constraints                   | Description |
|-------|------|----------|---------|-------------------------------|-------------|
| body  | text | yes      |         | min_length=1, max_length=5000 | The text    |

### Endpoints

| Method | Path                               | Operation | Success        | Errors        |
|--------|------------------------------------|-----------|----------------|---------------|
| POST   | /api/notebooks/{notebook_id}/notes | create    | 201 Note       | 401, 404, 422 |
| GET    | /api/notebooks/{notebook_id}/notes | list      | 200 Page[Note] | 401, 404, 422 |
"""


def _project(tmp_path: Path, text: str = NOTES, feature: str = "notes") -> Path:
    api = tmp_path / "specs" / "api"
    api.mkdir(parents=True, exist_ok=True)
    (api / f"{feature}.md").write_text(text, encoding="utf-8")
    return tmp_path


def _contract() -> Contract:
    contract, findings = parse_contract(NOTES, "specs/api/notes.md")
    assert contract is not None, findings
    return contract


def test_generated_tasks_follow_the_format_and_phases(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = tasks(project=project, feature="notes")
    text = (project / "specs/notes/tasks.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("- [")]
    assert len(lines) == result.count > 20
    assert all(TASK_LINE.match(line) for line in lines)
    assert re.findall(r"^## Phase \d+: (\w+)", text, re.M) == ["Setup", "Foundational", "Notebook", "Note",
                                                               "Polish"]
    assert "## Phase 3: Notebook (US1, US" in text
    ids = [TASK_LINE.match(line)["id"] for line in lines]  # type: ignore[index]
    assert ids == [f"T{i:03d}" for i in range(1, len(ids) + 1)]
    assert check_tasks(text, path="specs/notes/tasks.md", contract=_contract()) == []
    assert is_sealed(text) and not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_parallel_marks_only_independent_tasks_on_distinct_files() -> None:
    contract = _contract()
    conv = load_conventions(packaged_dir("skills") / "backend-builder")
    phases = plan_tasks(contract, file_map(contract, conv))
    for phase in phases:
        paths = [t.path for t in phase.tasks]
        for t in phase.tasks:
            if t.parallel:
                assert paths.count(t.path) == 1, (phase.title, t)
    by_path = {t.path: t for p in phases for t in p.tasks}
    assert by_path["backend/app/config.py"].parallel
    assert not by_path["backend/app/database.py"].parallel  # waits on config in its phase
    assert by_path["backend/app/models/notebook.py"].parallel
    assert not by_path["backend/app/schemas/notebook.py"].parallel  # waits on the model
    router = [t for p in phases for t in p.tasks if t.path == "backend/app/routers/notebook.py"]
    assert len(router) == 6 and not any(t.parallel for t in router)
    assert {t.story for t in router} >= {"US1"}
    stats = next(t for t in router if "`GET /api/notebooks/stats`" in t.description)
    assert stats.story not in (None, "US1")


def test_check_reports_each_problem_with_its_position() -> None:
    text = "\n".join([
        "## Phase 1: Setup",
        "- [ ] T001 [P] Do a — backend/a.py",
        "- [ ] T002 [P] Do b — backend/a.py",
        "- [ ] T001 Do c — backend/c.py",
        "- [ ] T004 missing the path",
        "* [x] T005 star bullet — x.py",
        "## Phase 2: Next",
        "- [ ] T006 [P] Same file, other phase — backend/a.py",
        "- [ ] T007 [US1] Serve `GET /api/notebooks`: list — backend/r.py",
        "",
    ])
    findings = check_tasks(text, path="specs/notes/tasks.md", contract=_contract())
    got = {(f.path, f.line, f.col, f.code) for f in findings}
    assert ("specs/notes/tasks.md", 3, 12, "task-parallel") in got
    assert ("specs/notes/tasks.md", 4, 7, "task-id") in got
    assert ("specs/notes/tasks.md", 5, 1, "task-format") in got
    assert ("specs/notes/tasks.md", 6, 1, "task-format") in got
    assert not any(line == 8 for _, line, _, _ in got)  # [P] on the same file in another phase is fine
    uncovered = [f for f in findings if f.code == "task-coverage"]
    assert len(uncovered) == 7 and all(f.path == "specs/api/notes.md" and f.line > 1 for f in uncovered)
    assert all(f.severity == "error" for f in findings)


def test_cli_tasks_check_exits_1_with_file_line_col(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    runner = CliRunner()
    assert runner.invoke(main, ["tasks", "notes"]).exit_code == 0
    ok = runner.invoke(main, ["tasks", "check", "notes"])
    assert ok.exit_code == 0, ok.output
    path = project / "specs/notes/tasks.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("- [ ] T003 ", "- [ ] T002 ", 1), encoding="utf-8")
    bad = runner.invoke(main, ["tasks", "check", "notes"])
    assert bad.exit_code == 1
    line = next(i for i, s in enumerate(text.splitlines(), 1) if " T003 " in s)
    assert f"specs/notes/tasks.md:{line}:7: error: task id T002 is used twice" in bad.output
    github = runner.invoke(main, ["tasks", "check", "notes", "--format", "github"])
    assert github.exit_code == 1 and github.output.startswith("::error file=specs/notes/tasks.md,line=")
    assert runner.invoke(main, ["tasks", "a", "b", "c"]).exit_code == 2


def test_ticks_only_after_files_exist_and_survive_regeneration(tmp_path: Path) -> None:
    project = _project(tmp_path)
    tasks(project=project, feature="notes")
    assert tick_tasks(project=project, feature="notes") == []
    (project / "backend/app").mkdir(parents=True)
    (project / "backend/app/config.py").write_text("", encoding="utf-8")
    (project / "backend/requirements.txt").write_text("", encoding="utf-8")
    ticked = tick_tasks(project=project, feature="notes")
    text = (project / "specs/notes/tasks.md").read_text(encoding="utf-8")
    done = [t for t in parse_tasks(text) if t.done]
    assert sorted(t.path for t in done) == ["backend/app/config.py", "backend/requirements.txt"]
    assert ticked == [t.id for t in done]
    assert is_sealed(text)  # ticks are progress, not hand edits
    again = tasks(project=project, feature="notes")
    assert again.artifact.status == "unchanged"
    # a contract change regenerates the file and keeps the ticks of unchanged tasks
    _project(tmp_path, NOTES.replace("| GET    | /api/notebooks/stats | stats(kind)                    "
                                     "| 200 Stats          | 401           |\n", ""))
    changed = tasks(project=project, feature="notes")
    assert changed.artifact.status == "updated" and "/stats" not in changed.text
    assert sorted(t.path for t in parse_tasks(changed.text) if t.done) == [
        "backend/app/config.py", "backend/requirements.txt"]


def test_tasks_follow_the_plans_skill(tmp_path: Path) -> None:
    project = _project(tmp_path)
    plan(project=project, feature="notes", skill="backend-skill")
    result = tasks(project=project, feature="notes")
    assert result.skill == "backend-skill"
    assert "backend/src/routers/notebooks.py" in result.text
    assert "backend/src/services/notebook_service.py" in result.text
