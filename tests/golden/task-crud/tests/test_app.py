"""What the app does besides its resources: ``/health``, CORS and the settings read from the environment."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from app.config import Settings

#: The origin conftest.py puts in CORS_ORIGINS for the suite; no other origin is allowed.
ALLOWED_ORIGIN = "https://app.example.com"


def test_health_answers_200_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/health")  # no credentials: load balancers call it
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def test_health_answers_503_when_the_database_does_not(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    unreachable = create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'app.db'}")
    monkeypatch.setattr("app.main.engine", unreachable)  # what /health queries
    response = client.get("/health")
    unreachable.dispose()
    assert response.status_code == 503, response.text
    assert response.json() == {"status": "unavailable"}


def test_health_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/health"]["get"]
    assert {"200", "503"} <= set(operation["responses"])
    assert "security" not in operation


def test_cors_preflight_is_allowed_for_a_listed_origin(client: TestClient) -> None:
    asks = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
    response = client.options("/health", headers={"Origin": ALLOWED_ORIGIN, **asks})
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    answer = client.get("/health", headers={"Origin": ALLOWED_ORIGIN})
    assert answer.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


def test_cors_preflight_is_refused_for_other_origins(client: TestClient) -> None:
    asks = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
    for origin in ("https://evil.example.com", "http://app.example.com", "null"):
        response = client.options("/health", headers={"Origin": origin, **asks})
        assert response.status_code == 400, (origin, response.text)
        assert "Access-Control-Allow-Origin" not in response.headers
        answer = client.get("/health", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_cors_origins_are_comma_separated_and_none_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", " https://a.example.com, https://b.example.com/ ,")
    assert Settings(_env_file=None).cors_origins == ["https://a.example.com", "https://b.example.com"]
    monkeypatch.delenv("CORS_ORIGINS")
    assert Settings(_env_file=None).cors_origins == []


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_are_read_with_psycopg(monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    monkeypatch.setenv("DATABASE_URL", f"{scheme}://app:secret@db.example.com:5432/app")
    url = Settings(_env_file=None).database_url
    assert url == "postgresql+psycopg://app:secret@db.example.com:5432/app"
    assert create_engine(url).dialect.driver == "psycopg"


def test_other_database_urls_are_kept_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("sqlite:///./app.db", "postgresql+psycopg://app@db/app", "mysql://app@db/app"):
        monkeypatch.setenv("DATABASE_URL", url)
        assert Settings(_env_file=None).database_url == url


def test_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings(_env_file=None).log_level == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="log_level"):
        Settings(_env_file=None)
