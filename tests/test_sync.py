"""git ml sync: records shared through one ref per writer, between two clones of a bare remote."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import msgspec
import pytest

from conftest import ROOT, commit_file, git, run_gitml
from git_ml import sync as sync_mod
from git_ml.layout import GitMLError, find_layout
from git_ml import records
from git_ml.store import Store


def _clone(remote: Path, dest: Path) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(dest))
    return dest


def _setup(path: Path) -> Store:
    layout = find_layout(path)
    layout.create()
    return Store(layout)


@pytest.fixture
def world(tmp_path, on_path, monkeypatch):
    """A bare remote with one commit and two clones, A and B, each with git-ml set up."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    commit_file(seed, "README.md", "# demo\n", "Initial commit")
    commit_file(seed, "src/app.py", "print(1)\n", "Add app")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    a = _clone(remote, tmp_path / "a")
    b = _clone(remote, tmp_path / "b")
    return remote, a, b


def _capture(path: Path, tag: str, *, session_at: str = "2026-01-01T00:00:00Z") -> dict[str, list[str]]:
    """Records as the hooks and session capture would write them in clone ``path``."""
    store = _setup(path)
    sha = commit_file(path, f"{tag}.txt", f"{tag}\n", f"Work on {tag}")
    head = records.CommitRecord(hash=sha, parents=[], author="Dev", message=f"Work on {tag}",
                        branch="main", session_id=f"s-{tag}", source="hook").with_id()
    session = records.SessionRecord(session_id=f"s-{tag}", prompts=[f"do {tag}"], captured_at=session_at,
                            commits=[sha]).with_id()
    rewrite = records.RewriteRecord(old="1" * 40, new=sha, how="amend").with_id()
    ci = records.CIResult(commit=sha, run_id=tag, outcomes=[records.TestOutcome(test_id="t::x", outcome="passed")]).with_id()
    store.append("commits", [head])
    store.append("sessions", [session])
    store.append("rewrites", [rewrite])
    store.append("ci", [ci])
    return {"commits": [head.id], "sessions": [session.id], "rewrites": [rewrite.id], "ci": [ci.id]}


def _ids(path: Path) -> dict[str, set[str]]:
    store = Store(find_layout(path))
    return {kind: store.ids(kind) for kind in ("commits", "sessions", "rewrites", "ci")}


def _line_counts(path: Path) -> dict[str, int]:
    tracked = find_layout(path).tracked
    return {p.name: len(p.read_bytes().splitlines()) for p in sorted(tracked.glob("*.jsonl"))}


def _sync(path: Path, *args: str) -> str:
    out = run_gitml(path, "sync", *args)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode()


def _user_state(path: Path) -> tuple[str, str, bytes]:
    return (git(path, "status", "--porcelain", "--untracked-files=all"),
            git(path, "log", "--format=%H", "--branches", "--remotes", "--tags"),
            (path / ".git" / "index").read_bytes())


def test_two_clones_end_with_the_same_union_and_no_duplicates(world):
    _, a, b = world
    a_ids = _capture(a, "alpha")
    b_ids = _capture(b, "beta")
    for clone in (a, b):
        out = run_gitml(clone, "backfill")
        assert out.returncode == 0, out.stderr.decode()
    before_a = _user_state(a)

    assert "published 4 record(s)" in _sync(a)
    out = _sync(b)
    assert "published 4 record(s)" in out and "imported 4 record(s)" in out
    assert "imported 4 record(s)" in _sync(a)

    ids_a, ids_b = _ids(a), _ids(b)
    for kind in ("sessions", "rewrites", "ci"):
        assert ids_a[kind] == ids_b[kind] == set(a_ids[kind]) | set(b_ids[kind])
    # Commits: each clone has its own backfill plus both hook-captured commits.
    assert set(a_ids["commits"]) | set(b_ids["commits"]) <= ids_a["commits"] & ids_b["commits"]

    # The hook-captured record (with its session link) travelled, not a backfill copy.
    by_id = {c.id: c for c in Store(find_layout(b)).read("commits")}
    assert by_id[a_ids["commits"][0]].session_id == "s-alpha"

    # Again, in both: nothing new anywhere, no line written twice.
    counts_a, counts_b = _line_counts(a), _line_counts(b)
    assert "published 0 record(s), imported 0 record(s)" in _sync(a)
    assert "published 0 record(s), imported 0 record(s)" in _sync(b)
    assert _line_counts(a) == counts_a and _line_counts(b) == counts_b
    for clone in (a, b):
        tracked = find_layout(clone).tracked
        for kind in ("sessions", "rewrites", "ci"):
            lines = (tracked / f"{kind}.jsonl").read_bytes().splitlines()
            assert len(lines) == len({msgspec.json.decode(line)["id"] for line in lines})

    # The user's index, working tree and branch history are untouched by sync.
    assert _user_state(a)[0] == before_a[0]
    assert _user_state(a)[2] == before_a[2]


