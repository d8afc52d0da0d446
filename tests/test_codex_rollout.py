"""Codex CLI rollouts: prompts, shell calls (old and new shapes), apply_patch, events, tolerance."""

from __future__ import annotations

import json
import os
from pathlib import Path

from agent_transcripts import Codex
from git_ml.capture.agents import detect
from git_ml.capture.agents.codex import CodexAdapter, patch_files

CWD = "/home/dev/work/api"

PATCH = """*** Begin Patch
*** Update File: app/routes.py
@@
-old
+new
*** Add File: tests/test_routes.py
+def test(): pass
*** Delete File: app/legacy.py
*** Update File: app/util.py
*** Move to: app/helpers.py
*** End Patch
"""


def parse(path: Path):
    parsed = CodexAdapter().parse(path, path.parent)
    assert parsed is not None
    return parsed


def test_a_rollout_end_to_end(tmp_path):
    t = Codex(CWD, branch="fix/routes")
    t.add("response_item", {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "# AGENTS.md instructions for /home/dev/work/api\n\n<INSTRUCTIONS>..."}]})
    t.add("response_item", {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "<environment_context>\n  <cwd>/home/dev/work/api</cwd>\n</environment_context>"}]})
    t.prompt("Fix the 404 on /users/{id}")
    t.add("event_msg", {"type": "task_started", "turn_id": "t1"})
    t.add("response_item", {"type": "reasoning", "summary": [], "encrypted_content": "gAAAA"})
    # newer exec_command: a command string, output text with the exit code
    t.call("exec_command", {"cmd": "sed -n '1,80p' app/routes.py", "workdir": CWD},
           "Chunk ID: 1\nWall time: 0.01 seconds\nProcess exited with code 0\nOutput:\ndef route(): ...")
    # older shell: an argv list, output JSON with metadata
    t.call("shell", {"command": ["bash", "-lc", "pytest -q tests/test_routes.py"], "workdir": CWD},
           json.dumps({"output": 'Traceback (most recent call last):\n  File "/home/dev/work/api/app/routes.py", line 9\n'
                                 "KeyError: 'id'\n1 failed in 0.2s", "metadata": {"exit_code": 1, "duration_seconds": 0.3}}))
    t.patch(PATCH)
    t.call("shell", {"command": ["pytest", "-q", "tests/test_routes.py"]},
           json.dumps({"output": "3 passed in 0.1s", "metadata": {"exit_code": 0}}))
    t.call("exec_command", {"cmd": "git commit -am 'Fix route'"}, "Process exited with code 0\nOutput:\n[fix/routes 9f8e7d6] Fix route")
    t.add("event_msg", {"type": "agent_message", "message": "Fixed."})
    t.prompt("Also update the docs")
    t.call("exec_command", {"cmd": "cat docs/api.md /etc/hosts"}, "Process exited with code 0\nOutput:\n# API")
    t.add("compacted", {"message": "summary"})
    parsed = parse(t.write(tmp_path / "rollout-2026-01-06T09-00-00-019b64e5-57fa-7463-b644-fba7e456f905.jsonl"))
    r = parsed.record
    assert (r.session_id, r.agent, r.agent_version, r.branch) == (t.session_id, "codex", "0.169.0", "fix/routes")
    assert r.prompts == ["Fix the 404 on /users/{id}", "Also update the docs"]
    assert r.files_read == ["app/routes.py", "docs/api.md"]
    assert r.files_modified == ["app/routes.py", "tests/test_routes.py", "app/legacy.py", "app/util.py",
                                "app/helpers.py"]
    assert r.commands[:2] == ["sed -n '1,80p' app/routes.py", "pytest -q tests/test_routes.py"]
    failed, passed = r.test_runs
    assert (failed.runner, failed.targets, failed.outcome) == ("pytest", ["tests/test_routes.py"], "failed")
    assert passed.outcome == "passed"
    (err,) = r.errors
    assert err.message == "KeyError: 'id'" and err.files == ["app/routes.py"] and err.tool == "shell"
    assert err.fixed_by == r.files_modified
    assert parsed.commit_refs == ["9f8e7d6"]
    assert r.started_at.startswith("2026-01-06T09:00") and r.ended_at > r.started_at
    assert r.prompt_files[1] == ["docs/api.md"]


