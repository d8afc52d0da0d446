"""Registry: train from scratch, incremental update from new records, loading, locking."""

from __future__ import annotations

import os
import sys

import msgspec
import pytest
from conftest import commit_file

from git_ml.capture.backfill import backfill
from git_ml.experts import registry
from git_ml.experts.base import Query
from git_ml.layout import find_layout
from git_ml.records import MicroExpert
from git_ml.store import Store


def setup(repo):
    commit_file(repo, "src/auth.py", "def login(): pass\n", "Add login with password")
    commit_file(repo, "src/cache.py", "def expire(): pass\n", "Add cache expiry")
    layout = find_layout(repo)
    layout.create()
    store = Store(layout)
    backfill(layout, store)
    return layout, store


def test_expert_types_and_lazy_classes(monkeypatch):
    assert registry.EXPERT_TYPES == ("file", "test", "error", "doc", "refactor")
    assert registry.expert_class("file").expert_type == "file"
    assert registry.expert_class("nonexistent") is None
    monkeypatch.setitem(registry._CLASSES, "test", ("git_ml.no_such_module", "TestExpert"))
    assert registry.expert_class("test") is None
    assert "test" not in registry.available()
    assert "file" in registry.available()


def test_train_all_saves_experts_and_keeps_history(repo):
    layout, store = setup(repo)
    trained = registry.train_all(layout, store, only=["file"])
    assert [m.expert_type for m in trained] == ["file"]
    saved = msgspec.json.decode(layout.domain_expert_file("file").read_bytes(), type=MicroExpert)
    assert saved.trained_on_commits == 3
    assert saved.git_hash == trained[0].git_hash != ""
    assert registry.index_path(layout, "file").is_file()
    assert not list(layout.history.iterdir())
    registry.train_all(layout, store, only=["file"])
    assert len(list(layout.history.glob("file_expert_*.json"))) == 1
    experts = registry.load(layout, ["file", "test"], store)
    assert list(experts) == ["file"]
    assert experts["file"].predict(Query(text="login password"), top=1).items[0][0] == "src/auth.py"


def test_update_learns_only_new_records(repo):
    layout, store = setup(repo)
    everything = registry.available()
    assert "file" in everything
    assert registry.update(layout, store) == everything  # never trained: trains from scratch
    assert registry.update(layout, store) == []  # nothing new
    commit_file(repo, "src/billing.py", "def invoice(): pass\n", "Add invoice billing")
    backfill(layout, store)
    assert registry.update(layout, store) == everything
    expert = registry.load(layout, ["file"], store)["file"]
    assert expert.trained_on_commits == 4
    assert expert.predict(Query(text="invoice billing"), top=1).items[0][0] == "src/billing.py"
    assert len(list(layout.history.glob("*.json"))) == 0  # incremental updates keep no history copies


def test_update_skips_when_another_process_holds_the_lock(repo):
    layout, store = setup(repo)
    registry.train_all(layout, store, only=["file"])
    commit_file(repo, "src/x.py", "x = 1\n", "Add x")
    backfill(layout, store)
    from filelock import FileLock

    with FileLock(str(layout.state / registry.LOCK_FILE)):
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            assert pool.apply(_update_in_child, (str(repo),)) == []
    assert sorted(registry.update(layout, store)) == sorted(registry.available())  # file updated, others built


def _update_in_child(path: str) -> list[str]:
    layout = find_layout(path)
    return registry.update(layout, Store(layout), timeout=0.2)


def test_load_rebuilds_a_deleted_or_corrupt_index(repo):
    layout, store = setup(repo)
    registry.train_all(layout, store, only=["file"])
    index = registry.index_path(layout, "file")
    for damage in (lambda: index.unlink(), lambda: index.write_bytes(b"garbage" * 1000)):
        damage()
        expert = registry.load(layout, ["file"], store)["file"]
        assert expert.predict(Query(text="cache expiry"), top=1).items[0][0] == "src/cache.py"
        assert expert.index_ok()
        expert.close()
    assert registry.load(layout, ["file"], None)["file"].index_ok()


def test_unreadable_expert_file_is_skipped(repo):
    layout, store = setup(repo)
    layout.domain_expert_file("file").write_text("{not json")
    assert registry.load(layout, ["file"], store) == {}


def test_update_retrains_a_deleted_or_corrupt_expert_alone(repo):
    layout, store = setup(repo)
    registry.train_all(layout, store)
    layout.domain_expert_file("doc").unlink()
    layout.domain_expert_file("test").write_text("{not json")
    before = layout.domain_expert_file("file").stat().st_mtime_ns
    assert sorted(registry.update(layout, store)) == ["doc", "test"]  # nothing new: only the repair
    assert layout.domain_expert_file("file").stat().st_mtime_ns == before
    assert set(registry.load(layout, ["doc", "test"], store)) == {"doc", "test"}
    assert registry.update(layout, store) == []


def test_update_and_train_give_the_same_models(repo):
    layout, store = setup(repo)
    for n in range(4):
        commit_file(repo, f"src/mod{n}.py", f"def f{n}(): pass\n", f"Add module {n} with feature {n}")
        commit_file(repo, "tests/test_mods.py", f"def test_{n}(): pass\n", f"Test module {n}")
    backfill(layout, store)
    registry.train_all(layout, store)
    commit_file(repo, "src/auth.py", "def login(): return 1\n", "Fix login")
    commit_file(repo, "docs/auth.md", "# auth\n", "Document login")
    backfill(layout, store)
    assert set(registry.update(layout, store)) == set(registry.available())
    incremental = {t: registry.read_micro(layout.domain_expert_file(t)) for t in registry.available()}
    index_after_update = registry.load(layout, ["file"], store)["file"].index.dump()
    registry.train_all(layout, store)
    scratch = {t: registry.read_micro(layout.domain_expert_file(t)) for t in registry.available()}
    for t, micro in incremental.items():
        a, b = dict(micro.model_data), dict(scratch[t].model_data)
        if t == "file":  # a fresh random stamp of the index file each time it is written
            a.pop("fingerprint"), b.pop("fingerprint")
        assert a == b, t
        assert micro.trained_on_commits == scratch[t].trained_on_commits
    assert registry.load(layout, ["file"], store)["file"].index.dump() == index_after_update


