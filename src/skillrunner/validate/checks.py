"""One skill checked: its SKILL.md, body, every file in its folder, its conventions; then duplicates."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillrunner.conventions import CONVENTIONS_FILE, load_conventions
from skillrunner.errors import SkillError
from skillrunner.findings import Finding, Severity
from skillrunner.frontmatter import Document, parse_document
from skillrunner.skills import SKILL_FILE
from skillrunner.validate.config import inline_ignores
from skillrunner.validate.discover import SKIP_DIRS, skill_file
from skillrunner.validate.fields import check_fields
from skillrunner.validate.links import check_links, missing_files
from skillrunner.validate.profiles import FieldRule
from skillrunner.validate.secrets import find_secrets
from skillrunner.validate.text import hidden_characters, mojibake

__all__ = ["MAX_BODY_LINES", "MAX_BODY_TOKENS", "MAX_MOJIBAKE_LINES", "MAX_SCAN_BYTES", "TEXT_SUFFIXES",
           "Checked", "check_skill", "duplicates"]

MAX_BODY_LINES = 500
MAX_BODY_TOKENS = 5000
#: Mojibake is reported line by line up to this many lines per file, then summed up.
MAX_MOJIBAKE_LINES = 5
#: Files larger than this are not scanned for secrets and hidden characters.
MAX_SCAN_BYTES = 2_000_000
#: Files of these kinds are text: one that is not valid UTF-8 is an ``encoding`` error (other files
#: that do not decode are taken for binaries).
TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".rst", ".yaml", ".yml", ".json", ".toml", ".ini",
                           ".cfg", ".csv", ".xml", ".html", ".htm", ".css", ".py", ".sh", ".bash", ".ps1",
                           ".js", ".mjs", ".ts", ".sql", ".j2", ".jinja", ".tmpl"})
#: Templates and binaries the skill hands out: their links point into the user's project.
_NO_LINK_CHECK = "assets"


@dataclass
class Checked:
    """One skill's result: where it is, its name, its findings, and the rules inline comments silence
    (file -> line -> rule ids)."""

    folder: Path
    shown: str  # the folder as printed in findings
    plugin: tuple[Path, str] | None = None
    name: str | None = None
    name_at: tuple[int, int] = (1, 1)
    skill_md: str = ""
    findings: list[Finding] = field(default_factory=list)
    silenced: dict[str, dict[int, frozenset[str]]] = field(default_factory=dict)

    def add(self, path: str, line: int, col: int, severity: Severity, message: str, hint: str,
            code: str) -> None:
        self.findings.append(Finding(path, line, col, severity, message, hint, code))



def check_skill(folder: Path, shown: str, allowed: frozenset[str], rules: Mapping[str, FieldRule],
                plugin: tuple[Path, str] | None = None) -> Checked:
    """Every check on the skill in ``folder`` (shown as ``shown``); ``allowed`` keys are accepted,
    those with ``rules`` type-checked. Inline ignores are recorded, not yet applied."""
    skill = Checked(folder, shown, plugin)
    skill_md = skill_file(folder)
    if skill_md is None:
        skill.add(shown, 1, 1, "error", f"no {SKILL_FILE} in this folder",
                  f"a skill is a folder holding {SKILL_FILE}", "not-a-skill")
        return skill
    md_shown = f"{shown}/{skill_md.name}" if shown != "." else skill_md.name
    skill.skill_md = md_shown
    if skill_md.name != SKILL_FILE:
        skill.add(md_shown, 1, 1, "error", f"the file must be named {SKILL_FILE}, not {skill_md.name}",
                  f"rename it to {SKILL_FILE}: agents look for that exact name", "skill-md-name")
    if skill_md.is_symlink() and not skill_md.exists():
        skill.add(md_shown, 1, 1, "error", f"a symlink whose target is missing ({os.readlink(skill_md)})",
                  "point the link at an existing file, or replace it with the file", "read")
        return skill
    try:
        raw = skill_md.read_bytes()
    except OSError as exc:
        skill.add(md_shown, 1, 1, "error", f"cannot read the file: {exc.strerror or exc}",
                  "check its permissions", "read")
        return skill
    doc = parse_document(raw, md_shown)
    skill.findings += doc.findings
    skill.silenced[md_shown], unknown = inline_ignores(doc.text, md_shown)
    skill.findings += unknown
    folder_name = folder.name or folder.resolve().name
    if not doc.has_frontmatter:
        skill.add(md_shown, 1, 1, "error", f"{SKILL_FILE} has no frontmatter",
                  f"start the file with a line ---, then name: {folder_name}, "
                  "description: what it does and when to use it, then a line ---", "frontmatter")
    elif doc.data is not None:
        def add(key: str, severity: Severity, message: str, hint: str, code: str) -> None:
            skill.add(md_shown, *doc.where(key), severity, message, hint, code)

        skill.name = check_fields(doc, folder_name, allowed, rules, add)
        skill.name_at = doc.where("name")
    _check_body(skill, doc, md_shown)
    _check_files(skill, skill_md, doc, md_shown)
    _check_conventions(skill, doc, md_shown)
    return skill


def _check_body(skill: Checked, doc: Document, path: str) -> None:
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
    plugin = str(skill.plugin[0]) if skill.plugin else None
    for at, col, named in missing_files(doc.body, os.path.abspath(skill.folder), plugin):
        skill.add(path, at + doc.body_line - 1, col, "warning", f"{named} is named here but the skill has no "
                  "such file", f"add {named} to the skill, or fix the path (relative to the skill's folder)",
                  "missing-file")


def _skill_files(folder: Path) -> Iterator[Path]:
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(top) / name


def _links(skill: Checked, file: Path, text: str, path: str, first_line: int) -> None:
    plugin = str(skill.plugin[0]) if skill.plugin else None
    for problem in check_links(text, os.path.abspath(file), os.path.abspath(skill.folder), plugin):
        skill.add(path, problem.line + first_line - 1, problem.col, "error" if problem.error else "warning",
                  problem.message, problem.hint, problem.code)


def _check_files(skill: Checked, skill_md: Path, doc: Document, md_shown: str) -> None:
    _links(skill, skill_md, doc.body, md_shown, doc.body_line)
    _scan_text(skill, doc.text, md_shown)
    for file in _skill_files(skill.folder):
        if file == skill_md or file.is_symlink() or not file.is_file():
            continue
        rel = file.relative_to(skill.folder).as_posix()
        shown = f"{skill.shown}/{rel}".removeprefix("./")
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
        except UnicodeDecodeError as exc:
            if file.suffix.lower() not in TEXT_SUFFIXES:
                continue  # a binary without NUL bytes, most likely
            skill.add(shown, *_byte_position(raw, exc.start), "error",
                      f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}): agents read skill files as UTF-8",
                      "save the file as UTF-8", "encoding")
            text = raw.decode("utf-8-sig", errors="replace")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        silenced, unknown = inline_ignores(text, shown)
        skill.findings += unknown
        if silenced:
            skill.silenced[shown] = silenced
        if file.suffix.lower() in (".md", ".markdown") and not rel.startswith(_NO_LINK_CHECK + "/"):
            _links(skill, file, text, shown, 1)
        _scan_text(skill, text, shown)


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    return raw.count(b"\n", 0, offset) + 1, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _scan_text(skill: Checked, text: str, path: str) -> None:
    for offset, message in find_secrets(text):
        skill.add(path, *_position(text, offset), "error", message,
                  "remove it and revoke it; reference an environment variable instead", "secret")
    if text.isascii():
        return  # hidden characters and mojibake are all outside ASCII
    for offset, is_error, message in hidden_characters(text):
        if is_error:
            skill.add(path, *_position(text, offset), "error", message,
                      "delete it: it changes or hides what a reader sees (Trojan Source); write visible "
                      "text instead", "unicode")
        else:
            skill.add(path, *_position(text, offset), "warning", message,
                      "delete it unless it orders right-to-left text, which it is not next to here",
                      "unicode-mark")
    lines = list(mojibake(text))
    for offset, found, fixed in lines[:MAX_MOJIBAKE_LINES]:
        skill.add(path, *_position(text, offset), "warning", f"{found!r} looks like mojibake for {fixed!r} "
                  "(UTF-8 read as Windows-1252)", f"replace it with {fixed!r}", "mojibake")
    if len(lines) > MAX_MOJIBAKE_LINES:
        offset = lines[MAX_MOJIBAKE_LINES][0]
        more = len(lines) - MAX_MOJIBAKE_LINES
        skill.add(path, *_position(text, offset), "warning",
                  f"{more} more line(s) from here on look like mojibake",
                  "re-decode the file: its text was UTF-8 read as Windows-1252", "mojibake")


# --- conventions and duplicates -----------------------------------------------------------------


def _check_conventions(skill: Checked, doc: Document, md_shown: str) -> None:
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
    from skillrunner.markdown import parse_blocks

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


def duplicates(skills: Sequence[Checked]) -> list[Finding]:
    """Two skills of one name in one scope: a Claude Code plugin (its skills are ``plugin:name``), or
    everything outside plugins."""
    first: dict[tuple[str, str], Checked] = {}
    found = []
    for skill in skills:
        if skill.name is None:
            continue
        scope = str(skill.plugin[0]) if skill.plugin else ""
        other = first.setdefault((scope, skill.name), skill)
        if other is not skill:
            where = f" in plugin {skill.plugin[1]!r}" if skill.plugin else ""
            found.append(Finding(skill.skill_md, *skill.name_at, "error",
                                 f"two skills{where} are named {skill.name!r}: this one and {other.skill_md}",
                                 "agents pick one of them unpredictably; rename one (and its folder)",
                                 "duplicate-name"))
    return found
