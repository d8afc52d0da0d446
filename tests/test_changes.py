"""What the change experts share: fusion weight learning."""

from __future__ import annotations

from git_ml.experts.changes import learn_weights, rank_mrr


def test_learned_weights_leave_the_start_only_for_a_gain_above_min_gain():
    # 99 items the first channel ranks right; in one more the second channel would fix a rank 2
    rows = [({"a": [1.0, 0.0], "b": [0.5, 0.0]}, {"a"}) for _ in range(99)]
    rows.append(({"a": [1.0, 0.0], "b": [0.9, 1.0]}, {"b"}))
    start = [1.0, 0.0]
    free = learn_weights(rows, start)
    assert free[1] > 0 and rank_mrr(rows, free) > rank_mrr(rows, start)
    assert learn_weights(rows, start, min_items=1) == start  # half an item is no clear gain
