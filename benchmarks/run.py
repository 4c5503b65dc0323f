"""Benchmark: the whole ``run /sp.backend-engineer task-crud`` in-process, against what else a user could do.

Run from the repository with the project's venv::

    python benchmarks/run.py               # 7 repeats
    python benchmarks/run.py --repeats 15 --skill backend-builder

Each repeat starts in a fresh empty folder (the example contract is copied in, as for a new user)
and runs specify, plan, tasks and implement, writing spec, plan, tasks, the backend and four PHRs.
Printed: median, min and max of wall time and of this process's CPU time (``time.process_time``:
the runner's own time; the ``git`` subprocesses that read branch and user are in wall time only).
The first in-process run (cold: imports and template compilation) is shown on its own line.

Side by side, honestly labelled:

- ``cli subprocess``: the same run as a user types it, ``python -m skillrunner run ...`` in a new
  interpreter (start-up and imports included), wall time.
- ``render only``: ``render_backend`` on the parsed contract: the code generation alone, with no
  spec, plan, tasks, records or writes; what the pipeline adds is the difference.
- ``copy a template``: ``shutil.copytree`` of ``benchmarks/seed_app`` (a hand-written app): what a
  template-repository workflow costs, with no contract, no checks and nothing tailored.
  cookiecutter and copier are not installed here, so they are not measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_S = 1.0


def _measure(step: Callable[[Path], object], repeats: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="skillrunner-bench-") as tmp:
            project = Path(tmp)
            w0, c0 = time.perf_counter(), time.process_time()
            step(project)
            cpus.append(time.process_time() - c0)
            walls.append(time.perf_counter() - w0)
    return walls, cpus


def _row(name: str, walls: list[float], cpus: list[float] | None, note: str) -> str:
    def ms(xs: list[float]) -> str:
        return f"{statistics.median(xs) * 1000:8.1f} ({min(xs) * 1000:7.1f}..{max(xs) * 1000:7.1f})"

    cpu = ms(cpus) if cpus else f"{'-':>8} {'':17}"
    return f"{name:<22} {ms(walls)}  {cpu}  {note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="runs per measurement (default 7)")
    parser.add_argument("--skill", default="backend-engineer",
                        help="the skill to run (default backend-engineer)")
    args = parser.parse_args(argv)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")

    # imported after argparse, so --help needs nothing installed

    from skillrunner.contract import load_contract
    from skillrunner.pipeline import ensure_contract, run
    from skillrunner.render import render_backend
    from skillrunner.skills import resolve_skill

    def in_process(project: Path) -> None:
        result = run(project=project, command=f"/sp.{args.skill}", feature="task-crud")
        if not result.ok:
            raise SystemExit(f"the run failed: {result.error}")

    # The CLI reads .pyc files, as from an installed wheel (pip compiles them at install time).
    cli_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    sources = Path(__file__).resolve().parents[1] / "src"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(sources)], check=False, capture_output=True,
                   env=cli_env)

    def cli(project: Path) -> None:
        subprocess.run([sys.executable, "-m", "skillrunner", "run", f"/sp.{args.skill}", "task-crud"],
                       cwd=project, check=True, capture_output=True, env=cli_env)

    def render_only(project: Path) -> None:
        path, _ = ensure_contract(project=project, feature="task-crud")
        choice = resolve_skill(args.skill, project=project)
        render_backend(load_contract(path, project=project), choice.conventions, project=project)

    def copy_template(project: Path) -> None:
        shutil.copytree(HERE / "seed_app", project / "backend")

    cold_w, cold_c = _measure(in_process, 1)
    walls, cpus = _measure(in_process, args.repeats)
    rows = [
        _row("run, in-process", walls, cpus, "specify+plan+tasks+implement, 4 PHRs"),
        _row("run, in-process cold", cold_w, cold_c, "first run: imports, template compilation"),
        _row("cli subprocess", *_measure_wall(cli, args.repeats),
             "new interpreter per run (what a user types)"),
        _row("render only", *_measure(render_only, args.repeats),
             "render_backend: code only, nothing written"),
        _row("copy a template", *_measure(copy_template, args.repeats), "copytree of seed_app: no contract"),
    ]
    print(f"task-crud with {args.skill}, {args.repeats} repeats; milliseconds, median (min..max)")
    print(f"{'':<22} {'wall':>8} {'':17}  {'cpu (this process)':>8}")
    for line in rows:
        print(line)
    median = statistics.median(cpus)
    verdict = "met" if median < TARGET_S else "MISSED *"
    print(f"target: the in-process run under {TARGET_S:.0f} s of the runner's own (CPU) time: "
          f"{median * 1000:.0f} ms, {verdict}")
    return 0 if median < TARGET_S else 1


def _measure_wall(step: Callable[[Path], object], repeats: int) -> tuple[list[float], None]:
    return _measure(step, repeats)[0], None


if __name__ == "__main__":
    sys.exit(main())
