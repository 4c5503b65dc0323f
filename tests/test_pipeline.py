"""run: the stages in order, PHRs per stage, --json, the example contract, reruns, failures, tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from skillrunner import pipeline
from skillrunner.cli import main
from skillrunner.errors import RenderError, SkillrunnerError, UsageError
from skillrunner.frontmatter import parse_document
from skillrunner.pipeline import complete_implement, parse_command, run, run_generated_tests
from skillrunner.tasks import parse_tasks


@dataclass
class _Written:
    root: Path
    app: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed clock for the records, so reruns compare byte for byte."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def _stages(project: Path) -> list[str]:
    records = sorted((project / "history/prompts").rglob("*.prompt.md"))
    out = []
    for path in records:
        doc = parse_document(path.read_bytes(), str(path))
        assert doc.data is not None
        out.append(str(doc.data["stage"]))
    return out


def test_parse_command() -> None:
    assert parse_command("/sp.plan") == ("plan", None)
    assert parse_command("sp.adr") == ("adr", None)
    assert parse_command("/sp.backend-engineer") == (None, "backend-engineer")
    assert parse_command("backend-builder") == (None, "backend-builder")
    with pytest.raises(UsageError):
        parse_command("/sp.")


def test_fresh_folder_runs_every_stage_from_the_example(tmp_path: Path, epoch: None) -> None:
    result = run(project=tmp_path, command="/sp.backend-engineer", feature="task-crud")
    assert result.ok, result.error
    assert [s.name for s in result.stages] == ["specify", "plan", "tasks", "implement"]
    assert result.notes and "copied the example contract" in result.notes[0]
    assert (tmp_path / "specs/api/task-crud.md").is_file()
    for name in ("spec.md", "plan.md", "tasks.md"):
        assert f"specs/task-crud/{name}" in result.changed
    assert "backend/app/routers/tasks.py" in result.changed
    assert _stages(tmp_path) == ["spec", "plan", "tasks", "green"]
    assert len(result.records) == 4 and all((tmp_path / r).is_file() for r in result.records)
    assert result.backend_root == (tmp_path / "backend").resolve().as_posix()
    assert result.backend_app == "app.main:app"
    tasks = parse_tasks((tmp_path / "specs/task-crud/tasks.md").read_text(encoding="utf-8"))
    assert tasks and all(t.done for t in tasks)
    data = result.to_dict()
    assert {"feature", "skill", "stages", "files", "backend", "records"} <= set(data)
    assert data["backend"] == {"root": result.backend_root, "app": "app.main:app"}
    json.dumps(data)


def test_rerun_changes_nothing_but_records_and_contract_change_is_reported(tmp_path: Path,
                                                                           epoch: None) -> None:
    run(project=tmp_path, command="backend-builder", feature="task-crud")
    snapshot = {p: p.read_bytes() for p in (tmp_path / "specs").rglob("*") if p.is_file()}
    again = run(project=tmp_path, command="backend-builder", feature="task-crud")
    assert again.ok and again.changed == []
    assert {p: p.read_bytes() for p in (tmp_path / "specs").rglob("*") if p.is_file()} == snapshot
    assert len(_stages(tmp_path)) == 8
    contract = tmp_path / "specs/api/task-crud.md"
    contract.write_text(contract.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.1.0")
                        .replace("| 200 Stats      | 401           |", "| 200 Stats      | 401, 422      |"),
                        encoding="utf-8")
    changed = run(project=tmp_path, command="backend-builder", feature="task-crud")
    assert changed.ok
    assert {"specs/task-crud/spec.md", "specs/task-crud/plan.md", "specs/task-crud/tasks.md"} <= set(
        changed.changed)
    assert "backend/app/routers/task.py" in changed.changed


def test_no_contract_says_what_to_write_and_writes_nothing(tmp_path: Path, epoch: None) -> None:
    with pytest.raises(SkillrunnerError) as err:
        run(project=tmp_path, command="/sp.backend-engineer", feature="billing")
    assert "specs/api/billing.md" in str(err.value)
    assert not (tmp_path / "specs").exists() and not (tmp_path / "history").exists()


def test_stops_at_the_first_failure(tmp_path: Path, epoch: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: Any) -> Any:
        raise RenderError("template backend/main.py.j2 is broken", hint="reinstall")

    monkeypatch.setattr(pipeline, "implement", broken)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "/sp.backend-builder", "task-crud", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(s["name"], s["ok"]) for s in data["stages"]] == [
        ("specify", True), ("plan", True), ("tasks", True), ("implement", False)]
    assert data["ok"] is False and "template backend/main.py.j2 is broken" in data["error"]
    assert "error: stage implement failed" in result.stderr


def test_single_stage_commands(tmp_path: Path, epoch: None) -> None:
    assert [s.name for s in run(project=tmp_path, command="/sp.specify", feature="task-crud").stages] == [
        "specify"]
    assert run(project=tmp_path, command="/sp.plan", feature="task-crud", skill="backend-skill").skill == \
        "backend-skill"
    tasks = run(project=tmp_path, command="/sp.tasks", feature="task-crud")
    assert tasks.skill == "backend-skill"  # from the plan
    tasks_md = (tmp_path / "specs/task-crud/tasks.md").read_text(encoding="utf-8")
    assert "backend/src/routers/tasks.py" in tasks_md
    implement = run(project=tmp_path, command="/sp.implement", feature="task-crud")
    assert implement.ok and implement.backend_app == "src.main:app"
    adr = run(project=tmp_path, command="/sp.adr", feature="task-crud")
    assert adr.ok and len(list((tmp_path / "history/adr").glob("*.md"))) == 6
    assert _stages(tmp_path) == ["spec", "plan", "tasks", "green", "plan"]


def test_phr_command_records_the_prompt_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "/sp.phr", "task-crud", "--prompt-file", "-", "--surface",
                                       "agent", "--model", "claude-x"],
                                input="Why do comments cascade?\nExplain.\n")
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "history/prompts/task-crud").glob("*.misc.prompt.md")
    text = path.read_text(encoding="utf-8")
    assert path.name == "0001-why-do-comments-cascade.misc.prompt.md"
    assert "```text\nWhy do comments cascade?\nExplain.\n```" in text
    assert 'surface: "agent"' in text and 'model: "claude-x"' in text
    assert not (tmp_path / "specs").exists()


def test_cli_run_text_output(tmp_path: Path, epoch: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "/sp.backend-engineer", "task-crud"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("note: specs/api/task-crud.md did not exist")
    assert re.search(r"^✓ specify +specs/task-crud/spec.md created: 5 user stories", out, re.M)
    assert "📋 Architectural decision detected:" in out
    assert re.search(r"^changed: \d+ file\(s\)$", out, re.M)
    assert f"backend: {(tmp_path / 'backend').resolve().as_posix()} (app app.main:app)" in out
    again = CliRunner().invoke(main, ["run", "/sp.backend-engineer", "task-crud"])
    assert "changed: 0 file(s) (everything was up to date)" in again.stdout


def _tiny_backend(root: Path, passing: bool) -> None:
    (root / "tests").mkdir(parents=True)
    (root / "tests/test_it.py").write_text(
        "import os\n\ndef test_secret():\n    assert len(os.environ['JWT_SECRET']) >= 32\n"
        f"\ndef test_outcome():\n    assert {passing}\n", encoding="utf-8")


@pytest.mark.parametrize(("passing", "stage"), [(True, "green"), (False, "red")])
def test_with_tests_records_green_or_red(tmp_path: Path, passing: bool, stage: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    root = tmp_path / "backend"
    _tiny_backend(root, passing)
    report = complete_implement(project=tmp_path, feature="demo", skill="backend-builder",
                                written=_Written(root, "app.main:app", created=["backend/tests/test_it.py"]),
                                with_tests=True)
    assert report.tests is not None and report.tests.passed is passing
    assert report.record.stage == stage
    text = (tmp_path / report.record.path).read_text(encoding="utf-8")
    assert ("1 passed" if not passing else "2 passed") in text
    assert not list(root.rglob("__pycache__"))


def test_run_generated_tests_reports_failures(tmp_path: Path) -> None:
    _tiny_backend(tmp_path, passing=False)
    result = run_generated_tests(root=tmp_path)
    assert not result.passed and result.returncode == 1
    assert "1 failed, 1 passed" in result.summary
    assert "assert False" in result.output


def test_json_error_before_any_stage_is_still_one_object(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "/sp.backend-builder", "billing", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and "specs/api/billing.md" in data["error"] and data["stages"] == []
    plain = CliRunner().invoke(main, ["run", "/sp.backend-builder", "billing"])
    assert plain.exit_code == 1 and "error: no contract for 'billing'" in plain.stderr
    assert "hint: skillrunner contract new billing" in plain.stderr
    assert CliRunner().invoke(main, ["run", "/sp.nope", "task-crud"]).exit_code == 1


def test_day_two_run_lists_merged_deleted_kept_and_conflicts_then_force_resolves(
        tmp_path: Path, epoch: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillrunner.verify import verify

    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["run", "backend-builder", "task-crud"]).exit_code == 0
    app = tmp_path / "backend/app"
    model, router, comments = app / "models/task.py", app / "routers/task.py", app / "routers/comment.py"
    title = 'description="Short title")'
    assert title in model.read_text(encoding="utf-8")
    model.write_text(model.read_text(encoding="utf-8").replace(title, 'description="My title")'),
                     encoding="utf-8")
    router.write_text(router.read_text(encoding="utf-8") + "# my note\n", encoding="utf-8")
    comments.write_text(comments.read_text(encoding="utf-8") + "# comment note\n", encoding="utf-8")
    contract = tmp_path / "specs/api/task-crud.md"
    text = contract.read_text(encoding="utf-8").replace("min_length=1, max_length=255 | Short title",
                                                        "min_length=1, max_length=300 | Short title")
    contract.write_text(text[:text.index("## Resource: Comment")], encoding="utf-8")

    result = CliRunner().invoke(main, ["run", "backend-builder", "task-crud", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    marker = model.read_text(encoding="utf-8").split("\n").index("<<<<<<< yours") + 1
    assert data["ok"] is False and "conflict(s) to resolve" in data["error"]
    assert data["merged"] == ["backend/app/routers/task.py"]
    assert {"backend/app/models/comment.py", "backend/app/schemas/comment.py",
            "backend/tests/test_comment.py"} == set(data["removed"])
    assert data["kept"] == ["backend/app/routers/comment.py"]
    assert data["conflicts"] == ["backend/app/models/task.py"]
    assert data["conflict_lines"] == [f"backend/app/models/task.py:{marker}"]
    assert "specs/task-crud/spec.md" in data["updated"] and "# my note" in router.read_text(encoding="utf-8")
    assert "# comment note" in comments.read_text(encoding="utf-8")
    assert not (tmp_path / "backend/app/models/comment.py").exists()
    implement = data["stages"][-1]
    assert implement["name"] == "implement" and implement["kept"] == data["kept"]
    assert any(created.startswith("backend/alembic/versions/0002_") for created in implement["created"])

    # unresolved: the next run fails again and names the same line; so does verify
    again = CliRunner().invoke(main, ["run", "backend-builder", "task-crud"])
    assert again.exit_code == 1
    assert f"\nbackend/app/models/task.py:{marker}: conflict: " in again.stdout
    assert "changed: 0 file(s)\n" in again.stdout
    findings = verify(project=tmp_path, feature="task-crud", openapi=False).findings
    conflicts = [(f.path, f.line) for f in findings if f.code == "code-conflict"]
    assert conflicts == [("backend/app/models/task.py", marker)]

    forced = CliRunner().invoke(main, ["run", "backend-builder", "task-crud", "--force"])
    assert forced.exit_code == 0, forced.output
    fixed = model.read_text(encoding="utf-8")
    assert "<<<<<<<" not in fixed and "max_length=300" in fixed
    assert "# my note" in router.read_text(encoding="utf-8"), "--force keeps edits that overlap nothing"
    assert not [f for f in verify(project=tmp_path, feature="task-crud", openapi=False).findings
                if f.code == "code-conflict"]


def test_run_text_lists_what_happened_to_each_file(tmp_path: Path, epoch: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(main, ["run", "backend-builder", "task-crud"])
    router = tmp_path / "backend/app/routers/comment.py"
    router.write_text(router.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    contract = tmp_path / "specs/api/task-crud.md"
    text = contract.read_text(encoding="utf-8")
    contract.write_text(text[:text.index("## Resource: Comment")], encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "backend-builder", "task-crud"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"^✓ implement backend/: \d+ created, \d+ updated, 0 merged, 3 deleted, 1 kept, ", out,
                     re.M)
    assert "  updated   specs/task-crud/spec.md\n" in out
    assert "  deleted   backend/app/models/comment.py  (no longer generated, untouched)\n" in out
    assert ("  kept      backend/app/routers/comment.py  (no longer generated, but edited by you: left in "
            "place)\n") in out
    assert "DATA LOSS comments" in out


# --- the person's words after the feature -----------------------------------------------------------


def _records(project: Path) -> list[Path]:
    return sorted((project / "history/prompts").rglob("*.prompt.md"))


@pytest.mark.parametrize("words", [["add", "rate", "limits", "to", "tasks"], ["add rate limits to tasks"],
                                   ['it\'s "quoted", $HOME & {{x}}', "and", "more"]])
def test_run_records_the_words_after_the_feature_in_its_one_phr(tmp_path: Path, words: list[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["run", "/sp.plan", "task-crud", *words, "--json", "--surface", "agent"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (record,) = _records(tmp_path)  # one exchange, one record
    assert data["records"] == [record.relative_to(tmp_path).as_posix()]
    text = record.read_text(encoding="utf-8")
    assert f"```text\n{' '.join(words)}\n```" in text
    assert 'surface: "agent"' in text
    # The same words as --prompt-text: the record's prompt is the same.
    again = CliRunner().invoke(main, ["run", "/sp.plan", "task-crud", "--prompt-text", " ".join(words)])
    assert again.exit_code == 0, again.output
    assert len(_records(tmp_path)) == 2
    assert f"```text\n{' '.join(words)}\n```" in _records(tmp_path)[1].read_text(encoding="utf-8")


def test_a_whole_run_records_the_words_once_per_stage(tmp_path: Path, epoch: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "/sp.backend-builder", "task-crud", "yes,", "go", "on"])
    assert result.exit_code == 0, result.output
    records = _records(tmp_path)
    assert len(records) == 4 and _stages(tmp_path) == ["spec", "plan", "tasks", "green"]
    assert all("```text\nyes, go on\n```" in r.read_text(encoding="utf-8") for r in records)
    # The request is recorded, not read: the spec's Input stays the contract's (only /sp.specify's words say
    # what the feature is).
    assert "**Input**: yes, go on" not in (tmp_path / "specs/task-crud/spec.md").read_text(encoding="utf-8")


def test_specify_words_say_what_the_feature_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "/sp.specify", "notes", "Notes", "with", "tags", "--json"])
    assert result.exit_code == 0, result.output
    assert "**Input**: Notes with tags\n" in (tmp_path / "specs/notes/spec.md").read_text(encoding="utf-8")
    (record,) = _records(tmp_path)
    assert "```text\nNotes with tags\n```" in record.read_text(encoding="utf-8")
    described = CliRunner().invoke(main, ["run", "/sp.specify", "notes", "the", "ask", "--description",
                                          "Short notes", "--force"])
    assert described.exit_code == 0, described.output
    assert "**Input**: Short notes\n" in (tmp_path / "specs/notes/spec.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("other", [["--prompt-text", "the same ask"], ["--prompt-file", "-"]])
def test_words_and_a_prompt_option_is_a_usage_error(tmp_path: Path, other: list[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["run", "/sp.plan", "task-crud", "add", "rate", "limits", *other]
    result = CliRunner().invoke(main, [*args, "--json"], input="from stdin\n")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["error"]["kind"] == "usage" and data["error"]["exit_code"] == 2
    assert "not both" in data["error"]["message"]
    plain = CliRunner().invoke(main, args, input="from stdin\n")
    assert plain.exit_code == 2 and "not both" in plain.stderr and plain.stdout == ""
    assert not (tmp_path / "history").exists() and not (tmp_path / "specs").exists()


def test_run_help_teaches_the_words() -> None:
    out = CliRunner().invoke(main, ["run", "--help"]).output
    assert "SKILL FEATURE [WORDS]..." in out
    flat = " ".join(out.split())
    assert "WORDS after the feature are the person's request" in flat
    assert "run /sp.plan bookings add rate limits to bookings --skill backend-engineer --json" in flat
    assert "--prompt-file -" in flat and "only through the contract" in flat
