"""Specify: ``specs/<feature>/spec.md`` (stories, acceptance scenarios, FR/SC) from the contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillrunner.artifacts import Artifact, check_feature, feature_dir, seal, write_artifact
from skillrunner.contract import Contract, Endpoint, Field, Resource, find_contract, load_contract
from skillrunner.errors import SkillrunnerError
from skillrunner.templating import render_template

__all__ = ["NEEDS_CLARIFICATION", "Scenario", "SpecResult", "Story", "build_spec", "feature_contract",
           "field_rule", "specify", "user_stories"]

NEEDS_CLARIFICATION = "[NEEDS CLARIFICATION"
_CORE = ("create", "list", "get", "update", "delete")


@dataclass(frozen=True)
class Scenario:
    """One acceptance scenario: Given / When / Then."""

    given: str
    when: str
    then: str


@dataclass(frozen=True)
class Story:
    """A user story: a slice of one resource's endpoints that can be built and tested alone."""

    number: int
    priority: int
    resource: str
    title: str
    want: str
    why: str
    test: str
    scenarios: tuple[Scenario, ...]
    endpoints: tuple[Endpoint, ...]

    @property
    def label(self) -> str:
        """``US1``."""
        return f"US{self.number}"


@dataclass(frozen=True)
class SpecResult:
    """What ``specify`` did: the artifact, the contract it read (or None) and the open questions."""

    artifact: Artifact
    contract: str | None
    clarifications: int
    text: str


def feature_contract(*, project: Path, feature: str) -> Contract | None:
    """The feature's parsed contract, or None when it has none (a broken one raises ContractError)."""
    check_feature(feature)
    try:
        path = find_contract(feature, project=project)
    except SkillrunnerError as exc:
        if "no contract for" in exc.message:
            return None
        raise
    return load_contract(path, project=project)


def _words(name: str) -> str:
    return name.replace("_", " ")


def _actor(contract: Contract) -> str:
    return "a client" if contract.auth == "none" else "a signed-in user"


def _mine(res: Resource) -> str:
    return "my own " if res.owner == "user" else ""


def _theirs(res: Resource) -> str:
    return "their own " if res.owner == "user" else ""


def field_rule(f: Field) -> str:
    """A field's rules in words: ``title: string, required, 1 to 255 characters``."""
    t = f.type
    if t.kind == "enum":
        kind = "one of " + ", ".join(t.enum_values)
    elif t.kind == "list":
        kind = f"a list of {t.item or 'string'} values"
    elif t.kind == "ref":
        kind = f"the id of a {t.ref}"
    elif t.kind == "datetime":
        kind = "a datetime (read as UTC when naive)"
    else:
        kind = t.spec
    parts = [kind, "required" if f.required else ("optional, may be null" if f.nullable else "optional")]
    lo, hi = f.constraint("min_length"), f.constraint("max_length")
    if lo is not None and hi is not None:
        parts.append(f"{lo} to {hi} characters")
    elif lo is not None:
        parts.append(f"at least {lo} characters")
    elif hi is not None:
        parts.append(f"at most {hi} characters")
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    parts += [f"{words[c.name]} {c.value}" for c in f.constraints if c.name in words]
    if (n := f.constraint("max_items")) is not None:
        parts.append(f"at most {n} items")
    if (p := f.constraint("pattern")) is not None:
        parts.append(f"matching `{p}`")
    if f.constraint("unique"):
        parts.append("unique")
    if f.has_default:
        shown = "[]" if f.default == () else ("null" if f.default is None else str(f.default))
        parts.append(f"default {shown}")
    return f"`{f.name}`: {', '.join(parts)}"


def _example_body(res: Resource) -> str:
    required = [f.name for f in res.fields if f.required]
    return f"a valid body ({', '.join(required)})" if required else "a valid body"


