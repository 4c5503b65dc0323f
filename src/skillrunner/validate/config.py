"""What a project configures: ``[tool.skillrunner.validate]``, inline ignores and baselines."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillrunner.errors import UsageError
from skillrunner.findings import Finding
from skillrunner.validate.discover import glob_regex
from skillrunner.validate.profiles import PROFILES
from skillrunner.validate.rules import RULES

__all__ = ["CONFIG_FILE", "ValidateConfig", "baseline_keys", "closest", "inline_ignores", "load_config",
           "split_names", "without_baseline"]

#: The project file read when ``pyproject.toml`` has no ``[tool.skillrunner.validate]``.
CONFIG_FILE = ".skillrunner.toml"
_KEYS = ("allow-fields", "profiles", "ignore", "per-file-ignores", "exclude", "strict")


def split_names(names: Iterable[str]) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``: options and settings take several names at once."""
    return [part.strip() for name in names for part in name.split(",") if part.strip()]


def closest(word: str, choices: Iterable[str], cutoff: float) -> str | None:
    """The choice most like ``word``, for a did-you-mean hint (difflib loads only when one is needed)."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def _path_regex(pattern: str) -> re.Pattern[str]:
    """A glob over project-relative paths that also matches everything below what it matches."""
    glob = pattern.strip().removeprefix("./").strip("/")
    return re.compile(glob_regex(glob).pattern + "(?:/.*)?")


@dataclass(frozen=True)
class ValidateConfig:
    """The validator's settings; ``source`` is the file they came from ("" for none)."""

    allow_fields: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    ignore: frozenset[str] = frozenset()
    per_file_ignores: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    strict: bool = False
    source: str = ""
    root: Path | None = field(default=None, compare=False)

    def ignores(self, finding: Finding) -> bool:
        """True when the configuration silences ``finding`` (its rule, or its rule under a path glob)."""
        if finding.code in self.ignore:
            return True
        return any(finding.code in rules and regex.fullmatch(finding.path)
                   for regex, rules in self.per_file_ignores)

    def excludes(self, path: str) -> bool:
        """True when the absolute ``path`` matches an ``exclude`` glob (relative to the project)."""
        if not self.exclude or self.root is None:
            return False
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        return not rel.startswith("../") and any(regex.fullmatch(rel) for regex in self.exclude)


def _names(value: Any, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{key} must be a list of strings", path=source,
                         hint=f'for example: {key} = ["one", "two"]')
    return tuple(split_names(value))


def _did_you_mean(word: str, choices: Iterable[str], shape: str = "{!r}") -> str:
    close = closest(word, choices, 0.6)
    return f"did you mean {shape.format(close)}? " if close else ""


def _rule_ids(value: Any, key: str, source: str) -> frozenset[str]:
    ids = _names(value, key, source)
    for rule in ids:
        if rule not in RULES:
            close = closest(rule, RULES, 0.6)
            raise UsageError(f"{key}: no rule {rule!r}", path=source,
                             hint=(f"did you mean {close!r}? " if close else "")
                             + "skillrunner validate --rules lists every rule id")
    return frozenset(ids)


def _table(project: Path) -> tuple[Mapping[str, Any], str] | None:
    for name, keys in (("pyproject.toml", ("tool", "skillrunner", "validate")), (CONFIG_FILE, ("validate",))):
        path = project / name
        if not path.is_file():
            continue
        import tomllib

        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read {name}: {exc}", path=name, hint="fix the TOML") from None
        if name == CONFIG_FILE:  # the file is skillrunner's alone: a table it does not know is a typo
            for table in data:
                if table != keys[0]:
                    raise UsageError(f"{name}: unknown table [{table}]", path=name,
                                     hint=_did_you_mean(table, keys[:1], "[{}]") + f"known: [{keys[0]}]")
        for key in keys:
            data = data.get(key) if isinstance(data, dict) else None
        if data is None:
            continue
        where = f"{name} [{'.'.join(keys)}]"
        if not isinstance(data, dict):
            raise UsageError(f"{where} must be a table", path=name, hint=f"write [{'.'.join(keys)}]")
        return data, where
    return None


