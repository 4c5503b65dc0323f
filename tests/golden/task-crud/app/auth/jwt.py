"""get_current_user: the verified ``sub`` of the bearer token, or 401 with ``WWW-Authenticate: Bearer``."""

from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import settings
from app.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="A JWT whose `sub` claim is the user's id")


def decode_subject(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The ``sub`` of a valid token; anything else (no header, another scheme, a malformed or
    expired token, a bad signature, ``alg: none``, no ``sub``) is 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Not authenticated")
    try:
        claims = jwt.decode(
            credentials.credentials,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub"]},
        )
    except jwt.PyJWTError:
        raise Unauthorized("Invalid or expired token") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255 or "\x00" in subject:
        raise Unauthorized("Invalid token subject")
    return subject


async def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's user id. Pure CPU, no database: it runs on the event loop, no thread hop."""
    return decode_subject(credentials)


CurrentUser = Annotated[str, Depends(get_current_user)]