def _core_scenarios(contract: Contract, res: Resource, eps: list[Endpoint]) -> list[Scenario]:
    me = "I am signed in" if contract.auth != "none" else "the service is running"
    one, many = _words(res.snake), _words(res.table)
    parent = contract.resource(res.parent.resource) if res.parent else None
    under = f" under {_mine(res)}{_words(parent.snake)}" if parent else ""
    out: list[Scenario] = []
    for ep in eps:
        call = f"I send `{ep.method} {ep.path}`"

        def query(q: str, ep: Endpoint = ep) -> str:
            return f"I send `{ep.method} {ep.path}?{q}`"
        kind = ep.operation.kind
        if kind == "create":
            owned = ", owned by me" if res.owner == "user" else ""
            out.append(Scenario(f"{me}{' and own a ' + _words(parent.snake) if parent else ''}",
                                f"{call} with {_example_body(res)}",
                                f"the answer is {ep.success} with the new {one}, its id{owned}"))
            if 422 in ep.errors:
                required = next((f for f in res.fields if f.required), None)
                broken = f"without `{required.name}`" if required else "with an unknown key such as `id`"
                out.append(Scenario(me, f"{call} {broken}", "the answer is 422 and nothing is stored"))
        elif kind == "list":
            op = ep.operation
            out.append(Scenario(f"I own 3 {many}{under} and another user owns 2" if res.owner == "user"
                                else f"there are 3 {many}{under}",
                                call, f"the answer is {ep.success} with {_mine(res)}3 {many} and `total` 3"))
            if op.filters:
                f = res.field(op.filters[0])
                value = f.type.enum_values[0] if f and f.type.enum_values else "<value>"
                out.append(Scenario(f"I own {many} with different `{op.filters[0]}` values",
                                    query(f"{op.filters[0]}={value}"),
                                    f"only {many} whose `{op.filters[0]}` is {value} are listed"))
            if op.sorts:
                key = next((s for s in op.sorts if s != "created_at"), op.sorts[0])
                several = f"I own several {many}" if res.owner == "user" else f"there are several {many}"
                out.append(Scenario(several, query(f"sort=-{key}"),
                                    f"they come ordered by `{key}`, descending, ties by id"))
        elif kind == "get":
            out.append(Scenario(f"I own a {one}" if res.owner == "user" else f"a {one} exists", call,
                                f"the answer is {ep.success} with that {one}"))
        elif kind == "update":
            out.append(Scenario(f"I own a {one}" if res.owner == "user" else f"a {one} exists",
                                f"{call} with only some of its fields",
                                f"the answer is {ep.success}, only those fields changed"
                                + (" and `updated_at` moved forward" if res.timestamps else "")))
        elif kind == "delete":
            kids = contract.children(res.name)
            extra = "".join(
                f"; its {_words(k.table)} are deleted" if k.parent and k.parent.on_delete == "cascade"
                else f"; while it has {_words(k.table)} it is refused with 409" for k in kids)
            out.append(Scenario(f"I own a {one}" if res.owner == "user" else f"a {one} exists", call,
                                f"the answer is {ep.success} and it is gone{extra}"))
        if kind in ("get", "update", "delete") and 404 in ep.errors and res.owner == "user":
            out.append(Scenario(f"another user owns a {one}", call,
                                "the answer is 404 (or 403 where the skill says so) and nothing of it shows "
                                "or changes"))
        if kind in ("create", "list") and parent is not None and 404 in ep.errors:
            out.append(Scenario(f"the {_words(parent.snake)} does not exist or is another user's", call,
                                "the answer is 404 (or 403 where the skill says so)"))
    if eps and any(401 in ep.errors for ep in eps):
        ep = next(ep for ep in eps if 401 in ep.errors)
        out.append(Scenario("I send no token, an expired one or a forged one",
                            f"I send `{ep.method} {ep.path}`",
                            "the answer is 401 with `WWW-Authenticate: Bearer`"))
    return out


