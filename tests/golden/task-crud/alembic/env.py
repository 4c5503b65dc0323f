"""Alembic environment: the app's connection when the app migrates on start, else the URL from its
settings; and the metadata of every table."""

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

from app.config import settings
from app.models.comment import Comment
from app.models.task import Task

#: Importing a model registers its table in SQLModel.metadata; `alembic check` compares only those.
MODELS = (Task, Comment)

# The command line logs as alembic.ini says; the app, which passes its connection, keeps its own logging.
if context.config.config_file_name is not None and "connection" not in context.config.attributes:
    fileConfig(context.config.config_file_name)

target_metadata = SQLModel.metadata
#: The key of the advisory lock migrations take on PostgreSQL: app.database's _MIGRATION_LOCK.
MIGRATION_LOCK = 4_242_001


def run_migrations_offline() -> None:
    context.configure(url=settings.database_url, target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online(connection: sa.Connection) -> None:
    # render_as_batch lets later ALTERs work on SQLite too
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := context.config.attributes.get("connection")) is not None:
    run_migrations_online(connection)  # the app's, in its transaction (app.database.migrate)
else:
    # One transaction, as the app's: on PostgreSQL the advisory lock first, so replicas whose command
    # lines migrate together do it one at a time, and the later ones find the database up to date.
    with sa.create_engine(settings.database_url).connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        run_migrations_online(connection)
