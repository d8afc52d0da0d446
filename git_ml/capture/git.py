"""Commit capture: CommitRecords straight from ``git log`` (streamed; no gitpython on this path).

One parser serves the post-commit hook (one commit), post-rewrite (a few) and the backfill (the
whole history): ``git log -z --raw [--numstat]`` with a header of ASCII separators, read in chunks
so memory stays flat on histories of any size.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from git_ml.records import CommitRecord, FileChange

MAX_FILES = 5000  # a commit touching more files is kept with its first MAX_FILES (flagged)
_RS, _US = b"\x1e", b"\x1f"
_FORMAT = "--format=%x1e%H%x1f%P%x1f%an%x1f%at%x1f%B%x1f"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _path(raw: bytes) -> str:
    # Non-UTF-8 path bytes become \\xNN escapes: JSON-safe and stable across runs.
    return raw.decode("utf-8", errors="backslashreplace")


def parse_entry(entry: bytes, *, branch: str | None = None, source: str = "hook") -> CommitRecord | None:
    """Parse one ``_FORMAT`` entry (without its leading record separator)."""
    head = entry.split(_US, 5)
    if len(head) < 6:
        return None
    sha, parents, author, atime, message, rest = head
    files: dict[str, FileChange] = {}
    order: list[str] = []
    toks = rest.split(b"\0")
    i = 0
    n = len(toks)
    while i < n:
        tok = toks[i].lstrip(b"\n")
        i += 1
        if not tok:
            continue
        if tok.startswith(b":"):
            status = _text(tok.rsplit(b" ", 1)[-1])[:1] or "M"
            if status in ("R", "C") and i + 1 < n:
                old, new = _path(toks[i]), _path(toks[i + 1])
                i += 2
                fc = FileChange(path=new, status=status, old_path=old)
            elif i < n:
                fc = FileChange(path=_path(toks[i]), status=status)
                i += 1
            else:
                continue
            if fc.path not in files:
                order.append(fc.path)
            files[fc.path] = fc
        elif b"\t" in tok:
            ins, dels, path = tok.split(b"\t", 2)
            if not path and i + 1 < n:
                path = toks[i + 1]
                i += 2
            fc = files.get(_path(path))
            if fc is not None:
                fc.insertions = int(ins) if ins.isdigit() else None
                fc.deletions = int(dels) if dels.isdigit() else None
    parent_list = _text(parents).split()
    truncated = len(order) > MAX_FILES
    return CommitRecord(
        hash=_text(sha).strip(),
        parents=parent_list,
        author=_text(author),
        author_time=int(atime) if atime.strip().isdigit() else 0,
        branch=branch,
        message=_text(message).strip(),
        files=[files[p] for p in order[:MAX_FILES]],
        is_merge=len(parent_list) > 1,
        source=source,
        files_truncated=truncated,
    ).with_id()


def log_commits(
    cwd: Path | str,
    revs: Sequence[str] = ("HEAD",),
    *,
    numstat: bool = True,
    reverse: bool = True,
    no_walk: bool = False,
    extra: Sequence[str] = (),
    branch: str | None = None,
    source: str = "hook",
    stdin_revs: Sequence[str] = (),
) -> Iterator[CommitRecord]:
    """Stream CommitRecords for ``git log revs`` (oldest first by default).

    Merge commits come with no file list (``is_merge=True``); numstat can be turned off when
    speed matters more than line counts (it makes git diff every blob). ``stdin_revs`` are passed
    through ``--stdin`` (any number of them, no command-line limit).
    """
    cmd = ["git", "-c", "core.quotepath=off", "-c", "diff.renames=true", "log", "-z", "--raw",
           "-M", "--no-color", "--no-abbrev", _FORMAT]
    if numstat:
        cmd.append("--numstat")
    if reverse:
        cmd.append("--reverse")
    if no_walk:
        cmd.append("--no-walk=unsorted")
    cmd += list(extra)
    if stdin_revs:
        cmd.append("--stdin")
    cmd += list(revs)
    cmd.append("--")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.PIPE if stdin_revs else subprocess.DEVNULL)
    assert proc.stdout is not None
    if proc.stdin is not None:
        # git reads all of stdin before it writes anything, so this cannot dead-lock.
        proc.stdin.write("".join(f"{r}\n" for r in stdin_revs).encode())
        proc.stdin.close()
    buf = b""
    try:
        while True:
            chunk = proc.stdout.read(1 << 16)
            if not chunk:
                break
            buf += chunk
            parts = buf.split(_RS)
            buf = parts.pop()
            for part in parts:
                if part:
                    rec = parse_entry(part, branch=branch, source=source)
                    if rec is not None:
                        yield rec
        if buf:
            rec = parse_entry(buf, branch=branch, source=source)
            if rec is not None:
                yield rec
    finally:
        proc.stdout.close()
        proc.wait()


def current_branch(cwd: Path | str) -> str | None:
    out = subprocess.run(["git", "symbolic-ref", "--short", "-q", "HEAD"], cwd=cwd,
                         capture_output=True, check=False)
    name = out.stdout.decode("utf-8", "replace").strip()
    return name or None


def head_commit(cwd: Path | str) -> CommitRecord | None:
    """The CommitRecord of HEAD, for the post-commit hook."""
    branch = current_branch(cwd)
    for rec in log_commits(cwd, ["HEAD"], no_walk=True, reverse=False, branch=branch):
        return rec
    return None
