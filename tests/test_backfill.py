import pytest

from git_ml.capture.backfill import backfill
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
