"""Errors: the exceptions the data code raises, and handlers giving every error the same envelope.

The envelope is FastAPI's own: ``{"detail": "Task not found"}``, and for a 422
``{"detail": [{"type", "loc", "msg"}, ...]}``.
No input, however malformed, reaches a 500: validation errors never echo the rejected input.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
}


class AppError(Exception):
    """An error the data code raises; the handlers give it its status and envelope."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AppError):
    """The row does not exist, or the caller may not know that it does."""

    status_code = 404


class Conflict(AppError):
    """The change would break a unique value (``field``, when known) or leave rows pointing nowhere."""

    status_code = 409

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthorized(AppError):
    """No valid credentials."""

    status_code = 401


class InvalidInput(AppError):
    """A value that reads well but names nothing the caller can use (e.g. a ref to a missing row)."""

    status_code = 422

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class FieldError(BaseModel):
    """One problem with the request."""

    type: str
    loc: list[str | int]
    msg: str


class ErrorBody(BaseModel):
    """Every error but a validation error."""

    detail: str


class ValidationErrorBody(BaseModel):
    """A validation error (422)."""

    detail: list[FieldError]


_DESCRIPTIONS = {
    400: "The body could not be read",
    401: "Missing or invalid credentials",
    403: "The resource belongs to another user",
    404: "Not found",
    409: "Conflicts with existing data",
    422: "Validation error",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers of one route."""
    return {
        status: {"model": ValidationErrorBody if status == 422 else ErrorBody,
                 "description": _DESCRIPTIONS.get(status, "Error")}
        for status in statuses
    }


def _text(value: object) -> str:
    # Lone surrogates and undecodable bytes would break the JSON encoder: escape them.
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def safe_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's errors without ``input`` and ``ctx``, which may hold bytes or surrogates."""
    return [
        {
            "type": _text(err.get("type", "")),
            "loc": [p if isinstance(p, int) else _text(p) for p in err.get("loc", ())],
            "msg": _text(err.get("msg", "")),
        }
        for err in errors
    ]


def _body(status: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"detail": details if details is not None else message}


def error_response(status: int, message: str, details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error answer in this backend's envelope."""
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(status_code=status, content=_body(status, message, details), headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "Request validation failed", safe_errors(exc.errors()))


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if isinstance(exc, InvalidInput):
        details = [{"type": "value_error", "loc": list(exc.loc), "msg": _text(exc.message)}]
        return error_response(422, "Request validation failed", details)
    return error_response(exc.status_code, exc.message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else _text(exc.detail)
    return error_response(exc.status_code, message, headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return error_response(500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the envelope."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
