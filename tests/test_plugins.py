"""The skill pack as an installable plugin: Claude Code, Codex and Gemini CLI manifests at the root.

The repository root is the plugin root for all three hosts, and ``skills/`` is the folder each of
them loads skills from. Each manifest's schema is written out below as its host documents it
(``jsonschema`` is not a dependency, so the checker is a small one of our own):

- Claude Code ``.claude-plugin/plugin.json`` and ``.claude-plugin/marketplace.json``:
  https://code.claude.com/docs/en/plugins/manifest-reference and
  https://code.claude.com/docs/en/plugins/marketplace-reference
- Codex ``.codex-plugin/plugin.json``: https://developers.openai.com/codex/plugins/build
- Gemini CLI ``gemini-extension.json``: https://geminicli.com/docs/extensions/reference

Keys a host does not document are reported too. The hosts ignore them, so a misspelt key would
otherwise go unnoticed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import skillrunner
from conftest import Cli
from skillrunner.skills import discover_skills, load_skill

ROOT = Path(__file__).resolve().parent.parent
SKILLS = ("backend-builder", "backend-development", "backend-engineer", "backend-scaffolder", "backend-skill")

CLAUDE_PLUGIN = ".claude-plugin/plugin.json"
CLAUDE_MARKETPLACE = ".claude-plugin/marketplace.json"
CODEX_PLUGIN = ".codex-plugin/plugin.json"
GEMINI_EXTENSION = "gemini-extension.json"
MANIFESTS = (CLAUDE_PLUGIN, CLAUDE_MARKETPLACE, CODEX_PLUGIN, GEMINI_EXTENSION)

#: Lowercase letters and digits in words joined by single hyphens.
KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: MAJOR.MINOR.PATCH with an optional pre-release or build suffix.
SEMVER = re.compile(r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?")

# --- a schema checker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListOf:
    """A JSON array whose items all match ``item``."""

    item: Spec


@dataclass(frozen=True)
class Obj:
    """A JSON object: keys that must be there, keys that may be, and no others."""

    required: Mapping[str, Spec] = field(default_factory=dict)
    optional: Mapping[str, Spec] = field(default_factory=dict)


#: A Python type (``str``, ``bool``, ``dict``), a ``ListOf``, an ``Obj``, or a tuple of alternatives.
Spec = type | ListOf | Obj | tuple[Any, ...]


def problems(value: Any, spec: Spec, where: str) -> list[str]:
    """Everything in ``value`` that ``spec`` does not allow, each as ``where: what``."""
    if isinstance(spec, tuple):
        if any(not problems(value, alternative, where) for alternative in spec):
            return []
        return [f"{where}: {json.dumps(value)[:60]} is none of {_name(spec)}"]
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, spec.item, f"{where}[{i}]")]
    if isinstance(spec, Obj):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        found = [f"{where}: missing required key {key!r}" for key in spec.required if key not in value]
        known = {**spec.required, **spec.optional}
        for key, item in value.items():
            if key not in known:
                found.append(f"{where}: key {key!r} is not in the documented schema")
            else:
                found += problems(item, known[key], f"{where}.{key}")
        return found
    if spec is str and not (isinstance(value, str) and value.strip()):
        return [f"{where}: expected a non-empty string, got {json.dumps(value)[:60]}"]
    if not isinstance(value, spec) or (spec is not bool and isinstance(value, bool)):
        return [f"{where}: expected {spec.__name__}, got {type(value).__name__}"]
    return []


def _name(spec: Spec) -> str:
    if isinstance(spec, ListOf):
        return f"array of {_name(spec.item)}"
    if isinstance(spec, Obj):
        return "object"
    if isinstance(spec, tuple):
        return " or ".join(map(_name, spec))
    return spec.__name__


def test_the_checker_catches_what_it_should() -> None:
    schema = Obj(required={"name": str}, optional={"skills": (str, ListOf(str))})
    assert problems({"name": "x", "skills": ["./a"]}, schema, "m") == []
    assert problems({"skills": 1, "nmae": "x"}, schema, "m") == [
        "m: missing required key 'name'",
        "m.skills: 1 is none of str or array of str",
        "m: key 'nmae' is not in the documented schema",
    ]
    assert problems({"name": ""}, schema, "m") == ["m.name: expected a non-empty string, got \"\""]


# --- the schemas, as documented -----------------------------------------------------------------

PATHS = (str, ListOf(str))
PERSON = Obj(required={"name": str}, optional={"email": str, "url": str})

#: What both agents' plugin manifests say of the package itself.
PACKAGE_FIELDS: dict[str, Spec] = {
    "version": str,
    "description": str,
    "author": PERSON,
    "homepage": str,
    "repository": str,
    "license": str,
    "keywords": ListOf(str),
}

#: Claude Code plugin manifest: only ``name`` is required; component keys take a path or a list of
#: paths (hooks, MCP and LSP servers may also be inline objects).
CLAUDE_PLUGIN_FIELDS: dict[str, Spec] = {
    **PACKAGE_FIELDS,
    "skills": PATHS,
    "commands": PATHS,
    "agents": PATHS,
    "outputStyles": PATHS,
    "hooks": (str, ListOf(str), dict),
    "mcpServers": (str, ListOf(str), dict),
    "lspServers": (str, ListOf(str), dict),
}
CLAUDE_PLUGIN_SCHEMA = Obj(required={"name": str}, optional=CLAUDE_PLUGIN_FIELDS)

#: Claude Code marketplace: ``name``, ``owner`` (with ``name``) and ``plugins`` are required. An
#: entry needs ``name`` and ``source`` and may carry any plugin manifest field and a few of its own.
CLAUDE_ENTRY_SCHEMA = Obj(
    required={"name": str, "source": (str, dict)},
    optional={**CLAUDE_PLUGIN_FIELDS, "category": str, "tags": ListOf(str), "strict": bool},
)
CLAUDE_MARKETPLACE_SCHEMA = Obj(
    required={"name": str, "owner": PERSON, "plugins": ListOf(CLAUDE_ENTRY_SCHEMA)},
    optional={
        "$schema": str,
        "description": str,
        "version": str,
        "metadata": Obj(optional={"description": str, "version": str, "pluginRoot": str}),
    },
)
#: Names Claude Code keeps for Anthropic's own marketplaces (marketplace reference, "Reserved names").
CLAUDE_RESERVED = {
    "claude-code-marketplace", "claude-code-plugins", "claude-plugins-official", "anthropic-marketplace",
    "anthropic-plugins", "agent-skills", "anthropic-agent-skills", "life-sciences", "knowledge-work-plugins",
    "claude-community", "claude-plugins-community", "healthcare",
}

#: Codex plugin manifest: ``name`` identifies the plugin; ``skills``, ``hooks``, ``mcpServers`` and
#: ``apps`` are single ``./``-relative paths; ``interface`` is what the plugin directory shows.
CODEX_INTERFACE_SCHEMA = Obj(optional={
    "displayName": str,
    "shortDescription": str,
    "longDescription": str,
    "developerName": str,
    "category": str,
    "capabilities": ListOf(str),
    "websiteURL": str,
    "privacyPolicyURL": str,
    "termsOfServiceURL": str,
    "defaultPrompt": (str, ListOf(str)),
    "brandColor": str,
    "composerIcon": str,
    "logo": str,
    "screenshots": ListOf(str),
})
CODEX_PLUGIN_SCHEMA = Obj(
    required={"name": str},
    optional={
        **PACKAGE_FIELDS,
        "skills": str,
        "hooks": str,
        "mcpServers": str,
        "apps": str,
        "interface": CODEX_INTERFACE_SCHEMA,
    },
)
CODEX_MAX_PROMPTS, CODEX_MAX_PROMPT_CHARS = 3, 128

#: Gemini CLI extension manifest: ``name`` and ``version`` are required. Skills need no key: they
#: are read from the extension's ``skills/`` folder.
GEMINI_SCHEMA = Obj(
    required={"name": str, "version": str},
    optional={
        "description": str,
        "contextFileName": PATHS,
        "mcpServers": dict,
        "excludeTools": ListOf(str),
        "settings": ListOf(Obj(required={"name": str, "description": str, "envVar": str},
                               optional={"sensitive": bool})),
    },
)

SCHEMAS: dict[str, Obj] = {
    CLAUDE_PLUGIN: CLAUDE_PLUGIN_SCHEMA,
    CLAUDE_MARKETPLACE: CLAUDE_MARKETPLACE_SCHEMA,
    CODEX_PLUGIN: CODEX_PLUGIN_SCHEMA,
    GEMINI_EXTENSION: GEMINI_SCHEMA,
}

# --- the manifests ------------------------------------------------------------------------------


def manifest(rel: str) -> dict[str, Any]:
    data = json.loads((ROOT / rel).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{rel} is not a JSON object"
    return data


def plugin_manifests() -> dict[str, dict[str, Any]]:
    """The three manifests that describe the plugin itself (not the marketplace)."""
    return {rel: manifest(rel) for rel in (CLAUDE_PLUGIN, CODEX_PLUGIN, GEMINI_EXTENSION)}


def inside_root(rel: str, where: str) -> Path:
    """``rel`` (a ``./``-relative path) resolved under the repository root, or the test fails."""
    assert rel.startswith("./"), f"{where}: {rel!r} must start with ./ (relative to the plugin root)"
    assert ".." not in Path(rel).parts, f"{where}: {rel!r} must not leave the plugin root"
    path = (ROOT / rel).resolve()
    assert path == ROOT or ROOT in path.parents, f"{where}: {rel!r} leaves the plugin root"
    return path


def skill_folders(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if (p / "SKILL.md").is_file()}


def package_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


@pytest.mark.parametrize("rel", MANIFESTS)
def test_manifest_is_a_json_object(rel: str) -> None:
    manifest(rel)


@pytest.mark.parametrize("rel", MANIFESTS)
def test_manifest_matches_its_documented_schema(rel: str) -> None:
    assert problems(manifest(rel), SCHEMAS[rel], rel) == []


def test_names_are_kebab_case_and_the_same_everywhere() -> None:
    market = manifest(CLAUDE_MARKETPLACE)
    names = {rel: data["name"] for rel, data in plugin_manifests().items()}
    names[f"{CLAUDE_MARKETPLACE} name"] = market["name"]
    names.update({f"{CLAUDE_MARKETPLACE} plugins[{i}]": p["name"] for i, p in enumerate(market["plugins"])})
    for where, name in names.items():
        assert KEBAB.fullmatch(name), f"{where}: {name!r} is not kebab-case"
        assert len(name) <= 64, f"{where}: {name!r} is longer than 64 characters"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
    assert set(names.values()) == {project}, names
    assert market["name"] not in CLAUDE_RESERVED


def test_every_version_is_the_package_version() -> None:
    assert skillrunner.__version__ == package_version()
    versions = {rel: data["version"] for rel, data in plugin_manifests().items()}
    versions.update({f"{CLAUDE_MARKETPLACE} plugins[{i}]": p.get("version")
                     for i, p in enumerate(manifest(CLAUDE_MARKETPLACE)["plugins"])})
    for where, version in versions.items():
        assert version == skillrunner.__version__, \
            f"{where}: version {version!r}, the package is {skillrunner.__version__}"
        assert SEMVER.fullmatch(version), f"{where}: {version!r} is not semantic versioning"


@pytest.mark.parametrize("rel", [CLAUDE_PLUGIN, CODEX_PLUGIN])
def test_skills_path_holds_the_whole_pack(rel: str) -> None:
    value = manifest(rel)["skills"]
    paths = [value] if isinstance(value, str) else value
    found: set[str] = set()
    for path in paths:
        folder = inside_root(path, f"{rel} skills")
        assert folder.is_dir(), f"{rel}: skills path {path!r} is not a folder"
        found |= skill_folders(folder) if not (folder / "SKILL.md").is_file() else {folder.name}
    assert found == set(SKILLS)


def test_gemini_reads_the_pack_from_skills() -> None:
    # Gemini CLI has no manifest key for skills; it loads <extension root>/skills/<name>/SKILL.md.
    assert skill_folders(ROOT / "skills") == set(SKILLS)


@pytest.mark.parametrize("name", SKILLS)
def test_each_skill_is_named_after_its_folder(name: str) -> None:
    # Hosts list and invoke a plugin's skills by frontmatter name (e.g. /skillrunner:backend-engineer).
    assert load_skill(ROOT / "skills" / name).name == name


def test_other_component_paths_stay_inside_the_plugin() -> None:
    claude = manifest(CLAUDE_PLUGIN)
    for key in ("commands", "agents", "outputStyles", "hooks", "mcpServers", "lspServers"):
        value = claude.get(key)
        for path in [value] if isinstance(value, str) else value if isinstance(value, list) else []:
            assert inside_root(path, f"{CLAUDE_PLUGIN} {key}").exists()
    codex = manifest(CODEX_PLUGIN)
    for key in ("hooks", "mcpServers", "apps"):
        if key in codex:
            assert inside_root(codex[key], f"{CODEX_PLUGIN} {key}").exists()
    interface = codex.get("interface", {})
    for key in ("composerIcon", "logo"):
        if key in interface:
            assert inside_root(interface[key], f"{CODEX_PLUGIN} interface.{key}").is_file()
    for shot in interface.get("screenshots", []):
        assert inside_root(shot, f"{CODEX_PLUGIN} interface.screenshots").is_file()


def test_codex_default_prompts_fit() -> None:
    prompts = manifest(CODEX_PLUGIN).get("interface", {}).get("defaultPrompt", [])
    prompts = [prompts] if isinstance(prompts, str) else prompts
    assert len(prompts) <= CODEX_MAX_PROMPTS
    for prompt in prompts:
        assert len(" ".join(prompt.split())) <= CODEX_MAX_PROMPT_CHARS, prompt


def test_marketplace_lists_this_repository_as_the_plugin() -> None:
    market = manifest(CLAUDE_MARKETPLACE)
    plugin = manifest(CLAUDE_PLUGIN)
    (entry,) = market["plugins"]
    assert entry["name"] == plugin["name"]
    assert isinstance(entry["source"], str)
    # Relative sources resolve from the marketplace root: the folder that holds .claude-plugin/.
    assert inside_root(entry["source"], f"{CLAUDE_MARKETPLACE} source") == ROOT
    assert (ROOT / CLAUDE_PLUGIN).is_file()
    assert entry.get("strict", True), "strict: false would ignore .claude-plugin/plugin.json"
    for key in ("version", "description"):
        assert entry.get(key), f"{CLAUDE_MARKETPLACE}: the entry should carry {key!r} for /plugin to show"
    assert entry["version"] == plugin["version"]


def test_gemini_context_file_exists() -> None:
    value = manifest(GEMINI_EXTENSION).get("contextFileName", "GEMINI.md")
    for name in [value] if isinstance(value, str) else value:
        path = (ROOT / name).resolve()
        assert ROOT in path.parents, f"{GEMINI_EXTENSION}: context file {name!r} leaves the extension"
        assert path.is_file(), f"{GEMINI_EXTENSION}: context file {name!r} does not exist"
        assert path.read_text(encoding="utf-8").strip()


def test_manifests_are_not_taken_for_skills(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    cli("validate", "--strict")
    own = {s.name: s.path.resolve() for s in discover_skills(project=ROOT) if s.source != "packaged"}
    assert own == {name: ROOT / "skills" / name for name in SKILLS}
