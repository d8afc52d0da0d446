import pytest

from git_ml.capture.backfill import CAUGHT_UP, backfill, catch_up
from git_ml.capture.git import log_commits
from git_ml.layout import GitMLError, find_layout
from git_ml.store import Store

from conftest import commit_file, git


def _open(repo):
    layout = find_layout(repo)
    layout.create()
    return layout, Store(layout)


def test_backfill_whole_history_is_idempotent(repo):
    for i in range(5):
        commit_file(repo, f"f{i}.py", str(i), f"commit {i}")
    layout, store = _open(repo)
    assert backfill(layout, store) == 6
    assert backfill(layout, store) == 0
    recs = store.read("commits")
    assert [r.message for r in recs][:2] == ["Initial commit", "commit 0"]
    assert all(r.source == "backfill" for r in recs)


def test_backfill_since_and_bad_since(repo):
    first = git(repo, "rev-parse", "HEAD").strip()
    commit_file(repo, "a.py", "1", "later")
    layout, store = _open(repo)
    assert backfill(layout, store, since=first) == 1
    with pytest.raises(GitMLError, match="not a commit"):
        backfill(layout, store, since="no-such-rev")


def test_empty_repository_backfills_nothing(tmp_path):
    git(tmp_path, "init", "-q")
    layout, store = _open(tmp_path)
    assert backfill(layout, store) == 0


def test_catch_up_stores_what_is_behind_head_and_remembers_where_it_got(repo):
    layout, store = _open(repo)
    backfill(layout, store)
    behind = [commit_file(repo, f"p{i}.py", str(i), f"pulled {i}") or git(repo, "rev-parse", "HEAD").strip()
              for i in range(3)]
    head = behind.pop()  # HEAD is its hook's to record (with branch and session)
    assert catch_up(layout, store) == 2
    assert set(behind) <= {r.hash for r in store.read("commits")}
    assert head not in {r.hash for r in store.read("commits")}
    assert not (layout.state / CAUGHT_UP).exists()  # HEAD not stored yet: not caught up to it
    store.append("commits", [next(log_commits(repo, ["HEAD"], no_walk=True))])
    assert catch_up(layout, store) == 0
    assert (layout.state / CAUGHT_UP).read_text().strip() == head
    commit_file(repo, "q.py", "q", "later")
    commit_file(repo, "r.py", "r", "later still")
    assert catch_up(layout, store) == 1  # only what is new since the remembered HEAD
    (layout.state / CAUGHT_UP).write_text("0" * 40 + "\n")  # a commit that is gone: walk all
    commit_file(repo, "s.py", "s", "last")
    assert catch_up(layout, store) == 1
    assert len(store.read("commits")) == len(git(repo, "rev-list", "HEAD").split()) - 1


def test_catch_up_records_nothing_mid_rebase(repo):
    layout, store = _open(repo)
    commit_file(repo, "a.py", "a", "a")
    commit_file(repo, "b.py", "b", "b")
    (layout.git_dir / "rebase-merge").mkdir()
    assert catch_up(layout, store) == 0
    assert store.read("commits") == []
