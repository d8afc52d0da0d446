#!/usr/bin/env python3
"""The error and test experts on the mutation benchmark, next to ``mutant_anchors.py``'s anchors.

``mutants.py`` injected faults into a real project and kept those its own tests catch; each
mutant gives an error case (first failing traceback -> the mutated file and function) and a test
case (the mutated file -> the test files that failed). The experts learn from the project's
history (``extract.py`` output) and its code at HEAD of the checkout (the mutants are reverted).
The test expert is asked three ways: the file alone; the file and a hunk header at the mutated
line (no content); the file and the real diff (``mutants.py``'s operator applied again, three
lines of context, as ``git diff`` shows it).

With ``--test-map``, the test and error experts are asked again with a map of which tests ran
which functions, recorded on the clean checkout by the pytest plugin (``pytest --git-ml-record``
writes ``.git-ml/local/test_map.json``), as a user who records it gets.

usage: bench_mutants.py MUTANTS.jsonl CHECKOUT HISTORY.jsonl --bench-dir DIR [--test-map FILE] [--json OUT]
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_common import load_module, to_record  # noqa: E402
from git_ml.experts.base import Query, TrainingData  # noqa: E402
from git_ml.experts.error import ErrorDiagnosisExpert  # noqa: E402
from git_ml.experts.snapshot import Snapshot  # noqa: E402
from git_ml.experts.test import TestExpert  # noqa: E402


def one_line_diff(m: dict) -> str:
    """The diff a user would have for the mutant: one hunk at the mutated line."""
    f, n = m["file"], m["mutated_line"]
    return f"diff --git a/{f} b/{f}\n--- a/{f}\n+++ b/{f}\n@@ -{n},1 +{n},1 @@\n"


def real_diff(m: dict, checkout: Path, M) -> str | None:
    """The ``git diff`` (three lines of context) a user would have for the mutant: the operator of
    ``mutants.py`` (module ``M``) applied again to the checkout's file; None if it cannot be found."""
    path = checkout / m["file"]
    src, cands = M.candidates(path)
    for op, fn, node in cands:
        if op == m["op"] and fn.name == m["function"] and fn.lineno == m["start"] and node.lineno == m["mutated_line"]:
            new = M.apply(src, op, node)
            lines = difflib.unified_diff(src.splitlines(keepends=True), new.splitlines(keepends=True),
                                         f"a/{m['file']}", f"b/{m['file']}", n=3)
            return f"diff --git a/{m['file']} b/{m['file']}\n" + "".join(lines)
    return None


