"""``git ml predict``: route a query to experts, ask them, vote.

Experts are loaded lazily, only those a query needs, and kept for the next query of a batch.
Nothing here imports rich or typer: JSON answers stay fast.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from git_ml.experts.base import Expert, Query
from git_ml.layout import GitMLError, Layout
from git_ml.records import AggregatedPrediction, ExpertPrediction
from git_ml.routing.router import route
from git_ml.routing.vote import aggregate, weight_from_metrics
from git_ml.store import Store

MAX_EPISODES = 50  # newest episode experts that vote on file queries
EPISODE_WEIGHT = 0.5  # one session is weaker evidence than a whole history
_REFACTOR_KIND = re.compile(r"\b(renam|mov|extract|inlin|signature|split)\w*", re.I)
_KIND = {"renam": "rename", "mov": "move", "extract": "extract", "inlin": "inline", "signature": "signature",
         "split": "extract"}


class _BatchLine(msgspec.Struct):
    id: Any = None
    query: str | None = None
    files: list[str] = []
    expert: str | list[str] | None = None


def _git_files(layout: Layout, args: list[str], what: str) -> list[str]:
    out = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=layout.worktree,
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise GitMLError(f"{what}: {out.stderr.decode(errors='replace').strip().splitlines()[-1:] or ['git failed']}"[:300])
    return [p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def staged_files(layout: Layout) -> list[str]:
    """Files in the index that differ from HEAD (added, modified, renamed; not deleted)."""
    return _git_files(layout, ["diff", "--cached", "--name-only", "-z", "--diff-filter=d"],
                      "cannot read the staged changes")


def range_files(layout: Layout, rev_range: str) -> list[str]:
    """Files changed in ``A..B`` (or ``A...B``)."""
    if rev_range.startswith("-"):
        raise GitMLError(f"--range {rev_range!r} is not a revision range (expected A..B)")
    return _git_files(layout, ["diff", "--name-only", "-z", "--diff-filter=d", rev_range, "--"],
                      f"--range {rev_range!r} is not a valid range in this repository")


def refactor_kind(text: str | None) -> str | None:
    m = _REFACTOR_KIND.search(text or "")
    return _KIND.get(m.group(1).lower()) if m else None


class Predictor:
    """Answers queries for one repository with its saved experts."""

    def __init__(self, layout: Layout, store: Store):
        self.layout = layout
        self.store = store
        self._experts: dict[str, Expert | None] = {}
        self._episodes: list[Expert] | None = None

    @classmethod
    def load(cls, layout: Layout, store: Store) -> "Predictor":
        return cls(layout, store)

    def expert(self, expert_type: str) -> Expert | None:
        if expert_type not in self._experts:
            from git_ml.experts import registry

            self._experts[expert_type] = registry.load(self.layout, [expert_type], self.store).get(expert_type)
        return self._experts[expert_type]

    def episodes(self) -> list[Expert]:
        if self._episodes is None:
            from git_ml.experts import registry

            self._episodes = registry.load_episodes(self.layout, newest=MAX_EPISODES)
            if self._episodes:  # an episode may name files gone since (or another project's): never propose them
                from git_ml.capture.sessions import tracked_files

                here = tracked_files(self.layout)
                for episode in self._episodes:
                    restrict = getattr(episode, "restrict_to", None)
                    if restrict is not None:
                        restrict(here)
        return self._episodes

    def _ask(self, expert: Expert, query: Query, top: int) -> ExpertPrediction | None:
        try:
            return expert.predict(query, top=top)
        except Exception:  # noqa: BLE001 - one failing expert must not sink the answer
            return None

    def predict(self, query: str | None = None, *, experts: Sequence[str] = (), files: Sequence[str] = (),
                staged: bool = False, rev_range: str | None = None, top: int = 10) -> AggregatedPrediction:
        """Route, ask and vote. Raises GitMLError when no asked expert is trained."""
        changed = list(files)
        if staged:
            changed += staged_files(self.layout)
        if rev_range:
            changed += range_files(self.layout, rev_range)
        changed = list(dict.fromkeys(changed))
        plan = route(query, changed, experts)
        q = Query(text=query, files=changed, refactor_type=refactor_kind(query))
        predictions: list[ExpertPrediction] = []
        weights: dict[str, float] = {}
        missing = []
        for t in plan.experts:
            expert = self.expert(t)
            if expert is None:
                missing.append(t)
                continue
            pred = self._ask(expert, q, top)
            if pred is not None:
                predictions.append(pred)
                weights[pred.expert_id] = weight_from_metrics(expert.metrics)
        if "file" in plan.experts:
            for episode in self.episodes():
                pred = self._ask(episode, q, top)
                if pred is not None and pred.items:
                    predictions.append(pred)
                    weights[pred.expert_id] = EPISODE_WEIGHT * weight_from_metrics(episode.metrics)
        if not predictions and len(missing) == len(plan.experts):
            raise GitMLError(f"no trained expert among {', '.join(plan.experts)}: run `git ml train`")
        return aggregate(predictions, weights, top=top, intent=plan.intent)

    def predict_batch(self, source: Path | IO[bytes], *, top: int = 10) -> Iterator[str]:
        """One JSON answer per JSONL line ``{"id", "query"?, "files"?, "expert"?}``, with its id.
        A bad line gets ``{"id", "error"}`` and the batch goes on."""
        dec = msgspec.json.Decoder(_BatchLine)
        enc = msgspec.json.Encoder()
        if isinstance(source, (str, Path)):
            try:
                fh: IO[bytes] = open(source, "rb")
            except OSError as exc:
                raise GitMLError(f"cannot read --batch file {source}: {exc.strerror}") from exc
        else:
            fh = source
        with fh:
            for n, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    line = dec.decode(raw)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    yield enc.encode({"id": None, "line": n, "error": f"bad JSON line: {exc}"}).decode()
                    continue
                wanted = [line.expert] if isinstance(line.expert, str) else list(line.expert or [])
                try:
                    if line.query is None and not line.files:
                        raise GitMLError("a line needs a query or files")
                    answer = self.predict(line.query, experts=wanted, files=line.files, top=top)
                except GitMLError as exc:
                    yield enc.encode({"id": line.id, "error": str(exc)}).decode()
                    continue
                payload = msgspec.structs.asdict(answer)
                yield enc.encode({"id": line.id, **payload}).decode()
