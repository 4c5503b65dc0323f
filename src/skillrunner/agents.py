"""Coding agents: install the pack and /sp.* commands where each agent looks, prompts, the catalog."""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from skillrunner.artifacts import check_feature, feature_dir
from skillrunner.contract import find_contract
from skillrunner.conventions import load_conventions
from skillrunner.errors import SkillrunnerError, UsageError
from skillrunner.pipeline import STAGE_COMMANDS
from skillrunner.skills import SKILL_FILE, Skill, discover_skills, find_skill, load_skill, skill_roots
from skillrunner.templating import render_template
from skillrunner.write import recorded_files, write_files

__all__ = [
    "AGENTS",
    "AGENT_COMMANDS",
    "DEFAULT_AGENT",
    "DEFAULT_BUDGET",
    "DEFAULT_PREFIX",
    "Agent",
    "AgentFiles",
    "CatalogEntry",
    "InitReport",
    "Prompt",
    "build_prompt",
    "catalog",
    "catalog_json",
    "catalog_xml",
    "estimate_tokens",
    "init_project",
    "installed_agents",
    "render_agent_files",
    "skill_folders",
]

#: The writer key of ``init`` in ``.skillrunner/manifest.json``.
INIT_KEY = "init"
DEFAULT_AGENT = "claude"
#: What every command and generated skill is named after: /sp.<name>, sp-<name>.
DEFAULT_PREFIX = "sp"
#: What init remembers between runs (agents, prefix, --commands), beside the manifest.
INIT_STATE = ".skillrunner/init.json"
#: ``skillrunner prompt``'s default budget, in estimated tokens (characters / 4).
DEFAULT_BUDGET = 16_000
#: Folders ``init`` creates: contracts, records, template overrides.
FOLDERS: tuple[str, ...] = ("specs/api", "history/prompts", "history/adr", "templates")
_TEMPLATES_README = "templates/README.md"
#: The ``/sp.<name>`` commands every agent gets besides one per skill: the pipeline's stages, and
#: ``verify``, which runs ``skillrunner verify`` and ``skillrunner tasks check`` (no ``run`` stage).
AGENT_COMMANDS: tuple[str, ...] = (*STAGE_COMMANDS, "verify")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Characters XML 1.0, TOML strings and YAML scalars cannot all hold as they are.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# What agents act on inside a command's text before the model reads it: shell output (!`cmd`,
# Gemini's !{cmd}), file contents (@path, Gemini's @{path}) and argument placeholders ($ARGUMENTS,
# $1, ${input:...}, {{args}}). A skill's description must not smuggle one into a command.
_ACTIVE = re.compile(r"(!)(?=[`{])|(@)(?={)|(?<!\S)(@)(?=\S)|(\$)(?=[0-9{]|ARGUMENTS)|(\{)(?=\{)")


@dataclass(frozen=True)
class Agent:
    """Where one coding agent finds skills and commands, and how it spells invocations and arguments.

    ``skills`` is the project folder the agent reads Agent Skills from ("" when it reads none):
    init writes there the pack's copies and one generated skill ``<prefix>-<name>`` per command.
    ``also_reads`` lists the other skill folders the client reads (see :func:`skill_folders`).
    ``commands`` is the path of one command file (``{cmd}`` is ``<prefix>.<name>``; "" when the
    agent has none), ``template`` the template under ``templates/`` that renders it; ``args`` is
    the argument placeholder the agent substitutes in a command (empty when it has none) and
    ``args_ref`` the one usable on a command line. ``skill_args`` is the placeholder in a skill's
    body, ``skill_keys`` the optional frontmatter keys the agent documents for skills.
    """

    name: str
    title: str
    skills: str  # folder of skills, "" when the agent reads none
    commands: str = ""  # "" when the agent has no project commands
    template: str = ""
    invoke: str = "/{cmd}"  # what the person types for a command, with {cmd}
    args: str = ""
    args_ref: str = ""
    skill_invoke: str = "/{cmd}"  # what the person types for a skill, with {cmd}
    skill_args: str = ""
    skill_keys: tuple[str, ...] = ()
    also_reads: tuple[str, ...] = ()

    def command_path(self, name: str, prefix: str = DEFAULT_PREFIX) -> str:
        """The project-relative path of the command ``/<prefix>.<name>``."""
        return self.commands.format(cmd=f"{prefix}.{name}")

    @property
    def prefix(self) -> str:
        """The folder every file of this agent lives under (how a manifest entry is attributed)."""
        first = self.skills or self.commands
        return first.split("{", 1)[0].rsplit("/", 1)[0].split("/", 1)[0] + "/"


