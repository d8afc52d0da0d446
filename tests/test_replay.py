"""Replay: no leakage across the cut, metrics right on hand-made rankings, anchors on the same items."""

from __future__ import annotations

import pytest
from conftest import commit_file

from git_ml.capture.git import log_commits
from git_ml.evaluation import anchors
from git_ml.evaluation.metrics import bootstrap_interval, expected_calibration_error, score_ranking
from git_ml.evaluation.replay import paired_difference, replay, sessions_before, split_history
from git_ml.experts.base import Expert
from git_ml.experts.snapshot import Snapshot
from git_ml.records import CommitRecord, FileChange, SessionRecord


def test_metrics_on_a_hand_made_ranking():
    m = score_ranking(["a", "b", "c", "d"], ["b", "d", "zz"])
    assert m["mrr"] == 0.5
    assert m["map"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert m["acc@1"] == 0.0 and m["acc@3"] == 1.0
    assert m["recall@3"] == pytest.approx(1 / 3) and m["recall@5"] == pytest.approx(2 / 3)
    assert m["precision@3"] == pytest.approx(1 / 3) and m["precision@1"] == 0.0
    assert score_ranking([], ["a"])["mrr"] == 0.0
    assert expected_calibration_error([(0.9, True), (0.9, False)]) == pytest.approx(0.4)
    assert expected_calibration_error([(1.0, True), (0.0, False)]) == 0.0


def commit(h, files, msg="change the parser module", author="dev", merge=False):
    return CommitRecord(hash=h * 40, author=author, message=msg, is_merge=merge,
                        files=[FileChange(path=p, status=s) for p, s in files])


def test_tasks_follow_the_bench_definitions():
    train = [commit("a", [("src/p.py", "A"), ("tests/test_p.py", "A"), ("README.md", "A")])]
    test = [commit("b", [("src/p.py", "M"), ("tests/test_p.py", "M"), ("README.md", "M"), ("src/new.py", "A")]),
            commit("c", [("src/p.py", "M")], author="dependabot[bot]"),
            commit("d", [("src/p.py", "M")], msg="x")]
    items = anchors.tasks(train, test)
    assert items["files"] == [("b" * 12, test[0].message, ["src/p.py", "tests/test_p.py", "README.md"])]
    assert items["tests"] == [("b" * 12, ["src/p.py"], ["tests/test_p.py"])]
    assert items["docs"] == [("b" * 12, ["src/p.py"], ["README.md"])]
    assert items["couple"] == [("b" * 12, ["src/p.py"], ["tests/test_p.py", "README.md"])]


def test_split_history_drops_merges():
    cs = [commit(str(i), [("f", "M")], merge=(i == 3)) for i in range(10)]
    train, test = split_history(cs, 0.8)
    assert len(train) == 7 and len(test) == 2 and all(not c.is_merge for c in train + test)


def test_sessions_before_the_cut_only():
    s = [SessionRecord(session_id="old", ended_at="2020-01-01T00:00:00Z"),
         SessionRecord(session_id="new", ended_at="2030-01-01T00:00:00+00:00"), SessionRecord(session_id="undated")]
    assert [x.session_id for x in sessions_before(s, 1_700_000_000)] == ["old"]


class Spy(Expert):
    """Records what it was trained on; predicts nothing useful."""

    expert_type = "file"
    seen: list = []

    def fit(self, data):
        Spy.seen.append(data)

    def update(self, data, new_commits, new_sessions=()):
        raise AssertionError("replay never updates")

    def predict(self, query, top=10):
        return self._prediction([("src/m0.py", 0.5)])

    def model_data(self):
        return {}

    def load_model_data(self, data):
        pass


def test_replay_has_no_leakage(repo):
    for n in range(20):
        commit_file(repo, f"src/m{n % 4}.py", f"v = {n}\n", f"Change module {n % 4} behaviour {n}")
    commits = list(log_commits(repo, ["HEAD"]))
    Spy.seen = []
    with Snapshot(repo) as snap:
        result = replay(commits, snap, split=0.8, only=["file"], make_expert=lambda t: Spy())
    train, test = split_history(commits, 0.8)
    data = Spy.seen[0]
    learned = {c.hash for c in data.commits}
    assert learned == {c.hash for c in train}
    assert not learned & {c.hash for c in test}
    assert data.snapshot.revision == train[-1].hash == result.cut
    held_out = {c.hash[:12] for c in test}
    assert result.items["files"] > 0
    assert result.test_commits == len(test) and result.train_commits == len(train)
    files = next(r for r in result.results if r.task == "files")
    assert files.metrics.test_examples == result.items["files"]
    assert 0.0 <= files.metrics.mrr <= 1.0
    assert set(files.metrics.anchors) >= {"files/pop", "files/bm25+knn+content"}
    assert all(h in held_out for h, *_ in anchors.tasks(train, test)["files"])


def test_replay_keeps_each_items_reciprocal_rank_for_paired_comparisons(repo):
    for n in range(20):
        commit_file(repo, f"src/m{n % 4}.py", f"v = {n}\n", f"Change module {n % 4} behaviour {n}")
    commits = list(log_commits(repo, ["HEAD"]))
    with Snapshot(repo) as snap:
        plain = replay(commits, snap, split=0.8, only=["file"])
        kept = replay(commits, snap, split=0.8, only=["file"], per_item=True)
    assert plain.item_rr == {}
    n = kept.items["files"]
    mine = kept.item_rr["file:files"]
    assert len(mine) == n and len(kept.item_rr["files/pop"]) == n
    files = next(r for r in kept.results if r.task == "files")
    assert abs(sum(mine) / n - files.metrics.mrr) < 1e-4  # the metric is rounded
    assert round(sum(kept.item_rr["files/pop"]) / n, 3) == kept.anchors["files/pop"]["mrr"]
    # Every task result, kept items or not, carries its difference from the best anchor.
    best = max(files.metrics.anchors, key=files.metrics.anchors.get)
    for result in (plain, kept):
        v = next(r for r in result.results if r.task == "files").versus_best_anchor
        assert v.anchor == best and v.low <= v.mean <= v.high and v.better + v.worse <= n
        theirs = kept.item_rr[best]
        assert v.mean == round(sum(a - b for a, b in zip(mine, theirs)) / n, 4)
        assert v.better == sum(a > b for a, b in zip(mine, theirs))


def test_paired_difference_and_its_interval():
    v = paired_difference([1.0, 0.5, 1.0, 0.25], [0.5, 0.5, 0.0, 0.25], "files/pop")
    assert (v.mean, v.better, v.worse) == (0.375, 2, 0)
    assert 0.0 <= v.low < v.mean < v.high <= 1.0  # means of four of the differences 0.5, 0, 1, 0
    assert bootstrap_interval([0.1] * 30) == pytest.approx((0.1, 0.1))  # no spread, no width
    assert bootstrap_interval([1.0, -1.0] * 50) == bootstrap_interval([1.0, -1.0] * 50)  # seeded
    low, high = bootstrap_interval([1.0, -1.0] * 50)
    assert low < 0 < high
    assert bootstrap_interval([]) == (0.0, 0.0)
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 0.5], "files/pop")


