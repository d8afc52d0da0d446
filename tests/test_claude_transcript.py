"""Claude Code transcripts: every tolerance case and every extracted field, on synthetic files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent_transcripts import Claude
from git_ml.capture.agents import detect
from git_ml.capture.agents.claude import ClaudeAdapter, encode_project

# The transcript's cwd is a folder that does not exist here: paths map through it, not through
# the current directory.
CWD = "/home/dev/projects/shop"


def parse(path: Path, worktree: Path | None = None):
    parsed = ClaudeAdapter().parse(path, worktree or path.parent)
    assert parsed is not None
    return parsed


def test_prompts_files_commands_tests_errors_times_branch(tmp_path):
    t = Claude(CWD, branch="feature/cart")
    t.add({"type": "queue-operation", "operation": "enqueue", "timestamp": "2026-01-05T09:59:59.000Z",
           "sessionId": t.session_id, "content": "Fix the cart total"})
    t.prompt("Fix the cart total when a coupon is applied")
    t.tool("Read", {"file_path": f"{CWD}/shop/cart.py"}, "1\u2192code",
           tur={"type": "text", "file": {"filePath": f"{CWD}/shop/cart.py", "content": "x"}})
    t.tool("Glob", {"pattern": "**/coupon*.py"}, f"{CWD}/shop/coupon.py",
           tur={"filenames": [f"{CWD}/shop/coupon.py"], "numFiles": 1, "truncated": False})
    t.tool("Grep", {"pattern": "def total", "path": f"{CWD}/shop/pricing.py"}, "match")
    t.bash("python -m pytest tests/test_cart.py -q",
           'Traceback (most recent call last):\n  File "/home/dev/projects/shop/shop/cart.py", line 12, in total\n'
           "    return sum(x)\nTypeError: unsupported operand\nFAILED tests/test_cart.py::test_coupon - TypeError\n"
           "1 failed, 3 passed in 0.12s", is_error=True)
    t.edit(f"{CWD}/shop/cart.py")
    t.tool("Write", {"file_path": f"{CWD}/tests/test_coupon.py", "content": "def test(): pass\n"},
           "File created", tur={"type": "create", "filePath": f"{CWD}/tests/test_coupon.py", "content": "x",
                                "structuredPatch": [], "originalFile": None})
    t.tool("MultiEdit", {"file_path": f"{CWD}/shop/coupon.py", "edits": []}, "ok")
    t.tool("NotebookEdit", {"notebook_path": f"{CWD}/notes/analysis.ipynb", "new_source": "x"}, "ok")
    t.bash("cd tests && pytest test_cart.py::test_coupon", "1 passed in 0.05s")
    t.bash("git commit -qam 'Fix coupon total'", "[feature/cart 1a2b3c4] Fix coupon total\n 1 file changed")
    t.text("Done.")
    t.prompt("Now update the changelog")
    t.edit(f"{CWD}/CHANGELOG.md")
    parsed = parse(t.write(tmp_path / f"{t.session_id}.jsonl"))
    r = parsed.record
    assert r.session_id == t.session_id and r.agent == "claude" and r.agent_version == "2.1.197"
    assert r.branch == "feature/cart"
    assert r.prompts == ["Fix the cart total when a coupon is applied", "Now update the changelog"]
    assert r.files_read == ["shop/cart.py", "shop/coupon.py", "shop/pricing.py"]
    assert r.files_modified == ["shop/cart.py", "tests/test_coupon.py", "shop/coupon.py",
                                "notes/analysis.ipynb", "CHANGELOG.md"]
    assert r.prompt_files[1] == ["CHANGELOG.md"] and "shop/cart.py" in r.prompt_files[0]
    assert r.commands[0] == "python -m pytest tests/test_cart.py -q"
    first, second = r.test_runs
    assert (first.runner, first.targets, first.outcome, first.failed) == (
        "pytest", ["tests/test_cart.py"], "failed", ["tests/test_cart.py::test_coupon"])
    assert (second.targets, second.outcome) == (["tests/test_cart.py::test_coupon"], "passed")
    err = r.errors[0]
    assert err.message.startswith("TypeError") and err.files == ["shop/cart.py"] and err.tool == "Bash"
    # files edited after the error and before the next prompt are its fix
    assert err.fixed_by == ["shop/cart.py", "tests/test_coupon.py", "shop/coupon.py", "notes/analysis.ipynb"]
    assert r.started_at == "2026-01-05T09:59:59.000Z" and r.ended_at > r.started_at  # queue-operation counts
    assert parsed.commit_refs == ["1a2b3c4"]
    assert parsed.root == CWD


def test_unknown_types_fields_corrupt_lines_and_partial_last_line(tmp_path):
    t = Claude(CWD)
    t.add({"type": "file-history-snapshot", "messageId": "x", "snapshot": {}})
    t.add({"type": "brand-new-record-kind", "whatever": [1, 2, 3]})
    t.prompt("Rename the helper", newFieldFromTheFuture={"a": 1}, promptId="p1")
    t.raw("{this is not json")
    t.raw("[1, 2, 3]")
    t.raw('"a string"')
    t.edit(f"{CWD}/util.py")
    t.add({"type": "user", "message": {"role": "user", "content": 42}, "uuid": "odd-1"})  # odd content type
    t.add({"type": "assistant", "message": "not an object", "uuid": "odd-2"})
    t.add({"type": "progress", "data": {"type": "hook_progress", "hookEvent": "PostToolUse"}})
    t.add({"type": "system", "subtype": "api_error", "content": "overloaded"})
    t.add({"type": "last-prompt", "lastPrompt": "Rename the helper", "sessionId": t.session_id})
    path = t.write(tmp_path / "s.jsonl")
    with open(path, "a") as fh:
        fh.write('{"parentUuid": "x", "type": "user", "message": {"role": "user", "content": "cut sh')
    r = parse(path).record
    assert r.prompts == ["Rename the helper"]
    assert r.files_modified == ["util.py"]
    assert r.skipped_lines == 4  # the corrupt line, two non-objects, the partial last line
    assert r.transcript_lines == len(t.lines) + 1


def test_one_message_split_over_lines_sharing_message_id(tmp_path):
    t = Claude(CWD)
    t.prompt("Update both modules")
    a = t.tool_use("Edit", {"file_path": f"{CWD}/a.py", "old_string": "1", "new_string": "2"}, msg_id="msg_same")
    b = t.tool_use("Edit", {"file_path": f"{CWD}/b.py", "old_string": "1", "new_string": "2"}, msg_id="msg_same")
    t.tool_result(a, "updated")
    t.tool_result(b, "updated")
    r = parse(t.write(tmp_path / "s.jsonl")).record
    assert r.files_modified == ["a.py", "b.py"]


def test_parent_uuid_tree_branches_and_resumed_copies(tmp_path):
    t = Claude(CWD)
    root = t.prompt("Add a retry to the client")
    t.edit(f"{CWD}/client.py")
    # a rewind: a second prompt on the same parent, and a record whose parent is unknown
    t.parent = root["uuid"]
    t.prompt("Add a retry with backoff to the client")
    t.parent = "no-such-uuid"
    t.edit(f"{CWD}/backoff.py")
    # a resumed session copies earlier records (same uuids) into the file again
    copies = list(t.lines[:3])
    for line in copies:
        t.raw(line)
    r = parse(t.write(tmp_path / "s.jsonl")).record
    assert r.prompts == ["Add a retry to the client", "Add a retry with backoff to the client"]
    assert r.files_modified == ["client.py", "backoff.py"]


def test_sidechains_and_subagent_files_add_work_but_no_prompts(tmp_path):
    t = Claude(CWD)
    t.prompt("Audit the payment module")
    t.tool("Task", {"description": "explore", "prompt": "Look at payments", "subagent_type": "Explore"},
           [{"type": "text", "text": "report"}], tur={"status": "completed", "agentId": "a1"})
    t.prompt("Explore payments/ and report", isSidechain=True, agentId="a1")
    t.tool("Read", {"file_path": f"{CWD}/payments/gateway.py"}, "code", isSidechain=True, agentId="a1")
    path = t.write(tmp_path / f"{t.session_id}.jsonl")
    sub = Claude(CWD, session_id=t.session_id)
    sub.prompt("Subagent task: check refunds", isSidechain=True, agentId="a2")
    sub.edit(f"{CWD}/payments/refund.py", isSidechain=True)
    sub.write(tmp_path / t.session_id / "subagents" / "agent-a2.jsonl")
    r = parse(path).record
    assert r.prompts == ["Audit the payment module"]
    assert r.files_read == ["payments/gateway.py"]
    assert r.files_modified == ["payments/refund.py"]


def test_compaction_meta_and_command_records_are_not_prompts(tmp_path):
    t = Claude(CWD)
    t.prompt("Speed up the importer")
    t.add({"type": "system", "subtype": "compact_boundary", "parentUuid": None, "logicalParentUuid": t.parent,
           "compactMetadata": {"trigger": "auto", "preTokens": 150000}, "uuid": "cb-1", "timestamp": "2026-01-05T11:00:00Z"})
    t.prompt("This session is being continued from a previous conversation. Summary: ...", isCompactSummary=True,
             isVisibleInTranscriptOnly=True)
    t.prompt("Stop hook feedback: run the tests", isMeta=True)
    t.prompt("<command-name>/clear</command-name>\n<command-message>clear</command-message>\n<command-args></command-args>")
    t.prompt("<local-command-stdout></local-command-stdout>")
    t.prompt("<command-name>/review</command-name>\n<command-args>the importer change</command-args>")
    t.prompt([{"type": "text", "text": "And add a benchmark"}, {"type": "image", "source": {"type": "base64", "data": "AAAA"}}])
    t.prompt("[Request interrupted by user for tool use]")
    t.add({"type": "summary", "summary": "Importer speed-up", "leafUuid": t.parent})
    r = parse(t.write(tmp_path / "s.jsonl")).record
    assert r.prompts == ["Speed up the importer", "/review the importer change", "And add a benchmark"]
    assert r.ended_at == "2026-01-05T11:00:00Z"


def test_paths_outside_the_repository_are_dropped_and_mapped_through_the_transcript_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the current directory must not matter
    t = Claude(f"{CWD}/sub")  # the session ran in a subfolder of the repository
    t.prompt("Look around")
    t.tool("Read", {"file_path": "/etc/passwd"}, "root:x")
    t.tool("Read", {"file_path": f"{CWD}/../other/secret.py"}, "x")
    t.tool("Read", {"file_path": f"{CWD}/.git/config"}, "x")
    t.bash("cat notes.txt ../README.md /tmp/scratch.txt", "text")
    t.edit(f"{CWD}/sub/mod.py")
    path = t.write(tmp_path / "s.jsonl")
    # the transcript says cwd=<repo>/sub; its repository top is found from it, through the worktree
    parsed = ClaudeAdapter().parse(path, Path(CWD))
    r = parsed.record
    assert parsed.root == CWD
    assert r.files_read == ["sub/notes.txt", "README.md"]
    assert r.files_modified == ["sub/mod.py"]


def test_failed_edits_do_not_count_and_tool_errors_are_recorded(tmp_path):
    t = Claude(CWD)
    t.prompt("Fix it")
    t.tool("Edit", {"file_path": f"{CWD}/gone.py", "old_string": "x", "new_string": "y"},
           "<tool_use_error>File does not exist.</tool_use_error>", is_error=True)
    t.bash("go test ./pkg/... -run TestParse", "--- FAIL: TestParse (0.00s)\n    parse_test.go:14: bad\nFAIL\tshop/pkg\t0.01s",
           is_error=True)
    t.bash("npm test -- src/cart.test.js", "Tests:       4 passed, 4 total")
    t.bash("cargo test parser 2>&1 | tail -3", "test result: ok. 3 passed; 0 failed")
    r = parse(t.write(tmp_path / "s.jsonl")).record
    assert r.files_modified == []
    assert [e.tool for e in r.errors] == ["Edit", "Bash"]
    assert "File does not exist" in r.errors[0].message
    go, npm, cargo = r.test_runs
    assert (go.runner, go.targets, go.outcome, go.failed) == ("go", ["pkg/..."], "failed", ["TestParse"])
    assert (npm.runner, npm.targets, npm.outcome) == ("npm", ["src/cart.test.js"], "passed")
    assert (cargo.runner, cargo.targets, cargo.outcome) == ("cargo", ["parser"], "passed")


def test_an_edit_cut_off_before_its_result_still_counts(tmp_path):
    t = Claude(CWD)
    t.prompt("Edit and crash")
    t.tool_use("Write", {"file_path": f"{CWD}/half.py", "content": "x"})
    r = parse(t.write(tmp_path / "s.jsonl")).record
    assert r.files_modified == ["half.py"]


def test_a_huge_line_is_read(tmp_path):
    t = Claude(CWD)
    t.prompt("Read the big log")
    t.tool("Read", {"file_path": f"{CWD}/big.log"}, "x" * 3_000_000)
    r = parse(t.write(tmp_path / "s.jsonl")).record
    assert r.files_read == ["big.log"] and r.transcript_lines == 3


def test_empty_file_holds_no_session_and_detection(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert ClaudeAdapter().parse(empty, tmp_path) is None
    t = Claude(CWD)
    t.prompt("hi")
    path = t.write(tmp_path / "s.jsonl")
    assert detect(path).name == "claude"
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"hello": "world"}) + "\n")
    assert detect(other) is None


def test_project_folder_encoding_and_transcript_listing(tmp_path, monkeypatch):
    assert encode_project("/a/b/my_repo.x") == "-a-b-my-repo-x"
    home = Path(os.environ["HOME"])
    repo = tmp_path / "repo"
    repo.mkdir()
    other = tmp_path / "repo2"
    other.mkdir()
    mine = Claude(repo, session_id="mine")
    mine.prompt("a")
    mine.write(home / ".claude" / "projects" / encode_project(str(repo)) / "mine.jsonl")
    theirs = Claude(other, session_id="theirs")  # its folder name starts with ours: filtered by cwd
    theirs.prompt("b")
    theirs.write(home / ".claude" / "projects" / encode_project(str(other)) / "theirs.jsonl")
    found = [p.name for p in ClaudeAdapter().transcripts([repo])]
    assert found == ["mine.jsonl"]
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert list(ClaudeAdapter().transcripts([repo])) == []


@pytest.mark.parametrize("command, runner, targets", [
    ("FOO=1 uv run pytest -x -k 'cart and not slow' tests/a_test.py", "pytest", ["tests/a_test.py"]),
    ("timeout 60 python3 -m pytest", "pytest", []),
    ("tox -e py312 -- tests/test_x.py", "tox", ["tests/test_x.py"]),
    ("nox -s tests", "nox", []),
    ("yarn test src/a.test.ts", "yarn", ["src/a.test.ts"]),
    ("npm run test:unit", "npm", []),
    ("python -m unittest tests.test_mod", "unittest", ["tests.test_mod"]),
    ("make test", "make", []),
])
def test_test_runners_and_targets(tmp_path, command, runner, targets):
    t = Claude(CWD)
    t.prompt("test")
    t.bash(command, "ok")
    (run,) = parse(t.write(tmp_path / "s.jsonl")).record.test_runs
    assert (run.runner, run.targets) == (runner, targets)


def test_ordinary_commands_are_not_test_runs(tmp_path):
    t = Claude(CWD)
    t.prompt("look")
    for cmd in ("ls -la", "git status", "npm install", "cat tests/test_a.py", "echo pytest"):
        t.bash(cmd, "")
    assert parse(t.write(tmp_path / "s.jsonl")).record.test_runs == []


def test_a_tool_output_spilled_to_a_file_is_read_from_it(tmp_path):
    spilled = tmp_path / "tool-results" / "toolu_x.txt"
    spilled.parent.mkdir()
    spilled.write_text("." * 300_000 + "\nFAILED tests/test_big.py::test_one - assert 0\n1 failed, 99 passed in 9.1s\n")
    t = Claude(CWD)
    t.prompt("Run everything")
    t.bash("pytest", "<persisted-output>\nThis tool result was too large (300100 characters, 293 KB).\n"
           f"Full output saved to: {spilled}\nPreview (first 2KB):\n.....\n...\n</persisted-output>")
    (run,) = parse(t.write(tmp_path / "s.jsonl")).record.test_runs
    assert (run.outcome, run.failed) == ("failed", ["tests/test_big.py::test_one"])
