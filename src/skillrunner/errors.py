"""The one error hierarchy: each error builds the user's message and carries where and how to fix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from skillrunner.findings import Finding

__all__ = ["ContractError", "FindingsError", "RenderError", "SkillError", "SkillrunnerError",
           "UsageError", "WriteConflictError"]


class SkillrunnerError(Exception):
    """Base of every error the CLI turns into a message and an exit code (never a traceback)."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else Path(path).as_posix()
        self.line = line
        self.col = col
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
                if self.col is not None:
                    where += f":{self.col}"
            where += ": "
        text = f"{where}error: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class UsageError(SkillrunnerError):
    """The command was called wrongly (exit 2)."""

    exit_code = 2


class FindingsError(SkillrunnerError):
    """Several problems found at once; ``findings`` holds every one of them."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = tuple(sorted(findings))

    def __str__(self) -> str:
        body = "".join(str(f) + "\n" for f in self.findings)
        return f"{body}{self.message}"


class ContractError(FindingsError):
    """An API contract that does not parse or does not make sense."""


class SkillError(SkillrunnerError):
    """A skill that cannot be found or used."""


class RenderError(SkillrunnerError):
    """A template that fails to render or a write that would leave the target."""


class WriteConflictError(SkillrunnerError):
    """Differing files skillrunner cannot merge into (it has no record of writing them); nothing was
    written. ``paths`` lists them, ``reasons`` says why for each."""

    def __init__(self, paths: Sequence[str], *, reasons: Mapping[str, str] | None = None,
                 hint: str = "") -> None:
        why = reasons or {}
        listed = "".join(f"\n  {p}" + (f": {why[p]}" if why.get(p) else "") for p in paths)
        super().__init__(
            f"{len(paths)} file(s) differ from the render and cannot be merged (no record of what "
            f"skillrunner wrote there); nothing was written:{listed}",
            hint=hint or "move your version aside and rerun, or rerun with --force to replace them with the "
                         "render (--dry-run --diff shows the changes first)",
        )
        self.paths = tuple(paths)
        self.reasons = dict(why)
