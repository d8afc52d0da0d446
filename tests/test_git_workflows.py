"""Everyday git with git-ml's hooks installed, in two clones of one remote: nothing git does may
break, every commit is recorded once (rewritten ones under their new hashes), and the working tree
never shows a tracked modification that git-ml made."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import git, run_gitml

from git_ml.layout import find_layout
from git_ml.store import Store, commits_in_effect


def _run(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0, f"git {' '.join(args)}: {out.stderr.decode()}"
    assert b"git-ml" not in out.stderr, out.stderr.decode()  # hooks stayed silent
    return out


def _commit(repo: Path, path: str, content: str, message: str) -> str:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(content)
    _run(repo, "add", "--", path)
    _run(repo, "commit", "-q", "-m", message)
    _assert_clean(repo)
    return git(repo, "rev-parse", "HEAD").strip()


def _assert_clean(repo: Path) -> None:
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""


def _store(repo: Path) -> Store:
    return Store(find_layout(repo))


def _recorded(repo: Path) -> dict:
    return {c.hash: c for c in _store(repo).read("commits")}


def _in_effect(repo: Path) -> list[str]:
    return [c.hash for c in commits_in_effect(_store(repo))]


def _init(repo: Path) -> None:
    out = run_gitml(repo, "init")
    assert out.returncode == 0, out.stderr.decode()
    assert "git hooks installed" in out.stdout.decode()


def _two_clones(tmp_path):
    """A local bare remote with one commit and two clones of it, git-ml initialised in both."""
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    a, b = tmp_path / "a", tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(a))
    (a / "README.md").write_text("# project\n")
    git(a, "add", "README.md")
    git(a, "commit", "-q", "-m", "Initial commit")
    git(a, "push", "-q", "-u", "origin", "main")
    git(tmp_path, "clone", "-q", str(remote), str(b))
    _init(a)
    _init(b)
    return remote, a, b


def test_two_clones_everyday_git(tmp_path, on_path):
    remote, a, b = _two_clones(tmp_path)

    # --- branch switches: each commit is recorded with the branch it was made on ------------
    _run(a, "checkout", "-q", "-b", "feature")
    f1 = _commit(a, "src/feature.py", "x = 1\n", "Start feature")
    _run(a, "checkout", "-q", "main")
    m1 = _commit(a, "src/core.py", "core = True\n", "Core work")
    _run(a, "checkout", "-q", "feature")
    f2 = _commit(a, "src/feature.py", "x = 2\n", "Finish feature")
    _run(a, "checkout", "-q", "main")
    rec = _recorded(a)
    assert (rec[f1].branch, rec[m1].branch, rec[f2].branch) == ("feature", "main", "feature")
    _run(a, "push", "-q", "origin", "main", "feature")

    # --- pull --rebase over a new upstream commit: the local commit is recorded once, new hash --
    b1_old = _commit(b, "docs/guide.md", "guide\n", "Write guide")
    _run(b, "pull", "-q", "--rebase", "origin", "main")
    b1_new = git(b, "rev-parse", "HEAD").strip()
    assert b1_new != b1_old and git(b, "rev-parse", "HEAD~1").strip() == m1
    _assert_clean(b)
    in_effect = _in_effect(b)
    assert in_effect.count(b1_new) == 1 and b1_old not in in_effect
    assert _recorded(b)[b1_new].branch == "main"
    assert [(r.old, r.new) for r in _store(b).read("rewrites")] == [(b1_old, b1_new)]

    # --- stash round trip across a branch switch ---------------------------------------------
    (b / "README.md").write_text("# project\nlocal notes\n")
    _run(b, "stash", "-q")
    _assert_clean(b)
    _run(b, "checkout", "-q", "-b", "hotfix")
    hotfix = _commit(b, "src/core.py", "core = 'fixed'\n", "Hotfix")
    _run(b, "checkout", "-q", "main")
    _run(b, "stash", "pop", "-q")
    assert git(b, "status", "--porcelain", "--untracked-files=no") == " M README.md\n"
    _run(b, "commit", "-q", "-am", "Notes")
    _assert_clean(b)
    assert _recorded(b)[hotfix].branch == "hotfix"

    # --- a 200-commit interactive rebase: every rewritten commit once, under its new hash -----
    _run(a, "checkout", "-q", "-b", "big", "main")
    big = a / "big.txt"
    big.write_text("")
    _run(a, "add", "big.txt")
    for i in range(200):
        with open(big, "a") as fh:
            fh.write(f"step {i}\n")
        # Made without hooks for speed; `git ml backfill` records them as history.
        _run(a, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-am", f"step {i}")
    olds = git(a, "rev-list", "--reverse", "main..big").split()
    assert len(olds) == 200
    out = run_gitml(a, "backfill")
    assert out.returncode == 0 and out.stdout.decode().startswith("backfilled 200 ")
    _run(a, "checkout", "-q", "main")
    m2 = _commit(a, "src/other.py", "y = 1\n", "Unrelated main work")
    _run(a, "checkout", "-q", "big")
    _run(a, "rebase", "-q", "-i", "main", env=dict(os.environ, GIT_SEQUENCE_EDITOR="true"))
    news = git(a, "rev-list", "--reverse", "main..big").split()
    assert len(news) == 200 and git(a, "rev-parse", "big~200").strip() == m2
    _assert_clean(a)
    in_effect = _in_effect(a)
    assert not set(olds) & set(in_effect)
    assert all(in_effect.count(n) == 1 for n in news)
    rewrites = {(r.old, r.new) for r in _store(a).read("rewrites")}
    assert rewrites == set(zip(olds, news))
    rec = _recorded(a)
    assert {rec[n].branch for n in news} == {"big"} and {rec[n].source for n in news} == {"rewrite"}

    # --- cherry-pick of two commits onto main (a sequencer run: post-commit for each) -------
    _run(a, "checkout", "-q", "main")
    _run(a, "cherry-pick", f1, f2)
    picked = git(a, "rev-list", "--reverse", "HEAD~2..HEAD").split()
    assert not set(picked) & {f1, f2}
    rec = _recorded(a)
    assert [rec[p].message for p in picked] == ["Start feature", "Finish feature"]
    assert {rec[p].branch for p in picked} == {"main"}
    _assert_clean(a)

    # --- divergent branches merge with `git merge`, no conflict, in each clone ---------------
    for clone, name in ((a, "left"), (b, "right")):
        _run(clone, "checkout", "-q", "-b", name, "main")
        side = _commit(clone, f"{name}/work.txt", f"{name}\n", f"{name} work")
        _run(clone, "checkout", "-q", "main")
        ours = _commit(clone, f"main-{name}.txt", "main\n", f"main work in {name} clone")
        _run(clone, "merge", "-q", "--no-edit", name)
        merge = git(clone, "rev-parse", "HEAD").strip()
        _assert_clean(clone)
        rec = _recorded(clone)
        assert rec[merge].is_merge and set(rec[merge].parents) == {ours, side}
        assert rec[side].branch == name

    # Every record in effect is a commit that exists in its clone.
    for clone in (a, b):
        known = set(git(clone, "rev-list", "--all").split())
        assert set(_in_effect(clone)) <= known

    # --- `git ml sync` (git_ml.sync; its own tests are in test_sync.py): after A, B, A, each
    # clone holds the union of both clones' captured records, rewrites still resolve to one
    # record per commit, and neither clone's branches or working tree changed.
    def captured(clone: Path) -> set[str]:
        return {c.id for c in _store(clone).read("commits") if c.source != "backfill"}

    before = {clone: (captured(clone), _store(clone).ids("rewrites"),
                      git(clone, "for-each-ref", "refs/heads")) for clone in (a, b)}
    for clone in (a, b, a):
        out = run_gitml(clone, "sync")
        assert out.returncode == 0, out.stderr.decode()
    union = before[a][0] | before[b][0]
    rewrites = before[a][1] | before[b][1]
    for clone in (a, b):
        assert union <= _store(clone).ids("commits")
        assert _store(clone).ids("rewrites") == rewrites
        in_effect = _in_effect(clone)
        assert b1_new in in_effect and b1_old not in in_effect
        assert not set(olds) & set(in_effect) and all(in_effect.count(n) == 1 for n in news)
        assert git(clone, "for-each-ref", "refs/heads") == before[clone][2]
        _assert_clean(clone)


def test_plain_pull_brings_teammates_records(tmp_path, on_path, monkeypatch):
    """post-merge after `git pull` starts the worker, which imports the writer refs the pull
    fetched (`git ml init` added the refspec): no `git ml sync` needed on the receiving side."""
    monkeypatch.setenv("GIT_ML_NO_DETACH", "1")  # the worker runs inside the hook: deterministic
    remote, a, b = _two_clones(tmp_path)
    shared = _commit(a, "src/shared.py", "x = 1\n", "Shared work")
    out = run_gitml(a, "sync")
    assert out.returncode == 0, out.stderr.decode()
    _run(a, "push", "-q", "origin", "main")
    mine = _commit(b, "docs/notes.md", "notes\n", "My notes")
    _run(b, "pull", "-q", "--no-rebase", "--no-edit")  # plain pull: the configured refspecs
    rec = _recorded(b)
    assert rec[shared].source == "hook" and rec[shared].branch == "main"  # A's capture, imported
    assert rec[mine].branch == "main"
    merge = git(b, "rev-parse", "HEAD").strip()
    assert rec[merge].is_merge
    _assert_clean(b)
