"""Comment over HTTP, tested endpoint by endpoint from the contract.

Rows are written straight to the database (``make``) and read back the same way (``stored``), so a
test of one endpoint does not lean on another. The error bodies follow this backend's envelope
(``error_of``).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.models.comment import Comment
from app.schemas.comment import CommentPublic
from tests.conftest import (
    BAD_TOKENS,
    SAMPLES,
    Caller,
    Maker,
    alike,
    bad_headers,
    count,
    error_of,
    refused,
    same,
    stored,
)

Endpoint = tuple[str, str, str]  # method, path, operation

ENDPOINTS: dict[str, Endpoint] = {
    "create_comment": ("POST", "/api/tasks/{task_id}/comments", "create"),
    "list_comments": ("GET", "/api/tasks/{task_id}/comments", "list"),
    "delete_comment": ("DELETE", "/api/tasks/{task_id}/comments/{comment_id}", "delete"),
}
#: The endpoints of one row: get, update, delete.
ROW_ENDPOINTS = [ENDPOINTS["delete_comment"]]
CREATE = "/api/tasks/{task_id}/comments"
LIST = "/api/tasks/{task_id}/comments"
DELETE = "/api/tasks/{task_id}/comments/{comment_id}"
#: An id no Comment has, and one no Task has.
MISSING: Any = 2147483647
MISSING_PARENT: Any = 2147483647
#: The keys of a Comment in every response.
KEYS = {"id", "body", "user_id", "task_id", "created_at", "updated_at"}
#: Fields whose value no other row may share (among one user's rows).
UNIQUE = ()
#: Values create and update must refuse: (field, value), named field-why.
INVALID = [
    pytest.param("body", ["not", "text"], id="body-type"),
    pytest.param("body", "nul\x00char", id="body-nul"),
    pytest.param("body", "", id="body-min_length"),
    pytest.param("body", "x" * 2001, id="body-max_length"),
]
#: Keys no request body may carry.
UNKNOWN = [
    pytest.param("id", 2147483647, id="id"),
    pytest.param("user_id", "mallory", id="user_id"),
    pytest.param("created_at", "2020-01-01T00:00:00+00:00", id="created_at"),
    pytest.param("updated_at", "2020-01-01T00:00:00+00:00", id="updated_at"),
    pytest.param("deleted_at", "2020-01-01T00:00:00+00:00", id="deleted_at"),
    pytest.param("task_id", 2147483647, id="task_id"),
    pytest.param("not_a_field", 1, id="not_a_field"),
]


def at(path: str, row_id: Any = None, parent_id: Any = None) -> str:
    """``path`` with the Comment's id and its Task's filled in."""
    return path.format_map({"comment_id": row_id, "task_id": parent_id})


def body(n: int, **values: Any) -> dict[str, Any]:
    """A create body from the ``n``-th sample of every field, then ``values``."""
    samples = SAMPLES["Comment"]
    return {name: choices[n % len(choices)] for name, choices in samples.items()} | values


def later(a: str, b: str) -> bool:
    """True when the instant ``a`` comes after ``b``."""
    return datetime.fromisoformat(a) > datetime.fromisoformat(b)


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(str(row["id"]) for row in rows)


@dataclass
class Scene:
    """Alice's comments: her client, rows she may reach under one Task of hers, and bob."""

    client: TestClient
    make: Maker
    alice: Caller
    bob: Caller
    parent: dict[str, Any] | None
    refs: dict[str, Any]
    #: Comments made before the test starts (rows the refs point to).
    baseline: int = 0

    @property
    def parent_id(self) -> Any:
        return None if self.parent is None else self.parent["id"]

    def new(self, n: int, **values: Any) -> dict[str, Any]:
        """Alice's Comment from the ``n``-th samples, under her Task."""
        return self.make.comment(self.alice, self.parent, n=n, **values)

    def strangers(self, n: int, **values: Any) -> list[dict[str, Any]]:
        """Comments alice must not reach here (none when every row is shared).

Bob's, and hers under another Task.
        """
        rows: list[dict[str, Any]] = []
        rows.append(self.make.comment(self.bob, n=n, **values))
        rows.append(self.make.comment(self.alice, n=n + 1, **values))
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
        return stored(Comment, CommentPublic, row_id)

    def count(self) -> int:
        return count(Comment)


