"""Plan: ``specs/<feature>/plan.md`` for a person to review: data model, endpoints, files, decisions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from skillrunner.artifacts import Artifact, check_feature, feature_dir, seal, write_artifact
from skillrunner.contract import Contract, Endpoint, Field, Resource, find_contract, load_contract
from skillrunner.conventions import FILE_KINDS, PER_RESOURCE_KINDS, Conventions
from skillrunner.records import DecisionRecord, find_adr, write_adr
from skillrunner.render import latest_revision, render_backend
from skillrunner.skills import SkillChoice, resolve_skill
from skillrunner.templating import render_template

__all__ = ["DEFAULT_SKILL", "Decision", "PlanResult", "PlannedFile", "build_plan",
           "decisions", "expected_plan", "file_map", "linked_adrs", "plan", "planned_skill"]

DEFAULT_SKILL = "backend-builder"
_SKILL_MARK = re.compile(r"^<!-- skillrunner: skill=(?P<skill>[a-z0-9-]+) -->$", re.MULTILINE)


# --- the skill whose conventions shape the backend ----------------------------------------------------


def planned_skill(*, project: Path, feature: str) -> str | None:
    """The skill ``specs/<feature>/plan.md`` was written for, or None without a plan."""
    try:
        text = (feature_dir(project, feature) / "plan.md").read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    found = _SKILL_MARK.search(text)
    return found["skill"] if found else None


# --- the files implement writes -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFile:
    """One file of the backend: path relative to the project, its kind, resource and meaning."""

    path: str
    kind: str
    resource: str | None
    description: str


def _layout_kinds(contract: Contract, conv: Conventions) -> list[tuple[str, str | None, str]]:
    out: list[tuple[str, str | None, str]] = []
    for kind in FILE_KINDS:
        if kind.startswith("users_") and contract.auth != "builtin":
            continue
        if kind == "users_service" and not conv.service_layer:
            continue
        if kind in conv.layout:
            out.append((conv.path(kind), None, kind))
    for res in contract.ordered_resources():
        for kind in PER_RESOURCE_KINDS:
            if kind == "service" and not conv.service_layer:
                continue
            if kind in conv.layout:
                out.append((conv.path(kind, name=res.snake, plural=res.table), res.name, kind))
    return out


def file_map(contract: Contract, conv: Conventions, *,
             project: Path | None = None) -> tuple[PlannedFile, ...]:
    """Every file ``implement`` writes, as the renderer gives them; paths relative to the project
    (under the backend root), the layout's kinds first in layout order, then support files."""
    root = PurePosixPath(conv.root)
    known = _layout_kinds(contract, conv)
    present = set(render_backend(contract, conv, project=project))
    present |= {conv.path("actions", name=r.snake, plural=r.table) for r, _ in contract.actions()
                if "actions" in conv.layout}
    out = []
    # A module several kinds share (every table in one models.py) is listed once per kind and resource.
    for p, res, kind in dict.fromkeys(k for k in known if k[0] in present):
        desc = (FILE_KINDS | PER_RESOURCE_KINDS)[kind]
        out.append(PlannedFile((root / p).as_posix(), kind, res, f"{res}: {desc}" if res else desc))
    for p in sorted(present - {k[0] for k in known}):
        desc = "package marker" if p.endswith("__init__.py") else "support file"
        out.append(PlannedFile((root / p).as_posix(), "support", None, desc))
    return tuple(out)


# --- decisions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A decision the backend embodies; significant when lasting, contested and cross-cutting."""

    key: str
    topic: str
    title: str  # the ADR title
    chosen: str
    why: str
    alternatives: tuple[tuple[str, str], ...]  # (option, why not)
    consequences: str
    lasting: bool
    cross_cutting: bool

    @property
    def significant(self) -> bool:
        """Worth an ADR: hard to undo, with real alternatives, touching many parts."""
        return self.lasting and bool(self.alternatives) and self.cross_cutting

    @property
    def suggestion(self) -> str:
        """The line printed for a significant decision."""
        return (f"📋 Architectural decision detected: {self.chosen}. "
                f'Record it: skillrunner adr new "{self.title}"')

    def suggestion_for(self, feature: str) -> str:
        """The suggestion with the ``--feature`` that links the ADR to this plan."""
        return f"{self.suggestion} --feature {feature}"


