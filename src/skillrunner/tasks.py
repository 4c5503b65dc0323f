"""Tasks: ``specs/<feature>/tasks.md`` (phases, ``[P]``, story labels), its checker and its ticking."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from skillrunner.artifacts import Artifact, check_feature, feature_dir, is_sealed, seal, write_artifact
from skillrunner.contract import Contract, Endpoint, Resource, find_contract, load_contract
from skillrunner.errors import SkillrunnerError
from skillrunner.findings import Finding
from skillrunner.plan import DEFAULT_SKILL, PlannedFile, file_map, planned_skill
from skillrunner.render.actions import read_actions
from skillrunner.skills import SkillChoice, resolve_skill
from skillrunner.specify import user_stories
from skillrunner.templating import render_template

__all__ = ["TASK_LINE", "Phase", "Task", "TasksResult", "build_tasks", "check_feature_tasks", "check_tasks",
           "done_tasks", "parse_tasks", "plan_tasks", "tasks", "tick_tasks", "unwritten_action_tasks"]

#: ``- [ ] T001 [P] [US1] description — path``
TASK_LINE = re.compile(
    r"^- \[(?P<done>[ xX])\] (?P<id>T\d{3,})(?P<p> \[P\])?(?P<story> \[US\d+\])? "
    r"(?P<desc>\S.*?) — (?P<path>\S+)$")
_LOOKS_LIKE_TASK = re.compile(r"^\s*[-*] \[")
_PHASE = re.compile(r"^## Phase \d+: ")
_ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
_ACTION_TASK = re.compile(r"^Write action `(?P<name>[a-z][a-z0-9_]*)`")

#: What each kind of file needs first (kinds of the same or an earlier phase).
_NEEDS: dict[str, tuple[str, ...]] = {
    "database": ("config",), "auth": ("config",), "dependencies": ("auth",),
    "main": ("database", "errors", "auth"),
    "conftest": ("main",), "alembic_env": ("database",), "users_model": ("database",),
    "users_service": ("users_model", "auth"), "users_router": ("users_service", "users_model", "auth"),
    "schema": ("model",), "service": ("model", "schema"), "router": ("schema", "service", "model"),
    "test": ("router", "conftest"), "include": ("router",), "actions": ("router", "service"),
    "requirements_dev": ("requirements",), "test_app": ("main", "conftest"),
}
_SETUP = ("requirements", "requirements_dev", "pyproject", "gitignore", "env_example", "alembic_ini",
          "alembic_script", "support")
_FOUNDATIONAL = ("config", "database", "auth", "dependencies", "errors", "common", "main", "conftest",
                 "test_app", "alembic_env", "users_model", "users_service", "users_router")
_POLISH = ("migration", "dockerfile", "dockerignore", "compose", "readme")
_DESCRIPTIONS = {
    "requirements": "List the backend's runtime dependencies (FastAPI, SQLModel, PyJWT, Alembic...)",
    "requirements_dev": "List the tools that test and check it (pytest, httpx, ruff, mypy)",
    "pyproject": "Give the backend its [project] metadata and configure ruff, mypy and pytest",
    "gitignore": "Keep .venv, .env, local databases and caches out of git",
    "env_example": "List every setting in .env.example, with its meaning",
    "test_app": "Test /health (database up and down), CORS preflights and the settings",
    "dockerfile": "Build the image: slim, non-root, dependencies cached; migrate, then serve",
    "dockerignore": "Keep .env, .venv, databases and caches out of the image",
    "compose": "Run the app and PostgreSQL with docker compose, with health checks",
    "alembic_ini": "Configure Alembic",
    "alembic_script": "Add the Alembic revision template",
    "config": "Read settings from the environment (DATABASE_URL, JWT_SECRET >= 32 bytes or a provider key)",
    "database": "Create the engine and session; migrate the database to head on start (MIGRATE_ON_START)",
    "auth": "Verify bearer JWTs in an async dependency (401 with WWW-Authenticate: Bearer)",
    "dependencies": "Declare CurrentUser, the dependency every router takes the caller's id from",
    "errors": "Add exception handlers: the error envelope, 422 included, and no 500 on malformed input",
    "common": "Define shared schemas: Page, Stats, BulkRequest, BulkResult",
    "main": "Create the FastAPI app: logging, CORS, lifespan, exception handlers, /health, routers",
    "conftest": "Add test fixtures: a fresh database and tokens for two users",
    "alembic_env": "Point Alembic at the models' metadata and DATABASE_URL",
    "users_model": "Define the users table (email unique, password hash)",
    "users_service": "Hash passwords with argon2 and look users up",
    "users_router": "Add register, login and me endpoints",
    "migration": "Write the migration for the whole schema, indexes included",
    "readme": "Document how to run, test and configure the backend",
}


@dataclass(frozen=True)
class Task:
    """One line of tasks.md."""

    id: str
    description: str
    path: str
    parallel: bool = False
    story: str | None = None
    done: bool = False
    line: int = 0

    def render(self) -> str:
        """The task as its markdown line."""
        flags = (" [P]" if self.parallel else "") + (f" [{self.story}]" if self.story else "")
        return f"- [{'x' if self.done else ' '}] {self.id}{flags} {self.description} — {self.path}"


@dataclass(frozen=True)
class Phase:
    """A phase: its title and tasks, in order."""

    title: str
    purpose: str
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class TasksResult:
    """What ``tasks`` did: the artifact, the skill its paths follow, how many tasks, the text."""

    artifact: Artifact
    skill: str
    count: int
    text: str


@dataclass
class _Draft:
    kind: str
    description: str
    path: str
    story: str | None = None


def _endpoint_text(ep: Endpoint) -> str:
    errors = f"; errors {', '.join(map(str, ep.errors))}" if ep.errors else ""
    return f"Serve `{ep.method} {ep.path}`: {ep.operation.spec} -> {ep.success}{errors}"


def _resource_drafts(res: Resource, files: Sequence[PlannedFile], stories: dict[Endpoint, str],
                     main: str | None) -> list[_Draft]:
    mine = {f.kind: f.path for f in files if f.resource == res.name}
    primary = next((stories[ep] for ep in res.endpoints if ep in stories), None)
    out: list[_Draft] = []
    if "model" in mine:
        out.append(_Draft("model", f"Define the {res.name} table (`{res.table}`): fields, owner and indexes",
                          mine["model"], primary))
    if "schema" in mine:
        out.append(_Draft("schema", f"Define {res.name}Create, {res.name}Update (extra keys forbidden) and "
                                    f"{res.name}Public", mine["schema"], primary))
    if "service" in mine:
        ops = ", ".join(ep.operation.kind for ep in res.endpoints)
        out.append(_Draft("service", f"Write the {res.name} service functions ({ops}), one session each, "
                                     "filtered by owner", mine["service"], primary))
    if "router" in mine:
        # Static paths (/search, /stats, /bulk-...) come before /{id}, as the router registers them.
        for ep in res.endpoints:
            out.append(_Draft("router", _endpoint_text(ep), mine["router"], stories.get(ep, primary)))
        if main:
            out.append(_Draft("include", f"Include the {res.table} router in the app", main, primary))
    if "actions" in mine:
        for ep in res.endpoints:
            if ep.operation.kind == "action":
                what = f"Write action `{ep.operation.name}` ({ep.method} {ep.path} answers {ep.success}; " \
                       "501 until written)"
                out.append(_Draft("actions", what, mine["actions"], stories.get(ep, primary)))
    if "test" in mine:
        out.append(_Draft("test", f"Test every {res.name} endpoint: success, each error status, another "
                                  "user's rows, validation edges", mine["test"], primary))
    return out


def _number(phases: list[tuple[str, str, list[_Draft]]]) -> list[Phase]:
    out: list[Phase] = []
    n = 0
    for title, purpose, drafts in phases:
        kinds_here = {d.kind for d in drafts}
        paths = [d.path for d in drafts]
        built = []
        for d in drafts:
            n += 1
            waits = any(k in kinds_here for k in _NEEDS.get(d.kind, ()))
            alone = paths.count(d.path) == 1
            built.append(Task(f"T{n:03d}", d.description, d.path, parallel=alone and not waits,
                              story=d.story))
        out.append(Phase(title, purpose, tuple(built)))
    return out


def plan_tasks(contract: Contract, files: Sequence[PlannedFile]) -> tuple[Phase, ...]:
    """The phases and tasks for ``contract`` and the backend's ``files``."""
    stories = {ep: story.label for story in user_stories(contract) for ep in story.endpoints}
    by_kind: dict[str, list[PlannedFile]] = {}
    for f in files:
        if f.resource is None:
            by_kind.setdefault(f.kind, []).append(f)

    def shared(kinds: Sequence[str]) -> list[_Draft]:
        return [_Draft(k, _DESCRIPTIONS.get(k, "Add the package marker" if f.path.endswith("__init__.py")
                                             else "Add this support file"), f.path)
                for k in kinds for f in by_kind.get(k, [])]

    main = by_kind["main"][0].path if by_kind.get("main") else None
    phases: list[tuple[str, str, list[_Draft]]] = [
        ("Setup", "project files every later task builds on", shared(_SETUP)),
        ("Foundational", "settings, database, auth, errors and the app; blocks every resource phase",
         shared(_FOUNDATIONAL)),
    ]
    for res in contract.ordered_resources():
        labels = sorted({stories[ep] for ep in res.endpoints if ep in stories}, key=lambda s: int(s[2:]))
        drafts = _resource_drafts(res, files, stories, main)
        if drafts:
            phases.append((f"{res.name} ({', '.join(labels)})" if labels else res.name,
                           f"the {res.table} endpoints, independently testable", drafts))
    phases.append(("Polish", "migration, deployment and documentation", shared(_POLISH)))
    return tuple(_number([p for p in phases if p[2]]))


