"""specify: spec.md from a contract (stories, scenarios, FR/SC, entities) or placeholders without one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from skillrunner.artifacts import is_sealed
from skillrunner.cli import main
from skillrunner.contract import parse_contract
from skillrunner.errors import ContractError, UsageError
from skillrunner.specify import build_spec, specify, user_stories

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


def test_spec_from_contract_has_stories_scenarios_requirements_criteria(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = specify(project=project, feature="notes")
    assert result.artifact.path == "specs/notes/spec.md" and result.artifact.status == "created"
    text = (project / "specs/notes/spec.md").read_text(encoding="utf-8")
    assert result.clarifications == 0 and "NEEDS CLARIFICATION" not in text
    stories = re.findall(r"^### User Story (\d+) - (.+) \(Priority: P(\d)\)$", text, re.M)
    assert [int(n) for n, _, _ in stories] == list(range(1, len(stories) + 1))
    assert stories[0][1] == "Manage my own notebooks" and stories[0][2] == "1"
    assert [p for _, _, p in stories] == sorted(p for _, _, p in stories)  # by priority
    scenarios = re.findall(r"^\d+\. \*\*Given\*\* .+, \*\*When\*\* .+, \*\*Then\*\* .+\.$", text, re.M)
    assert len(scenarios) >= 10
    frs = re.findall(r"^- \*\*FR-(\d{3})\*\*: ", text, re.M)
    assert frs == [f"{i:03d}" for i in range(1, len(frs) + 1)] and len(frs) > 8
    assert re.search(r"^- \*\*SC-001\*\*: All 8 endpoints", text, re.M)
    assert "- **Notebook** (table `notebooks`, id int): " in text
    assert "Belongs to one user; belongs to one Notebook (on delete: cascade)." in text
    assert "`name`: string, required, 1 to 100 characters" in text
    assert "`kind`: one of work, home, optional, default work" in text
    assert "`note`: text, optional, may be null" in text
    assert is_sealed(text)


def test_every_endpoint_is_in_exactly_one_story(tmp_path: Path) -> None:
    contract, findings = parse_contract(NOTES, "specs/api/notes.md")
    assert contract is not None, findings
    stories = user_stories(contract)
    covered = [ep for s in stories for ep in s.endpoints]
    every = [ep for r in contract.resources for ep in r.endpoints]
    assert sorted(covered, key=id) == sorted(every, key=id)
    assert len(set(map(id, covered))) == len(every)
    by_title = {s.title: s for s in stories}
    assert by_title["Count notebooks by kind"].priority == 3
    assert by_title["Manage my own notes"].priority == 2
    assert all(s.scenarios for s in stories)


def test_without_contract_the_spec_marks_what_is_missing(tmp_path: Path) -> None:
    result = specify(project=tmp_path, feature="billing", description="Invoices for orders")
    text = (tmp_path / "specs/billing/spec.md").read_text(encoding="utf-8")
    assert result.contract is None and result.clarifications >= 5
    assert "**Input**: Invoices for orders" in text
    assert "`skillrunner contract new billing`" in text
    assert "`skillrunner contract check specs/api/billing.md`" in text
    assert "FR-001" in text and "SC-001" in text and "Given" in text


def test_rerun_changes_nothing_and_output_does_not_depend_on_location(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    b = _project(tmp_path / "elsewhere" / "b")
    first = specify(project=a, feature="notes")
    again = specify(project=a, feature="notes")
    assert again.artifact.status == "unchanged" and again.text == first.text
    other = specify(project=b, feature="notes")
    assert (a / "specs/notes/spec.md").read_bytes() == (b / "specs/notes/spec.md").read_bytes()
    assert other.artifact.status == "created"
    assert not re.search(r"\d{4}-\d{2}-\d{2}", first.text)  # no dates in the spec


def test_contract_change_updates_the_spec(tmp_path: Path) -> None:
    project = _project(tmp_path)
    specify(project=project, feature="notes")
    _project(tmp_path, NOTES.replace("| note  | text             | no       |         |",
                                     "| note  | text             | yes      |         |"))
    result = specify(project=project, feature="notes")
    assert result.artifact.status == "updated"
    assert "`note`: text, required" in result.text


def test_hand_edited_spec_is_kept_unless_forced(tmp_path: Path) -> None:
    project = _project(tmp_path)
    specify(project=project, feature="notes")
    path = project / "specs/notes/spec.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Notes API", "My notes"), encoding="utf-8")
    assert specify(project=project, feature="notes").artifact.status == "kept"
    assert "My notes" in path.read_text(encoding="utf-8")
    assert specify(project=project, feature="notes", force=True).artifact.status == "updated"
    assert "My notes" not in path.read_text(encoding="utf-8")


def test_bad_feature_and_broken_contract(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a slug"):
        specify(project=tmp_path, feature="../x")
    project = _project(tmp_path, NOTES.replace("| 201 Note ", "| 200 Note "))
    with pytest.raises(ContractError) as err:
        specify(project=project, feature="notes")
    assert any("specs/api/notes.md" in str(f) for f in err.value.findings)
    assert not (project / "specs/notes/spec.md").exists()


def test_build_spec_is_pure(tmp_path: Path) -> None:
    contract, _ = parse_contract(NOTES, "specs/api/notes.md")
    assert build_spec(feature="notes", contract=contract) == build_spec(feature="notes", contract=contract)


def test_cli_specify_records_a_spec_phr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["specify", "notes", "--prompt-text", "Specify the notes API"])
    assert result.exit_code == 0, result.output
    assert "✓ specify" in result.output and "specs/notes/spec.md created" in result.output
    records = list((project / "history/prompts/notes").glob("*.spec.prompt.md"))
    assert len(records) == 1
    assert "```text\nSpecify the notes API\n```" in records[0].read_text(encoding="utf-8")
