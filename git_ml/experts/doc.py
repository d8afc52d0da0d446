"""DocumentationExpert: changed code files (+ message) -> doc files to update, whether docs are
needed at all, and stale references (names the docs mention that no longer exist in the code).

Ranking channels per doc file, fused with weights learned on a rolling inner time split:

* ``cochange``  confidence(changed file => doc) from past commits; ``recent`` with a half-life;
* ``folder``    the same, pooled over the changed files' folders (new files have no history);
* ``mentions``  BM25 of the names the changed files define (and the message) over the doc's text;
* ``name``      the share of the doc's name words that a changed file's name has
  (``shell_completion.py`` ~ ``shell-completion.md``, ``testing.py`` ~ ``testing.md``);
* ``changelog`` 1 for the changelog (whatever its history: ``CHANGES.rst`` -> ``CHANGES.md``);
* ``contributors`` 1 for a list of contributors (``AUTHORS.rst``, ``CONTRIBUTORS.txt``), which
  newcomers edit with their first change, whatever code it touches;
* ``prior``/``recency``  how often (the share of the code-changing commits that touched it: a
  README edited on its own a lot is no likelier to go with a code change) / how recently the doc
  changed: the same for every
  input, so their learned weight is capped (they order docs the other channels leave close).

A doc converted in one commit (``x.rst`` deleted, ``x.md`` added) keeps its co-change history.
The inner split follows renames made inside its windows: a file is a doc by the name it ends up
with (``CHANGES`` -> ``CHANGES.rst``), and a later change to the new name is an item about the
candidate the counts know by the old one.

``needs_docs`` (metadata) is the probability that a commit touching these files touches a doc:
each file's own rate, shrunk towards the base rate of its kind (source code, or anything else:
tests, CI and build configuration), the highest one wins; the message words, when given, move it
by their own smoothed rates. ``threshold`` (``threshold_text`` with a
message) is the cut that maximised F1 on the inner split (metadata ``docs_needed``).
"""

from __future__ import annotations

import builtins
import keyword
import posixpath
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from git_ml.experts.base import Query, TrainingData
from git_ml.experts.changes import (
    HALF_LIFE,
    MAX_COMMIT_FILES,
    ChangeGraphExpert,
    CoChange,
    is_code,
    is_doc,
    is_test,
    learn_weights,
    test_stem,
    rolling_windows,
)
from git_ml.experts.codegraph import CodeGraph
from git_ml.experts.text import BM25, tokens
from git_ml.records import CommitRecord, ExpertPrediction, FileChange

FEATURES = ("cochange", "recent", "folder", "mentions", "name", "changelog", "contributors", "prior", "recency")
# The input-specific channels (first seven features). Co-change confidences are small numbers
# (a doc goes with a given file in a few percent of its commits) where the other channels are
# near 1, hence their larger weights.
# ``contributors`` starts at 0: on by default it cost requests (0.481 -> 0.456, whose AUTHORS.rst
# rarely goes with a change); learned from 0, the inner split turns it on where newcomers add
# themselves with their first change (marshmallow 0.883 -> 0.912, aiohttp 0.696 -> 0.722) and
# leaves the other repositories as they were.
DEFAULT_WEIGHTS = (4.0, 2.0, 0.5, 0.5, 1.0, 0.5, 0.0)
# The inner split is small (tens of items) and a project's habits drift (a changelog entry in
# every pull request from some day on): the fusion leaves DEFAULT_WEIGHTS only when that gains
# more than two items' reciprocal rank there. Replay docs MRR (bench_experts_more.py --split
# 0.7/0.75/0.8/0.85 on httpx, requests, click, flask): 0.75 -> 0.80 on average, and no split more
# than 0.005 below the co-change anchor (free learning fell below it on most httpx and requests
# splits).
MIN_GAIN_ITEMS = 2.0
# ... and more than twice the spread of its per-item changes (learn_weights' paired test): the
# fixed margin alone let a move that reorders many inner items both ways through (replay docs
# MRR 80/20, doc renames followed: pytest 0.693 -> 0.725, sphinx 0.508 -> 0.521, jinja
# 0.969 -> 0.967, the other eight equal).
MIN_GAIN_Z = 2.0
# Popularity (prior, recency) is the same for every input. Learned freely it drowned the specific
# channels (on click every change got the same top docs), so it enters the fusion as one column,
# TIE_WEIGHTS . (prior, recency), whose learned weight is capped at POPULARITY_CAP.
TIE_WEIGHTS = (0.25, 0.25)
PRIOR = FEATURES.index("prior")
POPULARITY_CAP = 1.0
NAME_SHRINK = 10.0  # commits of a file's own history that weigh as much as its name match
SHRINK = 5.0  # pseudo-commits of the base rate in each file's needs-docs estimate
MIN_INNER_ITEMS = 8

