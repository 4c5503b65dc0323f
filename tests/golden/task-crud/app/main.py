"""The FastAPI app: logging, CORS, error handlers, ``/health``, routers (static paths first), and the
database migrated on start."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.config import settings
from app.database import engine, migrate, run_db
from app.errors import install_error_handlers
from app.routers.comment import router as comment_router
from app.routers.task import router as task_router

logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logger = logging.getLogger(__name__)
#: How long ``/health`` waits for the database before it answers 503.
HEALTH_TIMEOUT_SECONDS = 5


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await run_db(migrate)
    logger.info("the database is at the newest revision; serving")
    yield


#: The OpenAPI's tags: one per resource, with what the contract says of it, and the health check's.
TAGS: list[dict[str, str]] = [
    {"name": "tasks"},
    {"name": "comments"},
    {"name": "health", "description": "Whether the app and its database answer."},
]


def operation_id(route: APIRoute) -> str:
    """An operation's id in the OpenAPI: its endpoint function's name (``create_task``), unique in the app."""
    return route.name


app = FastAPI(
    title="Task management API",
    version="1.0.0",
    description=(
        "Authenticated users create, list, search, update and delete their own "
        "tasks,\nand comment on them. Every endpoint requires `Authorization: "
        "Bearer <jwt>`;\nthe token's `sub` claim is the user's id. A user "
        "never sees, changes or learns\nof another user's tasks or comments."
    ),
    openapi_tags=TAGS,
    generate_unique_id_function=operation_id,
    lifespan=lifespan,
)
install_error_handlers(app)
if settings.cors_origins:
    # Tokens travel in the Authorization header, not in cookies: no credentialed requests.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )


class Health(BaseModel):
    """Whether the app can serve: ``ok`` when its database answers, else ``unavailable``."""

    status: Literal["ok", "unavailable"]


def _ping_database() -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


@app.get(
    "/health",
    tags=["health"],
    summary="Whether the app and its database answer",
    responses={503: {"model": Health, "description": "The database does not answer"}},
)
async def health(response: Response) -> Health:
    """For load balancers and orchestrators: 200 when the database answers a trivial query, 503 when
    not. No authentication."""
    try:
        await asyncio.wait_for(run_db(_ping_database), timeout=HEALTH_TIMEOUT_SECONDS)
    except (SQLAlchemyError, TimeoutError) as error:
        logger.warning("health: the database does not answer: %s", error)
        response.status_code = 503
        return Health(status="unavailable")
    return Health(status="ok")


app.include_router(task_router)
app.include_router(comment_router)
