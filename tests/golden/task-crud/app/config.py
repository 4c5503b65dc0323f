"""Settings read from the environment; the app refuses to start without a usable way to check tokens."""

from typing import Annotated, Literal, Self

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Words that mark a value copied from a sample .env; matched inside the secret, so keep them specific.
_PLACEHOLDERS = ("changethis", "changeme", "change-me", "change_me", "your-secret-key", "your_secret_key")


class Settings(BaseSettings):
    """From the environment or ``.env``: ``DATABASE_URL``, ``DB_THREADS``, ``MIGRATE_ON_START``,
    ``CORS_ORIGINS``, ``LOG_LEVEL``, ``JWT_ALGORITHM``, ``JWT_SECRET``,
    ``JWT_PUBLIC_KEY``, ``JWT_JWKS_URL``, ``JWT_AUDIENCE``, ``JWT_ISSUER``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./app.db"
    # Threads that run the database work, and as many pooled connections: requests beyond them queue.
    # Unset: 2 on SQLite, 8 on a database server (see database.py).
    db_threads: int | None = Field(default=None, ge=1, le=256)
    # Bring the database to the newest migration on start. A deployment that migrates in a step of its
    # own sets it to false: the app then refuses to serve a database behind that migration.
    migrate_on_start: bool = True
    # The origins a browser may call this API from, comma-separated (https://app.example.com); none
    # by default, and then the app answers no CORS request.
    cors_origins: Annotated[list[str], NoDecode] = []
    # The level of the app's log records (the standard logging module): DEBUG, INFO, WARNING, ERROR.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # HS* tokens are checked with JWT_SECRET; RS*, ES*, PS* and EdDSA (Ed25519, Ed448) ones with the
    # PEM public key in JWT_PUBLIC_KEY or with the provider's keys at JWT_JWKS_URL (one of the two).
    jwt_algorithm: Literal["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384",
                           "ES512", "PS256", "PS384", "PS512", "EdDSA"] = "HS256"
    jwt_secret: str = ""
    jwt_public_key: str = ""
    jwt_jwks_url: str = ""
    # When set, a token must carry this audience (``aud``) and this issuer (``iss``).
    jwt_audience: str = ""
    jwt_issuer: str = ""

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str) -> str:
        # Hosting platforms hand out postgres:// (or postgresql://) URLs; psycopg 3 is the driver installed.
        scheme, separator, rest = value.partition("://")
        if separator and scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg://{rest}"
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("jwt_public_key")
    @classmethod
    def _pem_lines(cls, value: str) -> str:
        # A .env file or a platform's settings page often holds the PEM on one line, with \n for its breaks.
        return value.replace("\\n", "\n").strip()

    @model_validator(mode="after")
    def _usable_keys(self) -> Self:
        algorithm = self.jwt_algorithm
        if algorithm.startswith("HS"):
            if self.jwt_public_key or self.jwt_jwks_url:
                raise ValueError(f"JWT_PUBLIC_KEY and JWT_JWKS_URL are for RS, ES, PS and EdDSA algorithms; "
                                 f"JWT_ALGORITHM is {algorithm}, which checks tokens with JWT_SECRET")
            _check_secret(self.jwt_secret)
        elif self.jwt_public_key and self.jwt_jwks_url:
            raise ValueError("set JWT_PUBLIC_KEY or JWT_JWKS_URL, not both")
        elif self.jwt_public_key:
            try:
                key = load_pem_public_key(self.jwt_public_key.encode())
                # Refuses a key of another kind, or on another curve, than the algorithm's.
                jwt.get_algorithm_by_name(algorithm).prepare_key(key)
            except (ValueError, TypeError, UnsupportedAlgorithm, jwt.PyJWTError) as error:
                raise ValueError(f"JWT_PUBLIC_KEY is not a PEM public key for {algorithm}: {error}") from None
        elif not self.jwt_jwks_url:
            raise ValueError(f"JWT_ALGORITHM is {algorithm}: set JWT_PUBLIC_KEY (the PEM public key) or "
                             "JWT_JWKS_URL (the identity provider's JWKS address)")
        elif not self.jwt_jwks_url.startswith(("https://", "http://")):
            raise ValueError("JWT_JWKS_URL must be an http(s) address")
        return self


def _check_secret(secret: str) -> None:
    if not secret:
        raise ValueError("JWT_SECRET is not set; generate one with: python -c "
                         "'import secrets; print(secrets.token_urlsafe(48))'")
    if any(p in secret.lower() for p in _PLACEHOLDERS):
        raise ValueError("JWT_SECRET is a placeholder; generate a random one")
    if len(secret.encode()) < 32:
        raise ValueError("JWT_SECRET must be at least 32 bytes")


settings = Settings()
