"""What the test, doc and refactor experts share: path roles, change coupling, fusion weights.

* :func:`is_test`, :func:`is_doc`, :func:`is_code` classify repository paths (Python first, plus
  the usual JavaScript/TypeScript, Go, Java and Rust layouts).
* :class:`CoChange` counts, from commit records, how often each file changed and how often two
  files changed together (ROSE-style association counts). Renames carry counts to the new path;
  mass commits (more than ``MAX_COMMIT_FILES`` files) and merges are skipped, as code-maat does.
  Counting is additive, so an incremental update equals a fit over the same commits.
* :class:`ChangeGraphExpert` is the learning skeleton of the experts built on those counts and
  the code graph: ``fit`` starts afresh, ``update`` adds the new commits, both re-derive the rest.
* :func:`learn_weights` fits the weights of a linear fusion of per-candidate features by
  coordinate ascent on mean reciprocal rank, on an inner time split of a repository's own history.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from git_ml.experts.base import Expert, TrainingData
from git_ml.experts.codegraph import CodeGraph, language
from git_ml.records import CommitRecord, SessionRecord

MAX_COMMIT_FILES = 30
DOC_EXTS = (".md", ".rst", ".txt", ".adoc")
_NOT_DOCS = ("requirements", "constraints", "license", "licence", "copying", "notice", "cmakelists")
_TEST_DIRS = {"test", "tests", "testing", "__tests__", "spec", "specs"}
_SUITE_DIRS = {"tests", "__tests__"}


@lru_cache(maxsize=1 << 16)
def is_test(path: str) -> bool:
    """A test file (or test support such as ``conftest.py``) in any supported language."""
    name = posixpath.basename(path)
    parts = path.split("/")
    if path.endswith(".py"):
        # A test suite's folder (``tests/``, ``testing/``) at the top, or ``tests`` anywhere; a
        # ``test``/``testing`` package inside a package is library code for test authors
        # (``sphinx/testing/util.py``, ``django/test/utils.py``), not tests to run.
        return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
                or "test" in parts[0] or any(p in _SUITE_DIRS for p in parts[1:-1]))
    if path.endswith(".go"):
        return name.endswith("_test.go")
    if path.endswith(".java"):
        return "src/test/" in path or name.endswith(("Test.java", "Tests.java"))
    if path.endswith(".rs"):
        return parts[0] == "tests" or "/tests/" in path
    if language(path) == "js":
        return (".test." in name or ".spec." in name or "__tests__" in parts
                or any(p in _TEST_DIRS for p in parts[:-1]))
    return False


def is_doc(path: str) -> bool:
    """A documentation file (prose: Markdown, reStructuredText, AsciiDoc, text)."""
    low = path.lower()
    # ``requirements/dev.txt`` pins packages whatever its own name says
    return (low.endswith(DOC_EXTS) and not is_test(path)
            and not any(n in part for part in low.split("/") for n in _NOT_DOCS))


def is_code(path: str) -> bool:
    """Non-test source code (examples and docs folders excluded)."""
    return (language(path) not in (None, "gomod") and not is_test(path)
            and not path.startswith(("docs/", "doc/", "examples/")))


def test_file(test_id: str) -> str:
    """The file of a test id (``tests/test_x.py::TestA::test_b`` -> ``tests/test_x.py``)."""
    return test_id.split("::", 1)[0]


def stem(path: str) -> str:
    """A file's name without directories or extensions (``a/b/Foo.test.ts`` -> ``foo``)."""
    return posixpath.basename(path).split(".", 1)[0].lower()


_SPLIT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_NOISE = frozenset("test tests spec src lib py js ts go rs java main index init".split())


@lru_cache(maxsize=1 << 16)
def path_words(path: str) -> frozenset[str]:
    """Lower-case words of a path's directories and file name, minus layout noise."""
    words = set()
    for part in re.split(r"[/._-]+", path):
        words.update(w.lower() for w in _SPLIT.findall(part))
    return frozenset(words - _NOISE)


def test_stem(path: str) -> str:
    """What a test file is named after: ``test_foo.py``/``foo_test.go``/``FooTest.java``/
    ``foo.spec.ts`` -> ``foo``."""
    s = posixpath.basename(path).split(".", 1)[0]
    for pre in ("test_", "tests_", "test"):
        if s.lower().startswith(pre) and len(s) > len(pre):
            s = s[len(pre):]
            break
    for suf in ("_test", "_tests", "Tests", "Test", "_spec"):
        if s.endswith(suf) and len(s) > len(suf):
            s = s[: -len(suf)]
            break
    return s.lower().lstrip("_")