def test_no_data_commits_on_any_branch_and_branches_merge_cleanly(world):
    remote, a, b = world
    _capture(a, "alpha")
    _capture(b, "beta")
    git(a, "push", "-q", "origin", "main")
    main_before = git(b, "log", "--format=%H", "main")
    status_before = git(b, "status", "--porcelain", "--untracked-files=all")
    _sync(a)
    _sync(b)
    assert git(b, "log", "--format=%H", "main") == main_before
    assert git(b, "status", "--porcelain", "--untracked-files=all") == status_before
    # Divergent histories: B merges A's work with plain git, no conflict (data is not in the tree).
    git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    assert (b / "alpha.txt").exists() and (b / "beta.txt").exists()
    assert ".git-ml" not in git(b, "ls-files")
    for repo in (a, b, remote):
        authors = git(repo, "log", "--format=%an %s", "--branches", "--tags", "--remotes")
        assert "git-ml" not in authors
    # The data lives in writer refs only: one per clone on the remote.
    writers = git(remote, "for-each-ref", "--format=%(refname)", "refs/git-ml/writers/").split()
    assert len(writers) == 2
    assert {w.rsplit("/", 1)[-1] for w in writers} == {
        git(a, "config", "git-ml.writer").strip(), git(b, "config", "git-ml.writer").strip()}
    # Data commits hold only the writer's jsonl files.
    tree = git(remote, "ls-tree", "--name-only", writers[0]).split()
    assert set(tree) <= {"commits.jsonl", "sessions.jsonl", "rewrites.jsonl", "ci.jsonl"}


def test_backfilled_commits_do_not_travel(world):
    remote, a, _ = world
    _setup(a)
    assert run_gitml(a, "backfill").returncode == 0
    out = _sync(a)
    assert "published 0 record(s)" in out and "nothing to push" in out
    assert git(remote, "for-each-ref", "refs/git-ml/") == ""


def test_later_session_capture_travels(world):
    _, a, b = world
    ids = _capture(a, "alpha", session_at="2026-01-01T00:00:00Z")
    _setup(b)
    _sync(a)
    _sync(b)
    store_a = Store(find_layout(a))
    old = store_a.read("sessions")[0]
    store_a.append("sessions", [msgspec.structs.replace(old, prompts=["do alpha", "and more"],
                                                         captured_at="2026-01-02T00:00:00Z")])
    assert "published 1 record(s)" in _sync(a)
    assert "imported 1 record(s)" in _sync(b)
    (got,) = Store(find_layout(b)).read("sessions")
    assert got.id == ids["sessions"][0] and got.prompts == ["do alpha", "and more"]


def test_plain_fetch_brings_writer_refs_after_configure(world):
    _, a, b = world
    ids = _capture(a, "alpha")
    store_b = _setup(b)
    layout_b = find_layout(b)
    assert sync_mod.configure_remote(layout_b)
    assert sync_mod.configure_remote(layout_b) == []  # idempotent
    _sync(a)
    git(b, "pull", "-q", "--no-rebase", "--no-edit")
    refs = git(b, "for-each-ref", "--format=%(refname)", "refs/git-ml/remotes/origin/").split()
    assert len(refs) == 1
    imported = sync_mod.import_fetched(layout_b, store_b)
    assert imported == {"commits": 1, "sessions": 1, "rewrites": 1, "ci": 1}
    assert store_b.ids("sessions") == set(ids["sessions"])
    assert sync_mod.import_fetched(layout_b, store_b) == {}
    assert sync_mod.unconfigure_remote(layout_b)
    assert "git-ml" not in git(b, "config", "--get-all", "remote.origin.fetch")
    assert sync_mod.unconfigure_remote(layout_b) == []