def _extra_story(contract: Contract, res: Resource,
                 ep: Endpoint) -> tuple[int, str, str, str, list[Scenario]]:
    op, many = ep.operation, _words(res.table)
    call = f"I send `{ep.method} {ep.path}`"

    def query(q: str) -> str:
        return f"I send `{ep.method} {ep.path}?{q}`"

    if op.kind == "search":
        fields = " or ".join(f"`{f}`" for f in op.fields)
        return (2, f"Search {many}", f"find {_mine(res)}{many} by text in {fields}",
                "a long list is useless without finding things in it", [
                    Scenario(f"I own {many} whose {fields} contain \"report\" and others that do not",
                             query("q=report"), f"the answer is {ep.success} with only the matching {many}"),
                    Scenario(me_or(contract), query("q=50%_off"),
                             "`%` and `_` match themselves, not patterns"),
                    Scenario(me_or(contract), f"{call} with an empty or missing `q`", "the answer is 422"),
                ])
    if op.kind == "stats":
        f = res.field(op.fields[0]) if op.fields else None
        values = ", ".join(f.type.enum_values) if f and f.type.kind == "enum" else "true, false"
        name = op.fields[0] if op.fields else "field"
        return (3, f"Count {many} by {_words(name)}",
                f"see how many of {_mine(res)}{many} have each `{name}`",
                "an overview shows where work stands without paging through it", [
                    Scenario(f"I own {many} with several `{name}` values", call,
                             f"the answer is {ep.success}: `total` and `by_{name}` with every value "
                             f"({values}), zeros included"),
                ])
    if op.kind == "action":
        one = _words(res.snake)
        target = f"one of {_mine(res)}{many}" if ep.member else f"{_mine(res)}{many}"
        scenarios = [Scenario(f"I own a {one}" if ep.member else me_or(contract), call,
                              f"the answer is {ep.success}, as the `{op.name}` action decides")]
        if ep.member:
            scenarios.append(Scenario(me_or(contract), f"{call} for a {one} I cannot reach",
                                      "the answer is 404 (or 403) and the action does not run"))
        if op.body:
            scenarios.append(Scenario(me_or(contract), f"{call} with a body that is not a valid {op.body}",
                                      "the answer is 422 and the action does not run"))
        return (3, f"{_words(op.name).capitalize()} ({ep.method} {ep.path})",
                f"run `{op.name}` on {target}", "it is business logic the fields alone cannot express",
                scenarios)
    pairs = _assignments(ep)
    return (3, f"Update many {many} at once ({pairs})",
            f"set {pairs} on many of {_mine(res)}{many} in one request",
            "one request beats one per item, and it applies all or nothing", [
                Scenario(f"I own two {many} and another user owns a third",
                         f"{call} with the three ids",
                         f"the answer is {ep.success}: `updated_count` 2 and the third id in `failed_ids`; "
                         f"only mine changed"),
                Scenario(me_or(contract), f"{call} with no ids or more than 500",
                         "the answer is 422 and nothing changes"),
            ])


def _assignments(ep: Endpoint) -> str:
    return ", ".join(f"`{n}` = {v}" for n, v in ep.operation.assignments)


def me_or(contract: Contract) -> str:
    """The Given of a scenario that only needs the caller."""
    return "I am signed in" if contract.auth != "none" else "the service is running"


def user_stories(contract: Contract) -> tuple[Story, ...]:
    """The contract's stories, numbered by priority then file order (stable for the same contract)."""
    drafts: list[tuple[int, int, int, str, str, str, str, str, list[Scenario], tuple[Endpoint, ...]]] = []
    for r_index, res in enumerate(contract.resources):
        core = [ep for ep in res.endpoints if ep.operation.kind in _CORE]
        many = _words(res.table)
        if core:
            kinds = [ep.operation.kind for ep in core]
            verbs = [v for k, v in (("create", "create"), ("list", "list"), ("get", "read"),
                                    ("update", "change"), ("delete", "delete")) if k in kinds]
            parent = f" of a {_words(_snake_of(res.parent.resource))}" if res.parent else ""
            priority = 2 if res.parent else 1
            want = f"{', '.join(verbs[:-1])} and {verbs[-1]}" if len(verbs) > 1 else verbs[0]
            drafts.append((priority, r_index, 0, res.name, f"Manage {_mine(res)}{many}".strip(),
                           f"{want} {_mine(res)}{many}{parent}",
                           "it is the core of the feature: without it nothing else is usable"
                           if priority == 1 else f"{many} add to the {_words(_snake_of(res.parent.resource))}"
                           if res.parent else "",
                           f"create {many} with one user's token and list them with another's"
                           if res.owner == "user" else f"create {many}, then read and list them back",
                           _core_scenarios(contract, res, core), tuple(core)))
        for e_index, ep in enumerate(res.endpoints):
            if ep.operation.kind in _CORE:
                continue
            priority, title, want, why, scenarios = _extra_story(contract, res, ep)
            drafts.append((priority, r_index, 1 + e_index, res.name, title, want, why,
                           f"call `{ep.method} {ep.path}` on rows made through the API", scenarios, (ep,)))
    drafts.sort(key=lambda d: (d[0], d[1], d[2]))
    return tuple(
        Story(number=i, priority=d[0], resource=d[3], title=d[4], want=d[5], why=d[6], test=d[7],
              scenarios=tuple(d[8]), endpoints=d[9])
        for i, d in enumerate(drafts, start=1)
    )


