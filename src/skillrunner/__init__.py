"""skillrunner: Agent Skills for FastAPI + SQLModel backends and the deterministic runner behind them."""

from __future__ import annotations

__version__ = "0.1.0"

from skillrunner.contract import (
    Contract,
    Endpoint,
    Field,
    FieldType,
    Operation,
    Resource,
    check_contract,
    find_contract,
    load_contract,
    parse_contract,
)
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
from skillrunner.pipeline import RunResult, run
from skillrunner.plan import plan
from skillrunner.records import write_adr, write_phr
from skillrunner.render import implement, render_backend
from skillrunner.skills import Skill, SkillChoice, discover_skills, find_skill, load_skill, resolve_skill
from skillrunner.specify import specify
from skillrunner.tasks import check_tasks, tasks
from skillrunner.validate import validate_skills
from skillrunner.verify import verify
from skillrunner.write import WriteReport, merge3, write_files

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
    "RunResult",
    "Skill",
    "SkillChoice",
    "SkillError",
    "SkillrunnerError",
    "UsageError",
    "WriteConflictError",
    "WriteReport",
    "__version__",
    "check_contract",
    "check_tasks",
    "discover_skills",
    "find_contract",
    "find_skill",
    "format_findings",
    "implement",
    "load_contract",
    "load_conventions",
    "load_skill",
    "merge3",
    "parse_contract",
    "plan",
    "render_backend",
    "resolve_skill",
    "run",
    "specify",
    "tasks",
    "validate_skills",
    "verify",
    "write_adr",
    "write_files",
    "write_phr",
]
