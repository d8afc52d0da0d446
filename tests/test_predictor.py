"""`git ml predict`: JSON contract, --batch with ids, --staged, --range, end to end."""

from __future__ import annotations

import io
import json

import pytest
from conftest import commit_file, git, run_gitml

from git_ml.capture.backfill import backfill
from git_ml.experts import registry
from git_ml.layout import GitMLError, find_layout
from git_ml.routing.predictor import Predictor
from git_ml.store import Store

KEYS = {"intent", "items", "contributing_experts", "disagreement_score", "confidence"}


def history(repo):
    commit_file(repo, "src/auth.py", "def check_password(): pass\n", "Add password check to login")
    commit_file(repo, "src/cache.py", "def expire(): pass\n", "Add cache expiry")
    for n in range(3):
        (repo / "src/cache.py").write_text(f"def expire(): return {n}\n")
        git(repo, "add", "src/cache.py")
        commit_file(repo, "tests/test_cache.py", f"def test_expire(): assert {n}\n", f"Cache entries expire early {n}")


@pytest.fixture
def trained(repo):
    history(repo)
    layout = find_layout(repo)
    layout.create()
    store = Store(layout)
    backfill(layout, store)
    registry.train_all(layout, store)
    return repo, Predictor.load(layout, store)


def test_predict_answers_with_the_contract(trained):
    _, predictor = trained
    answer = predictor.predict("login rejects the password", top=3)
    assert answer.intent == "implement_feature"
    assert answer.items[0].item == "src/auth.py"
    assert answer.items[0].experts == ["file_expert"]
    assert 0 < answer.items[0].confidence <= 1
    assert len(answer.items) <= 3
    assert answer.contributing_experts == ["file_expert"]


def test_staged_and_range_give_the_changed_files(trained):
    repo, predictor = trained
    (repo / "src/cache.py").write_text("def expire(): return 9\n")
    git(repo, "add", "src/cache.py")
    answer = predictor.predict(None, staged=True, experts=["file"])
    assert answer.intent == "review_change"
    assert answer.items[0].item == "tests/test_cache.py"
    answer = predictor.predict(None, rev_range="HEAD~4..HEAD~3", experts=["file"])  # "Add cache expiry"
    assert answer.items[0].item == "tests/test_cache.py"
    with pytest.raises(GitMLError):
        predictor.predict(None, rev_range="nope..HEAD")
    with pytest.raises(GitMLError):
        predictor.predict(None, rev_range="--output=x")


def test_untrained_experts_give_a_clear_error(repo):
    layout = find_layout(repo)
    layout.create()
    with pytest.raises(GitMLError, match="git ml train"):
        Predictor.load(layout, Store(layout)).predict("anything")


def test_batch_answers_each_line_with_its_id(trained):
    _, predictor = trained
    lines = [{"id": "a", "query": "password login"}, {"id": 2, "files": ["src/cache.py"], "expert": "file"},
             {"id": "bad"}, "not json"]
    raw = b"\n".join(json.dumps(x).encode() if not isinstance(x, str) else x.encode() for x in lines) + b"\n\n"
    out = [json.loads(line) for line in predictor.predict_batch(io.BytesIO(raw), top=2)]
    assert [o.get("id") for o in out] == ["a", 2, "bad", None]
    assert KEYS <= set(out[0]) and out[0]["items"][0]["item"] == "src/auth.py"
    assert out[1]["items"][0]["item"] == "tests/test_cache.py"
    assert "error" in out[2] and "error" in out[3] and out[3]["line"] == 4


def test_git_ml_predict_end_to_end(repo, on_path, tmp_path):
    history(repo)
    init = run_gitml(repo, "init", "--no-hooks")
    assert init.returncode == 0, init.stderr.decode()
    out = run_gitml(repo, "predict", "password check for login", "--format", "json", "--top", "2")
    assert out.returncode == 0, out.stderr.decode()
    answer = json.loads(out.stdout)
    assert set(answer) == KEYS
    assert answer["items"][0]["item"] == "src/auth.py"
    assert set(answer["items"][0]) >= {"item", "confidence", "experts"}
    text = run_gitml(repo, "predict", "password check for login")
    assert text.returncode == 0 and b"src/auth.py" in text.stdout
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "q1", "query": "cache expiry"}\n{"id": "q2", "files": ["src/cache.py"]}\n')
    out = run_gitml(repo, "predict", "--batch", str(batch))
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2"]
    out = run_gitml(repo, "predict", "--batch", "-", input=b'{"id": 7, "query": "login"}\n')
    assert json.loads(out.stdout)["id"] == 7
    bad = run_gitml(repo, "predict", "x", "--range", "nope..HEAD")
    assert bad.returncode == 1 and b"Traceback" not in bad.stderr and len(bad.stderr.splitlines()) == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"staged": True}, "nothing is staged"),
    ({"rev_range": "HEAD..HEAD"}, "the range HEAD..HEAD has no changes"),
    ({"rev_range": "HEAD"}, "not a revision range"),
    ({"query": ""}, "the query is empty"),
    ({"query": "x", "experts": ["bogus"]}, "unknown expert 'bogus' (valid: file, test, error, doc, refactor)"),
])
def test_empty_or_bad_input_is_a_one_line_error(trained, kwargs, message):
    _, predictor = trained
    with pytest.raises(GitMLError) as exc:
        predictor.predict(kwargs.pop("query", None), **kwargs)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_bad_range_error_is_clean(trained):
    _, predictor = trained
    with pytest.raises(GitMLError) as exc:
        predictor.predict(None, rev_range="nope..HEAD")
    assert "[" not in str(exc.value) and "bad revision 'nope..HEAD'" in str(exc.value)


