"""Every skill renders what ships its backend: the image, the compose file, the settings example, the ignore
files, runtime and development requirements, and the metadata; /health stays out of the contract diff."""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import re
import shlex
import tomllib
from pathlib import Path, PurePath
from typing import Any

import pytest
import yaml

from skillrunner.contract import Contract, load_contract
from skillrunner.conventions import DEPLOY_KINDS, Conventions, load_conventions
from skillrunner.render import implement, render_backend
from skillrunner.resources import packaged_dir
from skillrunner.verify import compare_openapi
from skillrunner.write import recorded_files

TESTS = Path(__file__).parent
SKILLS = packaged_dir("skills")
FOLDERS = {**{p.name: p for p in sorted(SKILLS.iterdir()) if (p / "conventions.yaml").is_file()},
           "backend-features": TESTS / "skills" / "backend-features"}
TASK_CRUD = packaged_dir("examples") / "specs" / "api" / "task-crud.md"
#: One contract per kind of authentication: jwt, builtin, none.
CONTRACTS = {"task-crud": TASK_CRUD, "library": TESTS / "contracts" / "library.md",
             "events": TESTS / "contracts" / "events.md"}
DEV_TOOLS = ("pytest", "httpx", "ruff", "mypy")


@pytest.fixture(scope="module")
def renders() -> dict[tuple[str, str], tuple[Conventions, dict[str, str]]]:
    """Every skill's render of every contract: (skill, contract) -> (conventions, files)."""
    contracts = {name: load_contract(path) for name, path in CONTRACTS.items()}
    out = {}
    for skill, folder in FOLDERS.items():
        conv = load_conventions(folder)
        for name, contract in contracts.items():
            out[(skill, name)] = (conv, render_backend(contract, conv))
    return out


def _files(renders: dict[tuple[str, str], tuple[Conventions, dict[str, str]]], skill: str,
           contract: str = "task-crud") -> tuple[Conventions, dict[str, str]]:
    return renders[(skill, contract)]


