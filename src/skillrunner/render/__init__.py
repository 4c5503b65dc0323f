"""The backend renderer: a checked contract plus a skill's conventions -> every file of a FastAPI app."""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from skillrunner.contract import Contract, find_contract, load_contract
from skillrunner.conventions import Conventions
from skillrunner.errors import RenderError, SkillrunnerError
from skillrunner.render.actions import action_modules
from skillrunner.render.history import (
    History,
    RecordedRevision,
    foreign_revisions,
    load_history,
    save_history,
)
from skillrunner.render.migrations import (
    MigrationRefused,
    Revision,
    plan_revision,
    revision_context,
    schema_from_revision,
    schema_of,
)
from skillrunner.render.python import (
    _IMPORT,
    LINE_LENGTH,
    _call,
    _code,
    _db_name,
    _display,
    _lines,
    _normalise,
    _q,
    _qs,
    _wrap_literal,
    tidy_python,
)
from skillrunner.render.views import _Builder
from skillrunner.skills import resolve_skill
from skillrunner.templating import render_template
from skillrunner.write import edited_files, write_files, writer_keys

__all__ = ["LINE_LENGTH", "WriteResult", "implement", "latest_revision", "render_backend", "tidy_python"]

_TEMPLATE_DIR = "backend"
_PER_RESOURCE = ("model", "schema", "router", "service", "test", "actions")
#: The optional kinds that build, ship and run the backend (``DEPLOY_KINDS``), and their templates.
_DEPLOY_TEMPLATES = {
    "requirements_dev": "requirements-dev.txt.j2", "test_app": "test_app.py.j2",
    "dockerfile": "Dockerfile.j2", "dockerignore": "dockerignore.j2", "compose": "compose.yaml.j2",
    "env_example": "env.example.j2", "gitignore": "gitignore.j2",
}


# --- rendering --------------------------------------------------------------------------------------------


def _packages(paths: Iterable[str], skip: Iterable[str]) -> list[str]:
    """``__init__.py`` for every folder holding generated Python modules (not for ``skip`` folders)."""
    skipped = {PurePosixPath(s) for s in skip}
    out: set[str] = set()
    for rel in paths:
        p = PurePosixPath(rel)
        if p.suffix != ".py":
            continue
        for parent in p.parents:
            if parent == PurePosixPath(".") or parent in skipped or any(s in parent.parents for s in skipped):
                continue
            out.add((parent / "__init__.py").as_posix())
    return sorted(out)


def _top_level(paths: Iterable[str]) -> frozenset[str]:
    tops = set()
    for rel in paths:
        p = PurePosixPath(rel)
        if p.suffix == ".py" or len(p.parts) > 1:
            tops.add(p.parts[0].removesuffix(".py"))
    return frozenset(t for t in tops if t.isidentifier())


def _dir(conv: Conventions, kind: str) -> str:
    return str(PurePosixPath(conv.path(kind)).parent)


