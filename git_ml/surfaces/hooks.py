"""``git-ml hook NAME``: what git's hooks (and the agents' hooks) run.

Rules every hook here keeps:

* it never hurts git: any error, a missing module or a time-out is one stderr line
  (``git-ml: <hook> skipped: <reason>``) and exit 0; never a traceback;
* it is quick: post-commit reads HEAD with one ``git log`` (after the one ``git rev-parse`` of
  :func:`~git_ml.layout.find_layout`) and appends one line; heavy work (importing fetched
  records, expert updates, session sweeps) runs in one detached, coalesced worker, and the sync
  after a push in a detached child of its own;
* it imports neither typer, rich nor gitpython (``python -X importtime -m git_ml hook ...``);
* it exits at once when ``GIT_ML_INTERNAL=1`` (git-ml's own git calls and workers), except for
  the worker entry points themselves.

Hooks: ``post-commit`` (and ``post-applypatch``, which ``git am`` fires instead),
``post-rewrite`` (``amend``/``rebase``, old/new pairs on stdin), ``post-merge``, ``pre-push``; internal: ``worker`` and ``sync`` (the detached children);
agent hooks (``session-*``, ``prompt-*``, ``agent-*``...) go to :mod:`git_ml.surfaces.agent_hooks`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from git_ml.detach import REENTRY_ENV, spawn_detached
from git_ml.layout import GitMLError, Layout, find_layout

GIT_HOOKS = ("post-commit", "post-rewrite", "post-merge", "pre-push", "post-applypatch")
CHILDREN = ("worker", "sync")  # run detached, with GIT_ML_INTERNAL=1 set
AGENT_PREFIXES = ("session-", "prompt", "user-prompt", "agent-", "claude-", "codex-", "stop", "pre-tool",
                  "post-tool")
DEFAULT_TIMEOUT = 10.0  # seconds, as the shell scripts' default (GIT_ML_HOOK_TIMEOUT)
WORKER_TIMEOUT = 1800.0  # a stuck worker must not hold its lock for ever
SPAWN_STALE = 120.0  # a spawn marker older than this belongs to a worker that never started
LOG_CAP = 1 << 20  # worker/sync logs are emptied past 1 MiB
MERGE_CAPTURE = 500  # post-merge records at most this many pulled commits; the worker the rest


class HookTimeout(Exception):
    pass


def _note(hook: str, reason: str) -> None:
    _log_line(f"git-ml: {hook} skipped: {str(reason).strip() or 'unknown error'}")


def _log_line(text: str) -> None:
    """One line on stderr (a detached worker's log): a single newline-terminated write, flushed,
    so consecutive lines, or lines of the worker and its git children, never run together."""
    sys.stderr.write(" ".join(text.split()) + "\n")
    sys.stderr.flush()


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`HookTimeout` after ``seconds`` (Unix main thread; elsewhere no limit)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def _expired(signum, frame):  # noqa: ARG001
        raise HookTimeout(f"timed out after {seconds:g}s")

    try:
        previous = signal.signal(signal.SIGALRM, _expired)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _budget(name: str) -> float | None:
    if name == "worker":
        return WORKER_TIMEOUT
    if name == "sync":
        return None  # the sync owns its own network time-outs
    raw = os.environ.get("GIT_ML_HOOK_TIMEOUT", "")
    limit = float(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_TIMEOUT
    # Stay under the shell script's hard limit so that the reason printed is ours.
    return max(limit - 1.0, 0.5)


def run_hook(args: Sequence[str]) -> int:
    """Entry point of ``git-ml hook NAME [ARGS...]``; always returns 0 for git hooks."""
    name = args[0] if args else ""
    rest = list(args[1:])
    if not name:
        _note("hook", "no hook name given (git-ml hook post-commit|post-rewrite|post-merge|pre-push)")
        return 0
    if os.environ.get(REENTRY_ENV) == "1" and name not in CHILDREN:
        return 0
    try:
        with _time_limit(_budget(name)):
            return _dispatch(name, rest)
    except HookTimeout as exc:
        _note(name, str(exc))
    except KeyboardInterrupt:
        _note(name, "interrupted")
    except Exception as exc:  # noqa: BLE001 - a hook never shows a traceback
        if os.environ.get("GIT_ML_DEBUG"):
            raise
        reason = str(exc) if isinstance(exc, GitMLError) else f"{type(exc).__name__}: {exc}"
        _note(name, reason)
    return 0


def _dispatch(name: str, args: list[str]) -> int:
    if name in GIT_HOOKS or name in CHILDREN:
        layout = find_layout(os.getcwd())
        if not layout.is_initialized():
            return 0  # hooks outlived `.git-ml/` (or a shared hooksPath): nothing to do here
        handler = {
            "post-commit": post_commit, "post-rewrite": post_rewrite, "post-merge": post_merge,
            "pre-push": pre_push, "post-applypatch": post_commit, "worker": worker, "sync": sync_child,
        }[name]
        return handler(layout, args)
    if name.startswith(AGENT_PREFIXES):
        try:
            from git_ml.surfaces.agent_hooks import run
        except ImportError:
            _note(name, "agent session hooks are not available in this version of git-ml")
            return 0
        return run(name, args)
    _note(name, "unknown hook name")
    return 0


# ------------------------------------------------------------------------------------------
# What git tells a hook


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def rebase_in_progress(git_dir: Path) -> bool:
    """True while ``git rebase`` replays commits (post-rewrite will report them at the end)."""
    return (git_dir / "rebase-merge").is_dir() or (git_dir / "rebase-apply" / "rebasing").is_file()


def branch_of(git_dir: Path) -> str | None:
    """The checked-out branch from ``HEAD`` (no subprocess); during a rebase, the rebased one."""
    head = (_read_text(git_dir / "HEAD") or "").strip()
    ref = head[5:].strip() if head.startswith("ref:") else None
    if ref is None:  # detached: a rebase knows which branch it works on
        for state in ("rebase-merge", "rebase-apply"):
            ref = (_read_text(git_dir / state / "head-name") or "").strip() or None
            if ref:
                break
    if ref is None or not ref.startswith("refs/heads/"):
        return None
    name = ref[len("refs/heads/"):]
    if name == ".invalid":  # reftable repositories keep HEAD elsewhere
        from git_ml.capture.git import current_branch

        return current_branch(git_dir)
    return name


def _stdin_text() -> str:
    """The hook's standard input, unless pre-commit runs us (it does not forward it)."""
    if os.environ.get("PRE_COMMIT") or sys.stdin is None:
        return ""
    try:
        if sys.stdin.isatty():
            return ""
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return ""


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) >= 40 and len(parts[1]) >= 40:
            out.append((parts[0], parts[1]))
    return out


