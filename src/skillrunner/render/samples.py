"""Sample data for the generated tests: valid values of every field, and values each must refuse."""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from skillrunner.contract import SAMPLES_PER_FIELD, Field

_BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
#: Samples per field: tests pick the first half by hand, rows made for them (parents, refs) the rest.
_SAMPLES = SAMPLES_PER_FIELD  # contract check warns when a unique field has fewer values


def _regex_sample(pattern: str, seed: int) -> str | None:
    """A string matching ``pattern``; distinct seeds vary the characters chosen (None: not supported)."""
    try:
        parsed = _sre_parse(pattern)
    except Exception:  # a pattern the parser refuses: no sample
        return None
    out: list[str] = []
    state = [seed]

    def pick(options: Sequence[str]) -> str:
        choice = options[state[0] % len(options)]
        state[0] //= len(options)
        return choice

    def klass(items: Sequence[tuple[Any, Any]]) -> list[str] | None:
        chars: list[str] = []
        negate = False
        for op, arg in items:
            name = str(op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                chars.append(chr(arg))
            elif name == "RANGE":
                chars.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 25) + 1))
            elif name == "CATEGORY":
                cat = str(arg)
                chars.extend({"CATEGORY_DIGIT": "0123456789", "CATEGORY_WORD": "abcdefghij",
                              "CATEGORY_SPACE": " "}.get(cat, ""))
                if cat.startswith("CATEGORY_NOT"):
                    chars.extend("abc")
            else:
                return None
        if negate:
            pool = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789" if c not in chars]
            return pool or None
        return sorted(set(chars), key=chars.index) or None

    def emit(items: Any) -> bool:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "NOT_LITERAL":
                out.append("a" if chr(arg) != "a" else "b")
            elif name == "ANY":
                out.append(pick("abcdefghij"))
            elif name == "IN":
                chars = klass(arg)
                if chars is None:
                    return False
                out.append(pick(chars))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, _high, body = arg
                for _ in range(max(low, 0)):
                    if not emit(body):
                        return False
            elif name == "SUBPATTERN":
                if not emit(arg[-1]):
                    return False
            elif name == "BRANCH":  # seeds take turns through the alternatives too
                branches = arg[1]
                if not emit(branches[int(pick([str(i) for i in range(len(branches))]))]):
                    return False
            elif name == "AT":
                continue
            elif name == "CATEGORY":
                out.append(klass([(op, arg)])[0] if klass([(op, arg)]) else "a")  # type: ignore[index]
            else:
                return False
        return True

    if not emit(parsed):
        return None
    text = "".join(out)
    try:
        return text if re.search(pattern, text) else None
    except re.error:
        return None


def _sre_parse(pattern: str) -> Any:
    parser = importlib.import_module("re._parser")
    return parser.parse(pattern)


