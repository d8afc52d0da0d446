"""Confidence-weighted voting of expert predictions, with a disagreement score.

An item's confidence is the noisy-OR of its voters' confidences (one voter: its own calibrated
confidence; agreeing voters raise it). Items are ranked by that confidence, ties broken by the
weighted vote ``sum(weight * confidence)``, so the shown confidence never rises down the list.

Disagreement is 1 minus the mean pairwise *average overlap* of the experts' top-k lists (the
share of shared items at each depth 1..k, averaged), so partly agreeing experts score in between.
It is computed only among experts that answer the same question, i.e. rank the same *kind* of
item: source files (file, episode, error, refactor experts), tests (test expert) or docs (doc
expert). For a changed-files query the test, doc and file experts answer different questions and
their lists never overlap; comparing them would report disagreement where there is none. The
score is the mean over kinds with two or more voting experts (0.0 when no kind has two).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import combinations

from git_ml.records import AggregatedPrediction, ExpertPrediction, ExpertMetrics, PredictedItem

DEPTH = 10


def weight_from_metrics(metrics: ExpertMetrics | None) -> float:
    """An expert's vote weight: 1.0 without metrics, else its replay MRR relative to 0.5."""
    if metrics is None or not metrics.test_examples:
        return 1.0
    return round(min(2.0, max(0.2, metrics.mrr / 0.5)), 3)


def average_overlap(a: Sequence[str], b: Sequence[str], depth: int = DEPTH) -> float:
    """Mean over d = 1..depth of |top-d(a) & top-d(b)| / d (1.0 = same order, 0.0 = disjoint)."""
    d_max = min(depth, max(len(a), len(b)))
    if d_max == 0:
        return 1.0
    total = 0.0
    for d in range(1, d_max + 1):
        total += len(set(a[:d]) & set(b[:d])) / d
    return total / d_max


_KIND = {"test": "tests", "doc": "docs"}  # every other expert type ranks source files


def item_kind(expert_type: str) -> str:
    """What an expert's list ranks: "tests", "docs" or "files"."""
    return _KIND.get(expert_type, "files")


def disagreement(predictions: Sequence[ExpertPrediction], depth: int = DEPTH) -> float:
    """Mean over item kinds of 1 - mean pairwise average overlap of the lists of that kind."""
    by_kind: dict[str, list[list[str]]] = defaultdict(list)
    for p in predictions:
        if p.items:
            by_kind[item_kind(p.expert_type)].append([item for item, _ in p.items[:depth]])
    scores = []
    for lists in by_kind.values():
        if len(lists) >= 2:
            pairs = list(combinations(lists, 2))
            scores.append(1.0 - sum(average_overlap(a, b, depth) for a, b in pairs) / len(pairs))
    return round(sum(scores) / len(scores), 4) if scores else 0.0


def item_detail(predictions: Sequence[ExpertPrediction], item: str) -> dict:
    """What the voters said about ``item`` (an error's ``path:start-end``, a test's ids, an impact
    type...), from each expert's ``metadata["detail"]``. One voter's detail is kept as it is;
    several are keyed by expert type."""
    found = {p.expert_type: d for p in predictions
             if isinstance(d := (p.metadata.get("detail") or {}).get(item), dict) and d}
    if len(found) == 1:
        return next(iter(found.values()))
    return found


def aggregate(predictions: Sequence[ExpertPrediction], weights: Mapping[str, float] | None = None,
              top: int = 10, intent: str = "") -> AggregatedPrediction:
    """Merge expert predictions into one ranked answer (``weights`` by expert id, default 1.0)."""
    weights = weights or {}
    score: dict[str, float] = defaultdict(float)
    miss: dict[str, float] = defaultdict(lambda: 1.0)
    voters: dict[str, list[str]] = defaultdict(list)
    for p in predictions:
        w = weights.get(p.expert_id, 1.0)
        for item, conf in p.items:
            c = min(1.0, max(0.0, float(conf)))
            score[item] += w * c
            miss[item] *= 1.0 - c
            if p.expert_id not in voters[item]:
                voters[item].append(p.expert_id)
    conf = {i: round(1.0 - miss[i], 4) for i in score}
    ranked = sorted(score, key=lambda i: (-conf[i], -score[i], i))[:top]
    items = [PredictedItem(item=i, confidence=conf[i], experts=voters[i],
                           detail=item_detail(predictions, i)) for i in ranked]
    dis = disagreement(predictions)
    head = [it.confidence for it in items[:3]]
    overall = (sum(head) / len(head)) * (1.0 - 0.5 * dis) if head else 0.0
    return AggregatedPrediction(
        intent=intent, items=items,
        contributing_experts=[p.expert_id for p in predictions if p.items],
        disagreement_score=dis, confidence=round(overall, 4),
    )
