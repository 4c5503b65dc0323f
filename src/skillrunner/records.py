"""Prompt History Records (history/prompts/) and Architecture Decision Records (history/adr/)."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from skillrunner.artifacts import FEATURE_PATTERN
from skillrunner.errors import SkillrunnerError, UsageError
from skillrunner.templating import render_template

__all__ = [
    "ADR_STATUSES",
    "FEATURE_STAGES",
    "STAGES",
    "DecisionRecord",
    "GitInfo",
    "PromptRecord",
    "find_adr",
    "git_info",
    "list_adrs",
    "phr_folder",
    "record_date",
    "slugify",
    "supersede_adr",
    "write_adr",
    "write_phr",
]

#: Every PHR stage, as in spec-kit-plus.
STAGES: tuple[str, ...] = ("constitution", "spec", "plan", "tasks", "red", "green", "refactor",
                           "explainer", "misc", "general")
#: Stages recorded under ``history/prompts/<feature>/``; the others have their own folder.
FEATURE_STAGES: tuple[str, ...] = tuple(s for s in STAGES if s not in ("constitution", "general"))
ADR_STATUSES: tuple[str, ...] = ("Proposed", "Accepted", "Superseded", "Rejected")
LINK_KEYS: tuple[str, ...] = ("spec", "ticket", "adr", "pr")

_PHR_NAME = re.compile(r"^(\d{4,})-[a-z0-9-]+\.[a-z]+\.prompt\.md$")
_ADR_NAME = re.compile(r"^(\d{4,})-[a-z0-9-]+\.md$")
_ADR_FIELD = re.compile(r"^- \*\*(?P<key>Status|Date|Feature):\*\* ?(?P<value>.*)$", re.MULTILINE)
_ADR_TITLE = re.compile(r"^# ADR-(?P<id>\d+): (?P<title>.*)$", re.MULTILINE)


# --- shared: dates, slugs, git, ids ------------------------------------------------------------------


def record_date(now: datetime | None = None) -> str:
    """Today's UTC date (``YYYY-MM-DD``), or the date of ``SOURCE_DATE_EPOCH`` when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if now is None and epoch:
        try:
            now = datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp",
                             hint="set it to whole seconds since 1970, e.g. 1700000000") from None
    return (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()


def slugify(title: str, *, limit: int = 60) -> str:
    """``"Use JWT bearer auth!"`` -> ``use-jwt-bearer-auth`` (ASCII, at most ``limit`` characters)."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "record")


@dataclass(frozen=True)
class GitInfo:
    """The branch and user a record is attributed to; real fallbacks, never placeholders."""

    branch: str
    user: str


def _git(project: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER
        return "none"


def git_info(project: Path) -> GitInfo:
    """The current branch (``none`` outside a repository, the short hash when detached) and
    ``user.name`` (the OS user when unset)."""
    branch = _git(project, "symbolic-ref", "--short", "-q", "HEAD") or _git(
        project, "rev-parse", "--short", "HEAD") or "none"
    user = _git(project, "config", "user.name") or _os_user()
    return GitInfo(branch=branch, user=user)


def _clean(text: str) -> str:
    # Lone surrogates (from a non-UTF-8 argv or stdin) cannot be written as UTF-8.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _claim_id(ids: Path, taken: Iterable[int]) -> int:
    """The next free id, claimed atomically: the id file is created with O_EXCL, so two processes
    that see the same maximum cannot both take it; the loser moves on to the next number."""
    ids.mkdir(parents=True, exist_ok=True)
    claimed = {int(p.name) for p in ids.iterdir() if p.name.isdigit()}
    n = max(claimed | set(taken), default=0) + 1
    while True:
        try:
            fd = os.open(ids / f"{n:04d}", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            n += 1
            continue
        os.close(fd)
        return n


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _shown(path: Path, project: Path) -> str:
    return path.relative_to(project).as_posix() if path.is_relative_to(project) else path.as_posix()


# --- prompt history records --------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptRecord:
    """A written PHR: its global id and its path relative to the project."""

    id: int
    stage: str
    title: str
    feature: str
    path: str


def phr_folder(*, stage: str, feature: str | None) -> str:
    """The folder (relative to the project) a record of ``stage`` goes to."""
    if stage not in STAGES:
        raise UsageError(f"unknown PHR stage {stage!r}", hint=f"use one of {', '.join(STAGES)}")
    if stage in ("constitution", "general"):
        return f"history/prompts/{stage}"
    if not feature:
        raise UsageError(f"a {stage} record belongs to a feature",
                         hint="pass --feature <name>, or use --stage general for work outside one")
    if not FEATURE_PATTERN.fullmatch(feature) or feature in ("constitution", "general"):
        raise UsageError(f"feature {feature!r} is not a usable slug",
                         hint="use lower-case letters, digits and single hyphens, e.g. task-crud")
    return f"history/prompts/{feature}"


def _phr_ids(root: Path) -> set[int]:
    if not root.is_dir():
        return set()
    return {int(m[1]) for p in root.rglob("*.prompt.md") if (m := _PHR_NAME.match(p.name))}


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def write_phr(
    *,
    project: Path,
    stage: str,
    title: str,
    feature: str | None = None,
    prompt: str = "",
    response: str = "",
    outcome: str = "",
    evaluation: str = "",
    command: str = "",
    files: Sequence[str] = (),
    tests: Sequence[str] = (),
    labels: Sequence[str] = (),
    links: Mapping[str, str | None] | None = None,
    surface: str = "cli",
    model: str = "none",
    git: GitInfo | None = None,
    now: datetime | None = None,
) -> PromptRecord:
    """Write one PHR to ``history/prompts/<folder>/NNNN-<slug>.<stage>.prompt.md``.

    The id is unique across the whole history, also with many processes writing at once.
    ``prompt`` is kept verbatim; ``git`` defaults to :func:`git_info` of ``project``.
    """
    title = " ".join(_clean(title).split())
    if not title:
        raise UsageError("a PHR needs a title", hint='pass --title "what was asked"')
    folder = phr_folder(stage=stage, feature=feature)
    git = git or git_info(project)
    history = project / "history" / "prompts"
    unknown = sorted(set(links or {}) - set(LINK_KEYS))
    if unknown:
        raise UsageError(f"unknown link key(s): {', '.join(unknown)}", hint=f"use {', '.join(LINK_KEYS)}")
    record_id = _claim_id(history / ".ids", _phr_ids(history))
    path = project / folder / f"{record_id:04d}-{slugify(title)}.{stage}.prompt.md"
    # Without prompt text (a plain CLI run) the command line is what was asked.
    prompt = _clean(prompt).rstrip("\n") or _clean(command) or "none"
    shown_feature = feature if stage not in ("constitution", "general") else (feature or "none")
    context: dict[str, object] = {
        "id": record_id,
        "title": title,
        "stage": stage,
        "date": record_date(now),
        "surface": _clean(surface) or "cli",
        "model": _clean(model) or "none",
        "feature": shown_feature,
        "branch": git.branch,
        "user": git.user,
        "command": _clean(command) or "none",
        "labels": [_clean(label) for label in labels] or [stage],
        "links": {key: (links or {}).get(key) for key in LINK_KEYS},
        "files": [_clean(f) for f in files] or ["none"],
        "tests": [_clean(t) for t in tests] or ["none"],
        "prompt": prompt,
        "fence": _fence(prompt),
        "response": _clean(response).strip() or "No response was captured.",
        "outcome": _clean(outcome).strip() or "No outcome was recorded.",
        "evaluation": _clean(evaluation).strip() or "Not evaluated.",
    }
    text = render_template("workflow/phr.prompt.md.j2", context, project=project)
    _write_new(path, text)
    return PromptRecord(record_id, stage, title, str(shown_feature), _shown(path, project))


# --- architecture decision records -----------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRecord:
    """An ADR as listed: id, title, status line, date, feature, path relative to the project."""

    id: int
    title: str
    status: str
    date: str
    feature: str
    path: str

    @property
    def state(self) -> str:
        """The status word alone: ``Superseded`` for ``Superseded by ADR-0004``."""
        return self.status.split(" ", 1)[0] if self.status else ""


def _adr_dir(project: Path) -> Path:
    return project / "history" / "adr"


def _read_adr(path: Path, project: Path) -> DecisionRecord | None:
    match = _ADR_NAME.match(path.name)
    if not match:
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    head = _ADR_TITLE.search(text)
    fields = {m["key"]: m["value"].strip() for m in _ADR_FIELD.finditer(text)}
    return DecisionRecord(
        id=int(match[1]),
        title=head["title"].strip() if head else path.stem,
        status=fields.get("Status", ""),
        date=fields.get("Date", ""),
        feature=fields.get("Feature", ""),
        path=_shown(path, project),
    )


def list_adrs(*, project: Path) -> list[DecisionRecord]:
    """Every ADR of ``project``, by id."""
    folder = _adr_dir(project)
    if not folder.is_dir():
        return []
    found = (_read_adr(p, project) for p in folder.glob("*.md"))
    return sorted((r for r in found if r is not None), key=lambda r: (r.id, r.path))


def find_adr(*, project: Path, title: str, feature: str | None = None) -> DecisionRecord | None:
    """The newest ADR titled ``title`` (for ``feature`` when given) that is not superseded or rejected."""
    wanted = " ".join(title.split()).casefold()
    for record in reversed(list_adrs(project=project)):
        if record.title.casefold() == wanted and (feature is None or record.feature == feature) \
                and record.state not in ("Superseded", "Rejected"):
            return record
    return None


def write_adr(
    *,
    project: Path,
    title: str,
    feature: str | None = None,
    status: str = "Proposed",
    context: str = "",
    decision: str = "",
    consequences: str = "",
    alternatives: str = "",
    references: Sequence[str] = (),
    now: datetime | None = None,
) -> DecisionRecord:
    """Write ``history/adr/NNNN-<slug>.md`` with the next free id (claimed atomically)."""
    title = " ".join(_clean(title).split())
    if not title:
        raise UsageError("an ADR needs a title", hint='skillrunner adr new "Use PostgreSQL in production"')
    matched = [s for s in ADR_STATUSES if s.casefold() == status.casefold()]
    if not matched:
        raise UsageError(f"unknown ADR status {status!r}", hint=f"use one of {', '.join(ADR_STATUSES)}")
    if feature is not None and not FEATURE_PATTERN.fullmatch(feature):
        raise UsageError(f"feature {feature!r} is not a slug", hint="e.g. --feature task-crud")
    folder = _adr_dir(project)
    taken = {r.id for r in list_adrs(project=project)}
    record_id = _claim_id(folder / ".ids", taken)
    path = folder / f"{record_id:04d}-{slugify(title)}.md"
    missing = "[NEEDS CLARIFICATION: {}]"
    date = record_date(now)
    body: dict[str, object] = {
        "id": record_id,
        "title": title,
        "status": matched[0],
        "date": date,
        "feature": feature or "none",
        "context": _clean(context).strip() or missing.format("what forces this decision?"),
        "decision": _clean(decision).strip() or missing.format("what was decided?"),
        "consequences": _clean(consequences).strip() or missing.format("what gets easier, what harder?"),
        "alternatives": _clean(alternatives).strip() or missing.format("what else was considered, and why?"),
        "references": [_clean(r) for r in references],
    }
    _write_new(path, render_template("workflow/adr.md.j2", body, project=project))
    return DecisionRecord(record_id, title, matched[0], date, feature or "none", _shown(path, project))


def _adr_path(project: Path, record_id: int) -> Path:
    for record in list_adrs(project=project):
        if record.id == record_id:
            return project / record.path
    raise SkillrunnerError(f"no ADR {record_id:04d} in history/adr/",
                           hint="skillrunner adr list shows the ids")


def _add_reference(text: str, note: str) -> str:
    """``text`` with ``- note`` in its References section (created when missing), once."""
    heading = "\n## References\n"
    if heading not in text:
        return text.rstrip("\n") + f"\n{heading}\n- {note}\n"
    head, rest = text.split(heading, 1)
    nxt = rest.find("\n## ")
    block, tail = (rest, "") if nxt < 0 else (rest[:nxt + 1], rest[nxt + 1:])
    items = [line for line in block.splitlines() if line.strip() and line.strip() != "- none"]
    if f"- {note}" not in items:
        items.append(f"- {note}")
    return f"{head}{heading}\n" + "".join(f"{line}\n" for line in items) + ("\n" + tail if tail else "")


def supersede_adr(*, project: Path, old: int, new: int) -> tuple[DecisionRecord, DecisionRecord]:
    """Mark ADR ``old`` ``Superseded by ADR-<new>`` and reference it from ``new``."""
    if old == new:
        raise UsageError("an ADR cannot supersede itself", hint="skillrunner adr supersede 3 --by 7")
    old_path, new_path = _adr_path(project, old), _adr_path(project, new)
    new_text = new_path.read_text(encoding="utf-8")
    link = f"[ADR-{old:04d}]({old_path.name})"
    old_text = old_path.read_text(encoding="utf-8")
    status = f"Superseded by [ADR-{new:04d}]({new_path.name})"
    replaced, count = re.subn(r"^- \*\*Status:\*\* .*$", lambda _: f"- **Status:** {status}", old_text,
                              count=1, flags=re.MULTILINE)
    if not count:
        raise SkillrunnerError("this ADR has no status line", path=old_path, line=1, col=1,
                               hint="add a line '- **Status:** Accepted' under the title")
    old_path.write_text(replaced, encoding="utf-8")
    new_path.write_text(_add_reference(new_text, f"Supersedes {link}"), encoding="utf-8")
    old_record, new_record = _read_adr(old_path, project), _read_adr(new_path, project)
    assert old_record is not None and new_record is not None
    return old_record, new_record