_ENVELOPES = {
    "detail": ('errors as FastAPI\'s `{"detail": ...}`', "Errors in FastAPI's detail envelope"),
    "error": ('errors as `{"error": {"code", "message", "details"}}`',
              "Errors in a code-message-details envelope"),
    "detail-code-timestamp": ('errors as `{"detail", "error_code", "timestamp"}`',
                              "Errors with detail, error code and timestamp"),
}


def _paginated(contract: Contract) -> list[Endpoint]:
    return [ep for r in contract.resources for ep in r.endpoints if ep.operation.kind in ("list", "search")]


def decisions(contract: Contract, conv: Conventions, *, skill: str) -> tuple[Decision, ...]:
    """The plan's decisions, in a fixed order; each names its alternatives."""
    names = ", ".join(r.name for r in contract.resources) or "no resource"
    kinds = sorted({r.id_type for r in contract.resources}) or ["int"]
    out: list[Decision] = []
    if kinds == ["int"]:
        out.append(Decision(
            "id", "Id type", "Integer primary keys", f"integer primary keys for {names}",
            "the contract says `id: int`: short URLs, compact indexes, ordered inserts",
            (("UUID keys", "not guessable and mergeable across databases, but 16 bytes per key and index "
                           "entry and unordered inserts"),
             ("ULID or UUIDv7", "ordered and unguessable, but not native to SQLite or PostgreSQL < 18")),
            "ids are guessable, so ownership checks (not obscurity) protect rows; changing the type later "
            "is a migration of every table and client", True, True))
    else:
        title = "UUID primary keys" if kinds == ["uuid"] else "Integer and UUID primary keys per resource"
        out.append(Decision(
            "id", "Id type", title,
            f"{'UUID' if kinds == ['uuid'] else 'integer and UUID'} primary keys for {names}",
            "the contract asks for UUIDs: ids reveal nothing about counts or order and can be made anywhere",
            (("integer keys", "smaller and ordered, but guessable and tied to one database"),),
            "URLs are longer; indexes are larger; clients treat ids as opaque strings", True, True))
    if contract.auth == "jwt":
        out.append(Decision(
            "auth", "Authentication", "Verify JWTs issued by another service",
            "bearer JWTs verified with `JWT_SECRET` (HS256, the default) or the provider's public key "
            "(`JWT_PUBLIC_KEY` or `JWT_JWKS_URL`, RS256/ES256...), `exp` required, `JWT_AUDIENCE` and "
            "`JWT_ISSUER` checked when set, the `sub` claim as the user id",
            "tokens come from the identity provider (e.g. Better Auth); the backend stays stateless and "
            "keeps no users table",
            (("built-in users and login", "a second source of truth for accounts and passwords"),
             ("session cookies", "state on the server and CSRF handling for an API used by SPAs")),
            "an HS secret must be shared with the issuer and rotated with it (a leaked one forges any user); "
            "a JWKS address makes the app depend on the provider being reachable for new keys",
            True, True))
    elif contract.auth == "builtin":
        out.append(Decision(
            "auth", "Authentication", "Built-in users with argon2 and JWT login",
            "a users table, argon2 password hashes and JWTs issued at login",
            "the feature has no identity provider to lean on",
            (("an external identity provider", "no passwords to store, but one more service to run"),
             ("session cookies", "state on the server and CSRF handling")),
            "the backend stores password hashes: breach impact, reset flows and rate limits become its job",
            True, True))
    else:
        out.append(Decision(
            "auth", "Authentication", "No authentication", "no authentication: every client sees every row",
            "the contract says `auth: none` (a public or internal API)",
            (("bearer JWTs", "per-user data, at the cost of an identity provider"),),
            "anything deployed is open to anyone who can reach it", True, True))
    out.append(Decision(
        "database", "Database", "SQLite by default, PostgreSQL through DATABASE_URL",
        "SQLite by default (`sqlite:///./app.db`) and any SQLAlchemy URL, PostgreSQL included, through "
        "`DATABASE_URL`",
        "zero set-up for development and tests; the same SQLModel code runs on PostgreSQL in production",
        (("PostgreSQL only", "production parity in tests, but a server to start for every test run"),
         ("a document store", "no joins, no transactions across rows, not what SQLModel targets")),
        "tests run on SQLite, so PostgreSQL-only behaviour (locking, collation) is checked only when "
        "the suite runs against it", True, True))
    paged = _paginated(contract)
    if paged:
        out.append(Decision(
            "pagination", "Pagination", "Offset pagination with page and page_size",
            "offset pages: `page` (>= 1), `page_size` (1..100, default 20), answering "
            "`{items, total, page, page_size, pages}`",
            "clients can jump to any page and show a total; rows are owner-scoped, so pages stay short",
            (("cursor (keyset) pagination", "stable under inserts and fast deep pages, but no total and no "
                                            "jumping to page N"),
             ("no pagination", "one response grows without bound")),
            "deep pages cost an OFFSET scan; `total` is one COUNT per request", True, len(paged) >= 2))
    shown, title = _ENVELOPES[conv.error_envelope]
    out.append(Decision(
        "errors", "Error envelope", title, shown,
        f"the {skill} skill's convention, so clients of every backend it renders parse errors alike",
        tuple((shape, "another skill's convention") for e, (shape, _) in _ENVELOPES.items()
              if e != conv.error_envelope),
        "every client parses this shape, 422 included; changing it breaks them all", True, True))
    owned = [r for r in contract.resources if r.owner == "user"]
    if owned:
        status = conv.not_owned_status
        other = 403 if status == 404 else 404
        reason = ("a 404 does not tell a caller that the row exists" if status == 404 else
                  "a 403 tells the caller plainly that the row is not theirs")
        out.append(Decision(
            "not_owned", "Another user's row", f"Another user's row answers {status}",
            f"another user's row answers {status}", f"the {skill} skill's convention: {reason}",
            ((f"{other}", "a 403 confirms the id exists" if other == 403 else
                          "a 404 hides the reason from a caller who might be entitled to know"),),
            f"clients treat {status} on an item as 'not yours or gone'", True,
            any(ep.operation.kind in ("get", "update", "delete") for r in owned for ep in r.endpoints)))
    out.append(Decision(
        "service_layer", "Code layout", "Routers call a service layer" if conv.service_layer else
        "Routers own their session", "routers call `services/`, which own the session" if conv.service_layer
        else "routers open the session themselves (no service layer)",
        f"the {skill} skill's layout",
        (("the other layout", "a refactoring, not a change anyone outside the code sees"),),
        "internal only", False, True))
    out.append(Decision(
        "datetimes", "Datetimes", "Timezone-aware UTC datetimes",
        "timezone-aware UTC datetimes (naive input read as UTC, responses with the offset)",
        "naive datetimes are ambiguous and SQLModel 0.0.5x refuses them", (), "none worth recording",
        True, True))
    return tuple(out)


