"""Task over HTTP, tested endpoint by endpoint from the contract.

Rows are written straight to the database (``make``) and read back the same way (``stored``), so a
test of one endpoint does not lean on another. The error bodies follow this backend's envelope
(``error_of``).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import col

from app.models.comment import Comment
from app.models.task import Task
from app.schemas.comment import CommentPublic
from app.schemas.task import TaskPublic
from tests.conftest import (
    BAD_TOKENS,
    SAMPLES,
    Caller,
    Maker,
    alike,
    bad_headers,
    count,
    db_id,
    error_of,
    query_value,
    refused,
    same,
    stored,
)

Endpoint = tuple[str, str, str]  # method, path, operation

ENDPOINTS: dict[str, Endpoint] = {
    "create_task": ("POST", "/api/tasks", "create"),
    "list_tasks": ("GET", "/api/tasks", "list"),
    "bulk_complete_tasks": ("POST", "/api/tasks/bulk-complete", "bulk_update"),
    "search_tasks": ("GET", "/api/tasks/search", "search"),
    "stats_tasks": ("GET", "/api/tasks/stats", "stats"),
    "get_task": ("GET", "/api/tasks/{task_id}", "get"),
    "update_task": ("PATCH", "/api/tasks/{task_id}", "update"),
    "delete_task": ("DELETE", "/api/tasks/{task_id}", "delete"),
}
#: The endpoints of one row: get, update, delete.
ROW_ENDPOINTS = [ENDPOINTS["get_task"], ENDPOINTS["update_task"], ENDPOINTS["delete_task"]]
CREATE = "/api/tasks"
LIST = "/api/tasks"
GET = "/api/tasks/{task_id}"
UPDATE = "/api/tasks/{task_id}"
DELETE = "/api/tasks/{task_id}"
#: (path, fields searched)
SEARCHES = [
    pytest.param("/api/tasks/search", ("title", "description"), id="search_tasks"),
]
#: (path, field counted, its values)
STATS = [
    pytest.param("/api/tasks/stats", "status", ["pending", "in_progress", "completed"], id="stats_tasks"),
]
#: (method, path, the values it sets)
BULKS = [
    pytest.param("POST", "/api/tasks/bulk-complete", {"status": "completed"}, id="bulk_complete_tasks"),
]
#: An id no Task has.
MISSING: Any = 2147483647
#: The keys of a Task in every response.
KEYS = {
    "id",
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "tags",
    "user_id",
    "created_at",
    "updated_at",
}
#: Fields whose value no other row may share (among one user's rows).
UNIQUE = ()
#: Values create and update must refuse: (field, value), named field-why.
INVALID = [
    pytest.param("title", 12345, id="title-type"),
    pytest.param("title", "nul\x00char", id="title-nul"),
    pytest.param("title", "", id="title-min_length"),
    pytest.param("title", "x" * 256, id="title-max_length"),
    pytest.param("description", ["not", "text"], id="description-type"),
    pytest.param("description", "nul\x00char", id="description-nul"),
    pytest.param("description", "x" * 2001, id="description-max_length"),
    pytest.param("status", "not_a_value", id="status-type"),
    pytest.param("priority", "not_a_value", id="priority-type"),
    pytest.param("due_date", "not-a-datetime", id="due_date-type"),
    pytest.param("tags", "not-a-list", id="tags-type"),
    pytest.param("tags", [123], id="tags-item"),
    pytest.param("tags", [f"x{i}" for i in range(21)], id="tags-max_items"),
]
#: Keys no request body may carry.
UNKNOWN = [
    pytest.param("id", 2147483647, id="id"),
    pytest.param("user_id", "mallory", id="user_id"),
    pytest.param("created_at", "2020-01-01T00:00:00+00:00", id="created_at"),
    pytest.param("updated_at", "2020-01-01T00:00:00+00:00", id="updated_at"),
    pytest.param("deleted_at", "2020-01-01T00:00:00+00:00", id="deleted_at"),
    pytest.param("not_a_field", 1, id="not_a_field"),
]
#: Sortable fields and how their JSON values order: as numbers, instants, or as they are.
SORTS = {
    "created_at": "instant",
    "due_date": "instant",
    "title": "plain",
}


def at(path: str, row_id: Any = None, parent_id: Any = None) -> str:
    """``path`` with the Task's id filled in."""
    return path.format_map({"task_id": row_id})


