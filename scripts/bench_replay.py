#!/usr/bin/env python3
"""Temporal replay of git-ml's experts on any repository, beside the bench anchors on the same items.

usage: bench_replay.py REPO [--bench-dir DIR] [--split 0.8] [--expert file ...] [--json OUT]

REPO is a working tree or a git directory (a mirror). The anchors come from the team's
``baselines.py`` (imported from --bench-dir at run time, default ../shared/bench relative to this
checkout); the script checks that git-ml's own re-implementation of the anchors
(``git_ml.evaluation.anchors``) gives the same held-out items and the same numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from git_ml.capture.git import log_commits  # noqa: E402
from git_ml.evaluation.anchors import tasks  # noqa: E402
from git_ml.evaluation.replay import BEST_ANCHOR, replay, split_history  # noqa: E402
from git_ml.experts.snapshot import Snapshot  # noqa: E402


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def git_dir_of(repo: Path) -> Path:
    out = subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=repo, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"not a git repository: {repo}")
    return Path(out.stdout.strip())


def bench_anchors(bench: Path, git_dir: Path, split: float, train_n: int, test_n: int):
    """baselines.py's own numbers and items on this history (run as the bench runs it)."""
    extract = _module(bench / "extract.py", "bench_extract")
    baselines = _module(bench / "baselines.py", "bench_baselines")
    rows = list(extract.commits(str(git_dir)))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    try:
        out = subprocess.run([sys.executable, str(bench / "baselines.py"), fh.name, "--git-dir", str(git_dir),
                              "--split", str(split)], capture_output=True, text=True, check=True)
    finally:
        os.unlink(fh.name)
    cut = int(len(rows) * split)
    items = baselines.tasks(rows[:cut], rows[cut:])
    return json.loads(out.stdout), items, len(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--bench-dir", type=Path, default=ROOT.parent.parent / "shared" / "bench"
                    if not (ROOT.parent / "shared" / "bench").is_dir() else ROOT.parent / "shared" / "bench")
    ap.add_argument("--split", type=float, default=0.8)
    ap.add_argument("--expert", action="append", default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-bench", action="store_true", help="skip baselines.py (no anchor cross-check)")
    args = ap.parse_args()

    git_dir = git_dir_of(args.repo)
    os.environ["GIT_DIR"] = str(git_dir)  # log_commits runs plain `git log`
    commits = list(log_commits(args.repo, ["HEAD"], numstat=False))
    train, test = split_history(commits, args.split)
    print(f"{args.repo}: {len(train)} learn / {len(test)} answer commits", file=sys.stderr)

    t0 = time.perf_counter()
    with Snapshot(args.repo, git_dir=git_dir) as snap:
        result = replay(commits, snap, split=args.split, only=args.expert,
                        progress=lambda m: print("  " + m, file=sys.stderr))
    seconds = time.perf_counter() - t0

    check = {}
    if not args.no_bench:
        bench_out, bench_items, n_rows = bench_anchors(args.bench_dir, git_dir, args.split, len(train), len(test))
        mine = tasks(train, test)
        same_items = all([(h, g) for h, _, g in mine[k]] == [(h, g) for h, _, g in bench_items[k]] for k in mine)
        diffs = {}
        for name, vals in result.anchors.items():
            theirs = bench_out.get(name)
            if theirs:
                d = max(abs(vals[k] - theirs[k]) for k in ("mrr", "acc@1", "acc@5", "rec@10", "map"))
                diffs[name] = round(d, 4)
        check = {"bench_commits": n_rows, "same_items": same_items, "max_anchor_diff": max(diffs.values(), default=None),
                 "anchor_diffs": diffs}
        print(f"anchor cross-check: same items={same_items}, max |diff| vs baselines.py = "
              f"{check['max_anchor_diff']}", file=sys.stderr)

    print(f"\n{'task':8} {'method':28} {'n':>5} {'MRR':>6} {'Acc@1':>6} {'Acc@5':>6} {'R@10':>6} {'MAP':>6} {'ECE':>6}")
    for task in ("files", "tests", "docs", "couple"):
        for name, v in sorted(result.anchors.items()):
            if name.startswith(task + "/"):
                star = "*" if name == BEST_ANCHOR[task] else " "
                print(f"{task:8} {star}{name:27} {v['n']:5} {v['mrr']:6.3f} {v['acc@1']:6.3f} {v['acc@5']:6.3f} "
                      f"{v['rec@10']:6.3f} {v['map']:6.3f}")
        # the strict comparison: the best of every anchor on this task (the star marks the bench's own pick)
        best = max(((name, v["mrr"]) for name, v in result.anchors.items() if name.startswith(task + "/")),
                   key=lambda t: t[1], default=("none", 0.0))
        for r in result.results:
            if r.task == task:
                m = r.metrics
                print(f"{task:8} >{r.expert + ' expert':27} {m.test_examples:5} {m.mrr:6.3f} {m.acc_at_k[1]:6.3f} "
                      f"{m.acc_at_k[5]:6.3f} {m.recall_at_k[10]:6.3f} {m.map:6.3f} {m.calibration_error:6.3f}"
                      f"   ({m.mrr - best[1]:+.3f} vs the best anchor, {best[0]}; {r.seconds}s)")
    print(f"\nreplay took {seconds:.1f}s", file=sys.stderr)
    if args.json:
        import msgspec

        payload = json.loads(msgspec.json.encode(result))
        payload["check"] = check
        payload["repo"] = str(args.repo)
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
