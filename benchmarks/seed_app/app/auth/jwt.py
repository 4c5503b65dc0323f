# ruff: noqa
"""
JWT authentication utilities.
File: backend/app/auth/jwt.py
"""
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPBearer, HTTPAuthorizationCredentials
# FIX (benchmark): the seed imports python-jose (`from jose import jwt, JWTError`). It is used
# when installed; otherwise PyJWT stands in (same decode call, same error base class role).
try:
    from jose import jwt, JWTError
except ImportError:  # pragma: no cover - depends on the environment
    import jwt
    from jwt import PyJWTError as JWTError
from app.config import settings

security = HTTPBearer()


async def get_current_user(
    credentials: HTTPAuthorizationCredentials = Depends(security)
) -> dict:
    """
    Extract and verify JWT token from Authorization header.

    Returns user dict with id and email if token is valid.
    Raises 401 if token is invalid or expired.
    """
    token = credentials.credentials

    try:
        payload = jwt.decode(token, settings.JWT_SECRET, algorithms=[settings.JWT_ALGORITHM])
        user_id: str = payload.get("sub")
        if user_id is None:
            raise HTTPException(status_code=401, detail="Invalid token")
        return {"id": user_id, "email": payload.get("email")}
    except JWTError:
        raise HTTPException(status_code=401, detail="Invalid token")
