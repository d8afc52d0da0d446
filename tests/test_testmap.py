"""The test-map recorder and merge (capture/testmap.py)."""

from __future__ import annotations

import importlib.util
import json
import sys

from git_ml.capture.testmap import (
    CachedTestMap,
    Recorder,
    decode_runs,
    encode_runs,
    files_run_by,
    find_tests,
    merge,
    read_test_map,
    write_test_map,
)


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_recorder_keeps_the_repositorys_functions_each_test_calls(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "core.py").write_text(
        "def outer():\n    def inner():\n        return 1\n    return inner()\n\n"
        "class Box:\n    def size(self):\n        return 2\n\n"
        "def unused():\n    return 3\n")
    core = load_module(tmp_path / "pkg" / "core.py", "gitml_rec_core")
    r = Recorder(tmp_path)
    r.start()
    core.outer()
    core.Box().size()
    json.dumps([1])  # the standard library is outside the repository
    r.stop("tests/test_core.py::test_a")
    r.start()
    core.Box().size()
    r.stop("tests/test_core.py::test_b")
    names = lambda t: sorted(u[1] for u in r.runs[t])  # noqa: E731
    qualified = sys.version_info >= (3, 11)  # 3.10's code objects know only their bare name
    assert names("tests/test_core.py::test_a") == (["Box.size", "outer", "outer.<locals>.inner"] if qualified
                                                   else ["inner", "outer", "size"])
    size = next(u for u in r.runs["tests/test_core.py::test_b"])
    assert size == ("pkg/core.py", "Box.size" if qualified else "size", 7, 8)  # first and last line
    assert sys.getprofile() is None  # nothing left behind


def test_the_recorder_leaves_another_profiler_alone(tmp_path):
    def other(frame, event, arg):
        pass

    r = Recorder(tmp_path)
    sys.setprofile(other)
    try:
        r.start()
        r.stop("t::x")
        assert sys.getprofile() is other
    finally:
        sys.setprofile(None)
    assert r.skipped == 1 and r.runs == {}


def test_merge_replaces_the_tests_that_ran_and_keeps_the_others(tmp_path):
    a, b = ("m.py", "f", 1, 2), ("m.py", "g", 4, 5)
    first = merge(None, {"tests/test_x.py::t1": {a}, "tests/test_y.py::t2": {a, b}}, revision="r1")
    assert first.tests == ["tests/test_x.py::t1", "tests/test_y.py::t2"]
    assert [(u.name, u.tests) for u in first.units] == [("f", [0, 1]), ("g", [1])]
    second = merge(first, {"tests/test_y.py::t2": {b}, "tests/test_z.py::t3": {a}}, revision="r2",
                   keep=lambda t: not t.startswith("tests/test_x.py"))  # test_x.py was deleted
    assert second.revision == "r2"
    assert second.tests == ["tests/test_y.py::t2", "tests/test_z.py::t3"]
    assert [(u.name, u.tests) for u in second.units] == [("f", [1]), ("g", [0])]


def test_a_map_round_trips_and_a_corrupt_one_reads_as_none(tmp_path):
    m = merge(None, {"t.py::a": {("m.py", "f", 1, 2)}}, revision=None)
    write_test_map(tmp_path / "local" / "map.json", m)
    assert read_test_map(tmp_path / "local" / "map.json") == m
    (tmp_path / "bad.json").write_text('{"tests": 3}')
    assert read_test_map(tmp_path / "bad.json") is None
    assert read_test_map(tmp_path / "missing.json") is None
    runs = {"t.py::a": {("m.py", "f", 1, 2)}}
    assert decode_runs(encode_runs(runs, ["t.py::a", "t.py::b"])) == (runs, {"t.py::a", "t.py::b"})


def test_tests_are_found_by_their_id_or_by_their_bare_name():
    m = merge(None, {"tests/test_a.py::TestX::test_y[1]": {("a.py", "f", 1, 2)},
                     "tests/test_a.py::TestX::test_y[2]": {("b.py", "g", 1, 2)},
                     "tests/test_a.py::test_z": {("b.py", "g", 1, 2), ("b.py", "h", 4, 5)}}, revision=None)
    assert m.tests == ["tests/test_a.py::TestX::test_y[1]", "tests/test_a.py::TestX::test_y[2]", "tests/test_a.py::test_z"]
    assert find_tests(m, [("tests/test_a.py", "TestX::test_y[2]")]) == {1}  # a FAILED line's id
    assert find_tests(m, [("tests/test_a.py", "test_y")]) == {0, 1}  # a traceback frame's name
    assert find_tests(m, [("tests/test_a.py", "TestX::test_y[a/b")]) == {0, 1}  # a cut id: by its name
    assert find_tests(m, [("tests/test_b.py", "test_z")]) == set()
    assert files_run_by(m, {1, 2}) == {"b.py": 2}
    assert files_run_by(m, {0}) == {"a.py": 1}


def test_the_cached_map_is_read_again_only_when_the_file_changes(tmp_path):
    path = tmp_path / "map.json"
    cache = CachedTestMap()
    assert cache.read(path) is None and cache.read(None) is None
    write_test_map(path, merge(None, {"t.py::a": {("m.py", "f", 1, 2)}}, revision="r1"))
    first = cache.read(path)
    assert first is not None and cache.read(path) is first  # not decoded again
    write_test_map(path, merge(None, {"t.py::a": {("m.py", "f", 1, 2)}, "t.py::b": set()}, revision="r2"))
    assert cache.read(path).revision == "r2"
