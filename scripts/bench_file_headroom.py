#!/usr/bin/env python3
"""How far re-weighting the FileExpert's channels could go: a diagnostic, not a result.

The FileExpert learns the older 80% of a history (as ``bench_replay.py`` does) and answers the
newer 20% (a commit's message -> the files it modified). Printed, on those answer items:

* the FileExpert as trained (weights tuned on its own inner split: the honest figure);
* each channel alone;
* the **oracle** linear fusion: weights fitted by coordinate ascent on the answer items
  themselves. No weighting of these channels can beat it on these items, so a gap between the
  target and the oracle needs new evidence, not a better fusion;
* the share of items with a modified file among the candidates at all (the ceiling of any
  re-ranking).

usage: bench_file_headroom.py REPO [--split 0.8]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_replay import git_dir_of  # noqa: E402
from git_ml.capture.git import log_commits  # noqa: E402
from git_ml.evaluation.anchors import tasks  # noqa: E402
from git_ml.evaluation.replay import split_history  # noqa: E402
from git_ml.experts import file_tuning  # noqa: E402
from git_ml.experts.base import Query, TrainingData  # noqa: E402
from git_ml.experts.file import FEATURES, FileExpert  # noqa: E402
from git_ml.experts.snapshot import Snapshot  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--split", type=float, default=0.8)
    args = ap.parse_args()
    git_dir = git_dir_of(args.repo)
    os.environ["GIT_DIR"] = str(git_dir)
    commits = list(log_commits(args.repo, ["HEAD"], numstat=False))
    train, test = split_history(commits, args.split)
    items = [(Query(text=msg), set(gold)) for _, msg, gold in tasks(train, test)["files"]]
    names = list(FEATURES)
    with Snapshot(args.repo, git_dir=git_dir) as snap:
        at_cut = snap.at(train[-1].hash)
        expert = FileExpert()
        expert.fit(TrainingData(commits=train, revision=train[-1].hash, snapshot=at_cut))
        file_tuning.CANDIDATES = 10**9  # every candidate: the oracle may lift any of them
        matrix = file_tuning.feature_matrix(expert, items, names, expert.weights)
        expert.close()
        at_cut.close()
    tuned = [expert.weights[n] for n in names]
    found = sum(1 for vecs, _ in matrix if vecs) / len(matrix)
    print(f"{args.repo}: {len(train)} learn / {len(test)} answer commits, {len(items)} file items")
    print(f"  a modified file among the candidates: {found:.3f} of the items")
    print(f"  FileExpert as trained (inner-split weights): MRR {file_tuning.objective([matrix], tuned):.3f}")
    for i, n in enumerate(names):
        alone = [1.0 if j == i else 0.0 for j in range(len(names))]
        print(f"    {n:16} alone: MRR {file_tuning.objective([matrix], alone):.3f}")
    w, best = file_tuning.ascend([matrix], tuned, rounds=4)  # fitted on the answers themselves
    print(f"  oracle re-weighting (fitted on the answer items): MRR {best:.3f}")
    print("    weights: " + ", ".join(f"{n}={v:g}" for n, v in zip(names, w) if v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