def change_recall(pred, m: dict) -> dict[str, float]:
    """Change recall@k (a failing test file in the top k) and test recall@5."""
    order = [t for t, _ in pred.items]
    hits = [i for i, t in enumerate(order) if t in m["failing_tests"]]
    row = {f"recall@{k}": float(bool(hits and hits[0] < k)) for k in (1, 3, 5)}
    row["test_recall@5"] = len([i for i in hits if i < 5]) / len(m["failing_tests"])
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mutants")
    ap.add_argument("checkout", type=Path)
    ap.add_argument("history")
    ap.add_argument("--bench-dir", required=True, type=Path)
    ap.add_argument("--test-map", type=Path, help="a test map recorded on the clean checkout")
    ap.add_argument("--json")
    args = ap.parse_args()
    B = load_module(args.bench_dir, "baselines")
    M = load_module(args.bench_dir, "mutants")
    mutants = [json.loads(line) for line in open(args.mutants)]
    history = [json.loads(line) for line in open(args.history)]
    anchors = json.loads(subprocess.run(
        [sys.executable, str(args.bench_dir / "mutant_anchors.py"), args.mutants, str(args.checkout), args.history],
        capture_output=True, text=True, check=True).stdout)

    snap = Snapshot(args.checkout, "HEAD")
    data = TrainingData(commits=[to_record(c) for c in history], revision=snap.revision, snapshot=snap)
    t0 = time.perf_counter()
    error, tests = ErrorDiagnosisExpert(), TestExpert()
    error.fit(data)
    tests.fit(data)
    fit_s = time.perf_counter() - t0

    err_rows, fn_rows, test_rows, diff_rows, real_rows = [], [], [], [], []
    real_at: list[dict] = []  # per mutant, in order (a miss where no real diff could be made)
    by_format: dict[str, list[dict]] = {}
    real = {m["id"]: real_diff(m, args.checkout, M) for m in mutants}
    t0 = time.perf_counter()
    for m in mutants:
        pred = error.predict(Query(text=m["traceback"]), top=50)
        ranked = [p for p, _ in pred.items]
        row = B.metrics(ranked, [m["file"]])
        err_rows.append(row)
        by_format.setdefault(m.get("tb", "?"), []).append(row)
        locs = [loc for loc in pred.metadata["locations"] if loc.get("start")]
        hit = next((i for i, loc in enumerate(locs) if loc["file"] == m["file"]
                    and loc["start"] <= m["mutated_line"] <= loc["end"]), None)
        fn_rows.append({"fn@1": float(hit == 0), "fn_mrr": 1 / (hit + 1) if hit is not None else 0.0})
        test_rows.append(change_recall(tests.predict(Query(files=[m["file"]]), top=50), m))
        diff_rows.append(change_recall(tests.predict(Query(files=[m["file"]], diff=one_line_diff(m)), top=50), m))
        if real[m["id"]]:
            real_rows.append(change_recall(tests.predict(Query(files=[m["file"]], diff=real[m["id"]]), top=50), m))
        real_at.append(real_rows[-1] if real[m["id"]] else {"recall@3": 0.0})
    q_ms = (time.perf_counter() - t0) * 1000 / max(1, 2 * len(mutants) + len(real_rows))
    mapped: dict[str, list[dict]] = {}
    mapped_errors = []
    if args.test_map:
        tests.test_map_path = error.test_map_path = args.test_map
        for m in mutants:
            ranked = [p for p, _ in error.predict(Query(text=m["traceback"]), top=50).items]
            mapped_errors.append(B.metrics(ranked, [m["file"]]))
        for m in mutants:
            mapped.setdefault("file", []).append(change_recall(tests.predict(Query(files=[m["file"]]), top=50), m))
            diff = real[m["id"]]
            mapped.setdefault("real diff", []).append(
                change_recall(tests.predict(Query(files=[m["file"]], diff=diff), top=50), m) if diff
                else {"recall@3": 0.0})
    snap.close()
    scorable = [i for i, m in enumerate(mutants) if any(m["failing_tests"])]
    out = {
        "mutants": len(mutants), "fit_s": round(fit_s, 2), "query_ms": round(q_ms, 2),
        "error/expert": dict(B.avg(err_rows), **B.avg(fn_rows)),
        "error/expert by tb format": {k: B.avg(v) for k, v in by_format.items()},
        **({"error/expert + test map": B.avg(mapped_errors)} if mapped_errors else {}),
        "error/anchor innermost-frame": anchors.get("error/innermost-frame"),
        "error/anchor frame+bm25": anchors.get("error/frame+bm25"),
        "tests/expert (file)": B.avg(test_rows),
        "tests/expert (file + diff hunk)": B.avg(diff_rows),
        "tests/expert (file + real diff)": dict(B.avg(real_rows), n=len(real_rows)),
        # a collection error is recorded with an empty test path: no ranking can name it
        "tests/mutants without a failing test path": len(mutants) - len(scorable),
        "tests/expert recall@3 on the others (file, hunk, real diff)": [
            round(sum(rows[i]["recall@3"] for i in scorable) / max(1, len(scorable)), 3)
            for rows in (test_rows, diff_rows, real_at)],
        **{f"tests/expert + test map ({k})": B.avg(rows) for k, rows in mapped.items()},
        **({"tests/expert + test map recall@3 on the others (file, real diff)": [
            round(sum(rows[i]["recall@3"] for i in scorable) / max(1, len(scorable)), 3)
            for rows in mapped.values()]} if mapped else {}),
        "tests/anchor naming+cochange": anchors.get("tests/naming+cochange"),
        "tests/anchor naming": anchors.get("tests/naming"),
        "tests/anchor cochange": anchors.get("tests/cochange"),
    }
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
