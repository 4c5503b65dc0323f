"""The frontmatter keys agents document beyond the specification's, one profile per agent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["ALLOWED_FIELDS", "FOLDER_PROFILES", "LOOSE_FLAGS", "PROFILES", "FieldRule", "Profile"]

#: The frontmatter keys the Agent Skills specification allows.
ALLOWED_FIELDS: tuple[str, ...] = ("name", "description", "license", "compatibility", "metadata",
                                   "allowed-tools")

@dataclass(frozen=True)
class FieldRule:
    """What an agent documents for one frontmatter key.

    ``kind``: ``text`` a non-empty string; ``flag`` true or false; ``words`` a string or a list of
    strings (space- or comma-separated names, globs); ``mapping`` a YAML mapping. ``choices``: the
    documented values of a text, when the agent lists them.
    """

    kind: Literal["text", "flag", "words", "mapping"]
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Profile:
    """The frontmatter keys one agent reads beyond the specification's, from its documentation."""

    name: str
    agent: str
    docs: str
    fields: Mapping[str, FieldRule]


_TEXT, _FLAG, _WORDS = FieldRule("text"), FieldRule("flag"), FieldRule("words")
_FORK = FieldRule("text", ("fork",))

#: ``--profile NAME``: the extra keys an agent documents, checked by type. A key two agents share
#: has one rule (the tests hold them to that), so profiles combine.
PROFILES: Mapping[str, Profile] = {p.name: p for p in (
    Profile("claude-code", "Claude Code", "https://code.claude.com/docs/en/skills", {
        "when_to_use": _TEXT,
        "argument-hint": _TEXT,
        "arguments": _WORDS,
        "disable-model-invocation": _FLAG,
        "user-invocable": _FLAG,
        "allowed-tools": _WORDS,  # Claude Code also reads a YAML list or commas
        "disallowed-tools": _WORDS,
        "model": _TEXT,
        "effort": FieldRule("text", ("low", "medium", "high", "xhigh", "max")),
        "context": _FORK,
        "agent": _TEXT,
        "background": _FLAG,
        "hooks": FieldRule("mapping"),
        "paths": _WORDS,
        "shell": FieldRule("text", ("bash", "powershell")),
    }),
    Profile("copilot", "GitHub Copilot in VS Code",
            "https://code.visualstudio.com/docs/agent-customization/agent-skills", {
        "argument-hint": _TEXT,
        "user-invocable": _FLAG,
        "disable-model-invocation": _FLAG,
        "context": _FORK,
    }),
    Profile("cursor", "Cursor", "https://cursor.com/docs/context/skills", {
        "disable-model-invocation": _FLAG,
    }),
)}
#: Booleans written as text (quoted, or 1 and 0): Claude Code reads them in any letter case, YAML does not.
LOOSE_FLAGS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})

#: Folders an agent reads skills from, and the profile of the keys it documents there.
FOLDER_PROFILES: tuple[tuple[str, str], ...] = (("/.claude/skills/", "claude-code"),
                                                ("/.github/skills/", "copilot"),
                                                ("/.cursor/skills/", "cursor"))
