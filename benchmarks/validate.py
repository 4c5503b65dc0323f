"""Benchmark: validating 1,000 generated skills with skillrunner and with the reference skills-ref.

Run from the repository with the project's venv::

    python benchmarks/validate.py                 # 1,000 skills, 5 repeats, 9 cold starts
    python benchmarks/validate.py --skills 200 --repeats 9 --starts 15

Each generated skill is a folder like the shipped ones: frontmatter (name, a folded
description with "Use when", license, compatibility, metadata), a body of about 120 lines
(headings, prose, code fences, a table, relative links) and ``references/guide.md``. One
skill in ten carries a problem both validators refuse (an unknown key, a bad name, a
missing description), so neither runs only its happy path.

Both run in this process, on the same folders, interleaved (who goes first alternates):

- ``skillrunner validate_skills``: one call over the folder of skills, every check it has
  (specification, YAML, links, secrets, hidden Unicode, mojibake, duplicates);
- ``skills_ref.validate``: the reference's library call, once per folder (its command,
  ``agentskills validate``, takes one folder per process), specification rules only.

Then the cold start of each command line, in a new process every time (what a pre-commit
hook or a CI step pays): ``skillrunner validate --help`` against ``agentskills validate --help``,
and one skill checked, ``skillrunner validate SKILL`` against ``agentskills validate SKILL``
(after an untimed warm-up run of each, with bytecode caching on, as an installed package has it).

Printed: median, fastest and slowest of the repeats in milliseconds, per skill, and the
ratio of the medians. The machine may be shared and noisy: read the ratio more than the figures.
The exit status is 1 when skillrunner is slower on the 1,000 skills.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import skills_ref  # type: ignore[import-untyped]

from skillrunner.validate import validate_skills

_SECTION = """
## Step {i}: {topic}

