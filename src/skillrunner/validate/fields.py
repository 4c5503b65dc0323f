"""The frontmatter's keys: the specification's rules, and the keys agents document (profiles)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from skillrunner.errors import UsageError
from skillrunner.findings import Severity
from skillrunner.frontmatter import Document
from skillrunner.validate.config import closest, split_names
from skillrunner.validate.profiles import ALLOWED_FIELDS, LOOSE_FLAGS, PROFILES, FieldRule, Profile

__all__ = ["MAX_COMPATIBILITY_LENGTH", "MAX_DESCRIPTION_LENGTH", "MAX_NAME_LENGTH", "check_fields",
           "profile_rules"]

MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 1024
MAX_COMPATIBILITY_LENGTH = 500

#: ``add(key, severity, message, hint, rule)``: a finding at the key's line.
Add = Callable[[str, Severity, str, str, str], None]

_NAME_CHARS = re.compile(r"[^a-z0-9-]")
_USE_WHEN = re.compile(
    r"\b(?:use|used|invoke|invoked|apply|applies|applied|trigger|triggered|load)\b(?:\W+\w+){0,4}?\W+"
    r"(?:when|whenever|if|for|on|after|before|while)\b|\bfor\s+when\b"
    r"|\bwhen(?:ever)?\s+(?:the\s+|a\s+|an\s+)?(?:users?|you|asked|working|adding|building|creating|"
    r"writing|implementing|reviewing|fixing|debugging|starting|handling)\b"
    # "TRIGGERS - ...", "Triggers on ...", "Trigger: ...": a list of when, in other words
    r"|\btrigger(?:s|ed)?\b\s*(?:[-\u2013\u2014:(]|on\b|when\b|by\b|for\b|if\b|include|phrases?\b|words?\b)",
    re.IGNORECASE,
)


def profile_rules(profiles: Sequence[str]) -> dict[str, FieldRule]:
    """The keys of the named profiles (comma-separated names too); :class:`UsageError` on an unknown one."""
    rules: dict[str, FieldRule] = {}
    for name in split_names(profiles):
        profile = PROFILES.get(name.lower())
        if profile is None:
            close = closest(name.lower(), PROFILES, 0.5)
            raise UsageError(f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}",
                             hint=f"did you mean --profile {close}?" if close else
                             "pass one of them, or --allow-field NAME for a key no profile has")
        rules.update(profile.fields)
    return rules


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
    close = closest(key, sorted(allowed), 0.75)
    if close:
        return f"did you mean {close!r}?"
    readers = [p for p in PROFILES.values() if key in p.fields]
    if not readers:
        known = sorted({k for p in PROFILES.values() for k in p.fields} - allowed)
        close = closest(key, known, 0.75)
        if close:
            readers = [p for p in PROFILES.values() if close in p.fields]
            return f"did you mean {close!r}? {_read_by(readers)}"
        return (f"the specification allows only {', '.join(ALLOWED_FIELDS)}; put your own data under "
                f"metadata, or pass --allow-field {key} if an agent reads it")
    return f"{_read_by(readers)}, or --allow-field {key}; otherwise put your own data under metadata"


def check_fields(doc: Document, folder: str, allowed: frozenset[str], rules: Mapping[str, FieldRule],
                 add: Add) -> str | None:
    """Check every frontmatter key of ``doc`` (a skill in the folder named ``folder``); return the
    skill's name when it has a usable one."""
    data = doc.data or {}
    for key in data:
        if key not in allowed:
            add(key, "error", f"unknown frontmatter key {key!r}", _unknown_key_hint(key, allowed),
                "unknown-field")
        elif key in rules and key not in ALLOWED_FIELDS:  # the specification's keys: checked below
            _check_rule(key, data[key], rules[key], add)
    name = _check_name(data, folder, add)
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
    if "allowed-tools" in data:
        _check_allowed_tools(data["allowed-tools"], rules.get("allowed-tools"), add)
    return name


def _top_level_commas(text: str) -> list[str] | None:
    """``text`` split at commas outside parentheses (``Bash(git add:*, git commit:*)`` is one tool),
    or None when it has none."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth <= 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if not parts:
        return None
    return [p for p in [*parts, text[start:].strip()] if p]


def _check_allowed_tools(tools: Any, rule: FieldRule | None, add: Add) -> None:
    """One policy: the specification's space-separated string; commas or a YAML list are read by
    Claude Code, so they warn, and pass when a profile that documents them is on."""
    if rule is not None:
        _check_rule("allowed-tools", tools, rule, add)
        return
    if isinstance(tools, list) and all(isinstance(t, str) for t in tools):
        add("allowed-tools", "warning", "allowed-tools is a YAML list; the specification makes it "
            "one space-separated string", f"write allowed-tools: {' '.join(tools)} (or turn on the "
            "claude-code profile, which reads lists)", "allowed-tools")
    elif not isinstance(tools, str) or not tools.strip():
        add("allowed-tools", "error", f"allowed-tools must be a space-separated string, not "
            f"{_type_name(tools)}", "for example: allowed-tools: Bash(git:*) Read", "allowed-tools")
    elif (parts := _top_level_commas(tools)) is not None:
        add("allowed-tools", "warning", "allowed-tools separates tools with commas; the specification "
            "separates them with spaces", f"write allowed-tools: {' '.join(parts)} (or turn on the "
            "claude-code profile, which reads commas)", "allowed-tools")


def _check_rule(key: str, value: Any, rule: FieldRule, add: Add) -> None:
    """One profile key's value against what its agent documents."""
    shown = f" ({value!r})" if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    if value is None or value in ("", [], {}) or (isinstance(value, str) and not value.strip()):
        add(key, "error", f"{key} is empty", "give it a value, or delete the key", "field-type")
        return
    if rule.kind == "flag":
        if isinstance(value, bool):
            return
        if isinstance(value, int | str) and str(value).strip().lower() in LOOSE_FLAGS:
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


def _check_name(data: Mapping[str, Any], folder: str, add: Add) -> str | None:
    if "name" not in data:
        add("name", "error", "frontmatter has no name",
            f"add name: {folder} (the folder's name)", "name-required")
        return None
    name = data["name"]
    if not isinstance(name, str):
        add("name", "error", f"name must be a string, not {_type_name(name)}",
            f'quote it: name: "{folder}"' if name is not None else f"write name: {folder}",
            "name-required" if name is None else "name-type")
        return None
    if not name:
        add("name", "error", "name is empty", f"write name: {folder}", "name-required")
        return None
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
    return name


def _check_description(data: Mapping[str, Any], add: Add) -> None:
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
    if "<" in text or ">" in text:
        add("description", "error", "description holds < or >",
            "write the words instead (less than, at least, an arrow) or drop the brackets: agents' "
            "skill loaders refuse angle brackets, which read as markup in the system prompt",
            "description-angle-brackets")
    when = data.get("when_to_use")
    if not _USE_WHEN.search(text) and not (isinstance(when, str) and when.strip()):
        add("description", "warning", "description does not say when to use the skill",
            'add a sentence such as "Use when the user asks to ..."; agents choose skills by it',
            "description-guidance")


def _check_metadata(meta: Any, add: Add) -> None:
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
