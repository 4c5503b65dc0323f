"""The pipeline: specify, plan, tasks and implement in order, each recorded as a PHR; stop at a failure."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from skillrunner.artifacts import Artifact, check_feature
from skillrunner.contract import find_contract, load_contract
from skillrunner.errors import SkillrunnerError, UsageError
from skillrunner.plan import DEFAULT_SKILL, plan, planned_skill
from skillrunner.records import GitInfo, PromptRecord, git_info, write_phr
from skillrunner.render import implement
from skillrunner.resources import packaged_dir
from skillrunner.skills import resolve_skill
from skillrunner.specify import specify
from skillrunner.tasks import check_feature_tasks, tasks, tick_tasks

__all__ = ["EXAMPLE_FEATURE", "STAGE_COMMANDS", "WRITE_KINDS", "ImplementReport", "RunResult", "StageReport",
           "TestRun", "WrittenFiles", "complete_implement", "ensure_contract", "parse_command", "run",
           "run_generated_tests"]

EXAMPLE_FEATURE = "task-crud"
#: ``/sp.<name>`` commands that run one stage (or record) rather than a skill's whole pipeline.
STAGE_COMMANDS: tuple[str, ...] = ("specify", "plan", "tasks", "implement", "phr", "adr")
_PIPELINE = ("specify", "plan", "tasks", "implement")
#: A JWT secret for the generated suite when the caller has none (>= 32 bytes, not a placeholder).
_TEST_SECRET = "skillrunner-generated-suite-secret-0123456789abcdef"


class WrittenFiles(Protocol):
    """What the renderer's ``implement`` returns (``render.WriteResult``)."""

    @property
    def created(self) -> Sequence[str]: ...
    @property
    def updated(self) -> Sequence[str]: ...
    @property
    def unchanged(self) -> Sequence[str]: ...
    @property
    def merged(self) -> Sequence[str]: ...
    @property
    def removed(self) -> Sequence[str]: ...
    @property
    def conflicts(self) -> Sequence[str]: ...
    @property
    def root(self) -> Any: ...
    @property
    def app(self) -> str: ...


#: What a run did to files, in the order reports list them: ``created``, ``updated``, ``merged`` (your
#: edits kept, the render merged in), ``removed`` (generated before, no longer rendered, untouched:
#: deleted), ``kept`` (no longer rendered but edited by you: left in place, no longer recorded),
#: ``conflicts`` (files holding conflict markers to resolve; ``conflict_lines``: ``path:line`` each).
WRITE_KINDS = ("created", "updated", "merged", "removed", "kept", "conflicts", "conflict_lines")


@dataclass(frozen=True)
class StageReport:
    """One stage of a run: what it wrote, what changed, its PHR, and notes for the user.

    ``files`` lists every file the stage wrote or checked, ``changed`` those whose content changed;
    ``created`` ... ``conflict_lines`` (``WRITE_KINDS``) say what happened to each, paths relative
    to the project.
    """

    name: str
    ok: bool
    message: str
    files: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    record: str | None = None
    notes: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    conflict_lines: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"name": self.name, "ok": self.ok, "message": self.message, "files": list(self.files),
                "changed": list(self.changed), **{kind: list(getattr(self, kind)) for kind in WRITE_KINDS},
                "record": self.record, "notes": list(self.notes)}


@dataclass(frozen=True)
class RunResult:
    """A whole run; ``ok`` is False when a stage failed (``error`` says why, and how to fix it)."""

    feature: str
    skill: str
    stages: tuple[StageReport, ...]
    backend_root: str
    backend_app: str
    ok: bool = True
    error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def files(self) -> list[str]:
        """Every file the run wrote or checked, in stage order."""
        return list(dict.fromkeys(f for s in self.stages for f in s.files))

    @property
    def changed(self) -> list[str]:
        """The files the run created or rewrote."""
        return list(dict.fromkeys(f for s in self.stages for f in s.changed))

    @property
    def records(self) -> list[str]:
        """The PHRs the run wrote."""
        return [s.record for s in self.stages if s.record]

    def written(self, kind: str) -> list[str]:
        """One of ``WRITE_KINDS`` over every stage, in stage order: e.g. ``written("removed")``."""
        if kind not in WRITE_KINDS:
            raise ValueError(f"{kind!r} is not one of {', '.join(WRITE_KINDS)}")
        return list(dict.fromkeys(f for s in self.stages for f in getattr(s, kind)))

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object."""
        return {"feature": self.feature, "skill": self.skill, "ok": self.ok, "error": self.error,
                "stages": [s.to_dict() for s in self.stages], "files": self.files, "changed": self.changed,
                **{kind: self.written(kind) for kind in WRITE_KINDS},
                "backend": {"root": self.backend_root, "app": self.backend_app}, "records": self.records,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class TestRun:
    """The generated suite, run in a subprocess."""

    passed: bool
    returncode: int
    summary: str
    output: str
    command: str


@dataclass(frozen=True)
class ImplementReport:
    """After the renderer wrote the backend: tasks ticked, the suite's result, the PHR."""

    ticked: tuple[str, ...]
    tests: TestRun | None
    record: PromptRecord


