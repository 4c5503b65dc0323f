"""The user's action modules: written once from their stubs, new stubs appended, never rewritten."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skillrunner.contract import Contract
from skillrunner.errors import RenderError

__all__ = ["ActionModules", "action_modules", "read_actions", "stray_functions"]


@dataclass(frozen=True)
class ActionModules:
    """What happens to the action modules."""

    files: dict[str, str]  # path under the backend root -> its new text: created, or with stubs appended
    added: tuple[str, ...]  # "path: name" of every stub written
    orphaned: tuple[str, ...]  # "path:line: name": functions whose action the contract dropped


def _bound(tree: ast.Module) -> set[str]:
    """Names a module binds at its top level (functions, classes, imports, assignments)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).partition(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _imports_for(stub: ast.Module, used: set[str]) -> list[str]:
    """The stub's import lines that bind a name of ``used``, one name per line."""
    out: list[str] = []
    for node in stub.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            out += [f"from {node.module} import {a.name}" + (f" as {a.asname}" if a.asname else "")
                    for a in node.names if (a.asname or a.name) in used]
        elif isinstance(node, ast.Import):
            out += [f"import {a.name}" + (f" as {a.asname}" if a.asname else "")
                    for a in node.names if (a.asname or a.name).partition(".")[0] in used]
    return out


def _append(path: str, text: str, stub_text: str) -> tuple[str, list[str]]:
    """``text`` with the stub's functions it lacks appended (and the imports they need added after
    its last import); the names appended."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise RenderError(f"{path} does not parse as Python: {exc.msg}", path=path, line=exc.lineno,
                          col=exc.offset, hint="fix it and rerun: new action stubs are appended to it"
                          ) from None
    stub = ast.parse(stub_text)
    bound = _bound(tree)
    missing = [(name, node) for name, node in _functions(stub).items() if name not in bound]
    if not missing:
        return text, []
    # The file's own line ends (CRLF stays CRLF), and no line split anywhere else: its bytes stay.
    eol = "\r\n" if "\r\n" in text else "\n"
    lines = stub_text.split("\n")
    pieces = [eol.join(lines[node.lineno - 1:node.end_lineno]) for _, node in missing]
    used = {n.id for _, node in missing for n in ast.walk(node) if isinstance(n, ast.Name)} - bound
    imports = _imports_for(stub, used)
    out = text.split(eol)
    if imports:
        ends = [n.end_lineno or n.lineno for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        last = max(ends, default=None)
        if last is None:  # no import yet: after the docstring, if any
            first = tree.body[0] if tree.body else None
            docstring = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                         and isinstance(first.value.value, str))
            last = (first.end_lineno or 0) if first is not None and docstring else 0
            imports = ["", *imports] if last else [*imports, ""]
        out[last:last] = imports
    body = eol.join(out).rstrip("\r\n")
    appended = (eol * 3).join(pieces)
    return (f"{body}{eol * 3}{appended}{eol}" if body else f"{appended}{eol}"), [name for name, _ in missing]


def stray_functions(functions: Mapping[str, tuple[int, bool]], actions: set[str]) -> list[tuple[str, int]]:
    """(name, line) of the public functions of an action module (``read_actions``) that are not
    among ``actions``: an action the contract dropped, or a helper not named ``_like_this``."""
    return [(name, line) for name, (line, _) in functions.items()
            if not name.startswith("_") and name not in actions]


def action_modules(stubs: Mapping[str, str], *, contract: Contract, root: Path, project: Path,
                   modules: Mapping[str, str]) -> ActionModules:
    """The action modules to write. ``stubs``: path -> the module as first written (every action);
    ``modules``: resource name -> its module's path. A module that exists gets only the stubs it
    lacks, at its end; nothing in it changes. Public functions that are no action of the contract
    (an action it dropped) are reported, never removed."""
    files: dict[str, str] = {}
    added: list[str] = []
    orphaned: list[str] = []
    def shown(path: str) -> str:  # as the user sees it: relative to the project
        return (root / path).relative_to(project).as_posix()

    for path, stub_text in sorted(stubs.items()):
        target = root / path
        try:
            text = target.read_bytes().decode("utf-8")  # as it is: no newline translation
        except FileNotFoundError:
            files[path] = stub_text
            added += [f"{shown(path)}: {name}" for name in _functions(ast.parse(stub_text))]
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise RenderError(f"cannot read {shown(path)}: {exc}", path=shown(path),
                              hint="make it a readable UTF-8 file") from None
        new, names = _append(shown(path), text, stub_text)
        if names:
            files[path] = new
            added += [f"{shown(path)}: {name}" for name in names]
    current = {res.name: {ep.operation.name for ep in res.endpoints if ep.operation.kind == "action"}
               for res in contract.resources}
    for res_name, module in sorted(modules.items()):
        try:
            functions = read_actions(root / module)
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue
        orphaned += [f"{shown(module)}:{line}: {name}"
                     for name, line in stray_functions(functions, current.get(res_name, set()))]
    return ActionModules(files, tuple(added), tuple(orphaned))


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the function is still what the stub was: a docstring and ``raise ActionNotWritten``."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or not isinstance(body[0].exc, ast.Call):
        return False
    func = body[0].exc.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name == "ActionNotWritten"


def read_actions(path: Path) -> dict[str, tuple[int, bool]]:
    """The top-level functions of an action module: name -> (line of its ``def``, still a stub).

    Raises OSError, UnicodeDecodeError or SyntaxError when the module cannot be read."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {name: (node.lineno, _is_stub(node)) for name, node in _functions(tree).items()}
