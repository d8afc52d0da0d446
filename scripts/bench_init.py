"""Benchmark: `git ml init --no-hooks` and `git ml backfill` on a large real history, against a plain
`git log --no-merges -M --name-status` over the same history.

Targets: backfill within 3x of the plain log, peak memory <= 1 GiB.

    python scripts/bench_init.py --source /path/to/git.git [--workdir bench-data/init] [--runs 3]

``--source`` is any git repository (a bare mirror is fine); it is cloned once, locally and without a
checkout, into the work dir. Nothing fetched is committed: keep the work dir out of git (``bench-data/``
is ignored). Each measured command runs in a fresh process; wall and CPU (user + system, all
processes) times are the best of ``--runs`` (on a loaded machine compare CPU times); peak memory is
the largest sum of the RSS of the whole process tree (sampled from /proc every 20 ms), and also the
kernel's ru_maxrss of the largest single process. Init (backfill + training every expert) runs once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * _PAGE
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def measure(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``cmd`` once; wall seconds, peak tree RSS (MiB), largest single-process maxrss (MiB)."""
    wrapper = [sys.executable, "-c",
               "import resource, subprocess, sys\n"
               "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
               "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(ru.ru_utime + ru.ru_stime, ru.ru_maxrss)\n"
               "sys.exit(rc)\n", *cmd]
    start = time.perf_counter()
    proc = subprocess.Popen(wrapper, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-3:])} failed ({proc.returncode}): {err.decode()[-300:].strip()}")
    cpu, maxrss_kib = out.decode().split()[-2:]
    return {"wall_s": round(wall, 2), "cpu_s": round(float(cpu), 2), "peak_tree_mib": round(peak / 2**20, 1),
            "max_process_mib": round(int(maxrss_kib) / 1024, 1)}


def best_of(runs: int, cmd: list[str], cwd: Path, env: dict | None = None, before=None) -> dict:
    results = []
    for _ in range(runs):
        if before:
            before()
        results.append(measure(cmd, cwd, env))
    best = min(results, key=lambda r: r["wall_s"])
    best["peak_tree_mib"] = max(r["peak_tree_mib"] for r in results)
    best["max_process_mib"] = max(r["max_process_mib"] for r in results)
    best["cpu_s"] = min(r["cpu_s"] for r in results)
    best["all_wall_s"] = [r["wall_s"] for r in results]
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, help="repository to clone (a bare mirror is fine)")
    ap.add_argument("--workdir", default=str(ROOT / "bench-data" / "init"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-init", action="store_true", help="only the backfill measurements")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)

    work = Path(args.workdir).resolve()
    clone = work / "repo"
    if not clone.exists():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", "--no-checkout", args.source, str(clone)], check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_ML_NO_DETACH": "1"}
    gitml = [sys.executable, "-m", "git_ml"]
    commits = int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=clone, capture_output=True,
                                 check=True).stdout)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True,
                          check=True).stdout.strip()

    def fresh():
        shutil.rmtree(clone / ".git-ml", ignore_errors=True)

    def fresh_layout():
        fresh()
        subprocess.run([sys.executable, "-c", "from git_ml.layout import find_layout; find_layout('.').create()"],
                       cwd=clone, env=env, check=True)

    def backfill_cmd(numstat: bool) -> list[str]:
        return [sys.executable, "-c",
                "from git_ml.layout import find_layout; from git_ml.store import Store;"
                "from git_ml.capture.backfill import backfill; l = find_layout('.');"
                f"print(backfill(l, Store(l), numstat={numstat}))"]

    results: dict = {"repo": args.source, "head": head, "commits": commits, "runs": args.runs}
    steps = [
        ("git_log_name_status", args.runs, ["git", "log", "--no-merges", "-M", "--name-status"], None, None),
        ("backfill_numstat_off", args.runs, backfill_cmd(False), env, fresh_layout),
        ("backfill_numstat_on", 1, backfill_cmd(True), env, fresh_layout),
        ("git_ml_backfill_cli", args.runs, [*gitml, "backfill"], env, fresh_layout),
        ("git_ml_backfill_again", args.runs, [*gitml, "backfill"], env, None),
    ]
    if not args.skip_init:
        steps.append(("git_ml_init_no_hooks", 1, [*gitml, "init", "--no-hooks"], env, fresh))
    for name, runs, cmd, cmd_env, before in steps:
        try:
            results[name] = best_of(runs, cmd, clone, cmd_env, before)
        except RuntimeError as exc:
            results[name] = {"error": str(exc)}
        base = results["git_log_name_status"]
        if "wall_s" in results[name]:  # wall time moves with the machine's load; CPU time less so
            results[name]["x_git_log"] = round(results[name]["wall_s"] / base["wall_s"], 2)
            results[name]["x_git_log_cpu"] = round(results[name]["cpu_s"] / base["cpu_s"], 2)
        print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