def _snake_of(name: str) -> str:
    return Resource(name=name, table="").snake


def _endpoint_requirement(contract: Contract, res: Resource, ep: Endpoint) -> str:
    what = {
        "create": f"create a {_words(res.snake)}",
        "list": f"list {_theirs(res)}{_words(res.table)}, a page at a time",
        "get": f"read one {_words(res.snake)}", "update": f"change some fields of a {_words(res.snake)}",
        "delete": f"delete a {_words(res.snake)}", "search": f"search {_theirs(res)}{_words(res.table)}",
        "stats": f"count {_theirs(res)}{_words(res.table)} by {', '.join(ep.operation.fields)}",
        "bulk_update": f"set {_assignments(ep)} on many of {_theirs(res)}{_words(res.table)} at once",
        "action": f"run the `{ep.operation.name}` action on "
                  + (f"one of {_theirs(res)}{_words(res.table)}" if ep.member else f"{_theirs(res)}"
                     f"{_words(res.table)}"),
    }[ep.operation.kind]
    errors = f"; errors {', '.join(map(str, ep.errors))}" if ep.errors else ""
    return f"System MUST let {_actor(contract)} {what}: `{ep.method} {ep.path}` answers {ep.success}{errors}."


def _requirements(contract: Contract) -> list[str]:
    out: list[str] = []
    if contract.auth == "jwt":
        out.append("System MUST accept only requests with `Authorization: Bearer <jwt>` signed with "
                   "`JWT_SECRET` or the identity provider's key (`JWT_PUBLIC_KEY`, `JWT_JWKS_URL`), "
                   "carrying an unexpired `exp` and, when set, `JWT_AUDIENCE` and `JWT_ISSUER`; the `sub` "
                   "claim is the user's id; anything else gets 401.")
    elif contract.auth == "builtin":
        out.append("System MUST let users register and log in (`/api/auth/register`, `/api/auth/login`), "
                   "store passwords only as a slow salted hash, and accept only its own bearer tokens.")
    for res in contract.resources:
        out += [_endpoint_requirement(contract, res, ep) for ep in res.endpoints]
        out += [f"A {_words(res.snake)}'s {field_rule(f)}." for f in res.fields]
        server = ["id"] + ["user_id"] * (res.owner == "user") + [res.parent_field or ""] + \
            ["created_at"] * res.timestamps
        keys = ", ".join(f"`{k}`" for k in server if k)
        out.append(f"A {_words(res.snake)} request body MUST hold only the fields above; any other key "
                   f"({keys}...) MUST be refused with 422, never written.")
        if res.owner == "user":
            out.append(f"System MUST scope every {_words(res.snake)} to its owner: another user's "
                       f"{_words(res.snake)} answers 404 (or 403 where the skill says so) and never shows or "
                       "changes.")
    if any(ep.operation.kind in ("list", "search") for r in contract.resources for ep in r.endpoints):
        out.append("Lists and searches MUST page with `page` (>= 1) and `page_size` (1..100, default 20) and "
                   "answer `{items, total, page, page_size, pages}`.")
    out.append("No request, however malformed, may produce a 500.")
    return out


