# ruff: noqa
# Seed 000 imports get_session from app.database but does not show the file; this is the
# SQLModel tutorial's form. check_same_thread=False is needed on SQLite: FastAPI opens the
# session in a worker thread (sync generator dependency) and the async endpoint uses it on the
# event loop's thread.
from sqlmodel import Session, create_engine

from app.config import settings

connect_args = {"check_same_thread": False} if settings.DATABASE_URL.startswith("sqlite") else {}
engine = create_engine(settings.DATABASE_URL, connect_args=connect_args)


def get_session():
    with Session(engine) as session:
        yield session
