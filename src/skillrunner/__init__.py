"""skillrunner: Agent Skills for FastAPI + SQLModel backends and the deterministic runner behind them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from skillrunner.agents import InitReport, Prompt, build_prompt, catalog, init_project
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
    from skillrunner.scaffold import create_crud, crud_contract
    from skillrunner.skills import Skill, SkillChoice, discover_skills, find_skill, load_skill, resolve_skill
    from skillrunner.specify import specify
    from skillrunner.tasks import check_tasks, tasks
    from skillrunner.validate import validate_skills
    from skillrunner.verify import verify
    from skillrunner.write import WriteReport, merge3, write_files

# Names load on first use, so `skillrunner --version` and a single command import only what they need.
_EXPORTS: dict[str, str] = {
    "create_crud": "skillrunner.scaffold",
    "crud_contract": "skillrunner.scaffold",
    "build_prompt": "skillrunner.agents",
    "catalog": "skillrunner.agents",
    "init_project": "skillrunner.agents",
    "InitReport": "skillrunner.agents",
    "Prompt": "skillrunner.agents",
    "check_contract": "skillrunner.contract",
    "check_tasks": "skillrunner.tasks",
    "Contract": "skillrunner.contract",
    "ContractError": "skillrunner.errors",
    "Conventions": "skillrunner.conventions",
    "discover_skills": "skillrunner.skills",
    "Endpoint": "skillrunner.contract",
    "Field": "skillrunner.contract",
    "FieldType": "skillrunner.contract",
    "find_contract": "skillrunner.contract",
    "find_skill": "skillrunner.skills",
    "Finding": "skillrunner.findings",
    "FindingsError": "skillrunner.errors",
    "format_findings": "skillrunner.findings",
    "implement": "skillrunner.render",
    "load_contract": "skillrunner.contract",
    "load_conventions": "skillrunner.conventions",
    "load_skill": "skillrunner.skills",
    "merge3": "skillrunner.write",
    "Operation": "skillrunner.contract",
    "parse_contract": "skillrunner.contract",
    "plan": "skillrunner.plan",
    "render_backend": "skillrunner.render",
    "RenderError": "skillrunner.errors",
    "resolve_skill": "skillrunner.skills",
    "Resource": "skillrunner.contract",
    "run": "skillrunner.pipeline",
    "RunResult": "skillrunner.pipeline",
    "Skill": "skillrunner.skills",
    "SkillChoice": "skillrunner.skills",
    "SkillError": "skillrunner.errors",
    "SkillrunnerError": "skillrunner.errors",
    "specify": "skillrunner.specify",
    "tasks": "skillrunner.tasks",
    "UsageError": "skillrunner.errors",
    "validate_skills": "skillrunner.validate",
    "verify": "skillrunner.verify",
    "write_adr": "skillrunner.records",
    "write_files": "skillrunner.write",
    "write_phr": "skillrunner.records",
    "WriteConflictError": "skillrunner.errors",
    "WriteReport": "skillrunner.write",
}

__all__ = [
    "Contract",
    "ContractError",
    "Conventions",
    "Endpoint",
    "Field",
    "FieldType",
    "Finding",
    "FindingsError",
    "InitReport",
    "Operation",
    "Prompt",
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
    "build_prompt",
    "catalog",
    "check_contract",
    "check_tasks",
    "create_crud",
    "crud_contract",
    "discover_skills",
    "find_contract",
    "find_skill",
    "format_findings",
    "implement",
    "init_project",
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'skillrunner' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
