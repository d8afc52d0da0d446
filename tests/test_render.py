"""Text output of predictions: items with the most precise place their voters gave."""

from rich.console import Console

from git_ml.evaluation.replay import EvalResult, PairedDifference, TaskResult
from git_ml.records import AggregatedPrediction, ExpertMetrics, PredictedItem
from git_ml.surfaces.render import render_eval, render_prediction


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


def test_eval_table_keeps_every_number_at_80_columns():
    anchor = {"n": 144, "mrr": 0.6184, "acc@1": 0.5, "acc@5": 0.7292, "rec@10": 0.6551, "map": 0.4652}
    metrics = ExpertMetrics(mrr=0.6371, acc_at_k={1: 0.5139, 5: 0.7986}, recall_at_k={10: 0.6701}, map=0.4671,
                            calibration_error=0.0412, test_examples=144)
    result = EvalResult(split=0.8, train_commits=1457, test_commits=365, cut="f62496120f63aa", items={"files": 144},
                        anchors={"files/bm25+knn+content": anchor, "files/pop": dict(anchor, mrr=0.3729)},
                        results=[TaskResult(expert="file", task="files", metrics=metrics,
                                            versus_best_anchor=PairedDifference(
                                                anchor="files/bm25+knn+content", mean=0.0187, low=-0.0104,
                                                high=0.0481, better=41, worse=33))])
    console = Console(record=True, width=80)  # what a pipe or CI log gets
    render_eval(result, console)
    out = console.export_text()
    assert "…" not in out
    for figure in ("0.618", "0.373", "0.637", "0.514", "0.799", "0.670", "0.467", "0.041", "144"):
        assert figure in out
    assert "bm25+knn+content" in out and "file expert" in out
    # the paired difference, item by item, with its interval
    assert "file - bm25+knn+content" in out and "+0.019" in out and "[-0.010, +0.048]" in out and "41/33" in out
