"""The generated data layer: one query per read, cascades left to the database, a taken unique value
named, unique emails without case through every migration."""

from __future__ import annotations

import re
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from skillrunner.render import render_backend
from skillrunner.render.migrations import Revision, plan_revision, schema_from_revision, schema_of
from skillrunner.skills import resolve_skill
from test_migrations import TASK_CRUD, _add_row, _parsed

EVENTS = (Path(__file__).parent / "contracts" / "events.md").read_text(encoding="utf-8")
CONTACT = "| contact | email | no | | unique | Who to write to |"
ESTIMATE = "| estimate | integer | no | 7 | ge=0 | Hours |"


def _render(text: str, skill: str = "backend-builder", feature: str = "events") -> dict[str, str]:
    return render_backend(_parsed(text, feature), resolve_skill(skill).conventions, stubs=True)


def _function(code: str, name: str) -> str:
    """The source of the top-level function ``name`` in ``code``."""
    match = re.search(rf"^def {name}\(.*?(?=^\S)", code + "\nEND", re.MULTILINE | re.DOTALL)
    assert match is not None, name
    return match.group(0)


def test_a_nested_row_is_read_in_one_query_and_its_parent_checked_only_on_a_miss() -> None:
    code = _render(EVENTS)["app/routers/signup.py"]
    # The parent's conditions (a deleted Event hides its signups) are part of the row's own query.
    one = _function(code, "_one")
    assert 'col(Signup.event_id).in_(select(Event.id).where(col(Event.id) == bindparam("event_id"), ' \
           "col(Event.deleted_at).is_(None)))" in " ".join(one.split()).replace("( ", "(").replace(", )", ")")
    for name in ("_load", "_read"):
        body = _function(code, name)
        assert body.index("row = ") < body.index("if row is None:") < body.index("_check_parent(")


def test_stats_run_a_statement_built_once() -> None:
    code = _render(EVENTS)["app/routers/event.py"]
    built = r"^_KINDS_EVENTS = \(\n    select\(col\(Event\.kind\), func\.count\(\)\)"
    assert re.search(built, code, re.MULTILINE)
    body = _function(code, "_kinds_events")
    assert "session.connection().execute(_KINDS_EVENTS, values)" in body
    assert "select(" not in body


def test_a_delete_leaves_cascading_children_to_the_foreign_key() -> None:
    files = _render(EVENTS)
    delete = _function(files["app/routers/venue.py"], "_delete_venue")
    # Events are `on delete: restrict` and soft-deleted: a deleted one still holds its row, so it
    # goes by hand; its signups and their checkins go with it by ON DELETE CASCADE.
    assert re.findall(r"session\.exec\(delete\((\w+)\)", delete) == ["Event"]
    assert "Signup" not in delete and "Checkin" not in delete
    assert "session.exec(delete(" not in _function(files["app/routers/event.py"], "_delete_event")
    assert 'ondelete="CASCADE"' in files["app/models/signup.py"]
    assert 'ondelete="CASCADE"' in files["app/models/checkin.py"]


@pytest.mark.parametrize("skill", ["backend-builder", "backend-engineer"])
def test_a_taken_unique_value_is_named_by_its_constraint_and_its_columns(skill: str) -> None:
    files = _render(EVENTS, skill)
    database = next(text for path, text in files.items() if path.endswith("database.py"))
    namespace: dict[str, Any] = {}
    exec(_function(database, "_taken_field"), namespace)  # the generated function, on its own
    mapping = re.search(r"^_UNIQUE_FIELDS = (\{.*?^\})", database, re.MULTILINE | re.DOTALL)
    assert mapping is not None
    namespace["_UNIQUE_FIELDS"] = eval(mapping.group(1))  # a dict display of strings
    taken = namespace["_taken_field"]

    class Diag:
        constraint_name = "uq_venues_code"

    class Postgres(Exception):
        diag = Diag()

    def error(orig: BaseException) -> Any:
        return sa.exc.IntegrityError("INSERT ...", {}, orig)

    assert taken(error(Postgres())) == "code"
    assert taken(error(sqlite3.IntegrityError("UNIQUE constraint failed: venues.code"))) == "code"
    index = sqlite3.IntegrityError("UNIQUE constraint failed: index 'uq_signups_email'")
    assert taken(error(index)) == "email"
    assert taken(error(sqlite3.IntegrityError("FOREIGN KEY constraint failed"))) is None


def _run(revisions: list[Revision], connection: sa.Connection) -> None:
    """Each revision's upgrade, as Alembic runs it (batches as on SQLite)."""
    context = MigrationContext.configure(connection, opts={"render_as_batch": True})
    for revision in revisions:
        source = "def upgrade():\n" + "\n".join(revision.upgrade) + "\n"
        namespace: dict[str, Any] = {"sa": sa}
        exec("from alembic import op\nfrom datetime import UTC, date, datetime\nfrom decimal import Decimal\n"
             + textwrap.dedent(source), namespace)
        with Operations.context(context):
            namespace["upgrade"]()


def test_a_unique_email_is_a_unique_index_on_lower_that_later_revisions_keep() -> None:
    conv = resolve_skill("backend-builder").conventions
    with_contact = _add_row(TASK_CRUD, CONTACT)
    first = schema_of(_parsed(with_contact), conv)
    tasks = next(t for t in first if t.name == "tasks")
    assert ("uq_tasks_user_id_contact", ("user_id", "lower(contact)")) in tasks.uniques
    initial = plan_revision(None, first, number=1, down=None)
    assert initial is not None
    up = "\n".join(initial.upgrade)
    assert 'op.create_index("uq_tasks_user_id_contact", "tasks", ["user_id", sa.text("lower(contact)")], ' \
           "unique=True)" in up
    assert "sa.UniqueConstraint(\"user_id\", \"contact\"" not in up
    model = _render(with_contact, feature="task-crud")["app/models/task.py"]
    assert 'Index("uq_tasks_user_id_contact", "user_id", text("lower(contact)"), unique=True)' in model
    # Read back from the revision alone, as for a backend rendered before histories were kept.
    source = f"def upgrade():\n{up}\n"
    assert schema_from_revision(source) is not None
    assert dict(next(t for t in schema_from_revision(source) or () if t.name == "tasks").uniques) == \
        dict(tasks.uniques)

    # A later revision whose batch copies the table on SQLite drops the index first and makes it again.
    second = schema_of(_parsed(_add_row(with_contact, ESTIMATE)), conv)
    later = plan_revision(first, second, number=2, down="0001")
    assert later is not None
    steps = "\n".join(later.upgrade)
    assert steps.index('op.drop_index("uq_tasks_user_id_contact", table_name="tasks")') \
        < steps.index("batch_alter_table") < steps.rindex('op.create_index("uq_tasks_user_id_contact"')
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        _run([initial, later], connection)
        insert = sa.text("INSERT INTO tasks (title, status, priority, tags, user_id, contact, estimate, "
                         "created_at, updated_at) VALUES ('t', 'pending', 'normal', '[]', 'u', :contact, 7, "
                         "'2024-01-01', '2024-01-01')")
        connection.execute(insert, {"contact": "Ann@example.com"})
        with pytest.raises(sa.exc.IntegrityError, match="uq_tasks_user_id_contact"):
            connection.execute(insert, {"contact": "ann@EXAMPLE.com"})