def body(n: int, **values: Any) -> dict[str, Any]:
    """A create body from the ``n``-th sample of every field, then ``values``."""
    samples = SAMPLES["Task"]
    return {name: choices[n % len(choices)] for name, choices in samples.items()} | values


def order_key(name: str, value: Any) -> Any:
    """How the database orders values of the sortable field ``name``."""
    if SORTS[name] == "number":
        return Decimal(str(value))
    if SORTS[name] == "instant":
        return datetime.fromisoformat(value)
    return value


def later(a: str, b: str) -> bool:
    """True when the instant ``a`` comes after ``b``."""
    return datetime.fromisoformat(a) > datetime.fromisoformat(b)


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(str(row["id"]) for row in rows)


@dataclass
class Scene:
    """Alice's tasks: her client, rows she may reach, and bob."""

    client: TestClient
    make: Maker
    alice: Caller
    bob: Caller
    parent: dict[str, Any] | None
    refs: dict[str, Any]
    #: Tasks made before the test starts (rows the refs point to).
    baseline: int = 0

    @property
    def parent_id(self) -> Any:
        return None if self.parent is None else self.parent["id"]

    def new(self, n: int, **values: Any) -> dict[str, Any]:
        """Alice's Task from the ``n``-th samples."""
        return self.make.task(self.alice, n=n, **values)

    def strangers(self, n: int, **values: Any) -> list[dict[str, Any]]:
        """Tasks alice must not reach here (none when every row is shared).

Bob's.
        """
        rows: list[dict[str, Any]] = []
        rows.append(self.make.task(self.bob, n=n, **values))
        return rows

    def body(self, n: int, **values: Any) -> dict[str, Any]:
        return body(n, **self.refs) | values

    def url(self, path: str, row_id: Any = None) -> str:
        return at(path, row_id, self.parent_id)

    def call(self, method: str, path: str, row_id: Any = None, **kwargs: Any) -> Response:
        """A request as alice (unless ``headers`` say otherwise)."""
        kwargs.setdefault("headers", self.alice.headers)
        response: Response = self.client.request(method, self.url(path, row_id), **kwargs)
        return response

    def stored(self, row_id: Any) -> dict[str, Any] | None:
        return stored(Task, TaskPublic, row_id)

    def count(self) -> int:
        return count(Task)


@pytest.fixture
def scene(client: TestClient, make: Maker, alice: Caller, bob: Caller) -> Scene:
    refs: dict[str, Any] = {}
    parent = None
    return Scene(client, make, alice, bob, parent, refs, count(Task))


def request(scene: Scene, endpoint: Endpoint, *, row_id: Any = MISSING, **kwargs: Any) -> Response:
    """A request to ``endpoint`` with a body it accepts."""
    method, path, kind = endpoint
    payload: Any = None
    if kind == "create":
        payload = scene.body(1)
    elif kind == "update":
        payload = {}
    elif kind == "bulk_update":
        payload = {"ids": [row_id]}
    params = {"q": "x"} if kind == "search" else {}
    parent_id = kwargs.pop("parent_id", scene.parent_id)
    kwargs.setdefault("headers", scene.alice.headers)
    url = at(path, row_id, parent_id)
    response: Response = scene.client.request(method, url, json=payload, params=params, **kwargs)
    return response


# --- credentials ------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=list(ENDPOINTS))
def test_every_endpoint_wants_a_token(scene: Scene, endpoint: Endpoint) -> None:
    error_of(request(scene, endpoint, headers={}), 401)
    assert request(scene, endpoint).status_code != 401


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_credentials_get_401(scene: Scene, kind: str) -> None:
    for endpoint in ENDPOINTS.values():
        error_of(request(scene, endpoint, headers=bad_headers(kind)), 401)


