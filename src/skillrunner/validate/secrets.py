"""Likely credentials in a skill's files, with documentation placeholders let through."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

__all__ = ["find_secrets", "is_placeholder"]

# Provider formats precise enough to name, each with the literals one of which any match contains
# (a substring test first keeps the scan cheap).
_SECRETS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (label, anchors, re.compile(rx)) for label, anchors, rx in (
        ("a private key", ("PRIVATE KEY",), r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
        ("an AWS access key id", ("AKIA", "ASIA", "ABIA", "ACCA"),
         r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
        ("an AWS secret access key", ("secret", "SECRET", "Secret"),
         r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
        ("a GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
         r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        ("a GitLab token", ("glpat-",), r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("a Slack token", ("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("a Slack webhook URL", ("hooks.slack.com",),
         r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
        ("a Google API key", ("AIza",), r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
        ("a Stripe live key", ("k_live_",), r"\b[rs]k_live_[0-9A-Za-z]{20,}"),
        ("an Anthropic API key", ("sk-ant-",), r"\bsk-ant-[A-Za-z0-9_-]{32,}"),
        ("an OpenAI API key", ("T3BlbkFJ",),
         r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
        ("a Hugging Face token", ("hf_",), r"\bhf_[A-Za-z0-9]{34,}\b"),
        ("an npm token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("a PyPI token", ("pypi-",), r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
        ("a JSON Web Token", ("eyJ",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
    ))


# Words that mark a value as made up, in the value or on its line ("Example: AKIA...").
_MADE_UP = re.compile(r"example|placeholder|dummy|fake|sample|redacted|your[-_]|xxxx", re.IGNORECASE)
_REPEAT = re.compile(r"([A-Za-z0-9])\1{4,}")
_SEGMENTS = re.compile(r"[A-Za-z0-9]+")
#: Below this many bits per character, a long value is typed, not generated (random base62 is ~5.9).
_MIN_ENTROPY = 3.0
_PEM_FILLER = ("...", "\u2026", "XXXX", "xxxx", "<", "your")


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _sequential(text: str) -> bool:
    """True for runs like ``abcdef``, ``123456`` or ``a1b2c3d4``: typed, not generated."""
    low = text.lower()
    for step in (1, 2):
        run = 0
        for i in range(step, len(low)):
            run = run + 1 if ord(low[i]) - ord(low[i - step]) == 1 else 0
            if run >= 6 - step:
                return True
    return False


def is_placeholder(value: str, line: str = "") -> bool:
    """True when ``value`` (a match of a secret's format) is a documentation placeholder: it or its
    line says example or placeholder, it has runs of one character (``XXXX``, ``T00``), a typed
    sequence (``A1B2C3``, ``12345678``) or too little entropy to be generated."""
    if _MADE_UP.search(value) or _MADE_UP.search(line) or _REPEAT.search(value):
        return True
    segments = _SEGMENTS.findall(value)
    if any(len(s) >= 3 and len(set(s)) <= 2 for s in segments):
        return True
    key = max(segments, key=len, default="")
    return _sequential(key) or (len(key) >= 16 and _entropy(key) < _MIN_ENTROPY)


def _mask(secret: str) -> str:
    return secret[:6] + "\u2026" if len(secret) > 10 else secret[:2] + "\u2026"


def find_secrets(text: str) -> Iterator[tuple[int, str]]:
    """``(offset, message)`` of every likely credential in ``text``, its value masked."""
    for label, anchors, pattern in _SECRETS:
        if not any(anchor in text for anchor in anchors):
            continue
        for m in pattern.finditer(text):
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            line = text[start:end if end >= 0 else len(text)]
            if label == "a private key":
                body = text[m.end():m.end() + 200]
                if any(f in body for f in _PEM_FILLER) or body.lstrip().startswith("-----END"):
                    continue
            elif is_placeholder(m.group(), line):
                continue
            yield m.start(), f"this looks like {label} ({_mask(m.group())})"