def _context(contract: Contract, conv: Conventions) -> dict[str, Any]:
    builder = _Builder(contract, conv)
    resources = [builder.resource_view(r) for r in contract.ordered_resources()]
    once = {kind: conv.module(kind) for kind in conv.layout
            if kind not in _PER_RESOURCE and conv.layout[kind].endswith(".py")}
    builtin = contract.auth == "builtin"
    users_test_path = conv.path("test", name="user", plural="users")
    paths = [conv.path(k) for k in conv.layout if k not in _PER_RESOURCE]
    paths += [conv.path(k, name=r.snake, plural=r.table) for r in contract.resources
              for k in _PER_RESOURCE if k in conv.layout]
    actions = contract.actions()
    return {
        "first_party": sorted(_top_level(p for p in paths if not p.startswith(_dir(conv, "alembic_env")))),
        "alembic_dir": _dir(conv, "alembic_env"),
        "versions_dir": _dir(conv, "migration"),
        "tests_dir": _dir(conv, "conftest"),
        "contract": contract,
        "title": contract.title,
        "version": contract.version,
        "description": contract.description,
        "auth": contract.auth,
        "builtin": builtin,
        "conv": conv,
        "envelope": conv.error_envelope,
        "not_owned": conv.not_owned_status,
        "service_layer": conv.service_layer,
        "modules": once,
        "resources": resources,
        "schemas": [builder.schema_view(s) for s in contract.schemas],
        "has_actions": bool(actions),
        "page_actions": any(ep.body_item[0] == "Page" for _, ep in actions),
        "only": None,
        "users_test_path": users_test_path,
        "wrap": _wrap_literal,
        "call": _call,
        "display": _display,
        "q": _q,
        "qs": _qs,
        "code": _code,
        "lines": _lines,
        "py": _q,
        "db_name": _db_name,
        "app_module": conv.app.partition(":")[0],
        "app_attr": conv.app.partition(":")[2] or "app",
        "line_length": LINE_LENGTH,
        "toml": _toml_string,
        "package_version": _package_version(contract.version),
        "requirements_ref": _relative(conv, "requirements", "requirements_dev"),
    }


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string: JSON's escapes are TOML's, but TOML refuses a raw DEL too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _package_version(version: str) -> str:
    """The contract's version as ``[project]`` takes it (PEP 440): its ``MAJOR.MINOR.PATCH``, without the
    suffix a contract may add (``1.0.0-beta.2`` is no PEP 440 version)."""
    match = re.match(r"\d+\.\d+\.\d+", version)
    return match.group(0) if match else "0.1.0"


def _relative(conv: Conventions, kind: str, start: str) -> str:
    """The path of ``kind``'s file as seen from the folder of ``start``'s (which may be absent)."""
    if start not in conv.layout:
        return conv.path(kind)
    return posixpath.relpath(conv.path(kind), posixpath.dirname(conv.path(start)) or ".")


def _tables_module(conv: Conventions) -> str | None:
    """The one module holding every table, when the layout's ``model`` path has no placeholder."""
    path = conv.layout["model"]
    return None if "{name}" in path or "{plural}" in path else path


def _tables_docstring(contract: Contract) -> str:
    tables = ["users"] if contract.auth == "builtin" else []
    tables += [r.table for r in contract.ordered_resources()]
    text = f"Every table ({', '.join(tables)}) and the fields each resource's schemas share."
    lines = textwrap.wrap(text, LINE_LENGTH - 10)
    return '"""' + "\n".join(lines) + '"""'


def _merge_modules(docstring: str, parts: Sequence[str], module: str) -> str:
    """Rendered modules joined into one: their imports together (``tidy_python`` sorts and prunes
    them later; imports of ``module`` itself are dropped), then each body in turn."""
    imports: list[str] = []
    bodies: list[str] = []
    for text in parts:
        lines = text.split("\n")
        i = 0
        if lines and lines[0].startswith('"""'):
            while i < len(lines):
                closed = lines[i].count('"""') >= (2 if i == 0 else 1)
                i += 1
                if closed:
                    break
        while i < len(lines):
            stripped = lines[i].strip()
            match = _IMPORT.match(stripped)
            if match:
                if match["module"] != module:
                    imports.append(stripped)
            elif stripped and not stripped.startswith("#"):
                break
            i += 1
        bodies.append("\n".join(lines[i:]).strip("\n"))
    return docstring + "\n\n" + "\n".join(imports) + "\n\n\n" + "\n\n\n".join(bodies) + "\n"


def _imported_names(texts: Iterable[str], module: str) -> frozenset[str]:
    """Every name some text imports from ``module`` (``from module import a, b as c`` gives a, b)."""
    names: set[str] = set()
    pattern = re.compile(rf"^from {re.escape(module)} import (\([^)]*\)|[^\n]*)", re.MULTILINE)
    for text in texts:
        for match in pattern.finditer(text):
            for piece in match[1].strip("()").split(","):
                if piece.strip():
                    names.add(piece.split()[0])
    return frozenset(names)


