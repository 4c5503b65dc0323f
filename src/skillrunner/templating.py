"""The one jinja2 environment: strict, deterministic, code-safe, project templates over packaged ones."""

from __future__ import annotations

import contextlib
import json
import keyword
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from skillrunner.errors import RenderError
from skillrunner.resources import packaged_dir

__all__ = ["environment", "py_identifier", "py_literal", "render_template"]


def py_literal(value: Any) -> str:
    """The one quoting function: a Python literal for ``value`` that evaluates back to it.

    Text from a contract reaches generated code only through here (or as a checked identifier).
    ``repr`` of str escapes quotes, backslashes and control characters, so the result always
    tokenizes as one literal; lone surrogates are escaped as ``\\udxxx``.
    """
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise RenderError(f"{value!r} cannot be written as a Python literal")
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple | list):
        inner = ", ".join(py_literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, Mapping):
        items = ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in sorted(value.items()))
        return "{" + items + "}"
    raise RenderError(f"no literal form for {type(value).__name__}")


def py_identifier(name: Any) -> str:
    """``name`` unchanged if it is a safe Python identifier, else a render error."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise RenderError(f"{name!r} is not a safe Python identifier")
    return name


def _json_literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs, as Python keeps ``.pyc`` files: a fresh process skips
    compiling them. Jinja checks each entry against its template's source; a cache that cannot be
    read or written is only slower, never an error."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The cache under ``$SKILLRUNNER_CACHE_DIR`` (default: the user's cache folder); an empty
    value turns it off."""
    base = os.environ.get("SKILLRUNNER_CACHE_DIR")
    if base is None:
        try:
            base = os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "skillrunner")
        except RuntimeError:  # no home folder to be found: run without the cache
            return None
    if not base:
        return None
    # Bytecode is specific to the jinja2 and Python versions that compiled it.
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    folder = Path(base) / f"templates-jinja2-{jinja2.__version__}-py{python}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _BytecodeCache(str(folder))


def _environment(search: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=_bytecode_cache(),
        loader=jinja2.FileSystemLoader(list(search), encoding="utf-8"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # the output is code and markdown, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["py"] = py_literal
    env.filters["ident"] = py_identifier
    env.filters["json"] = _json_literal
    return env


_CACHE: dict[tuple[str, ...], jinja2.Environment] = {}


def environment(project: Path | None = None) -> jinja2.Environment:
    """The environment for ``project``: its ``templates/`` folder first, then the packaged one."""
    search: list[str] = []
    if project is not None and (project / "templates").is_dir():
        search.append((project / "templates").resolve().as_posix())
    packaged = packaged_dir("templates").resolve().as_posix()
    if packaged not in search:
        search.append(packaged)
    key = tuple(search)
    if key not in _CACHE:
        _CACHE[key] = _environment(key)
    return _CACHE[key]


def render_template(name: str, context: Mapping[str, Any], *, project: Path | None = None,
                    extra: Iterable[tuple[str, Any]] = ()) -> str:
    """Render template ``name`` (POSIX path under ``templates/``) with ``context``."""
    env = environment(project)
    try:
        template = env.get_template(name)
        return template.render({**context, **dict(extra)})
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {exc.name} not found",
                          hint="reinstall skillrunner or add it under templates/") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {name} uses an undefined value: {exc.message}",
                          hint="a project template may be out of date with this version") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template syntax error: {exc.message}", path=exc.filename or name,
                          line=exc.lineno) from None
