#!/usr/bin/env python3
"""Hook overhead: ``git commit`` with git-ml's hooks vs the same commit without, and a rebase.

Builds a repository of N commits (default 5,000) with ``git fast-import``, runs ``git ml init``
(backfill + hooks) through a console-script style ``git-ml`` for this checkout, then times
``git commit`` alternately with hooks and with ``-c core.hooksPath=/dev/null`` (same work, no
hooks) and reports the median overhead per commit (target: <= 100 ms). Then it rebases a
branch of R commits (default 200) with hooks and without, and checks that post-rewrite recorded
every rewritten commit once; then rewords every commit of it with `git rebase -i` (each reword
amends inside the rebase, which the hooks skip), with hooks and without.

    python scripts/bench_hooks.py [--commits 5000] [--samples 41] [--rebase 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sh(cwd: Path, *args: str, env: dict | None = None, input: bytes | None = None) -> str:
    out = subprocess.run(list(args), cwd=cwd, env=env, input=input, capture_output=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{out.stderr.decode(errors='replace')}")
    return out.stdout.decode(errors="replace")


def console_script(bindir: Path) -> Path:
    """A ``git-ml`` like the one pip writes (no ``python -m``, no shell in between)."""
    bindir.mkdir(parents=True, exist_ok=True)
    exe = bindir / "git-ml"
    exe.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                   "from git_ml.entry import main\nsys.exit(main())\n")
    exe.chmod(0o755)
    return exe


def generate(repo: Path, commits: int, seed: int = 7) -> None:
    """A history of ``commits`` commits over ~400 files in 20 folders, via fast-import."""
    rng = random.Random(seed)
    files = [f"pkg{d}/mod{f}.py" for d in range(20) for f in range(20)]
    content = {p: [f"# {p}\n"] for p in files}
    chunks: list[bytes] = []
    t = 1_600_000_000
    for i in range(commits):
        t += rng.randint(60, 7200)
        msg = f"change {i}: touch {rng.choice(['parser', 'cli', 'io', 'docs', 'tests'])}\n".encode()
        head = (f"commit refs/heads/main\nmark :{i + 1}\n"
                f"author Dev <dev@example.com> {t} +0000\ncommitter Dev <dev@example.com> {t} +0000\n"
                f"data {len(msg)}\n").encode() + msg
        if i:
            head += f"from :{i}\n".encode()
        body = b""
        for path in rng.sample(files, rng.randint(1, 4)):
            content[path].append(f"value_{i} = {rng.random()}\n")
            data = "".join(content[path][-200:]).encode()
            body += f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"
        chunks.append(head + body + b"\n")
    sh(repo, "git", "init", "-q", "-b", "main")
    sh(repo, "git", "fast-import", "--quiet", input=b"".join(chunks))
    sh(repo, "git", "reset", "-q", "--hard", "main")


def run_timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """Wall and CPU seconds (of the command and the children it waited for)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {out.stderr.decode(errors='replace')}")
    return elapsed, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def time_commit(repo: Path, env: dict, i: int, hooks: bool) -> tuple[float, float]:
    target = repo / "bench" / f"f{i % 7}.txt"
    target.parent.mkdir(exist_ok=True)
    with open(target, "a") as fh:
        fh.write(f"line {i}\n")
    sh(repo, "git", "add", "--", str(target.relative_to(repo)), env=env)
    cmd = ["git"] + ([] if hooks else ["-c", "core.hooksPath=/dev/null"]) + ["commit", "-q", "-m", f"bench {i}"]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=repo, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0 or (hooks and out.stderr.strip()):
        sys.exit(f"commit {i} failed or printed: {out.stderr.decode(errors='replace')}")
    # CPU time of git and its hooks (waited-for descendants; not the detached worker).
    return elapsed, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def recorded_messages(path: Path) -> set[str]:
    try:
        return {json.loads(line).get("message", "") for line in path.read_bytes().splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


def count_lines(path: Path) -> int:
    try:
        return sum(1 for line in path.read_bytes().splitlines() if line.strip())
    except FileNotFoundError:
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=41, help="commits timed with hooks (and as many without)")
    ap.add_argument("--rebase", type=int, default=200, help="commits in the rebased branch")
    ap.add_argument("--keep", type=Path, help="build the repository here and keep it")
    opts = ap.parse_args()

    work = opts.keep or Path(tempfile.mkdtemp(prefix="bench-hooks-"))
    work.mkdir(parents=True, exist_ok=True)
    repo = work / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    for var in ("GIT_ML_NO_DETACH", "GIT_ML_INTERNAL", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(var, None)
    exe = console_script(work / "bin")
    env["PATH"] = f"{exe.parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)  # the detached worker runs `python -m git_ml`, as when installed
    env.update(GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com",
               GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com")
    print(f"git {sh(repo, 'git', '--version').split()[-1]}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpu(s); repository in {repo}")

    t0 = time.perf_counter()
    generate(repo, opts.commits)
    print(f"generated {opts.commits} commits in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    print("$ git ml init")
    sh(repo, "git", "ml", "init", env=env)
    print(f"  init (backfill {opts.commits} commits, train, hooks): {time.perf_counter() - t0:.1f}s")
    # Warm-up: first runs write .pyc files and fill the page cache.
    for i in range(3):
        time_commit(repo, env, -1 - i, hooks=True)

    store = repo / ".git-ml" / "tracked" / "commits.jsonl"
    with_hooks: list[tuple[float, float]] = []
    without: list[tuple[float, float]] = []
    for i in range(opts.samples):
        with_hooks.append(time_commit(repo, env, 2 * i, hooks=True))
        without.append(time_commit(repo, env, 2 * i + 1, hooks=False))
    # By message: the worker also catches up on the commits made with hooks off.
    messages = recorded_messages(store)
    captured = sum(f"bench {2 * i}" in messages for i in range(opts.samples))
    caught_up = sum(f"bench {2 * i + 1}" in messages for i in range(opts.samples))
    # Calibration: a bare interpreter start, timed the same way, says how loaded the machine is
    # (about 10-12 ms wall and CPU on an idle 2-core box).
    bare = [run_timed([sys.executable, "-c", "pass"], repo, env) for _ in range(opts.samples)]
    print(f"$ git commit -q -m ...   ({opts.samples} commits each, alternating; "
          f"without = git -c core.hooksPath=/dev/null commit)")
    for label, k in (("wall", 0), ("cpu ", 1)):
        med_w = statistics.median(x[k] for x in with_hooks)
        med_wo = statistics.median(x[k] for x in without)
        paired = [w[k] - wo[k] for w, wo in zip(with_hooks, without)]
        p90 = statistics.quantiles(paired, n=10)[-1]
        print(f"  {label}: with hooks median {med_w * 1000:6.1f} ms, without {med_wo * 1000:5.1f} ms, "
              f"overhead median {(med_w - med_wo) * 1000:5.1f} ms (paired p90 {p90 * 1000:.1f} ms)")
    print(f"  calibration: `python -c pass` median {statistics.median(b[0] for b in bare) * 1000:.1f} ms wall, "
          f"{statistics.median(b[1] for b in bare) * 1000:.1f} ms cpu (load average {os.getloadavg()[0]:.1f})")
    print("  target: post-commit overhead <= 100 ms (median)")
    print(f"  commits captured by the hook: {captured} of {opts.samples} "
          f"(and {caught_up} made with hooks off, caught up by the worker so far)")

    # A branch of R commits rebased onto a new upstream commit, with and without hooks.
    sh(repo, "git", "checkout", "-q", "-b", "topic", env=env)
    for i in range(opts.rebase):
        (repo / "topic").mkdir(exist_ok=True)
        (repo / "topic" / f"t{i}.txt").write_text(f"{i}\n")
        sh(repo, "git", "add", "topic", env=env)
        sh(repo, "git", "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", f"topic {i}", env=env)
    sh(repo, "git", "branch", "-q", "topic-copy", "topic", env=env)
    sh(repo, "git", "checkout", "-q", "main", env=env)
    (repo / "upstream.txt").write_text("new upstream work\n")
    sh(repo, "git", "add", "upstream.txt", env=env)
    sh(repo, "git", "commit", "-q", "-m", "upstream", env=env)
    rewrites = repo / ".git-ml" / "tracked" / "rewrites.jsonl"
    rw_before = count_lines(rewrites)

    def rebase(branch: str, hooks: bool) -> float:
        sh(repo, "git", "checkout", "-q", branch, env=env)
        cmd = ["git"] + ([] if hooks else ["-c", "core.hooksPath=/dev/null"]) + ["rebase", "-q", "main"]
        start = time.perf_counter()
        out = subprocess.run(cmd, cwd=repo, env=env, capture_output=True)
        elapsed = time.perf_counter() - start
        if out.returncode != 0:
            sys.exit(f"rebase failed: {out.stderr.decode(errors='replace')}")
        return elapsed

    t_hooks = rebase("topic", hooks=True)
    t_plain = rebase("topic-copy", hooks=False)
    print(f"$ git rebase main   (branch of {opts.rebase} commits onto a new upstream commit)")
    print(f"  with hooks {t_hooks:.2f}s, without {t_plain:.2f}s, overhead {t_hooks - t_plain:.2f}s")
    # Only the hooked branch's commits: the worker may also catch up on topic-copy's (hooks off).
    rebased = set(sh(repo, "git", "rev-list", "main..topic", env=env).split())
    lines = [json.loads(line) for line in store.read_bytes().splitlines() if line.strip()]
    print(f"  recorded: {count_lines(rewrites) - rw_before} rewrite records, "
          f"{sum(rec.get('hash') in rebased for rec in lines)} commit records of the rebased branch "
          f"(expected {opts.rebase} each)")

    # Reword every commit of the branch: each reword amends inside the rebase (post-rewrite
    # "amend"), which the hook scripts skip without starting git-ml.
    def reword(branch: str, hooks: bool) -> float:
        sh(repo, "git", "checkout", "-q", branch, env=env)
        cmd = ["git"] + ([] if hooks else ["-c", "core.hooksPath=/dev/null"]) + ["rebase", "-q", "-i", "main"]
        renv = dict(env, GIT_SEQUENCE_EDITOR="sed -i s/^pick/reword/", GIT_EDITOR="true")
        start = time.perf_counter()
        out = subprocess.run(cmd, cwd=repo, env=renv, capture_output=True)
        if out.returncode != 0:
            sys.exit(f"rebase -i failed: {out.stderr.decode(errors='replace')}")
        return time.perf_counter() - start

    amends = sum(b'"how":"amend"' in line for line in rewrites.read_bytes().splitlines())
    t_hooks, t_plain = reword("topic", hooks=True), reword("topic-copy", hooks=False)
    added = sum(b'"how":"amend"' in line for line in rewrites.read_bytes().splitlines()) - amends
    print(f"$ git rebase -i main   (reword each of {opts.rebase} commits)")
    print(f"  with hooks {t_hooks:.2f}s, without {t_plain:.2f}s, overhead {t_hooks - t_plain:.2f}s; "
          f"amend records: {added} (expected 0: the final rebase record maps them)")
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