@lru_cache(maxsize=1 << 16)
def naming_score(source: str, test: str) -> float:
    """1 when ``test`` is named after ``source`` (``core.py`` ~ ``test_core.py``), 0.8 when it
    sits in a test folder named after it, partial for a shared word, 0 otherwise."""
    s, t = stem(source), test_stem(test)
    if not s or not t:
        return 0.0
    if s == t:
        return 1.0
    # A test folder named after the module (``utils.py`` ~ ``tests/test_utils/test_echo.py``).
    if any(test_stem(d) == s for d in posixpath.dirname(test).split("/")[1:]):
        return 0.8
    if s.strip("_") and (s.strip("_") in t.split("_") or t in s.split("_")):
        return 0.6
    words = path_words(source) & path_words(test)
    return 0.3 * min(1.0, len(words) / 2) if words else 0.0


# --------------------------------------------------------------------------------------------
# Change coupling


class CoChange:
    """File change counts and pair co-change counts over commit records (oldest first).

    With ``half_life`` (in commits), older commits count less: every count is kept in units of
    the newest commit's weight, so recent coupling outweighs a layout the project left behind.
    """

    def __init__(self, half_life: float | None = None) -> None:
        self.freq: dict[str, float] = {}
        self.pairs: dict[str, dict[str, float]] = {}
        self.last: dict[str, int] = {}  # path -> index of the last commit that changed it
        self.commits = 0
        self.half_life = half_life
        self._unit = 1.0  # weight of the next commit, relative to the first one

    def add(self, commits: Iterable[CommitRecord]) -> None:
        """Count more commits (in order)."""
        for c in commits:
            if c.is_merge:
                continue
            self.commits += 1
            for f in c.files:
                if f.status.startswith("R") and f.old_path and f.old_path != f.path:
                    self._rename(f.old_path, f.path)
            paths = sorted({f.path for f in c.files if not f.status.startswith("D")})
            for f in c.files:
                if f.status.startswith("D"):
                    self.forget(f.path)
            if self.half_life:
                self._unit *= 2 ** (1 / self.half_life)
                if self._unit > 1e100:  # keep the numbers finite: rescale everything
                    self._rescale()
            if not paths or len(paths) > MAX_COMMIT_FILES:
                continue
            w = self._unit
            for p in paths:
                self.freq[p] = self.freq.get(p, 0) + w
                self.last[p] = self.commits
                row = self.pairs.setdefault(p, {})
                for q in paths:
                    if q != p:
                        row[q] = row.get(q, 0) + w

    def _rescale(self) -> None:
        u = self._unit
        self.freq = {k: v / u for k, v in self.freq.items()}
        self.pairs = {k: {q: v / u for q, v in row.items()} for k, row in self.pairs.items()}
        self._unit = 1.0

    def _rename(self, old: str, new: str) -> None:
        if old not in self.freq:
            return
        self.freq[new] = self.freq.get(new, 0) + self.freq.pop(old)
        self.last[new] = max(self.last.get(new, 0), self.last.pop(old, 0))
        row = self.pairs.pop(old, {})
        mine = self.pairs.setdefault(new, {})
        for q, n in row.items():
            mine[q] = mine.get(q, 0) + n
            other = self.pairs.get(q)
            if other is not None and old in other:
                other[new] = other.get(new, 0) + other.pop(old)
        mine.pop(new, None)

    def forget(self, path: str) -> None:
        """Drop a deleted file (its partners keep no link to it)."""
        self.freq.pop(path, None)
        self.last.pop(path, None)
        for q in self.pairs.pop(path, {}):
            row = self.pairs.get(q)
            if row is not None:
                row.pop(path, None)

    def confidence(self, source: str, target: str) -> float:
        """P(target changes | source changes), from history."""
        n = self.freq.get(source, 0)
        return self.pairs.get(source, {}).get(target, 0) / n if n else 0.0

    def partners(self, source: str) -> dict[str, float]:
        """Every file that changed with ``source``, with its confidence."""
        n = self.freq.get(source, 0)
        return {q: c / n for q, c in self.pairs.get(source, {}).items()} if n else {}

    def to_data(self) -> dict[str, Any]:
        return {"freq": self.freq, "pairs": self.pairs, "last": self.last, "commits": self.commits,
                "half_life": self.half_life, "unit": self._unit}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "CoChange":
        co = cls(data.get("half_life"))
        co.freq = dict(data.get("freq", {}))
        co.pairs = {k: dict(v) for k, v in data.get("pairs", {}).items()}
        co.last = dict(data.get("last", {}))
        co.commits = int(data.get("commits", 0))
        co._unit = float(data.get("unit", 1.0))
        return co


