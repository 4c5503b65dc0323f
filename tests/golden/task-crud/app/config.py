"""Settings read from the environment; the app refuses to start without a real JWT secret."""

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Words that mark a value copied from a sample .env; matched inside the secret, so keep them specific.
_PLACEHOLDERS = ("changethis", "changeme", "change-me", "change_me", "your-secret-key", "your_secret_key")


class Settings(BaseSettings):
    """From the environment or ``.env``: ``DATABASE_URL``, ``DB_THREADS``, ``MIGRATE_ON_START``,
    ``JWT_SECRET``, ``JWT_ALGORITHM``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./app.db"
    # Threads that run the database work, and as many pooled connections: requests beyond them queue.
    # Unset: 2 on SQLite, 8 on a database server (see database.py).
    db_threads: int | None = Field(default=None, ge=1, le=256)
    # Bring the database to the newest migration on start. A deployment that migrates in a step of its
    # own sets it to false: the app then refuses to serve a database behind that migration.
    migrate_on_start: bool = True
    jwt_secret: str = Field(default="", validate_default=True)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: str) -> str:
        if not value:
            raise ValueError("JWT_SECRET is not set; generate one with: python -c "
                             "'import secrets; print(secrets.token_urlsafe(48))'")
        if any(p in value.lower() for p in _PLACEHOLDERS):
            raise ValueError("JWT_SECRET is a placeholder; generate a random one")
        if len(value.encode()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 bytes")
        return value


settings = Settings()
