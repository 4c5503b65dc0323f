"""The skill validator: the Agent Skills specification, and what a reviewer would also catch."""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from skillrunner.conventions import CONVENTIONS_FILE, load_conventions
from skillrunner.errors import SkillError, UsageError
from skillrunner.findings import Finding, Severity
from skillrunner.frontmatter import Document, parse_document
from skillrunner.markdown import parse_blocks
from skillrunner.skills import SKILL_FILE, skill_roots

__all__ = ["ALLOWED_FIELDS", "MAX_BODY_LINES", "MAX_BODY_TOKENS", "MAX_COMPATIBILITY_LENGTH",
           "MAX_DESCRIPTION_LENGTH", "MAX_MOJIBAKE_LINES", "MAX_NAME_LENGTH", "PROFILES", "FieldRule",
           "Profile", "validate_skills"]

#: The frontmatter keys the Agent Skills specification allows.
ALLOWED_FIELDS: tuple[str, ...] = ("name", "description", "license", "compatibility", "metadata",
                                   "allowed-tools")
MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 1024
MAX_COMPATIBILITY_LENGTH = 500
MAX_BODY_LINES = 500
MAX_BODY_TOKENS = 5000
#: Mojibake is reported line by line up to this many lines per file, then summed up.
MAX_MOJIBAKE_LINES = 5
#: Files larger than this are not scanned for secrets and hidden characters.
MAX_SCAN_BYTES = 2_000_000


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
_LOOSE_FLAGS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})

_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".mypy_cache",
                        ".pytest_cache", ".ruff_cache"})
