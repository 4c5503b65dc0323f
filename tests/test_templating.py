"""templating: the one environment, its quoting filters, and the compiled-template cache."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from skillrunner import templating
from skillrunner.templating import environment, render_template


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A cache folder of this test's own, and no environment built yet in this process."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SKILLRUNNER_CACHE_DIR", str(cache))
    monkeypatch.setattr(templating, "_CACHE", {})
    return cache


def _project(tmp_path: Path, body: str) -> Path:
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True, exist_ok=True)
    (project / "templates" / "hello.j2").write_text(body, encoding="utf-8")
    return project


def test_a_new_process_reuses_compiled_templates(fresh: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, "Hello {{ name|py }}\n")
    assert render_template("hello.j2", {"name": "x"}, project=project) == "Hello 'x'\n"
    assert list(fresh.rglob("*.cache")), "nothing was cached"

    monkeypatch.setattr(templating, "_CACHE", {})  # what a new process starts with

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again although the cache holds it")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render_template("hello.j2", {"name": "y"}, project=project) == "Hello 'y'\n"


def test_an_edited_template_is_compiled_again(fresh: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, "one {{ n }}\n")
    assert render_template("hello.j2", {"n": 1}, project=project) == "one 1\n"
    _project(tmp_path, "two {{ n }}\n")
    monkeypatch.setattr(templating, "_CACHE", {})
    assert render_template("hello.j2", {"n": 1}, project=project) == "two 1\n"


def test_a_cache_that_cannot_be_written_only_costs_time(fresh: Path, tmp_path: Path) -> None:
    fresh.write_text("a file where the cache folder should be", encoding="utf-8")
    project = _project(tmp_path, "ok\n")
    assert environment(project).bytecode_cache is None
    assert render_template("hello.j2", {}, project=project) == "ok\n"


def test_an_empty_cache_setting_turns_it_off(fresh: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLRUNNER_CACHE_DIR", "")
    project = _project(tmp_path, "ok\n")
    assert environment(project).bytecode_cache is None
    assert render_template("hello.j2", {}, project=project) == "ok\n"
    assert not fresh.exists()
