"""Frontmatter splitting and parsing: positions, encodings and hostile YAML."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillrunner.frontmatter import parse_document


def test_keys_keep_their_lines_through_bom_and_crlf() -> None:
    raw = "\ufeff---\r\nname: demo\r\ndescription: a --- b\r\n---\r\nbody\r\n".encode()
    doc = parse_document(raw, "SKILL.md")
    assert doc.data == {"name": "demo", "description": "a --- b"}
    assert doc.key_lines == {"name": (2, 1), "description": (3, 1)}
    assert doc.body_line == 5 and doc.body.startswith("body")
    assert doc.findings == ()


def test_closing_dashes_only_as_a_whole_line() -> None:
    doc = parse_document("---\nname: x\ndescription: y ---\n", "SKILL.md")
    assert doc.data is None
    assert [f.message for f in doc.findings] == ["frontmatter is opened with --- but never closed"]


def test_invalid_utf8_is_a_finding_with_its_position() -> None:
    doc = parse_document(b"---\nname: \xff\n---\n", "SKILL.md")
    assert [(f.line, f.col, f.code) for f in doc.findings] == [(2, 7, "encoding")]


def test_a_key_that_is_not_text_is_refused_not_expanded() -> None:
    doc = parse_document("---\na: &a8 [1]\n? *a8\n: x\nname: y\n---\n", "SKILL.md")
    assert doc.data == {"a": [1], "name": "y"}
    # The composer hands back the anchored node for an alias, so the finding names the anchor's line.
    assert [(f.line, f.message) for f in doc.findings] == [(2, "frontmatter keys must be plain text")]


@pytest.mark.parametrize("yaml_text", [
    "a: &a [*a]",
    "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)),
])
def test_alias_bombs_and_cycles_become_findings(yaml_text: str) -> None:
    doc = parse_document(f"---\n{yaml_text}\nname: kept\n---\n", "SKILL.md")
    assert doc.data is not None and doc.data["name"] == "kept"
    assert any("expands to more than" in f.message for f in doc.findings)


def test_yaml_error_points_into_the_file() -> None:
    doc = parse_document("---\nname: demo\ndescription: [unclosed\n---\n", "SKILL.md")
    assert doc.data is None
    (finding,) = doc.findings
    assert finding.code == "yaml" and finding.line >= 3


_YAML_PIECES = st.sampled_from(["---", "name: x", "? *a", "&a [1]", "*a", "- ", ": ", "{", "[", "'", '"',
                                "\t", "\r\n", "\ufeff", "!!python/object:os.system", "<<: *a", "%YAML 1.2"])


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200)
       | st.lists(_YAML_PIECES | st.text(max_size=8), max_size=25).map(
           lambda parts: ("---\n" + "\n".join(parts) + "\n---\n").encode("utf-8", "surrogatepass")))
def test_any_bytes_give_a_document_never_an_exception(raw: bytes) -> None:
    doc = parse_document(raw, "SKILL.md")
    assert doc.data is None or isinstance(doc.data, dict)
    assert all(f.line >= 1 and f.col >= 1 for f in doc.findings)


def test_a_lone_surrogate_is_a_finding() -> None:
    doc = parse_document("---\nname: a\ndescription: x\ud800\n---\n", "SKILL.md")
    assert doc.data is None
    assert [(f.line, f.col, f.code) for f in doc.findings] == [(3, 15, "encoding")]