def test_no_remote_is_one_line_error(tmp_path, repo, on_path):
    _setup(repo)
    out = run_gitml(repo, "sync")
    assert out.returncode == 1
    err = out.stderr.decode().strip()
    assert err.startswith("git-ml: error:") and "no remote" in err and "\n" not in err
    out = run_gitml(repo, "sync", "--remote", "nowhere")
    assert out.returncode == 1 and "no remote named 'nowhere'" in out.stderr.decode()


def test_unreachable_remote_fails_and_keeps_local_data(world, tmp_path):
    _, a, _ = world
    ids = _capture(a, "alpha")
    git(a, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    before = _line_counts(a)
    out = run_gitml(a, "sync")
    assert out.returncode == 1
    err = out.stderr.decode()
    assert "could not fetch" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    # git's own first error line, not the tail of its wrapped hint ("and the repository exists.")
    assert "does not appear to be a git repository" in err and "repository exists" not in err
    assert _line_counts(a) == before
    assert _ids(a)["sessions"] == set(ids["sessions"])


def test_concurrent_syncs_serialise(world):
    _, a, b = world
    _capture(a, "alpha")
    _capture(b, "beta")
    procs = [subprocess.Popen(["git", "ml", "sync"], cwd=c, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for c in (a, a, b, b)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for out, err, code in results:
        assert code == 0, err.decode()
    _sync(a)
    _sync(b)
    assert all(_ids(a)[k] == _ids(b)[k] and len(_ids(a)[k]) == 2 for k in ("sessions", "rewrites", "ci"))
    # A second sync of one clone waits for the first; a busy lock that never frees is an error.
    layout = find_layout(a)
    from filelock import FileLock

    with FileLock(str(layout.state / "sync-run.lock")):
        errors = []

        def other():
            try:
                sync_mod.LOCK_WAIT = 0.2
                sync_mod.sync(layout, Store(layout))
            except GitMLError as exc:
                errors.append(str(exc))
            finally:
                sync_mod.LOCK_WAIT = 30.0

        t = threading.Thread(target=other)
        t.start()
        t.join(30)
    assert errors and "another git ml sync is running" in errors[0]


def test_writer_ref_rewritten_elsewhere_loses_nothing(world, tmp_path):
    remote, a, b = world
    a_ids = _capture(a, "alpha")
    _sync(a)
    writer = git(a, "config", "git-ml.writer").strip()
    ref = f"refs/git-ml/writers/{writer}"
    # Elsewhere, the same writer ref is rewritten with other data and force-pushed.
    _capture(b, "beta")
    _sync(b)
    other = git(b, "config", "git-ml.writer").strip()
    git(b, "push", "-q", "-f", "--no-verify", "origin", f"refs/git-ml/writers/{other}:{ref}")
    remote_tip = git(remote, "rev-parse", ref).strip()
    diverged = subprocess.run(["git", "merge-base", "--is-ancestor", git(a, "rev-parse", ref).strip(),
                               remote_tip], cwd=remote)
    assert diverged.returncode == 1  # A's published history is no longer on the remote
    # A adds more and syncs: keeps its own records, takes B's, and its push is a fast-forward.
    more = _capture(a, "gamma")
    out = _sync(a)
    assert "pushed" in out
    new_tip = git(remote, "rev-parse", ref).strip()
    subprocess.run(["git", "merge-base", "--is-ancestor", remote_tip, new_tip], cwd=remote, check=True)
    blob = git(remote, "cat-file", "blob", f"{ref}:sessions.jsonl")
    published = {msgspec.json.decode(line)["id"] for line in blob.splitlines()}
    assert set(a_ids["sessions"]) | set(more["sessions"]) <= published
    assert len(published) == 3  # alpha, beta, gamma
    assert _ids(a)["sessions"] == published


def test_own_push_does_not_reenter_hooks(world):
    remote, a, _ = world
    _capture(a, "alpha")
    log = a.parent / "hook.log"
    hook = a / ".git" / "hooks" / "pre-push"
    hook.write_text(f"#!/bin/sh\necho \"pre-push internal=$GIT_ML_INTERNAL\" >> {log}\n")
    hook.chmod(0o755)
    for name in ("post-merge", "post-commit", "post-rewrite", "reference-transaction"):
        other = a / ".git" / "hooks" / name
        other.write_text(f"#!/bin/sh\necho \"{name} internal=$GIT_ML_INTERNAL\" >> {log}\n")
        other.chmod(0o755)
    assert "pushed" in _sync(a)
    assert git(remote, "for-each-ref", "refs/git-ml/writers/") != ""
    # The user's pre-push never ran for our push; any other hook git ran saw GIT_ML_INTERNAL=1.
    lines = log.read_text().splitlines() if log.exists() else []
    assert not any(line.startswith("pre-push") for line in lines)
    assert all(line.endswith("internal=1") for line in lines)


def test_writer_id_waits_out_a_held_config_lock(world):
    """Another git process holding .git/config.lock must not fail the first sync."""
    _, a, _ = world
    lock = a / ".git" / "config.lock"
    lock.write_text("")
    releaser = threading.Timer(0.3, lock.unlink)
    releaser.start()
    try:
        wid = sync_mod.writer_id(find_layout(a))
    finally:
        releaser.join()
    assert wid == git(a, "config", "--get", sync_mod.WRITER_KEY).strip()


def test_writer_id_is_stable_random_and_private(world):
    _, a, b = world
    la, lb = find_layout(a), find_layout(b)
    wa = sync_mod.writer_id(la)
    assert wa == sync_mod.writer_id(la) and wa != sync_mod.writer_id(lb)
    assert len(wa) == 16 and int(wa, 16) >= 0
    _capture(a, "alpha")
    _sync(a)
    log = git(a, "log", "--format=%an <%ae> %cn <%ce>", f"refs/git-ml/writers/{wa}")
    assert "Dev" not in log and "example.com" not in log


def test_sync_inside_the_hooks_child_lock(world):
    """The hooks' detached child holds state/sync.lock around sync(): no self-deadlock."""
    from filelock import FileLock

    _, a, _ = world
    _capture(a, "alpha")
    layout = find_layout(a)
    with FileLock(str(layout.state / "sync.lock"), timeout=0):
        report = sync_mod.sync(layout, Store(layout))
    assert report.pushed and sum(report.published.values()) == 4


def test_push_and_pull_carry_the_data_once_hooks_are_installed(world, monkeypatch):
    """git ml init, then only everyday git: push publishes (pre-push), pull imports (post-merge)."""
    remote, a, b = world
    monkeypatch.setenv("GIT_ML_NO_DETACH", "1")  # the hooks' background work, in the foreground
    for clone in (a, b):
        out = run_gitml(clone, "init")
        assert out.returncode == 0, out.stderr.decode()
        assert "refs/git-ml/remotes/origin/*" in out.stdout.decode()
        assert "+refs/git-ml/writers/*:refs/git-ml/remotes/origin/*" in git(
            clone, "config", "--get-all", "remote.origin.fetch")
    sha = commit_file(a, "feature.txt", "x\n", "Add feature")
    git(a, "push", "-q", "origin", "main")
    writer_a = git(a, "config", "git-ml.writer").strip()
    assert git(remote, "for-each-ref", f"refs/git-ml/writers/{writer_a}") != ""
    status = git(b, "status", "--porcelain", "--untracked-files=all")
    git(b, "pull", "-q", "--no-rebase", "--no-edit")
    got = {c.hash: c for c in Store(find_layout(b)).read("commits")}
    assert got[sha].source == "hook" and got[sha].branch == "main"
    assert git(b, "status", "--porcelain", "--untracked-files=all") == status
    # uninstall removes the refspec and keeps the data.
    out = run_gitml(b, "uninstall")
    assert out.returncode == 0, out.stderr.decode()
    assert "git-ml" not in git(b, "config", "--get-all", "remote.origin.fetch")
    assert sha in {c.hash for c in Store(find_layout(b)).read("commits")}


def test_import_fetched_skips_unchanged_refs(world):
    _, a, b = world
    _capture(a, "alpha")
    _sync(a)
    layout_b = find_layout(b)
    store_b = _setup(b)
    git(b, "fetch", "-q", "origin", "+refs/git-ml/writers/*:refs/git-ml/remotes/origin/*")
    assert sum(sync_mod.import_fetched(layout_b, store_b).values()) == 4
    store_b.path("sessions").unlink()
    assert sync_mod.import_fetched(layout_b, store_b) == {}  # same refs as last time: not re-read
    assert "imported 1 record(s)" in _sync(b)  # a sync always imports in full
