"""The ``skillrunner`` command line: parse arguments, call the library, print, exit."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from skillrunner import __version__
from skillrunner.errors import SkillrunnerError
from skillrunner.findings import format_findings, has_errors
from skillrunner.project import find_project, project_lock

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
    show_default=True, help="text for people, json for tools, github for Actions annotations.",
)


def _wants_json(args: Sequence[str]) -> bool:
    """True when the command line asks for JSON on stdout (``--json``, ``--format json``)."""
    pairs = zip(args, [*args[1:], ""], strict=True)
    return ("--json" in args or "--format=json" in args
            or any(a == "--format" and b == "json" for a, b in pairs))


def _error_json(message: str, exit_code: int, *, kind: str, hint: str = "", path: str | None = None,
                line: int | None = None, col: int | None = None) -> str:
    error = {"kind": kind, "message": message, "hint": hint, "file": path, "line": line, "column": col,
             "exit_code": exit_code}
    return json.dumps({"ok": False, "error": error}, indent=2, ensure_ascii=False)


def _handle_errors(func: F) -> F:
    """The one boundary where library errors become a message on stderr and an exit code (and, when
    the command line asked for JSON, one JSON object on stdout too)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SkillrunnerError as exc:
            if kwargs.get("as_json") or kwargs.get("fmt") == "json":
                kind = "usage" if exc.exit_code == 2 else "error"
                click.echo(_error_json(exc.message, exc.exit_code, kind=kind, hint=exc.hint, path=exc.path,
                                       line=exc.line, col=exc.col))
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"{where}error: {exc.strerror or exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


class _Cli(click.Group):
    """The command group: under ``--json`` or ``--format json`` a usage error is JSON on stdout too."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or not _wants_json(argv):
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            click.echo(_error_json(exc.format_message(), exc.exit_code, kind="usage"))
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="skillrunner")
def main() -> None:
    """Render proven FastAPI + SQLModel backends from API contracts, spec-driven.

    \b
    The main job, on a contract in specs/api/<feature>.md:
      skillrunner run /sp.backend-engineer task-crud
    Check the skill pack and a contract:
      skillrunner validate            every skill found here
      skillrunner contract check      every contract in specs/api/
    Every command works on the project holding the current folder: the nearest folder at
    or above it with specs/, .skillrunner/ or .git. Commands that write take turns through
    .skillrunner/lock: a second one waits (SKILLRUNNER_LOCK_TIMEOUT seconds, default 10),
    then says which process holds it. Exit codes: 0 done, 1 findings or a failure, 2 usage.
    """


# --- skills: list, show, validate -------------------------------------------------------------


def _project(*, announce: bool = False) -> Path:
    """The project: the nearest folder at or above the current one holding specs/, .skillrunner/ or .git.

    With ``announce``, for a command that prints paths relative to the project: when that is not the
    current folder, say so once on stderr (stdout stays the command's own).
    """
    here = Path.cwd()
    project = find_project(here)
    if announce and project != here.resolve():
        shown = os.path.relpath(project, here.resolve())
        click.echo(f"note: working on the project in {shown} (the nearest folder above holding specs/, "
                   f".skillrunner/ or .git); paths are relative to it", err=True)
    return project


def _locked(project: Path) -> contextlib.AbstractContextManager[None]:
    """The project's lock, for a command that writes: runs on one project take turns."""
    return project_lock(project, command=_command_line())


def _shown_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return path.as_posix()


@main.command("validate")
@click.argument("paths", nargs=-1, metavar="[PATH]...",
                type=click.Path(exists=True, path_type=Path))
@click.option("--profile", "profiles", multiple=True, metavar="AGENT[,AGENT]",
              help="Also accept, type-checked, the frontmatter keys AGENT documents: claude-code, "
                   "copilot or cursor (repeatable).")
@click.option("--allow-field", "allow_fields", multiple=True, metavar="NAME[,NAME]",
              help="Accept these extra frontmatter keys, unchecked (repeatable).")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="Report only findings not in FILE (a --format json output, or --write-baseline's).")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the findings to FILE as the baseline, and exit 0.")
@click.option("--rules", "list_rules", is_flag=True, help="List every rule id with its meaning, and exit.")
@FORMAT_OPTION
@_handle_errors
def validate_cmd(paths: tuple[Path, ...], profiles: tuple[str, ...], allow_fields: tuple[str, ...],
                 strict: bool, baseline: Path | None, write_baseline: Path | None, list_rules: bool,
                 fmt: str) -> None:
    """Check skills against the Agent Skills specification, and more; every problem at once.

    \b
    PATH is a skill folder, its SKILL.md, or any folder above skills: every folder holding
    SKILL.md below it is checked (hidden ones too; not .git, node_modules or what git
    ignores). Without PATH: the project's skills/, .claude/skills, .agents/skills,
    .github/skills, .cursor/skills and the other agents' folders.
    Errors: the spec's rules (keys, name, description, compatibility, metadata), YAML that
    does not parse, broken relative links, two skills with one name in one plugin, likely
    secrets, bidirectional overrides and invisible Unicode, a run that finds no skill
    (no-skills: give PATH). Warnings: a long body, no "Use
    when" in the description, files the body names that do not exist, mojibake.
    --rules lists every rule id. Exit 0 clean, 1 on errors (on warnings too with --strict), 2 usage.
    The spec allows only name, description, license, compatibility, metadata and
    allowed-tools; --profile adds the keys an agent's documentation lists:
      claude-code  when_to_use argument-hint arguments disable-model-invocation
                   user-invocable allowed-tools (a list too) disallowed-tools model effort
                   context agent background hooks paths shell
      copilot      argument-hint user-invocable disable-model-invocation context
      cursor       disable-model-invocation
    Skills in .claude/skills or a Claude Code plugin get the claude-code profile.
    Settings: [tool.skillrunner.validate] in pyproject.toml, or [validate] in .skillrunner.toml:
    allow-fields, profiles, ignore (rule ids), per-file-ignores (glob = rule ids), exclude
    (globs), strict. A line after <!-- skillrunner: ignore[RULE] --> is not reported for RULE.
    Examples:
      skillrunner validate --strict
      skillrunner validate .                    every skill in the repository
      skillrunner validate .claude/skills --profile claude-code
      skillrunner validate skills/my-skill --allow-field 'x-owner,x-team'
      skillrunner validate --write-baseline .skillrunner/baseline.json
      skillrunner validate --baseline .skillrunner/baseline.json --format github
    """
    from skillrunner.validate import check_skills
    from skillrunner.validate.config import baseline_keys, without_baseline
    from skillrunner.validate.report import rules_json, rules_text

    if list_rules:
        click.echo(rules_json() if fmt == "json" else rules_text(), nl=False)
        return
    report = check_skills(paths, project=_project(announce=True), allow_fields=allow_fields,
                          profiles=profiles)
    if write_baseline is not None:  # every finding, so that rewriting it also forgets fixed ones
        write_baseline.parent.mkdir(parents=True, exist_ok=True)
        write_baseline.write_text(report.to_json(strict=strict), encoding="utf-8")
        click.echo(f"{report.summary_line(strict=strict)}; wrote them to {_shown_path(write_baseline)} as "
                   "the baseline", err=True)
        return
    if baseline is not None:
        report = report.without(without_baseline(report.findings, baseline_keys(baseline)))
    if fmt == "json":
        click.echo(report.to_json(strict=strict), nl=False)
    else:
        click.echo(format_findings(report.findings, fmt), nl=False)
        click.echo(report.summary_line(strict=strict), err=True)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(report.step_summary(strict=strict))
    if report.failed(strict=strict):
        sys.exit(1)


