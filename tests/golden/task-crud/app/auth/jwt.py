"""get_current_user: the verified ``sub`` of the bearer token, or 401 with ``WWW-Authenticate: Bearer``."""

import logging
import threading
import time
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import settings
from app.errors import Unauthorized

logger = logging.getLogger(__name__)

# The provider's keys are fetched again after an hour. A token signed with a key not seen yet (a
# rotation) fetches them at once, but only once in 30 seconds, so made-up kids cannot flood the
# provider; a failed fetch waits as long.
_KEYS_TTL = 3600.0
_REFETCH_AFTER = 30.0


class _Jwks:
    """The identity provider's signing keys from ``JWT_JWKS_URL``, by ``kid``."""

    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=5)
        self._keys: dict[str, Any] = {}
        self._fetched = self._next_try = float("-inf")
        self._lock = threading.Lock()

    async def key(self, token: str) -> Any:
        """The key that signed ``token``, by its ``kid``; fetched when due, in a worker thread."""
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            raise jwt.InvalidTokenError("The token names no key (kid)")
        now = time.monotonic()
        if (kid not in self._keys or now - self._fetched > _KEYS_TTL) and now >= self._next_try:
            await run_in_threadpool(self._refresh, kid)
        if kid not in self._keys:
            raise jwt.InvalidTokenError("The token's key is not among the provider's")
        return self._keys[kid]

    def _refresh(self, kid: str) -> None:
        with self._lock:
            now = time.monotonic()
            fresh = now - self._fetched <= _KEYS_TTL
            if (kid in self._keys and fresh) or now < self._next_try:
                return  # another request fetched them meanwhile, or one did too recently
            if fresh:  # the keys lack this kid
                self._next_try = now + _REFETCH_AFTER
            try:
                keys = self._client.get_signing_keys(refresh=True)
            except (jwt.PyJWTError, OSError, ValueError) as error:  # the keys fetched before stay in use
                self._next_try = now + _REFETCH_AFTER
                logger.warning("Could not fetch the signing keys at JWT_JWKS_URL: %s", error)
                return
            self._keys = {key.key_id: key.key for key in keys if key.key_id and _usable(key.key)}
            self._fetched = now


def _usable(key: Any) -> bool:
    """Whether ``key`` suits ``JWT_ALGORITHM``: a provider may publish keys for other algorithms too."""
    try:
        jwt.get_algorithm_by_name(settings.jwt_algorithm).prepare_key(key)
    except (jwt.PyJWTError, TypeError, ValueError):
        return False
    return True


_jwks = _Jwks(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
# Without JWT_JWKS_URL, one key checks every token: the PEM public key, else the HS secret.
_key: Any = settings.jwt_secret
if settings.jwt_public_key:
    _key = load_pem_public_key(settings.jwt_public_key.encode())

_bearer = HTTPBearer(auto_error=False, description="A JWT whose `sub` claim is the user's id")


async def decode_subject(token: str | None) -> str:
    """The ``sub`` of a valid token; anything else (no token, a malformed or expired one, no ``exp``, a bad
    signature, another algorithm than ``JWT_ALGORITHM``, ``alg: none``, another audience or issuer than
    ``JWT_AUDIENCE`` and ``JWT_ISSUER`` when set, no ``sub``) is 401."""
    if token is None:
        raise Unauthorized("Not authenticated")
    try:
        claims = jwt.decode(
            token,
            await _jwks.key(token) if _jwks else _key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience or None,
            issuer=settings.jwt_issuer or None,
            options={"require": ["exp", "sub"], "verify_aud": bool(settings.jwt_audience)},
            leeway=30,  # seconds: the issuer's clock and this server's may differ a little
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
    """The caller's user id. No database: it runs on the event loop, no thread hop (but for a fetch of
    the provider's keys, when one is due)."""
    return await decode_subject(credentials.credentials if credentials else None)


CurrentUser = Annotated[str, Depends(get_current_user)]