_CLAUDE_KEYS = ("argument-hint", "disable-model-invocation", "allowed-tools")
_AGENTS_SKILLS = ".agents/skills"  # the Agent Skills standard's cross-client project folder

AGENTS: dict[str, Agent] = {a.name: a for a in (
    # https://code.claude.com/docs/en/skills: .claude/skills, $ARGUMENTS, argument-hint,
    # disable-model-invocation, allowed-tools; .claude/commands still works (init --commands).
    Agent("claude", "Claude Code", ".claude/skills", ".claude/commands/{cmd}.md",
          "agents/claude/command.md.j2", "/{cmd}", "$ARGUMENTS", "$ARGUMENTS",
          skill_args="$ARGUMENTS", skill_keys=_CLAUDE_KEYS),
    # VS Code / GitHub Copilot reads .github/skills, .claude/skills and .agents/skills.
    Agent("copilot", "GitHub Copilot", ".github/skills", ".github/prompts/{cmd}.prompt.md",
          "agents/copilot/prompt.md.j2", "/{cmd}", "${input:arguments:feature, then the request}",
          skill_keys=("argument-hint", "disable-model-invocation"),
          also_reads=(".claude/skills", _AGENTS_SKILLS)),
    # https://geminicli.com/docs/cli/custom-commands: the name is the path under .gemini/commands/,
    # a "/" becoming ":"; so sp.plan.toml is /sp.plan (and the old sp/plan.toml was /sp:plan).
    Agent("gemini", "Gemini CLI", "", ".gemini/commands/{cmd}.toml",
          "agents/gemini/command.toml.j2", "/{cmd}", "{{args}}", "{{args}}"),
    # https://cursor.com/docs/skills: .cursor/skills, and Cursor also loads .claude/skills and
    # .agents/skills (and Codex's folders).
    Agent("cursor", "Cursor", ".cursor/skills", ".cursor/commands/{cmd}.md",
          "agents/cursor/command.md.j2", "/{cmd}", skill_keys=("disable-model-invocation",),
          also_reads=(".claude/skills", _AGENTS_SKILLS)),
    # Codex reads .agents/skills; a skill is invoked as $name.
    Agent("codex", "Codex", _AGENTS_SKILLS, skill_invoke="${cmd}"),
    # https://opencode.ai/docs/commands: .opencode/commands/<name>.md (the singular folder is
    # the old spelling: files an earlier init wrote there are pruned via the manifest).
    Agent("opencode", "OpenCode", "", ".opencode/commands/{cmd}.md",
          "agents/opencode/command.md.j2", "/{cmd}", "$ARGUMENTS", "$ARGUMENTS"),
    # https://qwenlm.github.io/qwen-code-docs/en/users/features/skills/: .qwen/skills, /<name>,
    # $ARGUMENTS, argument-hint and disable-model-invocation.
    Agent("qwen", "Qwen Code", ".qwen/skills", skill_args="$ARGUMENTS",
          skill_keys=("argument-hint", "disable-model-invocation")),
    # https://kiro.dev/docs/cli/skills: .kiro/skills, each skill a /<name> slash command. No
    # argument placeholder found documented: the body says where the arguments are.
    Agent("kiro", "Kiro CLI", ".kiro/skills"),
    # https://docs.augmentcode.com/cli/skills: .augment/skills, and Auggie also reads
    # .claude/skills and .agents/skills; commands in .augment/commands/<name>.md with $ARGUMENTS,
    # description and argument-hint (https://docs.augmentcode.com/cli/custom-commands).
    Agent("auggie", "Auggie (Augment)", ".augment/skills", ".augment/commands/{cmd}.md",
          "agents/claude/command.md.j2", "/{cmd}", "$ARGUMENTS", "$ARGUMENTS",
          also_reads=(".claude/skills", _AGENTS_SKILLS)),
    # Amp: its own documentation was not found; third-party guides say Amp reads .agents/skills,
    # the Agent Skills standard's folder, which is chosen here.
    Agent("amp", "Amp", _AGENTS_SKILLS),
    # Devin (Windsurf's successor): no documented project skills folder was found; the Agent
    # Skills standard's .agents/skills is chosen.
    Agent("devin", "Devin", _AGENTS_SKILLS),
)}


