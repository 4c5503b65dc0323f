"""Findings: one problem at one place in one file, and how to print a list of them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["FORMATS", "Finding", "Severity", "format_findings", "has_errors"]

Severity = Literal["error", "warning"]
FORMATS = ("text", "json", "github")


@dataclass(frozen=True, order=True)
class Finding:
    """A problem at ``path:line:col``; ``hint`` says how to fix it, ``code`` names the rule."""

    path: str
    line: int
    col: int
    severity: Severity
    message: str
    hint: str = ""
    code: str = ""

    def to_dict(self) -> dict[str, str | int]:
        """JSON-ready, with the names tools expect: file, line, column, severity, rule, message, hint."""
        return {"file": self.path, "line": self.line, "column": self.col, "severity": self.severity,
                "rule": self.code, "message": self.message, "hint": self.hint}

    def __str__(self) -> str:
        head = f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"
        if self.code:
            head += f" [{self.code}]"
        return f"{head}\n  hint: {self.hint}" if self.hint else head


def has_errors(findings: Iterable[Finding], *, strict: bool = False) -> bool:
    """True when any finding fails the run: errors always, warnings too when ``strict``."""
    return any(f.severity == "error" or strict for f in findings)


def _github_escape(text: str, *, prop: bool = False) -> str:
    # GitHub workflow commands: %, CR and LF in data; also : and , in properties.
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_findings(findings: Sequence[Finding], fmt: str = "text") -> str:
    """Render findings as ``text`` (one per line, hint below), ``json`` or ``github`` annotations
    (errors first)."""
    ordered = sorted(findings)
    if fmt == "json":
        return json.dumps([f.to_dict() for f in ordered], indent=2, ensure_ascii=False) + "\n"
    if fmt == "github":
        lines = []
        # Errors first: GitHub shows only the first few annotations of each kind per step.
        for f in sorted(ordered, key=lambda f: f.severity != "error"):
            level = "error" if f.severity == "error" else "warning"
            props = ",".join(
                f"{k}={_github_escape(str(v), prop=True)}"
                for k, v in (("file", f.path), ("line", f.line), ("col", f.col),
                             ("title", f.code or f.severity))
            )
            body = f.message + (f" (hint: {f.hint})" if f.hint else "")
            lines.append(f"::{level} {props}::{_github_escape(body)}")
        return "".join(line + "\n" for line in lines)
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return "".join(str(f) + "\n" for f in ordered)