def _bounds(f: Field) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low exclusive, high exclusive) of a numeric field."""
    low: float | None = None
    high: float | None = None
    low_x = high_x = False
    for name in ("ge", "gt"):
        value = f.constraint(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, low_x = float(value), name == "gt"
    for name in ("le", "lt"):
        value = f.constraint(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            high, high_x = float(value), name == "lt"
    return low, high, low_x, high_x


def _in_bounds(value: float, f: Field) -> bool:
    low, high, low_x, high_x = _bounds(f)
    if low is not None and (value < low or (low_x and value == low)):
        return False
    return not (high is not None and (value > high or (high_x and value == high)))


def _numeric_candidates(f: Field, step: float, offset: float) -> list[float]:
    low, high, _, _ = _bounds(f)
    start = low if low is not None else (high - 60 * step if high is not None else 0.0)
    values = [start + offset + k * step for k in range(60)]
    good = [v for v in values if _in_bounds(v, f)]
    if not good and low is not None and high is not None:
        good = [(low + high) / 2]
    return good


def _text_sample(f: Field, n: int) -> str | None:
    pattern = f.constraint("pattern")
    if isinstance(pattern, str):
        return _regex_sample(pattern, n)
    low = f.constraint("min_length")
    high = f.constraint("max_length")
    text = f"{f.name.replace('_', '-')}-{n}"  # no LIKE wildcard: search tests count matches
    if isinstance(high, int) and len(text) > high:
        text = (chr(ord("a") + n % 26) + str(n // 26))[:high] if high > 1 else chr(ord("a") + n % 26)
    if isinstance(low, int) and len(text) < low:
        text = text + "x" * (low - len(text))
    return text


def _sample(f: Field, n: int) -> Any:
    """The ``n``-th valid JSON value for ``f`` (values differ by ``n`` and grow with it where they can)."""
    t = f.type
    kind = t.kind
    if kind == "enum":
        return t.enum_values[n % len(t.enum_values)]
    if kind == "boolean":
        return n % 2 == 1
    if kind == "integer":
        ints = [int(v) for v in _numeric_candidates(f, 1.0, 0.0) if float(v).is_integer()]
        if not ints:
            low, _, low_x, _ = _bounds(f)
            base = int(low or 0) + (1 if low_x else 0)
            ints = [base + k for k in range(60) if _in_bounds(base + k, f)]
        return ints[n % len(ints)] if ints else 0
    if kind == "number":
        nums = _numeric_candidates(f, 1.0, 0.5)
        return nums[n % len(nums)] if nums else 0.5
    if kind == "decimal":
        scale = t.scale or 0
        nums = _numeric_candidates(f, 1.0, 0.0 if scale == 0 else 0.5)
        value = nums[n % len(nums)] if nums else 0.0
        quant = Decimal(1).scaleb(-scale)
        return str(Decimal(str(value)).quantize(quant))
    if kind == "date":
        return (_BASE_TIME.date() + timedelta(days=n)).isoformat()
    if kind == "datetime":
        return (_BASE_TIME + timedelta(hours=n)).isoformat()
    if kind == "uuid":
        return str(uuid.UUID(f"00000000-0000-4000-8000-{n + 1:012d}"))
    if kind == "email":
        return f"user{n}@example.com"
    if kind == "url":
        # No _ from the field's name: search tests count on samples without LIKE wildcards.
        return f"https://example.com/{f.name.replace('_', '-')}/{n}"
    if kind == "list":
        return [f"{f.name}-{n}"]
    if kind == "json":
        return {"n": n}
    if kind in ("string", "text"):
        return _text_sample(f, n)
    return None


def _invalid_samples(f: Field) -> list[tuple[str, Any]]:
    """(why, JSON value) pairs that create must refuse for ``f``."""
    t = f.type
    out: list[tuple[str, Any]] = []
    wrong = {
        "string": 12345, "text": ["not", "text"], "integer": "not-a-number", "number": "not-a-number",
        "decimal": "not-a-number", "boolean": "not-a-boolean", "date": "not-a-date",
        "datetime": "not-a-datetime", "uuid": "not-a-uuid", "email": "not-an-email",
        "url": "not a url", "enum": "not_a_value", "list": "not-a-list", "json": ["not", "an", "object"],
    }
    if t.kind in wrong:
        out.append(("type", wrong[t.kind]))
    if t.kind in ("string", "text"):
        out.append(("nul", "nul\x00char"))
    if t.kind == "url":
        out.append(("scheme", "ftp://example.com/file"))
    if t.kind == "number":
        out.append(("huge", "1e999"))
    if t.kind == "decimal" and t.scale is not None:
        out.append(("scale", "1." + "1" * (t.scale + 1)))
    if t.kind == "integer":
        out.append(("int64", 2**63))
    if t.kind == "list":
        out.append(("item", [123]))
    low, high = f.constraint("min_length"), f.constraint("max_length")
    if isinstance(low, int) and low > 0 and t.kind in ("string", "text"):
        out.append(("min_length", "" if low == 1 else "x" * (low - 1)))
    if isinstance(high, int) and t.kind in ("string", "text"):
        out.append(("max_length", "x" * (high + 1)))
    elif t.kind == "string" and not isinstance(f.constraint("pattern"), str):
        out.append(("max_length", "x" * 256))
    pattern = f.constraint("pattern")
    if isinstance(pattern, str):
        for candidate in ("!", "~~~", " ", "", "zz-not-matching-99"):
            try:
                if re.search(pattern, candidate) is None:
                    out.append(("pattern", candidate))
                    break
            except re.error:
                break
    lo, hi, lo_x, hi_x = _bounds(f)
    if t.kind in ("integer", "number", "decimal"):
        if lo is not None:
            bad = lo if lo_x else lo - 1
            out.append(("lower bound", _number_json(t.kind, bad)))
        if hi is not None:
            bad = hi if hi_x else hi + 1
            out.append(("upper bound", _number_json(t.kind, bad)))
    items = f.constraint("max_items")
    if isinstance(items, int) and t.kind == "list":
        out.append(("max_items", [f"x{i}" for i in range(items + 1)]))
    return out


def _bad_query(kind: str, length: int | None) -> str | None:
    """A query string value a list filter of ``kind`` must refuse, or None when every text reads."""
    if kind in ("string", "email", "url") and length is not None:
        return "x" * (length + 1)
    return {
        "text": "nul\x00char", "integer": "not-a-number", "number": "not-a-number",
        "decimal": "not-a-number", "boolean": "not-a-boolean", "date": "not-a-date",
        "datetime": "not-a-datetime", "uuid": "not-a-uuid", "enum": "not_a_value", "ref": "not-an-id",
    }.get(kind)


def _number_json(kind: str, value: float) -> Any:
    if kind == "integer":
        return int(value)
    if kind == "decimal":
        return str(Decimal(str(value)))
    return value
