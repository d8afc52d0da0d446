#!/usr/bin/env python3
"""Latency of `git ml predict` as a user sees it (a new process per query), and cost of `git ml train`.

usage: bench_predict.py REPO [--queries N] [--format json|text] [--train] [--expert file ...]

REPO must be set up (`git ml init --no-hooks`, or `--train` here). Queries are the subjects of the
repository's newest commits (a realistic task wording). Prints the median, p90 and max wall time
per query and the CPU time (user+sys) of the children, which is what matters on a loaded machine;
then the same queries through the library (``api.predict``, no typer CLI) to separate the CLI's
own start-up cost from the prediction.
With --train, first times `git ml train` and reports its peak memory (max RSS of the child).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


API = ("import sys, msgspec; from git_ml import api; "
       "sys.stdout.write(msgspec.json.encode(api.predict('.', sys.argv[1])).decode())")


def gitml(repo: Path, *args: str, library: bool = False) -> tuple[float, float, subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cmd = [sys.executable, "-c", API, args[1]] if library else [sys.executable, "-m", "git_ml", *args]
    out = subprocess.run(cmd, cwd=repo, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        sys.exit(f"git ml {' '.join(args)} failed: {out.stderr.decode(errors='replace')}")
    return wall, cpu, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--format", default="json", choices=["json", "text"])
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--expert", action="append", default=[])
    args = ap.parse_args()
    repo = args.repo.resolve()
    if args.train:
        wall, cpu, _ = gitml(repo, "train", *[f"--expert={e}" for e in args.expert])
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"train: {wall:.1f}s wall, {cpu:.1f}s cpu, peak RSS {rss:.0f} MiB")
    log = subprocess.run(["git", "log", "--no-merges", f"-{args.queries}", "--format=%s"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    gitml(repo, "predict", log[0], "--format", args.format)  # warm the OS file cache once
    walls, cpus = [], []
    for q in log:
        extra = [f"--expert={e}" for e in args.expert]
        wall, cpu, _ = gitml(repo, "predict", q, "--format", args.format, *extra)
        walls.append(wall * 1000)
        cpus.append(cpu * 1000)
    walls.sort()
    print(f"git ml predict ({args.format}, {len(walls)} queries, new process each): median "
          f"{statistics.median(walls):.0f} ms, p90 {walls[int(0.9 * (len(walls) - 1))]:.0f} ms, max {walls[-1]:.0f} ms; "
          f"cpu median {statistics.median(cpus):.0f} ms")
    lib = [gitml(repo, "predict", q, library=True) for q in log]
    print(f"library api.predict + JSON (no CLI; new process each): median "
          f"{statistics.median(w for w, _, _ in lib) * 1000:.0f} ms, cpu {statistics.median(c for _, c, _ in lib) * 1000:.0f} ms")
    base = [gitml(repo, "--version") for _ in range(5)]
    print(f"baseline `git ml --version` (interpreter + CLI imports): median "
          f"{statistics.median(b[0] for b in base) * 1000:.0f} ms, cpu {statistics.median(b[1] for b in base) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
