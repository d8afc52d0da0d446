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


def test_min_z_keeps_the_start_when_a_move_reorders_many_items_both_ways():
    # the second channel lifts 14 items from rank 2 to 1 and drops 10 from rank 1 to 2: a net
    # gain of 2 items' worth, from 24 changes either way
    win = ({"a": [1.0, 0.0], "b": [0.9, 1.0]}, {"b"})
    lose = ({"a": [0.9, 1.0], "b": [1.0, 0.0]}, {"b"})
    steady = ({"a": [1.0, 0.0], "b": [0.5, 0.0]}, {"a"})
    start = [1.0, 0.0]
    mixed = [win] * 14 + [lose] * 10 + [steady] * 76
    assert learn_weights(mixed, start, min_items=1)[1] > 0  # above the fixed margin
    assert learn_weights(mixed, start, min_items=1, min_z=2) == start  # noise by the paired test
    # a gain of 3 items with no losers is a clear move
    clean = [win] * 6 + [steady] * 94
    assert learn_weights(clean, start, min_items=1, min_z=2)[1] > 0
