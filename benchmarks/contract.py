"""Benchmark: reading and checking a 50-resource contract, against what a user would otherwise run.

Run from the repository with the project's venv::

    python benchmarks/contract.py              # 50 resources, 30 repeats
    python benchmarks/contract.py --resources 200 --repeats 10

The contract is made in memory: 50 resources of 8 fields (every kind of type) and 8 endpoints,
every other one nested under the one before. Printed are medians (and the fastest and slowest
run) of, side by side:

- ``parse_contract``: skillrunner's whole job: frontmatter, markdown tokens, model, every check;
- ``markdown-it parse_markdown``: the shared parser's full token stream, nothing built from it
  (what any token-based reader of the same file pays first; ours skips its inline pass, which it never reads);
- ``PyYAML safe_load``: loading the same information written as one YAML document, what a
  contract kept in YAML would cost just to load, with no checks (the C loader when PyYAML has it);
- ``mistune AST`` when mistune is installed (it is not a project dependency).

The machine is shared and noisy: read the ratios more than the absolute figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import yaml

from skillrunner.contract import parse_contract
from skillrunner.markdown import parse_markdown

FIELDS = [
    ("title", "string", "yes", "", "min_length=1, max_length=200", "Title"),
    ("notes", "text", "no", "", "max_length=5000", "Notes"),
    ("state", "enum(draft, live, gone)", "no", "draft", "index", "State"),
    ("amount", "decimal(10, 2)", "no", "0.00", "ge=0", "Amount"),
    ("rank", "integer", "no", "1", "gt=0, lt=1000", "Rank"),
    ("active", "boolean", "no", "true", "index", "Active"),
    ("due_on", "date", "no", "", "", "Due"),
    ("labels", "list[string]", "no", "[]", "max_items=10", "Labels"),
]


def make_contract(count: int) -> tuple[str, dict[str, object]]:
    """A contract of ``count`` resources, as markdown and as the equivalent YAML-ready data."""
    parts = ["---\nfeature: bench\ntitle: Benchmark API\nversion: 1.0.0\nauth: jwt\n---\n\n# Benchmark API\n"]
    data: dict[str, object] = {"feature": "bench", "title": "Benchmark API", "version": "1.0.0",
                               "auth": "jwt", "resources": []}
    for i in range(count):
        name, table = f"Item{i}", f"items_{i}"
        nested = i % 2 == 1
        parent = f"Item{i - 1}" if nested else None
        base = f"/api/items-{i - 1}/{{item{i - 1}_id}}/items-{i}" if nested else f"/api/items-{i}"
        parts.append(f"\n## Resource: {name}\n\n- table: {table}\n- id: int\n- owner: user\n")
        if parent:
            parts.append(f"- parent: {parent} (on delete: cascade)\n")
        parts.append("\n| Field | Type | Required | Default | Constraints | Description |\n"
                     "|---|---|---|---|---|---|\n")
        parts += [f"| {' | '.join(row)} |\n" for row in FIELDS]
        endpoints = [
            ("POST", base, "create", f"201 {name}"),
            ("GET", base, "list(filter: state, active; sort: title, rank, created_at)", f"200 Page[{name}]"),
            ("GET", f"{base}/search", "search(title, notes)", f"200 Page[{name}]"),
            ("GET", f"{base}/stats", "stats(state)", "200 Stats"),
            ("POST", f"{base}/archive", "bulk_update(state=gone)", "200 BulkResult"),
            ("GET", f"{base}/{{id}}", "get", f"200 {name}"),
            ("PATCH", f"{base}/{{id}}", "update", f"200 {name}"),
            ("DELETE", f"{base}/{{id}}", "delete", "204"),
        ]
        parts.append("\n### Endpoints\n\n| Method | Path | Operation | Success | Errors |\n"
                     "|---|---|---|---|---|\n")
        parts += [f"| {m} | {p} | {o} | {s} | 401, 404, 422 |\n" for m, p, o, s in endpoints]
        resources = data["resources"]
        assert isinstance(resources, list)
        resources.append({
            "name": name, "table": table, "id": "int", "owner": "user",
            "parent": {"resource": parent, "on_delete": "cascade"} if parent else None,
            "fields": [dict(zip(("name", "type", "required", "default", "constraints", "description"),
                                row, strict=True)) for row in FIELDS],
            "endpoints": [dict(zip(("method", "path", "operation", "success"), e, strict=True))
                          for e in endpoints],
        })
    return "".join(parts), data


def measure(func: Callable[[], object], repeats: int) -> list[float]:
    func()  # warm caches (the markdown-it factory, imports)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)

    text, data = make_contract(args.resources)
    contract, findings = parse_contract(text, "specs/api/bench.md")
    if contract is None or findings:
        print("the generated contract does not check clean:", *findings, sep="\n", file=sys.stderr)
        return 1
    yaml_text = yaml.safe_dump(data, sort_keys=False)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    rows: list[tuple[str, list[float]]] = [
        ("parse_contract (tokens, model, every check)",
         measure(lambda: parse_contract(text, "specs/api/bench.md"), args.repeats)),
        ("markdown-it parse_markdown: tokens, no model", measure(lambda: parse_markdown(text), args.repeats)),
        (f"PyYAML load of the same data ({loader.__name__})",  # a safe loader, C or pure Python
         measure(lambda: yaml.load(yaml_text, Loader=loader), args.repeats)),
    ]
    try:
        import mistune  # type: ignore[import-not-found]
    except ImportError:
        mistune = None
    if mistune is not None:
        md = mistune.create_markdown(renderer=None, plugins=["table"])
        rows.append(("mistune AST", measure(lambda: md(text), args.repeats)))

    fields = sum(len(r.fields) for r in contract.resources)
    endpoints = sum(len(r.endpoints) for r in contract.resources)
    print(f"contract: {args.resources} resources, {fields} fields, {endpoints} endpoints, "
          f"{len(text.splitlines())} lines, {len(text) // 1024} KiB; "
          f"YAML equivalent {len(yaml_text) // 1024} KiB")
    print(f"Python {sys.version.split()[0]}, {args.repeats} repeats; milliseconds")
    print(f"{'':48} {'median':>8} {'min':>8} {'max':>8}")
    ours = statistics.median(rows[0][1])
    for label, times in rows:
        median = statistics.median(times)
        ratio = "" if label == rows[0][0] else f"   ours / this = {ours / median:.2f}"
        print(f"{label:48} {median:8.1f} {min(times):8.1f} {max(times):8.1f}{ratio}")
    verdict = "under" if ours < 100 else "OVER"
    print(f"\nparse + check median: {ours:.1f} ms ({verdict} the 100 ms target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