# --- create -----------------------------------------------------------------------------------------


def test_create_answers_201_with_the_row(scene: Scene) -> None:
    sent = scene.body(1)
    response = scene.call("POST", CREATE, json=sent)
    assert response.status_code == 201, response.text
    row = response.json()
    assert set(row) == KEYS
    for name, value in sent.items():
        assert same(row[name], value), name
    assert row["user_id"] == scene.alice.id
    assert datetime.fromisoformat(row["created_at"]).tzinfo is not None
    assert datetime.fromisoformat(row["updated_at"]).tzinfo is not None
    assert alike(scene.stored(row["id"]), row)
    assert alike(scene.call("GET", GET, row["id"]).json(), row)


def test_create_fills_in_defaults(scene: Scene) -> None:
    required = ("title", )
    sent = {name: value for name, value in scene.body(1).items() if name in required}
    response = scene.call("POST", CREATE, json=sent)
    assert response.status_code == 201, response.text
    row = response.json()
    assert row["description"] is None
    assert same(row["status"], "pending")
    assert same(row["priority"], "normal")
    assert row["due_date"] is None
    assert same(row["tags"], [])


@pytest.mark.parametrize("name", ("title", ))
def test_create_needs_required_fields(scene: Scene, name: str) -> None:
    sent = scene.body(1)
    del sent[name]
    refused(scene.call("POST", CREATE, json=sent), name)
    assert scene.count() == scene.baseline


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_create_refuses_invalid_values(scene: Scene, name: str, value: Any) -> None:
    refused(scene.call("POST", CREATE, json=scene.body(1, **{name: value})), name)
    assert scene.count() == scene.baseline


@pytest.mark.parametrize(("key", "value"), UNKNOWN)
def test_create_refuses_unknown_keys(scene: Scene, key: str, value: Any) -> None:
    refused(scene.call("POST", CREATE, json=scene.body(1, **{key: value})), key)
    assert scene.count() == scene.baseline


def test_create_reads_a_naive_datetime_as_utc(scene: Scene) -> None:
    response = scene.call("POST", CREATE, json=scene.body(1, due_date="2024-05-01T10:00:00"))
    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["due_date"]) == datetime(2024, 5, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b'{"broken": ', "application/json", id="broken-json"),
        pytest.param(b'{"title": "\xff\xfe"}', "application/json", id="not-utf8"),
        pytest.param(b'{"title": "\\ud800"}', "application/json", id="lone-surrogate"),
        pytest.param(b'{"title": 1e999999}', "application/json", id="huge-number"),
        pytest.param(b"title=x", "application/x-www-form-urlencoded", id="form"),
        pytest.param(b"\x00\x01\x02", "application/octet-stream", id="bytes"),
    ],
)
def test_create_answers_malformed_bodies_with_a_4xx(scene: Scene, content: bytes, content_type: str) -> None:
    headers = scene.alice.headers | {"Content-Type": content_type}
    response = scene.client.post(scene.url(CREATE), content=content, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    error_of(response, response.status_code)
    assert scene.count() == scene.baseline


# --- one row ----------------------------------------------------------------------------------------


def test_get_answers_the_row(scene: Scene) -> None:
    row = scene.new(1)
    response = scene.call("GET", GET, row["id"])
    assert response.status_code == 200, response.text
    assert alike(response.json(), row)


@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS)
def test_unknown_ids_are_not_found(scene: Scene, endpoint: Endpoint) -> None:
    scene.new(1)
    error_of(request(scene, endpoint, row_id=MISSING), 404)
    response = request(scene, endpoint, row_id="not-an-id")
    assert response.status_code in (404, 422), response.text
    error_of(response, response.status_code)


