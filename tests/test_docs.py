"""The documentation that ships with skillrunner: the contract guide, behaviour.md, and their references."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from skillrunner.contract import (
    AUTH_KINDS,
    CONSTRAINT_TYPES,
    FIELD_KINDS,
    FRONTMATTER_KEYS,
    OPERATION_KINDS,
    SETTINGS,
    parse_contract,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDE = DOCS / "contract-guide.md"
BEHAVIOUR = DOCS / "behaviour.md"
#: The guide must fit an agent's context budget: 6,000 tokens at four characters a token.
GUIDE_LIMIT = 24_000


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def guide_example() -> str:
    """The guide's complete example: its first ```markdown block that starts with frontmatter."""
    for tok in MarkdownIt("commonmark").parse(guide_text()):
        if tok.type == "fence" and tok.info.strip() == "markdown" and tok.content.startswith("---\n"):
            return tok.content
    raise AssertionError("docs/contract-guide.md has no ```markdown block starting with ---")


def test_guide_fits_the_budget() -> None:
    size = len(guide_text())
    assert size <= GUIDE_LIMIT, f"docs/contract-guide.md has {size} characters, the limit is {GUIDE_LIMIT}"


@pytest.mark.parametrize(
    "word",
    sorted({*FIELD_KINDS, *CONSTRAINT_TYPES, *OPERATION_KINDS, *SETTINGS, *FRONTMATTER_KEYS, *AUTH_KINDS}),
)
def test_guide_names_the_vocabulary(word: str) -> None:
    assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", guide_text()), \
        f"docs/contract-guide.md never names {word!r}"


def example_path(example: str) -> str:
    """``specs/api/<feature>.md``, the feature read from the example's frontmatter."""
    front = yaml.safe_load(example.split("---\n")[1])
    return f"specs/api/{front['feature']}.md"


def test_guide_example_checks_clean() -> None:
    example = guide_example()
    contract, findings = parse_contract(example, example_path(example))
    assert findings == [], [f"{f.line}:{f.col}: {f.message}" for f in findings]
    assert contract is not None


def test_guide_example_shows_the_format() -> None:
    example = guide_example()
    contract, _ = parse_contract(example, example_path(example))
    assert contract is not None
    resources = contract.resources
    assert {ep.operation.kind for res in resources for ep in res.endpoints} == set(OPERATION_KINDS)
    assert {f.type.kind for res in resources for f in res.fields} == set(FIELD_KINDS)
    assert {c.name for res in resources for f in res.fields for c in f.constraints} == set(CONSTRAINT_TYPES)
    assert any(ep.operation.body for _, ep in contract.actions()), "an action with a schema body"
    assert contract.schemas
    assert any(r.id_type == "uuid" for r in resources) and any(r.id_type == "int" for r in resources)
    assert {r.owner for r in resources} == {"user", "none"}
    assert any(r.parent for r in resources)
    assert any(r.soft_delete for r in resources) and not all(r.timestamps for r in resources)


def test_no_doc_mentions_wire_md() -> None:
    offenders = [p.name for p in sorted(DOCS.glob("**/*.md")) if "WIRE.md" in p.read_text(encoding="utf-8")]
    assert offenders == []


@pytest.mark.parametrize("status", [200, 201, 204, 400, 401, 403, 404, 409, 422, 501])
def test_behaviour_names_each_status(status: int) -> None:
    assert re.search(rf"\b{status}\b", BEHAVIOUR.read_text(encoding="utf-8")), \
        f"docs/behaviour.md never mentions {status}"
