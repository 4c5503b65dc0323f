"""The skill loader: find Agent Skills (folders holding SKILL.md) and read their frontmatter."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from skillrunner.conventions import Conventions, load_conventions
from skillrunner.errors import SkillError
from skillrunner.frontmatter import Document, parse_document
from skillrunner.resources import packaged_dir

__all__ = ["SKILL_FILE", "SOURCES", "Skill", "SkillChoice", "discover_skills", "find_skill", "load_skill",
           "resolve_skill", "skill_roots"]

SKILL_FILE = "SKILL.md"
#: Where skills are looked for, in this order; the first skill of a name wins.
SOURCES: tuple[str, ...] = ("skills", ".claude/skills", ".agents/skills", "packaged")


@dataclass(frozen=True)
class Skill:
    """One loaded skill: its frontmatter, body and where it was found."""

    name: str
    description: str
    path: Path
    body: str
    frontmatter: Mapping[str, Any]
    source: str

    @property
    def skill_md(self) -> Path:
        """The skill's ``SKILL.md``."""
        return self.path / SKILL_FILE


def _read(skill_md: Path) -> Document:
    try:
        raw = skill_md.read_bytes()
    except OSError as exc:
        raise SkillError(f"cannot read {SKILL_FILE}: {exc.strerror or exc}", path=skill_md,
                         hint="check the file's permissions") from None
    return parse_document(raw, skill_md.as_posix())


def load_skill(folder: Path, *, source: str = "skills") -> Skill:
    """Load the skill in ``folder`` (a ``SKILL.md`` path is accepted too).

    Broken frontmatter does not raise: the name falls back to the folder's and
    ``skillrunner validate`` reports the problem. Raises ``SkillError`` without a ``SKILL.md``.
    """
    folder = Path(folder)
    if folder.name == SKILL_FILE and folder.is_file():
        folder = folder.parent
    skill_md = folder / SKILL_FILE
    if not skill_md.is_file():
        raise SkillError(f"no {SKILL_FILE} in {folder.as_posix()}", path=folder,
                         hint=f"a skill is a folder holding {SKILL_FILE} (that exact name) with "
                              "name and description in its frontmatter")
    doc = _read(skill_md)
    data = doc.data or {}
    # A name read through replacement characters is no name; validate reports the encoding.
    readable = not any(f.code == "encoding" for f in doc.findings)
    name = data.get("name") if readable else None
    description = data.get("description")
    folder_name = folder.name or folder.resolve().name
    return Skill(
        name=name.strip() if isinstance(name, str) and name.strip() else folder_name,
        description=description.strip() if isinstance(description, str) else "",
        path=folder,
        body=doc.body,
        frontmatter=MappingProxyType(dict(data)),
        source=source,
    )


def skill_roots(project: Path | None) -> list[tuple[str, Path]]:
    """``(source, folder)`` for every place skills are looked for, in search order."""
    roots: list[tuple[str, Path]] = []
    if project is not None:
        roots += [(source, project / source) for source in SOURCES[:-1]]
    roots.append(("packaged", packaged_dir("skills")))
    return roots


def _skill_folders(root: Path) -> Iterator[Path]:
    try:
        children = sorted(root.iterdir())
    except OSError:
        return
    for child in children:
        if not child.name.startswith(".") and (child / SKILL_FILE).is_file():
            yield child


def discover_skills(*, project: Path | None = None) -> list[Skill]:
    """Every skill in ``<project>/skills``, ``.claude/skills``, ``.agents/skills``, then the pack.

    Without ``project`` only the packaged pack is searched. The first skill of a name wins
    (a project's skill shadows the packaged one); the list is sorted by name.
    """
    found: dict[str, Skill] = {}
    seen: set[Path] = set()
    for source, root in skill_roots(project):
        for folder in _skill_folders(root):
            real = folder.resolve()
            if real in seen:  # in a source checkout, the pack is the project's skills/
                continue
            seen.add(real)
            skill = load_skill(folder, source=source)
            found.setdefault(skill.name, skill)
    return [found[name] for name in sorted(found)]


def _bare(name: str) -> str:
    return name.strip().removeprefix("/").removeprefix("sp.")


def find_skill(name: str, *, project: Path | None = None) -> Skill:
    """The skill ``name``, given as ``backend-engineer``, ``sp.backend-engineer`` or ``/sp.backend-engineer``.

    Raises ``SkillError`` with a did-you-mean hint when no skill has that name.
    """
    wanted = _bare(name)
    skills = discover_skills(project=project)
    for by_folder in (False, True):
        for skill in skills:
            if (skill.path.name if by_folder else skill.name) == wanted:
                return skill
    names = [s.name for s in skills]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise SkillError(f"no skill named {wanted!r}", hint=f"{hint}skillrunner list shows the skills")


@dataclass(frozen=True)
class SkillChoice:
    """A skill chosen for a run: its name, its folder and its runner conventions."""

    name: str
    path: Path
    conventions: Conventions


def resolve_skill(name: str, *, project: Path | None = None) -> SkillChoice:
    """The skill ``name`` (any form ``find_skill`` takes) with its ``conventions.yaml`` loaded."""
    skill = find_skill(name, project=project)
    return SkillChoice(skill.name, skill.path, load_conventions(skill.path))
