"""Text output of predictions: items with the most precise place their voters gave."""

from rich.console import Console

from git_ml.records import AggregatedPrediction, PredictedItem
from git_ml.surfaces.render import render_prediction


def _text(items):
    console = Console(record=True, width=160)
    render_prediction(AggregatedPrediction(intent="debug_error", items=items, contributing_experts=["error_expert"],
                                           disagreement_score=0.25, confidence=0.5), console)
    return console.export_text()


def test_locations_functions_and_impacts_are_shown():
    out = _text([
        PredictedItem(item="src/a.py", confidence=0.9, experts=["error_expert"],
                      detail={"location": "src/a.py:10-20", "function": "parse"}),
        PredictedItem(item="src/b.py", confidence=0.4, experts=["refactor_expert"],
                      detail={"impacts": ["imports", "tests"]}),
        PredictedItem(item="src/c.py", confidence=0.1, experts=["file_expert"]),
    ])
    assert "src/a.py:10-20  (parse)" in out
    assert "src/b.py  [imports, tests]" in out
    assert "src/c.py" in out and "intent: debug_error" in out and "disagreement 0.25" in out


def test_no_items_says_so():
    assert "no prediction" in _text([])


def test_expert_ids_are_shown_short_and_whole():
    sid = "0f9e8d7c-1111-2222-3333-444455556666"
    out = _text([PredictedItem(item="src/a.py", confidence=0.9, experts=["file_expert", f"episode_{sid}"])])
    assert "file, episode 0f9e8d7c" in out and "…" not in out