# --- update -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ("title", "description", "status", "priority", "due_date", "tags"))
def test_update_changes_only_the_keys_sent(scene: Scene, name: str) -> None:
    row = scene.new(1)
    value = SAMPLES["Task"][name][2]
    response = scene.call("PATCH", UPDATE, row["id"], json={name: value})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert same(changed[name], value)
    for key in KEYS - {name, "updated_at"}:
        assert same(changed[key], row[key]), key
    assert later(changed["updated_at"], row["updated_at"])
    assert alike(scene.stored(row["id"]), changed)


def test_update_with_an_empty_body_changes_nothing_else(scene: Scene) -> None:
    row = scene.new(1)
    response = scene.call("PATCH", UPDATE, row["id"], json={})
    assert response.status_code == 200, response.text
    changed = response.json()
    for key in KEYS - {"updated_at"}:
        assert same(changed[key], row[key]), key
    assert later(changed["updated_at"], row["updated_at"])


@pytest.mark.parametrize(
    ("name", "clears"),
    [
        pytest.param("title", False, id="title"),
        pytest.param("description", True, id="description"),
        pytest.param("status", False, id="status"),
        pytest.param("priority", False, id="priority"),
        pytest.param("due_date", True, id="due_date"),
        pytest.param("tags", False, id="tags"),
    ],
)
def test_update_with_null_clears_only_optional_fields(scene: Scene, name: str, clears: bool) -> None:
    row = scene.new(1)
    response = scene.call("PATCH", UPDATE, row["id"], json={name: None})
    if clears:
        assert response.status_code == 200, response.text
        assert response.json()[name] is None
    else:
        refused(response, name)
        assert alike(scene.stored(row["id"]), row)


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_update_refuses_invalid_values(scene: Scene, name: str, value: Any) -> None:
    row = scene.new(1)
    refused(scene.call("PATCH", UPDATE, row["id"], json={name: value}), name)
    assert alike(scene.stored(row["id"]), row)


@pytest.mark.parametrize(("key", "value"), UNKNOWN)
def test_update_refuses_unknown_keys(scene: Scene, key: str, value: Any) -> None:
    row = scene.new(1)
    refused(scene.call("PATCH", UPDATE, row["id"], json={key: value}), key)
    assert alike(scene.stored(row["id"]), row)


# --- delete -----------------------------------------------------------------------------------------


def test_delete_removes_the_row(scene: Scene) -> None:
    row = scene.new(1)
    response = scene.call("DELETE", DELETE, row["id"])
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert scene.stored(row["id"]) is None
    error_of(scene.call("DELETE", DELETE, row["id"]), 404)
    error_of(scene.call("GET", GET, row["id"]), 404)


def test_delete_takes_its_comments_along(scene: Scene) -> None:
    row = scene.new(1)
    for n in (1, 2):
        scene.make.comment(scene.alice, row, n=n)
    elsewhere = scene.make.comment(scene.alice, n=3)
    response = scene.call("DELETE", DELETE, row["id"])
    assert response.status_code == 204, response.text
    assert count(Comment, col(Comment.task_id) == db_id(row["id"])) == 0
    assert alike(stored(Comment, CommentPublic, elsewhere["id"]), elsewhere)


# --- other users ------------------------------------------------------------------------------------


def test_other_users_rows_are_out_of_reach(scene: Scene) -> None:
    theirs = scene.make.task(scene.bob, n=1)
    hidden = [value for value in theirs.values() if isinstance(value, str) and len(value) > 4]
    for endpoint in ROW_ENDPOINTS:
        response = request(scene, endpoint, row_id=theirs["id"])
        error_of(response, 404)
        assert not any(value in response.text for value in hidden), response.text
    assert alike(scene.stored(theirs["id"]), theirs)
    assert scene.call("GET", LIST).json()["total"] == 0


# --- list -------------------------------------------------------------------------------------------


def test_list_is_empty_at_first(scene: Scene) -> None:
    scene.strangers(8)
    response = scene.call("GET", LIST)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 0, "page": 1, "page_size": 20, "pages": 0}