# --- the plan ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    """What ``plan`` did: the artifact, the skill, decisions, suggestions and ADRs it recorded."""

    artifact: Artifact
    skill: str
    decisions: tuple[Decision, ...]
    suggestions: tuple[str, ...]
    adrs: tuple[DecisionRecord, ...]
    text: str


def _mermaid_type(f: Field, contract: Contract) -> str:
    if f.type.kind == "ref" and f.type.ref:
        target = contract.resource(f.type.ref)
        return "uuid" if target and target.id_type == "uuid" else "int"
    return {"list": "list", "json": "json", "enum": "enum"}.get(f.type.kind, f.type.kind)


def _mermaid_note(text: str) -> str:
    return re.sub(r"[\"\\`\n\r{}]", "", text).strip()[:80]


def _entity(res: Resource, contract: Contract) -> list[str]:
    rows = [f"{res.id_type} id PK"]
    if res.owner == "user":
        rows.append('string user_id "owner (JWT sub)"' if contract.auth != "builtin" else "int user_id FK")
    if res.parent and res.parent_field:
        parent = contract.resource(res.parent.resource)
        rows.append(f"{parent.id_type if parent else 'int'} {res.parent_field} FK")
    for f in res.fields:
        key = " FK" if f.type.kind == "ref" else (" UK" if f.constraint("unique") else "")
        note = f.type.spec if f.type.kind in ("enum", "list", "decimal") else ""
        note = " ".join(x for x in (note, "required" if f.required else "") if x)
        comment = f' "{_mermaid_note(note)}"' if note else ""
        rows.append(f"{_mermaid_type(f, contract)} {f.name}{key}{comment}")
    if res.timestamps:
        rows += ["datetime created_at", "datetime updated_at"]
    if res.soft_delete:
        rows.append("datetime deleted_at")
    return rows


