"""Ranking metrics for one answer and their means over a replay.

Definitions follow the bench anchors: ``acc@k`` is 1 when a gold item is in the top k (Hit@k),
``recall@k`` is the share of gold items in the top k, ``precision@k`` the share of the top k that
is gold, MRR the reciprocal rank of the first gold item and MAP the average precision over all
gold items (gold items never ranked count as misses). ECE is the expected calibration error of
the confidences of the top-k answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

KS = (1, 3, 5, 10)


def score_ranking(ranked: Sequence[str], gold: Iterable[str], ks: Sequence[int] = KS, depth: int = 100) -> dict[str, float]:
    """Metrics of one ranked list against its gold set."""
    truth = set(gold)
    hits = [i for i, item in enumerate(ranked[:depth]) if item in truth]
    out = {"mrr": 1.0 / (hits[0] + 1) if hits else 0.0,
           "map": sum((n + 1) / (i + 1) for n, i in enumerate(hits)) / max(1, len(truth))}
    for k in ks:
        found = sum(1 for i in hits if i < k)
        out[f"acc@{k}"] = float(found > 0)
        out[f"recall@{k}"] = found / max(1, len(truth))
        out[f"precision@{k}"] = found / k
    return out


def mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in rows[0]}


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = 10) -> float:
    """ECE over (confidence, correct) pairs in equal-width confidence bins."""
    if not pairs:
        return 0.0
    buckets: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for conf, ok in pairs:
        c = min(max(conf, 0.0), 1.0)
        buckets[min(bins - 1, int(c * bins))].append((c, ok))
    total = len(pairs)
    err = 0.0
    for b in buckets:
        if b:
            avg_conf = sum(c for c, _ in b) / len(b)
            acc = sum(1 for _, ok in b if ok) / len(b)
            err += len(b) / total * abs(avg_conf - acc)
    return round(err, 4)


def bootstrap_interval(diffs: Sequence[float], rounds: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of ``diffs`` over items resampled with replacement
    (seeded: a rerun gives the same interval). An interval that holds 0 is a difference the
    items cannot tell from noise."""
    if not diffs:
        return 0.0, 0.0
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(rng.choices(diffs, k=n)) / n for _ in range(rounds))
    return means[int(rounds * 0.025)], means[int(rounds * 0.975) - 1]