_NAME_CHARS = re.compile(r"[^a-z0-9-]")
_USE_WHEN = re.compile(
    r"\b(?:use|used|invoke|invoked|apply|trigger|triggered|load)\b(?:\W+\w+){0,4}?\W+"
    r"(?:when|whenever|if|for|on|after|before|while)\b"
    r"|\bwhen(?:ever)?\s+(?:the\s+|a\s+|an\s+)?(?:user|you|asked|working|adding|building|creating|"
    r"writing|implementing|reviewing|fixing|debugging|starting|handling)\b",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A link destination after `](`, and a reference definition `[label]: destination`.
_INLINE_LINK = re.compile(r"\]\(\s*(<[^>\n]*>|[^\s()<>]+)")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")

# Secrets: provider formats precise enough to name, each with the literals one of which any
# match contains (a substring test first keeps the scan cheap). Matches containing EXAMPLE are
# documentation placeholders (AWS's AKIAIOSFODNN7EXAMPLE) and are let through.
_SECRETS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (label, anchors, re.compile(rx)) for label, anchors, rx in (
        ("a private key", ("PRIVATE KEY",), r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
        ("an AWS access key id", ("AKIA", "ASIA", "ABIA", "ACCA"),
         r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
        ("an AWS secret access key", ("secret", "SECRET", "Secret"),
         r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
        ("a GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
         r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        ("a GitLab token", ("glpat-",), r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("a Slack token", ("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("a Slack webhook URL", ("hooks.slack.com",),
         r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
        ("a Google API key", ("AIza",), r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
        ("a Stripe live key", ("k_live_",), r"\b[rs]k_live_[0-9A-Za-z]{20,}"),
        ("an Anthropic API key", ("sk-ant-",), r"\bsk-ant-[A-Za-z0-9_-]{32,}"),
        ("an OpenAI API key", ("T3BlbkFJ",),
         r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
        ("a Hugging Face token", ("hf_",), r"\bhf_[A-Za-z0-9]{34,}\b"),
        ("an npm token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("a PyPI token", ("pypi-",), r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
        ("a JSON Web Token", ("eyJ",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
    ))

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = ("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2028\u2029"
              "\u2060-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
              "\U000e0000-\U000e007f\U000e0100-\U000e01ef")
_HIDDEN = re.compile(f"[{_BIDI}{_INVISIBLE}]")
_BIDI_SET = re.compile(f"[{_BIDI}]")
# Joiners and variation selectors are legitimate inside emoji sequences and in scripts that
# shape letters (Arabic, Indic); elsewhere they only hide things.
_JOINERS = frozenset("\u200c\u200d") | {chr(c) for c in range(0xFE00, 0xFE10)}

# Mojibake: UTF-8 bytes read as Windows-1252/Latin-1, e.g. "\u00f0\u0178\u201c\u2039" for U+1F4CB.
_CP1252_HIGH = bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore") + "\x81\x8d\x8f\x90\x9d"
_CONT = "[" + re.escape(_CP1252_HIGH) + "\u00a0-\u00bf]"
_MOJIBAKE = re.compile(f"(?:[\u00c2-\u00df]{_CONT}|[\u00e0-\u00ef]{_CONT}{{2}}|[\u00f0-\u00f4]{_CONT}{{3}})+")


_Add = Callable[[str, Severity, str, str, str], None]


@dataclass
class _Skill:
    folder: Path
    shown: str  # the folder as printed in findings
    name: str | None = None
    name_at: tuple[int, int] = (1, 1)
    skill_md: str = ""
    findings: list[Finding] = field(default_factory=list)

    def add(self, path: str, line: int, col: int, severity: Severity, message: str, hint: str,
            code: str) -> None:
        self.findings.append(Finding(path, line, col, severity, message, hint, code))


def validate_skills(paths: Sequence[Path] = (), *, project: Path | None = None,
                    allow_fields: Sequence[str] = (), profiles: Sequence[str] = ()) -> list[Finding]:
    """Check skills and return every problem found, sorted.

    Each path is a skill folder, a ``SKILL.md`` or a folder of skills. Without paths, every
    skill of ``project`` (``skills/``, ``.claude/skills``, ``.agents/skills``) and the packaged
    pack's skills that none of them shadows. ``allow_fields`` names extra frontmatter keys
    that some agent reads, unchecked; ``profiles`` names agents (:data:`PROFILES`) whose
    documented keys are accepted and type-checked. Either may hold comma-separated names. Paths
    under ``project`` are shown relative to it. An unknown profile raises :class:`UsageError`.
    """
    rules = _profile_rules(profiles)
    findings: list[Finding] = []
    folders: list[Path] = []
    for path in paths:
        found, problem = _collect(Path(path), project)
        folders += found
        if problem is not None:
            findings.append(problem)
    if not paths:
        folders = _project_folders(project)
    allowed = frozenset(ALLOWED_FIELDS) | frozenset(_split(allow_fields)) | frozenset(rules)
    checked: list[_Skill] = []
    seen: set[Path] = set()
    for folder in folders:
        real = folder.resolve()
        if real in seen:
            continue
        seen.add(real)
        # A skill in an agent's own folder (.claude/skills/...) is read by that agent: its keys count.
        implied = {**_profile_rules([n for marker, n in _FOLDER_PROFILES if marker in real.as_posix()]),
                   **rules}
        skill = _check_skill(folder, _show(folder, project), allowed | frozenset(implied), implied)
        checked.append(skill)
        findings += skill.findings
    findings += _duplicates(checked)
    return sorted(set(findings))


#: Folders an agent reads skills from, and the profile of the keys it documents there.
_FOLDER_PROFILES = (("/.claude/skills/", "claude-code"), ("/.github/skills/", "copilot"),
                    ("/.cursor/skills/", "cursor"))


def _split(names: Sequence[str]) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``: options take several names at once."""
    return [part.strip() for name in names for part in name.split(",") if part.strip()]


def _profile_rules(profiles: Sequence[str]) -> dict[str, FieldRule]:
    rules: dict[str, FieldRule] = {}
    for name in _split(profiles):
        profile = PROFILES.get(name.lower())
        if profile is None:
            close = difflib.get_close_matches(name.lower(), list(PROFILES), n=1, cutoff=0.5)
            raise UsageError(f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}",
                             hint=f"did you mean --profile {close[0]}?" if close else
                             "pass one of them, or --allow-field NAME for a key no profile has")
        rules.update(profile.fields)
    return rules


# --- which folders ------------------------------------------------------------------------------


def _show(path: Path, project: Path | None) -> str:
    if project is not None:
        try:
            return path.resolve().relative_to(project.resolve()).as_posix() or "."
        except ValueError:
            pass
    return path.as_posix()


def _skill_file(folder: Path) -> Path | None:
    # Lowercase skill.md is what the reference also accepts; it is reported, not ignored.
    for name in (SKILL_FILE, "skill.md"):
        if (folder / name).is_file():
            return folder / name
    return None


def _collect(path: Path, project: Path | None) -> tuple[list[Path], Finding | None]:
    shown = _show(path, project)
    if path.is_file():
        if path.name.lower() == SKILL_FILE.lower():
            return [path.parent], None
        return [], Finding(shown, 1, 1, "error", f"not a skill: give a folder or its {SKILL_FILE}",
                           f"a skill is a folder holding {SKILL_FILE}", "not-a-skill")
    if not path.is_dir():
        return [], Finding(shown, 1, 1, "error", "no such file or folder",
                           "check the path", "not-a-skill")
    if _skill_file(path) is not None:
        return [path], None
    try:
        children = sorted(c for c in path.iterdir() if c.is_dir() and not c.name.startswith("."))
    except OSError as exc:
        return [], Finding(shown, 1, 1, "error", f"cannot read the folder: {exc.strerror or exc}",
                           "check its permissions", "not-a-skill")
    found = [c for c in children if _skill_file(c) is not None]
    if found:
        return found, None
    return [], Finding(shown, 1, 1, "error", f"no {SKILL_FILE} in this folder or its subfolders",
                       f"a skill is a folder holding {SKILL_FILE}; pass the skill folder, or the folder "
                       "that holds skill folders", "not-a-skill")


def _project_folders(project: Path | None) -> list[Path]:
    own: list[Path] = []
    packaged: list[Path] = []
    for source, root in skill_roots(project):
        if not root.is_dir():
            continue
        found, _ = _collect(root, project)
        (packaged if source == "packaged" else own).extend(found)
    # A project's skill shadows the packaged one of its name: an override, not a duplicate.
    own_names = {f.resolve().name for f in own}
    own_real = {f.resolve() for f in own}
    return own + [f for f in packaged if f.resolve() not in own_real and f.resolve().name not in own_names]


# --- one skill ----------------------------------------------------------------------------------


def _check_skill(folder: Path, shown: str, allowed: frozenset[str], rules: Mapping[str, FieldRule]) -> _Skill:
    skill = _Skill(folder, shown)
    skill_md = _skill_file(folder)
    if skill_md is None:
        skill.add(shown, 1, 1, "error", f"no {SKILL_FILE} in this folder",
                  f"a skill is a folder holding {SKILL_FILE}", "not-a-skill")
        return skill
    md_shown = f"{shown}/{skill_md.name}" if shown != "." else skill_md.name
    skill.skill_md = md_shown
    if skill_md.name != SKILL_FILE:
        skill.add(md_shown, 1, 1, "error", f"the file must be named {SKILL_FILE}, not {skill_md.name}",
                  f"rename it to {SKILL_FILE}: agents look for that exact name", "skill-md-name")
    try:
        raw = skill_md.read_bytes()
    except OSError as exc:
        skill.add(md_shown, 1, 1, "error", f"cannot read the file: {exc.strerror or exc}",
                  "check its permissions", "read")
        return skill
    doc = parse_document(raw, md_shown)
    skill.findings += doc.findings
    if not doc.has_frontmatter:
        skill.add(md_shown, 1, 1, "error", f"{SKILL_FILE} has no frontmatter",
                  f"start the file with a line ---, then name: {_folder_name(folder)}, "
                  "description: what it does and when to use it, then a line ---", "frontmatter")
    elif doc.data is not None:
        _check_fields(skill, doc, md_shown, allowed, rules)
    _check_body(skill, doc, md_shown)
    _check_files(skill, skill_md, doc, md_shown)
    _check_conventions(skill, doc, md_shown)
    return skill


def _folder_name(folder: Path) -> str:
    return folder.name or folder.resolve().name


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a mapping",
             str: "a string"}
    if value is None:
        return "empty"
    return names.get(type(value), f"a {type(value).__name__}")


def _read_by(profiles: Sequence[Profile]) -> str:
    """"Claude Code reads it: pass --profile claude-code", or several agents and their profiles."""
    agents = [p.agent for p in profiles]
    who = agents[0] if len(agents) == 1 else f"{', '.join(agents[:-1])} and {agents[-1]}"
    others = f" (or {', '.join(p.name for p in profiles[1:])})" if len(profiles) > 1 else ""
    return f"{who} read{'s' if len(agents) == 1 else ''} it: pass --profile {profiles[0].name}{others}"


def _unknown_key_hint(key: str, allowed: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75)
    if close:
        return f"did you mean {close[0]!r}?"
    readers = [p for p in PROFILES.values() if key in p.fields]
    if not readers:
        known = sorted({k for p in PROFILES.values() for k in p.fields} - allowed)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        if close:
            readers = [p for p in PROFILES.values() if close[0] in p.fields]
            return f"did you mean {close[0]!r}? {_read_by(readers)}"
        return (f"the specification allows only {', '.join(ALLOWED_FIELDS)}; put your own data under "
                f"metadata, or pass --allow-field {key} if an agent reads it")
    return f"{_read_by(readers)}, or --allow-field {key}; otherwise put your own data under metadata"


def _check_fields(skill: _Skill, doc: Document, path: str, allowed: frozenset[str],
                  rules: Mapping[str, FieldRule]) -> None:
    data = doc.data or {}

    def add(key: str, severity: Severity, message: str, hint: str, code: str) -> None:
        skill.add(path, *doc.where(key), severity, message, hint, code)

    for key in data:
        if key not in allowed:
            add(key, "error", f"unknown frontmatter key {key!r}", _unknown_key_hint(key, allowed),
                "unknown-field")
        elif key in rules and key not in ALLOWED_FIELDS:  # the specification's keys: checked below
            _check_rule(key, data[key], rules[key], add)
    _check_name(skill, doc, path, add)
    _check_description(data, add)
    for key, limit in (("compatibility", MAX_COMPATIBILITY_LENGTH), ("license", None)):
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            add(key, "error", f"{key} must be a non-empty string, not {_type_name(value)}",
                "write it as text (quote it if YAML reads it as something else), or delete the key",
                f"{key}-type")
        elif limit is not None and len(value) > limit:
            add(key, "error", f"{key} is {len(value)} characters; at most {limit} are allowed",
                "name the environment requirements in a sentence or two", f"{key}-length")
    if "metadata" in data:
        _check_metadata(data["metadata"], add)
    if "allowed-tools" in rules and "allowed-tools" in data:
        _check_rule("allowed-tools", data["allowed-tools"], rules["allowed-tools"], add)
    elif "allowed-tools" in data:
        tools = data["allowed-tools"]
        if isinstance(tools, list) and all(isinstance(t, str) for t in tools):
            add("allowed-tools", "warning", "allowed-tools is a YAML list; the specification makes it "
                "one space-delimited string", f"write allowed-tools: {' '.join(tools)}", "allowed-tools")
        elif not isinstance(tools, str) or not tools.strip():
            add("allowed-tools", "error", f"allowed-tools must be a space-delimited string, not "
                f"{_type_name(tools)}", "for example: allowed-tools: Bash(git:*) Read", "allowed-tools")


def _check_rule(key: str, value: Any, rule: FieldRule, add: _Add) -> None:
    """One profile key's value against what its agent documents."""
    shown = f" ({value!r})" if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    if value is None or value in ("", [], {}) or (isinstance(value, str) and not value.strip()):
        add(key, "error", f"{key} is empty", "give it a value, or delete the key", "field-type")
        return
    if rule.kind == "flag":
        if isinstance(value, bool):
            return
        if isinstance(value, int | str) and str(value).strip().lower() in _LOOSE_FLAGS:
            meant = str(value).strip().lower() in ("true", "yes", "on", "1")
            add(key, "warning", f"{key} is {_type_name(value)}{shown}, not a YAML boolean",
                f"write {key}: {'true' if meant else 'false'} (unquoted): every agent reads that",
                "field-type")
            return
        add(key, "error", f"{key} must be true or false, not {_type_name(value)}{shown}",
            f"write {key}: true or {key}: false, unquoted", "field-type")
    elif rule.kind == "text":
        if isinstance(value, str):
            if rule.choices and value not in rule.choices:
                add(key, "warning", f"{key} {value!r} is not a documented value ({', '.join(rule.choices)})",
                    f"write one of: {', '.join(rule.choices)}", "field-value")
            return
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            add(key, "warning", f"{key} is a YAML list, not text",
                f'unquoted [brackets] make a list: quote the value, e.g. {key}: "[{", ".join(value)}]"',
                "field-type")
            return
        add(key, "error", f"{key} must be a string, not {_type_name(value)}{shown}",
            "write it as text (quote it if YAML reads it as something else), or delete the key",
            "field-type")
    elif rule.kind == "words":
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return
        add(key, "error", f"{key} must be a string or a list of strings, not {_type_name(value)}{shown}",
            f"write the names space-separated on one line ({key}: a b), or one per line as a YAML list",
            "field-type")
    elif not isinstance(value, dict):
        add(key, "error", f"{key} must be a mapping, not {_type_name(value)}{shown}",
            f"write one key: value per line, indented under {key}:", "field-type")


def _check_name(skill: _Skill, doc: Document, path: str, add: _Add) -> None:
    data = doc.data or {}
    folder = _folder_name(skill.folder)
    if "name" not in data:
        add("name", "error", "frontmatter has no name",
            f"add name: {folder} (the folder's name)", "name-required")
        return
    skill.name_at = doc.where("name")
    name = data["name"]
    if not isinstance(name, str):
        add("name", "error", f"name must be a string, not {_type_name(name)}",
            f'quote it: name: "{folder}"' if name is not None else f"write name: {folder}",
            "name-required" if name is None else "name-type")
        return
    if not name:
        add("name", "error", "name is empty", f"write name: {folder}", "name-required")
        return
    skill.name = name
    if len(name) > MAX_NAME_LENGTH:
        add("name", "error", f"name is {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed",
            "shorten it (and rename the folder to match)", "name-length")
    bad = sorted(set(_NAME_CHARS.findall(name)))
    if bad:
        shown = ", ".join(repr(c) if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"
                          for c in bad)
        fixed = re.sub(r"-{2,}", "-", _NAME_CHARS.sub("-", name.lower())).strip("-") or folder
        what = "uppercase letters" if all(c.isupper() for c in bad) else f"the character(s) {shown}"
        add("name", "error", f"name {name!r} has {what}; only lowercase letters a-z, digits and "
            "hyphens are allowed", f"for example: name: {fixed}", "name-format")
    if name.startswith("-") or name.endswith("-"):
        add("name", "error", f"name {name!r} starts or ends with a hyphen",
            f"write name: {name.strip('-') or folder}", "name-format")
    if "--" in name:
        add("name", "error", f"name {name!r} has consecutive hyphens",
            f"write name: {re.sub(r'-{2,}', '-', name)}", "name-format")
    if name != folder:
        add("name", "error", f"name {name!r} differs from its folder's name {folder!r}",
            f"rename the folder to {name}, or write name: {folder}", "name-mismatch")


def _check_description(data: Mapping[str, Any], add: _Add) -> None:
    if "description" not in data:
        add("description", "error", "frontmatter has no description",
            "add description: what the skill does, and \"Use when ...\"", "description-required")
        return
    text = data["description"]
    if not isinstance(text, str) or not text.strip():
        typed = text is not None and not isinstance(text, str)
        add("description", "error",
            f"description must be a string, not {_type_name(text)}" if typed else "description is empty",
            "say what the skill does and when to use it (quote the text if YAML reads it as something "
            "else)", "description-type" if typed else "description-required")
        return
    if len(text) > MAX_DESCRIPTION_LENGTH:
        add("description", "error", f"description is {len(text)} characters; at most "
            f"{MAX_DESCRIPTION_LENGTH} are allowed", "keep what and when here; move details into the body",
            "description-length")
    if not _USE_WHEN.search(text):
        add("description", "warning", "description does not say when to use the skill",
            'add a sentence such as "Use when the user asks to ..."; agents choose skills by it',
            "description-guidance")


def _check_metadata(meta: Any, add: _Add) -> None:
    if not isinstance(meta, dict):
        add("metadata", "error", f"metadata must be a mapping of strings to strings, not {_type_name(meta)}",
            "write one key: value per line, indented under metadata:", "metadata-type")
        return
    for key, value in meta.items():
        if not isinstance(key, str):
            add("metadata", "error", f"metadata key {key!r} is {_type_name(key)}, not a string",
                f'quote it: "{key}": ...', "metadata-type")
        elif not isinstance(value, str):
            hint = ('quote it so YAML keeps it as written, e.g. version: "1.0"'
                    if isinstance(value, bool | int | float) or value is None
                    else "metadata values are flat strings; join or encode nested data as text")
            add("metadata", "error", f"metadata {key!r} is {_type_name(value)}, not a string", hint,
                "metadata-type")


# --- the body -----------------------------------------------------------------------------------


def _check_body(skill: _Skill, doc: Document, path: str) -> None:
    body = doc.body.rstrip("\n")
    line = doc.body_line
    if not body.strip():
        if any(f.code == "frontmatter" for f in doc.findings):
            return  # an unclosed frontmatter swallowed the body; that is the finding
        skill.add(path, line, 1, "warning", "the body is empty: the skill gives the agent no instructions",
                  "write the steps, examples and rules after the frontmatter", "body-empty")
        return
    count = body.count("\n") + 1
    if count > MAX_BODY_LINES:
        skill.add(path, line, 1, "warning", f"the body is {count} lines (over {MAX_BODY_LINES})",
                  "agents load the whole body; move details into references/*.md and link them",
                  "body-length")
    tokens = len(body) // 4
    if tokens > MAX_BODY_TOKENS:
        skill.add(path, line, 1, "warning", f"the body is about {tokens} tokens (over {MAX_BODY_TOKENS}; "
                  "estimated as characters / 4)",
                  "agents load the whole body; move details into references/*.md and link them",
                  "body-tokens")


def _code_lines(lines: Sequence[str]) -> set[int] | None:
    """Indexes of the lines inside fenced code, or None when only the markdown parser can tell.

    The fast path covers fences at the top level and in simple list items; indented code,
    block quotes and deeper nesting go to the parser.
    """
    code: set[int] = set()
    fence = ""
    for index, line in enumerate(lines):
        if (line.startswith(("    ", "\t")) or line.lstrip().startswith(">")) and (
                "](" in line or "]:" in line or "```" in line or "~~~" in line):
            return None
        if fence:
            code.add(index)
            stripped = line.strip()
            if (len(line) - len(line.lstrip(" ")) < 4 and stripped.startswith(fence)
                    and stripped == fence[0] * len(stripped)):
                fence = ""
            continue
        opened = _FENCE.match(line)
        if opened and not (opened[1][0] == "`" and "`" in opened[2]):
            fence = opened[1]
            code.add(index)
    return code


def _links(text: str) -> Iterator[tuple[int, int, str]]:
    """``(line, col, destination)`` of every inline link, image and reference definition.

    Lines inside fenced or indented code are skipped, as are inline code spans.
    """
    if "](" not in text and "]:" not in text:
        return
    lines = text.split("\n")
    code = _code_lines(lines)
    if code is None:
        code = set()
        for token in parse_blocks(text):
            if token.type in ("fence", "code_block") and token.map:
                code.update(range(token.map[0], token.map[1]))
    for index, line in enumerate(lines):
        if index in code or ("](" not in line and "]:" not in line):
            continue
        masked = _CODE_SPAN.sub(lambda m: " " * len(m.group()), line)
        matches = [m for m in (_REF_DEF.match(masked),) if m] + list(_INLINE_LINK.finditer(masked))
        for m in matches:
            dest = m.group(1)
            if dest.startswith("<"):
                dest = dest[1:-1]
            yield index + 1, m.start(1) + 1, dest


def _check_links(skill: _Skill, file: Path, text: str, path: str, first_line: int) -> None:
    root = os.path.abspath(skill.folder)
    base = os.path.abspath(file.parent)
    for line, col, dest in _links(text):
        if not dest or dest.startswith(("#", "/", "\\")) or _SCHEME.match(dest):
            continue
        target = unquote(dest.split("#", 1)[0].split("?", 1)[0])
        if not target:
            continue
        where = (line + first_line - 1, col)
        resolved = os.path.normpath(os.path.join(base, target))
        if not os.path.exists(resolved):
            skill.add(path, *where, "error", f"link to {dest}: no such file",
                      "create the file, or fix the link (relative to this file's folder)", "broken-link")
        elif resolved != root and not resolved.startswith(root.rstrip(os.sep) + os.sep):
            skill.add(path, *where, "warning", f"link to {dest} leaves the skill's folder",
                      "agents install a skill folder alone; copy the file into the skill",
                      "link-outside")


# --- every file ---------------------------------------------------------------------------------


def _skill_files(folder: Path) -> Iterator[Path]:
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            yield Path(top) / name


def _check_files(skill: _Skill, skill_md: Path, doc: Document, md_shown: str) -> None:
    _check_links(skill, skill_md, doc.body, md_shown, doc.body_line)
    _scan_text(skill, doc.text, md_shown)
    for file in _skill_files(skill.folder):
        if file == skill_md or file.is_symlink() or not file.is_file():
            continue
        shown = f"{skill.shown}/{file.relative_to(skill.folder).as_posix()}".removeprefix("./")
        try:
            if file.stat().st_size > MAX_SCAN_BYTES:
                continue
            raw = file.read_bytes()
        except OSError:
            continue
        if b"\0" in raw:
            continue  # binary
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue  # not a text file this validator can read
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if file.suffix.lower() in (".md", ".markdown"):
            _check_links(skill, file, text, shown, 1)
        _scan_text(skill, text, shown)


def _mask(secret: str) -> str:
    return secret[:6] + "…" if len(secret) > 10 else secret[:2] + "…"


def _scan_text(skill: _Skill, text: str, path: str) -> None:
    for label, anchors, pattern in _SECRETS:
        if not any(anchor in text for anchor in anchors):
            continue
        for m in pattern.finditer(text):
            if "EXAMPLE" in m.group():
                continue
            line, col = _position(text, m.start())
            skill.add(path, line, col, "error", f"this looks like {label} ({_mask(m.group())})",
                      "remove it and revoke it; reference an environment variable instead", "secret")
    if text.isascii():
        return  # hidden characters and mojibake are all outside ASCII
    last_line = 0
    for m in _HIDDEN.finditer(text):
        char = m.group()
        prev = text[m.start() - 1] if m.start() else ""
        if char in _JOINERS and prev and (unicodedata.category(prev) in ("So", "Sk", "Lo", "Mn", "Mc")
                                          or prev in _JOINERS or ord(prev) >= 0x1F000):
            continue
        line, col = _position(text, m.start())
        if line == last_line:
            continue  # one finding per line is enough to send someone there
        last_line = line
        kind = "bidirectional control" if _BIDI_SET.match(char) else "invisible character"
        name = unicodedata.name(char, "")
        skill.add(path, line, col, "error", f"{kind} U+{ord(char):04X}{' ' + name if name else ''}",
                  "delete it: it changes or hides what a reader sees (Trojan Source); write visible "
                  "text instead", "unicode")
    last_line = 0
    lines: list[tuple[int, int, str, str]] = []
    for m in _MOJIBAKE.finditer(text):
        fixed = _unmojibake(m.group())
        if fixed is None:
            continue
        line, col = _position(text, m.start())
        if line == last_line:
            continue
        last_line = line
        lines.append((line, col, m.group(), fixed))
    for line, col, found, fixed in lines[:MAX_MOJIBAKE_LINES]:
        skill.add(path, line, col, "warning", f"{found!r} looks like mojibake for {fixed!r} "
                  "(UTF-8 read as Windows-1252)", f"replace it with {fixed!r}", "mojibake")
    if len(lines) > MAX_MOJIBAKE_LINES:
        line, col, _, _ = lines[MAX_MOJIBAKE_LINES]
        skill.add(path, line, col, "warning", f"{len(lines) - MAX_MOJIBAKE_LINES} more line(s) from here on "
                  "look like mojibake", "re-decode the file: its text was UTF-8 read as Windows-1252",
                  "mojibake")


def _unmojibake(text: str) -> str | None:
    data = bytearray()
    for char in text:
        code = ord(char)
        data += bytes([code]) if code < 0x100 else char.encode("cp1252")
    try:
        fixed = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return fixed if fixed != text else None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --- conventions and duplicates -----------------------------------------------------------------


def _check_conventions(skill: _Skill, doc: Document, md_shown: str) -> None:
    if not (skill.folder / CONVENTIONS_FILE).is_file():
        return
    shown = f"{skill.shown}/{CONVENTIONS_FILE}".removeprefix("./")
    try:
        conventions = load_conventions(skill.folder)
    except SkillError as exc:
        skill.add(shown, exc.line or 1, exc.col or 1, "error", exc.message, exc.hint, "conventions")
        return
    block = _files_block(doc.body)
    if block is None:
        skill.add(md_shown, doc.body_line, 1, "warning",
                  "the skill has conventions.yaml but its body lists no files it generates",
                  "add a section '## Files this skill generates' with a ```text block of every layout "
                  "path", "layout-drift")
        return
    line, listed = block
    layout = set(conventions.layout.values())
    missing, extra = sorted(layout - set(listed)), sorted(set(listed) - layout)
    if missing or extra:
        parts = ([f"not listed: {', '.join(missing)}"] if missing else []) + \
                ([f"not in conventions.yaml: {', '.join(extra)}"] if extra else [])
        skill.add(md_shown, line + doc.body_line - 1, 1, "error",
                  f"the files listed differ from conventions.yaml's layout ({'; '.join(parts)})",
                  "list every layout path, one per line, exactly as conventions.yaml writes it",
                  "layout-drift")


def _files_block(body: str) -> tuple[int, list[str]] | None:
    tokens = parse_blocks(body)
    in_section = False
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            title = tokens[i + 1].content.strip().lower() if i + 1 < len(tokens) else ""
            if token.tag == "h2":
                in_section = title == "files this skill generates"
            continue
        if in_section and token.type == "fence" and token.map:
            entries = [ln.strip() for ln in token.content.split("\n") if ln.strip()]
            return token.map[0] + 1, entries
    return None


def _duplicates(skills: Sequence[_Skill]) -> list[Finding]:
    first: dict[str, _Skill] = {}
    found = []
    for skill in skills:
        if skill.name is None:
            continue
        other = first.setdefault(skill.name, skill)
        if other is not skill:
            found.append(Finding(skill.skill_md, *skill.name_at, "error",
                                 f"two skills are named {skill.name!r}: this one and {other.skill_md}",
                                 "agents pick one of them unpredictably; rename one (and its folder)",
                                 "duplicate-name"))
    return found