def skill_folders(agents: Iterable[str]) -> dict[str, str]:
    """Where init writes each agent's skills: agent -> folder, "" when it writes none there.

    No client may see one skill twice. A client that reads several folders (``also_reads``:
    VS Code Copilot reads .github/skills, .claude/skills and .agents/skills; Cursor and Auggie
    likewise) gets nothing in its own folder when another agent set up writes one of the
    folders it also reads: with claude or codex set up too, .github/skills is skipped. Agents
    that share one folder (codex, amp, devin: .agents/skills) share its files.
    (A client outside those set up is not considered: VS Code also reads both .claude/skills and
    .agents/skills when claude and codex are both set up; nothing here can avoid that.)
    """
    chosen = [AGENTS[a] for a in agents]
    primary = {a.skills for a in chosen if a.skills and not a.also_reads}
    out: dict[str, str] = {}
    for agent in chosen:
        if not agent.skills:
            continue
        out[agent.name] = "" if any(f in primary for f in agent.also_reads) else agent.skills
    return out


def _folder_agent(folder: str) -> Agent:
    """The agent whose spelling a shared skills folder is rendered with: the first listed."""
    return next(a for a in AGENTS.values() if a.skills == folder)


# --- init -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitReport:
    """What ``init`` did (or, dry run, would do). Paths are project-relative, POSIX, sorted.

    ``kept`` lists files that differ from what init would write and that init did not write
    last (edited by hand, or never written by skillrunner): left alone unless ``force``.
    ``skipped`` lists skill files that are not UTF-8 text and were not copied.
    """

    agents: tuple[str, ...]
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    skipped: tuple[str, ...]
    folders: tuple[str, ...]
    notes: tuple[str, ...] = ()
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"agents": list(self.agents), "dry_run": self.dry_run, "created": list(self.created),
                "updated": list(self.updated), "unchanged": list(self.unchanged),
                "removed": list(self.removed), "kept": list(self.kept), "skipped": list(self.skipped),
                "folders": list(self.folders), "notes": list(self.notes)}


@dataclass(frozen=True)
class AgentFiles:
    """Every file ``init`` writes for some agents (path -> text), and the skill files it cannot copy."""

    files: dict[str, str]
    skipped: tuple[str, ...]
    notes: tuple[str, ...]


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _inert(text: str) -> str:
    """``text`` with a space after each character that would start an agent's substitution."""
    return _ACTIVE.sub(lambda m: m.group(0) + " ", text)


def _summary(description: str, limit: int = 160) -> str:
    """The first sentence of a description, on one line, cut at a word to at most ``limit`` characters."""
    text = _one_line(description)
    match = re.search(r"(?<=[.!?])\s", text)
    first = text[:match.start()] if match else text
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


def _toml_text(text: str) -> str:
    """``text`` as a TOML multi-line string: literal when it can be, else basic with escapes."""
    if "'''" not in text and "\r" not in text and not _CONTROL.search(text):
        return f"'''\n{text}'''"
    escaped = []
    for ch in text:
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ch == "\r":
            escaped.append("\\r")
        elif ch not in "\n\t" and _CONTROL.match(ch):
            escaped.append(f"\\u{ord(ch):04x}")
        else:
            escaped.append(ch)
    return '"""\n' + "".join(escaped) + '"""'


