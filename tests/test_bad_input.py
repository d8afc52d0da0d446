"""Bad input across the CLI: correct handling, or one error line and a non-zero exit; never a
traceback, never lost data."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import msgspec
import pytest

from conftest import commit_file, git, run_gitml
from git_ml.layout import find_layout
from git_ml.store import Store

# Every command with arguments that get it past argument parsing.
COMMANDS = [
    ["init", "--no-hooks"], ["backfill"], ["train"], ["stats"], ["predict", "x"], ["eval"], ["sync"],
    ["uninstall"], ["install-agent", "claude"], ["session", "ingest", "nothing.jsonl"],
]


def _one_line_error(out: subprocess.CompletedProcess, needle: str) -> None:
    err = out.stderr.decode("utf-8", "replace")
    assert out.returncode == 1, (out.returncode, err)
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("git-ml: error: "), err
    assert needle in err, err


def _enable(repo: Path) -> Store:
    """Set git-ml up without hooks or training (those belong to other tests)."""
    layout = find_layout(repo)
    layout.create()
    return Store(layout)


def _backfill(repo: Path) -> int:
    out = run_gitml(repo, "backfill")
    assert out.returncode == 0, out.stderr.decode()
    assert out.stderr == b""
    return int(out.stdout.split()[1])


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_not_a_repository(tmp_path, on_path, args):
    plain = tmp_path / "plain"
    plain.mkdir()
    _one_line_error(run_gitml(plain, *args), "not a git repository")


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_bare_repository(tmp_path, on_path, args):
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    _one_line_error(run_gitml(bare, *args), "bare repository")


def test_inside_the_git_directory(repo, on_path):
    _one_line_error(run_gitml(repo / ".git", "stats"), "inside the .git directory")


@pytest.mark.parametrize("args", [["backfill"], ["stats"], ["sync"], ["predict", "x"]], ids=lambda a: a[0])
def test_not_initialised(repo, on_path, args):
    _one_line_error(run_gitml(repo, *args), "run `git ml init` first")


def test_empty_repository(tmp_path, on_path):
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(empty))
    out = run_gitml(empty, "init", "--no-hooks")
    assert out.returncode == 0, out.stderr.decode()
    assert "backfilled 0 commit(s)" in out.stdout.decode()
    assert _backfill(empty) == 0
    out = run_gitml(empty, "stats", "--format", "json")
    assert out.returncode == 0 and msgspec.json.decode(out.stdout)["records"]["commits"] == 0


def test_detached_head(repo, on_path):
    commit_file(repo, "a.txt", "a\n", "Add a")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    _enable(repo)
    assert _backfill(repo) == 1  # history up to the detached HEAD
    git(repo, "checkout", "-q", "main")
    assert _backfill(repo) == 1
    git(repo, "checkout", "-q", "--detach")
    remote = repo.parent / "remote.git"
    git(repo.parent, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    out = run_gitml(repo, "sync")  # no branch, so no upstream: origin
    assert out.returncode == 0, out.stderr.decode()
    assert "synced with origin" in out.stdout.decode()


def test_shallow_clone(repo, on_path, tmp_path):
    for i in range(3):
        commit_file(repo, f"f{i}.txt", f"{i}\n", f"Commit {i}")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(shallow))
    _enable(shallow)
    assert _backfill(shallow) == 2
    commits = Store(find_layout(shallow)).read("commits")
    assert [c.message for c in commits] == ["Commit 1", "Commit 2"]
    # The boundary commit names a parent the clone does not have: kept as recorded by git.
    assert commits[0].parents == [] or len(commits[0].parents) == 1


def test_non_utf8_messages_and_paths(repo, on_path):
    (repo / "msg").write_bytes("caf\xe9 na\xefve\n".encode("latin-1"))
    git(repo, "-c", "i18n.commitEncoding=latin1", "commit", "-q", "--allow-empty", "-F", "msg")
    (repo / "msg").unlink()
    raw = b"caf\xff.txt"
    with open(os.path.join(os.fsencode(repo), raw), "wb") as fh:
        fh.write(b"x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", b"bytes \xff in message".decode("latin-1"))
    store = _enable(repo)
    assert _backfill(repo) == 3
    commits = store.read("commits")
    assert commits[1].message == "café naïve"
    assert [f.path for f in commits[2].files] == ["caf\\xff.txt"]
    out = run_gitml(repo, "stats", "--format", "json")
    assert out.returncode == 0 and msgspec.json.decode(out.stdout)["counts"]["commits"] == 3


def test_non_utf8_worktree_path(tmp_path, on_path):
    odd = os.path.join(os.fsencode(tmp_path), b"odd\xff dir")
    os.mkdir(odd)
    repo = Path(os.fsdecode(odd))
    git(repo, "init", "-q")
    commit_file(repo, "a.txt", "a\n", "Add a")
    _enable(repo)
    assert _backfill(repo) == 1
    out = run_gitml(repo, "stats", "--format", "json")
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    assert msgspec.json.decode(out.stdout)["worktree"].endswith("odd\\xff dir")
    out = run_gitml(repo, "stats")
    assert out.returncode == 0 and b"Milestones" in out.stdout


def test_paths_with_spaces_and_newlines(repo, on_path):
    for name in ("with space.txt", "new\nline.txt", "tab\there.txt", 'quote".txt'):
        (repo / name).write_text("x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "odd names")
    store = _enable(repo)
    assert _backfill(repo) == 2
    files = sorted(f.path for f in store.read("commits")[-1].files)
    assert files == sorted(["with space.txt", "new\nline.txt", "tab\there.txt", 'quote".txt'])


def test_commit_of_ten_thousand_files(repo, on_path):
    d = repo / "many"
    d.mkdir()
    for i in range(10_000):
        (d / f"f{i}.txt").write_text(f"{i}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ten thousand files")
    store = _enable(repo)
    assert _backfill(repo) == 2
    big = store.read("commits")[-1]
    assert big.files_truncated and len(big.files) == 5000
    out = run_gitml(repo, "stats", "--format", "json")
    assert out.returncode == 0 and msgspec.json.decode(out.stdout)["counts"]["large_commits"] == 1


@pytest.mark.parametrize("args", [["--bogus"], *[[*c[:1], "--bogus"] for c in COMMANDS],
                                  ["predict", "--top", "zero"], ["nosuchcommand"]],
                         ids=lambda a: " ".join(a))
def test_wrong_flag_is_a_usage_error(repo, on_path, args):
    out = run_gitml(repo, *args)
    err = out.stderr.decode()
    assert out.returncode == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("git-ml: error: ")
    assert "-h`)" in err  # says where to look


def test_corrupt_jsonl_is_skipped_with_one_warning_and_kept(repo, on_path):
    commit_file(repo, "a.txt", "a\n", "Add a")
    store = _enable(repo)
    assert _backfill(repo) == 2
    path = store.path("commits")
    garbage = b'{"id": "cut short\n\xff\xfe not json\n{"hash": 5}\n'
    with open(path, "ab") as fh:
        fh.write(garbage)
    before = path.read_bytes()
    for args in (["stats"], ["stats", "--format", "json"]):
        out = run_gitml(repo, *args)
        assert out.returncode == 0, out.stderr.decode()
        warnings = out.stderr.decode().strip().splitlines()
        assert len(warnings) == 1 and "skipped 3 unreadable line(s)" in warnings[0], warnings
    commit_file(repo, "b.txt", "b\n", "Add b")
    assert _backfill(repo) == 1  # new records still go in, after the bad lines
    after = path.read_bytes()
    assert after.startswith(before)  # nothing erased
    assert len(Store(find_layout(repo)).read("commits")) == 3


def test_backfill_after_hook_capture_and_rerun(repo, on_path):
    """Commits the hooks already captured are kept as they are; a re-run logs only what is missing."""
    from git_ml.capture.git import head_commit

    second = commit_file(repo, "a.txt", "a\n", "Add a")
    store = _enable(repo)
    hooked = head_commit(repo)
    assert hooked is not None and hooked.hash == second and hooked.source == "hook"
    store.append("commits", [hooked])
    commit_file(repo, "b.txt", "b\n", "Add b")
    assert _backfill(repo) == 2  # the first and third commits
    by_hash = {c.hash: c for c in store.read("commits")}
    assert len(by_hash) == 3 and by_hash[second].source == "hook" and by_hash[second].branch == "main"
    assert len(store.path("commits").read_bytes().splitlines()) == 3
    commit_file(repo, "c.txt", "c\n", "Add c")
    assert _backfill(repo) == 1
    assert _backfill(repo) == 0
    assert [c.message for c in store.read("commits")][-1] == "Add c"