def _recover_pairs(cwd: str, git_dir: Path, how: str) -> list[tuple[str, str]]:
    """old -> new pairs when stdin is missing (the pre-commit route): the rebase's own list, or
    the reflog for an amend."""
    if how == "rebase":
        for rel in ("rebase-merge/rewritten-list", "rebase-apply/rewritten"):
            pairs = _pairs(_read_text(git_dir / rel) or "")
            if pairs:
                return pairs
        return []
    import subprocess

    out = subprocess.run(["git", "log", "-g", "-n", "2", "--format=%H%x1f%gs", "HEAD", "--"],
                         cwd=cwd, capture_output=True, check=False)
    rows = [line.split("\x1f", 1) for line in out.stdout.decode("utf-8", "replace").splitlines()]
    if len(rows) == 2 and len(rows[0]) == 2 and rows[0][1].startswith("commit (amend)"):
        return [(rows[1][0], rows[0][0])]
    return []


def _session_id(layout: Layout) -> str | None:
    try:
        from git_ml.capture.sessions import active_session
    except ImportError:
        return None
    try:
        return active_session(layout)
    except Exception as exc:  # noqa: BLE001 - a broken marker must not cost the commit record
        _note("post-commit", f"no session link: {type(exc).__name__}: {exc}")
        return None


# ------------------------------------------------------------------------------------------
# Git hooks