def test_files_resolve_against_cwd_then_root_and_unknown_ones_get_a_note(trained):
    repo, predictor = trained
    notes = []
    answer = predictor.predict(None, files=["cache.py"], experts=["file"], cwd=repo / "src", note=notes.append)
    assert answer.items[0].item == "tests/test_cache.py" and notes == []
    answer = predictor.predict(None, files=["src/cache.py"], experts=["file"], cwd=repo / "src", note=notes.append)
    assert answer.items[0].item == "tests/test_cache.py" and notes == []
    predictor.predict(None, files=["nowhere.py"], experts=["file"], cwd=repo / "src", note=notes.append)
    assert len(notes) == 1 and "nowhere.py" in notes[0]


def test_a_missing_expert_is_noted_and_the_others_answer(trained):
    repo, _ = trained
    layout = find_layout(repo)
    layout.domain_expert_file("test").unlink()
    notes = []
    answer = Predictor.load(layout, Store(layout)).predict(None, files=["src/cache.py"], experts=["file", "test"],
                                                           note=notes.append)
    assert answer.contributing_experts == ["file_expert"]
    assert len(notes) == 1 and "test expert is missing" in notes[0]


def test_batch_names_an_unknown_expert(trained):
    _, predictor = trained
    out = json.loads(next(predictor.predict_batch(io.BytesIO(b'{"id": 1, "query": "x", "expert": "bogus"}\n'))))
    assert "unknown expert 'bogus'" in out["error"] and "refactor" in out["error"]


def test_cli_empty_input_and_relative_files(repo, on_path):
    history(repo)
    assert run_gitml(repo, "init", "--no-hooks").returncode == 0
    for args, message in [(["--staged"], b"nothing is staged"), (["--range", "HEAD..HEAD"], b"no changes"),
                          ([""], b"the query is empty")]:
        out = run_gitml(repo, "predict", *args, "--format", "json")
        assert out.returncode == 1 and message in out.stderr and len(out.stderr.splitlines()) == 1, out.stderr
    out = run_gitml(repo / "src", "predict", "--files", "cache.py", "--files", "gone.py", "-e", "file",
                    "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["items"][0]["item"] == "tests/test_cache.py"
    assert out.stderr.count(b"\n") == 1 and b"gone.py" in out.stderr


@pytest.mark.parametrize("func, its_test", [("add", "tests/test_add.py"), ("mul", "tests/test_mul.py")])
def test_staged_and_range_pass_their_diff_so_the_changed_function_picks_its_tests(repo, func, its_test):
    body = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
    commit_file(repo, "src/calc.py", body, "Add the calculator")
    commit_file(repo, "tests/test_add.py", "from src.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
                "Test addition")
    commit_file(repo, "tests/test_mul.py", "from src.calc import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
                "Test multiplication")
    layout = find_layout(repo)
    layout.create()
    store = Store(layout)
    backfill(layout, store)
    registry.train_all(layout, store)
    predictor = Predictor.load(layout, store)
    changed = body.replace(f"return a {'+' if func == 'add' else '*'} b", "return None")
    (repo / "src/calc.py").write_text(changed)
    git(repo, "add", "src/calc.py")
    assert predictor.predict(None, staged=True, experts=["test"]).items[0].item == its_test
    git(repo, "commit", "-q", "-m", f"Break {func}")
    assert predictor.predict(None, rev_range="HEAD~1..HEAD", experts=["test"]).items[0].item == its_test


def test_a_closed_predictor_leaves_no_index_open_and_can_answer_again(trained):
    _, first = trained
    with first as predictor:
        assert predictor.predict("login rejects the password", experts=["file"]).items
        file_expert = predictor.expert("file")
        assert file_expert._index is not None
    assert file_expert._index is None  # closed with the predictor
    with Predictor.load(first.layout, first.store) as again:
        assert again.predict("login rejects the password", experts=["file"]).items[0].item == "src/auth.py"
