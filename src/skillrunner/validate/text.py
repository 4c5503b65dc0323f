"""Characters that hide or garble text: bidirectional controls, invisible characters, mojibake."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

__all__ = ["hidden_characters", "mojibake"]

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"  # overrides and isolates: they reorder what is shown
_BIDI_MARKS = "\u061c\u200e\u200f"  # marks: they only nudge neutral characters
_INVISIBLE = ("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2028\u2029"
              "\u2060-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
              "\U000e0000-\U000e007f\U000e0100-\U000e01ef")
_HIDDEN = re.compile(f"[{_BIDI_CONTROLS}{_BIDI_MARKS}{_INVISIBLE}]")
_CONTROLS = re.compile(f"[{_BIDI_CONTROLS}]")
_MARKS = frozenset(_BIDI_MARKS)
# Joiners and variation selectors are legitimate inside emoji sequences and in scripts that
# shape letters (Arabic, Indic); elsewhere they only hide things.
_SELECTORS = frozenset(chr(c) for c in range(0xFE00, 0xFE10))
_JOINERS = frozenset("\u200c\u200d") | _SELECTORS
_PRESENTATION = frozenset("\ufe0e\ufe0f")

# The bases of Unicode's emoji variation sequences below U+1F000 (emoji-variation-sequences.txt);
# from U+1F000 on every base is an emoji. VS15/VS16 after them pick text or emoji style.
_EMOJI_RANGES = (
    (0x23, 0x23), (0x2A, 0x2A), (0x30, 0x39), (0xA9, 0xA9), (0xAE, 0xAE), (0x203C, 0x203C),
    (0x2049, 0x2049), (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA),
    (0x24C2, 0x24C2), (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE),
    (0x2600, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50),
    (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
)
_EMOJI_BASES = frozenset(chr(c) for low, high in _EMOJI_RANGES for c in range(low, high + 1))
_RTL = frozenset({"R", "AL", "AN"})


def _allowed(text: str, index: int) -> bool:
    """True for a joiner or selector where it does its job, and a mark beside right-to-left text."""
    char = text[index]
    prev = text[index - 1] if index else ""
    if char in _MARKS:
        after = text[index + 1] if index + 1 < len(text) else ""
        return any(c and unicodedata.bidirectional(c) in _RTL for c in (prev, after))
    if char not in _JOINERS or not prev:
        return False
    if char in _SELECTORS:
        if prev in _JOINERS:  # a base takes one selector; a run of them only hides text
            return False
        if char in _PRESENTATION and (prev in _EMOJI_BASES or ord(prev) >= 0x1F000):
            return True
    return unicodedata.category(prev) in ("So", "Sk", "Lo", "Mn", "Mc") or prev in _SELECTORS or \
        ord(prev) >= 0x1F000


def hidden_characters(text: str) -> Iterator[tuple[int, bool, str]]:
    """``(offset, is_error, message)``: one per line holding a character that hides or reorders text.

    Overrides, isolates and invisible characters are errors; a bidirectional mark outside
    right-to-left text is a warning.
    """
    last_line = -1
    for m in _HIDDEN.finditer(text):
        if _allowed(text, m.start()):
            continue
        line = text.count("\n", 0, m.start())
        if line == last_line:
            continue  # one finding per line is enough to send someone there
        last_line = line
        char = m.group()
        kind = ("bidirectional control" if _CONTROLS.match(char) else
                "bidirectional mark" if char in _MARKS else "invisible character")
        name = unicodedata.name(char, "")
        yield m.start(), char not in _MARKS, f"{kind} U+{ord(char):04X}{' ' + name if name else ''}"


# Mojibake: UTF-8 bytes read as Windows-1252/Latin-1, e.g. "\u00f0\u0178\u201c\u2039" for U+1F4CB.
_CP1252_HIGH = bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore") + "\x81\x8d\x8f\x90\x9d"
_CONT = "[" + re.escape(_CP1252_HIGH) + "\u00a0-\u00bf]"
_MOJIBAKE = re.compile(f"(?:[\u00c2-\u00df]{_CONT}|[\u00e0-\u00ef]{_CONT}{{2}}|[\u00f0-\u00f4]{_CONT}{{3}})+")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "`": "`"}
# Two characters alone are evidence only as the common Western pairs (A-tilde or A-circumflex first:
# the e-acute and degree sign garbled). Others (A-ring before a dash, the multiplication sign before a
# no-break space) are ordinary text far more often.
_WESTERN_LEADS = frozenset("\u00c2\u00c3")


def _unmojibake(text: str) -> str | None:
    data = bytearray()
    for char in text:
        code = ord(char)
        data += bytes([code]) if code < 0x100 else char.encode("cp1252")
    try:
        fixed = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return fixed if fixed != text else None


def _on_purpose(text: str, start: int, end: int) -> bool:
    """True for mojibake shown as such: quoted alone, in a code span, or on a line about mojibake."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    if "mojibake" in line.lower() or "encoding" in line.lower():
        return True
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before in _QUOTES and _QUOTES[before] == after:
        return True
    col = start - line_start
    return any(m.start() < col < m.end() for m in _CODE_SPAN.finditer(line))


def mojibake(text: str) -> Iterator[tuple[int, str, str]]:
    """``(offset, found, meant)``: the first garbled run on each line that shows mojibake."""
    last_line = -1
    for m in _MOJIBAKE.finditer(text):
        found = m.group()
        if len(found) == 2 and found[0] not in _WESTERN_LEADS:
            continue
        fixed = _unmojibake(found)
        if fixed is None or _on_purpose(text, m.start(), m.end()):
            continue
        line = text.count("\n", 0, m.start())
        if line == last_line:
            continue
        last_line = line
        yield m.start(), found, fixed