def post_commit(layout: Layout, args: list[str]) -> int:
    """Record HEAD (with its branch and the active agent session), then kick the worker."""
    git_dir = layout.git_dir
    if rebase_in_progress(git_dir):
        return 0
    from msgspec.structs import replace

    from git_ml.capture.git import log_commits
    from git_ml.store import Store

    cwd = os.getcwd()
    rec = next(iter(log_commits(cwd, ["HEAD"], no_walk=True, reverse=False,
                                branch=branch_of(git_dir))), None)
    if rec is None:
        return 0
    session = _session_id(layout)
    if session:
        rec = replace(rec, session_id=session)
    # A plain append: no read of the store on the hot path; readers de-duplicate on the id.
    Store(layout).append("commits", [rec])
    kick_worker(layout)
    return 0


def post_rewrite(layout: Layout, args: list[str]) -> int:
    """Record amend/rebase as RewriteRecords and capture the new commits (source "rewrite"), so
    a rewritten commit counts once, under its new hash (``store.commits_in_effect``)."""
    from git_ml.capture.git import log_commits
    from git_ml.records import RewriteRecord
    from git_ml.store import Store

    how = (args[0] if args else os.environ.get("PRE_COMMIT_REWRITE_COMMAND", "")) or "rebase"
    git_dir = layout.git_dir
    if how == "amend" and rebase_in_progress(git_dir):
        # A reword/squash/fixup inside a rebase: the final "rebase" report maps every commit,
        # and an aborted rebase must leave no record of commits it abandoned.
        return 0
    cwd = os.getcwd()
    pairs = _pairs(_stdin_text()) or _recover_pairs(cwd, git_dir, how)
    branch = branch_of(git_dir)
    onto = ""
    if how == "rebase":
        onto = next((t for t in ((_read_text(git_dir / d / "onto") or "").strip()
                                 for d in ("rebase-merge", "rebase-apply")) if t), "")
    if onto:
        # Every commit the rebase left on the branch, including ones made at an `edit` stop.
        records = log_commits(cwd, [f"{onto}..HEAD"], branch=branch, source="rewrite")
    else:
        news = list(dict.fromkeys(new for _, new in pairs))
        records = log_commits(cwd, news, no_walk=True, branch=branch, source="rewrite") if news else []
    store = Store(layout)
    store.append_new("commits", records)
    now = int(time.time())
    store.append_new("rewrites", [RewriteRecord(old=o, new=n, how=how, time=now)
                                  for o, n in pairs if o != n])
    kick_worker(layout)
    return 0


def post_merge(layout: Layout, args: list[str]) -> int:
    """``git merge`` and ``git pull`` fire post-merge, not post-commit: record what the merge
    brought, ``ORIG_HEAD..HEAD`` (a fast-forward's commits, or a merge commit and its side).

    At most :data:`MERGE_CAPTURE` commits, without line counts, to stay quick; the worker's
    catch-up (``backfill.catch_up``) stores any rest before the experts learn."""
    from git_ml.capture.git import log_commits
    from git_ml.store import Store

    if args[:1] == ["1"]:  # squash merge: no commit yet; the later `git commit` is captured
        return 0
    cwd = os.getcwd()
    git_dir = layout.git_dir
    branch = branch_of(git_dir)
    orig = (_read_text(git_dir / "ORIG_HEAD") or "").strip()
    if len(orig) >= 40 and all(ch in "0123456789abcdef" for ch in orig):
        records = list(log_commits(cwd, [f"{orig}..HEAD"], numstat=False, branch=branch,
                                   extra=[f"--max-count={MERGE_CAPTURE}"]))
    else:  # no ORIG_HEAD to compare with: at least the merge commit itself
        records = [r for r in log_commits(cwd, ["HEAD"], no_walk=True, numstat=False, branch=branch)
                   if r.is_merge]
    if records:
        Store(layout).append_new("commits", records)
    kick_worker(layout)
    return 0