def done_tasks(path: Path) -> set[tuple[str, str]]:
    """``(description, path)`` of every ticked task in the tasks.md at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return set()
    return {(t.description, t.path) for t in parse_tasks(text) if t.done}


def build_tasks(*, contract: Contract, skill: SkillChoice, project: Path | None = None,
                done: set[tuple[str, str]] | None = None) -> tuple[str, int]:
    """The text of ``tasks.md`` (sealed) and the number of tasks; ``done`` keeps earlier ticks."""
    phases = plan_tasks(contract, file_map(contract, skill.conventions, project=project))
    done = done or set()
    phases = tuple(Phase(p.title, p.purpose, tuple(replace(t, done=(t.description, t.path) in done)
                                                   for t in p.tasks)) for p in phases)
    context = {"contract": contract, "feature": contract.feature, "skill": skill.name, "phases": phases,
               "root": skill.conventions.root}
    count = sum(len(p.tasks) for p in phases)
    return seal(render_template("workflow/tasks.md.j2", context, project=project), stage="tasks"), count


def tasks(*, project: Path, feature: str, skill: str | None = None, force: bool = False) -> TasksResult:
    """Write ``specs/<feature>/tasks.md`` for the skill of the plan (or ``skill``); ticks of tasks that
    are unchanged are kept."""
    check_feature(feature)
    contract = load_contract(find_contract(feature, project=project), project=project)
    choice = resolve_skill(skill or planned_skill(project=project, feature=feature) or DEFAULT_SKILL,
                           project=project)
    path = feature_dir(project, feature) / "tasks.md"
    text, count = build_tasks(contract=contract, skill=choice, project=project, done=done_tasks(path))
    return TasksResult(write_artifact(path, text, project=project, force=force), choice.name, count, text)


def parse_tasks(text: str) -> list[Task]:
    """The well-formed task lines of ``text`` (with their line numbers)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        m = TASK_LINE.match(line)
        if m:
            out.append(Task(m["id"], m["desc"], m["path"], parallel=bool(m["p"]),
                            story=m["story"].strip()[1:-1] if m["story"] else None,
                            done=m["done"] != " ", line=number))
    return out