def _relations(contract: Contract) -> list[str]:
    out = []
    if contract.auth == "builtin":
        out += [f"User ||--o{{ {r.name} : owns" for r in contract.resources if r.owner == "user"]
    for res in contract.resources:
        if res.parent:
            out.append(f"{res.parent.resource} ||--o{{ {res.name} : has")
        for f in res.fields:
            if f.type.kind == "ref" and f.type.ref:
                out.append(f"{f.type.ref} {'||' if f.required else '|o'}--o{{ {res.name} : {f.name}")
    return out


def _errors(ep: Endpoint, res: Resource, conv: Conventions) -> str:
    codes = list(ep.errors)
    if conv.not_owned_status == 403 and res.owner == "user" and 404 in codes and 403 not in codes:
        codes.append(403)
    return ", ".join(str(c) for c in sorted(codes)) or "none"


def _risks(contract: Contract, conv: Conventions) -> list[str]:
    out = ["SQLite is the default: run the suite against PostgreSQL (`TEST_DATABASE_URL`) before production; "
           "locking and collation differ."]
    if contract.auth != "none":
        out.append("`JWT_SECRET` must be at least 32 bytes and shared only with the token issuer (or, for "
                   "RS256/ES256, `JWT_PUBLIC_KEY` or `JWT_JWKS_URL` set); the app refuses to start "
                   "without a way to check tokens.")
    fields = {ep.operation.kind: ep for r in contract.resources for ep in r.endpoints}
    if "search" in fields:
        out.append("Search is a case-insensitive substring match (ILIKE): no index serves it, so it scans "
                   "the user's rows; fine for thousands, not millions.")
    if "bulk_update" in fields:
        out.append("Bulk updates take up to 500 ids in one transaction: a long lock on busy tables.")
    for res in contract.resources:
        if res.parent and res.parent.on_delete == "cascade":
            out.append(f"Deleting a {res.parent.resource} deletes its {res.table.replace('_', ' ')}: there "
                       "is no undo.")
        stored = [f.name for f in res.fields if f.type.kind in ("list", "json")]
        if stored:
            out.append(f"{res.name}.{', '.join(stored)} are stored as JSON: they cannot be filtered or "
                       "indexed by the database.")
    if _paginated(contract):
        out.append("Offset pagination: a deep page costs an OFFSET scan; rows inserted between two "
                   "requests shift pages.")
    if conv.not_owned_status == 403:
        out.append("403 for another user's row confirms that the id exists.")
    return out


def _test_plan(contract: Contract, files: tuple[PlannedFile, ...]) -> list[str]:
    tests = {f.resource: f.path for f in files if f.kind == "test"}
    out = []
    for res in contract.resources:
        where = tests.get(res.name, "the generated suite")
        ops = ", ".join(ep.operation.kind for ep in res.endpoints)
        checks = ["every endpoint's success and each listed error status"]
        if res.owner == "user":
            checks.append("a second user's token sees and changes nothing")
        if res.fields:
            checks.append("each field's type and constraints at the edge (422 just outside)")
        checks.append("unknown keys answer 422")
        out.append(f"`{where}`: {res.name} ({ops}): {'; '.join(checks)}.")
    return out


def _action_receives(res: Resource, ep: Endpoint, contract: Contract) -> str:
    """What an action's function is given, in words."""
    parts = ["the session"] + (["the caller's id"] if contract.auth != "none" else [])
    if ep.member:
        parts.append(f"the caller's {res.name}, loaded (a caller who cannot reach it is refused first)")
    elif res.parent:
        parts.append(f"the id of the caller's {res.parent.resource}")
    if ep.body_item[0] == "Page":
        parts.append("page and page_size")
    if ep.operation.body:
        parts.append(f"the body as {ep.operation.body} (422 before it runs)")
    return ", ".join(parts)


