"""The FastAPI app: error handlers, routers (static paths first), and the database migrated on start."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.database import migrate, run_db
from app.errors import install_error_handlers
from app.routers.comment import router as comment_router
from app.routers.task import router as task_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await run_db(migrate)
    yield


app = FastAPI(
    title="Task management API",
    version="1.0.0",
    description=(
        "Authenticated users create, list, search, update and delete their own "
        "tasks,\nand comment on them. Every endpoint requires `Authorization: "
        "Bearer <jwt>`;\nthe token's `sub` claim is the user's id. A user "
        "never sees, changes or learns\nof another user's tasks or comments."
    ),
    lifespan=lifespan,
)
install_error_handlers(app)
app.include_router(task_router)
app.include_router(comment_router)
