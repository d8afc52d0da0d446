"""Sessions into the tracked store: ingest, dedupe (later wins), commit links, sweep, markers, and
a dozen sessions ending at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest

from agent_transcripts import Claude, Codex
from conftest import ROOT, git, run_gitml
from git_ml.capture.agents.claude import encode_project
from git_ml.capture.backfill import backfill
from git_ml.capture.sessions import (
    STALE_AFTER,
    active_session,
    ingest_paths,
    mark_active,
    mark_ended,
    sweep,
)
from git_ml.layout import GitMLError
from git_ml.records import MicroExpert

START = datetime(2026, 1, 5, 10, 0, 0, tzinfo=timezone.utc)
FAKE_KEY = "sk-ant-api03-" + "Q7vN2xK5mP7rT1wY4bC6dF9gH0jL3nQ8sV8uX2zA5eI7"


def claude_session(repo: Path, sid: str = "s-1", prompt: str = "Fix the parser", **kw) -> Claude:
    t = Claude(repo, session_id=sid, start=kw.pop("start", START), **kw)
    t.prompt(prompt)
    t.tool("Read", {"file_path": f"{repo}/parser.py"}, "code")
    t.edit(f"{repo}/parser.py")
    t.bash("pytest tests/test_parser.py", "1 passed in 0.1s")
    return t


def commit_at(repo: Path, path: str, when: datetime, message: str) -> str:
    (repo / path).write_text(message + "\n")
    git(repo, "add", path)
    stamp = f"{int(when.timestamp())} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


def test_ingest_a_folder_detects_formats_redacts_and_trains_episodes(gm, tmp_path):
    layout, store = gm
    repo = layout.worktree
    folder = tmp_path / "transcripts"
    c = claude_session(repo, "claude-1", prompt=f"Use ANTHROPIC_API_KEY={FAKE_KEY} to fix the parser")
    c.write(folder / "claude-1.jsonl")
    sub = Claude(repo, session_id="claude-1")
    sub.edit(f"{repo}/lexer.py", isSidechain=True)
    sub.write(folder / "claude-1" / "subagents" / "agent-x.jsonl")
    x = Codex(repo, session_id="codex-1")
    x.prompt("Add a CLI flag")
    x.patch("*** Begin Patch\n*** Update File: cli.py\n*** End Patch")
    x.write(folder / "nested" / "rollout-codex-1.jsonl")
    (folder / "notes.jsonl").write_text('{"not": "a transcript"}\n')
    other_repo = tmp_path / "other-repo"  # a session of another repository on this machine: left out
    other_repo.mkdir()
    claude_session(other_repo, "not-ours").write(folder / "not-ours.jsonl")
    lines = ingest_paths(layout, store, [folder])
    assert len(lines) == 2 and all(line.startswith("captured ") for line in lines)
    by_id = {r.session_id: r for r in store.read("sessions")}
    assert set(by_id) == {"claude-1", "codex-1"}
    assert by_id["claude-1"].files_modified == ["parser.py", "lexer.py"]
    assert by_id["codex-1"].agent == "codex" and by_id["codex-1"].files_modified == ["cli.py"]
    raw = layout.tracked_file("sessions").read_text()
    assert FAKE_KEY not in raw and "[REDACTED:anthropic-key]" in raw
    assert by_id["claude-1"].captured_at
    micro = msgspec.json.decode(layout.episode_file("claude-1").read_bytes(), type=MicroExpert)
    assert micro.expert_type == "episode" and micro.trained_on_sessions == 1


def test_bad_input_is_one_clear_error_and_writes_nothing(gm, tmp_path):
    layout, store = gm
    with pytest.raises(GitMLError, match="no such file"):
        ingest_paths(layout, store, [tmp_path / "missing.jsonl"])
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    with pytest.raises(GitMLError, match="not a Claude Code or Codex transcript"):
        ingest_paths(layout, store, [junk])
    x = Codex(layout.worktree)
    x.prompt("hi")
    with pytest.raises(GitMLError, match="not a Claude Code transcript"):
        ingest_paths(layout, store, [x.write(tmp_path / "r.jsonl")], agent="claude")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GitMLError, match="no Claude Code or Codex transcripts"):
        ingest_paths(layout, store, [tmp_path / "empty"])
    claude_session(tmp_path, "elsewhere").write(tmp_path / "empty" / "elsewhere.jsonl")
    with pytest.raises(GitMLError, match="1 belong to other repositories"):
        ingest_paths(layout, store, [tmp_path / "empty"])
    assert not layout.tracked_file("sessions").exists()


def foreign_session(tmp_path: Path, sid: str = "port-1") -> Path:
    """A session of another project (a Rust port, not on this machine) that also read a README."""
    there = "/home/someone/rust-port"
    t = Claude(there, session_id=sid, start=START)
    t.prompt("Port this Python project to Rust")
    t.tool("Read", {"file_path": f"{there}/README.md"}, "# port")
    t.edit(f"{there}/Cargo.toml")
    t.edit(f"{there}/src/lib.rs")
    t.bash("cargo test --test smoke", "test result: FAILED", is_error=True)
    return t.write(tmp_path / f"{sid}.jsonl")


def test_a_file_recorded_in_another_project_is_refused_unless_forced(gm, tmp_path):
    layout, store = gm
    path = foreign_session(tmp_path)
    with pytest.raises(GitMLError, match=r"recorded in /home/someone/rust-port, outside this repository; pass --force"):
        ingest_paths(layout, store, [path])
    assert not layout.tracked_file("sessions").exists() and not layout.episode_file("port-1").exists()
    # forced: only the paths that exist here are kept (README.md), never Cargo.toml or src/lib.rs
    (line,) = ingest_paths(layout, store, [path], force=True)
    assert line.startswith("captured claude session port-1")
    (rec,) = store.read("sessions")
    assert rec.files_read == ["README.md"] and rec.files_modified == []
    assert all(set(fs) <= {"README.md"} for fs in rec.prompt_files)
    assert all(not e.files and not e.fixed_by for e in rec.errors)
    raw = layout.episode_file("port-1").read_text()
    assert "Cargo.toml" not in raw and "lib.rs" not in raw
    # a file of this repository needs no --force
    assert ingest_paths(layout, store, [claude_session(layout.worktree, "ours").write(tmp_path / "o.jsonl")])


def test_predictions_never_name_a_file_an_episode_saw_that_is_gone(gm, tmp_path):
    from git_ml import api

    layout, store = gm
    repo = layout.worktree
    commit_at(repo, "parser.py", START, "Add the parser")
    t = claude_session(repo, "gone")
    t.edit(f"{repo}/README.md")
    ingest_paths(layout, store, [t.write(tmp_path / "gone.jsonl")])

    def proposed() -> list[str]:
        return [i.item for i in api.predict(repo, "Fix the parser", experts=["file"]).items]

    assert {"parser.py", "README.md"} <= set(proposed())
    git(repo, "rm", "-q", "parser.py")
    git(repo, "commit", "-q", "-m", "Drop the parser")
    assert proposed() == ["README.md"]


def test_the_same_session_twice_is_one_record_and_the_later_capture_wins(gm, tmp_path):
    layout, store = gm
    t = claude_session(layout.worktree, "again")
    path = t.write(tmp_path / "again.jsonl")
    ingest_paths(layout, store, [path])
    first = store.read("sessions")[0]
    t.prompt("Now also handle tabs")
    t.edit(f"{layout.worktree}/tabs.py")
    t.write(path)
    time.sleep(1.1)  # captured_at has second resolution
    ingest_paths(layout, store, [path])
    (rec,) = store.read("sessions")
    assert rec.id == first.id
    assert rec.prompts == ["Fix the parser", "Now also handle tabs"] and rec.captured_at > first.captured_at
    assert len(layout.tracked_file("sessions").read_text().splitlines()) == 2


def test_commits_made_during_the_session_are_linked_both_ways(gm, tmp_path):
    layout, store = gm
    repo = layout.worktree
    before = commit_at(repo, "old.py", datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc), "Before the session")
    during = commit_at(repo, "parser.py", datetime(2026, 1, 5, 10, 0, 5, tzinfo=timezone.utc), "Fix parser")
    printed = commit_at(repo, "late.py", datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc), "Printed in the session")
    backfill(layout, store)
    t = claude_session(repo, "linked")
    t.bash("git commit -am 'Printed in the session'", f"[main {printed[:7]}] Printed in the session\n 1 file changed")
    ingest_paths(layout, store, [t.write(tmp_path / "linked.jsonl")])
    (rec,) = store.read("sessions")
    assert set(rec.commits) == {during, printed}
    stamped = {c.hash: c.session_id for c in store.read("commits")}
    assert stamped[during] == "linked" and stamped[printed] == "linked" and stamped[before] is None
    # a commit already claimed by another session is not linked to this one
    other = Claude(repo, session_id="other", start=START)
    other.prompt("Something else at the same time")
    ingest_paths(layout, store, [other.write(tmp_path / "other.jsonl")])
    rec2 = next(r for r in store.read("sessions") if r.session_id == "other")
    assert during not in rec2.commits


def test_the_end_reason_from_the_hook_goes_into_the_record(gm, tmp_path):
    layout, store = gm
    t = claude_session(layout.worktree, "ending")
    path = t.write(tmp_path / "ending.jsonl")
    mark_active(layout, "claude", "ending", str(path))
    mark_ended(layout, "claude", "ending", str(path), "prompt_input_exit")
    assert active_session(layout) is None
    ingest_paths(layout, store, [path])
    assert store.read("sessions")[0].end_reason == "prompt_input_exit"
    assert not list(layout.state.glob("agent-sessions/*.ended"))


def test_active_session_markers(gm):
    layout, _ = gm
    assert active_session(layout) is None
    mark_active(layout, "claude", "first")
    now = time.time()
    assert active_session(layout) == "first"
    mark_active(layout, "codex", "second")
    os.utime(layout.state / "agent-sessions" / "claude-first.active", (now - 60, now - 60))
    assert active_session(layout) == "second"
    mark_ended(layout, "codex", "second", None, "other")
    assert active_session(layout) == "first"
    assert active_session(layout, now=now + STALE_AFTER + 120) is None  # a dead session's marker


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_sweep_captures_missed_sessions_once_and_leaves_live_ones(gm, tmp_path):
    layout, store = gm
    repo = layout.worktree
    projects = Path(os.environ["HOME"]) / ".claude" / "projects" / encode_project(str(repo))
    crashed = claude_session(repo, "crashed").write(projects / "crashed.jsonl")
    live = claude_session(repo, "live").write(projects / "live.jsonl")
    marked = claude_session(repo, "marked").write(projects / "marked.jsonl")
    elsewhere = claude_session(tmp_path, "elsewhere").write(
        Path(os.environ["HOME"]) / ".claude" / "projects" / encode_project(str(tmp_path)) / "elsewhere.jsonl")
    day = Path(os.environ["HOME"]) / ".codex" / "sessions" / "2026" / "01" / "05"
    x = Codex(repo, session_id="codex-crashed")
    x.prompt("Refactor the CLI")
    codex = x.write(day / "rollout-2026-01-05T10-00-00-codex-crashed.jsonl")
    for p in (crashed, elsewhere, codex):
        _age(p, 600)
    _age(marked, 300)  # quiet, but its session is marked active and idle only for a while
    mark_active(layout, "claude", "marked")
    lines = sweep(layout, store)
    assert sorted(r.session_id for r in store.read("sessions")) == ["codex-crashed", "crashed"]
    assert len(lines) == 2
    assert sweep(layout, store) == []  # unchanged: not captured again
    # the crashed session's transcript grows (it was resumed): captured again, still one record
    t = claude_session(repo, "crashed")
    t.prompt("Resumed")
    t.write(crashed)
    _age(crashed, 300)
    _age(live, 300)
    assert len(sweep(layout, store)) == 2
    recs = {r.session_id: r for r in store.read("sessions")}
    assert recs["crashed"].prompts[-1] == "Resumed" and "live" in recs and "marked" not in recs
    # a marked session whose transcript has been idle for long was killed: captured after all
    assert sweep(layout, store, now=time.time() + 3600) == ["captured claude session marked: 1 prompt(s), "
                                                            "1 file(s) modified, 0 commit(s)"]
    # markers of sessions long gone are pruned
    mark_ended(layout, "claude", "never-came", None, "other")
    sweep(layout, store, now=time.time() + 8 * 86400)
    assert not list((layout.state / "agent-sessions").iterdir())


def test_a_dozen_sessions_ending_at_once_lose_nothing(gm, tmp_path):
    layout, store = gm
    paths = []
    for i in range(12):
        t = claude_session(layout.worktree, f"burst-{i:02d}", prompt=f"Task number {i}")
        for j in range(30):
            t.edit(f"{layout.worktree}/pkg/mod_{i}_{j}.py")
        paths.append(t.write(tmp_path / f"burst-{i:02d}.jsonl"))
    code = ("import sys; from pathlib import Path; from git_ml.layout import find_layout; "
            "from git_ml.store import Store; from git_ml.capture.sessions import ingest_paths; "
            "l = find_layout(sys.argv[1]); print(ingest_paths(l, Store(l), [Path(sys.argv[2])]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(layout.worktree), str(p)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in paths]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    raw = layout.tracked_file("sessions").read_bytes().splitlines()
    assert len(raw) == 12
    for line in raw:
        json.loads(line)  # every line whole and valid
    recs = store.read("sessions")
    assert sorted(r.session_id for r in recs) == [f"burst-{i:02d}" for i in range(12)]
    assert all(len(r.files_modified) == 31 for r in recs)
    assert len(list(layout.episodes.glob("episode_burst-*.json"))) == 12
    captured = json.loads((layout.state / "sessions-captured.json").read_text())
    assert len(captured) == 12


def test_cli_session_ingest(gm, tmp_path, on_path):
    layout, _ = gm
    path = claude_session(layout.worktree, "cli-1").write(tmp_path / "cli-1.jsonl")
    out = run_gitml(layout.worktree, "session", "ingest", str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().startswith("captured claude session cli-1:")
    foreign = run_gitml(layout.worktree, "session", "ingest", str(foreign_session(tmp_path)))
    assert foreign.returncode == 1 and foreign.stdout == b""
    assert foreign.stderr.decode().strip().count("\n") == 0 and "outside this repository" in foreign.stderr.decode()
    forced = run_gitml(layout.worktree, "session", "ingest", "--force", str(foreign_session(tmp_path)))
    assert forced.returncode == 0 and forced.stdout.decode().startswith("captured claude session port-1:")
    bad = run_gitml(layout.worktree, "session", "ingest", str(tmp_path / "nope.jsonl"))
    assert bad.returncode == 1
    assert bad.stderr.decode().strip().count("\n") == 0 and "no such file" in bad.stderr.decode()