def _criteria(contract: Contract) -> list[str]:
    count = sum(len(r.endpoints) for r in contract.resources)
    out = [f"All {count} endpoints of the contract answer with their documented status and body in the "
           "generated test suite (`skillrunner implement <feature> --with-tests` is green)."]
    if any(r.owner == "user" for r in contract.resources):
        out.append("A second user sees none of the first user's rows and changes none of them, on every "
                   "endpoint (0 leaks in the isolation tests).")
    out.append("0 responses with status 500 for malformed input: broken JSON, wrong types, unknown keys, "
               "non-UTF-8 bodies.")
    if any(ep.operation.kind in ("list", "search") for r in contract.resources for ep in r.endpoints):
        out.append("A list or search page costs at most 2 SQL statements (the page and one COUNT), whatever "
                   "the number of rows.")
    out.append("`skillrunner verify <feature>` finds no difference between the contract, plan, tasks, "
               "code and the running app's OpenAPI.")
    return out


def _entities(contract: Contract) -> list[str]:
    out = []
    for res in contract.resources:
        bits = [f"**{res.name}** (table `{res.table}`, id {res.id_type}):"]
        if res.description:
            bits.append(res.description.strip().rstrip(".") + ".")
        fields = ", ".join(f"`{f.name}`" for f in res.fields)
        bits.append(f"Fields: {fields}." if fields else "No fields of its own.")
        rel = []
        if res.owner == "user":
            rel.append("belongs to one user")
        if res.parent:
            rel.append(f"belongs to one {res.parent.resource} (on delete: {res.parent.on_delete})")
        rel += [f"has many {_words(k.table)}" for k in contract.children(res.name)]
        rel += [f"refers to {f.type.ref} through `{f.name}`" for f in res.fields if f.type.kind == "ref"]
        if rel:
            joined = "; ".join(rel)
            bits.append(joined[0].upper() + joined[1:] + ".")
        if res.soft_delete:
            bits.append("Deleted rows are kept but hidden.")
        out.append(" ".join(bits))
    return out


def _edge_cases(contract: Contract) -> list[str]:
    out = ["A page past the end answers 200 with no items; `page_size` over 100 or an unknown `sort` "
           "answers 422."] if any(ep.operation.kind == "list" for r in contract.resources
                                  for ep in r.endpoints) else []
    out.append("A path id that is not of the id type answers 422 (or 404).")
    for res in contract.resources:
        if res.parent:
            verb = "removes them too" if res.parent.on_delete == "cascade" else \
                "answers 409 while any exist, and deletes nothing"
            out.append(f"Deleting a {res.parent.resource} that has {_words(res.table)} {verb}.")
        nullable = [f.name for f in res.fields if f.nullable]
        if nullable:
            out.append(f"PATCH with `null` clears {', '.join(f'`{n}`' for n in nullable)}; `null` for any "
                       f"other {_words(res.snake)} field answers 422.")
    return out


def build_spec(*, feature: str, contract: Contract | None, description: str | None = None,
               project: Path | None = None) -> str:
    """The text of ``spec.md`` (sealed), the same bytes for the same inputs."""
    context: dict[str, Any] = {"feature": check_feature(feature), "description": (description or "").strip()}
    if contract is None:
        context["contract"] = None
        context["contract_path"] = f"specs/api/{feature}.md"
        body = render_template("workflow/spec.md.j2", context, project=project)
        return seal(body, stage="specify")
    context.update(
        contract=contract,
        contract_path=contract.path,
        title=contract.title,
        summary=" ".join(contract.description.split()),
        stories=user_stories(contract),
        requirements=_requirements(contract),
        criteria=_criteria(contract),
        entities=_entities(contract),
        edge_cases=_edge_cases(contract),
    )
    return seal(render_template("workflow/spec.md.j2", context, project=project), stage="specify")


def specify(*, project: Path, feature: str, description: str | None = None,
            force: bool = False) -> SpecResult:
    """Write ``specs/<feature>/spec.md`` from the contract, or a spec to fill in when there is none."""
    contract = feature_contract(project=project, feature=feature)
    text = build_spec(feature=feature, contract=contract, description=description, project=project)
    artifact = write_artifact(feature_dir(project, feature) / "spec.md", text, project=project, force=force)
    return SpecResult(artifact, contract.path if contract else None, text.count(NEEDS_CLARIFICATION), text)
