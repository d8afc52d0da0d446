"""git_ml.surfaces.hooks through real git and real hooks: capture, fail-open, rewrites, the worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from conftest import ROOT, git, run_gitml

from git_ml.install import install_hooks
from git_ml.layout import find_layout
from git_ml.store import Store, commits_in_effect
from git_ml.surfaces import hooks as H


def _init(repo: Path) -> None:
    out = run_gitml(repo, "init")
    assert out.returncode == 0, out.stderr.decode()


def _clean(repo: Path) -> None:
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""


def _commit(repo: Path, path: str, content: str, message: str, env: dict | None = None):
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(content)
    git(repo, "add", "--", path)
    out = subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0, out.stderr.decode()
    return git(repo, "rev-parse", "HEAD").strip(), out.stderr.decode()


def _records(repo: Path):
    return Store(find_layout(repo)).read("commits")


@pytest.fixture
def shim_copy(tmp_path, gitml_bin) -> Path:
    """A private copy of the git-ml shim (tests delete or replace it)."""
    bindir = tmp_path / "own-bin"
    bindir.mkdir()
    exe = bindir / "git-ml"
    shutil.copy2(gitml_bin / "git-ml", exe)
    return exe


def _path_without_git_ml() -> str:
    keep = [p for p in os.environ["PATH"].split(os.pathsep)
            if p and not (Path(p) / "git-ml").exists()]
    return os.pathsep.join(keep)


def test_post_commit_records_commit_with_branch_and_leaves_tree_clean(repo, on_path):
    _init(repo)
    _clean(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    sha, err = _commit(repo, "src/app.py", "print('hi')\n", "Add app")
    assert err == ""
    _clean(repo)
    rec = {c.hash: c for c in _records(repo)}[sha]
    assert rec.branch == "topic"
    assert rec.source == "hook"
    assert rec.message == "Add app"
    assert [(f.path, f.status, f.insertions) for f in rec.files] == [("src/app.py", "A", 1)]
    git(repo, "checkout", "-q", "main")
    sha2, _ = _commit(repo, "README.md", "# demo\nmore\n", "Edit readme")
    _clean(repo)
    assert {c.hash: c for c in _records(repo)}[sha2].branch == "main"


def test_missing_git_ml_lets_the_commit_through_with_one_line(repo, shim_copy, monkeypatch):
    monkeypatch.setenv("PATH", f"{shim_copy.parent}{os.pathsep}{os.environ['PATH']}")
    _init(repo)
    assert str(shim_copy) in (repo / ".git" / "hooks" / "post-commit").read_text()
    shim_copy.unlink()
    env = dict(os.environ, PATH=_path_without_git_ml())
    sha, err = _commit(repo, "x.txt", "x\n", "no git-ml", env=env)
    hooks = (repo / ".git" / "hooks").resolve()
    # `git ml uninstall` cannot run without git-ml: say how to remove the hooks by hand.
    assert err.splitlines() == ["git-ml: post-commit skipped: git-ml not found (reinstall git-ml, "
                                "or remove its hooks by hand: delete the files marked GIT-ML-HOOK "
                                f"in {hooks} and rename any *.git-ml-chained back)"]
    assert git(repo, "rev-parse", "HEAD").strip() == sha
    _clean(repo)


def test_crashing_git_ml_prints_one_line_not_a_traceback(repo, shim_copy, monkeypatch):
    monkeypatch.setenv("PATH", f"{shim_copy.parent}{os.pathsep}{os.environ['PATH']}")
    _init(repo)
    shim_copy.write_text('#!/bin/sh\necho "Traceback (most recent call last):" >&2\n'
                         'echo "  File x, line 1" >&2\necho "ModuleNotFoundError: No module named git_ml" >&2\n'
                         "exit 1\n")
    _, err = _commit(repo, "y.txt", "y\n", "crash")
    assert err.splitlines() == ["git-ml: post-commit skipped: git-ml failed (exit 1): "
                                "ModuleNotFoundError: No module named git_ml"]


def test_slow_git_ml_is_cut_off(repo, shim_copy, monkeypatch):
    monkeypatch.setenv("PATH", f"{shim_copy.parent}{os.pathsep}{os.environ['PATH']}")
    _init(repo)
    shim_copy.write_text("#!/bin/sh\nsleep 30\n")
    env = dict(os.environ, GIT_ML_HOOK_TIMEOUT="1")
    start = time.monotonic()
    _, err = _commit(repo, "z.txt", "z\n", "slow", env=env)
    assert time.monotonic() - start < 15
    assert err.splitlines() == ["git-ml: post-commit skipped: timed out after 1s"]


def test_python_side_time_limit(monkeypatch, capsys, repo):
    monkeypatch.chdir(repo)
    find_layout(repo).create()
    monkeypatch.setenv("GIT_ML_HOOK_TIMEOUT", "1")  # the Python limit stays under it: 0.5 s
    monkeypatch.setattr(H, "post_commit", lambda layout, args: time.sleep(5) or 0)
    start = time.monotonic()
    assert H.run_hook(["post-commit"]) == 0
    assert time.monotonic() - start < 3
    assert capsys.readouterr().err == "git-ml: post-commit skipped: timed out after 0.5s\n"


def test_corrupt_store_line_does_not_break_the_hook_and_is_kept(repo, on_path):
    _init(repo)
    store_file = find_layout(repo).tracked_file("commits")
    garbage = b'{"id": "c-broken", "hash": 42, oops'
    with open(store_file, "ab") as fh:
        fh.write(garbage)  # no newline: a cut-off last line
    sha, err = _commit(repo, "w.txt", "w\n", "after corruption")
    assert err == ""
    lines = store_file.read_bytes().splitlines()
    assert garbage in lines
    assert sha in {c.hash for c in Store(find_layout(repo), warn=lambda m: None).read("commits")}
    # post-rewrite reads the store (ids) too: an amend over the corrupt line still works.
    git(repo, "commit", "-q", "--amend", "-m", "after corruption (amended)")
    assert garbage in store_file.read_bytes().splitlines()
    _clean(repo)


def test_amend_is_recorded_once_under_its_new_hash(repo, on_path):
    _init(repo)
    old, _ = _commit(repo, "a.txt", "a\n", "first try")
    out = subprocess.run(["git", "commit", "-q", "--amend", "-m", "second try"], cwd=repo, capture_output=True)
    assert out.returncode == 0 and out.stderr == b""
    new = git(repo, "rev-parse", "HEAD").strip()
    store = Store(find_layout(repo))
    in_effect = [c.hash for c in commits_in_effect(store)]
    assert new in in_effect and old not in in_effect
    assert in_effect.count(new) == 1
    rewrites = store.read("rewrites")
    assert [(r.old, r.new, r.how) for r in rewrites] == [(old, new, "amend")]
    # The amended commit was seen by post-commit and by post-rewrite: one line, not two.
    raw = find_layout(repo).tracked_file("commits").read_text()
    assert raw.count(new) == 1
    _clean(repo)


def test_rebase_records_each_rewritten_commit_once(repo, on_path):
    _init(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    olds = [_commit(repo, f"t{i}.txt", f"{i}\n", f"topic {i}")[0] for i in range(3)]
    git(repo, "checkout", "-q", "main")
    _commit(repo, "main.txt", "m\n", "main moves on")
    git(repo, "checkout", "-q", "topic")
    env = dict(os.environ, GIT_SEQUENCE_EDITOR="true")
    out = subprocess.run(["git", "rebase", "-q", "-i", "main"], cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stderr == b""
    news = git(repo, "rev-list", "--reverse", "main..topic").split()
    store = Store(find_layout(repo))
    by_hash = {c.hash: c for c in store.read("commits")}
    for new in news:
        assert by_hash[new].source == "rewrite"
        assert by_hash[new].branch == "topic"
    in_effect = [c.hash for c in commits_in_effect(store)]
    assert not set(olds) & set(in_effect)
    assert all(in_effect.count(n) == 1 for n in news)
    assert sorted((r.old, r.new) for r in store.read("rewrites")) == sorted(zip(olds, news))
    _clean(repo)


def test_commit_made_at_a_rebase_edit_stop_is_recorded(repo, on_path):
    _init(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    _commit(repo, "t1.txt", "1\n", "topic 1")
    _commit(repo, "t2.txt", "2\n", "topic 2")
    git(repo, "checkout", "-q", "main")
    _commit(repo, "main.txt", "m\n", "main moves on")
    git(repo, "checkout", "-q", "topic")
    env = dict(os.environ, GIT_SEQUENCE_EDITOR="sed -i 1s/^pick/edit/")
    out = subprocess.run(["git", "rebase", "-q", "-i", "main"], cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0, out.stderr.decode()
    extra, err = _commit(repo, "extra.txt", "x\n", "made at the edit stop")
    assert err == ""
    assert extra not in {c.hash for c in _records(repo)}  # post-commit waits for post-rewrite
    out = subprocess.run(["git", "rebase", "--continue"], cwd=repo, capture_output=True)
    assert out.returncode == 0, out.stderr.decode()
    recorded = {c.hash: c for c in _records(repo)}
    for sha in git(repo, "rev-list", "main..topic").split():
        assert recorded[sha].branch == "topic"
    assert recorded[extra].message == "made at the edit stop"
    _clean(repo)


def _logging_hooks(repo: Path, tmp_path: Path, gitml_bin: Path) -> Path:
    """Reinstall the hooks with a git-ml that logs each call; returns the log."""
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "logbin" / "git-ml"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{gitml_bin / "git-ml"}" "$@"\n')
    wrapper.chmod(0o755)
    install_hooks(find_layout(repo), exe=str(wrapper))
    return log


def test_reword_squash_fixup_record_only_the_final_rebase_mapping(repo, on_path, tmp_path, gitml_bin):
    _init(repo)
    base = git(repo, "rev-parse", "HEAD").strip()
    a, b, c, d = (_commit(repo, f"{n}.txt", f"{n}\n", f"commit {n}")[0] for n in "abcd")
    log = _logging_hooks(repo, tmp_path, gitml_bin)
    env = dict(os.environ, GIT_EDITOR="true",
               GIT_SEQUENCE_EDITOR="sed -i -e 1s/^pick/reword/ -e 2s/^pick/squash/ -e 4s/^pick/fixup/")
    out = subprocess.run(["git", "rebase", "-q", "-i", base], cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0, out.stderr.decode()
    ab, cd = git(repo, "rev-list", "--reverse", f"{base}..HEAD").split()
    calls = log.read_text().splitlines()
    # Each reword/squash/fixup amends inside the rebase: no git-ml process for those.
    assert "hook post-rewrite amend" not in calls and "hook post-rewrite rebase" in calls
    store = Store(find_layout(repo))
    rewrites = store.read("rewrites")
    assert {r.how for r in rewrites} == {"rebase"}
    assert sorted((r.old, r.new) for r in rewrites) == sorted([(a, ab), (b, ab), (c, cd), (d, cd)])
    in_effect = [c.hash for c in commits_in_effect(store)]
    assert sorted(in_effect) == sorted(git(repo, "rev-list", "HEAD").split())
    _clean(repo)


def test_python_side_skips_an_amend_inside_a_rebase(repo, on_path):
    _init(repo)
    old, _ = _commit(repo, "r.txt", "r\n", "before")
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--amend", "-m", "after")
    new = git(repo, "rev-parse", "HEAD").strip()
    (repo / ".git" / "rebase-merge").mkdir()  # as git leaves it while it replays commits
    out = run_gitml(repo, "hook", "post-rewrite", "amend", input=f"{old} {new}\n".encode())
    assert out.returncode == 0 and out.stderr == b""
    store = Store(find_layout(repo))
    assert store.read("rewrites") == [] and new not in {c.hash for c in store.read("commits")}
    (repo / ".git" / "rebase-merge").rmdir()
    out = run_gitml(repo, "hook", "post-rewrite", "amend", input=f"{old} {new}\n".encode())
    assert [(r.old, r.new) for r in store.read("rewrites")] == [(old, new)]


def test_aborted_rebase_leaves_the_recorded_history_as_the_branch_is(repo, on_path):
    _init(repo)
    foreground = dict(os.environ, GIT_ML_NO_DETACH="1")  # no detached worker left to race the one below
    for n in (4, 5, 6):
        _commit(repo, f"c{n}.txt", f"{n}\n", f"c{n}", env=foreground)
    branch_before = git(repo, "rev-list", "HEAD").split()
    # Squash c5 into c4 (an amend inside the rebase), pick c6 onto it, then stop and abort.
    env = dict(os.environ, GIT_EDITOR="true", GIT_ML_NO_DETACH="1",
               GIT_SEQUENCE_EDITOR="sed -i -e 2s/^pick/squash/ -e '$a break'")
    out = subprocess.run(["git", "rebase", "-i", "HEAD~3"], cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0, out.stderr.decode()
    assert (repo / ".git" / "rebase-merge").is_dir()  # stopped at the break
    abandoned = git(repo, "rev-list", "HEAD~2..HEAD").split()  # the squashed commit and c6'
    assert not set(abandoned) & set(branch_before)
    # A worker runs now (as a commit elsewhere would start it): it must not catch up mid-rebase.
    layout = find_layout(repo)
    (layout.state / "worker.dirty").write_bytes(b"")
    out = run_gitml(repo, "hook", "worker", env=dict(os.environ, GIT_ML_INTERNAL="1"))
    assert out.returncode == 0, out.stderr.decode()
    assert not (layout.state / "worker.dirty").exists()  # it did run
    git(repo, "rebase", "--abort")
    assert git(repo, "rev-list", "HEAD").split() == branch_before
    store = Store(layout)
    assert store.read("rewrites") == []
    assert not set(abandoned) & {c.hash for c in store.read("commits")}
    assert sorted(c.hash for c in commits_in_effect(store)) == sorted(branch_before)
    _clean(repo)


def test_fast_forward_pull_records_the_pulled_commits(repo, on_path, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _init(clone)
    # Upstream moves on (no git-ml there).
    pulled = [_commit(repo, f"u{i}.txt", f"{i}\n", f"upstream {i}")[0] for i in range(3)]
    out = subprocess.run(["git", "pull", "-q", "--ff-only"], cwd=clone, capture_output=True)
    assert out.returncode == 0 and out.stderr == b"", out.stderr.decode()
    assert git(clone, "rev-parse", "HEAD").strip() == pulled[-1]
    # Recorded by post-merge itself, not only later by the worker.
    by_hash = {c.hash: c for c in _records(clone)}
    assert all(by_hash[h].branch == "main" and not by_hash[h].is_merge for h in pulled)


def test_worker_catches_up_on_commits_made_while_hooks_were_off(repo, on_path):
    _init(repo)
    off = [_commit(repo, f"off{i}.txt", "x\n", f"no hooks {i}",
                   env=dict(os.environ, GIT_ML_INTERNAL="1"))[0] for i in range(2)]
    assert not set(off) & {c.hash for c in _records(repo)}
    # The next ordinary commit starts the worker (here in the foreground), which catches up.
    sha, err = _commit(repo, "on.txt", "y\n", "hooks on", env=dict(os.environ, GIT_ML_NO_DETACH="1"))
    assert err == ""
    recorded = {c.hash for c in _records(repo)}
    assert set(off) | {sha} <= recorded
    assert (find_layout(repo).state / "backfill.head").read_text().strip() == sha
    _clean(repo)


def test_git_am_commits_are_recorded(repo, on_path, tmp_path):
    _init(repo)
    git(repo, "checkout", "-q", "-b", "patches")
    _commit(repo, "p.txt", "p\n", "a patch")
    git(repo, "format-patch", "-q", "-1", "-o", str(tmp_path / "mbox"))
    git(repo, "checkout", "-q", "main")
    _commit(repo, "main.txt", "m\n", "main work")
    patch = next((tmp_path / "mbox").iterdir())
    out = subprocess.run(["git", "am", "-q", str(patch)], cwd=repo, capture_output=True)
    assert out.returncode == 0 and out.stderr == b"", out.stderr.decode()
    head = git(repo, "rev-parse", "HEAD").strip()
    assert {c.hash: c for c in _records(repo)}[head].message == "a patch"


def test_post_rewrite_without_stdin_recovers_amend_from_reflog(repo, on_path):
    _init(repo)
    old, _ = _commit(repo, "r.txt", "r\n", "before")
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--amend", "-m", "after")
    new = git(repo, "rev-parse", "HEAD").strip()
    env = dict(os.environ, PRE_COMMIT="1", PRE_COMMIT_REWRITE_COMMAND="amend")
    out = run_gitml(repo, "hook", "post-rewrite", env=env)
    assert out.returncode == 0 and out.stderr == b""
    store = Store(find_layout(repo))
    assert [(r.old, r.new, r.how) for r in store.read("rewrites")] == [(old, new, "amend")]
    assert new in {c.hash for c in store.read("commits")}


def test_merge_commit_is_recorded_by_post_merge(repo, on_path):
    _init(repo)
    git(repo, "checkout", "-q", "-b", "side")
    _commit(repo, "side.txt", "s\n", "side work")
    git(repo, "checkout", "-q", "main")
    _commit(repo, "main.txt", "m\n", "main work")
    out = subprocess.run(["git", "merge", "-q", "--no-edit", "side"], cwd=repo, capture_output=True)
    assert out.returncode == 0 and out.stderr == b"", out.stderr.decode()
    head = git(repo, "rev-parse", "HEAD").strip()
    rec = {c.hash: c for c in _records(repo)}[head]
    assert rec.is_merge and rec.branch == "main" and len(rec.parents) == 2
    _clean(repo)


def test_cherry_pick_is_recorded(repo, on_path):
    _init(repo)
    git(repo, "checkout", "-q", "-b", "side")
    picked, _ = _commit(repo, "fix.txt", "fix\n", "a fix")
    git(repo, "checkout", "-q", "main")
    _commit(repo, "main.txt", "m\n", "main work")
    out = subprocess.run(["git", "cherry-pick", picked], cwd=repo, capture_output=True)
    assert out.returncode == 0, out.stderr.decode()
    head = git(repo, "rev-parse", "HEAD").strip()
    assert head != picked
    assert {c.hash: c for c in _records(repo)}[head].branch == "main"


def test_hook_outside_an_initialised_repo_is_silent(repo, on_path):
    install_hooks(find_layout(repo), exe=str(on_path / "git-ml"))  # hooks but no .git-ml/
    sha, err = _commit(repo, "n.txt", "n\n", "not initialised")
    assert err == ""
    assert not (repo / ".git-ml").exists()


def test_unknown_and_missing_hook_names_are_one_line_and_exit_zero(repo, on_path):
    for args, expected in ((["hook"], "git-ml: hook skipped: no hook name given"),
                           (["hook", "pre-rebase"], "git-ml: pre-rebase skipped: unknown hook name")):
        out = run_gitml(repo, *args)
        assert out.returncode == 0
        lines = out.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith(expected)


def test_outside_a_repository_is_one_line(tmp_path, on_path):
    out = run_gitml(tmp_path, "hook", "post-commit")
    assert out.returncode == 0
    assert out.stderr.decode().splitlines() == [
        "git-ml: post-commit skipped: not a git repository: run git ml inside a git working tree"]


def test_hook_path_does_not_import_cli_libraries(repo, on_path):
    _init(repo)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "git_ml", "hook", "post-commit"],
                         cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.decode().splitlines()
                if line.startswith("import time:")}
    assert "git_ml.surfaces.hooks" in imported
    for heavy in ("typer", "rich", "click", "git", "filelock"):
        assert heavy not in imported, heavy


# ------------------------------------------------------------------------------------------
# Agent hooks, pre-push sync and the coalesced worker (in-process, with fakes for other owners)


def test_agent_hook_names_go_to_agent_hooks(monkeypatch, capsys):
    calls = []
    fake = types.ModuleType("git_ml.surfaces.agent_hooks")
    fake.run = lambda name, args: calls.append((name, args)) or 0
    monkeypatch.setitem(sys.modules, "git_ml.surfaces.agent_hooks", fake)
    for name in ("session-end", "session-start", "prompt-submit", "user-prompt-submit", "agent-codex-notify"):
        assert H.run_hook([name, "x"]) == 0
    assert calls == [("session-end", ["x"]), ("session-start", ["x"]), ("prompt-submit", ["x"]),
                     ("user-prompt-submit", ["x"]),
                     ("agent-codex-notify", ["x"])]
    monkeypatch.setitem(sys.modules, "git_ml.surfaces.agent_hooks", None)  # import fails
    assert H.run_hook(["session-end"]) == 0
    assert capsys.readouterr().err.startswith("git-ml: session-end skipped: agent session hooks")


def test_reentry_guard_in_python(monkeypatch):
    monkeypatch.setenv("GIT_ML_INTERNAL", "1")
    monkeypatch.setattr(H, "_dispatch", lambda name, args: pytest.fail("dispatched"))
    assert H.run_hook(["post-commit"]) == 0


def test_pre_push_starts_one_detached_sync_for_a_named_remote(repo, monkeypatch):
    layout = find_layout(repo)
    layout.create()
    spawned = []
    monkeypatch.setattr(H, "_spawn", lambda layout, argv, log: spawned.append(argv))
    monkeypatch.setattr(H.importlib.util, "find_spec", lambda name: object())
    line = f"refs/heads/main {'1' * 40} refs/heads/main {'0' * 40}\n"
    monkeypatch.setattr(H, "_stdin_text", lambda: line)
    H.pre_push(layout, ["origin", "/srv/origin.git"])
    H.pre_push(layout, ["/srv/x.git", "/srv/x.git"])  # no remote name: sync's default
    monkeypatch.setattr(H, "_stdin_text", lambda: f"(delete) {'0' * 40} refs/heads/old {'2' * 40}\n")
    H.pre_push(layout, ["origin", "/srv/origin.git"])  # deletions only: nothing to sync
    monkeypatch.setattr(H, "_stdin_text", lambda: "")  # pre-commit: no stdin, no arguments
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", "upstream")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_URL", "/srv/upstream.git")
    H.pre_push(layout, [])
    assert spawned == [["hook", "sync", "origin"], ["hook", "sync"], ["hook", "sync", "upstream"]]


def test_worker_is_coalesced(repo, monkeypatch):
    layout = find_layout(repo)
    layout.create()
    spawned = []
    monkeypatch.setattr(H, "_worker_has_work", lambda: True)
    monkeypatch.setattr(H, "_spawn", lambda layout, argv, log: spawned.append(argv))
    for _ in range(200):
        H.kick_worker(layout)
    assert spawned == [["hook", "worker"]]
    runs = []

    def update_once(layout):
        runs.append(1)
        if len(runs) == 1:  # new data arrives while the worker runs: it loops, no new spawn
            H.kick_worker(layout)

    monkeypatch.setattr(H, "_update_once", update_once)
    assert H.worker(layout, []) == 0
    assert len(runs) == 2 and spawned == [["hook", "worker"]]
    assert not (layout.state / "worker.dirty").exists()
    assert not (layout.state / "worker.spawned").exists()
    H.kick_worker(layout)  # the next commit starts a new worker
    assert spawned == [["hook", "worker"], ["hook", "worker"]]


def test_stale_spawn_marker_does_not_block_the_worker(repo, monkeypatch):
    layout = find_layout(repo)
    layout.create()
    spawned = []
    monkeypatch.setattr(H, "_worker_has_work", lambda: True)
    monkeypatch.setattr(H, "_spawn", lambda layout, argv, log: spawned.append(argv))
    marker = layout.state / "worker.spawned"
    marker.write_bytes(b"")
    old = time.time() - H.SPAWN_STALE - 5
    os.utime(marker, (old, old))
    H.kick_worker(layout)
    assert spawned == [["hook", "worker"]]


def test_worker_runs_its_steps_and_survives_their_failures(repo, monkeypatch, capsys):
    layout = find_layout(repo)
    layout.create()
    calls = []
    sync = types.ModuleType("git_ml.sync")
    sync.import_fetched = lambda layout, store: calls.append("import")
    registry = types.ModuleType("git_ml.experts.registry")
    registry.update = lambda layout, store: calls.append("update") or 1 / 0
    sessions = types.ModuleType("git_ml.capture.sessions")
    sessions.sweep = lambda layout, store: calls.append("sweep")
    monkeypatch.setitem(sys.modules, "git_ml.sync", sync)
    monkeypatch.setitem(sys.modules, "git_ml.experts.registry", registry)
    monkeypatch.setitem(sys.modules, "git_ml.capture.sessions", sessions)
    (layout.state / "worker.dirty").write_bytes(b"")
    assert H.worker(layout, []) == 0
    assert calls == ["import", "update", "sweep"]
    assert "git_ml.experts.registry.update failed: ZeroDivisionError" in capsys.readouterr().err


def test_worker_log_lines_are_whole_lines(repo, monkeypatch, capsys):
    layout = find_layout(repo)
    layout.create()
    registry = types.ModuleType("git_ml.experts.registry")
    registry.update = lambda layout, store: 1 / 0
    sessions = types.ModuleType("git_ml.capture.sessions")

    def sweep(layout, store):
        raise RuntimeError("first line\nsecond line")

    sessions.sweep = sweep
    monkeypatch.setitem(sys.modules, "git_ml.experts.registry", registry)
    monkeypatch.setitem(sys.modules, "git_ml.capture.sessions", sessions)
    (layout.state / "worker.dirty").write_bytes(b"")
    assert H.worker(layout, []) == 0
    err = capsys.readouterr().err
    assert err.endswith("\n")
    assert err.splitlines() == [
        "git-ml: worker: git_ml.experts.registry.update failed: ZeroDivisionError: division by zero",
        "git-ml: worker: git_ml.capture.sessions.sweep failed: RuntimeError: first line second line"]


def test_worker_leaves_when_another_holds_the_lock(repo, monkeypatch):
    layout = find_layout(repo)
    layout.create()
    (layout.state / "worker.dirty").write_bytes(b"")
    (layout.state / "worker.spawned").write_bytes(b"")
    monkeypatch.setattr(H, "_update_once", lambda layout: pytest.fail("ran without the lock"))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from filelock import FileLock; "
        f"l = FileLock({str(layout.state / 'worker.lock')!r}); l.acquire(); print('held', flush=True); "
        "sys.stdin.read()")], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        assert H.worker(layout, []) == 0
    finally:
        holder.communicate(b"")
    assert (layout.state / "worker.dirty").exists()  # left for the running worker,
    assert (layout.state / "worker.spawned").exists()  # which clears this when it is done
