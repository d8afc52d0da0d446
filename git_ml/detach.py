"""Run heavy work in a detached process so a hook can return at once.

The child gets its own session (no terminal signals), no stdin, and output to a log file under
``.git-ml/state/``; it inherits nothing that would make git wait for it. Set ``GIT_ML_NO_DETACH=1``
(tests, debugging) to run the work in the foreground instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# Set in every detached child and in git-ml's own git calls, so hooks fired by them exit at once.
REENTRY_ENV = "GIT_ML_INTERNAL"


def spawn_detached(argv: Sequence[str], *, cwd: Path, log: Path | None = None, env: dict | None = None) -> int | None:
    """Start ``python -m git_ml <argv>`` detached; returns its pid (None when run in the foreground)."""
    child_env = dict(os.environ if env is None else env)
    child_env[REENTRY_ENV] = "1"
    # Git exports these for hooks; a child that outlives the hook must find the repository itself.
    for var in ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE", "GIT_PREFIX", "GIT_EDITOR"):
        child_env.pop(var, None)
    # The child runs the very git_ml the parent runs, installed or not (a checkout run by path).
    root = str(Path(__file__).resolve().parents[1])
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "git_ml", *argv]
    if os.environ.get("GIT_ML_NO_DETACH"):
        subprocess.run(cmd, cwd=cwd, env=child_env, stdin=subprocess.DEVNULL, check=False)
        return None
    out = subprocess.DEVNULL
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "ab")
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=child_env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            start_new_session=True, close_fds=True,
        )
    finally:
        if out is not subprocess.DEVNULL:
            out.close()
    return proc.pid
