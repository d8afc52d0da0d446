"""Backfill: the whole history (or history after a revision) into tracked/commits.jsonl."""

from __future__ import annotations

import subprocess

from git_ml.capture.git import log_commits
from git_ml.layout import GitMLError, Layout
from git_ml.store import Store

_BATCH = 2000


def _has_commits(cwd) -> bool:
    out = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=cwd,
                         capture_output=True, check=False)
    return out.returncode == 0


def backfill(layout: Layout, store: Store, *, since: str | None = None, numstat: bool = True) -> int:
    """Append commits not stored yet; returns how many were added. An empty repository adds 0."""
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
    added = 0
    batch = []
    for rec in log_commits(cwd, revs, numstat=numstat, source="backfill"):
        if rec.id in have:
            continue
        have.add(rec.id)
        batch.append(rec)
        if len(batch) >= _BATCH:
            added += store.append("commits", batch)
            batch = []
    added += store.append("commits", batch)
    return added