@dataclass
class _Context:
    project: Path
    feature: str
    command_line: str
    prompt: str
    surface: str
    model: str
    git: GitInfo
    notes: list[str] = field(default_factory=list)


# --- commands and contracts ----------------------------------------------------------------------------


def parse_command(command: str) -> tuple[str | None, str | None]:
    """``/sp.plan`` -> (``plan``, None); ``/sp.backend-engineer`` or ``backend-engineer`` -> (None, skill)."""
    name = command.strip().removeprefix("/").removeprefix("sp.")
    if not name or name.startswith("-"):
        raise UsageError(f"{command!r} is not a skill or stage",
                         hint="e.g. skillrunner run /sp.backend-engineer task-crud")
    return (name, None) if name in STAGE_COMMANDS else (None, name)


def ensure_contract(*, project: Path, feature: str) -> tuple[Path, str | None]:
    """The feature's contract; for ``task-crud`` without one, the packaged example copied into the
    project (the note says so). Any other missing contract raises with what to write and where."""
    check_feature(feature)
    try:
        return find_contract(feature, project=project), None
    except SkillrunnerError as exc:
        if feature != EXAMPLE_FEATURE or "no contract for" not in exc.message:
            raise
    source = packaged_dir("examples") / "specs" / "api" / f"{EXAMPLE_FEATURE}.md"
    target = project / "specs" / "api" / f"{EXAMPLE_FEATURE}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o644)  # the packaged file may be read-only
    return target, (f"specs/api/{EXAMPLE_FEATURE}.md did not exist: copied the example contract there "
                    "(edit it and rerun to change the API)")


