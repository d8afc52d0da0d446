"""Text utilities shared by the experts: a code-aware tokenizer, a tiny BM25, FTS5 helpers.

Tokens are lower-case ASCII words and numbers. Identifiers are split where programmers split
them (``parseHeaders`` -> ``parse headers``, ``snake_case`` -> ``snake case``) and, when asked,
the joined form is kept too (``snakecase``), so a message that names an identifier and one that
describes it in words both match. A light suffix stemmer (``redirects``, ``redirected`` ->
``redirect``) is available; replay measurements keep it off by default.
"""

from __future__ import annotations

import functools
import math
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

STOP = frozenset(
    "the a an of to in for and or on with is are be this that it its from by as at fix fixes fixed "
    "add adds added use uses used update updates updated remove removes removed make makes when not "
    "no into was were been has have had can could should would will do does did but if then than so "
    "we you i my our all any some more most also just only via per which who what why how there "
    "these those them they their he she his her".split()
)

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_IDENT = re.compile(r"[A-Za-z0-9_]+")
_LOWER_UPPER = re.compile(r"([a-z])([A-Z])")
_ALNUM = re.compile(r"[a-z0-9]+")


def split_identifier(word: str) -> list[str]:
    """``getHTTPResponse_v2`` -> ``['get', 'http', 'response', 'v', '2']`` (lower case)."""
    return [p.lower() for part in word.split("_") for p in _CAMEL.findall(part)]


def stem(word: str) -> str:
    """A light, conservative suffix stemmer: plurals, -ing, -ed (``redirects`` -> ``redirect``)."""
    n = len(word)
    if n <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and n > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ing") and n > 5:
        base = word[:-3]
        return base[:-1] if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz" else base
    if word.endswith("ed") and n > 4:
        base = word[:-2]
        if base.endswith("i"):
            return base[:-1] + "y"
        return base[:-1] if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz" else base
    if word.endswith("es") and n > 4 and word[-3] in "sxz":
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str, *, compounds: bool = False, stemming: bool = False,
           stop: frozenset[str] = STOP) -> list[str]:
    """Search tokens of free text or code, lower case; stop words and 1-character words dropped.

    Words split at ``_`` and at a lower-to-upper case change (``parseHeaders`` -> ``parse
    headers``; an acronym stays whole: ``HTTPAdapter`` -> ``httpadapter``, ``urllib3`` stays).
    ``compounds`` also keeps a split identifier joined (``get_adapter`` -> ``getadapter``), so a
    message naming it matches code using it. Replay measurements on several repositories chose
    these defaults (stemming changed MRR by about +-0.02, inconsistently).
    """
    out: list[str] = []
    for ident in _IDENT.findall(text):
        parts = _word_parts(ident)
        if compounds and len(parts) > 1:
            joined = "".join(parts)
            if joined not in stop:
                out.append(joined)
        for p in parts:
            if len(p) > 1 and p not in stop:
                out.append(stem(p) if stemming else p)
    return out


@functools.lru_cache(maxsize=1 << 16)
def _word_parts(ident: str) -> tuple[str, ...]:
    # Code repeats its identifiers: splitting each distinct one once makes indexing ~3x faster.
    if ident.islower() or ident.isdigit():
        return tuple(p for p in ident.split("_") if p)
    return tuple(_ALNUM.findall(_LOWER_UPPER.sub(r"\1 \2", ident).lower()))


def path_tokens(path: str, *, stemming: bool = False) -> list[str]:
    """Tokens of a repo path: directories, file stem and extension (``src/httpClient.py`` ->
    ``src http client py``)."""
    return tokens(path.replace("/", " ").replace(".", " ").replace("-", " "), stemming=stemming)


def is_binary(data: bytes) -> bool:
    """Git's own heuristic: a NUL byte in the first 8000 bytes."""
    return b"\0" in data[:8000]


def decode_text(data: bytes) -> str | None:
    """UTF-8 text of a blob (invalid bytes replaced); None for binary data."""
    if is_binary(data):
        return None
    return data.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------------------------
# In-memory BM25 (small corpora: tests, commit neighbours in a replay, one-off rankings)


class BM25:
    """Okapi BM25 over bags of tokens; ``score(query)`` gives ``{doc index: score}``."""

    def __init__(self, docs: Sequence[Mapping[str, int] | Iterable[str]], k1: float = 1.2, b: float = 0.75):
        bags = [d if isinstance(d, Mapping) else Counter(d) for d in docs]
        self.n = len(bags)
        lengths = [sum(d.values()) for d in bags]
        avg = sum(lengths) / max(1, self.n) or 1.0
        df: Counter[str] = Counter()
        for d in bags:
            df.update(d.keys())
        self.idf = {t: math.log(1 + (self.n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, (d, length) in enumerate(zip(bags, lengths)):
            norm = k1 * (1 - b + b * length / avg)
            for t, f in d.items():
                self.postings[t].append((i, f * (k1 + 1) / (f + norm)))

    def score(self, query: Iterable[str]) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        # Each distinct word once, in the query's order: set order follows the hash seed, and
        # the float sums (so near-ties) would differ between two runs of the same model.
        for t in dict.fromkeys(query):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i, w in self.postings[t]:
                scores[i] += idf * w
        return dict(scores)


# --------------------------------------------------------------------------------------------
# SQLite FTS5 (persistent indexes: single-digit-millisecond cold queries)


def fts5_available() -> bool:
    """Whether this Python's SQLite was built with FTS5 (it is in CPython's usual builds)."""
    try:
        con = sqlite3.connect(":memory:")
        con.execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
        con.close()
        return True
    except sqlite3.Error:
        return False


def match_expression(query_tokens: Iterable[str], *, column: str | None = None) -> str:
    """An FTS5 MATCH expression that ORs the (quoted, de-duplicated) tokens; '' when empty."""
    uniq = list(dict.fromkeys(t for t in query_tokens if t))
    if not uniq:
        return ""
    expr = " OR ".join('"' + t.replace('"', '""') + '"' for t in uniq)
    return f"{column} : ({expr})" if column else expr
