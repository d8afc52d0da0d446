"""FileExpert: learns a small synthetic history in a scratch repository."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import commit_file, git

from git_ml.capture.git import log_commits
from git_ml.experts.base import Query, TrainingData
from git_ml.experts import file as file_expert
from git_ml.experts.file import DEFAULT_WEIGHTS, FileExpert, FileIndex, IndexUnusable
from git_ml.experts.file_tuning import spread
from git_ml.experts.snapshot import Snapshot
from git_ml.records import SessionRecord

FIXED = dict(DEFAULT_WEIGHTS, path=0.5, recency=0.1, prf=0.2)


def build_history(repo):
    """Auth, cache and database modules with a history of worded commits and their tests."""
    commit_file(repo, "src/auth.py", "def check_password(user, password):\n    return login(user)\n",
                "Add password check to the login flow")
    commit_file(repo, "src/cache.py", "class Cache:\n    def expire(self): pass\n", "Add a cache with expiry")
    commit_file(repo, "tests/test_cache.py", "def test_expire(): pass\n", "Test cache expiry")
    commit_file(repo, "src/db.py", "def connect(url): pass\n", "Add database connection pooling")
    for n in range(3):
        (repo / "src/cache.py").write_text(f"class Cache:\n    def expire(self): return {n}\n")
        (repo / "tests/test_cache.py").write_text(f"def test_expire(): assert {n}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"Cache entries expire too early ({n})")
    commit_file(repo, "src/auth.py", "def check_password(user, password):\n    return login(user, password)\n",
                "Login rejects valid passwords with unicode characters")
    commit_file(repo, "src/db.py", "def connect(url, pool=5): pass\n", "Database pool size is configurable")


def history(repo):
    return [c for c in log_commits(repo, ["HEAD"]) if not c.is_merge]


def fitted(repo, commits, **kw) -> FileExpert:
    expert = FileExpert(weights=kw.pop("weights", FIXED), **kw)
    expert.fit(TrainingData(commits=commits, snapshot=Snapshot(repo, commits[-1].hash)))
    return expert


def test_task_worded_like_past_commits_ranks_its_file_first(repo):
    build_history(repo)
    expert = fitted(repo, history(repo))
    pred = expert.predict(Query(text="users cannot login: password rejected"), top=3)
    assert pred.items[0][0] == "src/auth.py"
    assert all(0.0 <= conf <= 1.0 for _, conf in pred.items)
    pred = expert.predict(Query(text="database pool connections"), top=3)
    assert pred.items[0][0] == "src/db.py"


def test_a_recurring_chore_goes_where_it_went_before(repo, monkeypatch):
    """``Release 2.4.0`` touches what every ``Release x.y.z`` touched (the ``template`` channel),
    though the release script's own history matches the word "release" better."""
    build_history(repo)
    commit_file(repo, "scripts/release.py", "def upload(): pass\n", "Add the release upload script")
    for n in range(3):
        commit_file(repo, "scripts/release.py", f"def upload(): return {n}\n",
                    f"Release script: uploads fail to sign the wheels ({n})")
        (repo / "CHANGES.rst").write_text(f"Changes\n\n1.{n}.10\n")
        (repo / "src/version.py").write_text(f"VERSION = '1.{n}.10'\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"Release 1.{n}.10")
    expert = fitted(repo, history(repo))
    paths = expert.index.paths()
    feats = {paths[pid][0]: f for pid, f in expert.features(Query(text="Release 2.4.0")).items()}
    assert {p for p, f in feats.items() if f.get("template")} == {"CHANGES.rst", "src/version.py"}
    top = [p for p, _ in expert.predict(Query(text="Release 2.4.0"), top=3).items]
    assert set(top[:2]) == {"CHANGES.rst", "src/version.py"}
    monkeypatch.setattr(file_expert, "TEMPLATE_SHARE", 0.0)
    assert [p for p, _ in expert.predict(Query(text="Release 2.4.0"), top=3).items][0] == "scripts/release.py"
    # Only the same words count: a task that merely mentions a release gets no template votes.
    feats = expert.features(Query(text="release uploads are missing the signature"))
    assert not any(f.get("template") for f in feats.values())


def test_seed_files_pull_co_changed_files(repo):
    build_history(repo)
    expert = fitted(repo, history(repo))
    items = [p for p, _ in expert.predict(Query(files=["src/cache.py"]), top=5).items]
    assert items[0] == "tests/test_cache.py"
    assert "src/cache.py" not in items  # the seed itself is known, not predicted


def test_only_files_alive_at_the_revision_are_ranked(repo):
    build_history(repo)
    git(repo, "rm", "-q", "src/db.py")
    git(repo, "commit", "-q", "-m", "Remove the database pool")
    expert = fitted(repo, history(repo))
    assert "src/db.py" not in [p for p, _ in expert.predict(Query(text="database pool"), top=10).items]


def test_incremental_update_equals_training_from_scratch(repo):
    build_history(repo)
    git(repo, "mv", "src/cache.py", "src/caching.py")
    git(repo, "commit", "-q", "-m", "Rename the cache module")
    commit_file(repo, "src/caching.py", "class Cache:\n    def evict(self): pass\n", "Cache eviction policy")
    commit_file(repo, "src/new.py", "def feature(): pass\n", "Add a new feature module")
    commits = history(repo)
    k = 4
    scratch = fitted(repo, commits)
    incremental = fitted(repo, commits[:-k])
    incremental.update(TrainingData(commits=commits, snapshot=Snapshot(repo, commits[-1].hash)), commits[-k:])
    assert incremental.index.dump() == scratch.index.dump()
    assert incremental.trained_on_commits == scratch.trained_on_commits == len(commits)
    for text in ("cache eviction", "login password", "new feature"):
        q = Query(text=text)
        assert incremental.predict(q).items == scratch.predict(q).items
    # the history of the renamed file followed it
    top2 = [p for p, _ in scratch.predict(Query(text="entries expire too early"), top=2).items]
    assert "src/caching.py" in top2 and "src/cache.py" not in top2
    # an update with commits already learned changes nothing
    before = incremental.index.dump()
    incremental.update(TrainingData(commits=commits, snapshot=Snapshot(repo, commits[-1].hash)), commits[-k:])
    assert incremental.index.dump() == before


def test_sessions_teach_prompts(repo):
    build_history(repo)
    commits = history(repo)
    session = SessionRecord(session_id="s1", prompts=["the quarterly invoice totals are off"],
                            files_modified=["src/db.py"])
    expert = FileExpert(weights=FIXED)
    expert.fit(TrainingData(commits=commits, sessions=[session], snapshot=Snapshot(repo)))
    assert expert.trained_on_sessions == 1
    assert expert.predict(Query(text="invoice totals"), top=1).items[0][0] == "src/db.py"


def test_weights_are_tuned_on_an_inner_split(repo):
    for n in range(130):
        name = ["alpha", "beta", "gamma"][n % 3]
        commit_file(repo, f"src/{name}.py", f"def {name}_{n}(): pass\n", f"Improve {name} handling step {n}")
    expert = FileExpert()
    expert.fit(TrainingData(commits=history(repo), snapshot=Snapshot(repo)))
    assert expert.tuning["inner_file_items"] >= 5
    assert expert.tuning["objective_tuned"] >= expert.tuning["objective_default"]
    assert set(expert.weights) == set(DEFAULT_WEIGHTS)


def test_tuning_items_are_spread_over_the_inner_window():
    assert spread(list(range(10)), 20) == list(range(10))
    picked = spread(list(range(1000)), 250)
    assert len(picked) == 250 and picked == sorted(set(picked))
    assert picked[0] == 0 and picked[-1] >= 990  # the oldest and the newest stretch, not the newest 250
    assert max(b - a for a, b in zip(picked, picked[1:])) == 4


@pytest.mark.parametrize("k", [2, 9])
def test_a_tuned_expert_updated_equals_one_tuned_from_scratch(repo, tmp_path, k):
    # 131 commits: the tuning window is 128. Two new commits stay inside it (the update only adds
    # to the statistics); nine cross it (the update re-tunes), and either way nothing differs.
    for n in range(130):
        name = ["alpha", "beta", "gamma"][n % 3]
        commit_file(repo, f"src/{name}.py", f"def {name}_{n}(): pass\n", f"Improve {name} handling step {n}")
    commits = history(repo)
    scratch = FileExpert(index_path=tmp_path / "scratch.sqlite")
    scratch.fit(TrainingData(commits=commits, snapshot=Snapshot(repo, commits[-1].hash)))
    older = FileExpert(index_path=tmp_path / "older.sqlite")
    older.fit(TrainingData(commits=commits[:-k], snapshot=Snapshot(repo, commits[-k - 1].hash)))
    retuned = older.tuning["window"] != scratch.tuning["window"]
    assert retuned == (k == 9)
    older.close()
    incremental = FileExpert.from_micro(older.to_micro())  # as the post-commit worker loads it
    incremental.index_path = tmp_path / "older.sqlite"
    incremental.update(TrainingData(commits=commits, snapshot=Snapshot(repo, commits[-1].hash)), commits[-k:])
    assert incremental.weights == scratch.weights and incremental.tuning == scratch.tuning
    assert incremental.calibration_curve == scratch.calibration_curve
    assert incremental.index.dump() == scratch.index.dump()
    q = Query(text="gamma handling")
    assert incremental.predict(q).items == scratch.predict(q).items


def test_index_rebuilt_when_missing_corrupt_or_stale(repo, tmp_path):
    build_history(repo)
    path = tmp_path / "file_expert.sqlite"
    expert = fitted(repo, history(repo), index_path=path)
    micro = expert.to_micro()
    expert.close()
    loaded = FileExpert.from_micro(micro)
    loaded.index_path = path
    assert loaded.index_ok()
    loaded.close()
    path.write_bytes(b"this is not a database" * 100)
    assert not _with(micro, path).index_ok()
    path.unlink()
    assert not _with(micro, path).index_ok()
    stale = FileIndex(path)
    stale.reset()
    stale.stamp()
    stale.close()
    assert not _with(micro, path).index_ok()
    rebuilt = _with(micro, path)
    rebuilt.build_index(TrainingData(commits=history(repo), snapshot=Snapshot(repo)))
    assert rebuilt.index_ok()
    assert rebuilt.predict(Query(text="login password"), top=1).items[0][0] == "src/auth.py"
    with pytest.raises(IndexUnusable):
        FileIndex.open_existing(path, "not-the-fingerprint")


def _with(micro, path) -> FileExpert:
    expert = FileExpert.from_micro(micro)
    expert.index_path = path
    return expert


def test_empty_history_and_query_give_empty_answers(repo):
    expert = FileExpert(weights=FIXED)
    expert.fit(TrainingData(commits=[], snapshot=Snapshot(repo)))
    assert expert.predict(Query(text="anything")).items == [] or all(
        p == "README.md" for p, _ in expert.predict(Query(text="anything")).items)
    assert sqlite3.sqlite_version
