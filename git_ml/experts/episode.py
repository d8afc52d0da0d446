"""The episode expert: what one agent session showed, as a small model (the seed's "short-term
memory" of a development episode, to be consolidated into the domain experts later).

It keeps, per session:

* ``files``: the files the session worked on, modified (and committed) weighing more than read;
* ``queries``: each prompt's terms with the files touched while answering it (query -> files);
* ``errors``: each error's terms with the files it named and the files edited after it
  (error -> fix);

and derives the file co-occurrence of the episode from them. :meth:`EpisodeExpert.predict` ranks
files for a query by term overlap with the prompts and errors (weighted by rarity within the
episode), by co-occurrence with the query's seed files, and by query terms in the files' paths.
State is per session, so a re-captured session replaces its old data and ``update`` equals ``fit``
over the same sessions. :meth:`EpisodeExpert.restrict_to` limits answers to the files that exist
now (a file the session touched may since have gone, or come from another project), so a stale
path never reaches a user.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from git_ml.experts.base import Expert, Query, TrainingData
from git_ml.records import CommitRecord, ExpertPrediction, SessionRecord

MODIFIED, COMMITTED, READ = 2.0, 2.0, 1.0
MAX_FILES = 200  # per session, the most weighted files are kept
MAX_COOCCUR = 60  # files taking part in the co-occurrence table of one session

_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP = frozenset("""a an and are as at be but by can do does for from has have how i if in into is it its
make me my no not of on or our please so that the their then there this to up us use we what when where
which why will with you your should would could add fix file files code also just now new get set run
""".split())


def tokens(text: str) -> list[str]:
    """Lower-case word pieces of text or a path (camelCase and snake_case split), minus stop words."""
    return [t for t in (m.group(0).lower() for m in _TOKEN.finditer(text)) if len(t) > 1 and t not in _STOP]


def _session_block(record: SessionRecord, commits: Iterable[CommitRecord]) -> dict[str, Any]:
    weights: dict[str, float] = defaultdict(float)
    for f in record.files_read:
        weights[f] = max(weights[f], READ)
    for f in record.files_modified:
        weights[f] = max(weights[f], MODIFIED)
    for c in commits:
        if c.hash in record.commits or c.session_id == record.session_id:
            for fc in c.files:
                weights[fc.path] = max(weights[fc.path], COMMITTED)
    kept = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FILES]
    queries = []
    for i, prompt in enumerate(record.prompts):
        files = record.prompt_files[i] if i < len(record.prompt_files) else []
        if not files and len(record.prompts) == 1:
            files = [f for f, _ in kept]
        terms = sorted(set(tokens(prompt)))
        if terms and files:
            queries.append({"terms": terms, "files": list(files)})
    errors = []
    for err in record.errors:
        terms = sorted(set(tokens(err.message)))
        if terms and (err.files or err.fixed_by):
            errors.append({"terms": terms, "files": list(err.files), "fixed_by": list(err.fixed_by)})
    return {"files": dict(kept), "queries": queries, "errors": errors,
            "tests": sorted({t for run in record.test_runs for t in run.targets})}


def _cooccurrence(blocks: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for block in blocks:
        files = sorted(block["files"].items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_COOCCUR]
        for a, wa in files:
            for b, wb in files:
                if a != b:
                    out[a][b] += min(wa, wb) / MODIFIED
    return {a: dict(bs) for a, bs in out.items()}


class EpisodeExpert(Expert):
    """One agent session (or a few) as a micro-expert."""

    expert_type = "episode"
    version = "1.0.0"

    def __init__(self, expert_id: str | None = None):
        super().__init__(expert_id)
        self.sessions: dict[str, dict[str, Any]] = {}
        self._derived: tuple[dict, dict, dict] | None = None
        self._allowed: Collection[str] | None = None

    def restrict_to(self, files: Collection[str] | None) -> None:
        """Propose only these files from now on (the repository's files at HEAD); None lifts it.
        Replay at past revisions leaves it unset: files gone since were right then."""
        self._allowed = files

    # -- learning ----------------------------------------------------------------------------

    def fit(self, data: TrainingData) -> None:
        self.sessions = {}
        self.trained_on_commits = 0
        self.trained_on_sessions = 0
        self.update(data, data.commits, data.sessions)

    def update(self, data: TrainingData, new_commits: Sequence[CommitRecord],
               new_sessions: Sequence[SessionRecord] = ()) -> None:
        known = {c.hash for c in data.commits}
        commits = list(data.commits) + [c for c in new_commits if c.hash not in known]
        for record in new_sessions:
            self.sessions[record.session_id] = _session_block(record, commits)
            if record.commits:
                self.git_hash = record.commits[-1]
        self.trained_on_sessions = len(self.sessions)
        self.trained_on_commits = len({c.hash for c in commits})
        self._derived = None

    # -- answering ---------------------------------------------------------------------------

    def _model(self) -> tuple[dict[str, float], dict[str, float], dict[str, dict[str, float]]]:
        """(file weights, term idf, co-occurrence) over all sessions, computed once."""
        if self._derived is None:
            weights: dict[str, float] = defaultdict(float)
            df: dict[str, int] = defaultdict(int)
            docs = 0
            for block in self.sessions.values():
                for f, w in block["files"].items():
                    weights[f] = max(weights[f], w)
                for pattern in block["queries"] + block["errors"]:
                    docs += 1
                    for t in pattern["terms"]:
                        df[t] += 1
            for f in weights:
                docs += 1
                for t in set(tokens(f)):
                    df[t] += 1
            idf = {t: math.log(1 + (docs + 1) / (n + 0.5)) for t, n in df.items()}
            self._derived = (dict(weights), idf, _cooccurrence(self.sessions.values()))
        return self._derived  # type: ignore[return-value]

    def predict(self, query: Query, top: int = 10) -> ExpertPrediction:
        weights, idf, cooc = self._model()
        qterms = set(tokens(query.text or ""))
        seeds = set(query.files)
        scores: dict[str, float] = defaultdict(float)
        default_idf = max(idf.values(), default=1.0)
        # fsum: exact whatever the set's order, so the same query ranks the same way every run
        qmass = math.fsum(idf.get(t, default_idf) for t in qterms) or 1.0
        top_weight = max(weights.values(), default=1.0)

        def similarity(terms: list[str]) -> float:
            return math.fsum(idf.get(t, default_idf) for t in qterms.intersection(terms)) / qmass

        if qterms:
            for block in self.sessions.values():
                for pattern in block["queries"]:
                    sim = similarity(pattern["terms"])
                    if sim > 0:
                        for f in pattern["files"]:
                            scores[f] += sim * weights.get(f, READ) / top_weight
                for pattern in block["errors"]:
                    sim = similarity(pattern["terms"])
                    if sim > 0:
                        for f in pattern["fixed_by"]:
                            scores[f] += sim
                        for f in pattern["files"]:
                            scores[f] += 0.7 * sim
            for f, w in weights.items():
                sim = similarity(tokens(f))
                if sim > 0:
                    scores[f] += 0.5 * sim * w / top_weight
        if seeds:
            peak = max((c for s in seeds for c in cooc.get(s, {}).values()), default=0.0)
            for s in seeds:
                for other, c in cooc.get(s, {}).items():
                    scores[other] += 0.8 * c / peak
        allowed = self._allowed
        ranked = sorted(((f, 1 - math.exp(-s)) for f, s in scores.items()
                         if f not in seeds and s > 0 and (allowed is None or f in allowed)),
                        key=lambda kv: (-kv[1], kv[0]))[:top]
        return self._prediction([(f, round(c, 4)) for f, c in ranked], sessions=sorted(self.sessions))

    # -- persistence -------------------------------------------------------------------------

    def model_data(self) -> dict[str, Any]:
        weights, _, cooc = self._model()
        patterns = [p for b in self.sessions.values() for p in b["queries"]]
        errors = [p for b in self.sessions.values() for p in b["errors"]]
        return {
            "sessions": self.sessions,
            # the seed's three views, derived (kept for readers of the JSON; rebuilt on load)
            "file_cooccurrence": cooc,
            "query_patterns": patterns,
            "error_patterns": errors,
            "file_weights": weights,
        }

    def load_model_data(self, data: dict[str, Any]) -> None:
        sessions = data.get("sessions")
        self.sessions = sessions if isinstance(sessions, dict) else {}
        self._derived = None
