"""The real Claude Code CLI (npm @anthropic-ai/claude-code) in a scratch repository where git-ml's
agent hooks are installed: its SessionStart, UserPromptSubmit and SessionEnd hooks fire with real
payloads and the session lands in tracked/sessions.jsonl.

Without an account `claude -p` stops at "Not logged in" after writing the prompt; with the scripted
stand-in model (tests/anthropic_standin.py) it makes real Read, Edit and Bash calls offline, and
the commit it makes is stamped by git-ml's post-commit hook and linked to the session.
Skipped only when `claude` is not on PATH and CI is not set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anthropic_standin import StandIn
from conftest import commit_file, git, run_gitml
from git_ml.layout import find_layout
from git_ml.store import Store

CLAUDE = shutil.which("claude")
pytestmark = [
    pytest.mark.agent_cli,
    pytest.mark.skipif(CLAUDE is None and not os.environ.get("CI"), reason="claude CLI not on PATH (npm i @anthropic-ai/claude-code)"),
]


@pytest.fixture
def hooked_repo(repo, on_path):
    """The scratch repository after `git ml init --agent claude` (git hooks and agent hooks)."""
    assert CLAUDE, "the claude CLI must be on PATH in CI"
    commit_file(repo, "calc.py", "def add(a, b):\n    return a - b\n", "Add calc")
    commit_file(repo, "tests/test_calc.py", "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
                "Test calc")
    (repo / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    git(repo, "add", "pytest.ini")
    git(repo, "commit", "-q", "-m", "pytest config")
    out = run_gitml(repo, "init", "--agent", "claude")
    assert out.returncode == 0, out.stderr.decode()
    settings = json.loads((repo / ".claude" / "settings.json").read_text())
    assert {"SessionEnd", "SessionStart", "UserPromptSubmit"} <= set(settings["hooks"])
    return repo


def claude_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "OPENAI_", "CODEX_"))}
    env.update(TERM="dumb", **extra)
    return env


def run_claude(repo: Path, prompt: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLAUDE, "-p", prompt, *extra], cwd=repo, env=env, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=240)


def wait_for_session(repo: Path, timeout: float = 90):
    layout = find_layout(repo)
    store = Store(layout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recs = store.read("sessions")
        if recs:
            return layout, store, recs
        time.sleep(0.5)
    log = layout.state / "sessions.log"
    raise AssertionError("no session captured; log: " + (log.read_text() if log.exists() else "(none)"))


def test_a_real_claude_session_without_an_account_is_captured(hooked_repo):
    prompt = "Say hello to the git-ml integration test"
    out = run_claude(hooked_repo, prompt, claude_env())
    assert b"Not logged in" in out.stdout + out.stderr
    layout, _, (rec,) = wait_for_session(hooked_repo)
    assert rec.agent == "claude" and rec.prompts == [prompt]
    assert rec.agent_version and rec.branch == "main" and rec.end_reason
    assert rec.started_at and rec.captured_at
    transcripts = list((Path(os.environ["HOME"]) / ".claude" / "projects").glob(f"*/{rec.session_id}.jsonl"))
    assert len(transcripts) == 1  # the session id is the real one Claude Code gave the transcript
    assert not list((layout.state / "agent-sessions").glob("*.active"))  # SessionEnd removed the marker
    assert layout.episode_file(rec.session_id).exists()


def test_real_tool_calls_through_the_stand_in_model(hooked_repo):
    repo = hooked_repo
    pytest_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider tests/test_calc.py"
    script = [
        {"tool": "Read", "input": {"file_path": str(repo / "calc.py")}},
        {"tool": "Bash", "input": {"command": pytest_cmd, "description": "Run the tests"}},
        {"tool": "Edit", "input": {"file_path": str(repo / "calc.py"), "old_string": "return a - b",
                                   "new_string": "return a + b"}},
        {"tool": "Bash", "input": {"command": pytest_cmd, "description": "Run the tests again"}},
        {"tool": "Bash", "input": {"command": "git commit -am 'Fix add'", "description": "Commit"}},
        {"text": "Fixed add() and committed."},
    ]
    with StandIn(script) as model:
        out = run_claude(repo, "Fix the failing test in calc.py and commit", claude_env(
            ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY="placeholder-not-a-key"),
            "--permission-mode", "acceptEdits", "--allowedTools", "Bash")
    assert out.returncode == 0, (out.stdout + out.stderr).decode()[-2000:]
    assert (repo / "calc.py").read_text().endswith("return a + b\n")
    layout, store, (rec,) = wait_for_session(repo)
    assert "calc.py" in rec.files_read and rec.files_modified == ["calc.py"]
    failed, passed = rec.test_runs[:2]
    assert (failed.runner, failed.targets, failed.outcome) == ("pytest", ["tests/test_calc.py"], "failed")
    assert passed.outcome == "passed"
    assert any("calc.py" in e.fixed_by for e in rec.errors)
    # the post-commit hook stamped the commit with the active session; the capture linked it
    head = git(repo, "rev-parse", "HEAD").strip()
    assert rec.commits == [head]
    assert {c.hash: c.session_id for c in store.read("commits")}[head] == rec.session_id
    assert git(repo, "status", "--porcelain", "--untracked-files=no").strip() == ""
