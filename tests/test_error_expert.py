"""ErrorDiagnosisExpert: frame formats per language, path-suffix mapping, innermost project frame
first, answers without project frames, line ranges, past fixes, updates and storage."""

from __future__ import annotations

import msgspec

from git_ml.experts.base import Query, TrainingData
from git_ml.experts.error import ErrorDiagnosisExpert, PathIndex, literal_pattern, parse_frames
from git_ml.records import CommitRecord, FileChange, SessionError, SessionRecord
from expert_support import MemSnapshot, round_trip


CORE = """\
from app.util import parse_header


class Client:
    def send(self, raw):
        headers = parse_header(raw)
        return headers["host"]


def connect(url):
    if not url:
        raise ValueError("cannot connect to an empty url")
    return Client()
"""
UTIL = """\
def parse_header(raw):
    name, _, value = raw.partition(":")
    if not value:
        raise ValueError("invalid header value: %r" % raw)
    return {name: value}


def unused_helper():
    return None
"""
TREE = {
    "src/app/__init__.py": "",
    "src/app/core.py": CORE,
    "src/app/util.py": UTIL,
    "tests/test_util.py": "from app.util import parse_header\n\n\ndef test_parse_header_value():\n"
                          "    assert parse_header('a:b') == {'a': 'b'}\n",
    "web/src/lib/format.js": "export function format(x) {\n  if (!x) {\n    throw new Error('empty');\n"
                             "  }\n  return x;\n}\n",
    "svc/cart/cart.go": "package cart\n\nfunc Total(xs []int) int {\n\tvar s int\n\tfor _, x := range xs {\n"
                        "\t\ts += x\n\t}\n\treturn s / len(xs)\n}\n",
    "core/src/main/java/com/acme/Parser.java": "package com.acme;\n\npublic class Parser {\n"
                                               "    public int parse(String s) {\n        return s.length();\n"
                                               "    }\n}\n",
    "engine/src/lib.rs": "pub fn divide(a: u32, b: u32) -> u32 {\n    a / b\n}\n",
}


def commits() -> list[CommitRecord]:
    out = [CommitRecord(hash="c0", message="initial", files=[FileChange(path=p, status="A") for p in TREE])]
    out += [CommitRecord(hash=f"u{i}", message="header parsing", files=[
        FileChange(path="src/app/util.py"), FileChange(path="tests/test_util.py")]) for i in range(3)]
    return out


def fitted(**kw) -> ErrorDiagnosisExpert:
    e = ErrorDiagnosisExpert()
    e.fit(TrainingData(commits=commits(), snapshot=MemSnapshot(TREE), **kw))
    return e


NATIVE = """\
Traceback (most recent call last):
  File "/home/ci/build/repo/src/app/core.py", line 6, in send
    headers = parse_header(raw)
  File "/home/ci/build/repo/src/app/util.py", line 4, in parse_header
    raise ValueError("invalid header value: %r" % raw)
  File "/usr/lib/python3.12/site-packages/app/util.py", line 99, in <module>
ValueError: invalid header value: 'x'
"""


def test_python_native_traceback_maps_foreign_paths_innermost_project_frame_first():
    e = fitted()
    pred = e.predict(Query(text=NATIVE))
    assert [p for p, _ in pred.items[:2]] == ["src/app/util.py", "src/app/core.py"]
    loc = pred.metadata["locations"][0]
    assert (loc["start"], loc["end"], loc["function"]) == (1, 5, "parse_header")  # the enclosing function
    assert pred.metadata["locations"][1]["function"] == "Client.send"
    assert pred.metadata["ranges"]["src/app/util.py"] == "1-5"
    assert pred.metadata["detail"]["src/app/util.py"]["location"] == "src/app/util.py:1-5"


def test_pytest_long_format_frames_and_e_lines():
    e = fitted()
    tb = """\
    def send(self, raw):
>       headers = parse_header(raw)

src/app/core.py:6:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _

raw = 'x'

    def parse_header(raw):
        name, _, value = raw.partition(":")
        if not value:
>           raise ValueError("invalid header value: %r" % raw)
E           ValueError: invalid header value: 'x'

src/app/util.py:4: ValueError
"""
    frames = parse_frames(tb)
    assert [(f.path, f.line) for f in frames] == [("src/app/util.py", 4), ("src/app/core.py", 6)]
    pred = e.predict(Query(text=tb))
    assert pred.items[0][0] == "src/app/util.py"
    assert pred.metadata["locations"][0]["function"] == "parse_header"


def test_javascript_go_java_and_rust_frames():
    e = fitted()
    js = "Error: empty\n    at format (/builds/x/web/src/lib/format.js:3:11)\n    at Object.<anonymous> (node:internal/x.js:1:1)\n"
    go = ("panic: runtime error: integer divide by zero\n\ngoroutine 1 [running]:\nexample.com/svc/cart.Total(...)\n"
          "\t/go/src/example.com/svc/cart/cart.go:8 +0x1d\nmain.main()\n\t/usr/local/go/src/runtime/proc.go:250 +0x1\n")
    java = ("java.lang.NullPointerException\n\tat com.acme.Parser.parse(Parser.java:5)\n"
            "\tat java.base/java.lang.Thread.run(Thread.java:833)\n")
    rust = "thread 'main' panicked at engine/src/lib.rs:2:5:\nattempt to divide by zero\n"
    expected = {js: ("web/src/lib/format.js", "format"), go: ("svc/cart/cart.go", "Total"),
                java: ("core/src/main/java/com/acme/Parser.java", "Parser.parse"),
                rust: ("engine/src/lib.rs", "divide")}
    for text, (path, function) in expected.items():
        pred = e.predict(Query(text=text))
        assert pred.items[0][0] == path, text
        assert pred.metadata["locations"][0]["function"] == function