def test_events_and_items_for_the_same_call_count_once(tmp_path):
    t = Codex(CWD)
    t.prompt("Run the tests")
    t.add("response_item", {"type": "function_call", "name": "exec_command", "call_id": "c1",
                            "arguments": json.dumps({"cmd": "go test ./..."})})
    t.add("event_msg", {"type": "exec_command_end", "call_id": "c1", "exit_code": 1,
                        "aggregated_output": "--- FAIL: TestX\nFAIL\tapi\t0.1s"})
    t.add("response_item", {"type": "function_call_output", "call_id": "c1", "output": "Process exited with code 1"})
    t.add("response_item", {"type": "custom_tool_call", "name": "apply_patch", "call_id": "c2",
                            "input": "*** Begin Patch\n*** Update File: x.go\n*** End Patch"})
    t.add("event_msg", {"type": "patch_apply_end", "call_id": "c2", "success": True,
                        "changes": {f"{CWD}/x.go": {"update": {}}}})
    r = parse(t.write(tmp_path / "r.jsonl")).record
    (run,) = r.test_runs
    assert (run.runner, run.targets, run.outcome, run.failed) == ("go", ["./..."], "failed", ["TestX"])
    assert len(r.errors) == 1
    assert r.files_modified == ["x.go"]


def test_a_failed_patch_modifies_nothing_and_is_an_error(tmp_path):
    t = Codex(CWD)
    t.prompt("Patch it")
    t.patch("*** Begin Patch\n*** Update File: a.py\n*** End Patch", output="apply_patch verification failed: no match")
    r = parse(t.write(tmp_path / "r.jsonl")).record
    assert r.files_modified == []
    assert r.errors[0].tool == "apply_patch"


def test_tolerates_corrupt_lines_unknown_types_and_a_partial_last_line(tmp_path):
    t = Codex(CWD, branch=None)
    t.raw("not json at all")
    t.add("world_state", {"anything": True})
    t.add("response_item", {"type": "additional_tools", "tools": []})
    t.add("event_msg", {"type": "token_count", "info": None})
    t.prompt("Hello")
    t.call("exec_command", {"cmd": "ls"}, "Process exited with code 0")
    path = t.write(tmp_path / "r.jsonl")
    with open(path, "a") as fh:
        fh.write('{"timestamp": "2026-01-06T09:10:00Z", "type": "event_msg", "payload": {"type": "user_mes')
    r = parse(path).record
    assert r.prompts == ["Hello"] and r.commands == ["ls"] and r.branch is None
    assert r.skipped_lines == 2


def test_apply_patch_through_the_shell_and_relative_workdirs(tmp_path):
    t = Codex(CWD)
    t.prompt("Edit in a subfolder")
    t.call("shell", {"command": ["apply_patch", "*** Begin Patch\n*** Update File: handlers.py\n*** End Patch"],
                     "workdir": "svc"}, json.dumps({"output": "Done!", "metadata": {"exit_code": 0}}))
    r = parse(t.write(tmp_path / "r.jsonl")).record
    assert r.files_modified == ["svc/handlers.py"]


def test_patch_headers():
    assert patch_files(PATCH) == ["app/routes.py", "tests/test_routes.py", "app/legacy.py", "app/util.py",
                                  "app/helpers.py"]


def test_detection_and_listing_by_cwd(tmp_path, monkeypatch):
    home = Path(os.environ["HOME"])
    repo = tmp_path / "repo"
    repo.mkdir()
    day = home / ".codex" / "sessions" / "2026" / "01" / "06"
    mine = Codex(repo, session_id="aaaaaaaa-0000-0000-0000-000000000001")
    mine.prompt("x")
    p1 = mine.write(day / "rollout-2026-01-06T09-00-00-aaaaaaaa-0000-0000-0000-000000000001.jsonl")
    theirs = Codex(tmp_path / "elsewhere")
    theirs.prompt("y")
    theirs.write(day / "rollout-2026-01-06T09-05-00-bbbbbbbb-0000-0000-0000-000000000002.jsonl")
    assert detect(p1).name == "codex"
    assert list(CodexAdapter().transcripts([repo])) == [p1]
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    assert list(CodexAdapter().transcripts([repo])) == []
