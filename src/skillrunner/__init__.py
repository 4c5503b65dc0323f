"""skillrunner: Agent Skills for FastAPI + SQLModel backends and the deterministic runner behind them."""

from __future__ import annotations

from skillrunner.contract import Contract, Endpoint, Field, FieldType, Operation, Resource
from skillrunner.conventions import Conventions, load_conventions
from skillrunner.errors import (
    ContractError,
    FindingsError,
    RenderError,
    SkillError,
    SkillrunnerError,
    UsageError,
    WriteConflictError,
)
from skillrunner.findings import Finding, format_findings

__version__ = "0.1.0"

__all__ = [
    "Contract",
    "ContractError",
    "Conventions",
    "Endpoint",
    "Field",
    "FieldType",
    "Finding",
    "FindingsError",
    "Operation",
    "RenderError",
    "Resource",
    "SkillError",
    "SkillrunnerError",
    "UsageError",
    "WriteConflictError",
    "__version__",
    "format_findings",
    "load_conventions",
]