def test_every_skill_names_every_deploy_kind() -> None:
    for skill, folder in FOLDERS.items():
        conv = load_conventions(folder)
        assert set(conv.layout) >= DEPLOY_KINDS, skill
        for kind in ("gitignore", "env_example", "dockerignore"):
            assert PurePath(conv.path(kind)).name.startswith("."), (skill, kind)


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_compose_runs_the_app_once_postgres_is_healthy(renders: Any, skill: str) -> None:
    conv, files = _files(renders, skill)
    compose = yaml.safe_load(files[conv.path("compose")])
    services: dict[str, Any] = compose["services"]
    dbs = [name for name, s in services.items() if str(s.get("image", "")).startswith("postgres:")]
    assert len(dbs) == 1, services
    db = services[dbs[0]]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert dbs[0] in compose.get("volumes", {}) or any(":/var/lib/postgresql" in v for v in db["volumes"])
    app = next(s for s in services.values() if "build" in s)
    assert app["depends_on"] == {dbs[0]: {"condition": "service_healthy"}}
    url = app["environment"]["DATABASE_URL"]
    password = re.escape("${POSTGRES_PASSWORD:-app}")
    assert re.fullmatch(rf"postgresql\+psycopg://app:{password}@{dbs[0]}:5432/app", url), url
    assert "/health" in " ".join(app["healthcheck"]["test"])
    assert any(isinstance(e, dict) and e["path"] == ".env" for e in app["env_file"])


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_dockerfile_is_slim_non_root_cached_and_migrates_before_serving(renders: Any, skill: str) -> None:
    conv, files = _files(renders, skill)
    lines = [ln for ln in files[conv.path("dockerfile")].splitlines() if ln and not ln.startswith("#")]
    instructions = [(ln.split()[0], ln) for ln in lines if ln.split()[0].isupper()]
    base = next(ln for op, ln in instructions if op == "FROM")
    match = re.fullmatch(r"FROM python:3\.(\d+)-slim", base)
    assert match and int(match[1]) >= 11, base
    users = [ln.split()[1] for op, ln in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    requirements = conv.path("requirements")
    index = {ln: i for i, (_, ln) in enumerate(instructions)}
    copy_requirements = index[f"COPY {requirements} ./{requirements}"]
    install = index[f"RUN pip install -r {requirements}"]
    copy_source = index["COPY . ."]
    user = max(i for i, (op, _) in enumerate(instructions) if op == "USER")
    assert copy_requirements < install < copy_source < user
    cmd = [ln for op, ln in instructions if op in ("CMD", "ENTRYPOINT")]
    assert len(cmd) == 1 and cmd[0].startswith("CMD [")
    shell = ast.literal_eval(cmd[0].removeprefix("CMD "))
    assert shell[:2] == ["sh", "-c"]
    first, _, second = shell[2].partition(" && ")
    assert shlex.split(first) == ["alembic", "-c", conv.path("alembic_ini"), "upgrade", "head"]
    serve = shlex.split(second)
    assert serve[:3] == ["exec", "uvicorn", conv.app] and "--proxy-headers" in serve
    assert "ENV MIGRATE_ON_START=false" in lines  # migrated by the command already
    # Run on its own, the image keeps its SQLite database in a folder the app's user owns.
    url = next(ln for ln in lines if ln.startswith("ENV DATABASE_URL=")).partition("=")[2]
    assert url.startswith("sqlite:////"), url
    folder = str(PurePath(url.removeprefix("sqlite:///")).parent)
    runs = [shlex.split(ln) for ln in files[conv.path("dockerfile")].replace("\\\n", " ").splitlines()
            if ln.startswith("RUN ")]
    added = next(run[run.index("useradd"):] for run in runs if "useradd" in run)
    name, uid = added[-1], added[added.index("--uid") + 1]
    assert users[-1].split(":")[0] in (name, uid)
    made = f"RUN install -d --owner={name} --group={name} {folder}"
    assert made.split() in runs
    assert copy_source < index[made] < user  # after COPY: the copied tree cannot replace it
    ignored = files[conv.path("dockerignore")].splitlines()
    assert {".env", ".venv/", "*.db", ".git/"} <= set(ignored)


def _settings_fields(config: str) -> set[str]:
    tree = ast.parse(config)
    settings = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    return {n.target.id.upper() for n in settings.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            and n.target.id != "model_config"}


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_env_example_names_exactly_the_settings_each_with_its_meaning(renders: Any, skill: str,
                                                                       contract: str) -> None:
    conv, files = _files(renders, skill, contract)
    lines = files[conv.path("env_example")].splitlines()
    named: list[str] = []
    for i, line in enumerate(lines):
        match = re.fullmatch(r"(?:# )?([A-Z][A-Z0-9_]*)=.*", line)
        if match:
            named.append(match[1])
            assert i > 0 and lines[i - 1].startswith("# ") and "=" not in lines[i - 1].split()[1], \
                f"{match[1]} has no comment saying what it means"
    assert len(named) == len(set(named))
    assert set(named) == _settings_fields(files[conv.path("config")])


def _ignored(patterns: list[str], path: str) -> bool:
    parts = path.split("/")
    return any(fnmatch.fnmatch(part, pattern.rstrip("/")) for pattern in patterns for part in parts
               if pattern and not pattern.startswith("#"))


@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_gitignore_covers_what_the_readme_and_the_app_make(renders: Any, skill: str) -> None:
    conv, files = _files(renders, skill)
    readme = files[conv.path("readme")]
    made = {".venv", "app.db", ".env"}
    assert all(name in readme for name in made)
    patterns = files[conv.path("gitignore")].splitlines()
    for path in (*made, "app/__pycache__/main.cpython-311.pyc", ".mypy_cache", ".ruff_cache"):
        assert _ignored(patterns, path), path
    for kept in (".env.example", "requirements.txt", "alembic.ini", "app/main.py", "Dockerfile"):
        assert not _ignored(patterns, kept), kept


def _requirements(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
@pytest.mark.parametrize("skill", sorted(FOLDERS))
def test_runtime_and_dev_requirements_are_split_and_pyproject_lists_the_runtime_ones(
        renders: Any, skill: str, contract: str) -> None:
    conv, files = _files(renders, skill, contract)
    runtime = _requirements(files[conv.path("requirements")])
    assert runtime and not [r for r in runtime if r.startswith(DEV_TOOLS)], runtime
    for requirement in runtime:
        assert re.search(r">=[\d.]+,<[\d.]+$", requirement), f"{requirement}: give a lower and an upper bound"
    dev = _requirements(files[conv.path("requirements_dev")])
    assert dev[0] == f"-r {conv.path('requirements')}"
    assert sorted(r.split(">=")[0] for r in dev[1:]) == sorted(DEV_TOOLS)
    pyproject = tomllib.loads(files[conv.path("pyproject")])
    project = pyproject["project"]
    assert project["name"] == load_contract(CONTRACTS[contract]).feature
    assert project["requires-python"] == ">=3.11"
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert project["dependencies"] == runtime
    assert {"pytest", "ruff", "mypy"} <= set(pyproject["tool"])  # the tool sections stay
    readme = files[conv.path("readme")]
    assert f"pip install -r {conv.path('requirements_dev')}" in readme
    assert "## Deploy" in readme and "docker compose up" in readme


def test_a_skill_without_the_deploy_kinds_still_renders_and_keeps_its_tools() -> None:
    conv = load_conventions(FOLDERS["backend-builder"])
    bare = dataclasses.replace(conv, layout={k: v for k, v in conv.layout.items() if k not in DEPLOY_KINDS})
    files = render_backend(load_contract(TASK_CRUD), bare)
    assert not {conv.path(kind) for kind in DEPLOY_KINDS} & set(files)
    runtime = _requirements(files["requirements.txt"])
    assert {r.split(">=")[0] for r in runtime} >= set(DEV_TOOLS)  # nowhere else to list them
    dependencies = tomllib.loads(files["pyproject.toml"])["project"]["dependencies"]
    assert dependencies == [r for r in runtime if not r.startswith(DEV_TOOLS)]
    assert "pip install -r requirements.txt" in files["README.md"] and "## Deploy" not in files["README.md"]


def test_implement_writes_and_records_the_dotfiles_and_merges_edits(tmp_path: Path) -> None:
    (tmp_path / "specs" / "api").mkdir(parents=True)
    (tmp_path / "specs" / "api" / "task-crud.md").write_bytes(TASK_CRUD.read_bytes())
    first = implement(project=tmp_path, feature="task-crud", skill="backend-builder")
    dotfiles = {"backend/.gitignore", "backend/.env.example", "backend/.dockerignore"}
    assert dotfiles <= set(first.created)
    assert dotfiles <= set(recorded_files(project=tmp_path, key="implement:backend-builder"))
    gitignore = tmp_path / "backend" / ".gitignore"
    gitignore.write_text(gitignore.read_text(encoding="utf-8") + "my-notes.txt\n", encoding="utf-8")
    again = implement(project=tmp_path, feature="task-crud", skill="backend-builder")
    assert dotfiles - {"backend/.gitignore"} <= set(again.unchanged)
    assert "my-notes.txt" in gitignore.read_text(encoding="utf-8")  # an edit of the user's is kept


def test_health_is_left_out_of_the_contract_diff(tmp_path: Path) -> None:
    contract: Contract = load_contract(TASK_CRUD)
    health = {"get": {"responses": {"200": {}, "503": {}}}}
    paths = ("/health", "/api/other")
    dump = {"openapi": {"paths": dict.fromkeys(paths, health)},
            "routes": [{"path": p, "methods": ["GET"], "file": "", "line": 1} for p in paths]}
    extra = [f.message for f in compare_openapi(contract, dump, project=tmp_path)
             if f.code == "openapi-extra-endpoint"]
    assert extra == ["the app serves `GET /api/other` but no contract names it"]


def test_pyproject_holds_the_title_as_written() -> None:
    title = 'Tasks """ \\ {{ 7*7 }} \x7f \u2028 "quoted"'
    contract = dataclasses.replace(load_contract(TASK_CRUD), title=title)
    files = render_backend(contract, load_conventions(FOLDERS["backend-builder"]))
    assert tomllib.loads(files["pyproject.toml"])["project"]["description"] == title


def test_the_suite_knows_a_postgres_url_names_the_same_database_as_a_postgresql_one() -> None:
    """The generated suite refuses to empty DATABASE_URL's database, which the app now reads from a
    ``postgres://`` URL too: its guard must see through that spelling."""
    conv = load_conventions(FOLDERS["backend-builder"])
    conftest = render_backend(load_contract(TASK_CRUD), conv)[conv.path("conftest")]
    tree = ast.parse(conftest)
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_database")
    namespace: dict[str, Any] = {}
    exec("from typing import Any\nfrom sqlalchemy import make_url\n"
         + (ast.get_source_segment(conftest, function) or ""), namespace)
    database = namespace["_database"]
    dev = database("postgres://app:secret@db.example.com:5432/app")
    assert dev == database("postgresql+psycopg://other@db.example.com:5432/app")
    assert dev != database("postgresql+psycopg://app:secret@db.example.com:5432/app_test")