def load_config(project: Path | None) -> ValidateConfig:
    """The settings in the project's ``pyproject.toml`` (``[tool.skillrunner.validate]``) or else its
    ``.skillrunner.toml`` (``[validate]``); defaults when neither has them. Raises :class:`UsageError`
    on an unknown key, a wrong type, an unknown rule id or profile."""
    found = _table(project) if project is not None else None
    if found is None:
        return ValidateConfig(root=project)
    data, source = found
    for key in data:
        if key not in _KEYS:
            close = closest(key, _KEYS, 0.6)
            raise UsageError(f"{source}: unknown key {key!r}", path=source.split()[0],
                             hint=(f"did you mean {close!r}? " if close else "")
                             + f"known: {', '.join(_KEYS)}")
    file = source.split()[0]
    profiles = _names(data.get("profiles", []), "profiles", file)
    for name in profiles:
        if name.lower() not in PROFILES:
            raise UsageError(f"profiles: unknown profile {name!r}", path=file,
                             hint=f"known profiles: {', '.join(PROFILES)}")
    per_file = data.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise UsageError("per-file-ignores must be a table of glob = [rule ids]", path=file,
                         hint='for example: per-file-ignores = { "skills/legacy/**" = ["mojibake"] }')
    strict = data.get("strict", False)
    if not isinstance(strict, bool):
        raise UsageError("strict must be true or false", path=file, hint="write strict = true")
    return ValidateConfig(
        allow_fields=_names(data.get("allow-fields", []), "allow-fields", file),
        profiles=profiles,
        ignore=_rule_ids(data.get("ignore", []), "ignore", file),
        per_file_ignores=tuple((_path_regex(glob), _rule_ids(rules, f"per-file-ignores {glob!r}", file))
                               for glob, rules in per_file.items()),
        exclude=tuple(_path_regex(glob) for glob in _names(data.get("exclude", []), "exclude", file)),
        strict=strict, source=source, root=project)


_INLINE = re.compile(r"(?:<!--|#)\s*skillrunner:\s*ignore\[([^\]\n]*)\]")


def inline_ignores(text: str, path: str = "") -> tuple[dict[int, frozenset[str]], list[Finding]]:
    """``<!-- skillrunner: ignore[rule-id, ...] -->`` (or ``# skillrunner: ignore[...]`` in YAML):
    line number -> the rules silenced on the line after the comment; and an ``unknown-rule`` error
    (at ``path``) for each name in a comment that is no rule."""
    if "skillrunner:" not in text:
        return {}, []
    out: dict[int, frozenset[str]] = {}
    unknown: list[Finding] = []
    for m in _INLINE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        names = split_names([m.group(1)])
        out[line + 1] = out.get(line + 1, frozenset()) | frozenset(names)
        col = m.start(1) - (text.rfind("\n", 0, m.start()) + 1) + 1
        unknown += [Finding(path, line, col, "error", f"ignore[{name}] names no rule",
                            _did_you_mean(name, RULES) + "skillrunner validate --rules lists every rule id",
                            "unknown-rule") for name in names if name not in RULES]
    return out, unknown


_DIGITS = re.compile(r"\d+")


def _baseline_key(rule: str, file: str, message: str) -> tuple[str, str, str]:
    """Counts in a message ("the body is 571 lines") change with edits; the finding stays the same."""
    return rule, file, _DIGITS.sub("#", message)


def baseline_keys(path: Path) -> Counter[tuple[str, str, str]]:
    """The findings a baseline file holds (``validate --format json`` output), as (rule, file, message)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the baseline: {exc}", path=path,
                         hint="write one with skillrunner validate --write-baseline FILE") from None
    rows = data.get("findings") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise UsageError("the baseline holds no findings list", path=path,
                         hint="write one with skillrunner validate --write-baseline FILE")
    keys: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        if isinstance(row, dict):
            keys[_baseline_key(str(row.get("rule", "")), str(row.get("file", "")),
                               str(row.get("message", "")))] += 1
    return keys


def without_baseline(findings: Sequence[Finding], keys: Counter[tuple[str, str, str]]) -> list[Finding]:
    """``findings`` minus those in the baseline, matched on rule, file and message with its numbers
    left out (not line, so edits keep it matched); a finding that occurs more often than the
    baseline has is new."""
    left = Counter(keys)
    kept: list[Finding] = []
    for finding in sorted(findings):
        key = _baseline_key(finding.code, finding.path, finding.message)
        if left[key] > 0:
            left[key] -= 1
        else:
            kept.append(finding)
    return kept
