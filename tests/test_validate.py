"""The skill validator: a corpus of SKILL.md cases, the reference validator side by side, fuzzing, the CLI."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import skills_ref  # type: ignore[import-untyped]
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Cli
from skillrunner.errors import UsageError
from skillrunner.findings import Finding
from skillrunner.frontmatter import parse_document
from skillrunner.resources import packaged_dir
from skillrunner.validate import PROFILES, PROJECT_FOLDERS, RULES, check_skills, validate_skills

REPO = Path(__file__).resolve().parents[1]
DESC = "Formats invoices as PDF. Use when the user asks for an invoice."
BODY = "\n# Demo\n\nDo the thing, then check it.\n"


def fm(*lines: str, name: str = "demo-skill", description: str = DESC, body: str = BODY) -> str:
    """A SKILL.md: name and description (unless None-like empty strings are given), extra lines."""
    head = ([f"name: {name}"] if name else []) + ([f"description: {description}"] if description else [])
    return "---\n" + "".join(line + "\n" for line in [*head, *lines]) + "---\n" + body


@dataclass(frozen=True)
class Case:
    """One skill folder: what it holds and the finding codes it must give, no more, no less."""

    id: str
    skill_md: str | bytes | None
    errors: frozenset[str] = frozenset()
    warnings: frozenset[str] = frozenset()
    folder: str = "demo-skill"
    files: Mapping[str, str | bytes] = field(default_factory=dict)  # relative to the skill folder
    allow: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()


def case(id: str, skill_md: str | bytes | None, errors: str = "", warnings: str = "", **kw: object) -> Case:
    return Case(id, skill_md, frozenset(errors.split()), frozenset(warnings.split()), **kw)  # type: ignore[arg-type]


_CONVENTIONS = (packaged_dir("skills") / "backend-builder" / "conventions.yaml").read_text(encoding="utf-8")
_LAYOUT = sorted(yaml.safe_load(_CONVENTIONS)["layout"].values())
_FILES_SECTION = "\n## Files this skill generates\n\n```text\n" + "\n".join(_LAYOUT) + "\n```\n"
_PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"

CASES: list[Case] = [
    # --- valid skills
    case("valid-minimal", fm()),
    case("valid-all-fields", fm("license: Apache-2.0", "compatibility: Python 3.11+ and network access",
                                "metadata:", "  author: example-org", '  version: "1.0"',
                                "allowed-tools: Bash(git:*) Read")),
    case("valid-crlf", fm("license: MIT").replace("\n", "\r\n")),
    case("valid-bom", "\ufeff" + fm()),
    case("valid-folded-description", fm(description=">-\n  Formats invoices.\n  Use when asked.")),
    case("valid-dashes-in-description", fm(description="Splits a --- b. Use when the user asks.")),
    case("valid-quoted-dashes", fm(description='"Splits x --- y. Use when the user asks."')),
    case("valid-flow-metadata", fm("metadata: {author: me, version: '2'}")),
    case("valid-anchor-alias", fm("license: &l MIT", "compatibility: *l")),
    case("valid-name-64", fm(name="a" * 64), folder="a" * 64),
    case("valid-name-digits", fm(name="pdf-2-docx"), folder="pdf-2-docx"),
    case("valid-description-1024", fm(description="Use when asked. " + "x" * 1008)),
    case("valid-links", fm(body="\n[guide](references/guide.md#setup) and ![logo](assets/logo%20one.png)\n"
                                "[site](https://example.com) [mail](mailto:a@b.c) [top](#demo)\n"
                                "`[not](a-link.md)` and\n\n```md\n[in code](missing.md)\n```\n\n"
                                "    [indented](missing.md)\n\n[ref]: references/guide.md\n"),
         files={"references/guide.md": "# Guide\n\n[back](../SKILL.md)\n",
                "assets/logo one.png": b"\x89PNG\0"}),
    case("valid-emoji",
         fm(body="\n\u2705 done, \u2764\ufe0f, family \U0001F468\u200d\U0001F469\u200d\U0001F467\n")),
    case("valid-zwnj-persian", fm(body="\n\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645\n")),
    case("valid-allow-field", fm("argument-hint: <feature>"), allow=("argument-hint",)),
    case("valid-allow-field-commas", fm("x-one: 1", "x-two: b"), allow=("x-one, x-two",)),
    case("valid-claude-code-profile", fm(
        "when_to_use: When the user asks for an invoice as a PDF.", 'argument-hint: "[invoice-id]"',
        "arguments:", "  - invoice", "  - format", "disable-model-invocation: true", "user-invocable: false",
        "allowed-tools: Read, Grep", "disallowed-tools:", "  - AskUserQuestion", "model: sonnet",
        "effort: high", "context: fork", "agent: Explore", "background: false", "hooks:",
        "  Stop:", "    - hooks:", "        - type: command", "          command: echo done",
        "paths: src/**/*.py, tests/**", "shell: bash"), profiles=("claude-code",)),
    case("valid-claude-code-allowed-tools-list", fm("allowed-tools:", "  - Read", "  - Grep"),
         profiles=("claude-code",)),
    case("valid-copilot-profile", fm("argument-hint: <file>", "user-invocable: true", "context: fork"),
         profiles=("copilot",)),
    case("valid-cursor-profile", fm("disable-model-invocation: true"), profiles=("cursor",)),
    case("valid-profiles-combined", fm("disable-model-invocation: true", "effort: low"),
         profiles=("cursor,claude-code",)),
    case("valid-example-aws-key", fm(body="\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n")),
    case("valid-conventions", fm(body=BODY + _FILES_SECTION), files={"conventions.yaml": _CONVENTIONS}),
    case("valid-emoji-variation-sequences", fm(body="\n\u2139\ufe0f info, \u203c\ufe0f, 1\ufe0f\u20e3 step, "
                                                   "#\ufe0f\u20e3, \u00a9\ufe0f\n")),
    case("valid-mark-in-hebrew", fm(body="\n\u05e9\u05dc\u05d5\u05dd\u200f (hello)\n")),
    case("valid-placeholder-secrets", fm(body="\nAIza" + "X" * 35 + " and https://hooks.slack.com/services/"
                                            "T00/B00/xxx\nExample: AKIA" + "QZ4HJ7K2LM9PTWRN\n")),
    case("valid-footnotes-and-template-brackets", fm(body="\nA claim.[^1]\n\n[^1]: see references/x.md\n"
                                                          "[Name]: the user's name\n[TODO]: later.md\n")),
    case("valid-basedir-link", fm(body="\n[guide]({baseDir}/references/guide.md), "
                                       "[api](${CLAUDE_SKILL_DIR}/references/guide.md)\n"),
         files={"references/guide.md": "# Guide\n"}),
    case("valid-trigger-wording", fm(description="Reviews code. TRIGGERS - review this, check my diff.")),
    case("valid-triggers-on", fm(description="Writes changelogs. Triggers on release preparation.")),
    case("valid-assets-not-link-checked", fm(), files={"assets/page.md": "[home](src/pages/home.md)\n"}),
    # --- files and frontmatter structure
    case("no-skill-md", None, "not-a-skill", files={"README.md": "# not a skill\n"}),
    case("lowercase-skill-md", None, "skill-md-name", files={"skill.md": fm()}),
    case("no-frontmatter", "# Demo\n\nJust a body.\n", "frontmatter"),
    case("frontmatter-after-blank-line", "\n" + fm(), "frontmatter"),
    case("frontmatter-unclosed", "---\nname: demo-skill\ndescription: x\n", "frontmatter"),
    case("frontmatter-closing-not-whole-line", "---\nname: demo-skill\ndescription: x ---\nbody\n",
         "frontmatter"),
    case("frontmatter-empty", "---\n---\n# Demo\n", "name-required description-required"),
    case("yaml-syntax-error", fm(description="Use when: the user asks"), "yaml"),
    case("yaml-not-a-mapping", "---\n- name\n- description\n---\n# Demo\n", "yaml"),
    case("yaml-tab", "---\nname:\tdemo-skill\n\tdescription: x\n---\n# Demo\n", "yaml"),
    case("yaml-duplicate-key", fm("name: other"), "duplicate-key"),
    case("yaml-python-tag", fm("license: !!python/object:os.system ls"), "yaml"),
    case("invalid-utf8", b"---\nname: demo-skill\ndescription: caf\xe9. Use when x.\n---\n# Demo\n",
         "encoding"),
    # --- name
    case("name-missing", fm(name=""), "name-required"),
    case("name-empty", fm("name: ''", name=""), "name-required"),
    case("name-null", fm("name:", name=""), "name-required"),
    case("name-uppercase", fm(name="Demo-Skill"), "name-format", folder="Demo-Skill"),
    case("name-leading-hyphen", fm(name="-demo"), "name-format", folder="-demo"),
    case("name-trailing-hyphen", fm(name="demo-"), "name-format", folder="demo-"),
    case("name-double-hyphen", fm(name="demo--skill"), "name-format", folder="demo--skill"),
    case("name-underscore", fm(name="demo_skill"), "name-format", folder="demo_skill"),
    case("name-space", fm(name="'demo skill'"), "name-format", folder="demo skill"),
    case("name-command-prefix", fm(name="sp.demo-skill"), "name-format name-mismatch"),
    case("name-too-long", fm(name="a" * 65), "name-length", folder="a" * 65),
    case("name-mismatch", fm(name="other-skill"), "name-mismatch"),
    case("name-unicode", fm(name="café"), "name-format", folder="café"),
    case("name-number", fm(name="123"), "name-type", folder="123"),
    case("name-list", fm("name:", "  - demo-skill", name=""), "name-type"),
    # --- description and the optional keys
    case("description-missing", fm(description=""), "description-required"),
    case("description-empty", fm("description: '   '", description=""), "description-required"),
    case("description-list", fm("description:", "  - a", description=""), "description-type"),
    case("description-too-long", fm(description="Use when asked. " + "x" * 1009), "description-length"),
    case("description-no-guidance", fm(description="Formats invoices as PDF."), "", "description-guidance"),
    case("unknown-field", fm("version: 1.0.0"), "unknown-field"),
    case("unknown-field-typo", fm("licence: MIT"), "unknown-field"),
    case("agent-field-not-allowed", fm("argument-hint: <feature>"), "unknown-field"),
    case("agent-field-not-in-the-profile", fm("argument-hint: <feature>"), "unknown-field",
         profiles=("cursor",)),
    case("profile-flag-not-boolean", fm('disable-model-invocation: "yes please"'), "field-type",
         profiles=("claude-code",)),
    case("profile-flag-as-text", fm('user-invocable: "false"', "disable-model-invocation: 1"), "",
         "field-type", profiles=("claude-code",)),
    case("profile-flag-empty", fm("user-invocable:"), "field-type", profiles=("copilot",)),
    case("profile-text-number", fm("model: 4"), "field-type", profiles=("claude-code",)),
    case("profile-text-unquoted-brackets", fm("argument-hint: [issue-number]"), "", "field-type",
         profiles=("claude-code",)),
    case("profile-undocumented-value", fm("effort: huge", "context: inline"), "", "field-value",
         profiles=("claude-code",)),
    case("profile-words-mapping", fm("paths:", "  src: yes"), "field-type", profiles=("claude-code",)),
    case("profile-hooks-not-mapping", fm("hooks: on-activate"), "field-type", profiles=("claude-code",)),
    case("profile-key-typo", fm("when-to-use: asked"), "unknown-field", profiles=("claude-code",)),
    case("compatibility-too-long", fm("compatibility: " + "y" * 501), "compatibility-length"),
    case("compatibility-empty", fm("compatibility: ''"), "compatibility-type"),
    case("compatibility-mapping", fm("compatibility:", "  python: '3.11'"), "compatibility-type"),
    case("license-number", fm("license: 2"), "license-type"),
    case("metadata-not-mapping", fm("metadata: just text"), "metadata-type"),
    case("metadata-number", fm("metadata:", "  version: 1.0"), "metadata-type"),
    case("metadata-nested", fm("metadata:", "  owner:", "    team: x"), "metadata-type"),
    case("allowed-tools-list", fm("allowed-tools:", "  - Read", "  - Grep"), "", "allowed-tools"),
    case("allowed-tools-mapping", fm("allowed-tools:", "  read: yes"), "allowed-tools"),
    case("allowed-tools-commas", fm("allowed-tools: Read, Grep"), "", "allowed-tools"),
    case("description-angle-brackets", fm(description="Renames <old> to <new>. Use when asked."),
         "description-angle-brackets"),
    # --- links
    case("broken-link", fm(body="\nSee [the guide](references/guide.md).\n"), "broken-link"),
    case("broken-image", fm(body="\n![diagram](assets/flow.svg)\n"), "broken-link"),
    case("broken-reference-definition", fm(body="\nSee [guide].\n\n[guide]: references/gone.md\n"),
         "broken-link"),
    case("broken-link-in-reference", fm(body="\n[guide](references/guide.md)\n"), "broken-link",
         files={"references/guide.md": "# Guide\n\nSee [api](api.md).\n"}),
    case("link-outside", fm(body="\n[shared](../shared.md)\n"), "", "link-outside",
         files={"../shared.md": "# shared\n"}),
    case("link-from-the-root-in-a-reference", fm(body="\n[a](references/a.md)\n"), "", "link-root-relative",
         files={"references/a.md": "[b](references/b.md)\n", "references/b.md": "# B\n"}),
    case("broken-basedir-link", fm(body="\n[gone]({baseDir}/references/gone.md)\n"), "broken-link"),
    case("missing-script", fm(body="\nRun `python scripts/fill.py` first.\n"), "", "missing-file"),
    # --- secrets, hidden Unicode, mojibake
    case("secret-private-key", fm(body="\n" + _PRIVATE_KEY), "secret"),
    case("secret-aws-in-script", fm(), "secret",
         files={"scripts/deploy.sh": "AWS_KEY=AKIA" + "Q3EGRUWFZ4K7TN2P\n"}),
    case("secret-github-token", fm(), "secret",
         files={"references/ci.md": "token: ghp_" + "R8fk2LqP0vXz7Tn4Wd9sYb1Hc6Jm3Ge5Ua0Q\n"}),
    case("secret-in-dotenv", fm(), "secret", files={".env": "SLACK=xoxb-" + "2718281828-Qm7vT2pXk9Lw\n"}),
    case("bidi-override", fm(body="\naccess = 'user\u202e \u2066// admin\u2069'\n"), "unicode"),
    case("bidi-mark-in-latin-text", fm(body="\nplain\u200e text\n"), "", "unicode-mark"),
    case("variation-selector-after-a-letter", fm(body="\nplain a\ufe0f text\n"), "unicode"),
    case("zero-width-in-description", fm(description="Formats\u200b invoices. Use when asked."), "unicode"),
    case("unicode-tags", fm(body="\nhello\U000E0049\U000E0047\U000E004E\n"), "unicode"),
    case("mojibake", fm(body='\nExample: "\u00f0\u0178\u201c\u2039 Architectural decision detected"\n'),
         "", "mojibake"),
    # --- the body
    case("body-empty", fm(body=""), "", "body-empty"),
    case("body-too-long", fm(body="\n" + "line\n" * 501), "", "body-length"),
    case("body-too-many-tokens", fm(body="\n" + ("word " * 80 + "\n") * 60), "", "body-tokens"),
    # --- conventions for the runner
    case("conventions-broken", fm(), "conventions", files={"conventions.yaml": "root: backend\n"}),
    case("conventions-without-files-section", fm(), "", "layout-drift",
         files={"conventions.yaml": _CONVENTIONS}),
    case("conventions-files-drift", fm(body=BODY + _FILES_SECTION.replace("app/main.py\n", "app/app.py\n")),
         "layout-drift", files={"conventions.yaml": _CONVENTIONS}),
    # --- everything at once
    case("many-problems", "---\nname: Bad_Name\nversion: 2\nmetadata: 7\n---\n[x](nope.md) \u202e\n",
         "name-format name-mismatch unknown-field metadata-type description-required broken-link unicode"),
]


def _build(root: Path, c: Case) -> Path:
    folder = root / c.folder
    folder.mkdir(parents=True)
    if c.skill_md is not None:
        data = c.skill_md if isinstance(c.skill_md, bytes) else c.skill_md.encode("utf-8")
        (folder / "SKILL.md").write_bytes(data)
    for rel, content in c.files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def _codes(findings: list[Finding], severity: str) -> frozenset[str]:
    return frozenset(f.code for f in findings if f.severity == severity)


def test_the_corpus_is_large_and_named_uniquely() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(not c.errors for c in CASES) >= 15 and sum(bool(c.errors) for c in CASES) >= 40


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_corpus(c: Case, tmp_path: Path) -> None:
    folder = _build(tmp_path, c)
    findings = validate_skills([folder], project=tmp_path, allow_fields=c.allow, profiles=c.profiles)
    assert (_codes(findings, "error"), _codes(findings, "warning")) == (c.errors, c.warnings), \
        "".join(f"\n{f}" for f in findings)
    for f in findings:
        assert f.path.startswith(c.folder) and f.line >= 1 and f.col >= 1 and f.message and f.hint, f


# --- positions and messages -----------------------------------------------------------------------


def _one(tmp_path: Path, skill_md: str, files: Mapping[str, str] | None = None) -> list[Finding]:
    c = Case("x", skill_md, files=files or {})
    return validate_skills([_build(tmp_path, c)], project=tmp_path)


_LINK_HINT = "create the file, or fix the link (relative to this file's folder, or to the skill's root)"


def test_positions_point_at_the_key_and_into_the_body(tmp_path: Path) -> None:
    text = fm("licence: MIT", body="\nintro\n\nsee [g](refs/g.md) and [h](refs/h.md)\n")
    found = _one(tmp_path, text.replace("\n", "\r\n"))
    assert found == [
        Finding("demo-skill/SKILL.md", 4, 1, "error", "unknown frontmatter key 'licence'",
                "did you mean 'license'?", "unknown-field"),
        Finding("demo-skill/SKILL.md", 9, 9, "error", "link to refs/g.md: no such file",
                _LINK_HINT, "broken-link"),
        Finding("demo-skill/SKILL.md", 9, 28, "error", "link to refs/h.md: no such file",
                _LINK_HINT, "broken-link"),
    ]


def test_name_messages_and_hints(tmp_path: Path) -> None:
    found = _one(tmp_path, fm(name="sp.demo-skill"))
    assert [(f.line, f.col, f.message, f.hint) for f in found] == [
        (2, 1, "name 'sp.demo-skill' differs from its folder's name 'demo-skill'",
         "rename the folder to sp.demo-skill, or write name: demo-skill"),
        (2, 1, "name 'sp.demo-skill' has the character(s) '.'; only lowercase letters a-z, digits and "
               "hyphens are allowed", "for example: name: sp-demo-skill"),
    ]


def test_unknown_field_hint_names_allow_field(tmp_path: Path) -> None:
    [found] = _one(tmp_path, fm("argument-hint: x"))
    assert "--allow-field argument-hint" in found.hint and "metadata" in found.hint


def test_unknown_field_hint_names_the_profiles_that_read_it(tmp_path: Path) -> None:
    [found] = _one(tmp_path, fm("disable-model-invocation: true"))
    assert found.hint.startswith("Claude Code, GitHub Copilot in VS Code and Cursor read it: pass "
                                 "--profile claude-code (or copilot, cursor), or --allow-field "
                                 "disable-model-invocation")
    [typo] = _one(tmp_path / "t", fm("argument_hint: x"))
    assert typo.hint == ("did you mean 'argument-hint'? Claude Code and GitHub Copilot in VS Code read it: "
                         "pass --profile claude-code (or copilot)")


# A SKILL.md as spec-kit and `skillrunner init --agent claude` users write them for Claude Code.
_CLAUDE_SKILL = fm('argument-hint: "<feature> [notes]"', "user-invocable: true",
                   "disable-model-invocation: false", "compatibility: Claude Code", "metadata:",
                   "  author: github-spec-kit", "  source: templates/commands/plan.md", "allowed-tools:",
                   "  - Read", "  - Bash(git:*)")


def test_claude_code_keys_fail_by_default_and_pass_with_the_profile(tmp_path: Path) -> None:
    folder = _build(tmp_path, Case("claude", _CLAUDE_SKILL))
    default = validate_skills([folder], project=tmp_path)
    assert [(f.line, f.code) for f in default if f.severity == "error"] == [
        (4, "unknown-field"), (5, "unknown-field"), (6, "unknown-field")]
    assert validate_skills([folder], project=tmp_path, profiles=["claude-code"]) == []
    assert validate_skills([folder], project=tmp_path, profiles=["Claude-Code"]) == []


def test_a_wrong_type_under_the_profile_is_an_error_at_its_line(tmp_path: Path) -> None:
    folder = _build(tmp_path, Case("x", fm("model: sonnet", 'disable-model-invocation: "yes please"')))
    assert validate_skills([folder], project=tmp_path, profiles=["claude-code"]) == [
        Finding("demo-skill/SKILL.md", 5, 1, "error",
                "disable-model-invocation must be true or false, not a string ('yes please')",
                "write disable-model-invocation: true or disable-model-invocation: false, unquoted",
                "field-type")]


def test_allow_field_takes_commas_and_repeats(tmp_path: Path) -> None:
    folder = _build(tmp_path, Case("x", fm("x-one: a", "x-two: b", "x-three: c")))
    assert {f.message for f in validate_skills([folder], project=tmp_path, allow_fields=["x-one,x-two"])} == {
        "unknown frontmatter key 'x-three'"}
    assert validate_skills([folder], project=tmp_path, allow_fields=["x-one, x-two,", "x-three"]) == []


def test_unknown_profile_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        validate_skills([tmp_path], profiles=["claude-code", "claude"])
    assert raised.value.exit_code == 2
    assert raised.value.message == "unknown profile 'claude'; known profiles: claude-code, copilot, cursor"
    assert raised.value.hint == "did you mean --profile claude-code?"


def test_profiles_agree_on_the_keys_they_share() -> None:
    # Profiles combine (--profile a,b), so a key two agents document must have one rule.
    rules: dict[str, object] = {}
    for profile in PROFILES.values():
        assert profile.docs.startswith("https://") and profile.fields
        for key, rule in profile.fields.items():
            assert rules.setdefault(key, rule) == rule, f"{profile.name} disagrees on {key}"


def test_secrets_are_masked_and_located(tmp_path: Path) -> None:
    token = "ghp_" + "R8fk2LqP0vXz7Tn4Wd9sYb1Hc6Jm3Ge5Ua0Q"
    [found] = _one(tmp_path, fm(), {"scripts/ci.sh": f"#!/bin/sh\n  curl -H 'x: {token}'\n"})
    assert (found.path, found.line, found.col, found.code) == ("demo-skill/scripts/ci.sh", 2, 15, "secret")
    assert token not in found.message and "GitHub token (ghp_R8…)" in found.message


def test_hidden_unicode_names_the_character(tmp_path: Path) -> None:
    [found] = _one(tmp_path, fm(body="\nok\nif a\u202e:\n"))
    assert (found.line, found.col) == (7, 5)
    assert found.message == "bidirectional control U+202E RIGHT-TO-LEFT OVERRIDE"


def test_mojibake_says_what_was_meant(tmp_path: Path) -> None:
    [found] = _one(tmp_path, fm(body="\nit\u00e2\u20ac\u2122s\n"))
    assert found.message == ("'\u00e2\u20ac\u2122' looks like mojibake for '\u2019' "
                             "(UTF-8 read as Windows-1252)")


def test_mojibake_is_summed_up_after_five_lines(tmp_path: Path) -> None:
    found = _one(tmp_path, fm(body="\n" + "\u00e2\u201d\u201a x\n" * 8))
    assert [f.line for f in found] == [6, 7, 8, 9, 10, 11]
    assert found[-1].message == "3 more line(s) from here on look like mojibake"


def test_yaml_error_is_located(tmp_path: Path) -> None:
    [found] = _one(tmp_path, fm(description="Use when: asked"))
    assert (found.line, found.code) == (3, "yaml")
    assert found.message.startswith("frontmatter is not valid YAML")


def test_duplicate_names_across_skills(tmp_path: Path) -> None:
    _build(tmp_path / "skills", Case("a", fm(name="same"), folder="same"))
    _build(tmp_path / "skills", Case("b", fm(name="same"), folder="zz-same"))
    found = validate_skills(project=tmp_path)
    dup = [f for f in found if f.code == "duplicate-name"]
    assert dup == [Finding("skills/zz-same/SKILL.md", 2, 1, "error",
                           "two skills are named 'same': this one and skills/same/SKILL.md",
                           "agents pick one of them unpredictably; rename one (and its folder)",
                           "duplicate-name")]
    assert {f.code for f in found} == {"duplicate-name", "name-mismatch"}


def test_duplicates_across_project_folders(tmp_path: Path) -> None:
    _build(tmp_path / "skills", Case("a", fm(), folder="demo-skill"))
    _build(tmp_path / ".claude/skills", Case("b", fm(), folder="demo-skill"))
    _build(tmp_path / "skills", Case("c", fm(name="backend-skill"), folder="backend-skill"))
    found = validate_skills(project=tmp_path)
    assert [(f.path, f.code) for f in found] == [(".claude/skills/demo-skill/SKILL.md", "duplicate-name")]


def test_no_paths_validates_the_project_folders_not_the_packaged_pack(tmp_path: Path) -> None:
    _build(tmp_path / ".agents/skills", Case("a", fm(name="Nope"), folder="nope"))
    _build(tmp_path / ".github/skills/group", Case("b", fm(name="deep"), folder="deep"))
    _build(tmp_path / "elsewhere", Case("c", fm(name="Elsewhere"), folder="elsewhere"))
    report = check_skills(project=tmp_path)
    assert {(f.path, f.code) for f in report.findings} == {(".agents/skills/nope/SKILL.md", "name-format"),
                                                           (".agents/skills/nope/SKILL.md", "name-mismatch")}
    assert report.roots == {".agents/skills": 1, ".github/skills": 1}
    empty = check_skills(project=tmp_path / "elsewhere" / "elsewhere")
    [none] = empty.findings
    assert (empty.skills, none.path, none.severity, none.code) == (0, ".", "error", "no-skills")
    assert none.message == f"no skills found: looked in {', '.join(PROJECT_FOLDERS)}"
    assert "skillrunner validate PATH" in none.hint and "ignore" in none.hint
    assert empty.failed() and empty.summary_line() == \
        f"validated 0 skills looked in {', '.join(PROJECT_FOLDERS)}: 1 error(s), 0 warning(s)"


def test_the_project_folders_include_every_agents_skills_folder() -> None:
    from skillrunner.agents import AGENTS
    from skillrunner.skills import SOURCES

    assert {a.skills for a in AGENTS.values() if a.skills} | set(SOURCES[:-1]) <= set(PROJECT_FOLDERS)


def test_paths_may_be_a_skill_md_or_a_folder_of_skills(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    _build(root, Case("a", fm(name="one"), folder="one"))
    _build(root, Case("b", fm(name="two", description="No guidance."), folder="two"))
    (root / "notes").mkdir()
    assert [f.path for f in validate_skills([root], project=tmp_path)] == ["pack/two/SKILL.md"]
    assert validate_skills([root / "one" / "SKILL.md"], project=tmp_path) == []
    [lone] = validate_skills([root / "notes"], project=tmp_path)
    assert (lone.path, lone.code) == ("pack/notes", "not-a-skill")
    assert lone.message == "no SKILL.md in this folder or any folder below it"
    (tmp_path / "x.txt").write_text("x")
    [other] = validate_skills([tmp_path / "x.txt", tmp_path / "gone"], project=tmp_path)[:1]
    assert other.code == "not-a-skill"


def test_one_skill_given_twice_is_checked_once(tmp_path: Path) -> None:
    folder = _build(tmp_path, Case("a", fm(description="No guidance.")))
    assert len(validate_skills([folder, folder / "SKILL.md"], project=tmp_path)) == 1


def test_paths_outside_the_project_stay_as_given(tmp_path: Path) -> None:
    folder = _build(tmp_path / "elsewhere", Case("a", fm(description="No guidance.")))
    [found] = validate_skills([folder], project=tmp_path / "project")
    assert found.path == f"{folder.as_posix()}/SKILL.md"


def test_the_shipped_pack_is_clean() -> None:
    assert validate_skills(project=REPO) == []
    assert validate_skills([packaged_dir("skills")]) == []


# --- the reference validator, side by side --------------------------------------------------------

#: Every case where skills-ref and this validator disagree on refusing, and why.
DIFFERENCES: dict[str, str] = {
    # The reference refuses, this validator accepts:
    "valid-bom": "the reference reads SKILL.md without stripping a UTF-8 BOM, so the opening --- is "
                 "not at the start; editors on Windows write BOMs and agents read past them",
    "valid-quoted-dashes": "the reference splits the file at the first '---' anywhere, cutting the quoted "
                           "description; the frontmatter closes only at a line that is exactly ---",
    "valid-flow-metadata": "strictyaml refuses YAML flow style ({...}); it is YAML, as the spec asks",
    "valid-anchor-alias": "strictyaml refuses anchors and aliases; they are YAML",
    "profile-text-unquoted-brackets": "strictyaml refuses flow style; YAML reads [issue-number] as a list, "
                                      "which is only a warning for a text key",
    # This validator refuses, the reference accepts:
    "lowercase-skill-md": "the reference accepts skill.md; the spec names the file SKILL.md and agents on "
                          "case-sensitive file systems look for that name",
    "frontmatter-closing-not-whole-line": "the reference ends the frontmatter at '---' inside a value and "
                                          "reads a truncated description; here it is never closed",
    "name-unicode": "the reference allows any Unicode letter (NFKC); the spec's name is lowercase a-z, "
                    "digits and hyphens",
    "name-number": "strictyaml reads every scalar as a string; YAML (and agents' YAML parsers) read 123 "
                   "as a number, so the name must be quoted",
    "license-number": "the same: license: 2 is a number in YAML",
    "compatibility-empty": "the spec says 1-500 characters when given; the reference checks only the maximum",
    "metadata-not-mapping": "the reference checks metadata only when it is a mapping",
    "metadata-number": "the spec says string values; YAML reads 1.0 as a float (and 1.10 as 1.1)",
    "metadata-nested": "the reference turns nested mappings into their Python repr; the spec says strings",
    "allowed-tools-mapping": "the reference does not check allowed-tools; the spec says a string",
    "broken-link": "beyond the reference: relative links must resolve",
    "broken-image": "beyond the reference",
    "broken-reference-definition": "beyond the reference",
    "broken-link-in-reference": "beyond the reference",
    "secret-private-key": "beyond the reference: likely secrets",
    "secret-aws-in-script": "beyond the reference",
    "secret-github-token": "beyond the reference",
    "secret-in-dotenv": "beyond the reference",
    "bidi-override": "beyond the reference: bidirectional controls",
    "zero-width-in-description": "beyond the reference: invisible characters",
    "unicode-tags": "beyond the reference",
    "conventions-broken": "beyond the reference: the runner's conventions must load",
    "conventions-files-drift": "beyond the reference: the files the body lists are the layout",
    "description-angle-brackets": "beyond the reference: Anthropic's own checker refuses < and > in a "
                                  "description",
    "broken-basedir-link": "beyond the reference",
    "variation-selector-after-a-letter": "beyond the reference: invisible characters",
}

#: What the reference's messages are about, and the codes that name the same rule here.
_RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("Missing required file", frozenset({"not-a-skill"})),
    ("must start with YAML frontmatter", frozenset({"frontmatter"})),
    ("not properly closed", frozenset({"frontmatter"})),
    ("Invalid YAML", frozenset({"yaml", "duplicate-key", "frontmatter"})),
    ("must be a YAML mapping", frozenset({"yaml", "name-required"})),
    ("Unexpected fields", frozenset({"unknown-field"})),
    ("field in frontmatter: name", frozenset({"name-required"})),
    ("Field 'name'", frozenset({"name-required", "name-type"})),
    ("Skill name", frozenset({"name-format", "name-length"})),
    ("Directory name", frozenset({"name-mismatch"})),
    ("field in frontmatter: description", frozenset({"description-required"})),
    ("Field 'description'", frozenset({"description-required", "description-type"})),
    ("Description exceeds", frozenset({"description-length"})),
    ("ompatibility", frozenset({"compatibility-type", "compatibility-length"})),
    ("UnicodeDecodeError", frozenset({"encoding"})),
)


def _reference(folder: Path) -> list[str]:
    try:
        return list(skills_ref.validate(folder))
    except Exception as exc:  # the reference raises on undecodable files
        return [f"{type(exc).__name__}: {exc}"]


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_against_the_reference(c: Case, tmp_path: Path) -> None:
    folder = _build(tmp_path, c)
    theirs = _reference(folder)
    ours = _codes(validate_skills([folder], project=tmp_path, allow_fields=c.allow, profiles=c.profiles),
                  "error")
    if c.id in DIFFERENCES:
        assert bool(theirs) != bool(ours), f"{c.id} is listed as a difference but both agree: {theirs}"
        return
    if c.allow or c.profiles:
        # The reference has no --allow-field or --profile: only the extra keys may separate the two.
        assert theirs == [] or all("Unexpected fields" in m for m in theirs), theirs
        return
    assert bool(theirs) == bool(ours), f"reference: {theirs}; ours: {sorted(ours)}"
    for message in theirs:
        same_rule = [codes for marker, codes in _RULES if marker in message]
        assert same_rule, f"no rule known for the reference's {message!r}"
        assert any(codes & ours for codes in same_rule), f"reference: {message!r}; ours: {sorted(ours)}"


def test_every_difference_names_a_case() -> None:
    assert set(DIFFERENCES) <= {c.id for c in CASES}


# --- fuzzing ----------------------------------------------------------------------------------------

_PIECES = [*"-:#'\"[]{}&*!|>?,% \t\n\r\\abcnm019é", "\ufeff", "\u202e", "\x00", "---\n", "name: ",
           "description: ", "metadata:\n  ", "\u00e2\u20ac", "](", "]: "]
_YAMLISH = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300) | _YAMLISH.map(lambda s: ("---\n" + s).encode("utf-8", "surrogatepass")))
def test_fuzz_any_bytes_give_findings_never_an_exception(raw: bytes,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = parse_document(raw, "SKILL.md")
    assert all(isinstance(f, Finding) for f in doc.findings)
    folder = tmp_path_factory.mktemp("fuzz") / "fuzz"
    folder.mkdir()
    (folder / "SKILL.md").write_bytes(raw)
    (folder / "notes.md").write_bytes(raw)
    for f in validate_skills([folder]):
        assert isinstance(f, Finding) and f.line >= 1 and f.col >= 1 and f.message


# --- the command line ---------------------------------------------------------------------------------


def test_cli_clean_run_exits_0(cli: Cli, project: Path) -> None:
    _build(project / "skills", Case("a", fm()))
    result = cli("validate")
    assert result.stdout == ""
    assert "validated 1 skill in skills/ (1): OK" in result.stderr


def test_cli_errors_exit_1_with_file_line_col(cli: Cli, project: Path) -> None:
    _build(project / "skills", Case("a", fm("version: 2")))
    result = cli("validate", expect=1)
    assert result.stdout.startswith("skills/demo-skill/SKILL.md:4:1: error: unknown frontmatter key "
                                    "'version' [unknown-field]\n  hint: ")
    assert "validated 1 skill in skills/ (1): 1 error(s), 0 warning(s)" in result.stderr
    assert cli("validate", "--allow-field", "version").exit_code == 0


def test_cli_profile_and_allow_field_commas(cli: Cli, project: Path) -> None:
    folder = _build(project, Case("a", _CLAUDE_SKILL.replace("user-invocable: true", "x-one: 1\nx-two: 2")))
    assert "[unknown-field]" in cli("validate", folder, expect=1).stdout
    result = cli("validate", folder, "--profile", "claude-code", "--allow-field", "x-one,x-two")
    assert result.stdout == "" and "validated 1 skill in demo-skill/ (1): OK" in result.stderr
    cli("validate", folder, "--profile", "cursor,claude-code", "--allow-field", "x-one",
        "--allow-field", "x-two")
    cli("validate", folder, "--profile", "claude-code", "--allow-field", "x-one", expect=1)


def test_cli_profile_type_error_and_json_shape(cli: Cli, project: Path) -> None:
    folder = _build(project, Case("a", fm('disable-model-invocation: "yes please"')))
    text = cli("validate", folder, "--profile", "claude-code", expect=1).stdout
    assert text.startswith("demo-skill/SKILL.md:4:1: error: disable-model-invocation must be true or "
                           "false, not a string ('yes please') [field-type]\n"
                           "  hint: write disable-model-invocation: ")
    out = cli("validate", folder, "--profile", "claude-code", "--format", "json", expect=1).stdout
    data = json.loads(out)
    assert data["summary"] == {"skills": 1, "roots": {"demo-skill": 1}, "errors": 1, "warnings": 0,
                               "ignored": 0, "baselined": 0, "config": None, "strict": False, "ok": False}
    [row] = data["findings"]
    assert row == {"file": "demo-skill/SKILL.md", "line": 4, "column": 1, "severity": "error",
                   "rule": "field-type", "message": "disable-model-invocation must be true or false, "
                   "not a string ('yes please')", "hint": "write disable-model-invocation: true or "
                   "disable-model-invocation: false, unquoted"}


def test_cli_unknown_profile_exits_2_naming_the_known_ones(cli: Cli, project: Path) -> None:
    _build(project / "skills", Case("a", fm()))
    result = cli("validate", "--profile", "claude-code,vim", expect=2)
    assert "error: unknown profile 'vim'; known profiles: claude-code, copilot, cursor" in result.stderr
    assert result.stdout == ""
    data = json.loads(cli("validate", "--profile", "vim", "--format", "json", expect=2).stdout)
    assert data["error"]["kind"] == "usage" and "claude-code, copilot, cursor" in data["error"]["message"]


def test_cli_help_lists_every_profile_and_its_keys(cli: Cli) -> None:
    out = cli("validate", "--help").stdout
    for profile in PROFILES.values():
        line = next(ln for ln in out.splitlines() if ln.split()[:1] == [profile.name])
        listed = line.split()[1:]
        for more in out.splitlines()[out.splitlines().index(line) + 1:]:
            if not more.startswith(" " * 15):
                break
            listed += more.split()
        assert set(profile.fields) <= set(listed), (profile.name, set(profile.fields) - set(listed))


def test_cli_strict_fails_on_warnings(cli: Cli, project: Path) -> None:
    folder = _build(project, Case("a", fm(description="Formats invoices.")))
    assert "description-guidance" in cli("validate", folder).stdout
    cli("validate", folder, "--strict", expect=1)


def test_cli_formats(cli: Cli, project: Path) -> None:
    folder = _build(project, Case("a", fm(name="Bad")))
    rows = json.loads(cli("validate", folder, "--format", "json", expect=1).stdout)["findings"]
    assert {r["rule"] for r in rows} == {"name-format", "name-mismatch"}
    assert set(rows[0]) == {"file", "line", "column", "severity", "rule", "message", "hint"}
    github = cli("validate", folder, "--format", "github", expect=1).stdout.splitlines()
    assert len(github) == 2
    assert all(line.startswith("::error file=demo-skill/SKILL.md,line=2,col=1,title=name-")
               for line in github)
    assert cli("validate", project / "nowhere", expect=2).exit_code == 2
    assert cli("validate", "--format", "xml", expect=2).exit_code == 2


def test_cli_never_shows_a_traceback(cli: Cli, project: Path) -> None:
    folder = project / "skills" / "broken"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_bytes(b"---\n\xff\xfe: [\x00\n---\n")
    result = cli("validate", expect=1)
    assert "Traceback" not in result.output
    assert "skills/broken/SKILL.md:2:1: error: not valid UTF-8" in result.stdout
    assert "broken" in cli("list").stdout
    shown = cli("show", "broken").stdout
    assert shown.startswith("broken  (skills: skills/broken/SKILL.md)")


def test_cli_list(cli: Cli, project: Path) -> None:
    _build(project / ".claude/skills", Case("a", fm(name="backend-skill"), folder="backend-skill"))
    lines = cli("list").stdout.splitlines()
    assert len(lines) == 5
    assert lines[-1].split() == ["backend-skill", ".claude/skills", ".claude/skills/backend-skill"]
    assert lines[0].split()[:2] == ["backend-builder", "packaged"]
    rows = json.loads(cli("list", "--json").stdout)
    assert rows[-1] == {"name": "backend-skill", "source": ".claude/skills",
                        "path": ".claude/skills/backend-skill", "description": DESC}


def test_cli_show(cli: Cli, project: Path) -> None:
    out = cli("show", "/sp.backend-engineer").stdout
    assert out.startswith("backend-engineer  (packaged: ")
    assert "\nfrontmatter:\n  name: backend-engineer\n" in out
    assert "another user's row 403, service layer yes" in out
    assert "\n# Backend Engineer\n" in out
    data = json.loads(cli("show", "backend-builder", "--json").stdout)
    assert data["conventions"]["error_envelope"] == "detail"
    assert data["frontmatter"]["name"] == "backend-builder"
    _build(project / "skills", Case("a", fm(), files={"conventions.yaml": "root: x\n"}))
    assert "conventions (conventions.yaml): broken: missing key(s)" in cli("show", "demo-skill").stdout
    result = cli("show", "backend-enginer", expect=1)
    assert "error: no skill named 'backend-enginer'" in result.stderr
    assert "did you mean 'backend-engineer'?" in result.stderr


def test_pre_commit_hook_runs_the_validator() -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "skillrunner-validate"
    assert hook["entry"].split()[:2] == ["skillrunner", "validate"]
    assert hook["language"] == "python" and hook["pass_filenames"] is False


def test_a_skill_in_an_agents_folder_may_use_that_agents_keys(tmp_path: Path) -> None:
    text = ("---\nname: sp-plan\ndescription: Plan one feature. Use when the person asks for a plan.\n"
            "argument-hint: <feature>\ndisable-model-invocation: true\n---\n\n"
            "Run skillrunner run /sp.plan.\n")
    for folder in (".claude/skills/sp-plan", "skills/sp-plan"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "SKILL.md").write_text(text, encoding="utf-8")
    claude = validate_skills([tmp_path / ".claude" / "skills"], project=tmp_path)
    plain = validate_skills([tmp_path / "skills"], project=tmp_path)
    assert [f for f in claude if f.severity == "error"] == []
    assert {f.message.split("'")[1] for f in plain if f.severity == "error"} == {
        "argument-hint", "disable-model-invocation"}


# --- the corpus of real-world habits (tests/skill_corpus/<habit>/, each with expected.txt) -----------

CORPUS = Path(__file__).parent / "skill_corpus"
HABITS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def test_the_habit_corpus_covers_each_habit_of_the_issue() -> None:
    assert {"nested-and-hidden", "plugins", "basedir-links", "footnotes", "emoji", "placeholder-secrets",
            "trigger-wording", "agent-keys", "allowed-tools", "ignores"} <= set(HABITS)


@pytest.mark.parametrize("habit", HABITS)
def test_habit_corpus(habit: str) -> None:
    folder = CORPUS / habit
    expected = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    [skills] = [int(line.split(":")[1]) for line in expected if line.startswith("# skills:")]
    report = check_skills([folder], project=folder)
    got = sorted(f"{f.path}:{f.line}:{f.col} {f.severity} {f.code}" for f in report.findings)
    assert got == sorted(line for line in expected if line.strip() and not line.startswith("#")), \
        "".join(f"\n{f}" for f in report.findings)
    assert report.skills == skills
    for f in report.findings:
        assert f.code in RULES and f.hint, f


def test_every_rule_a_case_gives_is_listed() -> None:
    codes = {code for c in CASES for code in c.errors | c.warnings}
    assert codes <= set(RULES), codes - set(RULES)
    assert all(r.meaning and r.severity in ("error", "warning", "error or warning") for r in RULES.values())


# --- discovery ---------------------------------------------------------------------------------------


def test_discovery_skips_git_node_modules_and_what_git_ignores(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("/generated/\n*.tmp/\n!keep.tmp/\n", encoding="utf-8")
    for where in ("skills", ".hidden/skills", "generated", "node_modules/pkg", ".git/x", "a/b.tmp",
                  "a/keep.tmp", "vendor/nested"):
        _build(tmp_path / where, Case("x", fm()))
    (tmp_path / "vendor" / ".gitignore").write_text("nested/\n", encoding="utf-8")
    report = check_skills([tmp_path], project=tmp_path)
    assert report.skills == 3
    # .hidden comes first: the other two are its duplicates
    assert sorted((f.path, f.code) for f in report.findings) == [
        ("a/keep.tmp/demo-skill/SKILL.md", "duplicate-name"),
        ("skills/demo-skill/SKILL.md", "duplicate-name")]
    assert report.roots == {".": 3}


def test_a_skill_folder_is_not_searched_for_more_skills(tmp_path: Path) -> None:
    folder = _build(tmp_path, Case("x", fm(), files={"examples/other/SKILL.md": fm(name="other")}))
    assert check_skills([folder], project=tmp_path).skills == 1


def test_a_plugin_skill_gets_the_claude_code_keys(tmp_path: Path) -> None:
    (tmp_path / ".claude-plugin").mkdir()
    (tmp_path / ".claude-plugin" / "plugin.json").write_text('{"name": "kit"}', encoding="utf-8")
    _build(tmp_path / "skills", Case("x", fm("argument-hint: <pr>", "allowed-tools: Read, Grep")))
    _build(tmp_path / "other", Case("y", fm("argument-hint: <pr>")))
    assert [(f.path, f.code) for f in validate_skills([tmp_path / "skills"], project=tmp_path)] == []
    assert validate_skills([tmp_path / "other"], project=tmp_path / "other")[0].code == "unknown-field"


# --- secrets, characters -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "placeholder"), [
    ("AIza" + "X" * 35, True), ("ghp_" + "A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7R8", True),
    ("https://hooks.slack.com/services/T00/B00/xxx", True), ("xoxb-" + "1234567890-abcdefghij", True),
    ("sk-ant-" + "aaaaabbbbbcccccdddddeeeeefffffgg", True), ("ghp_" + "ab" * 18, True),
    ("ghp_" + "R8fk2LqP0vXz7Tn4Wd9sYb1Hc6Jm3Ge5Ua0Q", False), ("AKIA" + "Q3EGRUWFZ4K7TN2P", False),
    ("https://hooks.slack.com/services/" + "T024BE7LD/B08QK2N1M/pX7dQ2vLk9sR3tYw", False),
])
def test_placeholder_secrets(value: str, placeholder: bool) -> None:
    from skillrunner.validate.secrets import is_placeholder

    assert is_placeholder(value) is placeholder
    assert is_placeholder(value, "Example: " + value)


# --- configuration, inline ignores, baselines ---------------------------------------------------------


def test_configuration_from_pyproject_and_its_errors(tmp_path: Path) -> None:
    from skillrunner.validate import load_config

    _build(tmp_path / "skills", Case("x", fm("x-team: a", description="No guidance.")))
    py = tmp_path / "pyproject.toml"
    py.write_text("[tool.skillrunner.validate]\nallow-fields = ['x-team']\nstrict = true\n", encoding="utf-8")
    report = check_skills(project=tmp_path)
    assert [f.code for f in report.findings] == ["description-guidance"]
    assert report.failed() and report.config == "pyproject.toml [tool.skillrunner.validate]"
    for bad, message in (("ignore = ['mojibak']", "ignore: no rule 'mojibak'"),
                         ("strictness = true", "unknown key 'strictness'"),
                         ("profiles = ['vim']", "profiles: unknown profile 'vim'"),
                         ("strict = 'yes'", "strict must be true or false"),
                         ("exclude = 3", "exclude must be a list of strings")):
        py.write_text(f"[tool.skillrunner.validate]\n{bad}\n", encoding="utf-8")
        with pytest.raises(UsageError) as raised:
            load_config(tmp_path)
        assert message in raised.value.message, raised.value.message
    assert "did you mean 'mojibake'?" in _config_error(py, "ignore = ['mojibak']").hint
    py.write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / ".skillrunner.toml").write_text("[validate]\nignore = ['description-guidance']\n"
                                                "allow-fields = 'x-team'\n", encoding="utf-8")
    assert check_skills(project=tmp_path).findings == []


def _config_error(py: Path, line: str) -> UsageError:
    from skillrunner.validate import load_config

    py.write_text(f"[tool.skillrunner.validate]\n{line}\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        load_config(py.parent)
    return raised.value


def test_inline_ignore_silences_the_next_line_only(tmp_path: Path) -> None:
    text = ("---\nname: demo-skill\ndescription: Does it. Use when asked.\n"
            "# skillrunner: ignore[unknown-field]\nx-one: 1\nx-two: 2\n---\n\n"
            "<!-- skillrunner: ignore[broken-link, mojibake] -->\n[a](a.md)\n[b](b.md)\n")
    found = _one(tmp_path, text)
    assert [(f.line, f.code) for f in found] == [(6, "unknown-field"), (11, "broken-link")]


def test_cli_baseline_reports_only_new_findings(cli: Cli, project: Path) -> None:
    folder = _build(project / "skills", Case("x", fm(body="\n[a](a.md)\n")))
    cli("validate", "--write-baseline", "baseline.json")
    assert json.loads((project / "baseline.json").read_text())["summary"]["errors"] == 1
    skill_md = folder / "SKILL.md"
    skill_md.write_text(skill_md.read_text().replace("[a](a.md)", "intro\n\n[a](a.md)"), encoding="utf-8")
    result = cli("validate", "--baseline", "baseline.json")
    assert result.stdout == "" and "1 in the baseline" in result.stderr
    skill_md.write_text(skill_md.read_text() + "[b](b.md)\n", encoding="utf-8")
    result = cli("validate", "--baseline", "baseline.json", expect=1)
    assert "link to b.md" in result.stdout and "link to a.md" not in result.stdout
    (project / "bad.json").write_text("{}")
    assert "holds no findings list" in cli("validate", "--baseline", "bad.json", expect=2).stderr


# --- output ---------------------------------------------------------------------------------------------


def test_cli_github_errors_first_and_the_step_summary(cli: Cli, project: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _build(project / "skills", Case("a", fm(name="a-first", description="No guidance.", body="\n[x](x.md)\n"),
                                    folder="a-first"))
    _build(project / "skills", Case("b", fm(name="Bad", description="No guidance.")))
    summary = project / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    lines = cli("validate", "--format", "github", expect=1).stdout.splitlines()
    kinds = [line.split()[0] for line in lines]
    assert kinds == sorted(kinds, key=lambda k: k != "::error") and kinds[-1] == "::warning"
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### skillrunner validate: failed\n")
    assert "| `description-guidance` | warning | 2 |" in text and "| `name-format` | error | 1 |" in text
    assert text.index("| `skills/a-first/SKILL.md:6:5` | error |") < text.index("| warning | `description")


def test_cli_rules_lists_every_rule(cli: Cli) -> None:
    text = cli("validate", "--rules").stdout
    assert [line.split()[0] for line in text.splitlines()] == list(RULES)
    rows = json.loads(cli("validate", "--rules", "--format", "json").stdout)
    assert [r["rule"] for r in rows] == list(RULES) and all(r["meaning"] for r in rows)


def test_validate_does_not_import_the_contract_parser(tmp_path: Path) -> None:
    import subprocess
    import sys

    _build(tmp_path / "skills", Case("x", fm()))
    code = ("import sys\nfrom click.testing import CliRunner\nfrom skillrunner.cli import main\n"
            "result = CliRunner().invoke(main, ['validate', 'skills'])\n"
            "print(result.exit_code, sorted(m for m in sys.modules if m.startswith('skillrunner.')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("0 ") and "skillrunner.validate" in out
    assert "skillrunner.contract" not in out and "skillrunner.render" not in out


@pytest.mark.parametrize("doc", ["README.md", "docs/validate.md"])
def test_the_documentation_lists_every_rule_with_its_meaning(doc: str) -> None:
    text = (REPO / doc).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `") and line.count("|") == 4]
    listed = {row.split("`")[1]: row for row in rows}
    assert list(listed) == list(RULES)
    for rule in RULES.values():
        assert listed[rule.id] == f"| `{rule.id}` | {rule.severity} | {rule.meaning} |"


def test_symlinked_skills_are_found_and_link_cycles_end(tmp_path: Path) -> None:
    _build(tmp_path / "shared", Case("x", fm("argument-hint: <pr>")))
    (tmp_path / ".claude" / "skills").mkdir(parents=True)
    (tmp_path / ".claude" / "skills" / "demo-skill").symlink_to(tmp_path / "shared" / "demo-skill")
    (tmp_path / ".claude" / "skills" / "loop").symlink_to(tmp_path / ".claude")
    report = check_skills([tmp_path / ".claude"], project=tmp_path)
    assert (report.skills, report.findings) == (1, [])


# --- review fixes (issue #17 follow-up) ------------------------------------------------------------


def test_cli_a_run_that_finds_no_skills_fails(cli: Cli, project: Path) -> None:
    _build(project / "plugins" / "kit" / "skills", Case("x", fm()))
    result = cli("validate", "--strict", expect=1)
    assert "[no-skills]" in result.stdout and "looked in skills, .claude/skills" in result.stdout
    assert "skillrunner validate PATH" in result.stdout
    assert "validated 0 skills" in result.stderr and ": OK" not in result.stderr
    assert "validated 1 skill in plugins/ (1): OK" in cli("validate", "plugins").stderr


def _git(root: Path, *args: str) -> None:
    import os
    import subprocess

    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def test_a_skill_git_tracks_is_checked_though_gitignore_names_its_folder(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text(".claude/\n", encoding="utf-8")
    _build(tmp_path / ".claude" / "skills", Case("bad", fm(name="Bad"), folder="bad"))
    _build(tmp_path / ".claude" / "skills", Case("local", fm(name="Local"), folder="local"))
    _git(tmp_path, "add", "-f", ".claude/skills/bad/SKILL.md")
    report = check_skills([tmp_path], project=tmp_path)
    assert report.skills == 1
    assert {f.path for f in report.findings} == {".claude/skills/bad/SKILL.md"}
    # without git (no repository here), .gitignore is all there is
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".git").mkdir()
    (plain / ".gitignore").write_text("skills/\n", encoding="utf-8")
    _build(plain / "skills", Case("x", fm()))
    assert [f.code for f in validate_skills([plain], project=plain)] == ["not-a-skill"]


def test_a_baseline_matches_findings_whose_counts_changed(tmp_path: Path) -> None:
    from skillrunner.validate.config import baseline_keys, without_baseline

    body = "\n" + "line\n" * 501
    folder = _build(tmp_path, Case("x", fm(body=body)))
    before = validate_skills([folder], project=tmp_path)
    assert [f.message for f in before] == ["the body is 502 lines (over 500)"]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"findings": [f.to_dict() for f in before]}), encoding="utf-8")
    (folder / "SKILL.md").write_text(fm(body=body + "more\n" * 70), encoding="utf-8")
    after = validate_skills([folder], project=tmp_path)
    assert [f.message for f in after] == ["the body is 572 lines (over 500)"]
    assert without_baseline(after, baseline_keys(baseline)) == []
    other = Finding(after[0].path, 1, 1, "warning", "the body is empty", "", "body-length")
    assert without_baseline([other], baseline_keys(baseline)) == [other]


@pytest.mark.parametrize("base", ["\U0001f600", "\u4e2d", "\u2764", "a"])
def test_a_run_of_variation_selectors_is_hidden_text(tmp_path: Path, base: str) -> None:
    run = "".join(chr(0xFE00 + i % 16) for i in range(108))
    found = _one(tmp_path, fm(body=f"\nSay {base}{run} to it.\n"))
    assert [(f.code, f.line) for f in found] == [("unicode", 6)]


def test_one_variation_selector_after_its_base_is_fine(tmp_path: Path) -> None:
    body = ("\n\u2764\ufe0f \u2139\ufe0e 1\ufe0f\u20e3 \U0001f3f3\ufe0f\u200d\U0001f308 "
            "\u8fbb\ufe00 \u4e2d\ufe01\n")
    assert _one(tmp_path / "one", fm(body=body)) == []
    [double] = _one(tmp_path / "two", fm(body="\nok \U0001f468\u200d\u200d\U0001f4bb\n"))
    assert double.code == "unicode"


def test_a_skill_reached_by_two_paths_gets_the_profiles_of_both(cli: Cli, project: Path) -> None:
    _build(project / "skills", Case("x", fm("argument-hint: <pr>")))
    (project / ".claude").mkdir()
    (project / ".claude" / "skills").symlink_to(Path("..") / "skills")
    assert "validated 1 skill" in cli("validate").stderr
    assert "validated 1 skill" in cli("validate", ".").stderr
    report = check_skills([project / "skills", project / ".claude" / "skills"], project=project)
    assert (report.skills, report.findings) == (1, [])


def test_a_text_file_that_is_not_utf8_is_an_encoding_error(tmp_path: Path) -> None:
    latin1 = "# Guide\n\nCaf\u00e9 cr\u00e8me\n".encode("latin-1")
    folder = _build(tmp_path, Case("x", fm(body="\nRead [the guide](references/guide.md).\n"),
                                   files={"references/guide.md": latin1, "assets/logo.bin": b"\xff\xd8"}))
    [found] = validate_skills([folder], project=tmp_path)
    assert (found.path, found.line, found.col, found.code, found.severity) == \
        ("demo-skill/references/guide.md", 3, 4, "encoding", "error")
    assert "0xe9" in found.message


def test_symlinks_out_of_the_tree_are_not_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _build(repo / "skills", Case("x", fm()))
    _build(tmp_path / "outside", Case("y", fm(name="Outside"), folder="outside"))
    (repo / "skills" / "up").symlink_to(Path("..") / "..")
    (repo / "skills" / "again").symlink_to(Path("..") / "skills")
    report = check_skills([repo], project=repo)
    assert (report.skills, report.findings) == (1, [])
    # a link inside the project, from a path given below it, is followed
    _build(repo / "shared", Case("z", fm(name="shared-one"), folder="shared-one"))
    (repo / "skills" / "shared-one").symlink_to(Path("..") / "shared" / "shared-one")
    assert check_skills([repo / "skills"], project=repo).skills == 2


def test_a_dangling_skill_md_symlink_is_a_read_error(tmp_path: Path) -> None:
    (tmp_path / "skills" / "dang").mkdir(parents=True)
    (tmp_path / "skills" / "dang" / "SKILL.md").symlink_to("../gone/SKILL.md")
    for path in (tmp_path, tmp_path / "skills" / "dang"):
        [found] = validate_skills([path], project=tmp_path)
        assert (found.path, found.code, found.severity) == ("skills/dang/SKILL.md", "read", "error")
        assert found.message == "a symlink whose target is missing (../gone/SKILL.md)"


def test_missing_file_passes_over_markdown_examples_and_only_the_documented_markers(tmp_path: Path) -> None:
    body = ("\nA skill of yours might look like this:\n\n```markdown\nRun `python scripts/theirs.py`.\n"
            "```\n\n```bash\npython scripts/ours.py\n```\n\n"
            "You would run scripts/would.py, and could read references/could.md: both are named.\n"
            "Examples live in references/examples.md.\n"
            "Keep helpers in scripts/, e.g. scripts/eg.py, for example scripts/fe.py, such as x/s.py.\n")
    found = _one(tmp_path, fm(body=body))
    assert [(f.code, f.message.split()[0]) for f in found] == [
        ("missing-file", "scripts/ours.py"), ("missing-file", "scripts/would.py"),
        ("missing-file", "references/could.md"), ("missing-file", "references/examples.md")]


@pytest.mark.parametrize("description", ["Formats invoices. Applies when an invoice is due.",
                                         "Formats invoices. For when the books close.",
                                         "Formats invoices when users ask for one."])
def test_description_guidance_accepts_more_wordings(tmp_path: Path, description: str) -> None:
    assert _one(tmp_path, fm(description=description)) == []


def test_an_unknown_table_in_skillrunner_toml_is_a_usage_error(tmp_path: Path) -> None:
    from skillrunner.validate import load_config

    (tmp_path / ".skillrunner.toml").write_text("[validat]\nstrict = true\n", encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_config(tmp_path)
    assert info.value.message == ".skillrunner.toml: unknown table [validat]"
    assert info.value.hint.startswith("did you mean [validate]?")


def test_an_inline_ignore_of_no_rule_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    body = "\n<!-- skillrunner: ignore[broken-links, mojibake] -->\n[a](a.md)\n"
    found = _one(tmp_path, fm(body=body))
    assert [(f.line, f.col, f.code) for f in found] == [(6, 26, "unknown-rule"), (7, 5, "broken-link")]
    assert found[0].message == "ignore[broken-links] names no rule"
    assert found[0].hint.startswith("did you mean 'broken-link'?")
