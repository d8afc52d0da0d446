#!/usr/bin/env python3
"""Every expert on several repositories: one table of temporal-replay MRR, expert / best anchor.

For each repository, the replay of ``git ml eval`` (``git_ml.evaluation.replay``: the older 80% of
the non-merge history learns, the newer 20% answers the held-out items of the bench's
``baselines.tasks()``) runs every expert with a history task, and each cell compares it with the
best of every anchor on the same items (the strict comparison). A cell below its anchor is marked.
A second table gives each cell's paired difference (expert - best anchor, item by item) with a 95%
bootstrap interval: an interval that holds 0 is a difference the items cannot tell from noise.

usage: bench_corpora.py REPO [REPO ...] [--split 0.8] [--json OUT]
  e.g. bench_corpora.py /work/.mirror/psf+requests/repo /work/.mirror/pallets+click/repo

REPO is a working tree or a git directory (a mirror). Tasks and their expert: files (file),
tests (test), docs (doc), couple (refactor).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_replay import git_dir_of  # noqa: E402
from git_ml.capture.git import log_commits  # noqa: E402
from git_ml.evaluation.replay import paired_difference, replay  # noqa: E402
from git_ml.experts.snapshot import Snapshot  # noqa: E402

COLUMNS = (("files", "file"), ("tests", "test"), ("docs", "doc"), ("couple", "refactor"))


def measure(repo: Path, split: float) -> dict:
    """One repository's cells: {task: {"expert", "anchor", "anchor_mrr", "n"}} and its size."""
    git_dir = git_dir_of(repo)
    os.environ["GIT_DIR"] = str(git_dir)  # log_commits runs plain `git log`
    try:
        commits = list(log_commits(repo, ["HEAD"], numstat=False))
        t0 = time.perf_counter()
        with Snapshot(repo, git_dir=git_dir) as snap:
            result = replay(commits, snap, split=split, only=[e for _, e in COLUMNS], per_item=True)
    finally:
        del os.environ["GIT_DIR"]
    cells = {}
    for task, expert in COLUMNS:
        mine = next((r for r in result.results if r.task == task and r.expert == expert), None)
        rivals = {n: v["mrr"] for n, v in result.anchors.items() if n.startswith(task + "/")}
        if mine is None or not rivals:
            continue
        best = max(rivals, key=rivals.get)
        # the same items in the same order; more rounds than `git ml eval` takes, for the record
        v = paired_difference(result.item_rr[f"{expert}:{task}"], result.item_rr[best], best, rounds=10_000)
        cells[task] = {"expert": mine.metrics.mrr, "anchor": best, "anchor_mrr": rivals[best],
                       "n": mine.metrics.test_examples, "diff": v.mean, "ci95": (v.low, v.high),
                       "better": v.better, "worse": v.worse}
    return {"repo": repo.parent.name if repo.name == "repo" else repo.name, "learn": result.train_commits,
            "answer": result.test_commits, "seconds": round(time.perf_counter() - t0, 1), "cells": cells}


def paired_table(rows: list[dict]) -> str:
    out = ["| repository | " + " | ".join(t for t, _ in COLUMNS) + " |", "|" + " --- |" * (len(COLUMNS) + 1)]
    for r in rows:
        cells = []
        for task, _ in COLUMNS:
            c = r["cells"].get(task)
            if c is None or "diff" not in c:
                cells.append("-")
                continue
            lo, hi = c["ci95"]
            cells.append(f"{c['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}] {c['better']}↑{c['worse']}↓")
        out.append(f"| {r['repo']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def table(rows: list[dict]) -> str:
    head = "| repository | learn / answer | " + " | ".join(t for t, _ in COLUMNS) + " |"
    out = [head, "|" + " --- |" * (len(COLUMNS) + 2)]
    for r in rows:
        cells = []
        for task, _ in COLUMNS:
            c = r["cells"].get(task)
            if c is None:
                cells.append("-")
                continue
            # anchors come rounded to 3 decimals, as baselines.py prints them: a tie there is no mark
            mark = " **below**" if c["expert"] < c["anchor_mrr"] else ""
            cells.append(f"{c['expert']:.3f} / {c['anchor_mrr']:.3f} ({c['n']}){mark}")
        out.append(f"| {r['repo']} | {r['learn']} / {r['answer']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repos", type=Path, nargs="+")
    ap.add_argument("--split", type=float, default=0.8)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    for repo in args.repos:
        rows.append(measure(repo, args.split))
        print(f"{rows[-1]['repo']}: {rows[-1]['seconds']}s", file=sys.stderr, flush=True)
    print("expert MRR / best anchor MRR (items); temporal replay "
          f"{round(args.split * 100)}/{round((1 - args.split) * 100)}\n")
    print(table(rows))
    print("\nexpert - best anchor, paired over the same items: mean [95% bootstrap interval], "
          "items better / worse\n")
    print(paired_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