def check_tasks(text: str, *, path: str, contract: Contract | None = None) -> list[Finding]:
    """Every problem of a tasks.md: line format, duplicate ids, two ``[P]`` tasks of one phase on one
    file, and (given the contract) endpoints no task covers."""
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    parallel: dict[tuple[int, str], int] = {}
    covered: set[tuple[str, str]] = set()
    phase = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if _PHASE.match(line):
            phase += 1
            continue
        if not _LOOKS_LIKE_TASK.match(line):
            continue
        m = TASK_LINE.match(line)
        if m is None:
            findings.append(Finding(path, number, 1, "error", "task line is not in the task format",
                                    "write '- [ ] T001 [P] [US1] description — path' ([P] and [US1] "
                                    "optional; the dash before the path is an em dash)", "task-format"))
            continue
        col = m.start("id") + 1
        if m["id"] in seen:
            findings.append(Finding(path, number, col, "error", f"task id {m['id']} is used twice",
                                    f"first used on line {seen[m['id']]}; renumber or rerun "
                                    "skillrunner tasks", "task-id"))
        else:
            seen[m["id"]] = number
        if m["p"]:
            key = (phase, m["path"])
            if key in parallel:
                findings.append(Finding(path, number, m.start("p") + 2, "error",
                                        f"two [P] tasks of one phase change {m['path']}",
                                        f"line {parallel[key]} changes it too; drop [P] from one of them",
                                        "task-parallel"))
            else:
                parallel[key] = number
        covered.update(_ENDPOINT.findall(m["desc"]))
    if contract is not None:
        for res in contract.resources:
            for ep in res.endpoints:
                if (ep.method, ep.path) not in covered:
                    findings.append(Finding(
                        contract.path, ep.line or res.line or 1, 1, "error",
                        f"no task covers `{ep.method} {ep.path}`",
                        f"rerun skillrunner tasks {contract.feature}, or add a task naming "
                        f"`{ep.method} {ep.path}`", "task-coverage"))
    if not seen:
        findings.append(Finding(path, 1, 1, "error", "no tasks found",
                                f"run skillrunner tasks {contract.feature if contract else '<feature>'}",
                                "task-format"))
    return sorted(findings)