def _render(name: str, context: Mapping[str, Any], project: Path | None) -> str:
    return render_template(f"{_TEMPLATE_DIR}/{name}", context, project=project)


def render_backend(contract: Contract, conventions: Conventions, *,
                   project: Path | None = None, stubs: bool = False) -> dict[str, str]:
    """Every file of the backend: POSIX path relative to ``conventions.root`` -> text, sorted.

    Deterministic: the same contract, conventions, templates and migration history give the same
    bytes. Project templates (``<project>/templates/backend/...``) override the packaged ones. With a
    ``project`` whose ``.skillrunner/`` records a history, the revisions rendered before come back as
    they were and a change of schema adds one; without, one revision creates every table. With
    ``stubs``, the user's action modules too, as a first ``implement`` writes them.
    """
    rendered = _render_backend(contract, conventions, project=project)
    return dict(sorted({**rendered.files, **rendered.stubs}.items())) if stubs else rendered.files


def latest_revision(contract: Contract, conventions: Conventions, *,
                    project: Path | None = None) -> tuple[str, RecordedRevision, int]:
    """The revision that brings a database to ``contract`` (the one ``implement`` adds now, else the
    last one recorded): its path under the backend root, the revision, and how many there are."""
    _, _, history = _migrations(contract, conventions, project, frozenset())
    last = history.revisions[-1]
    versions = PurePosixPath(conventions.path("migration")).parent
    return (versions / last.file).as_posix(), last, len(history.revisions)


@dataclass(frozen=True)
class _Rendered:
    files: dict[str, str]
    revision: Revision | None  # added by this render: the schema changed
    history: History  # what to record once the files are written
    stubs: dict[str, str] = dataclasses.field(default_factory=dict)  # the user's action modules, as new


def _migrations(contract: Contract, conv: Conventions, project: Path | None,
                first_party: frozenset[str]) -> tuple[dict[str, str], Revision | None, History]:
    """The revision files (path -> text) and the history they make."""
    versions = PurePosixPath(conv.path("migration")).parent
    schema = schema_of(contract, conv)
    history = load_history(project, contract.feature) if project is not None else None
    if history is None and project is not None:
        history = _adopted(project / conv.root / conv.path("migration"))
    recorded = history.revisions if history is not None else ()
    try:
        if history is None:
            revision = plan_revision(None, schema, number=1, down=None,
                                     initial_file=PurePosixPath(conv.path("migration")).name)
        else:
            assert project is not None
            down, number = _head(project / conv.root / versions.as_posix(), recorded)
            revision = plan_revision(history.tables, schema, number=number, down=down)
    except MigrationRefused as exc:
        raise RenderError(f"the database cannot follow this change: {exc.message}", path=contract.path,
                          line=exc.line, hint=exc.hint) from None
    files = {(versions / r.file).as_posix(): r.text for r in recorded}
    if revision is not None:
        context = {"q": _q, **revision_context(revision, contract.feature)}
        text = tidy_python(_render("migration.py.j2", context, project), first_party)
        files[(versions / revision.file).as_posix()] = text
        recorded = (*recorded, RecordedRevision(revision.id, revision.down, revision.file, text,
                                                tuple(c.summary for c in revision.changes), revision.losses))
    return files, revision, History(schema, recorded)


def _adopted(initial: Path) -> History | None:
    """A backend rendered before histories were kept: its first revision stays as it is, and the
    tables it creates are the schema the next revision starts from."""
    try:
        text = initial.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    tables = schema_from_revision(text)
    if tables is None or not re.search(r'^revision: str = "0001"$', text, re.MULTILINE):
        return None
    return History(tables, (RecordedRevision("0001", None, initial.name, text, ("create every table",)),))


