import msgspec

from git_ml.records import (
    AggregatedPrediction,
    CommitRecord,
    ExpertMetrics,
    MicroExpert,
    PredictedItem,
    SessionRecord,
)


def test_ids_are_content_derived_and_stable():
    a = CommitRecord(hash="f" * 40, message="one").with_id()
    b = CommitRecord(hash="f" * 40, message="one, captured again later").with_id()
    assert a.id == b.id  # the same commit is the same fact
    assert a.id != CommitRecord(hash="e" * 40).with_id().id
    assert SessionRecord(session_id="x").with_id().id != SessionRecord(session_id="x", agent="codex").with_id().id


def test_unknown_fields_from_newer_clients_are_ignored():
    line = b'{"v": 2, "id": "c1", "hash": "abc", "brand_new_field": {"x": 1}}'
    rec = msgspec.json.decode(line, type=CommitRecord)
    assert rec.hash == "abc" and rec.v == 2


def test_defaults_are_omitted_on_disk():
    assert msgspec.json.encode(CommitRecord(hash="abc")) == b'{"hash":"abc"}'


def test_micro_expert_and_prediction_roundtrip():
    m = MicroExpert(expert_id="file_expert", expert_type="file", version="1.0.0", created_at="2026-01-01T00:00:00+00:00",
                    model_data={"w": [1, 2]}, metrics=ExpertMetrics(mrr=0.5, recall_at_k={10: 0.8}),
                    calibration_curve=[(0.1, 0.12)])
    back = msgspec.json.decode(msgspec.json.encode(m), type=MicroExpert)
    assert back == m
    answer = AggregatedPrediction(intent="fix_bug", items=[PredictedItem(item="a.py", confidence=0.7, experts=["file"])],
                                  contributing_experts=["file"], disagreement_score=0.0, confidence=0.7)
    data = msgspec.json.decode(msgspec.json.encode(answer))
    assert set(data) >= {"intent", "items", "contributing_experts", "disagreement_score", "confidence"}
    assert set(data["items"][0]) >= {"item", "confidence", "experts"}
