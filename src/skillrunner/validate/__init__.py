"""The skill validator: the Agent Skills specification, and what a reviewer would also catch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from skillrunner.findings import Finding
from skillrunner.validate.checks import (
    MAX_BODY_LINES,
    MAX_BODY_TOKENS,
    MAX_MOJIBAKE_LINES,
    Checked,
    check_skill,
    duplicates,
)
from skillrunner.validate.config import ValidateConfig, load_config, split_names
from skillrunner.validate.discover import PROJECT_FOLDERS, find_skills, plugin_of, project_skills, shown_path
from skillrunner.validate.fields import (
    MAX_COMPATIBILITY_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    profile_rules,
)
from skillrunner.validate.profiles import ALLOWED_FIELDS, FOLDER_PROFILES, PROFILES, FieldRule, Profile
from skillrunner.validate.report import Report
from skillrunner.validate.rules import RULES, Rule

__all__ = ["ALLOWED_FIELDS", "MAX_BODY_LINES", "MAX_BODY_TOKENS", "MAX_COMPATIBILITY_LENGTH",
           "MAX_DESCRIPTION_LENGTH", "MAX_MOJIBAKE_LINES", "MAX_NAME_LENGTH", "PROFILES", "PROJECT_FOLDERS",
           "RULES", "FieldRule", "Profile", "Report", "Rule", "ValidateConfig", "check_skills", "load_config",
           "validate_skills"]

_PLUGIN_PROFILE = "claude-code"  # a skill inside a Claude Code plugin is read by Claude Code


def check_skills(paths: Sequence[Path] = (), *, project: Path | None = None, allow_fields: Sequence[str] = (),
                 profiles: Sequence[str] = (), config: ValidateConfig | None = None) -> Report:
    """Check skills; return every problem found (sorted) and what was checked.

    Each path is a skill folder, a ``SKILL.md`` or any folder above skills: every folder holding
    ``SKILL.md`` below it is one (hidden folders too; ``.git``, ``node_modules`` and what git
    ignores are not searched). Without paths, the project's own skill folders
    (:data:`PROJECT_FOLDERS`). ``allow_fields`` names extra frontmatter keys some agent reads,
    unchecked; ``profiles`` names agents (:data:`PROFILES`) whose documented keys are accepted and
    type-checked; either may hold comma-separated names. ``config`` defaults to the project's
    (:func:`load_config`); its settings add to the arguments. Paths under ``project`` are shown
    relative to it. An unknown profile raises :class:`UsageError`.
    """
    if config is None:
        config = load_config(project)
    rules = profile_rules([*config.profiles, *profiles])
    allowed = frozenset(ALLOWED_FIELDS) | frozenset(split_names([*config.allow_fields, *allow_fields])) | \
        frozenset(rules)
    found = find_skills(list(paths), project, config.excludes) if paths else \
        project_skills(project, config.excludes)
    # One skill reached by several paths (symlinks) is checked once, under the first path, with the
    # profiles of every path: the verdict must not depend on which one the walk met first.
    reached: dict[Path, list[tuple[Path, str]]] = {}
    for folder, root in found.folders:
        reached.setdefault(folder.resolve(), []).append((folder, root))
    checked: list[Checked] = []
    roots: dict[str, int] = {}
    manifests: dict[Path, str | None] = {}
    for real, ways in reached.items():
        folder, root = ways[0]
        roots[root] = roots.get(root, 0) + 1
        plugin = plugin_of(folder, project, manifests)
        # A skill in an agent's own folder (.claude/skills/...) or plugin is read by that agent:
        # its keys count.
        places = [real.as_posix() + "/", *(way.absolute().as_posix() + "/" for way, _ in ways)]
        implied = [name for marker, name in FOLDER_PROFILES if any(marker in p for p in places)]
        implied += [_PLUGIN_PROFILE] if plugin else []
        keys = {**profile_rules(implied), **rules}
        checked.append(check_skill(folder, shown_path(folder, project), allowed | frozenset(keys), keys,
                                   plugin))
    findings = set(found.problems)
    if not checked and not any(f.severity == "error" for f in found.problems):
        findings.add(_no_skills(found.looked_in))
    silenced: dict[str, dict[int, frozenset[str]]] = {}
    for skill in checked:
        findings.update(skill.findings)
        silenced.update(skill.silenced)
    findings.update(duplicates(checked))
    kept = sorted(f for f in findings if f.code not in silenced.get(f.path, {}).get(f.line, ())
                  and not config.ignores(f))
    return Report(kept, len(checked), roots, tuple(found.looked_in), len(findings) - len(kept),
                  config.source, config.strict)


def _no_skills(looked_in: Sequence[str]) -> Finding:
    where = ", ".join(looked_in) or "nowhere"
    return Finding(looked_in[0] if len(looked_in) == 1 else ".", 1, 1, "error",
                   f"no skills found: looked in {where}",
                   "give the folder holding them: skillrunner validate PATH (. searches the whole "
                   "repository); to let a run with none pass, add no-skills to ignore in the configuration",
                   "no-skills")


def validate_skills(paths: Sequence[Path] = (), *, project: Path | None = None,
                    allow_fields: Sequence[str] = (), profiles: Sequence[str] = (),
                    config: ValidateConfig | None = None) -> list[Finding]:
    """The findings of :func:`check_skills`, sorted: every problem, each with its rule id and a hint."""
    return check_skills(paths, project=project, allow_fields=allow_fields, profiles=profiles,
                        config=config).findings
