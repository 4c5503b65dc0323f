"""plan: plan.md sections, mermaid model, endpoint table, file map per skill, decisions and ADRs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from skillrunner.artifacts import is_sealed
from skillrunner.cli import main
from skillrunner.contract import parse_contract
from skillrunner.conventions import load_conventions
from skillrunner.errors import SkillrunnerError
from skillrunner.plan import file_map, plan
from skillrunner.records import list_adrs, write_adr
from skillrunner.resources import packaged_dir

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


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match is not None, f"no section {title}"
    return match.group(1)


def test_plan_has_every_section(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = plan(project=project, feature="notes", skill="backend-builder")
    text = (project / "specs/notes/plan.md").read_text(encoding="utf-8")
    assert result.artifact.status == "created" and result.skill == "backend-builder"
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == ["Summary", "Technical Context", "Data Model", "Database Migration", "Endpoints",
                        "File Map", "Decisions", "Risks", "Test Plan"]
    assert "Users keep notes in notebooks." in _section(text, "Summary")
    assert "**Storage**: SQLite by default" in _section(text, "Technical Context")
    model = _section(text, "Data Model")
    assert "```mermaid\nerDiagram\n    Notebook ||--o{ Note : has\n" in model
    assert "        int notebook_id FK\n" in model and '        enum kind "enum(work, home)"\n' in model
    rows = re.findall(r"^\| (GET|POST|PATCH|DELETE) \| `([^`]+)` \| .* \| (Bearer JWT) \| ([0-9, ]+) \|$",
                      _section(text, "Endpoints"), re.M)
    assert len(rows) == 8
    assert ("GET", "/api/notebooks/{id}", "Bearer JWT", "401, 404") in rows
    assert is_sealed(text) and not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_file_map_follows_the_chosen_skill(tmp_path: Path) -> None:
    project = _project(tmp_path)
    builder = plan(project=project, feature="notes", skill="backend-builder").text
    engineer = plan(project=project, feature="notes", skill="/sp.backend-engineer").text
    assert "| `backend/app/routers/notebook.py` | router |" in _section(builder, "File Map")
    assert "services" not in _section(builder, "File Map")
    files = _section(engineer, "File Map")
    assert "| `backend/app/routers/notebooks.py` | router |" in files
    assert "| `backend/app/services/note_service.py` | service |" in files
    assert "<!-- skillrunner: skill=backend-engineer -->" in engineer
    # 403 convention: the endpoint table says so
    assert "| GET | `/api/notebooks/{id}` | get | 200 Notebook | Bearer JWT | 401, 403, 404 |" in engineer


def test_file_map_uses_the_layout(tmp_path: Path) -> None:
    contract, _ = parse_contract(NOTES, "specs/api/notes.md")
    assert contract is not None
    conv = load_conventions(packaged_dir("skills") / "backend-builder")
    files = file_map(contract, conv)
    paths = [f.path for f in files]
    assert "backend/app/main.py" in paths and "backend/tests/test_note.py" in paths
    assert len(paths) == len(set(paths))
    assert not any("user" in p for p in paths)  # users files only with auth: builtin
    kinds = {f.kind for f in files}
    assert {"model", "schema", "router", "test", "main", "migration"} <= kinds


def test_decisions_name_alternatives_and_only_significant_ones_are_suggested(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = plan(project=project, feature="notes")
    keys = [d.key for d in result.decisions]
    assert keys[:6] == ["id", "auth", "database", "pagination", "errors", "not_owned"]
    by_key = {d.key: d for d in result.decisions}
    assert all(by_key[k].alternatives for k in keys[:6])
    assert not by_key["service_layer"].significant and not by_key["datetimes"].significant
    assert len(result.suggestions) == sum(d.significant for d in result.decisions) == 6
    assert result.suggestions[0] == (
        "📋 Architectural decision detected: integer primary keys for Notebook, Note. "
        'Record it: skillrunner adr new "Integer primary keys" --feature notes')
    decisions = _section(result.text, "Decisions")
    assert decisions.count("- **Alternatives**:") == len(result.decisions)
    assert "not recorded yet" in decisions


def test_adr_flag_records_once_and_the_plan_links_them(tmp_path: Path) -> None:
    project = _project(tmp_path)
    first = plan(project=project, feature="notes", record_adrs=True)
    assert len(first.adrs) == 6 and first.suggestions == ()
    assert [r.id for r in list_adrs(project=project)] == [1, 2, 3, 4, 5, 6]
    links = re.findall(r"\]\((\.\./\.\./history/adr/[^)]+)\)", first.text)
    assert len(links) == 6
    for link in links:
        assert (project / "specs/notes" / link).resolve().is_file()
    adr = (project / "history/adr/0001-integer-primary-keys.md").read_text(encoding="utf-8")
    assert "- **Status:** Accepted" in adr and "UUID keys" in adr and "NEEDS CLARIFICATION" not in adr
    again = plan(project=project, feature="notes", record_adrs=True)
    assert again.adrs == () and again.artifact.status == "unchanged"
    assert len(list_adrs(project=project)) == 6


def test_an_adr_recorded_by_hand_is_linked(tmp_path: Path) -> None:
    project = _project(tmp_path)
    write_adr(project=project, title="Integer primary keys", status="Accepted")
    result = plan(project=project, feature="notes")
    assert "[ADR-0001: Integer primary keys](../../history/adr/0001-integer-primary-keys.md)" in result.text
    assert len(result.suggestions) == 5


def test_rerun_is_unchanged_and_contract_change_updates(tmp_path: Path) -> None:
    project = _project(tmp_path)
    plan(project=project, feature="notes")
    assert plan(project=project, feature="notes").artifact.status == "unchanged"
    _project(tmp_path, NOTES.replace("auth: jwt", "auth: none").replace("- owner: user", "- owner: none")
             .replace("401, ", "").replace("| 401 ", "|     "))
    result = plan(project=project, feature="notes")
    assert result.artifact.status == "updated"
    assert "| none |" in _section(result.text, "Endpoints")
    assert any(d.title == "No authentication" for d in result.decisions)


def test_plan_without_contract_says_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(SkillrunnerError) as err:
        plan(project=tmp_path, feature="billing")
    assert "specs/api/billing.md" in str(err.value)


def test_unknown_skill(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(SkillrunnerError, match="nope"):
        plan(project=project, feature="notes", skill="nope")


def test_cli_plan_prints_adr_suggestions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["plan", "notes", "--skill", "backend-engineer"])
    assert result.exit_code == 0, result.output
    assert result.output.count("📋 Architectural decision detected: ") == 6
    assert 'skillrunner adr new "Another user\'s row answers 403"' in result.output
    assert list((project / "history/prompts/notes").glob("0001-*.plan.prompt.md"))
