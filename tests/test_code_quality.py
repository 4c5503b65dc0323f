"""What a reviewer of a rendered tree checks, in every skill: no dead code (vulture), imports one way
between the layers, and the tree's own ruff clean on contracts with long names and paths."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import vulture

from skillrunner.contract import Contract, parse_contract
from skillrunner.conventions import Conventions, load_conventions
from skillrunner.render import render_backend
from skillrunner.resources import packaged_dir
from test_render import random_contract

TESTS = Path(__file__).resolve().parent
EXAMPLE = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
SOURCES = {EXAMPLE.stem: EXAMPLE} | {p.stem: p for p in sorted((TESTS / "contracts").glob("*.md"))}
FOLDERS = {p.name: p for p in sorted(packaged_dir("skills").iterdir()) if (p / "conventions.yaml").is_file()}
FOLDERS["backend-features"] = TESTS / "skills" / "backend-features"

#: Names only a framework calls or reads, so no code of the tree names them: Alembic's revision
#: module (``revision``, ``upgrade``...), SQLAlchemy's TypeDecorator (``impl``, ``cache_ok``,
#: ``process_*``) and event listeners' arguments (``record``), pytest's hook, pydantic's
#: ``model_config`` and validators' ``cls``, Alembic's env.py importing every model for its metadata
#: (``MODELS``), and ``paginate``, the helper the action stubs offer the user's code.
FRAMEWORK_NAMES = (
    "revision", "down_revision", "branch_labels", "depends_on", "upgrade", "downgrade", "impl", "cache_ok",
    "process_bind_param", "process_result_value", "record", "pytest_configure", "model_config", "cls",
    "MODELS", "lifespan", "paginate",
)
#: Functions their decorator registers: routes, fixtures, validators, event listeners.
FRAMEWORK_DECORATORS = ["@router.*", "@pytest.fixture", "@field_validator", "@model_validator",
                        "@event.listens_for"]


def _contract(text: str, name: str) -> Contract:
    contract, findings = parse_contract(text, f"specs/api/{name}.md")
    assert contract is not None, "\n".join(map(str, findings))
    return contract


def _write(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _field_declaration(root: Path, item: vulture.core.Item) -> bool:
    """A pydantic or SQLModel field (``name: type`` in a class body): pydantic reads it, not the code."""
    line = Path(item.filename).read_text(encoding="utf-8").splitlines()[item.first_lineno - 1]
    return item.typ == "variable" and re.match(rf"\s+{re.escape(item.name)}\s*:", line) is not None


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_no_rendered_tree_has_unused_code(skill: str, tmp_path: Path) -> None:
    conv = load_conventions(FOLDERS[skill])
    app = conv.app.partition(":")[2] or "app"
    dead: list[str] = []
    for name, source in SOURCES.items():
        contract = _contract(source.read_text(encoding="utf-8"), name)
        root = _write(render_backend(contract, conv, stubs=True), tmp_path / name)
        finder = vulture.Vulture(ignore_names=list(FRAMEWORK_NAMES),
                                 ignore_decorators=[*FRAMEWORK_DECORATORS, f"@{app}.*"])
        finder.scavenge([str(root)])
        dead += [f"{name}: {Path(item.filename).relative_to(root)}:{item.first_lineno}: {item.message}"
                 for item in finder.get_unused_code(min_confidence=60)
                 if not _field_declaration(root, item)]
    assert not dead, "\n".join(dead)


def test_the_unused_code_check_finds_a_dead_helper(tmp_path: Path) -> None:
    files = render_backend(_contract(EXAMPLE.read_text(encoding="utf-8"), "task-crud"),
                           load_conventions(FOLDERS["backend-builder"]))
    files["app/schemas/common.py"] += "\n\ndef leftover(value: str) -> str:\n    return value\n"
    root = _write(files, tmp_path)
    finder = vulture.Vulture(ignore_names=list(FRAMEWORK_NAMES), ignore_decorators=FRAMEWORK_DECORATORS)
    finder.scavenge([str(root)])
    assert "leftover" in {item.name for item in finder.get_unused_code(min_confidence=60)}


# --- layering --------------------------------------------------------------------------------------------

#: What each layer may import of the app (docs/conventions.md, "Layers"): database and models never
#: reach up to the bodies a client sends and gets (``schema``, ``common``, ``action_schemas``).
FORBIDDEN = {
    "database": ("model", "users_model", "schema", "common", "action_schemas", "router", "service"),
    "model": ("schema", "common", "action_schemas", "router", "service"),
    "users_model": ("schema", "common", "action_schemas", "router", "service"),
}


def _imports(text: str) -> set[str]:
    """Every module ``text`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules_of(conv: Conventions, kind: str, contract: Contract) -> set[str]:
    if kind not in conv.layout:
        return set()
    return {conv.module(kind, name=r.snake, plural=r.table) for r in contract.resources} | (
        {conv.module(kind)} if "{" not in conv.layout[kind] else set())


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_models_and_the_database_never_import_schemas(skill: str) -> None:
    conv = load_conventions(FOLDERS[skill])
    wrong: list[str] = []
    for name, source in SOURCES.items():
        contract = _contract(source.read_text(encoding="utf-8"), name)
        files = render_backend(contract, conv)
        for kind, banned in FORBIDDEN.items():
            for module in _modules_of(conv, kind, contract):
                path = str(PurePosixPath(*module.split("."))) + ".py"
                if path not in files:
                    continue
                above = set().union(*(_modules_of(conv, k, contract) for k in banned)) - {module}
                for imported in sorted(_imports(files[path]) & above):
                    wrong.append(f"{name}: {path} ({kind}) imports {imported}")
    assert not wrong, "\n".join(wrong)


# --- ruff on long names and paths ---------------------------------------------------------------------------


def long_contract(seed: int) -> str:
    """``random_contract(seed)`` with longer names: every resource ``<Name>Record``, every path under
    ``/api/workspace-administration/``, so nested paths reach well past the line length."""
    text = random_contract(seed).replace("/api/", "/api/workspace-administration/")
    for name in sorted(set(re.findall(r"^## Resource: (\w+)", text, re.MULTILINE))):
        low = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        text = re.sub(rf"\b{name}\b", f"{name}Record", text)
        text = re.sub(rf"\b{low}s\b", f"{low}_records", text)
        text = text.replace(f"{{{low}_id}}", f"{{{low}_record_id}}")
    return text


def _table(*rows: tuple[str, ...]) -> str:
    return "\n".join("| " + " | ".join(cells) + " |" for cells in rows)


def long_nested_contract() -> str:
    """An ordinary contract with long multi-word names: a nested resource under a soft-deleted parent
    with search, stats and a bulk update, so docstrings, imports, queries and test paths all run long."""
    parent, child = "CustomerOrganisationAccount", "CustomerOrganisationAccountInteractionNote"
    accounts = "/api/customer-organisation-accounts"
    notes = f"{accounts}/{{customer_organisation_account_id}}/interaction-notes"
    stage, email = "account_lifecycle_stage_name", "primary_contact_email_address"
    fields = ("Field", "Type", "Required", "Default", "Constraints", "Description"), ("---",) * 6
    endpoints = ("Method", "Path", "Operation", "Success", "Errors"), ("---",) * 5
    return "\n\n".join([
        "---\nfeature: customer-relationship-management\ntitle: CRM\nauth: jwt\n---\n\n# CRM",
        f"## Resource: {parent}\n\n- table: customer_organisation_accounts\n- id: uuid\n- owner: user\n"
        "- soft delete: yes",
        _table(*fields, (email, "email", "yes", "", "unique", "Email"),
               (stage, "enum(prospect_stage, customer_stage, churned_stage)", "no", "prospect_stage", "index",
                "Stage"),
               ("annual_contract_value_amount", "decimal(12, 2)", "no", "", "", "Value")),
        "### Endpoints",
        _table(*endpoints, ("POST", accounts, "create", f"201 {parent}", "401, 409, 422"),
               ("GET", accounts, f"list(filter: {stage}; sort: annual_contract_value_amount)",
                f"200 Page[{parent}]", "401, 422"),
               ("GET", f"{accounts}/statistics-by-stage", f"stats({stage})", "200 Stats", "401"),
               ("POST", f"{accounts}/bulk-mark-as-churned", f"bulk_update({stage}=churned_stage)",
                "200 BulkResult", "401, 422"),
               ("GET", f"{accounts}/search", f"search({email})", f"200 Page[{parent}]", "401, 422"),
               ("PATCH", f"{accounts}/{{id}}", "update", f"200 {parent}", "401, 404, 409, 422"),
               ("DELETE", f"{accounts}/{{id}}", "delete", "204", "401, 404, 409")),
        f"## Resource: {child}\n\n- table: customer_organisation_account_interaction_notes\n- id: uuid\n"
        f"- owner: user\n- parent: {parent} (on delete: restrict)",
        _table(*fields, ("interaction_note_body_text", "text", "yes", "", "min_length=1", "Body"),
               ("interaction_channel_kind", "enum(phone_call, email_message, in_person_meeting)", "no",
                "phone_call", "", "Channel")),
        "### Endpoints",
        _table(*endpoints, ("POST", notes, "create", f"201 {child}", "401, 404, 422"),
               ("GET", notes, "list(filter: interaction_channel_kind)", f"200 Page[{child}]",
                "401, 404, 422"),
               ("PATCH", f"{notes}/{{id}}", "update", f"200 {child}", "401, 404, 422"),
               ("DELETE", f"{notes}/{{id}}", "delete", "204", "401, 404")),
    ]) + "\n"

@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_long_names_and_nested_paths_stay_clean_under_the_trees_own_ruff(skill: str, tmp_path: Path) -> None:
    conv = load_conventions(FOLDERS[skill])
    nested = render_backend(_contract(long_nested_contract(), "customer-relationship-management"), conv)
    roots = [_write(nested, tmp_path / "long-nested")]
    for seed in (5, 26, 30, 34):
        text = long_contract(seed)
        assert "/api/workspace-administration/" in text and "Record" in text
        roots.append(_write(render_backend(_contract(text, f"random{seed}"), conv), tmp_path / f"long{seed}"))
    found = ""
    for root in roots:
        done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format",
                               "concise", "."], cwd=root, capture_output=True, text=True, check=False)
        found += done.stdout if done.returncode else ""
    assert not found, found
