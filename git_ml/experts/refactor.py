"""RefactorExpert: files being refactored (+ refactor type) -> the files it drags along, each
with how it is affected.

Impact types (metadata ``impacts``), each also a fusion feature in [0, 1]:

* ``imports``     the file imports a refactored file (1/distance through the import graph);
* ``imported``    a refactored file imports it directly;
* ``references``  it uses names the refactored files define (calls, attributes);
* ``cochange``    it changed together with them in past commits (confidence);
* ``tests``       it is a test of them (naming convention, or a test importing them).

Plus ``recent`` (co-change with a half-life), ``prior`` (change frequency) and ``words`` (shared
path words, which stand in for the history a seed lacks: they fade as its past commits grow).
Weights are learned on a rolling inner time split ("first file of a commit -> its other files");
a rename, move or signature change doubles the weight of the structural impacts (importers and
references), whose code must follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from git_ml.experts.base import Query, TrainingData
from git_ml.experts.changes import (
    HALF_LIFE,
    ChangeGraphExpert,
    CoChange,
    is_test,
    learn_weights,
    modified_existing,
    naming_score,
    path_words,
    inner_items,
)
from git_ml.experts.codegraph import CodeGraph
from git_ml.records import CommitRecord, ExpertPrediction

FEATURES = ("imports", "imported", "references", "cochange", "tests", "recent", "prior", "words")
IMPACTS = FEATURES[:5]
DEFAULT_WEIGHTS = (0.5, 0.25, 0.25, 1.0, 0.5, 0.5, 0.25, 0.25)
STRUCTURAL = {"rename", "move", "signature", "extract", "inline"}
MIN_INNER_ITEMS = 8
MAX_DEFS = 200  # names per file used for the references channel
MAX_CANDIDATES = 150
WORDS_BACKOFF = 5.0  # a seed's past commits at which its path words count half
TOP_PRIOR = 50  # the most changed files are candidates even with no link to the seeds


class RefactorExpert(ChangeGraphExpert):
    """Ranks the files affected by refactoring the given files; see the module docstring."""

    expert_type = "refactor"
    version = "1.1.0"

    def __init__(self, expert_id: str | None = None):
        super().__init__(expert_id)
        self.files: list[str] = []
        self.weights: list[float] = list(DEFAULT_WEIGHTS)
        self._users: dict[str, set[str]] | None = None
        self._defined: dict[str, list[str]] | None = None

    # -- learning ----------------------------------------------------------------------------

    def _derive(self, data: TrainingData, commits: Sequence[CommitRecord]) -> None:
        self.files = self.paths(data)
        self._users = self._defined = None
        self.weights = self._fit_weights(data.commits)

    def _fit_weights(self, commits: Sequence[CommitRecord]) -> list[float]:
        def select(c: CommitRecord, alive: set[str]):
            mod = modified_existing(c, alive)
            return mod if 2 <= len(mod) <= 20 else None

        rows = [(self._features([mod[0]], co, recent, alive), set(mod[1:]))
                for co, recent, alive, mod in inner_items(commits, select)]
        return learn_weights(rows, DEFAULT_WEIGHTS) if len(rows) >= MIN_INNER_ITEMS else list(DEFAULT_WEIGHTS)

    # -- features ----------------------------------------------------------------------------

    def _name_users(self) -> dict[str, set[str]]:
        """Identifier -> files that use it (built lazily from the graph's names)."""
        if self._users is None:
            users: dict[str, set[str]] = {}
            for p, f in self.graph.facts.items():
                for n in f.names:
                    users.setdefault(n, set()).add(p)
            self._users = users
        return self._users

    def _references(self, seeds: Sequence[str]) -> dict[str, float]:
        users = self._name_users()
        names = set()
        for s in seeds:
            f = self.graph.facts.get(s)
            if f is None:
                continue
            for d in f.defs[:MAX_DEFS]:
                short = d.name.rsplit(".", 1)[-1]
                if len(short) > 3 and not short.startswith("__"):
                    names.add(short)
        # A name defined in many files (``run``, ``get``) says little about who uses these ones.
        if self._defined is None:
            self._defined = self.graph.defined_names()
        defined = self._defined
        hits: dict[str, float] = {}
        for n in names:
            owners = len(defined.get(n, ())) or 1
            for p in users.get(n, ()):
                hits[p] = hits.get(p, 0.0) + 1.0 / owners
        top = max(hits.values(), default=0.0) or 1.0
        return {p: v / top for p, v in hits.items()}

    def _features(self, seeds: Sequence[str], co: CoChange, recent: CoChange,
                  alive: set[str] | None = None) -> dict[str, list[float]]:
        importers: dict[str, int] = {}
        for s in seeds:
            for p, d in self.graph.dependents([s]).items():
                importers[p] = min(d, importers.get(p, d))
        imported = {p for s in seeds for p in self.graph.imports.get(s, ())}
        refs = self._references(seeds)
        partners = [co.partners(s) for s in seeds]
        lately = [recent.partners(s) for s in seeds]
        top = max(co.freq.values(), default=0) or 1
        # Path words stand in for history a seed lacks: a file with many past commits is known by
        # its co-change, and its name's likeness to others' says little (``CHANGES.rst``).
        words = [(path_words(s), WORDS_BACKOFF / (WORDS_BACKOFF + co.freq.get(s, 0))) for s in seeds]
        pool = set(importers) | imported | set(refs) | {q for p in partners for q in p}
        pool |= {p for p in co.freq if is_test(p)}
        pool |= set(sorted(co.freq, key=lambda p: -co.freq[p])[:TOP_PRIOR])
        if alive is not None:
            pool &= alive
        elif self.files:  # the files of the snapshot learned from: a deleted file is affected by nothing
            pool &= set(self.files)
        pool -= set(seeds)
        out = {}
        for p in sorted(pool, key=lambda p: (-co.freq.get(p, 0), p)):
            test = is_test(p)
            pw = path_words(p)
            out[p] = [
                1.0 / importers[p] if p in importers else 0.0,
                1.0 if p in imported else 0.0,
                refs.get(p, 0.0),
                sum(q.get(p, 0.0) for q in partners) / len(partners),
                max((naming_score(s, p) for s in seeds), default=0.0) if test else 0.0,
                sum(q.get(p, 0.0) for q in lately) / len(lately),
                co.freq.get(p, 0) / top,
                max((trust * len(w & pw) / len(w | pw) for w, trust in words if w | pw), default=0.0),
            ]
            if test and p in importers:
                out[p][4] = max(out[p][4], 0.5 / importers[p])
        if len(out) > MAX_CANDIDATES:  # keep the strongest by the default fusion (ranks stay stable)
            keep = sorted(out, key=lambda p: -sum(w * f for w, f in zip(DEFAULT_WEIGHTS, out[p])))
            keep_set = set(keep[:MAX_CANDIDATES])
            out = {p: f for p, f in out.items() if p in keep_set}
        return out

    # -- answering ---------------------------------------------------------------------------

    def predict(self, query: Query, top: int = 10) -> ExpertPrediction:
        seeds = list(dict.fromkeys(query.files))
        if not seeds:
            return self._prediction([], impacts={})
        weights = list(self.weights)
        if (query.refactor_type or "").lower() in STRUCTURAL:
            for i in (0, 2):
                weights[i] = max(weights[i], 0.25) * 2
        total = sum(weights) or 1.0
        scored = []
        impacts = {}
        for p, feats in self._features(seeds, self.cochange, self.recent).items():
            s = sum(w * f for w, f in zip(weights, feats))
            if s > 0:
                scored.append((s / total, p))
                impacts[p] = [n for n, f in zip(IMPACTS, feats) if f > 0]
        scored.sort(key=lambda x: -x[0])
        items = [(p, round(min(1.0, s), 4)) for s, p in scored[:top]]
        return self._prediction(items, impacts={p: impacts[p] for p, _ in items},
                                refactor_type=query.refactor_type or "",
                                detail={p: {"impacts": impacts[p]} for p, _ in items})

    # -- persistence -------------------------------------------------------------------------

    def model_data(self) -> dict[str, Any]:
        return {"cochange": self.cochange.to_data(), "recent": self.recent.to_data(),
                "graph": self.graph.to_data(keep=("imports", "defs", "names")),
                "files": self.files, "weights": self.weights}

    def load_model_data(self, data: dict[str, Any]) -> None:
        self.cochange = CoChange.from_data(data.get("cochange", {}))
        self.recent = CoChange.from_data(data.get("recent", {"half_life": HALF_LIFE}))
        self.graph = CodeGraph.from_data(data.get("graph", {}))
        self.files = list(data.get("files", []))
        self.weights = [float(w) for w in data.get("weights", DEFAULT_WEIGHTS)]
        self._users = self._defined = None