def _agent_names(names: Iterable[str]) -> tuple[str, ...]:
    wanted: set[str] = set()
    for name in names:
        key = name.strip().lower()
        if key == "all":
            wanted |= set(AGENTS)
        elif key in AGENTS:
            wanted.add(key)
        else:
            raise UsageError(f"unknown agent {name!r}",
                             hint=f"the agents are {', '.join(AGENTS)} (or all)")
    return tuple(a for a in AGENTS if a in wanted)


def _state(project: Path) -> dict[str, Any]:
    """What an earlier init remembered (``.skillrunner/init.json``), {} when nothing readable."""
    try:
        data = json.loads((project / INIT_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def installed_agents(*, project: Path) -> tuple[str, ...]:
    """The agents an earlier ``init`` set up: as it remembered them, else per the manifest."""
    remembered = _state(project).get("agents")
    if isinstance(remembered, list):
        return tuple(a for a in AGENTS if a in remembered)
    recorded = recorded_files(project=project, key=INIT_KEY)
    # Before init.json: attribute by folder, .agents/ being codex's (the only agent writing it then).
    legacy = ("claude", "copilot", "gemini", "cursor", "codex", "opencode")
    return tuple(a for a in legacy if any(p.startswith(AGENTS[a].prefix) for p in recorded))


def _pack(project: Path) -> list[Skill]:
    """The project's own skills (``skills/``) and the packaged ones it does not shadow.

    Agent folders (``.claude/skills``...) are not sources: they hold what ``init`` copies.
    """
    found: dict[str, Skill] = {}
    for source, root in skill_roots(project):
        if source not in ("skills", "packaged") or not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if not folder.name.startswith(".") and (folder / SKILL_FILE).is_file():
                skill = load_skill(folder, source=source)
                found.setdefault(skill.name, skill)
    return [found[name] for name in sorted(found)]


def _skill_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in parts):
            yield path


def _action_module(skill: Skill) -> str:
    """Where the skill's action functions go, project-relative (``backend/app/actions/{name}.py``);
    "" when its conventions do not say (or do not load)."""
    try:
        conventions = load_conventions(skill.path)
    except SkillrunnerError:
        return ""
    layout = conventions.layout.get("actions")
    return _inert(_one_line(PurePosixPath(conventions.root, layout).as_posix())) if layout else ""


def _commands(skills: Sequence[Skill]) -> list[dict[str, str]]:
    """What the command templates know of each ``/sp.*`` command: ``actions`` is a skill's action
    module ("" for a stage, which runs whichever skill the feature's plan names). ``command`` is
    what ``skillrunner run`` takes, whatever the agents' prefix."""
    cmds = [{"name": stage, "command": f"sp.{stage}", "kind": "stage", "summary": "", "description": "",
             "actions": ""} for stage in AGENT_COMMANDS]
    cmds += [{"name": s.name, "command": f"sp.{s.name}", "kind": "skill",
              "summary": _inert(_summary(s.description)), "description": _inert(_one_line(s.description)),
              "actions": _action_module(s)}
             for s in skills]
    return cmds


def _check_prefix(prefix: str) -> str:
    if not _SLUG.fullmatch(prefix) or len(prefix) > 20:
        raise UsageError(f"prefix {prefix!r} is not a short slug",
                         hint="lowercase letters, digits and hyphens, e.g. --prefix sr")
    return prefix


#: Generated skills that only read: the model may pick them itself. Every other command writes.
_READ_ONLY = frozenset({"verify"})


def render_agent_files(*, project: Path, agents: Sequence[str], commands: bool = False,
                       prefix: str = DEFAULT_PREFIX) -> AgentFiles:
    """Every file ``init`` writes for ``agents``: path -> text, plus what was skipped and why.

    Agents that read skills get the pack's copies and one generated skill ``<prefix>-<name>``
    per command (see :func:`skill_folders` for where); command files ``/<prefix>.<name>`` too
    with ``commands``. Agents that read no skills always get command files.
    """
    chosen = _agent_names(agents)
    _check_prefix(prefix)
    files: dict[str, str] = {_TEMPLATES_README: render_template("agents/templates-README.md.j2", {},
                                                                project=project)}
    skipped: list[str] = []
    notes: list[str] = []
    skills: list[Skill] = []
    for skill in _pack(project):
        if not _SLUG.fullmatch(skill.name) or skill.name in AGENT_COMMANDS:
            why = "is a stage command's" if skill.name in AGENT_COMMANDS else "is not a valid skill name"
            notes.append(f"skill {skill.name!r} ({skill.skill_md.as_posix()}) not installed: the name {why} "
                         "(skillrunner validate says more)")
            continue
        skills.append(skill)
    cmds = _commands(skills)
    folders = skill_folders(chosen)
    for folder in dict.fromkeys(f for f in folders.values() if f):
        spelling = _folder_agent(folder)
        for skill in skills:
            for path in _skill_files(skill.path):
                rel = f"{folder}/{skill.name}/{path.relative_to(skill.path).as_posix()}"
                try:
                    files[rel] = path.read_bytes().decode("utf-8")
                except UnicodeDecodeError:
                    skipped.append(rel)
        for cmd in cmds:
            name = f"{prefix}-{cmd['name']}"
            context = {"cmd": cmd, "args": spelling.skill_args, "args_ref": spelling.skill_args,
                       "invoke": spelling.skill_invoke.format(cmd=name),
                       "prefix": spelling.skill_invoke.format(cmd=f"{prefix}-"), "toml_text": _toml_text,
                       "skill_name": name, "keys": list(spelling.skill_keys),
                       "writes": cmd["name"] not in _READ_ONLY}
            files[f"{folder}/{name}/{SKILL_FILE}"] = render_template("agents/skill.md.j2", context,
                                                                     project=project)
    for agent in (AGENTS[name] for name in chosen):
        if agent.commands and (commands or not agent.skills):
            for cmd in cmds:
                context = {"cmd": cmd, "args": agent.args, "args_ref": agent.args_ref,
                           "invoke": agent.invoke.format(cmd=f"{prefix}.{cmd['name']}"),
                           "prefix": agent.invoke.format(cmd=f"{prefix}."), "toml_text": _toml_text}
                files[agent.command_path(cmd["name"], prefix)] = render_template(agent.template, context,
                                                                                 project=project)
    keyed = sorted(f for f in dict.fromkeys(folders.values()) if f and _folder_agent(f).skill_keys)
    if keyed:
        notes.append(f"the generated skills in {', '.join(keyed)} use keys their agents document: check them "
                     "with skillrunner validate --profile claude-code,copilot,cursor")
    if skipped:
        notes.append(f"{len(skipped)} skill file(s) are not UTF-8 text and were not copied: "
                     "copy them by hand")
    return AgentFiles(files, tuple(sorted(skipped)), tuple(notes))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _kept(project: Path, files: Mapping[str, str]) -> list[str]:
    """Files on disk that differ from their render and are not as init last wrote them."""
    recorded = recorded_files(project=project, key=INIT_KEY)
    kept = []
    for rel, text in files.items():
        target = project / rel
        if not target.is_file():
            continue
        data = target.read_bytes()
        if data != text.encode("utf-8") and recorded.get(rel) != _sha(data):
            kept.append(rel)
    return sorted(kept)


def init_project(*, project: Path, agents: Sequence[str] = (), force: bool = False,
                 dry_run: bool = False, commands: bool | None = None,
                 prefix: str | None = None) -> InitReport:
    """Prepare ``project`` for skillrunner and for coding ``agents``.

    Creates ``specs/api/``, ``history/prompts/``, ``history/adr/`` and ``templates/`` (with a
    README on overrides), and for each agent its copies of the skills, one generated skill
    ``<prefix>-<name>`` per skill and per pipeline stage, and (``commands``, or for agents that
    read no skills) one ``/<prefix>.<name>`` command each. The agents are those named plus those
    an earlier init set up (``claude`` when neither); ``commands`` and ``prefix`` default to what
    an earlier init used (``.skillrunner/init.json``), else no commands and ``sp``. Files edited
    since init wrote them, and differing files it never wrote, are left alone and listed in
    ``kept`` unless ``force``; files init wrote that are no longer rendered (a skill gone from
    the pack, an agent's old folder) are removed when untouched, kept and listed when edited.
    """
    state = _state(project)
    chosen = _agent_names([*agents, *installed_agents(project=project)]) or (DEFAULT_AGENT,)
    if commands is None:
        commands = state.get("commands") is True
    if prefix is None:
        remembered = state.get("prefix")
        prefix = remembered if isinstance(remembered, str) and _SLUG.fullmatch(remembered) else DEFAULT_PREFIX
    rendered = render_agent_files(project=project, agents=chosen, commands=commands, prefix=prefix)
    kept = [] if force else _kept(project, rendered.files)
    files = {rel: text for rel, text in rendered.files.items() if rel not in set(kept)}
    folders = [f for f in FOLDERS if not (project / f).is_dir()]
    report = write_files(files, project=project, root=".", key=INIT_KEY, force=force, dry_run=dry_run,
                         prune=True)
    if not dry_run:
        for folder in folders:
            (project / folder).mkdir(parents=True, exist_ok=True)
        remember = {"agents": list(chosen), "commands": commands, "prefix": prefix}
        if state != remember:
            target = project / INIT_STATE
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(remember, indent=2) + "\n", encoding="utf-8")
    # A kept file is no longer rendered for the manifest: prune forgets it rather than removing it.
    removed = tuple(p for p in report.removed if p not in set(kept))
    # Files init wrote at paths it no longer renders (e.g. .opencode/command/) and that were edited.
    kept_all = tuple(sorted({*kept, *report.kept}))
    return InitReport(agents=chosen, created=report.created, updated=report.updated,
                      unchanged=report.unchanged, removed=removed, kept=kept_all,
                      skipped=rendered.skipped, folders=tuple(folders), notes=rendered.notes, dry_run=dry_run)


