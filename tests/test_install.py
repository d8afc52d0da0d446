"""git_ml.install: hooks land in the effective hooks folder, chain foreign hooks, install twice
without change, and uninstall puts everything back."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from conftest import ROOT, commit_file, git, run_gitml

from git_ml.install import CHAINED_SUFFIX, HOOK_NAMES, MARKER, install_hooks, render_hook, uninstall_hooks
from git_ml.layout import find_layout
from git_ml.store import Store


def _init(repo: Path) -> str:
    out = run_gitml(repo, "init")
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode()


def _write_hook(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _hashes(repo: Path) -> list[str]:
    return [c.hash for c in Store(find_layout(repo)).read("commits")]


def test_install_writes_marked_executable_hooks_and_twice_changes_nothing(repo, on_path):
    first = _init(repo)
    hooks = repo / ".git" / "hooks"
    assert "git hooks installed" in first
    snapshot = {}
    for name in HOOK_NAMES:
        path = hooks / name
        text = path.read_text()
        assert MARKER in text and f"hook={name}" in text
        assert path.stat().st_mode & stat.S_IXUSR
        snapshot[name] = (text, path.stat().st_mtime_ns)
    # The recorded executable is the git-ml that ran the install.
    assert str(on_path / "git-ml") in (hooks / "post-commit").read_text()
    second = _init(repo)
    assert "git hooks already installed" in second
    for name in HOOK_NAMES:
        path = hooks / name
        assert (path.read_text(), path.stat().st_mtime_ns) == snapshot[name]
    assert not list(hooks.glob("*" + CHAINED_SUFFIX))


def test_foreign_hooks_are_chained_with_args_and_stdin(repo, on_path, tmp_path):
    hooks = repo / ".git" / "hooks"
    log = tmp_path / "foreign.log"
    _write_hook(hooks / "post-commit", f'echo "post-commit $#" >> "{log}"\n')
    _write_hook(hooks / "post-rewrite", f'echo "post-rewrite $1" >> "{log}"; cat >> "{log}"\n')
    out = _init(repo)
    assert "existing hooks kept and run first: post-commit, post-rewrite" in out
    assert (hooks / ("post-commit" + CHAINED_SUFFIX)).read_text().startswith("#!/bin/sh\necho")
    sha = commit_file(repo, "a.txt", "a\n", "add a")
    git(repo, "commit", "-q", "--amend", "-m", "add a (amended)")
    new = git(repo, "rev-parse", "HEAD").strip()
    lines = log.read_text().splitlines()
    assert lines[0] == "post-commit 0"
    assert "post-rewrite amend" in lines
    assert f"{sha} {new}" in lines  # the chained hook got git's stdin intact
    assert new in _hashes(repo) and sha in _hashes(repo)


def test_foreign_pre_push_failure_still_fails_the_push(repo, on_path, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    seen = tmp_path / "pre-push.stdin"
    hooks = repo / ".git" / "hooks"
    _write_hook(hooks / "pre-push", f'cat > "{seen}"; echo "blocked by policy" >&2; exit 1\n')
    _init(repo)
    push = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo, capture_output=True)
    assert push.returncode != 0
    assert b"blocked by policy" in push.stderr
    assert git(remote, "for-each-ref", "refs/heads").strip() == ""
    head = git(repo, "rev-parse", "HEAD").strip()
    assert seen.read_text().split() == ["refs/heads/main", head, "refs/heads/main", "0" * 40]
    # The same hook passing lets the push through.
    _write_hook(hooks / ("pre-push" + CHAINED_SUFFIX), "cat >/dev/null; exit 0\n")
    push = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo, capture_output=True)
    assert push.returncode == 0, push.stderr.decode()
    assert git(remote, "rev-parse", "refs/heads/main").strip() == head


def test_uninstall_removes_ours_and_restores_chained(repo, on_path):
    hooks = repo / ".git" / "hooks"
    _write_hook(hooks / "pre-push", "exit 0\n")
    original = (hooks / "pre-push").read_text()
    _init(repo)
    out = run_gitml(repo, "uninstall")
    assert out.returncode == 0, out.stderr.decode()
    assert "git hooks removed from" in out.stdout.decode()
    assert "hooks restored: pre-push" in out.stdout.decode()
    layout = find_layout(repo)
    assert (hooks / "pre-push").read_text() == original
    for name in HOOK_NAMES:
        assert not (hooks / (name + CHAINED_SUFFIX)).exists()
        if name != "pre-push":
            assert not (hooks / name).exists()
    assert uninstall_hooks(layout) == ["no git-ml hooks were installed"]
    # Data is kept.
    assert layout.tracked_file("commits").exists()


def test_core_hooks_path_relative_and_absolute(repo, on_path, tmp_path):
    git(repo, "config", "core.hooksPath", ".githooks")
    _init(repo)
    assert (repo / ".githooks" / "post-commit").is_file()
    assert not (repo / ".git" / "hooks" / "post-commit").exists()
    sha = commit_file(repo, "b.txt", "b\n", "add b")
    assert sha in _hashes(repo)

    shared = tmp_path / "shared-hooks"
    git(repo, "config", "core.hooksPath", str(shared))
    lines = install_hooks(find_layout(repo), exe=str(on_path / "git-ml"))
    assert str(shared) in lines[0]
    sha = commit_file(repo, "c.txt", "c\n", "add c")
    assert sha in _hashes(repo)


def test_core_hooks_path_dev_null_installs_nothing(repo, on_path):
    git(repo, "config", "core.hooksPath", "/dev/null")
    lines = install_hooks(find_layout(repo), exe=str(on_path / "git-ml"))
    assert lines == ["git hooks not installed: core.hooksPath is /dev/null (hooks are disabled here)"]


def test_linked_worktree_shares_hooks_and_store(repo, on_path, tmp_path):
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(linked))
    _init(linked)  # run from the linked worktree
    assert (repo / ".git" / "hooks" / "post-commit").is_file()
    assert not (linked / ".git-ml").exists()
    sha = commit_file(linked, "f.txt", "f\n", "feature work")
    records = {c.hash: c for c in Store(find_layout(repo)).read("commits")}
    assert records[sha].branch == "feature"
    assert git(linked, "status", "--porcelain", "--untracked-files=no") == ""


def test_reentry_guard_skips_git_ml_but_not_the_chained_hook(repo, on_path, tmp_path):
    log = tmp_path / "foreign.log"
    _write_hook(repo / ".git" / "hooks" / "post-commit", f'echo ran >> "{log}"\n')
    _init(repo)
    env = dict(os.environ, GIT_ML_INTERNAL="1")
    (repo / "g.txt").write_text("g\n")
    git(repo, "add", "g.txt")
    git(repo, "commit", "-q", "-m", "internal", env=env)
    sha = git(repo, "rev-parse", "HEAD").strip()
    assert log.read_text() == "ran\n"
    assert sha not in _hashes(repo)


def test_existing_chained_file_is_never_overwritten(repo, on_path):
    hooks = repo / ".git" / "hooks"
    _write_hook(hooks / "post-merge", "echo mine\n")
    _write_hook(hooks / ("post-merge" + CHAINED_SUFFIX), "echo older\n")
    lines = install_hooks(find_layout(repo), exe=str(on_path / "git-ml"))
    assert any(line.startswith("post-merge: left as is") for line in lines)
    assert (hooks / "post-merge").read_text() == "#!/bin/sh\necho mine\n"
    assert (hooks / ("post-merge" + CHAINED_SUFFIX)).read_text() == "#!/bin/sh\necho older\n"


def test_repo_hook_scripts_are_the_rendered_templates():
    for name in HOOK_NAMES:
        shipped = ROOT / "hooks" / name
        assert shipped.read_text() == render_hook(name), f"regenerate hooks/{name} from install.render_hook"
        assert shipped.stat().st_mode & stat.S_IXUSR
        check = subprocess.run(["sh", "-n", str(shipped)], capture_output=True)
        assert check.returncode == 0, check.stderr.decode()
