"""What a run found and checked: the summary line, the JSON summary, GitHub's job summary, the rules."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from skillrunner.findings import Finding, has_errors
from skillrunner.validate.rules import RULES

__all__ = ["STEP_SUMMARY_ROWS", "Report", "rules_json", "rules_text"]

#: How many findings GitHub's job summary lists one by one (the table of rules counts them all).
STEP_SUMMARY_ROWS = 50


@dataclass(frozen=True)
class Report:
    """A validation run: its ``findings`` (after ignores and any baseline), how many skills were checked
    under each path (``roots``), where it looked, and what configuration, inline comments and the
    baseline silenced."""

    findings: list[Finding]
    skills: int
    roots: dict[str, int]
    looked_in: tuple[str, ...]
    ignored: int
    config: str
    strict: bool
    baselined: int = 0

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return len(self.findings) - self.errors

    def failed(self, *, strict: bool = False) -> bool:
        """True when the run fails: on errors, or on warnings too when strict (here or configured)."""
        return has_errors(self.findings, strict=strict or self.strict)

    def without(self, findings: Sequence[Finding]) -> Report:
        """The same run keeping only ``findings`` (a baseline dropped the others)."""
        return replace(self, findings=list(findings), baselined=self.baselined + len(self.findings)
                       - len(findings))

    def where(self) -> str:
        """``skills/ (5), .claude/skills (1)``; or the folders looked in, when nothing was found."""
        if self.roots:
            return ", ".join(f"{_folder(root)} ({count})" for root, count in self.roots.items())
        return ", ".join(self.looked_in) or "nowhere"

    def summary_line(self, *, strict: bool = False) -> str:
        """One line for people: how many skills, where, the verdict, and what was silenced."""
        noun = "skill" if self.skills == 1 else "skills"
        verdict = "OK" if not self.findings else f"{self.errors} error(s), {self.warnings} warning(s)"
        if self.findings and not self.failed(strict=strict):
            verdict += " (warnings do not fail without --strict)"
        more = [f"{self.ignored} ignored by configuration or comments"] if self.ignored else []
        more += [f"{self.baselined} in the baseline"] if self.baselined else []
        where = "looked in" if not self.skills else "in"
        return f"validated {self.skills} {noun} {where} {self.where()}: {verdict}" + \
            (f"; {', '.join(more)}" if more else "")

    def summary(self, *, strict: bool = False) -> dict[str, Any]:
        """The JSON summary: counts, where the skills were, the configuration file, pass or fail."""
        return {"skills": self.skills, "roots": dict(self.roots), "errors": self.errors,
                "warnings": self.warnings, "ignored": self.ignored, "baselined": self.baselined,
                "config": self.config or None, "strict": strict or self.strict,
                "ok": not self.failed(strict=strict)}

    def to_json(self, *, strict: bool = False) -> str:
        """``{"summary": {...}, "findings": [...]}``; each finding has file, line, column, severity,
        rule, message and hint."""
        data = {"summary": self.summary(strict=strict),
                "findings": [f.to_dict() for f in sorted(self.findings)]}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def step_summary(self, *, strict: bool = False) -> str:
        """Markdown for ``$GITHUB_STEP_SUMMARY``: the verdict, a count per rule, the first findings."""
        lines = [f"### skillrunner validate: {'passed' if not self.failed(strict=strict) else 'failed'}", "",
                 self.summary_line(strict=strict), ""]
        if not self.findings:
            return "\n".join(lines) + "\n"
        counts = Counter((f.code, f.severity) for f in self.findings)
        lines += ["| rule | severity | findings | meaning |", "|---|---|---:|---|"]
        for (code, severity), count in sorted(counts.items(), key=lambda kv: (kv[0][1] != "error", -kv[1],
                                                                                kv[0][0])):
            meaning = RULES[code].meaning if code in RULES else ""
            lines.append(f"| `{code}` | {severity} | {count} | {_cell(meaning)} |")
        ordered = sorted(self.findings, key=lambda f: (f.severity != "error", f))
        lines += ["", "| file | severity | rule | message |", "|---|---|---|---|"]
        for f in ordered[:STEP_SUMMARY_ROWS]:
            lines.append(f"| `{f.path}:{f.line}:{f.col}` | {f.severity} | `{f.code}` | {_cell(f.message)} |")
        if len(ordered) > STEP_SUMMARY_ROWS:
            lines += ["", f"... and {len(ordered) - STEP_SUMMARY_ROWS} more: run skillrunner validate "
                      "locally, or with --format json, for every one."]
        return "\n".join(lines) + "\n"


def _folder(root: str) -> str:
    return root if root.endswith(("/", ".md")) or root == "." else root + "/"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_text() -> str:
    """Every rule id, its severity and meaning, one per line (``validate --rules``)."""
    width = max(len(r.id) for r in RULES.values())
    return "".join(f"{r.id:<{width}}  {r.severity:<16}  {r.meaning}\n" for r in RULES.values())


def rules_json() -> str:
    """The rules as a JSON list of {rule, severity, group, meaning}."""
    return json.dumps([{"rule": r.id, "severity": r.severity, "group": r.group, "meaning": r.meaning}
                       for r in RULES.values()], indent=2, ensure_ascii=False) + "\n"