# `name`, ``name``, :role:`~pkg.name`, name() -- the forms in which docs cite code
_RST_ROLE = re.compile(r":(?:py:)?(func|meth|class|attr|exc|data|obj|mod|const)?:`~?([^`<>]+?)(?:\s*<[^>]+>)?`")
_LITERAL = re.compile(r"``([^`\n]+)``|(?<![`:\w])`([^`\n]+)`(?![`_])")  # `x`_ is an RST link
_CALL = re.compile(r"(?<![\w.`/-])([A-Za-z_][\w.]*[A-Za-z0-9_])\(\)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_BUILTINS = frozenset(dir(builtins))
_COMMON = frozenset("true false none null nil self cls this args kwargs main init setup".split())


_LOCAL_DEF = re.compile(r"(?:\bdef|\bclass)\s+(\w+)|^\s*(?:>>>\s*)?(\w+)\s*=[^=]|\bimport\s+(\w+)|\bfrom\s+(\w+)", re.M)
_CHANGELOG = re.compile(r"^(?:change|history|news|release|whatsnew|upgrad|migrat)", re.I)
# the log a change is recorded in (CHANGES.rst, CHANGELOG.md, HISTORY.rst, NEWS, release-notes.md,
# whatsnew.rst), not a guide about releasing (release-process.rst) or upgrading
_CHANGE_LOG = re.compile(r"^(?:changes|changelog|change[-_]log|history|news|releases?[-_]?notes|releases|whats?[-_]?new)(?:\.|$)", re.I)
_CONTRIBUTORS = re.compile(r"^(?:authors|contributors|credits|thanks)(?:\.|$)", re.I)


def doc_local_names(text: str) -> set[str]:
    """Names a doc defines or imports in its own examples (``class MyAuth``, ``s = Session()``,
    ``import foo``): citing them is not a stale reference."""
    return {n for m in _LOCAL_DEF.finditer(text) for n in m.groups() if n}


def is_changelog(path: str) -> bool:
    """Changelogs cite names that were removed on purpose: they are not checked for staleness."""
    return bool(_CHANGELOG.match(posixpath.basename(path)))


def is_change_log(path: str) -> bool:
    """The file the project records each change in (the ``changelog`` channel)."""
    return bool(_CHANGE_LOG.match(posixpath.basename(path)))


def is_contributors(path: str) -> bool:
    """A list of the project's contributors (the ``contributors`` channel)."""
    return bool(_CONTRIBUTORS.match(posixpath.basename(path)))


def referenced_names(text: str) -> list[tuple[str, int]]:
    """(name, line) for each code name a doc cites: RST roles, inline literals that look like
    identifiers (with ``_``, a dot, camelCase or ``()``), and ``name()`` in prose."""
    out: list[tuple[str, int]] = []
    for n, line in enumerate(text.splitlines(), 1):
        roles = list(_RST_ROLE.finditer(line))
        for m in roles:
            out.append((m.group(2).strip().rstrip("()"), n))
        stripped = _RST_ROLE.sub(" ", line)
        for m in _LITERAL.finditer(stripped):
            lit = (m.group(1) or m.group(2)).strip()
            call = lit.endswith("()")
            lit = lit[:-2] if call else lit
            if _NAME.match(lit) and (call or "_" in lit.strip("_") or "." in lit
                                     or re.search(r"[a-z][A-Z]", lit)):
                out.append((lit, n))
        for m in _CALL.finditer(_LITERAL.sub(" ", stripped)):
            out.append((m.group(1), n))
    return out


def _code_like(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return (bool(_NAME.match(name)) and not keyword.iskeyword(last) and last not in _BUILTINS
            and last.lower() not in _COMMON and len(last) > 2)


class DocumentationExpert(ChangeGraphExpert):
    """Ranks doc files for a code change; estimates whether docs are needed; finds stale references."""

    expert_type = "doc"
    version = "1.3.0"

    def __init__(self, expert_id: str | None = None):
        super().__init__(expert_id)
        self.docs: list[str] = []
        self.doc_terms: dict[str, dict[str, int]] = {}
        self.doc_rate: dict[str, list[int]] = {}  # code file -> [commits, commits that touched a doc]
        self.word_rate: dict[str, list[int]] = {}  # message word -> [commits, with a doc]
        self.base_rate = 0.0
        self.base_rates: dict[str, float] = {}  # per kind of file ("code", "other")
        self.threshold = 0.5  # on the probability from files alone
        self.threshold_text = 0.5  # ... from files and a message
        self.weights: list[float] = [*DEFAULT_WEIGHTS, POPULARITY_CAP]
        self.stale: list[tuple[str, str, int]] = []
        self.with_code: dict[str, float] = {}  # doc -> share of the code-changing commits touching it
        self._bm25: tuple[tuple[str, ...], BM25] | None = None

    # -- learning ----------------------------------------------------------------------------

    def _learn(self, data: TrainingData, commits: Sequence[CommitRecord]) -> None:
        super()._learn(data, [doc_conversions(c) for c in commits])

    def _derive(self, data: TrainingData, commits: Sequence[CommitRecord]) -> None:
        texts: dict[str, str] = {}
        self.docs = self.paths(data, is_doc)
        for p in self.docs if data.snapshot is not None else ():
            raw = data.snapshot.read(p)
            if raw is not None and b"\0" not in raw[:8000]:
                texts[p] = raw.decode("utf-8", errors="replace")
        code_names = self._code_names()
        self.doc_terms = {p: dict(Counter(t for t in tokens(text, stemming=False) if t in code_names))
                          for p, text in texts.items()}
        self._bm25 = None
        self.stale = self._stale(texts)
        self.doc_rate, self.word_rate, self.base_rates = doc_rates(data.commits)
        self.with_code = with_code_rates(data.commits)
        self.base_rate = self.base_rates.get("all", 0.0)
        self.weights, self.threshold, self.threshold_text = self._fit_inner(data.commits)

    def _code_names(self) -> set[str]:
        names: set[str] = set()
        for f in self.graph.facts.values():
            for n in f.names:
                names.update(tokens(n, stemming=False))
        return names

    def _stale(self, texts: dict[str, str]) -> list[tuple[str, str, int]]:
        if not self.graph.facts:
            return []
        exists: set[str] = set()
        for p, f in self.graph.facts.items():
            exists.update(f.names)
            exists.update(d.name.rsplit(".", 1)[-1] for d in f.defs)
            exists.update(posixpath.splitext(p)[0].replace("/", ".").split("."))
        out = []
        for p, text in texts.items():
            if is_changelog(p):
                continue
            local = doc_local_names(text)
            for name, line in referenced_names(text):
                head, last = name.split(".", 1)[0], name.rsplit(".", 1)[-1]
                if (not _code_like(name) or last in exists or last in local or head in local
                        or head in sys.stdlib_module_names or (last.isupper() and "." not in name)):
                    continue  # present, defined by the doc itself, the stdlib's, or an env variable
                out.append((p, name, line))
        return sorted(set(out))

    def _fit_inner(self, commits: Sequence[CommitRecord]) -> tuple[list[float], float, float]:
        """Fusion weights and the needs-docs threshold from a rolling inner time split."""
        rows, gate, gate_text = [], [], []
        # A doc is judged by the name it ends up with: ``CHANGES`` became ``CHANGES.rst`` (a doc)
        # after the last inner cut on werkzeug, and the fusion never saw its changelog.
        final = final_names(commits)

        def doc_like(path: str) -> bool:
            return is_doc(path) or is_doc(final.get(path, path))

        for co, recent, alive, cut, window in rolling_windows(commits):
            rates, words, bases = doc_rates(commits[:cut])
            shares = with_code_rates(commits[:cut])
            docs = [d for d in alive if doc_like(d)]
            for c, mod in known_modified(window, alive):
                if c.is_merge:
                    continue
                code = [p for p in mod if is_code(p)]
                truth = {p for p in mod if doc_like(p)}
                if code:
                    touched = any(is_doc(f.path) for f in c.files)
                    gate.append((needs_docs(code, None, rates, words, bases), touched))
                    gate_text.append((needs_docs(code, c.message, rates, words, bases), touched))
                if code and truth:
                    feats = self._features(code, None, docs, co, recent, shares)
                    rows.append(({d: fusion_columns(f) for d, f in feats.items()}, truth))
        base = doc_rates(commits)[2].get("all", 0.0)
        start = [*DEFAULT_WEIGHTS, POPULARITY_CAP]
        weights = (learn_weights(rows, start, min_items=MIN_GAIN_ITEMS, min_z=MIN_GAIN_Z)
                   if len(rows) >= MIN_INNER_ITEMS else start)
        weights[-1] = min(POPULARITY_CAP, weights[-1])
        return weights, best_threshold(gate, base), best_threshold(gate_text, base)

    # -- features ----------------------------------------------------------------------------

    def _features(self, code: Sequence[str], text: str | None, docs: Sequence[str],
                  co: CoChange, recent: CoChange, shares: dict[str, float]) -> dict[str, list[float]]:
        partners = [co.partners(s) for s in code]
        lately = [recent.partners(s) for s in code]
        folders = {posixpath.dirname(s) for s in code}
        peers = [q for q in co.freq if posixpath.dirname(q) in folders and is_code(q)]
        peer_total = sum(co.freq[q] for q in peers) or 1
        query = [t for s in code for t in self._defined_terms(s)] + tokens(text or "", stemming=False)
        names, index = self._index(docs)
        scores = index.score(query) if names and query else {}
        top_text = max(scores.values(), default=0.0) or 1.0
        text_of = {names[i]: v / top_text for i, v in scores.items()}
        top = max((shares.get(d, 0.0) for d in docs), default=0.0) or 1.0
        span = co.commits or 1
        # A name match stands in for history: it counts less the more often the file has changed
        # (its co-change confidences are then measured, not guessed).
        own = [(name_words(s), NAME_SHRINK / (NAME_SHRINK + co.freq.get(s, 0)))
               for s in code if is_code(s) or is_test(s)]  # not a CI file's name
        out = {}
        # candidates in prior order: ties (and inputs with no evidence at all) go to the docs
        # that most often change with code
        for d in sorted(docs, key=lambda d: (-shares.get(d, 0.0), -co.freq.get(d, 0), d)):
            theirs = name_words(d)
            out[d] = [
                sum(p.get(d, 0.0) for p in partners) / len(partners),
                sum(p.get(d, 0.0) for p in lately) / len(lately),
                min(1.0, sum(co.pairs.get(q, {}).get(d, 0) for q in peers) / peer_total),
                text_of.get(d, 0.0),
                max((len(w & theirs) / len(theirs) * g for w, g in own), default=0.0) if theirs else 0.0,
                1.0 if is_change_log(d) else 0.0,
                1.0 if is_contributors(d) else 0.0,
                shares.get(d, 0.0) / top,
                co.last.get(d, 0) / span,
            ]
        return out

    def _index(self, docs: Sequence[str]) -> tuple[list[str], BM25]:
        """BM25 over the docs' code-name terms, built once per candidate set."""
        key = tuple(d for d in docs if d in self.doc_terms)
        if self._bm25 is None or self._bm25[0] != key:
            self._bm25 = (key, BM25([self.doc_terms[d] for d in key]))
        return list(key), self._bm25[1]

    def _defined_terms(self, path: str) -> list[str]:
        f = self.graph.facts.get(path)
        words = tokens(posixpath.splitext(posixpath.basename(path))[0], stemming=False)
        if f is not None:
            for d in f.defs:
                if not d.name.rsplit(".", 1)[-1].startswith("_"):
                    words += tokens(d.name.rsplit(".", 1)[-1], stemming=False)
        return words

    # -- answering ---------------------------------------------------------------------------

    def predict(self, query: Query, top: int = 10) -> ExpertPrediction:
        code = [p for p in query.files if not is_doc(p)]
        p_docs = needs_docs(code, query.text, self.doc_rate, self.word_rate, self.bases()) if code else 0.0
        threshold = self.threshold_text if query.text else self.threshold
        items: list[tuple[str, float]] = []
        reasons = {}
        if code:
            weights = [*self.weights[:-1], *(w * self.weights[-1] for w in TIE_WEIGHTS)]  # per feature
            total = sum(self.weights) or 1.0
            scored = []
            for d, feats in self._features(code, query.text, self.docs, self.cochange, self.recent,
                                           self.with_code).items():
                s = sum(w * f for w, f in zip(weights, feats))
                if s > 0 or feats[PRIOR] > 0:  # a doc that goes with code is a fallback when nothing else speaks
                    scored.append((s / total, d))
                    reasons[d] = {n: round(f, 3) for n, f in zip(FEATURES, feats) if f}
            scored.sort(key=lambda x: -x[0])
            items = [(d, round(min(1.0, s), 4)) for s, d in scored[:top]]
        shown = {d for d, _ in items}
        stale = [list(s) for s in self.stale if s[0] in shown]
        detail = {d: {"reasons": reasons.get(d, {}), "needs_docs": round(p_docs, 4),
                      "stale_references": [[n, line] for doc, n, line in stale if doc == d]} for d, _ in items}
        return self._prediction(items, needs_docs=round(p_docs, 4), docs_needed=p_docs >= threshold,
                                threshold=round(threshold, 4), stale_references=stale,
                                reasons={d: reasons[d] for d in shown if d in reasons}, detail=detail)

    def bases(self) -> dict[str, float]:
        """Needs-docs base rates per kind of file (a model saved before kinds: one rate for all)."""
        return self.base_rates or {"all": self.base_rate, "code": self.base_rate, "other": self.base_rate}

    def stale_references(self) -> list[tuple[str, str, int]]:
        """(doc path, name, line) for each code name a doc cites that the code no longer has."""
        return list(self.stale)

    # -- persistence -------------------------------------------------------------------------

    def model_data(self) -> dict[str, Any]:
        return {"cochange": self.cochange.to_data(), "recent": self.recent.to_data(),
                "with_code": self.with_code, "graph": self.graph.to_data(keep=("defs", "names")),
                "docs": self.docs, "doc_terms": self.doc_terms, "doc_rate": self.doc_rate,
                "word_rate": self.word_rate, "base_rate": self.base_rate, "base_rates": self.base_rates,
                "threshold": self.threshold,
                "threshold_text": self.threshold_text,
                "weights": self.weights, "stale": [list(s) for s in self.stale]}

    def load_model_data(self, data: dict[str, Any]) -> None:
        self.cochange = CoChange.from_data(data.get("cochange", {}))
        self.recent = CoChange.from_data(data.get("recent", {"half_life": HALF_LIFE}))
        self.with_code = {k: float(v) for k, v in data.get("with_code", {}).items()}
        self.graph = CodeGraph.from_data(data.get("graph", {}))
        self.docs = list(data.get("docs", []))
        self.doc_terms = {k: dict(v) for k, v in data.get("doc_terms", {}).items()}
        self._bm25 = None
        self.doc_rate = {k: list(v) for k, v in data.get("doc_rate", {}).items()}
        self.word_rate = {k: list(v) for k, v in data.get("word_rate", {}).items()}
        self.base_rate = float(data.get("base_rate", 0.0))
        self.base_rates = {k: float(v) for k, v in data.get("base_rates", {}).items()}
        self.threshold = float(data.get("threshold", 0.5))
        self.threshold_text = float(data.get("threshold_text", 0.5))
        weights = [float(w) for w in data.get("weights", DEFAULT_WEIGHTS)]
        self.weights = weights if len(weights) == len(DEFAULT_WEIGHTS) + 1 else [*DEFAULT_WEIGHTS, POPULARITY_CAP]
        self.stale = [(str(a), str(b), int(c)) for a, b, c in data.get("stale", [])]


def final_names(commits: Sequence[CommitRecord]) -> dict[str, str]:
    """{path: the name it has after ``commits``} for each path renamed or converted on the way
    (``CHANGES`` -> ``CHANGES.rst``, ``x.rst`` -> ``x.md``; chains followed)."""
    nxt: dict[str, str] = {}
    for c in map(doc_conversions, commits):
        for f in c.files:
            if f.status.startswith("R") and f.old_path and f.old_path != f.path:
                nxt[f.old_path] = f.path
                nxt.pop(f.path, None)  # a name taken again is live under it
    out = {}
    for p in nxt:
        q, seen = p, {p}
        while q in nxt and nxt[q] not in seen:
            q = nxt[q]
            seen.add(q)
        out[p] = q
    return out


def known_modified(window: Sequence[CommitRecord], alive: set[str]) -> Iterator[tuple[CommitRecord, list[str]]]:
    """(commit, the files it modified that were live at the cut) for each commit of an inner
    window, a doc by its name at the cut: a doc renamed or converted inside the window is still
    the candidate the counts know. Code is not followed (its inputs stay as the replay tasks
    give them): following code renames too cost httpx replay docs MRR 0.790 -> 0.762 (80/20;
    the other ten corpora equal)."""
    alias: dict[str, str] = {}  # name now -> name at the cut
    for c in window:
        mod = []
        for f in c.files:
            if f.status == "M" or f.status.startswith("R"):
                p = f.old_path if f.status.startswith("R") and f.old_path else f.path
                p = alias.get(p, p)
                if p in alive:
                    mod.append(p)
        yield c, mod
        for f in doc_conversions(c).files:
            if f.status.startswith("R") and f.old_path and f.old_path != f.path and is_doc(f.path):
                alias[f.path] = alias.pop(f.old_path, f.old_path)


def fusion_columns(feats: Sequence[float]) -> list[float]:
    """The learned fusion's columns: the specific channels, then popularity as one column."""
    n = len(DEFAULT_WEIGHTS)
    return [*feats[:n], sum(w * x for w, x in zip(TIE_WEIGHTS, feats[n:]))]


def with_code_rates(commits: Sequence[CommitRecord]) -> dict[str, float]:
    """{doc: share of the commits changing code (merges and mass commits aside) that touched it};
    a doc keeps its count through renames and format conversions."""
    counts: dict[str, int] = {}
    n = 0
    for c in map(doc_conversions, commits):
        for f in c.files:
            if f.status.startswith("R") and f.old_path in counts:
                counts[f.path] = counts.get(f.path, 0) + counts.pop(f.old_path)
        paths = [f.path for f in c.files if not f.status.startswith("D")]
        if c.is_merge or not paths or len(paths) > MAX_COMMIT_FILES or not any(is_code(p) for p in paths):
            continue
        n += 1
        for p in paths:
            if is_doc(p):
                counts[p] = counts.get(p, 0) + 1
    return {d: k / n for d, k in counts.items()} if n else {}


def file_kind(path: str) -> str:
    """"code" for source code; "other" for tests, CI and build configuration and the like."""
    return "code" if is_code(path) else "other"


def doc_rates(commits: Sequence[CommitRecord]) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, float]]:
    """Per non-doc file and per message word: [commits that changed it, those that also touched a
    doc]; plus base rates over the commits that changed code ("code"), that changed only other
    files ("other": tests, CI, configuration), and over all ("all"). A test or config file's own
    rate counts only the commits that changed no code, so it says whether a change to it alone
    needs docs (a test changed with a fix inherits nothing from the fix)."""
    files: dict[str, list[int]] = {}
    words: dict[str, list[int]] = {}
    seen: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for c in commits:
        changed = [f.path for f in c.files if not is_doc(f.path) and not f.status.startswith("D")]
        if c.is_merge or not changed:
            continue
        hit = int(any(is_doc(f.path) for f in c.files))
        has_code = any(is_code(p) for p in changed)
        for kind in ("all", "code" if has_code else "other"):
            seen[kind] += 1
            hits[kind] += hit
        for p in changed:
            if has_code and not is_code(p):
                continue  # a test or config's own rate: when no code changed with it
            row = files.setdefault(p, [0, 0])
            row[0] += 1
            row[1] += hit
        if has_code:
            for w in set(tokens(c.message.split("\n", 1)[0])):
                row = words.setdefault(w, [0, 0])
                row[0] += 1
                row[1] += hit
    return files, words, {k: hits[k] / n for k, n in seen.items()}