def build_plan(*, contract: Contract, skill: SkillChoice, project: Path | None = None,
               adrs: dict[str, DecisionRecord] | None = None) -> tuple[str, tuple[Decision, ...]]:
    """The text of ``plan.md`` (sealed) and its decisions; ``adrs`` maps decision keys to their ADR."""
    conv = skill.conventions
    files = file_map(contract, conv, project=project)
    taken = decisions(contract, conv, skill=skill.name)
    root = PurePosixPath(conv.root)
    feature = contract.feature
    context = {
        "contract": contract,
        "feature": feature,
        "skill": skill.name,
        "skill_path": _display(skill.path, project),
        "conventions": conv,
        "summary": " ".join(contract.description.split()),
        "endpoint_count": sum(len(r.endpoints) for r in contract.resources),
        "entities": [(res.name, _entity(res, contract)) for res in contract.resources],
        "relations": _relations(contract),
        "endpoints": [
            (ep, res, "none" if contract.auth == "none" else "Bearer JWT", _errors(ep, res, conv))
            for res in contract.resources for ep in res.endpoints
        ],
        "files": files,
        "decisions": taken,
        "adrs": {k: (r, f"../../{r.path}") for k, r in (adrs or {}).items()},
        "risks": _risks(contract, conv),
        "tests": _test_plan(contract, files),
        "builtin": contract.auth == "builtin",
        "with_403": conv.not_owned_status == 403,
        "migration": _migration(contract, conv, project),
        "actions": [(res, ep, _action_receives(res, ep, contract),
                     (root / conv.path("actions", name=res.snake, plural=res.table)).as_posix())
                    for res, ep in contract.actions() if "actions" in conv.layout],
    }
    return seal(render_template("workflow/plan.md.j2", context, project=project), stage="plan"), taken


def _display(path: Path, project: Path | None) -> str:
    if project is not None:
        try:
            return path.resolve().relative_to(project.resolve()).as_posix()
        except ValueError:
            pass
    return "the packaged skill"


def _adr_text(d: Decision, contract: Contract) -> dict[str, str]:
    return {
        "context": f"The {contract.feature} backend ({contract.path}) needs a rule for: {d.topic.lower()}.",
        "decision": d.chosen[0].upper() + d.chosen[1:] + ". " + d.why[0].upper() + d.why[1:] + ".",
        "consequences": d.consequences[0].upper() + d.consequences[1:] + ".",
        "alternatives": "\n".join(f"- {opt}: {why}" for opt, why in d.alternatives),
    }


def linked_adrs(*, project: Path, feature: str, taken: tuple[Decision, ...]) -> dict[str, DecisionRecord]:
    """The recorded ADR of each significant decision (by title; the feature's, else one without feature)."""
    out = {}
    for d in taken:
        if d.significant:
            found = find_adr(project=project, title=d.title, feature=feature) or find_adr(
                project=project, title=d.title, feature="none")
            if found is not None:
                out[d.key] = found
    return out


def _migration(contract: Contract, conv: Conventions, project: Path | None) -> dict[str, Any]:
    """The revision that brings a database to this contract, for the plan's reviewer."""
    path, revision, count = latest_revision(contract, conv, project=project)
    return {"path": (PurePosixPath(conv.root) / path).as_posix(), "id": revision.id, "count": count,
            "first": revision.down is None, "changes": revision.changes, "losses": revision.losses}


def expected_plan(*, project: Path, contract: Contract, skill: SkillChoice) -> str:
    """What ``plan`` would write now (with the ADRs already recorded), for comparison."""
    taken = decisions(contract, skill.conventions, skill=skill.name)
    links = linked_adrs(project=project, feature=contract.feature, taken=taken)
    return build_plan(contract=contract, skill=skill, project=project, adrs=links)[0]


def plan(*, project: Path, feature: str, skill: str = DEFAULT_SKILL, record_adrs: bool = False,
         force: bool = False) -> PlanResult:
    """Write ``specs/<feature>/plan.md``; with ``record_adrs`` also an ADR per significant decision
    not yet recorded (found again by title, so reruns record nothing new)."""
    check_feature(feature)
    contract = load_contract(find_contract(feature, project=project), project=project)
    choice = resolve_skill(skill, project=project)
    taken = decisions(contract, choice.conventions, skill=choice.name)
    linked = linked_adrs(project=project, feature=feature, taken=taken)
    created: list[DecisionRecord] = []
    if record_adrs:
        for d in taken:
            if d.significant and d.key not in linked:
                parts = _adr_text(d, contract)
                linked[d.key] = write_adr(
                    project=project, title=d.title, feature=feature, status="Accepted",
                    context=parts["context"], decision=parts["decision"], consequences=parts["consequences"],
                    alternatives=parts["alternatives"],
                    references=[f"specs/{feature}/plan.md", contract.path])
                created.append(linked[d.key])
    text, taken = build_plan(contract=contract, skill=choice, project=project, adrs=linked)
    artifact = write_artifact(feature_dir(project, feature) / "plan.md", text, project=project, force=force)
    suggestions = tuple(d.suggestion_for(feature) for d in taken if d.significant and d.key not in linked)
    return PlanResult(artifact, choice.name, taken, suggestions, tuple(created), text)
