"""Voting: weighted sums, voters kept, disagreement that grades partial agreement."""

from git_ml.records import ExpertMetrics, ExpertPrediction
from git_ml.routing.vote import aggregate, average_overlap, disagreement, weight_from_metrics


def pred(eid, items):
    return ExpertPrediction(expert_id=eid, expert_type=eid, items=items)


def test_weighted_vote_ranks_and_keeps_voters():
    a = pred("file_expert", [("x.py", 0.6), ("y.py", 0.3)])
    b = pred("test_expert", [("y.py", 0.5), ("t.py", 0.4)])
    out = aggregate([a, b], {"file_expert": 1.0, "test_expert": 1.0}, top=5, intent="fix_bug")
    assert [i.item for i in out.items] == ["y.py", "x.py", "t.py"]
    assert out.items[0].experts == ["file_expert", "test_expert"]
    assert out.items[0].confidence == round(1 - 0.7 * 0.5, 4)  # noisy-OR of the two votes
    assert out.contributing_experts == ["file_expert", "test_expert"]
    assert out.intent == "fix_bug"
    tie = [pred("file_expert", [("x.py", 0.5)]), pred("test_expert", [("y.py", 0.5)])]
    assert aggregate(tie, {"file_expert": 3.0}, top=1).items[0].item == "x.py"  # weights break ties
    assert aggregate(tie, {"test_expert": 3.0}, top=1).items[0].item == "y.py"


def test_shown_confidence_never_rises_down_the_list():
    # a heavy expert's 0.5 outweighs a light one's 0.62 in the vote, but the list is by confidence
    a = pred("file_expert", [("a.py", 0.5), ("b.py", 0.45)])
    b = pred("episode_1", [("c.py", 0.62)])
    out = aggregate([a, b], {"file_expert": 2.0, "episode_1": 0.5}, top=5)
    shown = [i.confidence for i in out.items]
    assert shown == sorted(shown, reverse=True) and out.items[0].item == "c.py"


def test_disagreement_only_among_experts_answering_the_same_question():
    files = pred("file_expert", [("src/a.py", 0.5)])
    tests = ExpertPrediction(expert_id="test_expert", expert_type="test", items=[("tests/t.py", 0.5)])
    docs = ExpertPrediction(expert_id="doc_expert", expert_type="doc", items=[("docs/a.md", 0.5)])
    assert disagreement([files, tests, docs]) == 0.0  # three questions, no overlap expected
    out = aggregate([files, tests, docs], top=5)
    assert out.disagreement_score == 0.0 and out.confidence == 0.5
    episode = ExpertPrediction(expert_id="episode_x", expert_type="episode", items=[("src/b.py", 0.5)])
    assert disagreement([files, tests, episode]) == 1.0  # two answers to "which files"


def test_disagreement_is_graded():
    same = [pred("a", [("x", 0.5), ("y", 0.4)]), pred("b", [("x", 0.5), ("y", 0.4)])]
    swapped = [pred("a", [("x", 0.5), ("y", 0.4)]), pred("b", [("y", 0.5), ("x", 0.4)])]
    partial = [pred("a", [("x", 0.5), ("y", 0.4), ("z", 0.1)]), pred("b", [("x", 0.5), ("q", 0.4), ("r", 0.1)])]
    apart = [pred("a", [("x", 0.5)]), pred("b", [("y", 0.5)])]
    assert disagreement(same) == 0.0
    assert disagreement(apart) == 1.0
    assert disagreement(swapped) == 0.5  # same items, opposite order: half way
    assert 0.0 < disagreement(partial) < 1.0
    assert disagreement(same[:1]) == 0.0
    assert disagreement([pred("a", []), pred("b", [("x", 1.0)])]) == 0.0  # an empty answer is no vote
    assert average_overlap(["a", "b"], ["b", "a"]) == 0.5


def test_weights_from_metrics():
    assert weight_from_metrics(None) == 1.0
    assert weight_from_metrics(ExpertMetrics(mrr=0.6, test_examples=10)) == 1.2
    assert weight_from_metrics(ExpertMetrics(mrr=0.01, test_examples=10)) == 0.2
    assert weight_from_metrics(ExpertMetrics(mrr=0.6)) == 1.0  # never measured


def test_empty_vote():
    out = aggregate([], top=3)
    assert out.items == [] and out.confidence == 0.0 and out.disagreement_score == 0.0


def test_items_carry_what_their_voters_said_about_them():
    from git_ml.records import ExpertPrediction
    from git_ml.routing.vote import aggregate

    err = ExpertPrediction(expert_id="error_expert", expert_type="error", items=[("a.py", 0.9), ("b.py", 0.2)],
                           metadata={"detail": {"a.py": {"location": "a.py:10-20"}}})
    fil = ExpertPrediction(expert_id="file_expert", expert_type="file", items=[("a.py", 0.5)],
                           metadata={"detail": {"a.py": {"reasons": ["history"]}}})
    only = aggregate([err], top=2)
    assert only.items[0].detail == {"location": "a.py:10-20"} and only.items[1].detail == {}
    both = aggregate([err, fil], top=1)
    assert both.items[0].detail == {"error": {"location": "a.py:10-20"}, "file": {"reasons": ["history"]}}
