"""Temporal replay: learn the older part of a history, answer the newer part, next to the anchors.

No leakage: every expert is trained on the commits before the cut only (sessions that started
before the cut commit), with the code of the cut commit, and the held-out items are the bench's
(:func:`git_ml.evaluation.anchors.tasks`): a commit message -> the files it modified; its source
files -> its tests; -> its docs; its first file -> the others. The FileExpert is scored on the
``files`` items and also, given the first file as a seed, on ``couple``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import msgspec

from git_ml.evaluation.anchors import score_anchors, tasks
from git_ml.evaluation.metrics import KS, bootstrap_interval, expected_calibration_error, mean, score_ranking
from git_ml.experts.base import Query, TrainingData
from git_ml.layout import write_atomic
from git_ml.records import CommitRecord, ExpertMetrics, SessionRecord

TASKS_OF = {"file": ("files", "couple"), "test": ("tests",), "doc": ("docs",), "refactor": ("couple",)}
BEST_ANCHOR = {"files": "files/bm25+knn+content", "tests": "tests/cochange+naming", "docs": "docs/cochange",
               "couple": "couple/rose"}
DEPTH = 100  # ranks scored per answer, as the anchors do


class PairedDifference(msgspec.Struct, kw_only=True):
    """An expert against one anchor over the same items: the mean difference of their reciprocal
    ranks, its 95% bootstrap interval, and on how many items each was ahead."""

    anchor: str
    mean: float
    low: float
    high: float
    better: int
    worse: int


class TaskResult(msgspec.Struct, kw_only=True):
    expert: str
    task: str
    metrics: ExpertMetrics
    seconds: float = 0.0
    # against the anchor with the highest MRR on this task (None without anchors)
    versus_best_anchor: PairedDifference | None = None


class EvalResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    split: float
    train_commits: int
    test_commits: int
    cut: str
    items: dict[str, int]
    results: list[TaskResult] = []
    anchors: dict[str, dict[str, float]] = {}
    skipped: dict[str, str] = {}
    # with ``replay(per_item=True)``: each item's reciprocal rank, in item order, per expert
    # (``"<expert>:<task>"``) and per anchor (its name), for paired comparisons
    item_rr: dict[str, list[float]] = {}


def paired_difference(mine: Sequence[float], theirs: Sequence[float], anchor: str,
                      rounds: int = 2000) -> PairedDifference:
    """``mine`` against ``theirs``: reciprocal ranks of the same items, in the same order."""
    if len(mine) != len(theirs):
        raise ValueError(f"paired over different items ({len(mine)} and {len(theirs)})")
    diffs = [a - b for a, b in zip(mine, theirs)]
    low, high = bootstrap_interval(diffs, rounds)
    average = sum(diffs) / len(diffs) if diffs else 0.0
    return PairedDifference(anchor=anchor, mean=round(average, 4), low=round(low, 4), high=round(high, 4),
                            better=sum(d > 0 for d in diffs), worse=sum(d < 0 for d in diffs))


def split_history(commits: Sequence[CommitRecord], split: float) -> tuple[list[CommitRecord], list[CommitRecord]]:
    """Non-merge commits in order, cut at ``split`` (the bench's split: older share learns)."""
    learn = [c for c in commits if not c.is_merge]
    cut = int(len(learn) * split)
    return learn[:cut], learn[cut:]


def sessions_before(sessions: Sequence[SessionRecord], when: int) -> list[SessionRecord]:
    """Sessions that ended before ``when`` (unix seconds); undated sessions are left out."""
    out = []
    for s in sessions:
        stamp = s.ended_at or s.started_at
        if not stamp:
            continue
        try:
            t = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
        if t < when:
            out.append(s)
    return out


def _query(task: str, inp: Any) -> Query:
    return Query(text=inp) if task == "files" else Query(files=list(inp))


def _say(progress: Any, message: str) -> None:
    if progress is None:
        return
    if callable(progress):
        progress(message)
    elif hasattr(progress, "print"):
        progress.print(message)


def score_expert(expert: Any, task: str, items, rr: list[float] | None = None) -> ExpertMetrics:
    """Mean metrics of ``expert`` on ``items`` of ``task`` (ECE over its top-10 confidences);
    each item's reciprocal rank is appended to ``rr`` when given."""
    rows, pairs = [], []
    for _, inp, gold in items:
        pred = expert.predict(_query(task, inp), top=DEPTH)
        ranked = [item for item, _ in pred.items]
        rows.append(score_ranking(ranked, gold, depth=DEPTH))
        if rr is not None:
            rr.append(rows[-1]["mrr"])
        truth = set(gold)
        pairs += [(conf, item in truth) for item, conf in pred.items[:10]]
    m = mean(rows)
    return ExpertMetrics(
        mrr=m.get("mrr", 0.0), map=m.get("map", 0.0),
        acc_at_k={k: m.get(f"acc@{k}", 0.0) for k in KS},
        recall_at_k={k: m.get(f"recall@{k}", 0.0) for k in KS},
        precision_at_k={k: m.get(f"precision@{k}", 0.0) for k in KS},
        calibration_error=expected_calibration_error(pairs), test_examples=len(rows),
        measured_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    )


def replay(commits: Sequence[CommitRecord], snapshot: Any, *, split: float = 0.8,
           sessions: Sequence[SessionRecord] = (), only: Sequence[str] | None = None,
           anchors: bool = True, progress: Any = None,
           make_expert: Callable[[str], Any] | None = None, per_item: bool = False) -> EvalResult:
    """Replay ``commits`` (oldest first) cut at ``split``; ``snapshot`` is any Snapshot of the
    repository (its ``at(cut)`` gives the code at the cut). ``per_item`` keeps every item's
    reciprocal rank in ``item_rr``."""
    import time

    from git_ml.experts import registry

    train, test = split_history(commits, split)
    if len(train) < 2 or not test:
        raise ValueError(f"too little history to replay ({len(train)} learn / {len(test)} answer commits)")
    items = tasks(train, test)
    cut = train[-1].hash
    snap = snapshot.at(cut)
    result = EvalResult(split=split, train_commits=len(train), test_commits=len(test), cut=cut,
                        items={k: len(v) for k, v in items.items()})
    data = TrainingData(commits=train, sessions=sessions_before(sessions, train[-1].author_time + 1),
                        revision=cut, snapshot=snap)
    make = make_expert or registry.new_expert
    item_rr: dict[str, list[float]] = {}
    try:
        if anchors:
            _say(progress, "scoring the anchors")

            def read(path: str) -> str | None:
                raw = snap.read(path)
                return raw.decode("utf-8", "replace") if raw is not None else None

            result.anchors = score_anchors(train, items, read, item_rr)
        for t in only or registry.EXPERT_TYPES:
            if t not in TASKS_OF:
                result.skipped[t] = "no items from commit history (see scripts/bench_mutants.py)"
                continue
            if registry.expert_class(t) is None:
                result.skipped[t] = "expert not available"
                continue
            _say(progress, f"training {t} expert on {len(train)} commits")
            start = time.perf_counter()
            expert = make(t)
            expert.fit(data)
            fitted = time.perf_counter() - start
            for task in TASKS_OF[t]:
                if not items[task]:
                    continue
                _say(progress, f"answering {len(items[task])} {task} items with the {t} expert")
                t0 = time.perf_counter()
                rr = item_rr.setdefault(f"{t}:{task}", [])
                metrics = score_expert(expert, task, items[task], rr)
                metrics.anchors = {name: vals["mrr"] for name, vals in result.anchors.items()
                                   if name.startswith(task + "/")}
                seconds = round(fitted + time.perf_counter() - t0, 2)
                best = max(metrics.anchors, key=metrics.anchors.__getitem__, default=None)
                versus = paired_difference(rr, item_rr[best], best) if best in item_rr else None
                result.results.append(TaskResult(expert=t, task=task, metrics=metrics, seconds=seconds,
                                                 versus_best_anchor=versus))
                fitted = 0.0
            if hasattr(expert, "close"):
                expert.close()
    finally:
        snap.close()
    if per_item:
        result.item_rr = item_rr
    return result


def evaluate_repository(layout, store, *, split: float = 0.8, only: Sequence[str] | None = None,
                        progress: Any = None) -> EvalResult:
    """``git ml eval``: replay this repository's tracked history; store each expert's metrics
    (its primary task's) in its saved model."""
    from git_ml.experts import registry
    from git_ml.experts.snapshot import Snapshot
    from git_ml.layout import GitMLError
    from git_ml.store import commits_in_effect

    commits = commits_in_effect(store)
    try:
        with Snapshot(layout.worktree) as snapshot:
            result = replay(commits, snapshot, split=split, sessions=store.read("sessions"),  # type: ignore[arg-type]
                            only=only, progress=progress)
    except ValueError as exc:
        raise GitMLError(f"{exc}: record more commits (git ml backfill) or change --split") from exc
    primary = {}
    for r in result.results:
        primary.setdefault(r.expert, r)
    for t, r in primary.items():
        path = layout.domain_expert_file(t)
        micro = registry.read_micro(path)
        if micro is not None:
            micro.metrics = r.metrics
            write_atomic(path, msgspec.json.encode(micro))
    return result
