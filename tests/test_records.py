"""Prompt History Records and ADRs: layout, frontmatter, verbatim prompts, unique ids under concurrency."""

from __future__ import annotations

import multiprocessing
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from skillrunner.cli import main
from skillrunner.errors import SkillrunnerError, UsageError
from skillrunner.frontmatter import parse_document
from skillrunner.records import (
    STAGES,
    GitInfo,
    find_adr,
    git_info,
    list_adrs,
    record_date,
    slugify,
    supersede_adr,
    write_adr,
    write_phr,
)

GIT = GitInfo(branch="feature-x", user="Ada Lovelace")
FRONTMATTER_KEYS = ["id", "title", "stage", "date", "surface", "model", "feature", "branch", "user",
                    "command", "labels", "links", "files", "tests"]


def _frontmatter(path: Path) -> dict[str, object]:
    doc = parse_document(path.read_bytes(), str(path))
    assert doc.data is not None, doc.findings
    return doc.data


def test_phr_has_every_key_and_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    rec = write_phr(project=tmp_path, stage="plan", title="Plan the API", feature="task-crud",
                    prompt="Plan it", command="skillrunner plan task-crud", files=["specs/task-crud/plan.md"],
                    links={"adr": "history/adr/0001-x.md"}, git=GIT, response="did it")
    assert rec.path == "history/prompts/task-crud/0001-plan-the-api.plan.prompt.md"
    path = tmp_path / rec.path
    data = _frontmatter(path)
    assert list(data) == FRONTMATTER_KEYS
    assert data["id"] == 1 and data["stage"] == "plan" and data["feature"] == "task-crud"
    assert str(data["date"]) == "2023-11-14"
    assert data["branch"] == "feature-x" and data["user"] == "Ada Lovelace"
    assert data["links"] == {"spec": None, "ticket": None, "adr": "history/adr/0001-x.md", "pr": None}
    assert data["files"] == ["specs/task-crud/plan.md"] and data["tests"] == ["none"]
    text = path.read_text(encoding="utf-8")
    assert [h for h in re.findall(r"^## (.+)$", text, re.M)] == [
        "Prompt", "Response snapshot", "Outcome", "Evaluation"]
    assert "{{" not in text and "TODO" not in text


def test_prompt_is_kept_verbatim_even_with_fences_and_headings(tmp_path: Path) -> None:
    prompt = "Make it\n\n```python\nprint('x')\n```\n## Response snapshot\n  trailing spaces  "
    rec = write_phr(project=tmp_path, stage="misc", title="T", feature="f", prompt=prompt, git=GIT)
    text = (tmp_path / rec.path).read_text(encoding="utf-8")
    fenced = re.search(r"^## Prompt\n\n(`{4,})text\n(.*?)\n\1\n", text, re.S | re.M)
    assert fenced is not None
    assert fenced.group(2) == prompt
    # the prompt's own heading did not become a section
    assert text.count("\n## Response snapshot\n") == 2  # the prompt's line, then the real section


def test_without_prompt_the_command_is_recorded(tmp_path: Path) -> None:
    rec = write_phr(project=tmp_path, stage="spec", title="S", feature="f", command="skillrunner specify f",
                    git=GIT)
    assert "```text\nskillrunner specify f\n```" in (tmp_path / rec.path).read_text(encoding="utf-8")


@pytest.mark.parametrize(("stage", "folder"), [("constitution", "constitution"), ("general", "general")])
def test_constitution_and_general_have_their_own_folders(tmp_path: Path, stage: str, folder: str) -> None:
    rec = write_phr(project=tmp_path, stage=stage, title="Principles", git=GIT)
    assert rec.path.startswith(f"history/prompts/{folder}/0001-principles.{stage}.prompt.md")
    assert _frontmatter(tmp_path / rec.path)["feature"] == "none"


def test_feature_stages_need_a_feature_and_stages_are_checked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="belongs to a feature"):
        write_phr(project=tmp_path, stage="red", title="x", git=GIT)
    with pytest.raises(UsageError, match="unknown PHR stage"):
        write_phr(project=tmp_path, stage="implement", title="x", feature="f", git=GIT)
    with pytest.raises(UsageError, match="not a usable slug"):
        write_phr(project=tmp_path, stage="red", title="x", feature="../etc", git=GIT)
    assert set(STAGES) == {"constitution", "spec", "plan", "tasks", "red", "green", "refactor", "explainer",
                           "misc", "general"}


def test_ids_are_global_across_folders(tmp_path: Path) -> None:
    a = write_phr(project=tmp_path, stage="spec", title="a", feature="one", git=GIT)
    b = write_phr(project=tmp_path, stage="general", title="b", git=GIT)
    c = write_phr(project=tmp_path, stage="spec", title="c", feature="two", git=GIT)
    assert (a.id, b.id, c.id) == (1, 2, 3)


def test_ids_continue_after_records_written_by_other_tools(tmp_path: Path) -> None:
    folder = tmp_path / "history/prompts/old"
    folder.mkdir(parents=True)
    (folder / "0041-by-hand.misc.prompt.md").write_text("---\nid: 41\n---\n", encoding="utf-8")
    assert write_phr(project=tmp_path, stage="misc", title="next", feature="new", git=GIT).id == 42


def _write_many(args: tuple[str, int]) -> list[int]:
    project, worker = args
    return [write_phr(project=Path(project), stage="misc", title=f"w{worker} n{i}", feature="race",
                      git=GIT).id for i in range(5)]