class ChangeGraphExpert(Expert):
    """An expert that counts change coupling over commits (all of them, and ``recent`` with a
    half-life) and reads the code graph of the snapshot it learns from.

    ``fit`` resets the counts and :meth:`_reset` state, ``update`` adds only the new commits; both
    refresh the graph (re-parsing only the files whose content changed) and call :meth:`_derive`
    for what is recomputed from ``data`` each time, so an update equals a fit from scratch.
    """

    def __init__(self, expert_id: str | None = None):
        super().__init__(expert_id)
        self.cochange = CoChange()
        self.recent = CoChange(HALF_LIFE)
        self.graph = CodeGraph()

    def fit(self, data: TrainingData) -> None:
        self.cochange = CoChange()
        self.recent = CoChange(HALF_LIFE)
        self.graph = CodeGraph()
        self._reset()
        self._learn(data, data.commits)

    def update(self, data: TrainingData, new_commits: Sequence[CommitRecord],
               new_sessions: Sequence[SessionRecord] = ()) -> None:
        self._learn(data, new_commits)

    def _learn(self, data: TrainingData, commits: Sequence[CommitRecord]) -> None:
        self.cochange.add(commits)
        self.recent.add(commits)
        if data.snapshot is not None:
            self.graph = self.graph.refresh(data.snapshot)
        self._derive(data, commits)
        self.trained_on_commits = len(data.commits)
        self.trained_on_sessions = len(data.sessions)
        self.git_hash = getattr(data.snapshot, "revision", "") or data.revision

    def _reset(self) -> None:
        """Clear state that ``update`` adds to (beyond the counts and the graph)."""

    def _derive(self, data: TrainingData, commits: Sequence[CommitRecord]) -> None:
        """Recompute what depends on the whole of ``data``; ``commits`` are the new ones."""
        raise NotImplementedError

    def paths(self, data: TrainingData, keep: Any = None) -> list[str]:
        """The snapshot's paths (or, without one, the paths seen in history) that ``keep`` admits."""
        found = data.snapshot.files() if data.snapshot is not None else self.cochange.freq
        return sorted(p for p in found if keep is None or keep(p))


def modified_existing(commit: CommitRecord, alive: set[str]) -> list[str]:
    """The files a commit modified that existed before it (renames by their old path), the
    ground truth of the replay tasks."""
    out = []
    for f in commit.files:
        if f.status in ("M",) or f.status.startswith("R"):
            p = f.old_path if f.status.startswith("R") and f.old_path else f.path
            if p in alive:
                out.append(p)
    return out


def advance_alive(alive: set[str], commit: CommitRecord) -> None:
    """Apply a commit's adds, deletes and renames to the set of live paths."""
    for f in commit.files:
        if f.status.startswith("D"):
            alive.discard(f.path)
        else:
            if f.old_path:
                alive.discard(f.old_path)
            alive.add(f.path)


# --------------------------------------------------------------------------------------------
# Fusion weights

INNER_CUTS = (0.5, 0.65, 0.8)
HALF_LIFE = 300.0  # commits


def rolling_windows(commits: Sequence[CommitRecord], cuts: Sequence[float] = INNER_CUTS,
                    half_life: float = HALF_LIFE):
    """Rolling-origin inner split: at each cut, yield ``(counts, recent counts, live paths, cut,
    window)`` with counts of the ``cut`` commits before it and the commits up to the next cut.
    The yielded objects change after the consumer resumes: use them before the next step."""
    co, recent, alive = CoChange(), CoChange(half_life), set()
    bounds = [int(len(commits) * c) for c in cuts] + [len(commits)]
    pos = 0
    for b, nxt in zip(bounds, bounds[1:]):
        co.add(commits[pos:b])
        recent.add(commits[pos:b])
        for c in commits[pos:b]:
            advance_alive(alive, c)
        pos = b
        yield co, recent, alive, b, commits[b:nxt]


def inner_items(commits: Sequence[CommitRecord], select, limit: int | None = None, on_cut=None):
    """The rolling inner split's items, each with the state it is scored against: yields
    ``(counts, recent counts, live paths, item)`` for the last ``limit`` commits (default
    ``MAX_ROWS``) for which ``select(commit, live paths)`` gives an item (not None). A first cheap
    pass finds them, so features are only computed for the items that will be used. With
    ``on_cut``, ``on_cut(cut)`` is called before the first item after each cut (the number of
    commits before it), so a caller can read the code as it was there."""
    limit = MAX_ROWS if limit is None else limit
    bounds = [int(len(commits) * c) for c in INNER_CUTS] + [len(commits)]
    alive: set[str] = set()
    eligible = []
    pos = 0
    for b, nxt in zip(bounds, bounds[1:]):
        for c in commits[pos:b]:
            advance_alive(alive, c)
        pos = b
        eligible += [i for i in range(b, nxt) if not commits[i].is_merge and select(commits[i], alive) is not None]
    keep = set(eligible[-limit:]) if limit else set()
    for co, recent, live, cut, window in rolling_windows(commits):
        first = True
        for i, c in enumerate(window, cut):
            if i in keep:
                if first and on_cut is not None:
                    on_cut(cut)
                first = False
                yield co, recent, live, select(c, live)


GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


class _Row:
    """One inner-split item as feature columns (candidates in their given order) + true indices."""

    __slots__ = ("cols", "truth")

    def __init__(self, cands: dict[str, list[float]], truth: set[str], width: int,
                 keep: Sequence[float] | None = None, limit: int = 0):
        items = list(cands.items())
        if keep is not None and limit and len(items) > limit:
            # Candidates far down under the starting weights cannot change the MRR much: keep the
            # top ``limit`` (in their original order, so ties still break the same way).
            order = sorted(range(len(items)), key=lambda i: -sum(w * f for w, f in zip(keep, items[i][1])))
            chosen = sorted(order[:limit])
            items = [items[i] for i in chosen]
        self.cols = [[f[k] for _, f in items] for k in range(width)]
        self.truth = [i for i, (c, _) in enumerate(items) if c in truth]


def _reciprocal_rank(scores: list[float], truth: list[int]) -> float:
    """1/rank of the best-scored true candidate; ties go to the earlier candidate."""
    best_i = max(truth, key=lambda i: (scores[i], -i))
    best = scores[best_i]
    ahead = sum(1 for v in scores if v > best) + sum(1 for v in scores[:best_i] if v == best)
    return 1.0 / (ahead + 1)


def _scores(row: _Row, weights: Sequence[float], skip: int = -1) -> list[float]:
    out = [0.0] * len(row.cols[0]) if row.cols else []
    for k, w in enumerate(weights):
        if w and k != skip:
            out = [a + w * f for a, f in zip(out, row.cols[k])]
    return out


def rank_mrr(rows: Sequence[tuple[dict[str, list[float]], set[str]]], weights: Sequence[float]) -> float:
    """Mean reciprocal rank of the first true candidate when candidates are scored by
    ``weights · features`` (ties keep the candidates' given order)."""
    prepared = [_Row(c, t, len(weights)) for c, t in rows]
    prepared = [r for r in prepared if r.truth and r.cols and r.cols[0]]
    return sum(_reciprocal_rank(_scores(r, weights), r.truth) for r in prepared) / max(1, len(rows))


MAX_ROWS = 400  # the most recent inner items fit the weights
MAX_CANDIDATES = 100  # per item, by the starting fusion


def learn_weights(rows: Sequence[tuple[dict[str, list[float]], set[str]]], start: Sequence[float],
                  rounds: int = 3, min_items: float = 0.0, min_z: float = 0.0) -> list[float]:
    """Coordinate ascent over :data:`GRID` from ``start`` on mean reciprocal rank, moving a weight
    to its best grid value only when that raises the score, so a weak channel is switched off
    rather than allowed to drag the fusion down; with ``min_items``, only when it raises the
    summed reciprocal ranks by more than that many items' worth (the start is left only for a
    clear gain, not for the noise of a small inner split); with ``min_z``, also by more than
    ``min_z`` times the spread of the per-item changes (a paired test: a move that reorders many
    items both ways needs a larger net gain than one that lifts a few). Deterministic. Each step
    re-scores only the coordinate being moved; only the latest ``MAX_ROWS`` items (rows are in
    time order) and their top candidates are used."""
    best = list(start)
    rows = rows[-MAX_ROWS:]
    prepared = [_Row(c, t, len(start), start, MAX_CANDIDATES) for c, t in rows]
    prepared = [r for r in prepared if r.truth and r.cols and r.cols[0]]
    if not prepared:
        return best
    n = len(rows)
    min_gain = max(1e-9, min_items / n)

    def rr_with(base: list[list[float]], k: int, g: float) -> list[float]:
        return [_reciprocal_rank([x + g * f for x, f in zip(b, r.cols[k])] if g else b, r.truth)
                for r, b in zip(prepared, base)]

    current = [_reciprocal_rank(_scores(r, best), r.truth) for r in prepared]
    best_val = sum(current) / n
    for _ in range(rounds):
        improved = False
        for k in range(len(best)):
            base = [_scores(r, best, skip=k) for r in prepared]
            move = None
            for g in GRID:
                if g == best[k]:
                    continue
                per_item = rr_with(base, k, g)
                val = sum(per_item) / n
                need = min_gain
                if min_z:
                    spread = math.sqrt(sum((a - b) ** 2 for a, b in zip(per_item, current)))
                    need = max(need, min_z * spread / n)
                if val > best_val + need and (move is None or val > move[1]):
                    move = (g, val, per_item)
            if move is not None:
                best[k], best_val, current = move
                improved = True
        if not improved:
            break
    return best