def _head(folder: Path, recorded: Sequence[RecordedRevision]) -> tuple[str | None, int]:
    """The revision a new one follows (hand-written ones count) and the number it takes."""
    downs: dict[str, str | None] = {r.id: r.down for r in recorded}
    foreign = foreign_revisions(folder, {r.file for r in recorded})
    downs |= {rev: down for rev, (down, _) in foreign.items()}
    heads = sorted(set(downs) - {d for d in downs.values() if d is not None})
    if len(heads) > 1:
        raise RenderError(f"the migrations have {len(heads)} heads ({', '.join(heads)})",
                          path=folder.as_posix(),
                          hint="join them with `alembic merge heads -m merge` in the backend folder, "
                               "then rerun")
    names = [r.file for r in recorded] + [file for _, file in foreign.values()] + list(downs)
    numbers = [int(m.group(1)) for n in names if (m := re.match(r"(\d{4})(?:_|$)", n))]
    return (heads[0] if heads else None), max(numbers, default=0) + 1


def _render_backend(contract: Contract, conventions: Conventions, *, project: Path | None) -> _Rendered:
    conv = conventions
    ctx = _context(contract, conv)
    builtin = contract.auth == "builtin"
    files: dict[str, str] = {}
    for kind, what in (("actions", contract.actions()), ("action_schemas", contract.schemas)):
        if what and kind not in conv.layout:
            what_ = "actions" if kind == "actions" else "schemas"
            raise RenderError(f"{contract.path} declares {what_}, and this skill's conventions name no "
                              f"place for {kind}",
                              path=conv.source or None,
                              hint=f"add `{kind}: <path>` to the skill's layout "
                                   "(see skillrunner docs conventions)")
    once = ["main", "config", "database", "errors", "common", "conftest", "alembic_ini", "alembic_env",
            "alembic_script", "requirements", "pyproject", "readme"]
    if contract.auth != "none":
        once += ["auth", "dependencies"] if "dependencies" in conv.layout else ["auth"]
    if builtin:
        once += ["users_model", "users_router"]
        if conv.service_layer:
            once.append("users_service")
    once += [kind for kind in _DEPLOY_TEMPLATES if kind in conv.layout]
    templates = {
        "main": "main.py.j2", "config": "config.py.j2", "database": "database.py.j2",
        "errors": "errors.py.j2", "common": "common.py.j2", "conftest": "conftest.py.j2",
        "alembic_ini": "alembic.ini.j2", "alembic_env": "alembic_env.py.j2",
        "alembic_script": "script.py.mako.j2",
        "requirements": "requirements.txt.j2", "pyproject": "pyproject.toml.j2", "readme": "README.md.j2",
        "auth": "auth.py.j2", "users_model": "users_model.py.j2", "users_router": "users_router.py.j2",
        "users_service": "users_service.py.j2", "dependencies": "dependencies.py.j2", **_DEPLOY_TEMPLATES,
    }
    tables = _tables_module(conv)
    parts: list[str] = []  # the tables rendered into ``tables``, users first
    for kind in once:
        if kind == "users_model" and conv.path(kind) == tables:
            parts.append(_render(templates[kind], ctx, project))
            continue
        files[conv.path(kind)] = _render(templates[kind], ctx, project)
    per = ["model", "schema", "router", "test"] + (["service"] if conv.service_layer else [])
    for res in ctx["resources"]:
        local = {**ctx, "res": res}
        for kind in per:
            path = conv.path(kind, name=res.snake, plural=res.table)
            if kind == "model" and tables:
                parts.append(_render("model.py.j2", local, project))
                continue
            if path in files:
                raise RenderError(f"two files would be written to {path}",
                                  hint="give every file kind its own path in conventions.yaml")
            files[path] = _render(f"{kind}.py.j2", local, project)
    if tables:
        if tables in files:
            raise RenderError(f"two files would be written to {tables}",
                              hint="only the users table may share the tables module's path")
        files[tables] = _merge_modules(_tables_docstring(contract), parts, conv.module("model"))
    if builtin:
        files[ctx["users_test_path"]] = _render("test_users.py.j2", ctx, project)
    if contract.schemas:
        files[conv.path("action_schemas")] = _render("action_schemas.py.j2", ctx, project)
    stubs = {res.actions_path: _render("actions.py.j2", {**ctx, "res": res}, project)
             for res in ctx["resources"] if res.actions_path}
    skip = {str(PurePosixPath(conv.path(k)).parent) for k in ("alembic_env", "migration")}
    for init in _packages([*files, *stubs], skip):
        files.setdefault(init, "")
    first_party = frozenset(ctx["first_party"])
    out: dict[str, str] = {}
    for path in sorted(files):
        text = files[path]
        if path.endswith(".py") and text:
            text = tidy_python(text, first_party)
        elif text:
            text = _normalise(text)
        out[path] = text
    # The shared bodies (common) and value types (database) keep only what the rest of the tree
    # imports: every import is exact by now. Common first, as it imports from the database module.
    tidied = [tidy_python(text, first_party) for text in stubs.values()]
    used = _imported_names([*out.values(), *tidied], conv.module("common"))
    out[conv.path("common")] = tidy_python(_render("common.py.j2", {**ctx, "common_used": used}, project),
                                           first_party)
    values = _imported_names([*out.values(), *tidied], conv.module("database"))
    out[conv.path("database")] = tidy_python(
        _render("database.py.j2", {**ctx, "values_used": values}, project), first_party)
    # Revisions already rendered are written back byte for byte: an applied revision never changes.
    migrations, revision, history = _migrations(contract, conv, project, first_party)
    for path in migrations:
        if path in out:
            raise RenderError(f"two files would be written to {path}",
                              hint="keep the migrations folder for revisions only")
    stubs = {path: tidy_python(text, first_party) for path, text in sorted(stubs.items())}
    return _Rendered(dict(sorted({**out, **migrations}.items())), revision, history, stubs)


