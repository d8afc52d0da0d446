"""Per-repository fusion weights and calibration for the FileExpert, learned from its own past.

The learning window is split in time once more: a FileExpert with default weights learns the
older 80% and answers the newer 20% (task items: a commit's message -> the files it modified;
coupling items: its first file -> the others). Coordinate ascent picks the weights that maximise
the mean of the two MRRs, and the same answers give the calibration curve (fused score share ->
share of ranked files that were touched). The answer window of an evaluation is never seen here:
tuning only ever receives the commits the expert is trained on.

Tuning looks at a window of the oldest commits whose length is the history's length rounded down
to a step of 3-6% of it (:func:`tuning_window`). The tuned weights therefore change only when the
history grows by a step: an incremental update re-tunes exactly then, and so always equals a
training from scratch over the same commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from git_ml.experts.base import Query
from git_ml.experts.text import tokens
from git_ml.records import CommitRecord

GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
ROUNDS = 3
INNER_SPLIT = 0.8
# Inner items used (bounds training time), spread evenly over the inner answer window rather than
# its newest: they speak for a longer stretch of the project's habits. Replay files MRR over 11
# repositories, the same mean gain over the best anchor (+0.066); the worst repository -0.002 ->
# +0.013 (which items tune the weights moves single repositories by up to +-0.03 either way).
MAX_ITEMS = 250
LONG_HISTORY = 20_000  # commits; beyond, each query costs more and fewer items are used
MAX_ITEMS_LONG = 120
MIN_ITEMS = 20
CANDIDATES = 100  # per item, by default-weight score (the rest can hardly matter)
MIN_STEP = 16  # commits; the smallest step of the tuning window


def modified_alive(commit: CommitRecord, alive) -> list[str]:
    """Files a commit modified that existed before it (renamed files under their old path)."""
    mod = [fc.old_path if fc.status == "R" and fc.old_path else fc.path
           for fc in commit.files if fc.status in ("M", "R")]
    return [p for p in dict.fromkeys(mod) if p in alive]


def _items(expert, commits: Sequence[CommitRecord]):
    from git_ml.experts.file import is_bot

    alive = {row[0] for row in expert.index.paths().values() if row[1]}
    files, couple = [], []
    for c in commits:
        if is_bot(c.author):
            continue
        mod = modified_alive(c, alive)
        if 1 <= len(mod) <= 20 and len(tokens(c.message)) >= 2:
            files.append((Query(text=c.message), set(mod)))
        if len(mod) >= 2:
            couple.append((Query(files=[mod[0]]), set(mod[1:])))
    cap = MAX_ITEMS if len(commits) * 5 <= LONG_HISTORY else MAX_ITEMS_LONG
    return spread(files, cap), spread(couple, cap)


def spread(items: list, cap: int) -> list:
    """At most ``cap`` of ``items``, evenly spaced over them (in order)."""
    if len(items) <= cap:
        return items
    return [items[i * len(items) // cap] for i in range(cap)]


def feature_matrix(expert, items, names: Sequence[str], default: dict[str, float]):
    """Per item: its best CANDIDATES by default weights as sparse feature vectors, and which are gold.
    Items with no gold file among the candidates are kept as empty (reciprocal rank 0 whatever
    the weights)."""
    paths = expert.index.paths()
    out = []
    for query, gold in items:
        rows = []
        for pid, f in expert.features(query).items():
            vec = [(i, f[n]) for i, n in enumerate(names) if f.get(n)]
            rows.append((sum(default[names[i]] * v for i, v in vec), vec, paths[pid][0] in gold))
        rows.sort(key=lambda r: -r[0])
        kept = rows[:CANDIDATES] + [r for r in rows[CANDIDATES:] if r[2]]
        out.append(([vec for _, vec, _ in kept], [g for _, _, g in kept]) if any(r[2] for r in kept) else ([], []))
    return out


def _scores(matrix, w: Sequence[float], skip: int = -1) -> list[list[float]]:
    return [[sum(w[i] * v for i, v in vec if i != skip) for vec in vecs] for vecs, _ in matrix]


def _column(matrix, i: int) -> list[list[float]]:
    return [[next((v for j, v in vec if j == i), 0.0) for vec in vecs] for vecs, _ in matrix]


def _mrr_of(scores: list[list[float]], matrix) -> float:
    total = 0.0
    for s, (_, gold) in zip(scores, matrix):
        if not s:
            continue
        best = max(x for x, g in zip(s, gold) if g)
        above = ties = 0
        for x, g in zip(s, gold):
            if x > best:
                above += 1
            elif x == best and not g:
                ties += 1
        total += 1.0 / (1 + above + ties / 2)
    return total / max(1, len(matrix))


def objective(mats, w) -> float:
    """Mean MRR over the matrices that have items."""
    used = [m for m in mats if m]
    return sum(_mrr_of(_scores(m, w), m) for m in used) / max(1, len(used))


def _coordinate(mats, w: list[float], i: int) -> tuple[float, float]:
    """The best value of weight ``i`` on GRID with the others fixed, and its objective."""
    used = [m for m in mats if m]
    bases = [_scores(m, w, skip=i) for m in used]
    cols = [_column(m, i) for m in used]
    best_v, best = w[i], -1.0
    for v in GRID:
        if not any(w[j] for j in range(len(w)) if j != i) and v == 0:
            continue
        got = sum(_mrr_of([[b + v * c for b, c in zip(bs, cs)] for bs, cs in zip(base, col)], m)
                  for base, col, m in zip(bases, cols, used)) / max(1, len(used))
        if got > best + 1e-9 or (v == w[i] and got >= best - 1e-9):
            best_v, best = v, got
    return best_v, best


def _calibration(matrix, w, top: int = 10, bins: int = 8) -> list[tuple[float, float]]:
    """Pool-adjacent-violators over equal-count bins of (score share, touched) of top-k answers."""
    total = sum(x for x in w if x > 0) or 1.0
    pts = []
    for scores, (_, gold) in zip(_scores(matrix, w), matrix):
        pts += sorted(((x / total, g) for x, g in zip(scores, gold)), key=lambda t: -t[0])[:top]
    if len(pts) < bins * 5:
        return []
    pts.sort()
    size = len(pts) // bins
    blocks = []
    for i in range(bins):
        chunk = pts[i * size:(i + 1) * size if i < bins - 1 else len(pts)]
        blocks.append([sum(x for x, _ in chunk) / len(chunk), sum(g for _, g in chunk) / len(chunk), len(chunk)])
    merged: list[list[float]] = []
    for b in blocks:  # monotone: a higher score never means a lower probability
        merged.append(b)
        while len(merged) > 1 and merged[-2][1] > merged[-1][1]:
            b2 = merged.pop()
            b1 = merged.pop()
            n = b1[2] + b2[2]
            merged.append([(b1[0] * b1[2] + b2[0] * b2[2]) / n, (b1[1] * b1[2] + b2[1] * b2[2]) / n, n])
    return [(round(x, 4), round(y, 4)) for x, y, _ in merged]


def tuning_window(n: int) -> int:
    """How many of the oldest of ``n`` learnable commits tuning uses: ``n`` rounded down to a
    power-of-two step of 1/32 to 1/16 of it (1,000 commits: steps of 32; 80,000: of 4,096)."""
    step = max(MIN_STEP, 1 << max(0, n.bit_length() - 5))
    return n - n % step


def inner_cut(commits: Sequence[CommitRecord]) -> int:
    """Where the learning window splits for tuning (0: too little history to tune)."""
    cut = int(len(commits) * INNER_SPLIT)
    return cut if cut >= MIN_ITEMS else 0


def ascend(mats, w: Sequence[float], rounds: int = ROUNDS) -> tuple[list[float], float]:
    """Coordinate ascent on the mean MRR of ``mats`` (one matrix per kind of item) from ``w``:
    the weights and their objective."""
    w = list(w)
    best = objective(mats, w)
    for _ in range(rounds):
        improved = False
        for i in range(len(w)):
            value, got = _coordinate(mats, w, i)
            if got > best + 1e-9 and value != w[i]:
                w[i], best, improved = value, got, True
        if not improved:
            break
    return w, best


def tune_weights(expert, commits: Sequence[CommitRecord], cut: int):
    """Weights, calibration curve and a tuning summary, from ``expert`` (whose index holds
    ``commits[:cut]``) answering the items of ``commits[cut:]``. Task and coupling items are
    tuned together: separate weights for each overfit their shared priors (replay: -0.02 to
    -0.04 MRR on the task items)."""
    from git_ml.experts.file import DEFAULT_WEIGHTS, FEATURES

    weights = dict(DEFAULT_WEIGHTS)
    if not cut:
        return weights, None, {"skipped": "too little history to tune"}
    saved, expert.weights = expert.weights, weights
    try:
        files, couple = _items(expert, commits[cut:])
        if len(files) < MIN_ITEMS:
            return weights, None, {"skipped": f"only {len(files)} inner items"}
        names = list(FEATURES)
        mats = [feature_matrix(expert, files, names, weights), feature_matrix(expert, couple, names, weights)]
    finally:
        expert.weights = saved
    start = objective(mats, [weights[n] for n in names])
    w, best = ascend(mats, [weights[n] for n in names])
    tuned = dict(zip(names, w))
    summary: dict[str, Any] = {"inner_commits": cut, "inner_file_items": len(files),
                               "inner_couple_items": len(couple), "objective_default": round(start, 4),
                               "objective_tuned": round(best, 4)}
    return tuned, _calibration(mats[0], w) or None, summary
