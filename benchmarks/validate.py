"""Benchmark: validating 1,000 generated skills with skillrunner and with the reference skills-ref.

Run from the repository with the project's venv::

    python benchmarks/validate.py                 # 1,000 skills, 5 repeats
    python benchmarks/validate.py --skills 200 --repeats 9

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

Printed: median, fastest and slowest of the repeats in milliseconds, per skill, and the
ratio of the medians. The machine may be shared and noisy: read the ratio more than the figures.
"""

from __future__ import annotations

import argparse
import statistics
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
the full example and [the checklist](references/guide.md) before you finish.

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skills", type=int, default=1000, help="how many skills to generate")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each validator")
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
    print(f"{'':30} {'median':>9} {'min':>9} {'max':>9} {'per skill':>10}")
    medians = {}
    for label, times in runs.items():
        medians[label] = median = statistics.median(times)
        print(f"{label:30} {median:9.1f} {min(times):9.1f} {max(times):9.1f} {median / args.skills:10.3f}")
    ours_ms, ref_ms = medians["skillrunner validate_skills"], medians["skills-ref validate"]
    faster = "faster" if ours_ms < ref_ms else "SLOWER"
    print(f"\nskillrunner is {ref_ms / ours_ms:.1f}x the reference's speed ({faster}), doing more checks")
    return 0 if ours_ms < ref_ms else 1


if __name__ == "__main__":
    raise SystemExit(main())
