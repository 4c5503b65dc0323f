"""The ``skillrunner`` command line: parse arguments, call the library, print, exit."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from skillrunner import __version__
from skillrunner.errors import SkillrunnerError

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
    show_default=True, help="text for people, json for tools, github for Actions annotations.",
)


def _handle_errors(func: F) -> F:
    """The one boundary where library errors become a message on stderr and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SkillrunnerError as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"{where}error: {exc.strerror or exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="skillrunner")
def main() -> None:
    """Render proven FastAPI + SQLModel backends from API contracts, spec-driven.

    \b
    The main job, on a contract in specs/api/<feature>.md:
      skillrunner run /sp.backend-engineer task-crud
    Check the skill pack and a contract:
      skillrunner validate            every skill found here
      skillrunner contract check      every contract in specs/api/
    """


# --- skills: list, show, validate -------------------------------------------------------------


# --- contract: check, show ---------------------------------------------------------------------


# --- render: implement ---------------------------------------------------------------------------


# --- pipeline: specify, plan, tasks, run, verify -----------------------------------------------


# --- records: phr, adr ----------------------------------------------------------------------------


# --- agents: init, prompt, catalog -----------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()