# --- prompt -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    title: str
    source: str
    text: str
    note: str = ""


@dataclass(frozen=True)
class Prompt:
    """The text ``skillrunner prompt`` prints and what went into it."""

    text: str
    tokens: int
    budget: int
    sections: tuple[str, ...]  # the sources included, in order
    truncated: tuple[str, ...]  # "<source>: kept N of M lines" for each cut section
    missing: tuple[str, ...]  # the documents looked for and not found


def estimate_tokens(text: str) -> int:
    """A model-independent token estimate: characters / 4, rounded up."""
    return math.ceil(len(text) / 4)


def _shown(path: Path, project: Path) -> str:
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").strip("\n")


#: Which sections give way first when the budget is short: derived documents before sources.
_CUT_ORDER = ("plan", "tasks", "conventions", "skill", "contract")


def _cut(text: str, keep_chars: int) -> tuple[str, int, int]:
    """``text`` cut at a line boundary to at most ``keep_chars``: (kept text, kept lines, lines)."""
    lines = text.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > keep_chars:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept), len(kept), len(lines)


def build_prompt(*, project: Path, skill: str, feature: str | None = None,
                 budget: int = DEFAULT_BUDGET) -> Prompt:
    """What an agent without tools needs to work as ``skill`` (on ``feature``), in a stable order.

    Sections: the skill's body, the project's ``CLAUDE.md`` and ``AGENTS.md``, then for a
    feature its contract, ``plan.md`` and ``tasks.md``, each when present. Over ``budget``
    estimated tokens, sections are cut at line boundaries (plan first, then tasks, conventions,
    the skill, the contract last) and each cut says so; the last line reports the estimate.
    """
    if budget < 1:
        raise UsageError(f"budget {budget} is not a positive number of tokens", hint="e.g. --budget 16000")
    found = find_skill(skill, project=project)
    keyed: list[tuple[str, _Section]] = [
        ("skill", _Section(f"Skill: {found.name}", _shown(found.skill_md, project), found.body.strip("\n")))]
    missing: list[str] = []
    conventions: list[str] = []
    for name in ("CLAUDE.md", "AGENTS.md"):
        path = project / name
        if path.is_file():
            text = _read(path)
            if text and text not in conventions:
                conventions.append(text)
                keyed.append(("conventions", _Section(f"Project conventions ({name})", name, text)))
    if feature is not None:
        check_feature(feature)
        try:
            contract = find_contract(feature, project=project)
        except SkillrunnerError:
            missing.append(f"specs/api/{feature}.md")
        else:
            keyed.append(("contract", _Section(f"API contract of {feature}", _shown(contract, project),
                                               _read(contract))))
        for key, name in (("plan", "plan.md"), ("tasks", "tasks.md")):
            path = feature_dir(project, feature) / name
            if path.is_file():
                keyed.append((key, _Section(f"{name.capitalize()[:-3]} of {feature}", _shown(path, project),
                                            _read(path))))
            else:
                missing.append(_shown(path, project))

    def render(sections: Sequence[_Section], report: str) -> str:
        context = {"skill": {"name": found.name, "description": found.description},
                   "feature": feature or "",
                   "sections": [vars(s) for s in sections], "report": report}
        return render_template("agents/prompt.md.j2", context, project=project)

    allowed = budget * 4
    ordered = [s for _, s in keyed]
    truncated: dict[int, str] = {}
    absent = "; not found: " + ", ".join(missing) if missing else ""

    def report_line(tokens: int) -> str:
        cuts = [truncated[i] for i in sorted(truncated)]
        cut = "; truncated: " + ", ".join(cuts) if cuts else "; nothing truncated"
        return (f"skillrunner prompt: about {tokens} of {budget} tokens (estimated as characters / 4)"
                f"{cut}{absent}.")

    def overflow() -> int:
        # Rendered with the budget as the estimate: the widest number the report line can hold.
        return len(render(ordered, report_line(budget))) - allowed

    for kind in _CUT_ORDER:
        for i, (key, original) in enumerate(keyed):
            if key != kind or overflow() <= 0:
                continue
            keep = len(original.text)
            # Each pass shortens by what is still over, notes and report included: a few passes settle.
            while True:
                keep = max(0, keep - max(1, overflow()))
                text, kept, total = _cut(original.text, keep)
                truncated[i] = f"{original.source}: kept {kept} of {total} lines"
                note = (f"truncated by skillrunner prompt: kept {kept} of {total} lines to fit "
                        f"--budget {budget}" if kept else
                        f"left out by skillrunner prompt: its {total} lines do not fit --budget {budget}")
                ordered[i] = _Section(original.title, original.source, text, note)
                if overflow() <= 0 or not kept:
                    break
                keep = len(text)

    # The estimate counts the report line itself: settle it (its length barely depends on the number).
    tokens = estimate_tokens(render(ordered, report_line(0)))
    text = render(ordered, report_line(tokens))
    for _ in range(3):
        if estimate_tokens(text) == tokens:
            break
        tokens = estimate_tokens(text)
        text = render(ordered, report_line(tokens))
    return Prompt(text=text, tokens=estimate_tokens(text), budget=budget,
                  sections=tuple(s.source for s in ordered),
                  truncated=tuple(truncated[i] for i in sorted(truncated)),
                  missing=tuple(missing))