# --- implement: ticks, the generated suite, the PHR -------------------------------------------------


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_generated_tests(*, root: Path, timeout: float = 900) -> TestRun:
    """Run the generated backend's suite with this interpreter's pytest, in ``root``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if len(env.get("JWT_SECRET", "")) < 32:
        env["JWT_SECRET"] = _TEST_SECRET
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no"]
    shown = f"cd {root.as_posix()} && python -m pytest -q"
    try:
        done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return TestRun(False, -1, f"timed out after {timeout:.0f} s", _tail(out), shown)
    output = done.stdout + done.stderr
    summary = next((line.strip("= ") for line in reversed(output.splitlines()) if line.strip()), "no output")
    return TestRun(done.returncode == 0, done.returncode, summary, _tail(output), shown)


def _rel(path: Path | str, project: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def complete_implement(
    *,
    project: Path,
    feature: str,
    skill: str,
    written: WrittenFiles,
    with_tests: bool = False,
    prompt: str = "",
    command_line: str = "",
    surface: str = "cli",
    model: str = "none",
    git: GitInfo | None = None,
) -> ImplementReport:
    """What follows the renderer's write: tick the tasks whose files now exist, optionally run the
    generated suite, and record a ``green`` PHR (``red`` when the suite fails)."""
    ticked = tick_tasks(project=project, feature=feature)
    root = Path(written.root)
    root = root if root.is_absolute() else project / root
    result = run_generated_tests(root=root) if with_tests else None
    changed = [_rel(p, project)
               for p in (*written.created, *written.updated, *written.merged, *written.removed)]
    stage = "red" if result is not None and not result.passed else "green"
    verdict = "not run" if result is None else ("PASS" if result.passed else "FAIL") + f": {result.summary}"
    record = write_phr(
        project=project, stage=stage, title=f"Implement {feature} with {skill}", feature=feature,
        prompt=prompt, command=command_line or f"skillrunner implement {feature} --skill {skill}",
        files=changed, tests=[f"{_rel(root, project)}/tests: {verdict}"] if result else [],
        labels=[feature, skill, "implement"], links={"spec": f"specs/{feature}/spec.md"},
        surface=surface, model=model, git=git,
        response=(f"Rendered the backend in {_rel(root, project)}/ (app `{written.app}`): "
                  f"{len(written.created)} created, {len(written.updated)} updated, "
                  f"{len(written.merged)} merged, {len(written.removed)} deleted, "
                  f"{len(written.unchanged)} unchanged. Ticked {len(ticked)} task(s)"
                  + (f": {', '.join(ticked)}." if ticked else ".")),
        outcome=(f"- Impact: {len(changed)} file(s) changed\n"
                 + (f"- Conflicts to resolve: {', '.join(_rel(p, project) for p in written.conflicts)}\n"
                    if written.conflicts else "")
                 + f"- Tests: {verdict}\n- Next: skillrunner verify {feature}"),
        evaluation=("- Generated suite: " + verdict + ("\n\n```text\n" + result.output.replace("```", "'''")
                                                       + "\n```" if result and not result.passed else "")),
    )
    return ImplementReport(tuple(ticked), result, record)


# --- the stages ----------------------------------------------------------------------------------------


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _files(artifacts: Sequence[Artifact]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(a.path for a in artifacts), tuple(a.path for a in artifacts if a.changed)


def _written(artifacts: Sequence[Artifact], *, created: Sequence[str] = ()) -> dict[str, tuple[str, ...]]:
    """``created`` and ``updated`` of a stage that writes documents (and ``created`` extras, ADRs)."""
    return {"created": (*(a.path for a in artifacts if a.status == "created"), *created),
            "updated": tuple(a.path for a in artifacts if a.status == "updated")}


def _kept(artifact: Artifact) -> list[str]:
    if artifact.status != "kept":
        return []
    return [f"{artifact.path} was edited by hand: kept as it is (pass --force to regenerate it)"]


def _phr(ctx: _Context, stage: str, title: str, *, files: Sequence[str], response: str, outcome: str,
         evaluation: str, links: dict[str, str | None] | None = None, tests: Sequence[str] = ()) -> str:
    record = write_phr(project=ctx.project, stage=stage, title=title, feature=ctx.feature, prompt=ctx.prompt,
                       command=ctx.command_line, files=files, tests=tests,
                       labels=[ctx.feature, stage],
                       links={"spec": f"specs/{ctx.feature}/spec.md", **(links or {})},
                       surface=ctx.surface, model=ctx.model, git=ctx.git, response=response, outcome=outcome,
                       evaluation=evaluation)
    return record.path


def _stage_specify(ctx: _Context, skill: str, opts: dict[str, Any]) -> StageReport:
    result = specify(project=ctx.project, feature=ctx.feature, description=opts.get("description"),
                     force=opts.get("force", False))
    files, changed = _files([result.artifact])
    stories = result.text.count("\n### User Story ")
    reqs = result.text.count("- **FR-")
    source = f"the contract {result.contract}" if result.contract else "no contract (placeholders)"
    message = (f"{result.artifact.path} {result.artifact.status}: "
               f"{_count(stories, 'user story', 'user stories')}, {_count(reqs, 'requirement')} "
               f"from {source}" + (f", {result.clarifications} [NEEDS CLARIFICATION]" if result.clarifications
                                   else ""))
    record = _phr(ctx, "spec", f"Specify {ctx.feature}", files=files, response=message + ".",
                  outcome=f"- Impact: {result.artifact.path} {result.artifact.status}\n"
                          f"- Next: skillrunner plan {ctx.feature}",
                  evaluation=f"- Open questions: {result.clarifications}\n- Result: "
                             + ("PASS" if not result.clarifications else "NEEDS CLARIFICATION"))
    return StageReport("specify", True, message, files, changed, record, tuple(_kept(result.artifact)),
                       **_written([result.artifact]))


def _stage_plan(ctx: _Context, skill: str, opts: dict[str, Any]) -> StageReport:
    result = plan(project=ctx.project, feature=ctx.feature, skill=skill, record_adrs=opts.get("adr", False),
                  force=opts.get("force", False))
    adr_files = [r.path for r in result.adrs]
    files, changed = _files([result.artifact])
    significant = sum(d.significant for d in result.decisions)
    with_alternatives = sum(bool(d.alternatives) for d in result.decisions)
    message = (f"{result.artifact.path} {result.artifact.status} for skill {result.skill}: "
               f"{len(result.decisions)} decisions, {significant} significant"
               + (f", {len(result.adrs)} ADR(s) recorded" if result.adrs else ""))
    record = _phr(ctx, "plan", f"Plan {ctx.feature} with {result.skill}", files=[*files, *adr_files],
                  links={"adr": adr_files[0] if adr_files else None}, response=message + ".",
                  outcome=f"- Impact: {result.artifact.path} {result.artifact.status}\n"
                          f"- ADRs suggested: {len(result.suggestions)}\n"
                          f"- Next: skillrunner tasks {ctx.feature}",
                  evaluation=f"- Decisions with alternatives: {with_alternatives}/{len(result.decisions)}\n"
                             "- Result: PASS")
    notes = (*_kept(result.artifact), *result.suggestions)
    return StageReport("plan", True, message, (*files, *adr_files), (*changed, *adr_files), record, notes,
                       **_written([result.artifact], created=adr_files))


def _stage_tasks(ctx: _Context, skill: str, opts: dict[str, Any]) -> StageReport:
    result = tasks(project=ctx.project, feature=ctx.feature, skill=skill, force=opts.get("force", False))
    files, changed = _files([result.artifact])
    problems = check_feature_tasks(project=ctx.project, feature=ctx.feature)
    message = f"{result.artifact.path} {result.artifact.status}: {result.count} tasks"
    record = _phr(ctx, "tasks", f"Tasks for {ctx.feature}", files=files, response=message + ".",
                  outcome=f"- Impact: {result.artifact.path} {result.artifact.status}\n"
                          f"- Next: skillrunner implement {ctx.feature}",
                  evaluation=f"- tasks check: {len(problems)} finding(s)\n- Result: "
                             + ("PASS" if not problems else "FAIL"))
    if problems:
        shown = "\n".join(str(p) for p in problems)
        raise SkillrunnerError(f"tasks check failed:\n{shown}",
                               hint=f"rerun skillrunner tasks {ctx.feature} --force to regenerate it")
    return StageReport("tasks", True, message, files, changed, record, tuple(_kept(result.artifact)),
                       **_written([result.artifact]))


def _stage_implement(ctx: _Context, skill: str, opts: dict[str, Any]) -> StageReport:
    written = implement(project=ctx.project, feature=ctx.feature, skill=skill,
                         force=opts.get("force", False))
    report = complete_implement(project=ctx.project, feature=ctx.feature, skill=skill, written=written,
                                with_tests=opts.get("with_tests", False), prompt=ctx.prompt,
                                command_line=ctx.command_line, surface=ctx.surface, model=ctx.model,
                                git=ctx.git)

    def rel(paths: Sequence[str]) -> tuple[str, ...]:
        return tuple(sorted(_rel(p, ctx.project) for p in paths))

    created, updated, merged, removed = (rel(written.created), rel(written.updated), rel(written.merged),
                                         rel(written.removed))
    kept, conflicts = rel(written.kept), rel(written.conflicts)
    every = tuple(sorted({*created, *updated, *merged, *conflicts, *rel(written.unchanged)}))
    changed = tuple(sorted({*created, *updated, *merged, *removed}))
    root = _rel(Path(written.root), ctx.project)
    message = (f"{root}/: {len(created)} created, {len(updated)} updated, {len(merged)} merged, "
               f"{len(removed)} deleted" + (f", {len(kept)} kept" if kept else "")
               + f", {len(written.unchanged)} unchanged; {len(report.ticked)} task(s) ticked")
    notes = [f"moved the backend from {old}'s layout: its files you did not edit are deleted"
             for old in written.switched_from]
    notes += [f"--force took the contract's side where your edits overlapped it in {p} (your other edits "
              "stay)" for p in rel(written.forced)]
    if written.revision:
        notes.append(f"migration {written.revision}: {'; '.join(written.changes)}")
        notes += [f"DATA LOSS {loss}" for loss in written.losses]
    notes += [f"stub {stub}: yours to write (it answers 501 until you do)" for stub in written.stubs]
    notes += [f"{where} is no action of the contract: nothing calls it (delete it, or name a helper "
              "_like_this)" for where in written.orphaned]
    notes += [f"your actions stay in {moved.partition(' -> ')[0]}; this layout calls the ones in "
              f"{moved.partition(' -> ')[2]}: move your code there" for moved in written.stranded]
    ok = True
    if written.conflict_lines:
        ok = False
        message += (f"; {len(written.conflict_lines)} conflict(s) to resolve in {len(conflicts)} file(s) "
                    "(or rerun with --force for the contract's side)")
    elif report.tests is not None:
        verdict = "passed" if report.tests.passed else "FAILED"
        message += f"; generated suite: {verdict} ({report.tests.summary})"
        if not report.tests.passed:
            ok = False
            notes.append(report.tests.output)
    return StageReport("implement", ok, message, every, changed, report.record.path, tuple(notes),
                       created=created, updated=updated, merged=merged, removed=removed, kept=kept,
                       conflicts=conflicts, conflict_lines=tuple(written.conflict_lines))


def _stage_phr(ctx: _Context, skill: str, opts: dict[str, Any]) -> StageReport:
    first = next((line.strip() for line in ctx.prompt.splitlines() if line.strip()), "")
    title = opts.get("title") or (first[:72] if first else f"Note on {ctx.feature}")
    record = _phr(ctx, opts.get("stage") or "misc", title, files=[], response=opts.get("response", ""),
                  outcome="", evaluation="")
    return StageReport("phr", True, f"recorded {record}", (), (), record)


def _stage_adr(ctx: _Context, skill: str, opts: dict[str, Any]) -> StageReport:
    report = _stage_plan(ctx, skill, {**opts, "adr": True})
    return dataclasses.replace(report, name="adr")


_STAGES: dict[str, Callable[[_Context, str, dict[str, Any]], StageReport]] = {
    "specify": _stage_specify, "plan": _stage_plan, "tasks": _stage_tasks, "implement": _stage_implement,
    "phr": _stage_phr, "adr": _stage_adr,
}


def run(
    *,
    project: Path,
    command: str,
    feature: str,
    skill: str | None = None,
    prompt: str = "",
    command_line: str = "",
    description: str | None = None,
    with_tests: bool = False,
    force: bool = False,
    record_adrs: bool = False,
    title: str | None = None,
    stage: str | None = None,
    surface: str = "cli",
    model: str = "none",
) -> RunResult:
    """Run ``command`` on ``feature``: ``/sp.<skill>`` (or ``<skill>``) runs specify, plan, tasks and
    implement with that skill; ``/sp.specify``, ``/sp.plan``, ``/sp.tasks``, ``/sp.implement``,
    ``/sp.phr`` and ``/sp.adr`` run one step. Stops at the first failing stage (``ok`` False)."""
    check_feature(feature)
    if feature in ("constitution", "general"):
        raise UsageError(f"{feature!r} names a folder of history/prompts/, not a feature",
                         hint="choose another feature name")
    only, named = parse_command(command)
    stages = _PIPELINE if only is None else (only,)
    chosen = named or skill or planned_skill(project=project, feature=feature) or DEFAULT_SKILL
    choice = resolve_skill(chosen, project=project)
    conv = choice.conventions
    root, app = (project / conv.root).resolve().as_posix(), conv.app
    ctx = _Context(project, feature, command_line or f"skillrunner run {command} {feature}", prompt,
                   surface, model, git_info(project))
    # specify alone works without a contract (a spec to fill in), except for the shipped example.
    if any(s in stages for s in ("plan", "tasks", "implement", "adr")) or (
            "specify" in stages and feature == EXAMPLE_FEATURE):
        contract_path, note = ensure_contract(project=project, feature=feature)
        if note:
            ctx.notes.append(note)
        load_contract(contract_path, project=project)  # a broken contract fails before anything is written
    opts = {"description": description, "with_tests": with_tests, "force": force, "adr": record_adrs,
            "title": title, "stage": stage}
    done: list[StageReport] = []
    for name in stages:
        try:
            report = _STAGES[name](ctx, choice.name, opts)
        except SkillrunnerError as exc:
            done.append(StageReport(name, False, str(exc)))
            return RunResult(feature, choice.name, tuple(done), root, app, ok=False,
                             error=f"stage {name} failed: {str(exc).removeprefix('error: ')}",
                             notes=tuple(ctx.notes))
        done.append(report)
        if not report.ok:
            return RunResult(feature, choice.name, tuple(done), root, app, ok=False,
                             error=f"stage {name} failed: {report.message}", notes=tuple(ctx.notes))
    return RunResult(feature, choice.name, tuple(done), root, app, notes=tuple(ctx.notes))