def pre_push(layout: Layout, args: list[str]) -> int:
    """Start a detached ``sync`` after a push of real refs; never blocks or fails the push."""
    text = _stdin_text()
    if text:
        updates = [line.split() for line in text.splitlines()]
        if not any(len(u) >= 4 and u[1].strip("0") for u in updates):
            return 0  # only deletions (an all-zero local object name)
    if importlib.util.find_spec("git_ml.sync") is None:
        return 0  # sync is not part of this version yet
    if len(args) < 2:  # the pre-commit route passes no arguments, only these variables
        args = [os.environ.get("PRE_COMMIT_REMOTE_NAME", ""), os.environ.get("PRE_COMMIT_REMOTE_URL", "")]
    remote = args[0] if args[0] and args[0] != args[1] else None  # a name, not a bare URL
    _spawn(layout, ["hook", "sync", *([remote] if remote else [])], "sync")
    return 0


# ------------------------------------------------------------------------------------------
# The detached children


def _spawn(layout: Layout, argv: list[str], logname: str) -> None:
    log = layout.state / f"{logname}.log"
    with contextlib.suppress(OSError):
        if log.stat().st_size > LOG_CAP:
            log.write_bytes(b"")
    spawn_detached(argv, cwd=layout.worktree, log=log)


# What the worker runs, in order: teammates' records a plain fetch/pull brought, the commits
# reachable from HEAD that no hook saw (pulled, or made while hooks were off), then the expert
# update on everything new, then the sweep of agent sessions whose end hook never fired.
WORKER_STEPS = (("git_ml.sync", "import_fetched"), ("git_ml.capture.backfill", "catch_up"),
                ("git_ml.experts.registry", "update"), ("git_ml.capture.sessions", "sweep"))


def _worker_has_work() -> bool:
    return any(importlib.util.find_spec(module) is not None for module, _ in WORKER_STEPS)


def kick_worker(layout: Layout) -> None:
    """Mark new data and start one worker unless one is already on its way.

    ``worker.dirty`` says "there is something new"; ``worker.spawned`` (created exclusively)
    says "a worker was started and has not taken its lock yet". So a 200-commit cherry-pick
    starts one worker, which loops while new data keeps coming.
    """
    if not _worker_has_work():
        return
    state = layout.state
    state.mkdir(parents=True, exist_ok=True)
    (state / "worker.dirty").write_bytes(b"")
    spawned = state / "worker.spawned"
    try:
        fd = os.open(spawned, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            if time.time() - spawned.stat().st_mtime < SPAWN_STALE:
                return
            spawned.touch()  # a worker that never started: start another
        except OSError:
            return
    else:
        os.close(fd)
    _spawn(layout, ["hook", "worker"], "worker")


def _update_once(layout: Layout) -> None:
    from git_ml.store import Store

    store = Store(layout)
    for module, func in WORKER_STEPS:
        try:
            target = getattr(__import__(module, fromlist=[func]), func)
        except (ImportError, AttributeError):
            continue
        try:
            target(layout, store)
        except Exception as exc:  # noqa: BLE001 - one failing part must not stop the other
            _log_line(f"git-ml: worker: {module}.{func} failed: {type(exc).__name__}: {exc}")


def worker(layout: Layout, args: list[str]) -> int:
    """``git-ml hook worker``: :data:`WORKER_STEPS` until no new data is marked.

    Only the lock holder removes ``worker.spawned``, when it is done: until then new commits
    just mark data dirty and this loop picks it up, so no second worker starts meanwhile.
    """
    from filelock import FileLock, Timeout

    state = layout.state
    dirty = state / "worker.dirty"
    spawned = state / "worker.spawned"
    while True:
        lock = FileLock(str(state / "worker.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return 0  # the running worker looks at the dirty marker again before it leaves
        try:
            while dirty.exists():
                dirty.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    os.utime(spawned)  # still alive: not a stale marker
                _update_once(layout)
            spawned.unlink(missing_ok=True)
        finally:
            lock.release()
        if not dirty.exists():
            return 0


def sync_child(layout: Layout, args: list[str]) -> int:
    """``git-ml hook sync [REMOTE]``: the detached sync after a push (one at a time)."""
    from filelock import FileLock, Timeout

    try:
        from git_ml.sync import sync
    except ImportError:
        return 0
    from git_ml.store import Store

    lock = FileLock(str(layout.state / "sync.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return 0  # a sync is already running
    try:
        result = sync(layout, Store(layout), remote=args[0] if args else None)
        summary = getattr(result, "summary", None)
        if callable(summary):
            print(summary())
    finally:
        lock.release()
    return 0
