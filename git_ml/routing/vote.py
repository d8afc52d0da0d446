"""Confidence-weighted voting of expert predictions, with a disagreement score.

An item's rank score is the sum over experts of ``weight * confidence``; its reported confidence
is the noisy-OR of the voters' confidences (one voter: its own calibrated confidence; agreeing
voters raise it). Disagreement is 1 minus the mean pairwise *average overlap* of the experts'
top-k lists (the share of shared items at each depth 1..k, averaged), so partly agreeing experts
score in between, never a jump to 1.0.
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


def disagreement(predictions: Sequence[ExpertPrediction], depth: int = DEPTH) -> float:
    lists = [[item for item, _ in p.items[:depth]] for p in predictions if p.items]
    if len(lists) < 2:
        return 0.0
    pairs = list(combinations(lists, 2))
    return round(1.0 - sum(average_overlap(a, b, depth) for a, b in pairs) / len(pairs), 4)


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
    ranked = sorted(score, key=lambda i: (-score[i], i))[:top]
    items = [PredictedItem(item=i, confidence=round(1.0 - miss[i], 4), experts=voters[i],
                           detail=item_detail(predictions, i)) for i in ranked]
    dis = disagreement(predictions)
    head = [it.confidence for it in items[:3]]
    overall = (sum(head) / len(head)) * (1.0 - 0.5 * dis) if head else 0.0
    return AggregatedPrediction(
        intent=intent, items=items,
        contributing_experts=[p.expert_id for p in predictions if p.items],
        disagreement_score=dis, confidence=round(overall, 4),
    )