def needs_docs(files_changed: Sequence[str], message: str | None, files: dict[str, list[int]],
               words: dict[str, list[int]], bases: dict[str, float]) -> float:
    """P(a doc changes too | these files change [, with this message]): each file's own rate,
    shrunk towards its kind's base rate; the highest wins."""
    base = bases.get("all", 0.0)
    rates = []
    for p in files_changed:
        k, n = files.get(p, [0, 0])[1], files.get(p, [0, 0])[0]
        prior = bases.get(file_kind(p), base)
        rates.append((k + SHRINK * prior) / (n + SHRINK))
    p = max(rates, default=base)
    if message:
        lifts = []
        for w in set(tokens(message.split("\n", 1)[0])):
            n, k = words.get(w, [0, 0])
            if n >= 3:
                lifts.append((k + SHRINK * base) / (n + SHRINK))
        if lifts:
            p = (p + max(lifts)) / 2
    return p


def name_words(path: str) -> frozenset[str]:
    """Stemmed words of a file's name (a test's: of what it tests; ``__init__``/``index``: of
    its folder)."""
    name = test_stem(path) if is_test(path) else posixpath.basename(path).split(".", 1)[0]
    if name.strip("_").lower() in ("init", "index", "readme", "") and "/" in path:
        name = posixpath.basename(posixpath.dirname(path))
    return frozenset(tokens(name.replace("-", "_"), stemming=True))


