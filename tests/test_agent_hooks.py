"""The agents' hooks: garbage in -> exit 0 and one stderr line; a quick answer; the capture detached."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest

from agent_transcripts import Claude
from conftest import ROOT

DIRECT = "import sys; from git_ml.surfaces.agent_hooks import run; sys.exit(run(sys.argv[1], sys.argv[2:]))"
CLAUDE_BUDGET = 1.5  # seconds Claude Code gives all SessionEnd hooks together


def hook(cwd, name, payload: bytes | None, *extra: str, env: dict | None = None, importtime: bool = False):
    """Run an agent hook as the agent does: a new process, the payload on stdin. Through the hook
    dispatcher (`python -m git_ml hook ...`) when it is part of this checkout, else our entry."""
    flags = ["-X", "importtime"] if importtime else []
    if importlib.util.find_spec("git_ml.surfaces.hooks") is not None:
        argv = [sys.executable, *flags, "-m", "git_ml", "hook", name, *extra]
    else:
        argv = [sys.executable, *flags, "-c", DIRECT, name, *extra]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(argv, cwd=cwd, input=payload, capture_output=True, env=full_env, timeout=60)


def payload(layout, sid="hook-1", transcript=None, event="SessionEnd", **kw) -> bytes:
    data = {"session_id": sid, "transcript_path": str(transcript) if transcript else None,
            "cwd": str(layout.worktree), "hook_event_name": event, **kw}
    return json.dumps(data).encode()


def transcript(layout, tmp_path, sid="hook-1"):
    t = Claude(layout.worktree, session_id=sid)
    t.prompt("Make the hook fast")
    t.edit(f"{layout.worktree}/hook.py")
    return t.write(tmp_path / f"{sid}.jsonl")


@pytest.mark.parametrize("stdin", [b"", b"not json at all", b"[1, 2, 3]", b'{"no": "session id"}', b"\xff\xfe"])
@pytest.mark.parametrize("name", ["session-end", "session-start", "prompt-submit"])
def test_garbage_on_stdin_exits_0_with_one_stderr_line(gm, name, stdin):
    layout, _ = gm
    out = hook(layout.worktree, name, stdin)
    assert out.returncode == 0
    assert out.stdout == b""
    if name == "session-end" or stdin[:1] != b"{":
        assert len(out.stderr.decode().strip().splitlines()) == 1, out.stderr
        assert out.stderr.startswith(b"git-ml: ")
    assert not layout.tracked_file("sessions").exists()


def test_unknown_hook_and_uninitialised_repository(repo, tmp_path):
    out = hook(repo, "session-explode", b"{}")
    assert out.returncode == 0 and out.stdout == b"" and len(out.stderr.splitlines()) == 1
    t = Claude(repo, session_id="x")
    t.prompt("hi")
    path = t.write(tmp_path / "x.jsonl")
    data = json.dumps({"session_id": "x", "transcript_path": str(path), "cwd": str(repo)}).encode()
    out = hook(repo, "session-end", data)
    assert out.returncode == 0 and out.stdout == b""
    assert not (repo / ".git-ml").exists()


def test_start_prompt_end_markers_and_a_detached_capture(gm, tmp_path):
    layout, store = gm
    path = transcript(layout, tmp_path)
    markers = layout.state / "agent-sessions"
    out = hook(layout.worktree, "session-start", payload(layout, transcript=path, event="SessionStart", source="startup"))
    assert out.returncode == 0 and out.stdout == b"", out.stderr
    assert (markers / "claude-hook-1.active").exists()
    out = hook(layout.worktree, "prompt-submit", payload(layout, transcript=path, event="UserPromptSubmit", prompt="x"))
    assert out.returncode == 0 and out.stdout == b""
    start = time.monotonic()
    out = hook(layout.worktree, "session-end", payload(layout, transcript=path, reason="prompt_input_exit"),
               env={"GIT_ML_NO_DETACH": ""})
    elapsed = time.monotonic() - start
    assert out.returncode == 0 and out.stdout == b"" and out.stderr == b""
    assert elapsed < CLAUDE_BUDGET
    assert not (markers / "claude-hook-1.active").exists()
    # the capture runs in a detached child: not done when the hook answered, done soon after
    assert not layout.tracked_file("sessions").exists()
    deadline = time.monotonic() + 60
    log = layout.state / "sessions.log"
    # the child appends the record, trains the episode expert, then logs: wait for all three
    while time.monotonic() < deadline and not (
        store.read("sessions") and layout.episode_file("hook-1").exists()
        and log.exists() and "captured claude session hook-1" in log.read_text()
    ):
        time.sleep(0.2)
    (rec,) = store.read("sessions")
    assert rec.session_id == "hook-1" and rec.end_reason == "prompt_input_exit" and rec.files_modified == ["hook.py"]
    assert "captured claude session hook-1" in (layout.state / "sessions.log").read_text()
    assert layout.episode_file("hook-1").exists()


def test_in_the_foreground_the_record_is_there_when_the_hook_returns(gm, tmp_path):
    layout, store = gm
    path = transcript(layout, tmp_path, "fg-1")
    out = hook(layout.worktree, "session-end", payload(layout, "fg-1", path, reason="clear"),
               env={"GIT_ML_NO_DETACH": "1"})
    assert out.returncode == 0 and out.stdout == b""
    (rec,) = store.read("sessions")
    assert rec.end_reason == "clear"


def test_codex_session_end_without_a_transcript_path_leaves_the_end_for_the_sweep(gm):
    layout, _ = gm
    out = hook(layout.worktree, "session-end", payload(layout, "cx-1", None, reason="other"), "--agent", "codex")
    assert out.returncode == 0 and out.stdout == b""
    ended = json.loads((layout.state / "agent-sessions" / "codex-cx-1.ended").read_text())
    assert ended["reason"] == "other" and ended["agent"] == "codex"


def test_the_hook_path_imports_nothing_heavy(gm, tmp_path):
    layout, _ = gm
    path = transcript(layout, tmp_path, "imp-1")
    out = hook(layout.worktree, "session-end", payload(layout, "imp-1", path), env={"GIT_ML_NO_DETACH": ""},
               importtime=True)
    assert out.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.decode().splitlines()
                if line.startswith("import time:")}
    assert not imported & {"typer", "rich", "git", "detect_secrets", "click", "requests"}
