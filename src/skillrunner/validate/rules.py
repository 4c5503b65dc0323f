"""Every rule the validator reports, by its stable id: severity and meaning."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "Rule"]


@dataclass(frozen=True)
class Rule:
    """One rule: its id (what findings, ``ignore`` and baselines name), severity and meaning."""

    id: str
    severity: str  # "error", "warning", or "error or warning" when the case decides
    meaning: str
    group: str


_E, _W, _EW = "error", "warning", "error or warning"

#: The rules in the order ``validate --rules`` and the documentation list them. Ids never change.
RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("not-a-skill", _E, "a path given is not a skill folder, SKILL.md or folder holding skills", "files"),
    Rule("no-skills", _E, "a run found no skill to check (it would pass having checked nothing)", "files"),
    Rule("skill-md-name", _E, "the skill file is not named exactly SKILL.md", "files"),
    Rule("read", _E, "a skill file cannot be read", "files"),
    Rule("encoding", _E, "a file is not valid UTF-8", "files"),
    Rule("frontmatter", _E, "SKILL.md has no frontmatter, or it is never closed", "frontmatter"),
    Rule("yaml", _E, "the frontmatter is not valid YAML, or not a mapping of keys", "frontmatter"),
    Rule("duplicate-key", _E, "a frontmatter key is given twice", "frontmatter"),
    Rule("unknown-field", _E, "a key neither the specification nor an enabled profile allows", "frontmatter"),
    Rule("field-type", _EW, "a profile's key has the wrong type (text, true/false, list, mapping)",
         "frontmatter"),
    Rule("field-value", _W, "a profile's key has a value its agent does not document", "frontmatter"),
    Rule("name-required", _E, "no name, or an empty one", "name"),
    Rule("name-type", _E, "the name is not a string (quote it)", "name"),
    Rule("name-format", _E, "the name has characters other than a-z, 0-9 and single inner hyphens", "name"),
    Rule("name-length", _E, "the name is longer than 64 characters", "name"),
    Rule("name-mismatch", _E, "the name differs from the skill folder's name", "name"),
    Rule("duplicate-name", _E, "two skills with one name in one scope (a plugin, or the rest)", "name"),
    Rule("description-required", _E, "no description, or an empty one", "description"),
    Rule("description-type", _E, "the description is not a string", "description"),
    Rule("description-length", _E, "the description is longer than 1024 characters", "description"),
    Rule("description-angle-brackets", _E, "the description holds < or > (agents' loaders refuse them)",
         "description"),
    Rule("description-guidance", _W, "the description does not say when to use the skill", "description"),
    Rule("compatibility-type", _E, "compatibility is not a non-empty string", "frontmatter"),
    Rule("compatibility-length", _E, "compatibility is longer than 500 characters", "frontmatter"),
    Rule("license-type", _E, "license is not a non-empty string", "frontmatter"),
    Rule("metadata-type", _E, "metadata is not a mapping of strings to strings", "frontmatter"),
    Rule("allowed-tools", _EW, "allowed-tools is not one space-separated string (commas or a list warn)",
         "frontmatter"),
    Rule("body-empty", _W, "the body after the frontmatter is empty", "body"),
    Rule("body-length", _W, "the body is over 500 lines", "body"),
    Rule("body-tokens", _W, "the body is over about 5000 tokens", "body"),
    Rule("broken-link", _E, "a relative link or image whose file does not exist", "links"),
    Rule("link-root-relative", _W, "a link that resolves only from the skill's root, not its file's folder",
         "links"),
    Rule("link-outside", _W, "a link to a file outside the skill's folder", "links"),
    Rule("missing-file", _W, "SKILL.md names a scripts/, references/ or assets/ file that does not exist",
         "links"),
    Rule("secret", _E, "something that looks like a real credential (placeholders are let through)",
         "content"),
    Rule("unicode", _E, "a bidirectional override or isolate, or an invisible character", "content"),
    Rule("unicode-mark", _W, "a bidirectional mark (U+200E, U+200F, U+061C) outside right-to-left text",
         "content"),
    Rule("mojibake", _W, "UTF-8 text that was read as Windows-1252 (\u00e2\u20ac\u2122 for \u2019)",
         "content"),
    Rule("unknown-rule", _E, "an inline ignore[...] comment names no rule", "runner"),
    Rule("conventions", _E, "the skill's conventions.yaml does not load", "runner"),
    Rule("layout-drift", _EW, "the files SKILL.md lists differ from conventions.yaml's layout", "runner"),
)}
