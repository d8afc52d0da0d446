"""The real OpenAI Codex CLI (npm @openai/codex) in a scratch repository with git-ml's hooks in
.codex/hooks.json, trusted exactly as `git ml install-agent codex` prints (the project line in
~/.codex/config.toml, `--dangerously-bypass-hook-trust` for automation; without the project line
Codex runs no project hook at all): `codex exec` fires SessionStart and UserPromptSubmit (our active-session marker),
writes a real rollout, then waits for a network that never comes and is killed. The session's end
hook never fired, which is what the sweep is for: it captures the rollout. Skipped only when
`codex` is not on PATH and CI is not set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import run_gitml
from git_ml.capture.sessions import ACTIVE_IDLE, sweep
from git_ml.layout import find_layout
from git_ml.store import Store

CODEX = shutil.which("codex")
pytestmark = [
    pytest.mark.agent_cli,
    pytest.mark.skipif(CODEX is None and not os.environ.get("CI"), reason="codex CLI not on PATH (npm i @openai/codex)"),
]


def codex_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_", "ANTHROPIC_"))}
    env["TERM"] = "dumb"
    return env


def codex(repo: Path, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([CODEX, "exec", "--dangerously-bypass-hook-trust", "--skip-git-repo-check", *args],
                            cwd=repo, env=codex_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def run_briefly(repo: Path, args: list[str], seconds: float) -> str:
    """Run codex for a few seconds (it waits for a network that never comes), then kill it."""
    proc = codex(repo, args)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
    return proc.communicate(timeout=30)[0].decode(errors="replace")


@pytest.fixture
def hooked_repo(repo, on_path):
    assert CODEX, "the codex CLI must be on PATH in CI"
    out = run_gitml(repo, "install-agent", "codex")
    assert out.returncode == 0, out.stderr.decode()
    printed = out.stdout.decode().splitlines()
    # not yet trusted: even with --dangerously-bypass-hook-trust Codex runs no project hook
    # (--ephemeral: no rollout is left for the sweep below)
    output = run_briefly(repo, ["--ephemeral", "Say hello before trust"], seconds=8)
    assert "Untrusted project-local configuration is disabled" in output, output[-2000:]
    assert not list((find_layout(repo).state / "agent-sessions").glob("codex-*"))
    # follow the printed steps: "add these two lines to <config>", then the two indented lines
    (step,) = [i for i, line in enumerate(printed) if "add these two lines to " in line]
    config = Path(printed[step].split("add these two lines to ", 1)[1].split(" (", 1)[0])
    assert config == Path(os.environ["HOME"]) / ".codex" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("\n".join(line.strip() for line in printed[step + 1:step + 3]) + "\n")
    assert any("--dangerously-bypass-hook-trust" in line for line in printed)
    return repo


def test_a_real_codex_session_killed_before_its_end_is_swept_up(hooked_repo):
    repo = hooked_repo
    prompt = "Say hello to the git-ml integration test"
    proc = codex(repo, [prompt])
    layout = find_layout(repo)
    markers = layout.state / "agent-sessions"
    rollouts = Path(os.environ["HOME"]) / ".codex" / "sessions"
    deadline = time.monotonic() + 60
    try:
        # the prompt hook has fired and the rollout holds the prompt: the session is under way
        while time.monotonic() < deadline:
            files = list(rollouts.rglob("rollout-*.jsonl")) if rollouts.is_dir() else []
            if list(markers.glob("codex-*.active")) and files and prompt in files[0].read_text():
                break
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)  # the network never comes: kill it, as a crash would
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    (marker,) = markers.glob("codex-*.active")
    sid = json.loads(marker.read_text())["session_id"]
    store = Store(layout)
    assert store.read("sessions") == []
    # the next session start or commit sweeps; by then the killed session's transcript is idle
    lines = sweep(layout, store, now=time.time() + ACTIVE_IDLE + 60)
    assert len(lines) == 1, output[-2000:]
    (rec,) = store.read("sessions")
    assert rec.agent == "codex" and rec.session_id == sid and rec.prompts == [prompt]
    assert rec.agent_version and rec.started_at
    assert layout.episode_file(sid).exists()
    assert sweep(layout, store, now=time.time() + ACTIVE_IDLE + 60) == []  # captured once