def doc_conversions(commit: CommitRecord) -> CommitRecord:
    """A doc deleted and one of the same folder and name added in the same commit (``x.rst`` ->
    ``x.md``) is a rename: the new doc keeps the old one's co-change history."""
    gone = {posixpath.splitext(f.path)[0]: f.path for f in commit.files
            if f.status.startswith("D") and is_doc(f.path)}
    if not gone:
        return commit
    files, used = [], set()
    for f in commit.files:
        old = gone.get(posixpath.splitext(f.path)[0])
        if f.status.startswith("A") and is_doc(f.path) and old and old not in used:
            used.add(old)
            files.append(FileChange(path=f.path, status="R", old_path=old, insertions=f.insertions,
                                    deletions=f.deletions))
        else:
            files.append(f)
    if not used:
        return commit
    return msgspec.structs.replace(commit, files=[f for f in files if f.path not in used])


def best_threshold(gate: Sequence[tuple[float, bool]], base: float) -> float:
    """The cut on the needs-docs probability with the best F1 on the inner split (base rate when
    there is nothing to learn from)."""
    if not any(y for _, y in gate):
        return max(base, 0.5)
    best, best_f1 = base, -1.0
    pos = sum(1 for _, y in gate if y)
    for thr in sorted({round(p, 4) for p, _ in gate}):
        tp = sum(1 for p, y in gate if y and p >= thr)
        fp = sum(1 for p, y in gate if not y and p >= thr)
        f1 = 2 * tp / (2 * tp + fp + (pos - tp)) if tp else 0.0
        if f1 > best_f1:
            best, best_f1 = thr, f1
    return best