# --- implement: render and write ----------------------------------------------------------------------


@dataclass(frozen=True)
class WriteResult:
    """What ``implement`` wrote; paths relative to the project, sorted."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    merged: tuple[str, ...]
    conflicts: tuple[str, ...]
    root: Path
    app: str
    diff: str = ""
    removed: tuple[str, ...] = ()  # generated before, no longer rendered, untouched: deleted
    kept: tuple[str, ...] = ()  # no longer rendered but edited by the user: left in place
    conflict_lines: tuple[str, ...] = ()  # path:line of each conflict marker written
    forced: tuple[str, ...] = ()  # --force took the render's side where edits overlapped
    refused: tuple[str, ...] = ()  # differing files skillrunner never wrote (replaced with --force)
    switched_from: tuple[str, ...] = ()  # skills whose layout this render replaced
    revision: str = ""  # the migration this render added (path relative to the project), if any
    changes: tuple[str, ...] = ()  # what that revision changes in the database
    losses: tuple[str, ...] = ()  # the data it loses: one sentence a change that drops something
    stubs: tuple[str, ...] = ()  # "path: name" of each action stub written into the user's modules
    orphaned: tuple[str, ...] = ()  # "path:line: name": public functions of an action module no action names
    stranded: tuple[str, ...] = ()  # "old -> new": action modules of the layout switched from, left in place


def _switched_from(project: Path, key: str, *, force: bool) -> tuple[str, ...]:
    """The other skills' writers whose backend this render takes over. Their files nobody edited go;
    edited ones stop the switch, unless ``force`` (then they stay where they are, listed as kept)."""
    others = tuple(k for k in writer_keys(project=project, prefix="implement:") if k != key)
    edited = [rel for other in others for rel in edited_files(project=project, key=other)]
    if edited and not force:
        old = ", ".join(k.removeprefix("implement:") for k in others)
        new = key.removeprefix("implement:")
        listed = "".join(f"\n  {rel}" for rel in edited)
        raise RenderError(
            f"this backend was rendered with {old}; {new} renders another layout, and switching would "
            f"leave these files you edited in {old}'s layout:{listed}",
            hint=f"move your edits into {new}'s files (or delete them) and rerun; --force switches and keeps "
                 f"them where they are; --skill {old} stays with {old}")
    return others


def _stranded(project: Path, contract: Contract, conv: Conventions, others: Sequence[str]) -> tuple[str, ...]:
    """The action modules of the skills this render switched from that exist and lie elsewhere: the
    user's code, which skillrunner never moves; the new layout's stubs are what the app calls now."""
    out: list[str] = []
    for key in others:
        try:
            old = resolve_skill(key.removeprefix("implement:"), project=project).conventions
        except SkillrunnerError:
            continue
        if "actions" not in old.layout or "actions" not in conv.layout:
            continue
        for res in dict.fromkeys(r for r, _ in contract.actions()):
            before = PurePosixPath(old.root) / old.path("actions", name=res.snake, plural=res.table)
            after = PurePosixPath(conv.root) / conv.path("actions", name=res.snake, plural=res.table)
            if before != after and (project / before).is_file():
                out.append(f"{before.as_posix()} -> {after.as_posix()}")
    return tuple(sorted(out))


def implement(*, project: Path, feature: str, skill: str = "backend-builder", force: bool = False,
              dry_run: bool = False, diff: bool = False) -> WriteResult:
    """Render ``specs/api/<feature>.md`` with ``skill`` and write it under the skill's root.

    A contract error raises before anything is written. Files the user edited get the render
    merged in; where the edits and the render overlap the file gets conflict markers (listed in
    ``conflicts``), or with ``force`` the render's side there. A differing file skillrunner never
    wrote is refused (``WriteConflictError``, nothing written) unless ``force``.
    """
    source = find_contract(feature, project=project)
    contract = load_contract(source, project=project)
    choice = resolve_skill(skill, project=project)
    conv: Conventions = choice.conventions
    rendered = _render_backend(contract, conv, project=project)
    files = rendered.files
    key = f"implement:{choice.name}"
    others = _switched_from(project, key, force=force)
    modules = {r.name: conv.path("actions", name=r.snake, plural=r.table) for r in contract.resources
               if "actions" in conv.layout}
    actions = action_modules(rendered.stubs, contract=contract, root=project / conv.root, project=project,
                             modules=modules)
    report = write_files(files, project=project, root=conv.root, key=key, force=force, dry_run=dry_run,
                         diff=diff, prune=True, replaces=others, owned=actions.files)
    if not dry_run:
        history = dataclasses.replace(rendered.history, skill=choice.name)
        save_history(project, contract.feature, history, source.read_text(encoding="utf-8"))
    revision = rendered.revision
    return WriteResult(
        created=tuple(sorted(report.created)), updated=tuple(sorted(report.updated)),
        unchanged=tuple(sorted(report.unchanged)), merged=tuple(sorted(report.merged)),
        conflicts=tuple(sorted(report.conflicts)), root=project / conv.root, app=conv.app,
        diff=report.diff, removed=report.removed, kept=report.kept, conflict_lines=report.conflict_lines,
        forced=report.forced, refused=report.refused,
        switched_from=tuple(k.removeprefix("implement:") for k in others),
        revision=(PurePosixPath(conv.root) / conv.path("migration")).parent.joinpath(revision.file).as_posix()
        if revision else "",
        changes=tuple(c.summary for c in revision.changes) if revision else (),
        losses=revision.losses if revision else (),
        stubs=actions.added, orphaned=actions.orphaned,
        stranded=_stranded(project, contract, conv, others),
    )
