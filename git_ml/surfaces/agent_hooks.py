"""``git-ml hook session-end | session-start | prompt-submit``: what an agent's hooks run.

Claude Code (and Codex, with ``--agent codex``) pass a JSON payload on stdin: ``session_id``,
``transcript_path``, ``cwd``, ``hook_event_name`` and, at SessionEnd, ``reason``. Claude Code gives
all SessionEnd hooks 1.5 s together, so these hooks only read the payload, write a marker file and,
at SessionEnd, start the capture (``git ml session ingest``) in a detached process; redaction,
parsing and training run there. They print nothing on stdout (the agents read it: SessionStart and
UserPromptSubmit output would become model context), always exit 0, and say what went wrong in one
stderr line. Only the standard library and git-ml's light modules are imported here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from git_ml.layout import GitMLError, Layout, find_layout

MAX_PAYLOAD = 1 << 20
AGENTS = ("claude", "codex")


def _note(name: str, reason: str) -> None:
    print(f"git-ml: {name} hook: {' '.join(reason.split())}", file=sys.stderr)


def _payload() -> dict[str, Any]:
    """The hook's JSON object from stdin; GitMLError when there is none or it is not JSON."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise GitMLError("no JSON payload on stdin (this hook is run by the agent)")
    raw = stdin.buffer.read(MAX_PAYLOAD)
    if not raw.strip():
        raise GitMLError("no JSON payload on stdin; nothing captured")
    try:
        data = json.loads(raw)
    except ValueError:
        raise GitMLError("stdin is not the agent's JSON payload; nothing captured") from None
    if not isinstance(data, dict):
        raise GitMLError("stdin is not the agent's JSON payload; nothing captured")
    return data


def _field(data: dict[str, Any], *names: str) -> str:
    for n in names:
        v = data.get(n)
        if isinstance(v, str) and v:
            return v
    return ""


def _layout(data: dict[str, Any]) -> Layout | None:
    cwd = _field(data, "cwd")
    layout = find_layout(cwd if cwd and os.path.isdir(cwd) else os.getcwd())
    return layout if layout.is_initialized() else None


def _agent(args: Sequence[str]) -> str:
    if "--agent" in args:
        i = list(args).index("--agent")
        if i + 1 < len(args) and args[i + 1] in AGENTS:
            return args[i + 1]
        raise GitMLError(f"--agent takes one of {', '.join(AGENTS)}")
    return "claude"


def session_end(args: Sequence[str]) -> int:
    """Mark the session ended and capture its transcript in a detached ``git ml session ingest``."""
    from git_ml.capture.sessions import mark_ended

    agent = _agent(args)
    data = _payload()
    sid = _field(data, "session_id", "sessionId")
    if not sid:
        raise GitMLError("the payload has no session_id; nothing captured")
    layout = _layout(data)
    if layout is None:
        return 0  # git-ml is not set up in this repository (any more): nothing to do
    transcript = _field(data, "transcript_path", "transcriptPath")
    mark_ended(layout, agent, sid, transcript or None, _field(data, "reason") or None)
    if transcript and os.path.isfile(transcript):
        _spawn(layout, ["session", "ingest", transcript, "--agent", agent])
    else:
        _kick_sweep(layout)  # no transcript named: the sweep finds it in the agent's folder
    return 0


def _mark_active(args: Sequence[str]):
    """Mark the payload's session active; its layout, or None when there is nothing to mark."""
    from git_ml.capture.sessions import mark_active

    data = _payload()
    sid = _field(data, "session_id", "sessionId")
    layout = _layout(data)
    if layout is None or not sid:
        return None
    mark_active(layout, _agent(args), sid, _field(data, "transcript_path", "transcriptPath") or None)
    return layout


def session_start(args: Sequence[str]) -> int:
    """Mark the session active (for commit stamping) and let the worker sweep missed sessions."""
    layout = _mark_active(args)
    if layout is not None:
        _kick_sweep(layout)
    return 0


def prompt_submit(args: Sequence[str]) -> int:
    """Touch the session's active marker (a resumed session may have had no SessionStart here)."""
    _mark_active(args)
    return 0


def _spawn(layout: Layout, argv: list[str]) -> None:
    """Start ``git ml <argv>`` detached, its output in ``state/sessions.log``."""
    from git_ml.detach import spawn_detached

    if not os.environ.get("GIT_ML_NO_DETACH"):
        spawn_detached(argv, cwd=layout.worktree, log=layout.state / "sessions.log")
        return
    # In the foreground (tests, debugging) the child would write to our stdout, which the agent reads.
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        spawn_detached(argv, cwd=layout.worktree, log=layout.state / "sessions.log")
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _kick_sweep(layout: Layout) -> None:
    """Start the hooks' detached worker (expert update + session sweep), when it is installed."""
    try:
        from git_ml.surfaces.hooks import kick_worker
    except ImportError:
        return
    kick_worker(layout)


HANDLERS = {
    "session-end": session_end,
    "session-start": session_start,
    "prompt-submit": prompt_submit,
    "prompt": prompt_submit,
    "user-prompt-submit": prompt_submit,
}


def run(name: str, args: Sequence[str]) -> int:
    """Run one agent hook; always 0 (an agent must never be disturbed by git-ml)."""
    handler = HANDLERS.get(name)
    if handler is None:
        _note(name, f"unknown agent hook (known: {', '.join(sorted(HANDLERS))})")
        return 0
    try:
        return handler(args)
    except GitMLError as exc:
        _note(name, str(exc))
    except Exception as exc:  # noqa: BLE001 - a hook never shows a traceback
        if os.environ.get("GIT_ML_DEBUG"):
            raise
        _note(name, f"{type(exc).__name__}: {exc}")
    return 0