# --- catalog ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    """One skill as agents list it: name, description and where its SKILL.md is."""

    name: str
    description: str
    location: str  # absolute path of SKILL.md
    source: str


def catalog(*, project: Path | None) -> list[CatalogEntry]:
    """Every skill found for ``project`` (first of a name wins), sorted by name."""
    return [CatalogEntry(s.name, s.description, s.skill_md.resolve().as_posix(), s.source)
            for s in discover_skills(project=project)]


def _xml(text: str) -> str:
    return html.escape(_CONTROL.sub("\ufffd", text), quote=True)


def catalog_xml(entries: Sequence[CatalogEntry]) -> str:
    """The ``<available_skills>`` block agents put in their system prompt; every value escaped."""
    lines = ["<available_skills>"]
    for e in entries:
        lines += ["<skill>", f"<name>{_xml(e.name)}</name>",
                  f"<description>{_xml(e.description)}</description>",
                  f"<location>{_xml(e.location)}</location>", "</skill>"]
    lines.append("</available_skills>")
    return "\n".join(lines) + "\n"


def catalog_json(entries: Sequence[CatalogEntry]) -> list[dict[str, str]]:
    """JSON-ready: ``[{name, description, location, source}]``."""
    return [{"name": e.name, "description": e.description, "location": e.location, "source": e.source}
            for e in entries]

