"""The skill loader: loading one folder, discovery order and shadowing, lookup by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillrunner.errors import SkillError
from skillrunner.resources import packaged_dir
from skillrunner.skills import SOURCES, Skill, discover_skills, find_skill, load_skill

SHIPPED = ("backend-builder", "backend-development", "backend-engineer", "backend-scaffolder",
           "backend-skill")


def _skill(root: Path, folder: str, text: str | None = None) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    if text is None:
        text = f"---\nname: {folder}\ndescription: Demo {folder}. Use when testing.\n---\n\n# {folder}\n"
    (path / "SKILL.md").write_text(text, encoding="utf-8")
    return path


def test_load_skill_reads_frontmatter_and_body(tmp_path: Path) -> None:
    folder = _skill(tmp_path, "demo", "---\nname: demo\ndescription: ' Does it. '\nlicense: MIT\n"
                                      "metadata:\n  owner: me\n---\n# Demo\n\nBody.\n")
    skill = load_skill(folder)
    assert skill == Skill(name="demo", description="Does it.", path=folder, body="# Demo\n\nBody.\n",
                          frontmatter=skill.frontmatter, source="skills")
    assert dict(skill.frontmatter) == {"name": "demo", "description": " Does it. ", "license": "MIT",
                                       "metadata": {"owner": "me"}}
    assert skill.skill_md == folder / "SKILL.md"
    with pytest.raises(TypeError):
        skill.frontmatter["name"] = "other"  # type: ignore[index]


def test_load_skill_accepts_the_skill_md_path_and_a_source(tmp_path: Path) -> None:
    folder = _skill(tmp_path, "demo")
    skill = load_skill(folder / "SKILL.md", source=".claude/skills")
    assert (skill.path, skill.source, skill.name) == (folder, ".claude/skills", "demo")


@pytest.mark.parametrize("text", [
    "no frontmatter at all\n",
    "---\nname: [unclosed\n---\nbody\n",
    "---\nname: 42\ndescription: 7\n---\n",
    "---\nopened but never closed\n",
    b"---\nname: \xff\xfe\n---\n",
])
def test_broken_frontmatter_falls_back_to_the_folder_name(tmp_path: Path, text: str | bytes) -> None:
    folder = tmp_path / "fallback"
    folder.mkdir()
    (folder / "SKILL.md").write_bytes(text if isinstance(text, bytes) else text.encode())
    skill = load_skill(folder)
    assert skill.name == "fallback"
    assert skill.description == ""


def test_load_skill_without_skill_md_raises_with_path_and_hint(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SkillError) as caught:
        load_skill(tmp_path / "empty")
    assert caught.value.path == (tmp_path / "empty").as_posix()
    assert "SKILL.md" in caught.value.message and "SKILL.md" in caught.value.hint
    assert str(caught.value).startswith(f"{(tmp_path / 'empty').as_posix()}: error: no SKILL.md")


def test_discover_without_project_is_the_packaged_pack() -> None:
    skills = discover_skills()
    assert [s.name for s in skills] == list(SHIPPED)
    assert {s.source for s in skills} == {"packaged"}
    assert all(s.path.parent == packaged_dir("skills") for s in skills)
    assert all(s.description and "Use when" in s.description for s in skills)


def test_discover_search_order_shadowing_and_sorting(tmp_path: Path) -> None:
    for source in SOURCES[:-1]:
        _skill(tmp_path / source, "shared", f"---\nname: shared\ndescription: from {source}\n---\n")
    _skill(tmp_path / ".agents/skills", "zeta")
    _skill(tmp_path / ".claude/skills", "alpha")
    _skill(tmp_path / "skills", "backend-builder")  # shadows the packaged one
    (tmp_path / "skills" / "not-a-skill").mkdir()
    _skill(tmp_path / "skills", ".hidden")
    skills = {s.name: s for s in discover_skills(project=tmp_path)}
    assert list(skills) == sorted(skills)
    assert set(skills) == {"alpha", "shared", "zeta", *SHIPPED}
    assert skills["shared"].description == "from skills"
    assert skills["shared"].source == "skills"
    assert (skills["alpha"].source, skills["zeta"].source) == (".claude/skills", ".agents/skills")
    assert skills["backend-builder"].path == tmp_path / "skills" / "backend-builder"
    assert skills["backend-engineer"].source == "packaged"


def test_discover_first_hit_by_frontmatter_name(tmp_path: Path) -> None:
    _skill(tmp_path / "skills", "one", "---\nname: same\ndescription: first\n---\n")
    _skill(tmp_path / ".claude/skills", "same", "---\nname: same\ndescription: second\n---\n")
    same = [s for s in discover_skills(project=tmp_path) if s.name == "same"]
    assert [s.description for s in same] == ["first"]


def test_discover_does_not_raise_on_broken_skills(tmp_path: Path) -> None:
    _skill(tmp_path / "skills", "broken", "---\nname: [\n")
    _skill(tmp_path / "skills", "binary", None)
    (tmp_path / "skills" / "binary" / "SKILL.md").write_bytes(b"\xff\x00\xfe---")
    names = [s.name for s in discover_skills(project=tmp_path)]
    assert "broken" in names and "binary" in names


@pytest.mark.parametrize("name", ["backend-engineer", "sp.backend-engineer", "/sp.backend-engineer",
                                  " /sp.backend-engineer "])
def test_find_skill_accepts_the_command_forms(name: str, tmp_path: Path) -> None:
    skill = find_skill(name, project=tmp_path)
    assert skill.name == "backend-engineer"
    assert skill.source == "packaged"


def test_find_skill_prefers_the_project_and_finds_by_folder(tmp_path: Path) -> None:
    _skill(tmp_path / "skills", "backend-skill", "---\nname: backend-skill\ndescription: mine\n---\n")
    _skill(tmp_path / "skills", "folder-name", "---\nname: other-name\ndescription: x\n---\n")
    assert find_skill("/sp.backend-skill", project=tmp_path).description == "mine"
    assert find_skill("folder-name", project=tmp_path).name == "other-name"
    assert find_skill("other-name", project=tmp_path).path.name == "folder-name"


def test_find_skill_unknown_suggests_a_close_name(tmp_path: Path) -> None:
    with pytest.raises(SkillError) as caught:
        find_skill("/sp.backend-enginer", project=tmp_path)
    assert caught.value.message == "no skill named 'backend-enginer'"
    assert caught.value.hint == "did you mean 'backend-engineer'? skillrunner list shows the skills"
    with pytest.raises(SkillError) as far:
        find_skill("zzzz", project=tmp_path)
    assert far.value.hint == "skillrunner list shows the skills"