def test_list_pages_through_the_rows_newest_first(scene: Scene) -> None:
    rows = [scene.new(n) for n in range(1, 6)]
    scene.strangers(8)
    newest = [row["id"] for row in reversed(rows)]
    first = scene.call("GET", LIST, params={"page_size": 2}).json()
    assert [row["id"] for row in first["items"]] == newest[:2]
    assert (first["total"], first["page"], first["page_size"], first["pages"]) == (5, 1, 2, 3)
    last = scene.call("GET", LIST, params={"page": 3, "page_size": 2}).json()
    assert [row["id"] for row in last["items"]] == newest[4:]
    past = scene.call("GET", LIST, params={"page": 4, "page_size": 2})
    assert past.status_code == 200, past.text
    assert past.json()["items"] == [] and past.json()["total"] == 5
    assert all(alike(item, row) for item in first["items"] for row in rows if row["id"] == item["id"])
    assert scene.call("GET", LIST, params={"page_size": 100}).json()["total"] == 5


@pytest.mark.parametrize(
    ("path", "query"),
    [
        pytest.param("/api/tasks", {}, id="list_tasks"),
        pytest.param("/api/tasks/search", {"q": "x"}, id="search_tasks"),
    ],
)
@pytest.mark.parametrize(
    ("params", "blamed"),
    [
        pytest.param({"page": 0}, "page", id="page-0"),
        pytest.param({"page": -1}, "page", id="page-negative"),
        pytest.param({"page": "one"}, "page", id="page-text"),
        pytest.param({"page_size": 0}, "page_size", id="page-size-0"),
        pytest.param({"page_size": 101}, "page_size", id="page-size-101"),
    ],
)
def test_paging_is_bounded(
    scene: Scene, path: str, query: dict[str, str], params: dict[str, Any], blamed: str
) -> None:
    refused(scene.call("GET", path, params=query | params), blamed)


@pytest.mark.parametrize("name", ("status", "priority"))
def test_list_filters_on_each_field(scene: Scene, name: str) -> None:
    rows = [scene.new(n) for n in (1, 2, 3)]
    wanted = rows[0][name]
    scene.strangers(8, **({} if name in UNIQUE else {name: wanted}))
    response = scene.call("GET", LIST, params={name: query_value(wanted)})
    assert response.status_code == 200, response.text
    expected = [row for row in rows if same(row[name], wanted)]
    assert 0 < len(expected) < len(rows)
    assert ids(response.json()["items"]) == ids(expected)
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("status", "not_a_value", id="status"),
        pytest.param("priority", "not_a_value", id="priority"),
    ],
)
def test_list_refuses_a_filter_value_of_the_wrong_type(scene: Scene, name: str, value: str) -> None:
    refused(scene.call("GET", LIST, params={name: value}), name)


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "due_date", "-due_date", "title", "-title"])
def test_list_sorts_by_each_field_ties_by_id(scene: Scene, sort: str) -> None:
    rows = [scene.new(n) for n in (2, 3, 1, 5)]
    scene.strangers(8)
    response = scene.call("GET", LIST, params={"sort": sort})
    assert response.status_code == 200, response.text
    name = sort.removeprefix("-")
    expected = sorted(rows, key=lambda row: (order_key(name, row[name]), row["id"]), reverse=sort != name)
    assert [row["id"] for row in response.json()["items"]] == [row["id"] for row in expected]


@pytest.mark.parametrize("sort", ["not_a_field", "--created_at", "+id", ""])
def test_list_refuses_unknown_sorts(scene: Scene, sort: str) -> None:
    refused(scene.call("GET", LIST, params={"sort": sort}), "sort")


# --- search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "fields"), SEARCHES)
def test_search_finds_text_in_any_field_in_any_case(scene: Scene, path: str, fields: tuple[str, ...]) -> None:
    rows = [scene.new(n) for n in (1, 2, 3)]
    for name in fields:
        text = str(rows[1][name])
        scene.strangers(8 + 2 * fields.index(name), **({} if name in UNIQUE else {name: text}))
        response = scene.call("GET", path, params={"q": text.upper()})
        assert response.status_code == 200, response.text
        expected = [row for row in rows if any(text.lower() in str(row[f]).lower() for f in fields)]
        assert rows[1] in expected
        assert ids(response.json()["items"]) == ids(expected), name


