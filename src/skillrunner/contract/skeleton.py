"""A new contract to start from: a small skeleton that checks clean, with comments on what to replace."""

from __future__ import annotations

from pathlib import Path

from skillrunner.contract.model import _SLUG, AUTH_KINDS, _snake
from skillrunner.errors import SkillrunnerError, UsageError

__all__ = ["new_contract", "skeleton_text"]

_TEMPLATE = """---
feature: {feature}
title: {title}
version: "0.1.0"
auth: {auth}
---

# {title}

<!-- A sentence or two on what this API is for; it becomes the API's description. Then one
     `## Resource: Name` per thing the API stores. The whole format: `skillrunner contract guide`.
     Check as you edit: `skillrunner contract check specs/api/{feature}.md`. Comments like this one
     are for you and are ignored. -->

The {words} API.

## Resource: {name}

<!-- Replace {name} and its fields with what the API stores. `table` names its database table;
     other settings: id (int or uuid), owner (user or none), parent, timestamps, soft delete. -->

- table: {table}

| Field | Type | Required | Default | Constraints | Description |
|-------|------|----------|---------|-------------|-------------|
| name | string | yes | | max_length=200 | What the {one} is called |
| notes | text | no | | | Anything else to know |
| status | enum(active, archived) | no | active | index | Where it stands |

### Endpoints

<!-- Keep the operations the API needs. Others: search(fields), stats(field),
     bulk_update(field=value), and action(name) for logic the format cannot spell (its code is
     yours to write once the backend is rendered). -->

| Method | Path | Operation | Success | Errors |
|--------|------|-----------|---------|--------|
| POST | /api/{route} | create | 201 {name} | {create_errors} |
| GET | /api/{route} | list(filter: status; sort: name, created_at) | 200 Page[{name}] | {list_errors} |
| GET | /api/{route}/{{id}} | get | 200 {name} | {item_errors} |
| PATCH | /api/{route}/{{id}} | update | 200 {name} | {update_errors} |
| DELETE | /api/{route}/{{id}} | delete | 204 | {item_errors} |
"""


def _names(feature: str) -> tuple[str, str]:
    """The resource's name and table from the feature: ``room-bookings`` -> RoomBooking, room_bookings."""
    words = [w for w in feature.split("-") if w]
    if words and words[-1] in ("api", "crud", "service", "endpoints") and len(words) > 1:
        words = words[:-1]
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("sses", "ches", "shes", "xes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3:
        last = last[:-1]
    name = "".join(w.capitalize() for w in [*words[:-1], last])
    return name, f"{_snake(name)}s"  # a name the checker refuses: skeleton_text falls back to Item


def skeleton_text(feature: str, *, title: str | None = None, auth: str = "jwt") -> str:
    """The text of a new contract for ``feature``: one resource, its fields and the usual endpoints."""
    if not _SLUG.fullmatch(feature):
        raise UsageError(f"feature {feature!r} is not a slug",
                         hint="use lower-case letters, digits and single hyphens, e.g. room-bookings")
    if auth not in AUTH_KINDS:
        raise UsageError(f"auth {auth!r} is not known", hint=f"use one of: {', '.join(AUTH_KINDS)}")
    from skillrunner.contract import parse_contract  # the package imports this module

    name, table = _names(feature)
    text = _fill(feature, title, auth, name, table)
    if parse_contract(text, f"specs/api/{feature}.md")[0] is None:  # a name the checker refuses
        text = _fill(feature, title, auth, "Item", "items")
    return text


def _fill(feature: str, title: str | None, auth: str, name: str, table: str) -> str:
    words = feature.replace("-", " ")
    shown_title = " ".join((title or f"{words.title()} API").split())
    if not shown_title or any(c in shown_title for c in "\"'#:\\") or shown_title.startswith(("-", "[", "{")):
        raise UsageError(f"title {title!r} cannot be written as is",
                         hint="use words, digits and spaces (no quotes, #, : or backslashes)")
    who = ["401"] if auth != "none" else []
    return _TEMPLATE.format(
        feature=feature, title=shown_title, auth=auth, words=words, name=name, table=table,
        route=table.replace("_", "-"),
        one=_snake(name).replace("_", " "),
        create_errors=", ".join([*who, "422"]), list_errors=", ".join([*who, "422"]),
        item_errors=", ".join([*who, "404"]), update_errors=", ".join([*who, "404", "422"]),
    )


def new_contract(*, project: Path, feature: str, title: str | None = None, auth: str = "jwt") -> Path:
    """Write ``specs/api/<feature>.md`` from ``skeleton_text``; never over an existing contract."""
    text = skeleton_text(feature, title=title, auth=auth)
    api = project / "specs" / "api"
    for existing in (api / f"{feature}.md", api / f"{feature}-endpoints.md"):
        if existing.exists():
            shown = existing.relative_to(project).as_posix()
            raise SkillrunnerError(f"{shown} exists already; contract new never overwrites a contract",
                                   path=shown, hint=f"edit it, then run skillrunner contract check {shown}")
    path = api / f"{feature}.md"
    api.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as out:  # "x": a file made meanwhile is not overwritten
            out.write(text)
    except FileExistsError:
        raise SkillrunnerError(f"specs/api/{feature}.md exists already", path=f"specs/api/{feature}.md",
                               hint="edit it instead") from None
    return path
