"""Backfill: the whole history (or history after a revision) into tracked/commits.jsonl."""

from __future__ import annotations

import subprocess

from git_ml.capture.git import log_commits
from git_ml.layout import GitMLError, Layout
from git_ml.records import CommitRecord
from git_ml.store import Store

_BATCH = 2000


def _has_commits(cwd) -> bool:
    out = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=cwd,
                         capture_output=True, check=False)
    return out.returncode == 0


def _missing(cwd, revs: list[str], have: set[str]) -> list[str] | None:
    """Hashes in ``revs`` whose record is not stored, newest first; None when none is stored."""
    listed = subprocess.run(["git", "rev-list", *revs, "--"], cwd=cwd, capture_output=True, check=True)
    hashes = listed.stdout.decode().split()
    missing = [h for h in hashes if CommitRecord(hash=h).with_id().id not in have]
    return None if len(missing) == len(hashes) else missing


def backfill(layout: Layout, store: Store, *, since: str | None = None, numstat: bool = False) -> int:
    """Append commits not stored yet; returns how many were added. An empty repository adds 0.

    Line counts (numstat) are off by default: they make git diff every blob, five times the cost
    of the walk on a large history (scripts/bench_init.py), and no expert uses them. A re-run only
    logs the commits that are missing, so it costs one ``git rev-list``."""
    cwd = layout.worktree
    if not _has_commits(cwd):
        return 0
    revs = ["HEAD"]
    if since:
        check = subprocess.run(["git", "rev-parse", "-q", "--verify", f"{since}^{{commit}}"], cwd=cwd,
                               capture_output=True, check=False)
        if check.returncode != 0:
            raise GitMLError(f"--since {since!r} is not a commit in this repository")
        revs = [f"{since}..HEAD"]
    have = {c for c in store.ids("commits")}
    todo = _missing(cwd, revs, have) if have else None
    if todo == []:
        return 0
    added = 0
    batch = []
    walk = log_commits(cwd, revs, numstat=numstat, source="backfill") if todo is None else \
        log_commits(cwd, (), stdin_revs=todo, no_walk=True, numstat=numstat, source="backfill")
    for rec in walk:
        if rec.id in have:
            continue
        have.add(rec.id)
        batch.append(rec)
        if len(batch) >= _BATCH:
            added += store.append("commits", batch)
            batch = []
    added += store.append("commits", batch)
    return added
