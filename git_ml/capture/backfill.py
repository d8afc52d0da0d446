"""Backfill: the whole history (or history after a revision) into tracked/commits.jsonl."""

from __future__ import annotations

import os
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


CAUGHT_UP = "backfill.head"  # under state/: the HEAD whose history is known to be stored
# While one of these exists, HEAD holds commits that an abort would abandon: record none of them.
_IN_PROGRESS = ("rebase-merge", "rebase-apply", "sequencer")


def catch_up(layout: Layout, store: Store) -> int:
    """Store the commits behind HEAD that are not stored yet: pulled, fetched and merged, or made
    while the hooks were off. The hooks' detached worker runs it before the expert update, so
    experts never miss a commit. Returns how many were added.

    HEAD itself is left to the hook that fired for it (it may not have appended it yet, and its
    record carries the branch and the agent session). The walk comes before the read of the
    store for the same reason: a commit listed was made before the read, so its hook has
    appended it by then. ``state/backfill.head`` remembers the HEAD caught up to (once its own
    record is stored), so a later run walks only what is new; without it, one ``git rev-list``."""
    if any((layout.git_dir / name).exists() for name in _IN_PROGRESS):
        return 0
    cwd = layout.worktree
    out = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=cwd,
                         capture_output=True, check=False)
    head = out.stdout.decode().strip()
    if out.returncode != 0 or not head:
        return 0
    marker = layout.state / CAUGHT_UP
    try:
        last = marker.read_text(encoding="utf-8").strip()
    except OSError:
        last = ""
    if last == head:
        return 0
    listed = None
    for revs in ([f"{head}^@", f"^{last}"], [f"{head}^@"]) if last else ([f"{head}^@"],):
        out = subprocess.run(["git", "rev-list", *revs, "--"], cwd=cwd, capture_output=True, check=False)
        if out.returncode == 0:  # else the remembered commit is gone (rewritten, pruned)
            listed = out.stdout.decode().split()
            break
    if listed is None:
        return 0
    have = store.ids("commits")
    todo = [h for h in listed if CommitRecord(hash=h).with_id().id not in have]
    added = 0
    if todo:
        walk = log_commits(cwd, (), stdin_revs=todo, no_walk=True, numstat=False, source="backfill")
        added = store.append("commits", [rec for rec in walk if rec.id not in have])
    if CommitRecord(hash=head).with_id().id in have:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f".{CAUGHT_UP}.tmp")
        tmp.write_text(head + "\n", encoding="utf-8")
        os.replace(tmp, marker)
    return added