@main.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of {name, source, path, description}.")
@_handle_errors
def list_cmd(as_json: bool) -> None:
    """List the skills found: name, where from, folder.

    \b
    Searched in order, the first skill of a name winning: ./skills, ./.claude/skills,
    ./.agents/skills, then the pack shipped with skillrunner.
      skillrunner list
      skillrunner list --json
    """
    from skillrunner.skills import discover_skills

    skills = discover_skills(project=_project())
    if as_json:
        rows = [{"name": s.name, "source": s.source, "path": _shown_path(s.path),
                 "description": s.description} for s in skills]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not skills:
        click.echo("no skills found", err=True)
    width = max((len(s.name) for s in skills), default=0)
    for s in skills:
        click.echo(f"{s.name:<{width}}  {s.source:<14}  {_shown_path(s.path)}")


@main.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@_handle_errors
def show_cmd(name: str, as_json: bool) -> None:
    """Show a skill: where it was found, its frontmatter, its runner conventions and its body.

    \b
    NAME is the skill's name, with or without the /sp. command prefix:
      skillrunner show backend-engineer
      skillrunner show /sp.backend-engineer --json
    """
    import yaml

    from skillrunner.conventions import CONVENTIONS_FILE, load_conventions
    from skillrunner.skills import find_skill

    skill = find_skill(name, project=_project())
    conventions: dict[str, Any] | None = None
    broken = ""
    if (skill.path / CONVENTIONS_FILE).is_file():
        try:
            loaded = load_conventions(skill.path)
        except SkillrunnerError as exc:
            broken = exc.message
        else:
            conventions = {"root": loaded.root, "app": loaded.app, "error_envelope": loaded.error_envelope,
                           "not_owned_status": loaded.not_owned_status,
                           "service_layer": loaded.service_layer, "layout": loaded.layout}
    if as_json:
        click.echo(json.dumps({"name": skill.name, "source": skill.source, "path": _shown_path(skill.path),
                               "frontmatter": dict(skill.frontmatter), "conventions": conventions,
                               "body": skill.body}, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"{skill.name}  ({skill.source}: {_shown_path(skill.skill_md)})")
    click.echo("\nfrontmatter:")
    dumped = yaml.safe_dump(dict(skill.frontmatter), sort_keys=False, allow_unicode=True, width=96)
    click.echo("".join(f"  {line}\n" for line in dumped.splitlines()), nl=False)
    if conventions is not None:
        layout = conventions["layout"]
        click.echo(f"\nconventions ({CONVENTIONS_FILE}):")
        click.echo(f"  backend {conventions['root']}/, app {conventions['app']}, "
                   f"errors {conventions['error_envelope']}, another user's row "
                   f"{conventions['not_owned_status']}, service layer "
                   f"{'yes' if conventions['service_layer'] else 'no'}, {len(layout)} file kinds")
    elif broken:
        click.echo(f"\nconventions ({CONVENTIONS_FILE}): broken: {broken} (skillrunner validate says more)")
    click.echo("\n" + skill.body.strip("\n"))


# --- contract: check, show ---------------------------------------------------------------------


@main.group("contract")
def contract_group() -> None:
    """Write, check and inspect API contracts (specs/api/<feature>.md).

    \b
    No contract yet? Start one, read the format, then check until clean:
      skillrunner contract new bookings           a skeleton that checks clean
      skillrunner contract guide                  the format, in a few hundred lines
      skillrunner contract check specs/api/bookings.md --format json
      skillrunner contract show bookings --json   the parsed model
    """


class _AuthKind(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 on only
    """The contract's auth kinds, a choice read from the contract package only when used: importing
    it takes longer than most commands run."""

    name = "auth"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        from skillrunner.contract import AUTH_KINDS

        return "[" + "|".join(AUTH_KINDS) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from skillrunner.contract import AUTH_KINDS

        if value in AUTH_KINDS:
            return value
        self.fail(f"{value!r} is not one of {', '.join(map(repr, AUTH_KINDS))}.", param, ctx)


@contract_group.command("new")
@click.argument("feature")
@click.option("--title", help="The API's title [default: from the feature name].")
@click.option("--auth", type=_AuthKind(), default="jwt", show_default=True,
              help="jwt: bearer tokens issued elsewhere; builtin: register/login/me; none: open.")
@_handle_errors
def contract_new(feature: str, title: str | None, auth: str) -> None:
    """Write specs/api/FEATURE.md: one resource, a few fields and the usual endpoints.

    \b
    It checks clean and renders as it is; its comments say what to replace. An existing
    contract is never overwritten (exit 1).
      skillrunner contract new bookings --title "Room bookings" --auth builtin
    """
    from skillrunner.contract import new_contract

    project = _project()
    with _locked(project):
        path = new_contract(project=project, feature=feature, title=title, auth=auth)
    shown = _shown(path.resolve(), project.resolve())
    click.echo(f"wrote {shown}")
    click.echo(f"next: edit it (the format: skillrunner contract guide), then "
               f"skillrunner contract check {shown}", err=True)


@contract_group.command("guide")
@click.option("--full", is_flag=True, help="The whole reference, every rule with its examples.")
@_handle_errors
def contract_guide(full: bool) -> None:
    """Print the contract format: every section, type, constraint, operation and rule.

    \b
    The short guide fits an agent's context (one complete example included); --full prints
    the whole reference. What the generated backends do on the wire: skillrunner docs behaviour.
      skillrunner contract guide
      skillrunner contract guide --full
    """
    from skillrunner.docs import read_doc

    click.echo(read_doc("contract-format" if full else "contract-guide"), nl=False)


@main.command("docs")
@click.argument("name", required=False)
@_handle_errors
def docs_cmd(name: str | None) -> None:
    """Print a document shipped with skillrunner, or list them.

    \b
      skillrunner docs               the list
      skillrunner docs behaviour     what every generated backend does on the wire
      skillrunner docs conventions   a skill's conventions.yaml, key by key
    """
    from skillrunner.docs import list_docs, read_doc

    if name is None:
        for doc, summary in list_docs():
            click.echo(f"{doc:<18} {summary}")
        return
    click.echo(read_doc(name), nl=False)


@contract_group.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@FORMAT_OPTION
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@_handle_errors
def contract_check(files: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check contracts and report every problem at once (exit 1 on errors).

    \b
    With no FILE, checks every specs/api/*.md of the current project.
    Each problem is printed as file:line:col: error: message, with a hint; --format json
    prints a list of {file, line, column, severity, rule, message, hint}, the agent's loop:
      skillrunner contract check specs/api/task-crud.md
      skillrunner contract check --format github     annotations for GitHub Actions
    """
    from skillrunner.contract import check_contract_files

    report = check_contract_files(files=files, project=_project(announce=True))
    out = format_findings(report.findings, fmt)
    if out or fmt == "json":
        click.echo(out, nl=False)
    if fmt == "text":
        verdict = "OK" if not report.findings else f"{report.errors} error(s), {report.warnings} warning(s)"
        click.echo(f"checked {len(report.files)} contract(s): {verdict}", err=True)
    if has_errors(report.findings, strict=strict):
        sys.exit(1)


@contract_group.command("show")
@click.argument("contract_ref", metavar="CONTRACT")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed model as JSON.")
@_handle_errors
def contract_show(contract_ref: str, as_json: bool) -> None:
    """Show a parsed contract: a summary, or with --json the full model.

    \b
    CONTRACT is a file or a feature name found in specs/api/:
      skillrunner contract show task-crud
      skillrunner contract show specs/api/task-crud.md --json
    """
    from skillrunner.contract import contract_summary, contract_to_dict, load_contract, locate_contract

    parsed = load_contract(locate_contract(contract_ref, project=_project()))
    if as_json:
        click.echo(json.dumps(contract_to_dict(parsed), indent=2, ensure_ascii=False))
    else:
        click.echo(contract_summary(parsed), nl=False)


# --- render: implement ---------------------------------------------------------------------------


def _shown(path: Path | str, project: Path) -> str:
    p = Path(path)
    inside = p.is_absolute() and p.is_relative_to(project)
    return p.relative_to(project).as_posix() if inside else p.as_posix()


@main.command("implement")
@click.argument("feature")
@click.option("--skill", help="The skill whose layout and conventions to render "
                              "[default: the plan's, else backend-builder].")
@click.option("--force", is_flag=True,
              help="Where your edits and the render overlap, take the render's side (your other edits "
                   "stay); replace files skillrunner never wrote.")
@click.option("--dry-run", is_flag=True, help="Write nothing (no ticks, no PHR): list what would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the changes as a unified diff (a/ b/ paths).")
@click.option("--with-tests", is_flag=True, help="Then run the generated suite (a red PHR when it fails).")
@click.option("--json", "as_json", is_flag=True,
              help='Print one object: {"ok", "root", "app", "created", "updated", "merged", "removed", '
                   '"kept", "unchanged", "conflicts", "conflict_lines", "forced", "refused", '
                   '"switched_from", "revision", "changes", "losses", "diff", "stubs", "orphaned", '
                   '"stranded", "ticked", "tests", "record"}; '
                   'paths relative to the project.')
@_handle_errors
def implement_cmd(feature: str, skill: str | None, force: bool, dry_run: bool, show_diff: bool,
                  with_tests: bool, as_json: bool) -> None:
    """Render the backend of FEATURE from specs/api/FEATURE.md, writing only what changed.

    \b
    Every file is rendered before any is written; a contract error writes nothing. A file
    you edited since the last run gets the new render merged into it; where your edits and
    the change touch the same lines, the file gets git-style conflict markers (yours / the
    contract's) and the command exits 1 naming each file:line: resolve them like any merge
    (verify fails while one remains), or rerun with --force to take the contract's side
    there. Generated files no longer rendered are deleted, or kept when you edited them;
    another --skill moves the backend to its layout the same way (when you edited files of
    the old layout it stops and names them; --force switches and keeps them). A differing
    file skillrunner never wrote stops the write, nothing written (--force replaces it).
    A contract change that changes the database adds an Alembic revision (its data loss,
    if any, is listed). Then the tasks whose files exist are ticked and a PHR is recorded.
    The summary (and --json) lists every file created, updated, merged, deleted and kept.
      skillrunner implement task-crud
      skillrunner implement task-crud --dry-run --diff      preview, write nothing
      skillrunner implement task-crud --skill backend-engineer --with-tests
    """
    from skillrunner.errors import WriteConflictError
    from skillrunner.pipeline import complete_implement, ensure_contract
    from skillrunner.plan import DEFAULT_SKILL, planned_skill
    from skillrunner.render import implement

    if dry_run and with_tests:
        raise click.UsageError("--with-tests runs the suite of a written backend: drop --dry-run or it")
    project = _project(announce=True)
    chosen = skill or planned_skill(project=project, feature=feature) or DEFAULT_SKILL
    chosen = chosen.removeprefix("/").removeprefix("sp.")
    notes: list[str] = []
    done = None
    try:
        with contextlib.nullcontext() if dry_run else _locked(project):
            if not dry_run:
                _, note = ensure_contract(project=project, feature=feature)
                notes += [note] if note else []
            result = implement(project=project, feature=feature, skill=chosen, force=force, dry_run=dry_run,
                               diff=show_diff)
            if not dry_run:
                done = complete_implement(project=project, feature=feature, skill=chosen, written=result,
                                          with_tests=with_tests, command_line=_command_line())
    except SkillrunnerError as exc:
        if not as_json:
            raise
        refused = list(exc.paths) if isinstance(exc, WriteConflictError) else []
        empty: dict[str, list[str]] = {kind: [] for kind in _JSON_FILE_KINDS}
        click.echo(json.dumps({"feature": feature, "skill": chosen, "ok": False, "error": str(exc),
                               **empty, "refused": refused}, indent=2, ensure_ascii=False))
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    blocked = dry_run and bool(result.refused) and not force
    tests = done.tests if done else None
    ok = not blocked and not result.conflicts and (tests is None or tests.passed)
    root = _shown(result.root, project)
    if as_json:
        click.echo(json.dumps({
            "feature": feature, "skill": chosen, "ok": ok, "dry_run": dry_run, "root": root,
            "app": result.app, **{kind: list(getattr(result, kind)) for kind in _JSON_FILE_KINDS},
            "switched_from": list(result.switched_from), "revision": result.revision or None,
            "changes": list(result.changes), "losses": list(result.losses), "diff": result.diff,
            "stubs": list(result.stubs), "orphaned": list(result.orphaned), "stranded": list(result.stranded),
            "ticked": list(done.ticked) if done else [], "record": done.record.path if done else None,
            "tests": None if tests is None else {"passed": tests.passed, "summary": tests.summary},
            "notes": notes}, indent=2, ensure_ascii=False))
    else:
        for note in notes:
            click.echo(f"note: {note}")
        click.echo(_write_summary(result, dry_run=dry_run, root=root))
        for line in _write_lines(result, force=force, dry_run=dry_run):
            click.echo(line)
        if result.diff:
            click.echo(result.diff, nl=False)
        if done is not None:
            if done.ticked:
                click.echo(f"ticked {len(done.ticked)} task(s): {', '.join(done.ticked)}")
            click.echo(f"recorded {done.record.path}")
        if tests is not None:
            click.echo(f"generated suite: {'PASS' if tests.passed else 'FAIL'} ({tests.summary})")
            if not tests.passed:
                click.echo(tests.output)
    if blocked:
        click.echo(f"error: {len(result.refused)} file(s) skillrunner never wrote would block the write; "
                   "rerun with --force to replace them", err=True)
    if result.conflicts:
        where = "would hold" if dry_run else "hold"
        click.echo(f"error: {len(result.conflicts)} file(s) {where} conflict markers where your edits and "
                   "the contract's change overlap (listed above as file:line): resolve them, or rerun with "
                   f"--force to take the contract's side there; skillrunner verify {feature} fails until "
                   "they are resolved", err=True)
    if not ok:
        sys.exit(1)


#: The file lists of ``implement --json``, in this order.
_JSON_FILE_KINDS = ("created", "updated", "merged", "removed", "kept", "unchanged", "conflicts",
                    "conflict_lines", "forced", "refused")


def _write_summary(result: Any, *, dry_run: bool, root: str) -> str:
    verb = "would write" if dry_run else "wrote"
    counts = [f"{len(result.created)} created", f"{len(result.updated)} updated",
              f"{len(result.merged)} merged", f"{len(result.removed)} deleted"]
    counts += [f"{len(result.kept)} kept"] if result.kept else []
    counts += [f"{len(result.conflicts)} with conflicts"] if result.conflicts else []
    return f"{verb} {root}/ (app {result.app}): {', '.join(counts)}, {len(result.unchanged)} unchanged"


def _file_lines(*, created: Sequence[str] = (), updated: Sequence[str] = (), merged: Sequence[str] = (),
                removed: Sequence[str] = (), kept: Sequence[str] = (), conflict_lines: Sequence[str] = (),
                forced: Sequence[str] = (), refused: Sequence[str] = (), force: bool = False) -> list[str]:
    """One line a file that changes or is kept, then one ``path:line: conflict`` line a conflict."""
    out = []
    for label, paths in (("created", created), ("updated", updated), ("merged", merged),
                         ("deleted", removed)):
        for path in paths:
            extra = ("  (not written by skillrunner: replaced, --force)" if path in refused and force
                     else "  (your edits kept; the contract's side where they overlapped, --force)"
                     if path in forced else "  (your edits kept)" if label == "merged"
                     else "  (no longer generated, untouched)" if label == "deleted" else "")
            out.append(f"  {label:<9} {path}{extra}")
    out += [f"  kept      {path}  (no longer generated, but edited by you: left in place)" for path in kept]
    if not force:
        out += [f"  refused   {path}  (exists, not written by skillrunner: --force replaces it)"
                for path in refused]
    out += [f"{where}: conflict: your edits and the contract's change overlap here: keep yours, the "
            "contract's or both, and delete the <<<<<<< ||||||| ======= >>>>>>> lines"
            for where in conflict_lines]
    return out


def _write_lines(result: Any, *, force: bool, dry_run: bool = False) -> list[str]:
    """One line a file that changes, each conflict, and the migration with its data loss."""
    moved, deleted = ("would move", "would be deleted") if dry_run else ("moved", "are deleted")
    out = [f"  {moved} the backend from {old}'s layout: its files you did not edit {deleted}"
           for old in result.switched_from]
    out += _file_lines(created=result.created, updated=result.updated, merged=result.merged,
                       removed=result.removed, kept=result.kept, conflict_lines=result.conflict_lines,
                       forced=result.forced, refused=result.refused, force=force)
    if result.revision:
        out.append(f"migration {result.revision}: {'; '.join(result.changes)}")
        out += [f"  DATA LOSS {loss}" for loss in result.losses]
    out += [f"  stub      {stub} (yours to write: it answers 501 until you do)" for stub in result.stubs]
    out += [f"  warning   {where} is no action of the contract: nothing calls it (delete it, or name a "
            "helper _like_this)" for where in result.orphaned]
    out += [f"  warning   your actions stay in {moved.partition(' -> ')[0]}; this layout calls the ones in "
            f"{moved.partition(' -> ')[2]}: move your code there" for moved in result.stranded]
    return out


# --- pipeline: specify, plan, tasks, run, verify -----------------------------------------------


def _prompt_options(func: F) -> F:
    """``--prompt-text``/``--prompt-file``, ``--surface`` and ``--model``: what a PHR records."""
    func = click.option("--model", default="none", envvar="SKILLRUNNER_MODEL", show_default=True,
                        help="The model that asked (recorded in the PHR; env SKILLRUNNER_MODEL).")(func)
    func = click.option("--surface", default="cli", envvar="SKILLRUNNER_SURFACE", show_default=True,
                        help="Where the request came from: cli, agent... (env SKILLRUNNER_SURFACE).")(func)
    func = click.option("--prompt-file", type=click.File("r", encoding="utf-8", errors="replace"),
                        help="Read the prompt to record verbatim from FILE ('-' for standard input).")(func)
    func = click.option("--prompt-text", default="", help="The prompt to record verbatim in the PHR.")(func)
    return func


def _prompt(text: str, file: Any) -> str:
    if text and file is not None:
        raise click.UsageError("give --prompt-text or --prompt-file, not both")
    return str(file.read()) if file is not None else text


def _command_line() -> str:
    """The command as typed, quoted so that it can be pasted back into a shell."""
    return shlex.join(["skillrunner", *sys.argv[1:]])


def _print_run(result: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for note in result.notes:
            click.echo(f"note: {note}")
        for stage in result.stages:
            click.echo(f"{'✓' if stage.ok else '✗'} {stage.name:<9} {stage.message}")
            for note in stage.notes:
                click.echo(f"  {note}")
        changed, kept, conflicts = result.changed, result.written("kept"), result.written("conflict_lines")
        if result.ok or changed or kept or conflicts:
            click.echo(f"changed: {len(changed)} file(s)"
                       + ("" if changed or kept or conflicts else " (everything was up to date)"))
            kinds = ("created", "updated", "merged", "removed", "kept", "conflict_lines")
            for line in _file_lines(**{kind: result.written(kind) for kind in kinds}):
                click.echo(line)
        for record in result.records:
            click.echo(f"recorded {record}")
        if result.ok and any(s.name == "implement" for s in result.stages):
            click.echo(f"backend: {result.backend_root} (app {result.backend_app})")
    if not result.ok:
        click.echo(f"error: {result.error}", err=True)
        sys.exit(1)


def _run_stage(command: str, feature: str, as_json: bool, prompt_text: str, prompt_file: Any,
               surface: str, model: str, **options: Any) -> None:
    from skillrunner.pipeline import WRITE_KINDS, run

    try:
        project = _project(announce=True)
        with _locked(project):
            result = run(project=project, command=command, feature=feature,
                         prompt=_prompt(prompt_text, prompt_file), command_line=_command_line(),
                         surface=surface, model=model, **options)
    except SkillrunnerError as exc:
        if not as_json:
            raise
        # --json promises one object on stdout, failures before the first stage included.
        click.echo(json.dumps({"feature": feature, "skill": command, "ok": False, "error": str(exc),
                               "stages": [], "files": [], "changed": [], **{kind: [] for kind in WRITE_KINDS},
                               "backend": None, "records": [], "notes": []}, indent=2, ensure_ascii=False))
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    _print_run(result, as_json)


@main.command("specify")
@click.argument("feature")
@click.option("--description", help="What the feature is, in a sentence (kept in the spec).")
@click.option("--force", is_flag=True, help="Regenerate spec.md even if it was edited by hand.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@_prompt_options
@_handle_errors
def specify_cmd(feature: str, description: str | None, force: bool, as_json: bool, prompt_text: str,
                prompt_file: Any, surface: str, model: str) -> None:
    """Write specs/FEATURE/spec.md: user stories, acceptance scenarios, FR-### and SC-###.

    \b
    Taken from the contract specs/api/FEATURE.md; without one, a spec to fill in with every
    open point marked [NEEDS CLARIFICATION]. Records a PHR in history/prompts/FEATURE/.
      skillrunner specify task-crud
      skillrunner specify billing --description "Invoices for a user's orders"
    """
    _run_stage("specify", feature, as_json, prompt_text, prompt_file, surface, model,
               description=description, force=force)


@main.command("plan")
@click.argument("feature")
@click.option("--skill", help="The skill whose layout and conventions to plan for "
                              "[default: the plan's, else backend-builder].")
@click.option("--adr", "record_adrs", is_flag=True, help="Record an ADR for each significant decision.")
@click.option("--force", is_flag=True, help="Regenerate plan.md even if it was edited by hand.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@_prompt_options
@_handle_errors
def plan_cmd(feature: str, skill: str | None, record_adrs: bool, force: bool, as_json: bool, prompt_text: str,
             prompt_file: Any, surface: str, model: str) -> None:
    """Write specs/FEATURE/plan.md for a person to review.

    \b
    Summary, technical context, a mermaid erDiagram, the endpoint table, the file map of what
    implement writes, the decisions taken with their alternatives, risks and the test plan.
    Significant decisions are printed as ADR suggestions; --adr records them in history/adr/.
      skillrunner plan task-crud --skill backend-engineer
      skillrunner plan task-crud --adr
    """
    _run_stage("plan", feature, as_json, prompt_text, prompt_file, surface, model,
               skill=skill, record_adrs=record_adrs, force=force)


@main.command("tasks")
@click.argument("args", nargs=-1, metavar="[check] FEATURE")
@click.option("--skill", help="The skill whose file layout to use [default: the plan's].")
@click.option("--force", is_flag=True, help="Regenerate tasks.md even if it was edited by hand.")
@FORMAT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@_prompt_options
@_handle_errors
def tasks_cmd(args: tuple[str, ...], skill: str | None, force: bool, fmt: str, as_json: bool,
              prompt_text: str, prompt_file: Any, surface: str, model: str) -> None:
    """Write specs/FEATURE/tasks.md, or check it with `tasks check FEATURE`.

    \b
    Lines read '- [ ] T001 [P] [US1] description — path', in phases Setup, Foundational,
    one per resource, Polish. The check enforces that format, unique ids, no two [P] tasks
    of one phase on one file, and a task for every endpoint of the contract (exit 1).
      skillrunner tasks task-crud
      skillrunner tasks check task-crud --format github
    """
    if len(args) == 2 and args[0] == "check":
        from skillrunner.tasks import check_feature_tasks

        findings = check_feature_tasks(project=_project(announce=True), feature=args[1])
        out = format_findings(findings, fmt)
        if out or fmt == "json":
            click.echo(out, nl=False)
        if fmt == "text":
            verdict = "OK" if not findings else f"{len(findings)} problem(s)"
            click.echo(f"specs/{args[1]}/tasks.md: {verdict}", err=True)
        if has_errors(findings):
            sys.exit(1)
        return
    if len(args) != 1:
        raise click.UsageError("give a feature (skillrunner tasks task-crud) or check and a feature "
                               "(skillrunner tasks check task-crud)")
    _run_stage("tasks", args[0], as_json, prompt_text, prompt_file, surface, model, skill=skill, force=force)


@main.command("run")
@click.argument("command", metavar="SKILL")
@click.argument("feature")
@click.argument("words", nargs=-1, metavar="[WORDS]...")
@click.option("--skill", help="For /sp.plan, /sp.tasks, /sp.implement: the skill [default: the plan's].")
@click.option("--with-tests", is_flag=True, help="Run the generated suite after implement (a red/green PHR).")
@click.option("--adr", "record_adrs", is_flag=True, help="Record an ADR for each significant decision.")
@click.option("--description", help="For specify: what the feature is, in a sentence [default: the WORDS "
                                    "of /sp.specify].")
@click.option("--title", help="For /sp.phr: the record's title [default: the prompt's first line].")
@click.option("--stage", help="For /sp.phr: the record's stage [default: misc].")
@click.option("--force", is_flag=True, help="Regenerate hand-edited artifacts; in the backend, take the "
                                            "contract's side where your edits overlap it (the rest stay).")
@click.option("--json", "as_json", is_flag=True,
              help='Print one object: {"feature", "skill", "ok", "error", "stages", "files", "changed", '
                   '"created", "updated", "merged", "removed", "kept", "conflicts", "conflict_lines", '
                   '"backend": {"root", "app"}, "records", "notes"}; paths relative to the project.')
@_prompt_options
@_handle_errors
def run_cmd(command: str, feature: str, words: tuple[str, ...], skill: str | None, with_tests: bool,
            record_adrs: bool, description: str | None, title: str | None, stage: str | None, force: bool,
            as_json: bool, prompt_text: str, prompt_file: Any, surface: str, model: str) -> None:
    """Run a skill on a feature: specify, plan, tasks, implement, each recorded as a PHR.

    \b
    SKILL is /sp.<skill> or <skill>; /sp.specify, /sp.plan, /sp.tasks, /sp.implement,
    /sp.phr and /sp.adr run one step. Stops at the first failure with what to fix.
    WORDS after the feature are the person's request, recorded verbatim in each PHR the run
    writes (as --prompt-text; give one or the other). For /sp.specify they also say what the
    feature is (--description). The backend changes only through the contract: a request
    the contract cannot express is recorded and changes nothing. Text with quotes or
    newlines goes on standard input: --prompt-file - (the feature alone on the line).
    Without specs/api/task-crud.md, `task-crud` starts from the packaged example contract.
    Rerun it after changing the contract: your edits of the backend are merged in, and
    where they overlap the change the file gets conflict markers and the run exits 1
    naming each file:line (see `skillrunner implement --help`). The summary lists every
    file created, updated, merged, deleted and kept.
      skillrunner run /sp.backend-engineer task-crud
      skillrunner run /sp.plan bookings add rate limits to bookings --skill backend-engineer --json
      skillrunner run backend-builder task-crud --with-tests --json
      echo "Why do comments cascade?" | skillrunner run /sp.phr task-crud --prompt-file -
    """
    from skillrunner.pipeline import parse_command

    request = " ".join(words)
    if request and (prompt_text or prompt_file is not None):
        raise click.UsageError("give the request as words after the feature or with --prompt-text or "
                               "--prompt-file, not both")
    if request and description is None and parse_command(command)[0] == "specify":
        description = request
    _run_stage(command, feature, as_json, prompt_text or request, prompt_file, surface, model, skill=skill,
               with_tests=with_tests, record_adrs=record_adrs, description=description, title=title,
               stage=stage, force=force)


@main.command("verify")
@click.argument("feature")
@click.option("--skill", help="The skill the backend was rendered with [default: the plan's].")
@FORMAT_OPTION
@_handle_errors
def verify_cmd(feature: str, skill: str | None, fmt: str) -> None:
    """Compare contract, plan, tasks, generated code and the running app's OpenAPI (exit 1 on any gap).

    \b
    Names every mismatch: a field the contract has and the app lacks, an endpoint the app
    serves that no contract names, a ticked task whose file is missing, a stale plan, a
    conflict marker left in any generated file, files of another skill's layout...
      skillrunner verify task-crud
      skillrunner verify task-crud --format github
    """
    from skillrunner.verify import verify

    report = verify(project=_project(announce=True), feature=feature, skill=skill)
    out = format_findings(report.findings, fmt)
    if out or fmt == "json":
        click.echo(out, nl=False)
    if fmt == "text":
        errors = sum(f.severity == "error" for f in report.findings)
        warnings = len(report.findings) - errors
        verdict = "OK" if not report.findings else f"{errors} error(s), {warnings} warning(s)"
        click.echo(f"verified {feature} ({', '.join(report.checked)}): {verdict}", err=True)
    if has_errors(report.findings):
        sys.exit(1)


# --- records: phr, adr ----------------------------------------------------------------------------


@main.group("phr")
def phr_group() -> None:
    """Prompt History Records: history/prompts/<feature>/NNNN-<slug>.<stage>.prompt.md.

    \b
    Every pipeline stage records one; record others by hand:
      skillrunner phr new --stage refactor --title "Split the router" --feature task-crud
      echo "the prompt" | skillrunner phr new --stage general --title "Ask" --prompt-file -
    """


@phr_group.command("new")
@click.option("--stage", required=True, help="constitution, spec, plan, tasks, red, green, refactor, "
                                             "explainer, misc or general.")
@click.option("--title", required=True, help="What was asked, in a few words.")
@click.option("--feature", help="The feature (required except for constitution and general).")
@click.option("--response", default="", help="What the assistant answered, in short.")
@click.option("--outcome", default="", help="What changed.")
@click.option("--evaluation", default="", help="How it was checked.")
@click.option("--command", "command_text", default="", help="The command that was run [default: this one].")
@click.option("--file", "files", multiple=True, help="A file created or changed (repeatable).")
@click.option("--test", "tests", multiple=True, help="A test run or added (repeatable).")
@click.option("--label", "labels", multiple=True, help="A label (repeatable).")
@click.option("--link", "links", multiple=True, metavar="KEY=URL",
              help="spec, ticket, adr or pr (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@_prompt_options
@_handle_errors
def phr_new(stage: str, title: str, feature: str | None, response: str, outcome: str, evaluation: str,
            command_text: str, files: tuple[str, ...], tests: tuple[str, ...], labels: tuple[str, ...],
            links: tuple[str, ...], as_json: bool, prompt_text: str, prompt_file: Any, surface: str,
            model: str) -> None:
    """Record one PHR by hand; prints its path.

    \b
      skillrunner phr new --stage misc --title "Explain pagination" --feature task-crud \\
          --prompt-text "Why offset pages?" --link ticket=https://example.org/T-12
    """
    from dataclasses import asdict

    from skillrunner.records import write_phr

    parsed: dict[str, str | None] = {}
    for item in links:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"--link {item!r}: write KEY=URL, e.g. --link pr=https://...")
        parsed[key.strip()] = value.strip() or None
    prompt = _prompt(prompt_text, prompt_file)
    project = _project(announce=True)
    with _locked(project):  # two records at once would take one number
        record = write_phr(project=project, stage=stage, title=title, feature=feature, prompt=prompt,
                           response=response, outcome=outcome, evaluation=evaluation,
                           command=command_text or _command_line(), files=files, tests=tests, labels=labels,
                           links=parsed, surface=surface, model=model)
    click.echo(json.dumps(asdict(record), ensure_ascii=False) if as_json else record.path)


@main.group("adr")
def adr_group() -> None:
    """Architecture Decision Records: history/adr/NNNN-<slug>.md.

    \b
      skillrunner adr new "Use PostgreSQL in production" --feature task-crud --status Accepted
      skillrunner adr list
      skillrunner adr supersede 2 --by 5
    """


@adr_group.command("new")
@click.argument("title")
@click.option("--feature", help="The feature the decision belongs to.")
@click.option("--status", default="Proposed", show_default=True,
              help="Proposed, Accepted, Superseded or Rejected.")
@click.option("--context", default="", help="The forces at play.")
@click.option("--decision", default="", help="What was decided.")
@click.option("--consequences", default="", help="What gets easier and what harder.")
@click.option("--alternatives", default="", help="What else was considered, and why not.")
@click.option("--reference", "references", multiple=True, help="A link or path (repeatable).")
@_handle_errors
def adr_new(title: str, feature: str | None, status: str, context: str, decision: str, consequences: str,
            alternatives: str, references: tuple[str, ...]) -> None:
    """Record a decision; prints the new file's path. Sections left out are marked to fill in.

    \b
      skillrunner adr new "Offset pagination" --feature task-crud --status Accepted \\
          --decision "page and page_size" --alternatives "cursors: no total"
    """
    from skillrunner.records import write_adr

    project = _project(announce=True)
    with _locked(project):
        record = write_adr(project=project, title=title, feature=feature, status=status, context=context,
                           decision=decision, consequences=consequences, alternatives=alternatives,
                           references=references)
    click.echo(record.path)


@adr_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_handle_errors
def adr_list(as_json: bool) -> None:
    """List the ADRs: id, status, date, feature, title.

    \b
      skillrunner adr list --json
    """
    from dataclasses import asdict

    from skillrunner.records import list_adrs

    records = list_adrs(project=_project())
    if as_json:
        click.echo(json.dumps([asdict(r) for r in records], indent=2, ensure_ascii=False))
        return
    if not records:
        click.echo('no ADRs yet: skillrunner adr new "Title" records one', err=True)
    for r in records:
        state, date, feature = r.state or "?", r.date or "?", r.feature or "-"
        click.echo(f"{r.id:04d}  {state:<10}  {date:<10}  {feature:<16}  {r.title}")


@adr_group.command("supersede")
@click.argument("old", type=int)
@click.option("--by", "new", type=int, required=True, help="The id of the ADR that replaces it.")
@_handle_errors
def adr_supersede(old: int, new: int) -> None:
    """Mark ADR OLD superseded by ADR NEW (and reference OLD from NEW).

    \b
      skillrunner adr supersede 2 --by 5
    """
    from skillrunner.records import supersede_adr

    project = _project(announce=True)
    with _locked(project):
        before, after = supersede_adr(project=project, old=old, new=new)
    click.echo(f"{before.path}: {before.status}")
    click.echo(f"{after.path}: references ADR-{before.id:04d}")


# --- agents: init, prompt, catalog -----------------------------------------------------------------


#: skillrunner.agents.AGENTS' names, and "all", spelled here so the CLI starts without loading agents
#: and the pipeline (a test holds the two lists equal).
_AGENT_NAMES = ("claude", "copilot", "gemini", "cursor", "codex", "opencode", "qwen", "kiro", "auggie", "amp",
                "devin", "all")


@main.command("init")
@click.option("--agent", "agents", multiple=True, type=click.Choice(_AGENT_NAMES),
              help="An agent to set up (repeatable) [default: those set up before, else claude].")
@click.option("--commands/--no-commands", "commands", default=None,
              help="Also write /<prefix>.<name> command files for agents that read skills "
                   "[default: as before, else skills only].")
@click.option("--prefix", default=None, metavar="PREFIX",
              help="Name commands /<PREFIX>.<name> and skills <PREFIX>-<name> [default: as before, else sp].")
@click.option("--force", is_flag=True, help="Overwrite files edited by hand too.")
@click.option("--dry-run", is_flag=True, help="Write nothing: list what would change.")
@click.option("--json", "as_json", is_flag=True,
              help='Print one object: {"agents", "created", "updated", "unchanged", "removed", "kept", '
                   '"skipped", "folders", "notes"}.')
@_handle_errors
def init_cmd(agents: tuple[str, ...], commands: bool | None, prefix: str | None, force: bool, dry_run: bool,
             as_json: bool) -> None:
    """Prepare this project: folders, and the skills (and commands) where each agent looks.

    \b
    Creates specs/api/, history/prompts/, history/adr/ and templates/ (a file there overrides
    the packaged template of the same path). For each agent, the skill pack and one generated
    skill sp-<name> per skill and per stage (specify, plan, tasks, implement, phr, adr) that
    runs `skillrunner run /sp.<name>`, and sp-verify, which runs `skillrunner verify` and
    `skillrunner tasks check`. Agents that read no skills get /sp.<name> command files instead:
      claude    .claude/skills/               (--commands: .claude/commands/sp.<name>.md)
      copilot   .github/skills/               (--commands: .github/prompts/sp.<name>.prompt.md)
      cursor    .cursor/skills/               (--commands: .cursor/commands/sp.<name>.md)
      codex, amp, devin  .agents/skills/
      qwen      .qwen/skills/       kiro  .kiro/skills/
      auggie    .augment/skills/              (--commands: .augment/commands/sp.<name>.md)
      gemini    .gemini/commands/sp.<name>.toml                                /sp.<name>
      opencode  .opencode/commands/sp.<name>.md                                /sp.<name>
    No client sees a skill twice: copilot, cursor and auggie also read .claude/skills and
    .agents/skills, so their own folder is skipped when claude or codex/amp/devin is set up.
    --prefix sr writes /sr.<name> and sr-<name> instead (spec-kit-plus also writes sp.*).
    Everything comes from the installed package (offline). Rerunning updates what init wrote,
    with the agents, --commands and --prefix used before; files you edited are left alone and
    listed (--force overwrites them); untouched files from older layouts are removed.
      skillrunner init --agent claude --agent gemini
      skillrunner init --agent all --dry-run
      skillrunner init --agent claude --commands --prefix sr
    """
    from skillrunner.agents import init_project

    project = _project(announce=True)
    with contextlib.nullcontext() if dry_run else _locked(project):
        report = init_project(project=project, agents=agents, force=force, dry_run=dry_run,
                              commands=commands, prefix=prefix)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    verb = "would set up" if dry_run else "set up"
    click.echo(f"{verb} {', '.join(report.agents)}: {len(report.created)} created, {len(report.updated)} "
               f"updated, {len(report.unchanged)} unchanged, {len(report.removed)} removed, "
               f"{len(report.kept)} kept")
    for folder in report.folders:
        click.echo(f"  folder    {folder}/")
    for label, paths in (("created", report.created), ("updated", report.updated),
                         ("removed", report.removed)):
        for path in paths:
            click.echo(f"  {label:<9} {path}")
    for path in report.kept:
        click.echo(f"  kept      {path}  (differs from what init writes and was edited or not written "
                   "by it: --force overwrites)")
    for path in report.skipped:
        click.echo(f"  skipped   {path}  (not UTF-8 text)")
    for note in report.notes:
        click.echo(f"note: {note}")
    if report.kept and not force:
        click.echo(f"left {len(report.kept)} file(s) you changed alone; rerun with --force to overwrite them",
                   err=True)


@main.command("prompt")
@click.argument("skill")
@click.argument("feature", required=False)
@click.option("--budget", type=click.IntRange(min=1), default=16_000, show_default=True,
              help="Most estimated tokens (characters / 4) to print.")
@_handle_errors
def prompt_cmd(skill: str, feature: str | None, budget: int) -> None:
    """Print what an agent without tools needs to work as SKILL (on FEATURE), to paste into it.

    \b
    In this order: the skill's instructions, the project's CLAUDE.md and AGENTS.md, then the
    contract specs/api/FEATURE.md, specs/FEATURE/plan.md and tasks.md, each when present.
    Over the budget, the plan gives way first, then tasks, conventions, the skill and the
    contract; each cut is marked where it happens. The last line reports the estimate.
      skillrunner prompt backend-builder task-crud > prompt.md
      skillrunner prompt /sp.backend-engineer task-crud --budget 8000
    """
    from skillrunner.agents import build_prompt

    result = build_prompt(project=_project(), skill=skill, feature=feature, budget=budget)
    click.echo(result.text, nl=False)


@main.command("catalog")
@click.option("--format", "fmt", type=click.Choice(["xml", "json"]), default="xml", show_default=True,
              help="xml: the <available_skills> block; json: a list of objects.")
@_handle_errors
def catalog_cmd(fmt: str) -> None:
    """Print the skills as agents list them in their system prompt: name, description, SKILL.md.

    \b
    Every skill found here (./skills, ./.claude/skills, ./.agents/skills, then the pack),
    the first of a name winning; values are XML-escaped:
      <available_skills>
      <skill>
      <name>backend-builder</name>
      <description>Builds FastAPI + SQLModel backend features ...</description>
      <location>/abs/path/skills/backend-builder/SKILL.md</location>
      </skill>
      </available_skills>
      skillrunner catalog --format json
    """
    from skillrunner.agents import catalog, catalog_json, catalog_xml

    entries = catalog(project=_project())
    if fmt == "json":
        click.echo(json.dumps(catalog_json(entries), indent=2, ensure_ascii=False))
    else:
        click.echo(catalog_xml(entries), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
