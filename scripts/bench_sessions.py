#!/usr/bin/env python3
"""Benchmarks of session capture (targets from the sessions issue).

usage: python scripts/bench_sessions.py [--runs N] [--mb SIZE] [--burst K] [--keep DIR]

1. hook answer: ``git-ml hook session-end`` with a real payload, a new process each run (the
   detached capture child is waited for between runs so it does not slow the next one);
   target median <= 300 ms (Claude Code gives all SessionEnd hooks 1.5 s together).
2. a generated Claude Code transcript of SIZE MB (default 50) captured by ``git ml session ingest``
   in a new process: wall time (target <= 10 s) and peak RSS against the same process's RSS before
   parsing and the transcript's longest line (target: the growth is a small multiple of it).
3. K sessions (default 12) ending at once through the hook: every session captured, every JSONL
   line valid, one episode each.

Runs in a scratch folder with an isolated HOME; prints one block of figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIRECT = "import sys; from git_ml.surfaces.agent_hooks import run; sys.exit(run(sys.argv[1], sys.argv[2:]))"


def hook_argv(name: str) -> list[str]:
    """The hook as an agent runs it (through the dispatcher when this checkout has it)."""
    if importlib.util.find_spec("git_ml.surfaces.hooks") is not None:
        return [sys.executable, "-m", "git_ml", "hook", name]
    return [sys.executable, "-c", DIRECT, name]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_repo(base: Path) -> Path:
    repo = base / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# bench\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@e", "commit", "-q", "-m", "init")
    from git_ml.layout import find_layout

    find_layout(repo).create()
    return repo


def record(kind: str, cwd: str, sid: str, n: int, **extra) -> str:
    rec = {"parentUuid": f"u{n - 1}" if n else None, "isSidechain": False, "userType": "external", "cwd": cwd,
           "sessionId": sid, "version": "2.1.197", "gitBranch": "main", "type": kind, "uuid": f"u{n}",
           "timestamp": f"2026-01-05T10:{(n // 60) % 60:02d}:{n % 60:02d}.000Z"}
    rec.update(extra)
    return json.dumps(rec)


def write_transcript(path: Path, cwd: Path, sid: str, mb: float) -> tuple[int, int]:
    """A realistic Claude Code transcript of about ``mb`` MB; returns (lines, longest line)."""
    target = int(mb * 1024 * 1024)
    size = lines = longest = n = 0
    blob = ("def function_%d(x):\n    return x * %d  # some code line of a typical source file\n" * 60)
    with open(path, "w") as fh:
        def put(line: str) -> None:
            nonlocal size, lines, longest, n
            fh.write(line + "\n")
            size += len(line) + 1
            lines += 1
            longest = max(longest, len(line) + 1)
            n += 1
        put(record("user", str(cwd), sid, n, message={"role": "user", "content": "Refactor the pricing module"}))
        i = 0
        while size < target:
            i += 1
            f = f"{cwd}/pkg/mod_{i % 400}.py"
            tid = f"toolu_{i:08d}"
            put(record("assistant", str(cwd), sid, n, message={"id": f"msg_{i}", "role": "assistant", "content": [
                {"type": "tool_use", "id": tid, "name": "Read", "input": {"file_path": f}}]}))
            content = blob % ((i,) * 120)
            put(record("user", str(cwd), sid, n, message={"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tid, "content": content}]},
                toolUseResult={"type": "text", "file": {"filePath": f, "content": content}}))
            if i % 3 == 0:
                tid = f"toolu_e{i:08d}"
                put(record("assistant", str(cwd), sid, n, message={"id": f"msg_e{i}", "role": "assistant", "content": [
                    {"type": "tool_use", "id": tid, "name": "Edit", "input": {"file_path": f, "old_string": "x",
                                                                              "new_string": "y"}}]}))
                put(record("user", str(cwd), sid, n, message={"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": tid, "content": "updated"}]},
                    toolUseResult={"filePath": f, "originalFile": content, "structuredPatch": [
                        {"oldStart": 1, "oldLines": 1, "newStart": 1, "newLines": 1, "lines": ["-x", "+y"]}]}))
            if i % 10 == 0:
                tid = f"toolu_b{i:08d}"
                put(record("assistant", str(cwd), sid, n, message={"id": f"msg_b{i}", "role": "assistant", "content": [
                    {"type": "tool_use", "id": tid, "name": "Bash",
                     "input": {"command": f"python -m pytest tests/test_mod_{i % 400}.py -q"}}]}))
                out = "." * 40 + "\n" + ("FAILED tests/test_mod.py::test_x - AssertionError\n1 failed, 39 passed in 1.2s"
                                         if i % 20 == 0 else "40 passed in 1.1s")
                put(record("user", str(cwd), sid, n, message={"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": tid, "content": out, "is_error": i % 20 == 0}]}))
            if i % 500 == 0:
                put(record("user", str(cwd), sid, n, message={"role": "user", "content": f"Next step {i}"}))
            if i == 1000:  # one very long line, as a pasted log or a base64 image gives
                put(record("user", str(cwd), sid, n, message={"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_big", "content": "A" * (4 << 20)}]}))
    return lines, longest


PEAK = """
import resource, sys, time
from pathlib import Path
from git_ml.layout import find_layout
from git_ml.store import Store
from git_ml.capture import sessions, redact
from git_ml.capture.agents import claude, base
from git_ml.experts import episode
import msgspec, filelock
redact.redact("warm up detect-secrets API_TOKEN=abc")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
layout = find_layout(sys.argv[1])
t0 = time.perf_counter()
lines = sessions.ingest_paths(layout, Store(layout), [Path(sys.argv[2])], agent="claude")
elapsed = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, after, elapsed, lines[0])
"""


def bench_hook(repo: Path, runs: int) -> dict:
    from git_ml.store import Store

    sys.path.insert(0, str(ROOT / "tests"))
    from agent_transcripts import Claude

    t = Claude(repo, session_id="bench-hook")
    t.prompt("Time the hook")
    t.edit(f"{repo}/x.py")
    transcript = t.write(repo.parent / "bench-hook.jsonl")
    payload = json.dumps({"session_id": "bench-hook", "transcript_path": str(transcript), "cwd": str(repo),
                          "hook_event_name": "SessionEnd", "reason": "prompt_input_exit"}).encode()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GIT_ML_NO_DETACH", None)
    log = repo / ".git-ml" / "state" / "sessions.log"
    times, bare = [], []
    for i in range(runs):
        t0 = time.perf_counter()  # a bare interpreter start, interleaved: the machine's load at that time
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        bare.append(time.perf_counter() - t0)
        before = log.read_text().count("captured") if log.exists() else 0
        t0 = time.perf_counter()
        out = subprocess.run(hook_argv("session-end"), cwd=repo, input=payload, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
        assert out.returncode == 0 and out.stdout == b"", out.stderr
        deadline = time.monotonic() + 60  # let the detached capture finish before the next run
        while time.monotonic() < deadline and (log.read_text().count("captured") if log.exists() else 0) <= before:
            time.sleep(0.05)
    from git_ml.layout import find_layout

    recs = Store(find_layout(repo)).read("sessions")
    assert len(recs) == 1, "the same session captured many times must stay one record"
    times.sort()
    return {"runs": runs, "median_ms": round(statistics.median(times) * 1000, 1),
            "p90_ms": round(times[int(len(times) * 0.9) - 1] * 1000, 1), "max_ms": round(times[-1] * 1000, 1),
            "bare_python_median_ms": round(statistics.median(bare) * 1000, 1),
            "load_avg_1m": round(os.getloadavg()[0], 1)}


def bench_big(base: Path, repo: Path, mb: float) -> dict:
    path = base / "big.jsonl"
    lines, longest = write_transcript(path, repo, "bench-big", mb)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PEAK, str(repo), str(path)], capture_output=True, env=env, text=True)
    assert out.returncode == 0, out.stderr
    before, after, elapsed, line = out.stdout.split(" ", 3)
    growth_mb = (int(after) - int(before)) / 1024
    return {"size_mb": round(path.stat().st_size / 2**20, 1), "lines": lines, "longest_line_mb": round(longest / 2**20, 2),
            "capture_s": round(float(elapsed), 2), "rss_before_mb": round(int(before) / 1024, 1),
            "rss_peak_mb": round(int(after) / 1024, 1), "rss_growth_mb": round(growth_mb, 1),
            "growth_per_longest_line": round(growth_mb * 2**20 / longest, 2), "result": line.strip()}


def bench_burst(repo: Path, k: int) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from agent_transcripts import Claude

    from git_ml.layout import find_layout
    from git_ml.store import Store

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GIT_ML_NO_DETACH", None)
    payloads = []
    for i in range(k):
        t = Claude(repo, session_id=f"burst-{i:02d}")
        t.prompt(f"Task {i}")
        for j in range(50):
            t.edit(f"{repo}/pkg/m{i}_{j}.py")
        path = t.write(repo.parent / f"burst-{i:02d}.jsonl")
        payloads.append(json.dumps({"session_id": f"burst-{i:02d}", "transcript_path": str(path),
                                    "cwd": str(repo), "hook_event_name": "SessionEnd", "reason": "other"}).encode())
    t0 = time.perf_counter()
    procs = [subprocess.Popen(hook_argv("session-end"), cwd=repo, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env) for _ in payloads]
    for p, data in zip(procs, payloads):
        p.communicate(data)
        assert p.returncode == 0
    answered = time.perf_counter() - t0
    layout = find_layout(repo)
    store = Store(layout)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        got = {r.session_id for r in store.read("sessions") if r.session_id.startswith("burst-")}
        if len(got) == k:
            break
        time.sleep(0.2)
    captured = time.perf_counter() - t0
    raw = layout.tracked_file("sessions").read_bytes().splitlines()
    valid = sum(1 for line in raw if json.loads(line))
    episodes = len(list(layout.episodes.glob("episode_burst-*.json")))
    return {"sessions": k, "all_hooks_answered_s": round(answered, 2), "all_captured_s": round(captured, 2),
            "records": len(got), "lines": len(raw), "valid_lines": valid, "episodes": episodes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--burst", type=int, default=12)
    ap.add_argument("--keep", type=Path, help="keep the scratch folder here")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-sessions-")) if not args.keep else args.keep
    base.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(base / "home")
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        dispatch = "git-ml hook (dispatcher)" if importlib.util.find_spec("git_ml.surfaces.hooks") else "agent_hooks.run (no dispatcher in this checkout)"
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpu, entry: {dispatch}")
        print("hook session-end :", bench_hook(make_repo(base / "a"), args.runs))
        print("big transcript   :", bench_big(base, make_repo(base / "b"), args.mb))
        print("burst            :", bench_burst(make_repo(base / "c"), args.burst))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