@pytest.fixture
def scene(client: TestClient, make: Maker, alice: Caller, bob: Caller) -> Scene:
    refs: dict[str, Any] = {}
    parent = make.task(alice)
    return Scene(client, make, alice, bob, parent, refs, count(Comment))


def request(scene: Scene, endpoint: Endpoint, *, row_id: Any = MISSING, **kwargs: Any) -> Response:
    """A request to ``endpoint`` with a body it accepts (``parent_id`` picks the Task)."""
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
    assert row["task_id"] == scene.parent_id
    assert datetime.fromisoformat(row["created_at"]).tzinfo is not None
    assert datetime.fromisoformat(row["updated_at"]).tzinfo is not None
    assert alike(scene.stored(row["id"]), row)


@pytest.mark.parametrize("name", ("body", ))
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


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b'{"broken": ', "application/json", id="broken-json"),
        pytest.param(b'{"body": "\xff\xfe"}', "application/json", id="not-utf8"),
        pytest.param(b'{"body": "\\ud800"}', "application/json", id="lone-surrogate"),
        pytest.param(b'{"body": 1e999999}', "application/json", id="huge-number"),
        pytest.param(b"body=x", "application/x-www-form-urlencoded", id="form"),
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


@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS)
def test_unknown_ids_are_not_found(scene: Scene, endpoint: Endpoint) -> None:
    scene.new(1)
    error_of(request(scene, endpoint, row_id=MISSING), 404)
    response = request(scene, endpoint, row_id="not-an-id")
    assert response.status_code in (404, 422), response.text
    error_of(response, response.status_code)


# --- delete -----------------------------------------------------------------------------------------


def test_delete_removes_the_row(scene: Scene) -> None:
    row = scene.new(1)
    response = scene.call("DELETE", DELETE, row["id"])
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert scene.stored(row["id"]) is None
    error_of(scene.call("DELETE", DELETE, row["id"]), 404)


# --- other users ------------------------------------------------------------------------------------


def test_other_users_rows_are_out_of_reach(scene: Scene) -> None:
    theirs = scene.make.comment(scene.bob, n=1)
    hidden = [value for value in theirs.values() if isinstance(value, str) and len(value) > 4]
    for endpoint in ROW_ENDPOINTS:
        response = request(scene, endpoint, row_id=theirs["id"], parent_id=theirs["task_id"])
        error_of(response, 404)
        assert not any(value in response.text for value in hidden), response.text
    assert alike(scene.stored(theirs["id"]), theirs)
    assert scene.call("GET", LIST).json()["total"] == 0


# --- under the Task ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=list(ENDPOINTS))
def test_the_parent_must_exist(scene: Scene, endpoint: Endpoint) -> None:
    error_of(request(scene, endpoint, parent_id=MISSING_PARENT), 404)
    assert scene.count() == scene.baseline


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=list(ENDPOINTS))
def test_another_users_parent_is_out_of_reach(scene: Scene, endpoint: Endpoint) -> None:
    theirs = scene.make.comment(scene.bob, n=1)
    parent_id = theirs["task_id"]
    error_of(request(scene, endpoint, row_id=theirs["id"], parent_id=parent_id), 404)
    assert scene.count() == scene.baseline + 1
    assert alike(scene.stored(theirs["id"]), theirs)


def test_rows_are_reached_only_under_their_parent(scene: Scene) -> None:
    elsewhere = scene.make.comment(scene.alice, n=1)
    for endpoint in ROW_ENDPOINTS:
        error_of(request(scene, endpoint, row_id=elsewhere["id"]), 404)
    assert alike(scene.stored(elsewhere["id"]), elsewhere)


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
        pytest.param("/api/tasks/{task_id}/comments", {}, id="list_comments"),
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
