"""A skill's conventions for the runner (layout, error envelope, 403/404...), read from its folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from skillrunner.errors import SkillError

__all__ = ["CONVENTIONS_FILE", "DEPLOY_KINDS", "ERROR_ENVELOPES", "FILE_KINDS", "PER_RESOURCE_KINDS",
           "Conventions", "load_conventions"]

CONVENTIONS_FILE = "conventions.yaml"
ErrorEnvelope = Literal["detail", "error", "detail-code-timestamp"]
#: ``detail``: FastAPI's ``{"detail": ...}``; ``error``: ``{"error": {"code", "message",
#: "details"}}``; ``detail-code-timestamp``: ``{"detail", "error_code", "timestamp"}``.
ERROR_ENVELOPES: tuple[str, ...] = ErrorEnvelope.__args__  # type: ignore[attr-defined]

#: Every kind of file the runner generates once per backend, and its meaning.
FILE_KINDS: dict[str, str] = {
    "main": "the FastAPI app: routers, exception handlers, migrating the database on start",
    "config": "settings read from the environment (pydantic-settings)",
    "database": "engine, database threads (run_db), sessions and the statement helpers",
    "auth": "the get_current_user dependency (JWT verification)",
    "dependencies": "optional: CurrentUser, the dependency routers declare (auth keeps the JWT checks)",
    "errors": "exception handlers and the error envelope",
    "common": "shared schemas: Page, Stats, BulkRequest, BulkResult",
    "users_model": "auth: builtin only: the users table",
    "users_router": "auth: builtin only: register, login, me",
    "users_service": "auth: builtin only, with a service layer: password hashing and lookup",
    "conftest": "pytest fixtures of the generated suite",
    "alembic_ini": "Alembic configuration",
    "alembic_env": "Alembic environment",
    "alembic_script": "Alembic revision template",
    "migration": "the migration creating the whole schema",
    "requirements": "the runtime dependencies of the generated backend, with version ranges",
    "requirements_dev": "optional: the tools to test and check it (pytest, ruff, mypy), with requirements",
    "pyproject": "the project's metadata and dependencies; ruff, mypy and pytest settings",
    "readme": "how to run the generated backend",
    "test_app": "optional: tests of what the app does besides the resources (/health, CORS, settings)",
    "dockerfile": "optional: the container image (non-root; migrates, then serves with uvicorn)",
    "dockerignore": "optional: what the image build leaves out (.venv, .env, caches, databases)",
    "compose": "optional: the app and PostgreSQL for docker compose, with health checks",
    "env_example": "optional: every setting the app reads from the environment, with its meaning",
    "gitignore": "optional: what git leaves out (.venv, .env, app.db, caches)",
    "action_schemas": "optional: the `## Schema` bodies of the contract's actions (pydantic models)",
}
#: Optional kinds of the files that build, ship and run the backend besides its code.
DEPLOY_KINDS = frozenset({"requirements_dev", "test_app", "dockerfile", "dockerignore", "compose",
                          "env_example", "gitignore"})
#: Kinds rendered once per resource; their paths contain ``{name}`` (snake) or ``{plural}``, except
#: ``model``, whose path may name one module for every table (``models.py``; ``users_model`` may share it).
PER_RESOURCE_KINDS: dict[str, str] = {
    "model": "the SQLModel table and its Base",
    "schema": "Create, Update and Public schemas",
    "router": "the FastAPI router",
    "service": "the service functions (only with service_layer: true)",
    "test": "the generated pytest module",
    "actions": "optional, yours: the action functions, created once as stubs and never overwritten",
}


@dataclass(frozen=True)
class Conventions:
    """What a skill's runs generate; see ``docs/conventions.md``."""

    root: str  # the backend's directory, relative to the project
    app: str  # "module:attribute" of the ASGI app, importable from ``root``
    error_envelope: ErrorEnvelope
    not_owned_status: Literal[403, 404]
    service_layer: bool
    layout: dict[str, str]  # kind -> path relative to root (POSIX)
    source: str = ""

    def path(self, kind: str, *, name: str = "", plural: str = "") -> str:
        """The path of a file of ``kind``, relative to ``root``."""
        return self.layout[kind].format(name=name, plural=plural)

    def module(self, kind: str, *, name: str = "", plural: str = "") -> str:
        """The dotted module name of a ``.py`` file of ``kind``, importable from ``root``."""
        path = PurePosixPath(self.path(kind, name=name, plural=plural))
        return ".".join(path.with_suffix("").parts)


def _fail(path: Path, message: str, hint: str) -> SkillError:
    return SkillError(message, path=path, line=1, col=1, hint=hint)


def load_conventions(skill_dir: Path) -> Conventions:
    """Read ``conventions.yaml`` from a skill folder, checking every key."""
    path = skill_dir / CONVENTIONS_FILE
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(path, "this skill has no conventions for the runner",
                    f"add {CONVENTIONS_FILE}; see skillrunner docs conventions") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fail(path, f"conventions do not parse: {exc}", "fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise _fail(path, "conventions must be a YAML mapping", "see skillrunner docs conventions")
    required = ("root", "app", "error_envelope", "not_owned_status", "service_layer", "layout")
    missing = [k for k in required if k not in data]
    if missing:
        raise _fail(path, f"missing key(s): {', '.join(missing)}", "see skillrunner docs conventions")
    unknown = sorted(set(data) - set(required))
    if unknown:
        raise _fail(path, f"unknown key(s): {', '.join(unknown)}",
                    f"the keys are {', '.join(required)}")
    if data["error_envelope"] not in ERROR_ENVELOPES:
        raise _fail(path, f"error_envelope {data['error_envelope']!r} is not known",
                    f"use one of {', '.join(ERROR_ENVELOPES)}")
    if data["not_owned_status"] not in (403, 404):
        raise _fail(path, "not_owned_status must be 403 or 404", "404 hides that the row exists")
    layout = data["layout"]
    if not isinstance(layout, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in layout.items()
    ):
        raise _fail(path, "layout must map file kinds to paths", "see skillrunner docs conventions")
    known = FILE_KINDS | PER_RESOURCE_KINDS
    bad = sorted(set(layout) - set(known))
    if bad:
        raise _fail(path, f"unknown file kind(s) in layout: {', '.join(bad)}",
                    f"the kinds are {', '.join(sorted(known))}")
    optional = {"service", "users_service", "dependencies", "actions", "action_schemas", *DEPLOY_KINDS}
    needed = set(known) - optional
    if data["service_layer"]:
        needed |= {"service", "users_service"}
    absent = sorted(needed - set(layout))
    if absent:
        raise _fail(path, f"layout lacks file kind(s): {', '.join(absent)}",
                    "give every kind a path relative to root")
    for kind, rel in layout.items():
        p = PurePosixPath(rel)
        if p.is_absolute() or ".." in p.parts:
            raise _fail(path, f"layout path for {kind} leaves the backend root: {rel}",
                        "use a relative path inside root")
        if (kind in PER_RESOURCE_KINDS and kind != "model"
                and "{name}" not in rel and "{plural}" not in rel):
            raise _fail(path, f"layout path for {kind} must contain {{name}} or {{plural}}",
                        "one file is rendered per resource")
    if not isinstance(data["service_layer"], bool):
        raise _fail(path, "service_layer must be true or false", "")
    return Conventions(
        root=str(data["root"]),
        app=str(data["app"]),
        error_envelope=data["error_envelope"],
        not_owned_status=data["not_owned_status"],
        service_layer=data["service_layer"],
        layout=dict(layout),
        source=path.as_posix(),
    )