def test_the_worker_update_that_crosses_the_tuning_window_re_tunes_the_file_expert(repo):
    # 3 + 119 commits: the file expert's tuning window is 112; 18 more make it 128 (a re-tune)
    layout, store = setup(repo)
    for n in range(137):
        if n == 119:
            backfill(layout, store)
            registry.train_all(layout, store)
            before = registry.read_micro(layout.domain_expert_file("file")).model_data["tuning"]["window"]
        name = ["alpha", "beta", "gamma"][n % 3]
        commit_file(repo, f"src/{name}.py", f"def {name}_{n}(): pass\n", f"Improve {name} handling step {n}")
    backfill(layout, store)
    assert "file" in registry.update(layout, store)
    updated = registry.read_micro(layout.domain_expert_file("file")).model_data
    registry.train_all(layout, store)
    scratch = registry.read_micro(layout.domain_expert_file("file")).model_data
    assert before == 112 and updated["tuning"]["window"] == scratch["tuning"]["window"] == 128
    assert updated["weights"] == scratch["weights"] and updated["tuning"] == scratch["tuning"]


def _file_model(layout) -> dict:
    micro = msgspec.json.decode(layout.domain_expert_file("file").read_bytes(), type=MicroExpert)
    data = {k: v for k, v in micro.model_data.items() if k != "fingerprint"}  # a new index's identity
    return {"data": data, "commits": micro.trained_on_commits, "hash": micro.git_hash}


@pytest.fixture
def single_threaded(monkeypatch):
    """As in the `git ml` process (a pytest-xdist worker runs threads of its own, which the
    child never touches: Python 3.12+'s warning about them is silenced here)."""
    import warnings

    monkeypatch.setattr(registry, "_os_threads", lambda: 1)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*multi-threaded.*fork", category=DeprecationWarning)
        yield


def test_no_child_is_forked_from_a_process_with_other_threads(repo, monkeypatch):
    import threading

    layout, store = setup(repo)
    assert registry._can_fork() == (len(os.listdir("/proc/self/task")) == 1 and sys.platform == "linux"
                                    and (os.cpu_count() or 1) >= 2)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert not registry._can_fork()
        forked = []
        real_fork = registry._fork_fit
        monkeypatch.setattr(registry, "_fork_fit", lambda *a: forked.append(real_fork(*a)) or forked[-1])
        trained = registry.train_all(layout, store)
        assert forked == [None] and "file" in [m.expert_type for m in trained]
    finally:
        stop.set()
        worker.join()


def test_the_file_expert_trained_in_a_child_equals_one_trained_in_process(repo, monkeypatch, single_threaded):
    layout, store = setup(repo)
    parent = os.getpid()
    forked = []
    real_fork = registry._fork_fit
    monkeypatch.setattr(registry, "_fork_fit", lambda *a: forked.append(real_fork(*a)) or forked[-1])
    trained = registry.train_all(layout, store)
    assert os.getpid() == parent
    assert forked and forked[0] is not None  # Linux with two cores or more: the child trained it
    assert [m.expert_type for m in trained] == list(registry.available())
    in_child = _file_model(layout)
    monkeypatch.setattr(registry, "_fork_fit", lambda *a: None)
    registry.train_all(layout, store)
    assert _file_model(layout) == in_child
    assert registry.load(layout, ["file"], store)["file"].predict(Query(text="login password"), top=1).items


def test_a_child_that_fails_leaves_the_training_to_the_parent(repo, monkeypatch, single_threaded):
    layout, store = setup(repo)
    parent = os.getpid()
    real_fit = registry._fit_one

    def fit(layout, t, data):
        if os.getpid() != parent:
            raise MemoryError("the child ran out of memory")
        return real_fit(layout, t, data)

    monkeypatch.setattr(registry, "_fit_one", fit)
    trained = registry.train_all(layout, store)
    assert trained[0].expert_type == "file" and trained[0].trained_on_commits == 3
    assert _file_model(layout)["commits"] == 3


def test_a_failing_training_stops_the_child_before_the_lock_goes(repo, monkeypatch, single_threaded):
    layout, store = setup(repo)
    parent = os.getpid()
    real_fit = registry._fit_one
    children = []
    real_fork = registry._fork_fit
    monkeypatch.setattr(registry, "_fork_fit", lambda *a: children.append(real_fork(*a)) or children[-1])

    def fit(layout, t, data):
        if os.getpid() == parent and t == "test":
            raise RuntimeError("the test expert broke")
        if os.getpid() != parent:
            import time
            time.sleep(30)  # a slow file expert, still running when the parent fails
        return real_fit(layout, t, data)

    monkeypatch.setattr(registry, "_fit_one", fit)
    with pytest.raises(RuntimeError):
        registry.train_all(layout, store)
    assert children and children[0] is not None
    with pytest.raises(ChildProcessError):  # already reaped: killed, not left running
        os.waitpid(children[0], os.WNOHANG)
    assert not layout.domain_expert_file("file").exists()