def test_path_suffix_mapping_prefers_the_longest_match_and_skips_foreign_libraries():
    idx = PathIndex(["src/app/util.py", "tools/util.py", "setup.py"])
    assert idx.resolve("/home/u/checkout/src/app/util.py") == "src/app/util.py"
    assert idx.resolve("C:\\work\\repo\\tools\\util.py") == "tools/util.py"
    assert idx.resolve("/usr/lib/python3/site-packages/other/util.py") is None  # two repo files named so
    assert idx.resolve("<frozen importlib._bootstrap>") is None
    assert idx.resolve("app/util.py") == "src/app/util.py"  # a relative trace, shorter than the repo path


def test_the_functions_the_crashing_frame_calls_are_suspects():
    e = fitted()
    tb = ('Traceback (most recent call last):\n  File "/ci/src/app/core.py", line 7, in send\n'
          '    return headers["host"]\nTypeError: \'NoneType\' object is not subscriptable\n')
    pred = e.predict(Query(text=tb))
    assert [p for p, _ in pred.items[:2]] == ["src/app/core.py", "src/app/util.py"]  # parse_header returned None
    assert pred.metadata["reasons"]["src/app/util.py"]["callees"] == 1.0
    assert any(loc["evidence"] == "callee:parse_header" for loc in pred.metadata["locations"])


ASSERTION = """\
    def test_parse_header_value():
>       assert parse_header('a:b') == {'a': 'c'}
E       AssertionError: assert {'a': 'b'} == {'a': 'c'}

tests/test_util.py:5: AssertionError
"""


def test_assertion_with_no_project_frame_still_answers():
    e = fitted()
    pred = e.predict(Query(text=ASSERTION))
    assert pred.items, "an answer even without a project frame"
    assert pred.items[0][0] == "src/app/util.py"  # the failing test's name and imports -> the code it tests
    assert "tests/test_util.py" not in [p for p, _ in pred.items[:1]]


def test_the_files_the_failing_test_ran_come_first_with_a_recorded_test_map(tmp_path):
    from git_ml.capture.testmap import merge, write_test_map

    e = fitted()
    tb = ASSERTION + "FAILED tests/test_util.py::test_parse_header_value - AssertionError\n"
    assert e.predict(Query(text=tb)).items[0][0] == "src/app/util.py"
    # the map says this test ran Client.send (core.py), and parse_header only through it was mocked away
    path = tmp_path / "test_map.json"
    write_test_map(path, merge(None, {"tests/test_util.py::test_parse_header_value": {("src/app/core.py", "Client.send", 5, 7)},
                                      "tests/test_other.py::test_x": {("src/app/util.py", "parse_header", 1, 5)}},
                               revision=None))
    e.test_map_path = path
    pred = e.predict(Query(text=tb))
    assert pred.items[0][0] == "src/app/core.py"
    assert pred.metadata["reasons"]["src/app/core.py"]["ran_by_failing_test"] == 1
    assert [c for _, c in pred.items] == sorted((c for _, c in pred.items), reverse=True)
    # a map that knows no failing test of the text changes nothing
    write_test_map(path, merge(None, {"tests/test_other.py::test_x": {("src/app/core.py", "connect", 10, 13)}},
                               revision=None))
    assert e.predict(Query(text=tb)).items[0][0] == "src/app/util.py"


def test_message_only_matches_string_literals_with_placeholders():
    e = fitted()
    pred = e.predict(Query(text="ValueError: cannot connect to an empty url"))
    assert pred.items[0][0] == "src/app/core.py"
    assert pred.metadata["locations"][0]["function"] == "connect"
    longest, regex = literal_pattern("invalid header value: %r for %s")
    assert longest == "invalid header value:"
    assert regex.search("ValueError: invalid header value: 'x' for y")
    assert literal_pattern("%s") is None and literal_pattern("utf-8") is None


def test_past_error_fix_pairs_from_sessions_are_used():
    sessions = [SessionRecord(session_id="s1", errors=[SessionError(
        message="KeyError: 'host' while sending a request", fixed_by=["src/app/util.py"])])]
    plain = fitted()
    learned = fitted(sessions=sessions)
    q = Query(text="KeyError: 'host' while sending a request")
    assert learned.fixes == [("KeyError: 'host' while sending a request", ["src/app/util.py"])]
    assert learned.predict(q).metadata["reasons"]["src/app/util.py"]["past"] == 1.0
    assert plain.predict(q).metadata["reasons"].get("src/app/util.py", {}).get("past", 0.0) < 1.0


def test_incremental_update_equals_fit_from_scratch():
    all_commits = commits()
    tree2 = dict(TREE, **{"src/app/util.py": UTIL + "\n\ndef extra():\n    raise KeyError('no such thing here')\n"})
    e = ErrorDiagnosisExpert()
    e.fit(TrainingData(commits=all_commits[:2], snapshot=MemSnapshot(TREE)))
    e.update(TrainingData(commits=all_commits, snapshot=MemSnapshot(tree2, "r2")), all_commits[2:])
    full = ErrorDiagnosisExpert()
    full.fit(TrainingData(commits=all_commits, snapshot=MemSnapshot(tree2, "r2")))
    assert e.model_data() == full.model_data()
    assert e.predict(Query(text="KeyError: no such thing here")).items[0][0] == "src/app/util.py"


def test_model_data_round_trips_through_msgspec_json():
    e = fitted()
    back = round_trip(e)
    assert back.predict(Query(text=NATIVE)).items == e.predict(Query(text=NATIVE)).items
    assert msgspec.json.encode(back.model_data()) == msgspec.json.encode(e.model_data())