@pytest.mark.parametrize("text", ["%", "_", "\\", "A%B", "c_D"])
def test_search_matches_wildcards_literally(scene: Scene, text: str) -> None:
    path = "/api/tasks/search"
    fields = ("title", "description")
    probe = "title"
    values = ["a%b", "axb", "c_d", "cxd", "e\\f", "exf"]
    rows = [scene.new(n, **{probe: value}) for n, value in enumerate(values, 1)]
    scene.strangers(8, **({} if probe in UNIQUE else {probe: "%_\\"}))
    response = scene.call("GET", path, params={"q": text})
    assert response.status_code == 200, response.text
    expected = [row for row in rows if any(text.lower() in str(row[f]).lower() for f in fields)]
    assert 0 < len(expected) < len(rows)
    assert ids(response.json()["items"]) == ids(expected)


@pytest.mark.parametrize(("path", "fields"), SEARCHES)
@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x" * 257}], ids=["missing", "empty", "too-long"])
def test_search_wants_a_short_query(
    scene: Scene, path: str, fields: tuple[str, ...], params: dict[str, str]
) -> None:
    refused(scene.call("GET", path, params=params), "q")


# --- stats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "name", "values"), STATS)
def test_stats_count_every_value_zeros_included(
    scene: Scene, path: str, name: str, values: list[str]
) -> None:
    empty = scene.call("GET", path)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"total": 0, f"by_{name}": dict.fromkeys(values, 0)}
    rows = [scene.new(n) for n in range(1, 5)]
    scene.strangers(8)
    counts = dict.fromkeys(values, 0)
    for row in rows:
        counts[query_value(row[name])] += 1
    assert scene.call("GET", path).json() == {"total": len(rows), f"by_{name}": counts}


# --- bulk updates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "changes"), BULKS)
def test_bulk_update_changes_own_rows_and_names_the_rest(
    scene: Scene, method: str, path: str, changes: dict[str, Any]
) -> None:
    mine = [scene.new(n) for n in (1, 2)]
    others = scene.strangers(8)
    sent = [mine[0]["id"], mine[0]["id"], mine[1]["id"], *(row["id"] for row in others), MISSING]
    response = scene.call(method, path, json={"ids": sent})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["updated_count"] == len(mine)
    failed = [*(row["id"] for row in others), MISSING]
    assert sorted(map(str, result["failed_ids"])) == sorted(map(str, failed))
    for row in mine:
        now = scene.stored(row["id"])
        assert now is not None
        for name, value in changes.items():
            assert same(now[name], value), name
        assert later(now["updated_at"], row["updated_at"])
    for row in others:
        assert alike(scene.stored(row["id"]), row)


@pytest.mark.parametrize(("method", "path", "changes"), BULKS)
@pytest.mark.parametrize(
    "sent", [[], [MISSING] * 501, ["not-an-id"], "not-a-list"], ids=["none", "501", "type", "shape"]
)
def test_bulk_update_wants_1_to_500_ids(
    scene: Scene, method: str, path: str, changes: dict[str, Any], sent: Any
) -> None:
    refused(scene.call(method, path, json={"ids": sent}), "ids")


@pytest.mark.parametrize(("method", "path", "changes"), BULKS)
def test_bulk_update_is_all_or_nothing(scene: Scene, method: str, path: str, changes: dict[str, Any]) -> None:
    rows = [scene.new(n) for n in (1, 2, 3)]

    def fail(session: OrmSession) -> None:
        raise RuntimeError("the database went away before the commit")

    server = TestClient(scene.client.app, raise_server_exceptions=False)
    event.listen(OrmSession, "before_commit", fail)
    try:
        response = server.request(method, scene.url(path), json={"ids": [row["id"] for row in rows]},
                                  headers=scene.alice.headers)
    finally:
        event.remove(OrmSession, "before_commit", fail)
    error_of(response, 500)
    for row in rows:
        assert alike(scene.stored(row["id"]), row)