def check_feature_tasks(*, project: Path, feature: str) -> list[Finding]:
    """``check_tasks`` on ``specs/<feature>/tasks.md`` against the feature's contract."""
    path = feature_dir(project, feature) / "tasks.md"
    shown = path.relative_to(project).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SkillrunnerError(f"{shown} does not exist", hint=f"run skillrunner tasks {feature}") from None
    contract = load_contract(find_contract(feature, project=project), project=project)
    return sorted(check_tasks(text, path=shown, contract=contract)
                  + unwritten_action_tasks(text, path=shown, project=project))


def _unwritten(project: Path, description: str, path: str,
               modules: dict[str, dict[str, tuple[int, bool]] | None]) -> str | None:
    """For an action's task: why the action is not written yet (None when it is, or not an action).
    ``modules`` holds the action modules read so far: one read each, however many tasks name it."""
    m = _ACTION_TASK.match(description)
    if m is None:
        return None
    if path not in modules:
        try:
            modules[path] = read_actions(project / path)
        except (OSError, UnicodeDecodeError, SyntaxError):
            modules[path] = None
    functions = modules[path]
    if functions is None:
        return f"{path} does not read as Python"
    line, stub = functions.get(m["name"], (0, False))
    if not line:
        return f"{path} defines no {m['name']}"
    return f"{m['name']} still raises ActionNotWritten ({path}:{line})" if stub else None


def unwritten_action_tasks(text: str, *, path: str, project: Path) -> list[Finding]:
    """An error for each ticked task of an action that is not written yet."""
    out = []
    modules: dict[str, dict[str, tuple[int, bool]] | None] = {}
    for task in parse_tasks(text):
        why = _unwritten(project, task.description, task.path, modules) if task.done else None
        if why:
            out.append(Finding(path, task.line, 4, "error", f"{task.id} is ticked but {why}",
                               f"write the action in {task.path}, or untick {task.id}", "task-action"))
    return out


def tick_tasks(*, project: Path, feature: str) -> list[str]:
    """Tick every open task whose file now exists; return the ids ticked. A task is never ticked
    before its file is on disk, and ticks never count as hand edits."""
    path = feature_dir(project, feature) / "tasks.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    sealed = is_sealed(text)
    ticked: list[str] = []
    modules: dict[str, dict[str, tuple[int, bool]] | None] = {}
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = TASK_LINE.match(line.rstrip("\n"))
        if m and m["done"] == " " and (project / m["path"]).exists() \
                and not _unwritten(project, m["desc"], m["path"], modules):
            lines[i] = line.replace("- [ ]", "- [x]", 1)
            ticked.append(m["id"])
    if ticked:
        new = "".join(lines)
        assert is_sealed(new) == sealed  # ticks are outside the seal's digest
        path.write_text(new, encoding="utf-8")
    return ticked
