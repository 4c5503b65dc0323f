"""Values in a contract: reading literals and typed values, and what makes one wrong for its field."""

from __future__ import annotations

import difflib
import json
import math
import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime

from skillrunner.contract.model import (
    _DATE,
    _DECIMAL,
    _EMAIL,
    _FLOAT,
    _INT,
    _INT64,
    _URL,
    Field,
    FieldType,
    Value,
)

# --- small helpers -------------------------------------------------------------------------------



def _did_you_mean(word: str, options: Iterable[str], *, aliases: dict[str, str] | None = None) -> str:
    opts = list(options)
    if aliases and word.lower() in aliases:
        return f"did you mean {aliases[word.lower()]!r}?"
    lower = {o.lower(): o for o in opts}
    close = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    listed = ", ".join(dict.fromkeys(opts))
    return f"did you mean {lower[close[0]]!r}? (one of: {listed})" if close else f"use one of: {listed}"


def _unquote(text: str) -> str | None:
    """The inside of ``"..."``, ``'...'`` or a code span; None when ``text`` is not quoted."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return None


def _unwrap(text: str) -> str:
    """A structural cell: stripped, and one surrounding pair of backticks removed."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "`":
        return text[1:-1].strip()
    return text


def _split_top(text: str, sep: str) -> list[tuple[int, str]]:
    """Split on ``sep`` outside quotes and brackets; each piece with its offset in ``text``."""
    pieces: list[tuple[int, str]] = []
    start = 0
    quote = ""
    depth = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            pieces.append((start, text[start:i]))
            start = i + 1
    pieces.append((start, text[start:]))
    return pieces


def _piece(offset: int, raw: str) -> tuple[int, str]:
    """A split piece stripped, its offset moved to its first non-space character."""
    stripped = raw.lstrip()
    return offset + len(raw) - len(stripped), stripped.rstrip()


class _Bad(Exception):
    """A cell that does not read; carries message and hint for the finding."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _read_literal(text: str) -> Value:
    """A constraint value: quoted string, integer, float, or a bare word."""
    inner = _unquote(text)
    if inner is not None:
        return inner
    try:
        if _INT.fullmatch(text):
            return int(text)
        if _FLOAT.fullmatch(text):
            return float(text)
    except ValueError:  # more digits than int() reads
        raise _Bad(f"number {text[:20]}... is too long") from None
    return text


def _read_value(raw: str, ftype: FieldType) -> Value:
    """A default or bulk_update value for a field of ``ftype``, from its cell text."""
    text = raw.strip()
    inner = _unquote(text)
    kind = ftype.kind
    if kind in ("string", "text", "email", "url", "enum", "date", "datetime"):
        return inner if inner is not None else text
    if kind == "uuid":
        value = inner if inner is not None else text
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value  # the checker names the problem
    if kind == "integer":
        if inner is None and _INT.fullmatch(text) and len(text) < 40:
            return int(text)
        raise _Bad(f"{text!r} is not an integer", "write digits, e.g. 0 or -5")
    if kind == "number":
        if inner is None and _FLOAT.fullmatch(text) and len(text) < 400:
            return float(text)
        raise _Bad(f"{text!r} is not a number", "write e.g. 1.5 or 0")
    if kind == "decimal":
        if inner is None and _DECIMAL.fullmatch(text) and len(text) < 80:
            return text
        raise _Bad(f"{text!r} is not a decimal", "write digits with an optional fraction, e.g. 9.99")
    if kind == "boolean":
        flag = _YES_NO.get(text.lower())
        if flag is None:
            raise _Bad(f"{text!r} is not a boolean", "write true or false")
        return flag
    if kind == "list":
        if not text.startswith("[") or len(text) > 10_000:
            raise _Bad(f"{text!r} is not a list", 'write a JSON list of strings: [] or ["a", "b"]')
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError):
            raise _Bad(f"{text!r} is not a JSON list", 'write [] or ["a", "b"]') from None
        if not isinstance(loaded, list) or not all(isinstance(v, str) for v in loaded):
            raise _Bad("a list[string] value holds only strings", 'write [] or ["a", "b"]')
        return tuple(loaded)
    raise _Bad(f"a {kind} field cannot be given a value here",
               "json and ref fields take no default and no bulk_update value")


_YES_NO = {"yes": True, "true": True, "no": False, "false": False}


def _value_problem(ftype: FieldType, value: Value) -> str | None:
    """Why ``value`` is not a value of ``ftype`` (None when it is)."""
    kind = ftype.kind
    if kind in ("string", "text"):
        return None if isinstance(value, str) else "is not a string"
    if kind == "email":
        return None if isinstance(value, str) and _EMAIL.fullmatch(value) else "is not an email address"
    if kind == "url":
        return None if isinstance(value, str) and _URL.fullmatch(value) else "is not an http(s) URL"
    if kind == "enum":
        if isinstance(value, str) and value in ftype.enum_values:
            return None
        return f"is not one of the enum's values ({', '.join(ftype.enum_values)})"
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return None if -_INT64 <= value < _INT64 else "does not fit in 64 bits"
        return "is not an integer"
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None if math.isfinite(value) else "is not a finite number"
        return "is not a number"
    if kind == "decimal":
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            return "is not a decimal written as a string like '9.99'"
        whole, _, frac = value.lstrip("-").partition(".")
        p, s = ftype.precision or 0, ftype.scale or 0
        if len(frac) > s or len(whole.lstrip("0")) > p - s:
            return f"does not fit decimal({p}, {s})"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else "is not true or false"
    if kind == "date":
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return "is not a date (YYYY-MM-DD)"
    if kind == "datetime":
        if isinstance(value, str) and len(value) <= 40:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                return None
        return "is not an ISO 8601 datetime with an offset (e.g. 2024-01-31T09:00:00Z)"
    if kind == "uuid":
        try:
            if isinstance(value, str) and str(uuid.UUID(value)) == value:
                return None
        except ValueError:
            pass
        return "is not a UUID"
    if kind == "list":
        if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            return None
        return "is not a list of strings"
    return f"cannot be given to a {kind} field"


def _pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a pydantic ``pattern``: it must compile in Python's ``re`` and
    use nothing that pydantic's default (Rust) engine refuses."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return f"does not compile as a regular expression: {exc}"
    unsupported = (("(?=", "look-ahead"), ("(?!", "look-ahead"), ("(?<=", "look-behind"),
                   ("(?<!", "look-behind"), ("(?P=", "backreferences"), ("(?>", "atomic groups"),
                   ("(?(", "conditional groups"), ("(?#", "comments"))
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1:i + 2]
            if not in_class and nxt in "123456789" and nxt:
                return "uses backreferences, which pydantic's regex engine does not support"
            if nxt == "Z":
                return r"uses \Z, which pydantic's regex engine does not know; use $"
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
            i += 1
            continue
        if ch == "[":
            i += 1
            i += pattern[i:i + 1] == "^"
            i += pattern[i:i + 1] == "]"
            in_class = True
            continue
        for opener, what in unsupported:
            if pattern.startswith(opener, i):
                return f"uses {what}, which pydantic's regex engine does not support"
        if ch in "*+?}" and pattern[i + 1:i + 2] == "+":
            return "uses a possessive quantifier, which pydantic's regex engine does not support"
        i += 1
    return None


def _cheap_to_match(pattern: str, value: str) -> bool:
    """True when Python's backtracking ``re`` surely matches ``pattern`` on ``value`` quickly.

    A repeated group can take 2**len(value) steps, and k quantifiers in a row len(value)**k;
    the check is skipped past a budget rather than risk hanging on a hostile contract.
    """
    if re.search(r"\)[*+{]", pattern):
        return len(value) <= 16
    quantifiers = len(re.findall(r"(?<!\\)(?:[*+?]|\{\d)", pattern))
    return max(quantifiers, 1) * math.log10(len(value) + 1) <= 7  # (len + 1) ** k <= 10 ** 7


def _breaks_constraints(f: Field, value: Value) -> str | None:
    """The constraint ``value`` breaks, as ``name=limit``, or None."""
    for c in f.constraints:
        limit = c.value
        if not isinstance(limit, int | float | str) or isinstance(limit, bool):
            continue
        if isinstance(value, str | tuple) and isinstance(limit, int) and (
                (c.name == "min_length" and isinstance(value, str) and len(value) < limit)
                or (c.name == "max_length" and isinstance(value, str) and len(value) > limit)
                or (c.name == "max_items" and len(value) > limit)):
            return f"{c.name}={limit}"
        # Python's re backtracks: a repeated group could make this check itself hang.
        if (c.name == "pattern" and isinstance(value, str) and isinstance(limit, str)
                and _pattern_problem(limit) is None and _cheap_to_match(limit, value)
                and re.search(limit, value) is None):
            return f"pattern={limit}"
        if c.name in ("ge", "le", "gt", "lt") and not isinstance(limit, str):
            number: float | None = None
            if isinstance(value, int | float) and not isinstance(value, bool):
                number = value
            elif isinstance(value, str) and _DECIMAL.fullmatch(value):
                number = float(value)
            if number is None:
                continue
            ok = {"ge": number >= limit, "le": number <= limit, "gt": number > limit, "lt": number < limit}
            if not ok[c.name]:
                return f"{c.name}={limit}"
    return None