def test_eight_processes_writing_at_once_get_unique_ids(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        results = pool.map(_write_many, [(str(tmp_path), w) for w in range(8)])
    ids = [i for chunk in results for i in chunk]
    assert sorted(ids) == list(range(1, 41))
    files = list((tmp_path / "history/prompts/race").glob("*.prompt.md"))
    assert len(files) == 40
    assert len({p.name[:4] for p in files}) == 40


def test_eight_cli_processes_at_once(tmp_path: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "skillrunner", "phr", "new", "--stage", "general",
                               "--title", f"p{i}"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
             for i in range(8)]
    outs = [p.communicate()[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(int(Path(o).name[:4]) for o in outs) == list(range(1, 9))


def test_record_date_honours_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert record_date() == "1970-01-02"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        record_date()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert record_date(datetime(2024, 2, 29, 23, 59, tzinfo=UTC)) == "2024-02-29"


def test_slugify() -> None:
    assert slugify("Use JWT bearer auth!") == "use-jwt-bearer-auth"
    assert slugify("Ünïcode — only") == "n-code-only"
    assert slugify("!!!") == "record"
    assert len(slugify("word " * 40)) <= 60


def test_git_info_outside_a_repository_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("USER", "osuser")
    monkeypatch.setenv("LOGNAME", "osuser")
    info = git_info(tmp_path)
    assert info.branch == "none"
    assert info.user == "osuser"


def test_git_info_in_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    subprocess.run(["git", "init", "-q", "-b", "feat/phr"], cwd=tmp_path, check=True)
    subprocess.run(["git", "config", "user.name", "Grace Hopper"], cwd=tmp_path, check=True)
    assert git_info(tmp_path) == GitInfo("feat/phr", "Grace Hopper")


def test_adr_new_list_find_and_supersede(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = write_adr(project=tmp_path, title="Offset pagination", feature="task-crud", status="accepted",
                  context="Lists grow.", decision="page and page_size", alternatives="- cursors: no total",
                  references=["specs/task-crud/plan.md"])
    b = write_adr(project=tmp_path, title="Cursor pagination", feature="task-crud")
    assert a.path == "history/adr/0001-offset-pagination.md" and a.status == "Accepted"
    text = (tmp_path / a.path).read_text(encoding="utf-8")
    assert text.startswith("# ADR-0001: Offset pagination\n\n- **Status:** Accepted\n- **Date:** 2023-11-14\n"
                           "- **Feature:** task-crud\n")
    for section in ("Context", "Decision", "Consequences", "Alternatives", "References"):
        assert f"\n## {section}\n" in text
    assert "[NEEDS CLARIFICATION" in (tmp_path / b.path).read_text(encoding="utf-8")
    assert [r.id for r in list_adrs(project=tmp_path)] == [1, 2]
    assert find_adr(project=tmp_path, title="offset  PAGINATION", feature="task-crud") == a
    old, new = supersede_adr(project=tmp_path, old=1, new=2)
    assert old.state == "Superseded" and "ADR-0002" in old.status
    new_text = (tmp_path / new.path).read_text(encoding="utf-8")
    assert "- Supersedes [ADR-0001](0001-offset-pagination.md)" in new_text
    assert "- none" not in new_text.split("## References")[1]
    assert find_adr(project=tmp_path, title="Offset pagination") is None
    supersede_adr(project=tmp_path, old=1, new=2)  # twice: the reference is not repeated
    assert (tmp_path / new.path).read_text(encoding="utf-8").count("Supersedes") == 1


def test_adr_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown ADR status"):
        write_adr(project=tmp_path, title="x", status="Maybe")
    with pytest.raises(SkillrunnerError, match="no ADR 0007"):
        supersede_adr(project=tmp_path, old=7, new=8)
    with pytest.raises(UsageError, match="itself"):
        supersede_adr(project=tmp_path, old=1, new=1)


def test_cli_phr_new_reads_the_prompt_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["phr", "new", "--stage", "explainer", "--title", "Why pages",
                                       "--feature", "task-crud", "--prompt-file", "-", "--link",
                                       "ticket=https://example.org/T-1", "--file", "a.py"],
                                input="Explain offset pages\nplease\n")
    assert result.exit_code == 0, result.output
    path = tmp_path / result.output.strip()
    assert path.name == "0001-why-pages.explainer.prompt.md"
    assert "```text\nExplain offset pages\nplease\n```" in path.read_text(encoding="utf-8")
    data = _frontmatter(path)
    assert data["links"]["ticket"] == "https://example.org/T-1"  # type: ignore[index]
    assert data["command"].startswith("skillrunner")  # type: ignore[union-attr]


def test_recorded_command_can_be_pasted_back_into_a_shell(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["phr", "new", "--stage", "general", "--title", "Two words", "--prompt-text", "it's `here`"]
    monkeypatch.setattr(sys, "argv", ["skillrunner", *args])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    command = str(_frontmatter(tmp_path / result.output.strip())["command"])
    assert shlex.split(command) == ["skillrunner", *args]


def test_cli_adr_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["adr", "new", "Use PostgreSQL", "--status", "Accepted"]).exit_code == 0
    assert runner.invoke(main, ["adr", "new", "Use SQLite", "--feature", "task-crud"]).exit_code == 0
    listed = runner.invoke(main, ["adr", "list"])
    assert listed.exit_code == 0
    assert re.search(r"^0001  Accepted .* Use PostgreSQL$", listed.output, re.M)
    done = runner.invoke(main, ["adr", "supersede", "1", "--by", "2"])
    assert done.exit_code == 0 and "Superseded by" in done.output
    bad = runner.invoke(main, ["adr", "new", "X", "--status", "nope"])
    assert bad.exit_code == 2 and "unknown ADR status" in bad.output