Read the contract, then write the {topic} for each resource. Keep one file per resource and
name it after the resource in snake_case; see [the guide](references/guide.md#step-{i}) for
the full example and [the checklist]({{baseDir}}/references/guide.md) before you finish.[^{i}]

[^{i}]: Step {i} of the skill; references/guide.md has the details.

```python
from sqlmodel import Field, SQLModel


class {cls}Base(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    done: bool = False
```

| Field | Type | Rule |
|---|---|---|
| title | str | 1-200 characters |
| done | bool | defaults to false |

- Validate at the edge; answer 422 with the field's name.
- Never trust the client's user id: take it from the token.
"""


def make_skill(root: Path, index: int) -> None:
    """Write skill ``index`` under ``root``; every tenth one has a problem."""
    name = f"bench-skill-{index:04d}"
    problem = index % 10 == 9
    folder = root / name
    (folder / "references").mkdir(parents=True)
    front = [
        f"name: {name if not problem or index % 30 != 9 else name.upper()}",
        "description: >-",
        f"  Builds part {index} of a FastAPI + SQLModel backend: models, schemas, routers and tests,",
        "  protected by JWT. Use when adding an owner-scoped resource or fixing a slice.",
        "license: Apache-2.0",
        "compatibility: Python 3.11+, FastAPI, SQLModel 0.0.5x",
        "metadata:",
        f'  command: "/sp.{name}"',
        '  version: "1.0"',
    ]
    if problem and index % 30 == 19:
        front.append("version: 2")
    if problem and index % 30 == 29:
        front = [line for line in front if not line.startswith(("description", "  Builds", "  protected"))]
    topics = ("model", "schema", "router", "service", "tests", "migration", "errors", "auth")
    body = f"# Bench skill {index}\n\nOne resource at a time, tests first.\n" + "".join(
        _SECTION.format(i=i + 1, topic=topic, cls=topic.title()) for i, topic in enumerate(topics))
    (folder / "SKILL.md").write_text("---\n" + "\n".join(front) + "\n---\n\n" + body, encoding="utf-8")
    (folder / "references" / "guide.md").write_text(
        "# Guide\n\n" + "".join(f"## Step {i}\n\nDetails for step {i}.\n\n" for i in range(1, 9)),
        encoding="utf-8")


def measure(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


def _table(runs: dict[str, list[float]], per: int = 0) -> dict[str, float]:
    print(f"{'':36} {'median':>9} {'min':>9} {'max':>9}" + (f" {'per skill':>10}" if per else ""))
    medians = {}
    for label, times in runs.items():
        medians[label] = median = statistics.median(times)
        print(f"{label:36} {median:9.1f} {min(times):9.1f} {max(times):9.1f}"
              + (f" {median / per:10.3f}" if per else ""))
    return medians


def cold_starts(skill: Path, starts: int) -> None:
    """Each command line in a new process, ``starts`` times, interleaved; medians and ratios printed."""
    bin_dir = Path(sys.executable).parent
    ours, theirs = str(bin_dir / "skillrunner"), str(bin_dir / "agentskills")
    pairs = {
        "--help": ([ours, "validate", "--help"], [theirs, "validate", "--help"]),
        "one skill": ([ours, "validate", str(skill)], [theirs, "validate", str(skill)]),
    }
    # Bytecode is written (a warm-up run, untimed), so both start as an installed package does.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(command: list[str]) -> object:
        return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                              env=env)

    for mine, ref in pairs.values():
        run(mine)
        run(ref)
    runs: dict[str, list[float]] = {}
    for case, (mine, ref) in pairs.items():
        for label in (f"skillrunner validate {case}", f"agentskills validate {case}"):
            runs[label] = []
        for start in range(starts):
            order = [(f"skillrunner validate {case}", mine), (f"agentskills validate {case}", ref)]
            for label, command in (order if start % 2 == 0 else order[::-1]):
                runs[label].append(measure(lambda c=command: run(c)))  # type: ignore[misc]
    print(f"\ncold start, a new process each time, {starts} starts; milliseconds")
    medians = _table(runs)
    for case in pairs:
        mine_ms, ref_ms = medians[f"skillrunner validate {case}"], medians[f"agentskills validate {case}"]
        print(f"{case}: skillrunner takes {mine_ms / ref_ms:.2f}x the reference's time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skills", type=int, default=1000, help="how many skills to generate")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each validator")
    parser.add_argument("--starts", type=int, default=9, help="cold starts of each command line")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "skills"
        for i in range(args.skills):
            make_skill(root, i)
        folders = sorted(p for p in root.iterdir())

        refused_ours = {f.path.split("/")[-2] for f in validate_skills([root]) if f.severity == "error"}
        refused_ref = {p.name for p in folders if skills_ref.validate(p)}
        if refused_ours != refused_ref:
            print("the validators disagree on the generated skills:", sorted(refused_ours ^ refused_ref),
                  file=sys.stderr)
            return 1

        def ours() -> object:
            return validate_skills([root])

        def reference() -> object:
            return [skills_ref.validate(p) for p in folders]

        runs: dict[str, list[float]] = {"skillrunner validate_skills": [], "skills-ref validate": []}
        pair = list(runs.items())
        funcs = {"skillrunner validate_skills": ours, "skills-ref validate": reference}
        for repeat in range(args.repeats):
            for label, times in (pair if repeat % 2 == 0 else pair[::-1]):
                times.append(measure(funcs[label]))

        print(f"{args.skills} generated skills ({len(refused_ref)} refused by both), "
              f"Python {sys.version.split()[0]}, {args.repeats} repeats; milliseconds")
        medians = _table(runs, args.skills)
        ours_ms, ref_ms = medians["skillrunner validate_skills"], medians["skills-ref validate"]
        faster = "faster" if ours_ms < ref_ms else "SLOWER"
        print(f"\nskillrunner is {ref_ms / ours_ms:.1f}x the reference's speed ({faster}), doing more checks")
        if args.starts:
            cold_starts(folders[0], args.starts)
    return 0 if ours_ms < ref_ms else 1


if __name__ == "__main__":
    raise SystemExit(main())
