# ruff: noqa
# Seed 000 imports `settings` from app.config but does not show the file; this is the usual
# pydantic-settings form, with the attribute names the seed uses (settings.JWT_SECRET...).
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    DATABASE_URL: str = "sqlite:///./app.db"
    JWT_SECRET: str
    JWT_ALGORITHM: str = "HS256"


settings = Settings()
