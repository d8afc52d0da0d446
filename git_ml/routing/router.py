"""Which experts answer a query: a small intent classifier over keywords and patterns.

An explicit ``--expert`` list always wins. Otherwise the query's wording picks an intent and the
intent a list of experts (the seed's table). Changed files without any wording (``--staged``,
``--range``) ask what the change needs: tests, docs, and files that usually change with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

INTENT_TO_EXPERTS: dict[str, tuple[str, ...]] = {
    "debug_error": ("error", "file"),
    "add_tests": ("test", "file"),
    "update_docs": ("doc", "file"),
    "refactor": ("refactor", "file", "test"),
    "fix_bug": ("file",),
    "implement_feature": ("file",),
    "review_change": ("file", "test", "doc"),
}
# Changed files make the test and doc experts useful for any intent that edits code.
WITH_FILES = {"fix_bug": ("test", "doc"), "implement_feature": ("test", "doc")}

_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+|"  # Python
    r"^\s+at [\w.$<>]+\(.*:\d+\)|"  # Java / JS stacks
    r"\b[A-Z]\w*(Error|Exception)\b\s*:|\bpanic:|\bSegmentation fault\b|^E\s+\w+",  # messages, Go, pytest
    re.MULTILINE,
)
_WORDS = {
    "add_tests": re.compile(r"\b(tests?|testing|unit ?tests?|pytest|coverage|flaky)\b", re.I),
    "update_docs": re.compile(r"\b(docs?|document\w*|readme|changelog|docstrings?|tutorial)\b", re.I),
    "refactor": re.compile(r"\b(refactor\w*|renam\w*|move|moving|extract\w*|split|inline|reorgani[sz]\w*)\b", re.I),
    # A bug report often names no bug: "X does not render", "Y breaks Z", "still echoes".
    "fix_bug": re.compile(r"\b(fix\w*|bugs?|broken|breaks?|crash\w*|regression|wrong\w*|incorrect\w*|"
                          r"fails?|failing|does ?n[o']t|doesn't|not working|still|hangs?|leaks?|"
                          r"(?:is|are|was|were) not|isn't|aren't|wasn't|no longer|can ?not|can't|won't)\b", re.I),
}


_PRIORITY = ("add_tests", "update_docs", "refactor", "fix_bug")


@dataclass(frozen=True)
class Route:
    intent: str
    experts: tuple[str, ...]


def classify_intent(text: str | None, files: Sequence[str] = ()) -> str:
    """The intent of a query: an error/traceback, tests, docs, a refactor, a fix, or a feature."""
    if not text or not text.strip():
        return "review_change" if files else "implement_feature"
    if _TRACEBACK.search(text):
        return "debug_error"
    # A task usually states its intent first ("fix the parser when a message is split ..."):
    # the earliest cue wins; on a tie, the more specific intent.
    hits = []
    for rank, intent in enumerate(_PRIORITY):
        match = _WORDS[intent].search(text)
        if match:
            hits.append((match.start(), rank, intent))
    return min(hits)[2] if hits else "implement_feature"


def route(text: str | None, files: Sequence[str] = (), explicit: Sequence[str] = ()) -> Route:
    """The intent and the experts to ask (explicit experts override the intent's)."""
    intent = classify_intent(text, files)
    if explicit:
        return Route(intent, tuple(dict.fromkeys(explicit)))
    experts = INTENT_TO_EXPERTS[intent]
    if files:
        experts += WITH_FILES.get(intent, ())
    return Route(intent, tuple(dict.fromkeys(experts)))