def test_replay_refuses_a_too_short_history(repo):
    with Snapshot(repo) as snap:
        with pytest.raises(ValueError):
            replay(list(log_commits(repo, ["HEAD"])), snap)


def test_git_ml_eval_end_to_end_stores_metrics(repo, on_path):
    import json

    import msgspec
    from conftest import run_gitml

    from git_ml.layout import find_layout
    from git_ml.records import MicroExpert

    for n in range(40):
        name = ["auth", "cache", "db", "cli"][n % 4]
        commit_file(repo, f"src/{name}.py", f"def {name}_{n}(): pass\n", f"Improve {name} handling, step {n}")
    assert run_gitml(repo, "init", "--no-hooks").returncode == 0
    out = run_gitml(repo, "eval", "--format", "json", "--expert", "file")
    assert out.returncode == 0, out.stderr.decode()
    result = json.loads(out.stdout)
    files = next(r for r in result["results"] if r["task"] == "files")
    assert files["metrics"]["test_examples"] == result["items"]["files"] > 0
    assert files["metrics"]["mrr"] > result["anchors"]["files/pop"]["mrr"]  # names in messages: easy
    saved = msgspec.json.decode(find_layout(repo).domain_expert_file("file").read_bytes(), type=MicroExpert)
    assert saved.metrics is not None and saved.metrics.mrr == files["metrics"]["mrr"]
    text = run_gitml(repo, "eval", "--expert", "file")
    assert text.returncode == 0 and b"bm25+knn+content" in text.stdout and b"file expert" in text.stdout
