"""The code graph: module names, import resolution per language, definitions with spans,
literals, names, reverse reachability, incremental rebuilds and storage."""

from __future__ import annotations

import msgspec

from git_ml.experts.codegraph import CodeGraph, parse_file, python_module
from expert_support import MemSnapshot


PY_TREE = {
    "src/pkg/__init__.py": "from .core import run\n",
    "src/pkg/core.py": """\
        import os
        import types
        from . import util
        from .util import helper as h

        class Engine:
            @property
            def name(self):
                return "engine"

            def start(self, x):
                if not x:
                    raise ValueError(f"cannot start engine {x!r} now")
                return h(x)

        def run():
            return Engine().start(1)
        """,
    "src/pkg/util.py": """\
        def helper(x):
            return x * 2
        """,
    "src/pkg/types.py": "Thing = int\n",
    "src/pkg/sub/__init__.py": "",
    "src/pkg/sub/deep.py": "from ..core import Engine\nfrom pkg import util\n",
    "tests/conftest.py": "import pytest\n",
    "tests/test_core.py": "from pkg.core import Engine\n\ndef test_start():\n    assert Engine().start(1) == 2\n",
    "tests/test_run.py": "import pkg\n\ndef test_run():\n    pkg.run()\n",
    "README.md": "# not code\n",
}


def test_python_module_names_follow_packages_not_folders():
    paths = set(PY_TREE)
    assert python_module("src/pkg/core.py", paths) == "pkg.core"
    assert python_module("src/pkg/__init__.py", paths) == "pkg"
    assert python_module("src/pkg/sub/deep.py", paths) == "pkg.sub.deep"
    assert python_module("tests/test_core.py", paths) == "test_core"  # no __init__: rootdir-style


def test_python_imports_resolve_relative_absolute_and_packages():
    g = CodeGraph.build(MemSnapshot(PY_TREE))
    assert g.imports["src/pkg/core.py"] == ["src/pkg/__init__.py", "src/pkg/util.py"]
    assert "src/pkg/types.py" not in g.imports["src/pkg/core.py"]  # `import types` is the stdlib's
    assert set(g.imports["src/pkg/sub/deep.py"]) >= {"src/pkg/core.py", "src/pkg/util.py"}
    assert g.imports["tests/test_core.py"] == ["src/pkg/core.py", "tests/conftest.py"]
    assert "README.md" not in g.facts


def test_dependents_are_transitive_with_distances():
    g = CodeGraph.build(MemSnapshot(PY_TREE))
    dep = g.dependents(["src/pkg/util.py"])
    assert dep["src/pkg/core.py"] == 1
    assert dep["tests/test_core.py"] == 2
    assert dep["tests/test_run.py"] == 3  # test_run -> pkg/__init__ -> core -> util
    assert "src/pkg/util.py" not in dep
    assert g.dependencies(["tests/test_core.py"])["src/pkg/util.py"] == 2


def test_python_definitions_spans_literals_and_names():
    g = CodeGraph.build(MemSnapshot(PY_TREE))
    f = g.facts["src/pkg/core.py"]
    defs = {d.name: (d.kind, d.start, d.end) for d in f.defs}
    assert defs["Engine"] == ("class", 6, 14)
    assert defs["Engine.name"] == ("method", 7, 9)  # the decorator line starts the span
    assert defs["Engine.start"] == ("method", 11, 14)
    assert defs["run"] == ("function", 16, 17)
    assert g.enclosing("src/pkg/core.py", 13).name == "Engine.start"
    assert g.enclosing("src/pkg/core.py", 5) is None
    calls = {d.name: d.calls for d in f.defs}
    assert calls["run"] == [".start", "Engine"]  # the name-level call graph; ".x" for obj.x(
    assert "start" in f.attrs and "Engine" not in f.attrs  # names used as attributes
    assert "ValueError" in calls["Engine.start"] and calls["Engine"] == []
    assert ("cannot start engine {x!r} now", 13) in f.strings
    assert {"Engine", "helper", "start", "ValueError"} <= set(f.names)


def test_unparsable_python_falls_back_to_a_scanner():
    facts = parse_file("old.py", b"import foo.bar\nfrom . import baz\n\ndef f(x):\n    print 'hi'\n\n"
                                 b"class K:\n    def m(self):\n        pass\n")
    assert facts is not None and facts.parsed is False
    assert facts.imports == ["foo.bar|", ".|baz"]
    assert {d.name: (d.start, d.end) for d in facts.defs} == {"f": (4, 5), "K": (7, 9), "K.m": (8, 9)}


def test_javascript_imports_and_brace_spans():
    snap = MemSnapshot({
        "web/src/app.ts": """\
            import { parse } from './lib/parse';
            const util = require("./util");
            export class App {
              start(x) {
                return parse(x);
              }
            }
            export function main() {
              return new App().start("{");
            }
            """,
        "web/src/lib/parse.js": "export const parse = (s) => {\n  return s;\n};\n",
        "web/src/util/index.js": "module.exports = {};\n",
        "web/src/app.test.ts": "import { App } from './app';\n",
    })
    g = CodeGraph.build(snap)
    assert g.imports["web/src/app.ts"] == ["web/src/lib/parse.js", "web/src/util/index.js"]
    assert g.dependents(["web/src/lib/parse.js"]) == {"web/src/app.ts": 1, "web/src/app.test.ts": 2}
    defs = {d.name: (d.start, d.end) for d in g.facts["web/src/app.ts"].defs}
    assert defs["App"] == (3, 7)
    assert defs["App.start"] == (4, 6)
    assert defs["main"] == (8, 10)  # the "{" inside a string does not open a block
    assert {d.name for d in g.facts["web/src/lib/parse.js"].defs} == {"parse"}


def test_go_imports_resolve_through_go_mod():
    snap = MemSnapshot({
        "go.mod": "module example.com/shop\n\ngo 1.22\n",
        "cart/cart.go": "package cart\n\nimport (\n\t\"fmt\"\n\t\"example.com/shop/money\"\n)\n\n"
                        "type Cart struct {\n\tItems []int\n}\n\nfunc (c *Cart) Total() money.Amount {\n"
                        "\treturn money.Sum(c.Items)\n}\n",
        "cart/cart_test.go": "package cart\n\nimport \"testing\"\n\nfunc TestTotal(t *testing.T) {\n}\n",
        "money/money.go": "package money\n\nfunc Sum(xs []int) Amount {\n\treturn 0\n}\n",
    })
    g = CodeGraph.build(snap)
    assert g.imports["cart/cart.go"] == ["money/money.go"]
    assert g.imports["cart/cart_test.go"] == ["cart/cart.go"]  # a test file sees its package
    assert g.dependents(["money/money.go"]) == {"cart/cart.go": 1, "cart/cart_test.go": 2}
    defs = {d.name: (d.kind, d.start, d.end) for d in g.facts["cart/cart.go"].defs}
    assert defs["Cart"] == ("class", 8, 10)
    assert defs["Cart.Total"] == ("method", 12, 14)


def test_java_and_rust_imports_and_definitions():
    snap = MemSnapshot({
        "src/main/java/com/acme/Parser.java": "package com.acme;\n\nimport com.acme.util.Text;\n\n"
                                              "public class Parser {\n    public int parse(String s) {\n"
                                              "        return Text.len(s);\n    }\n}\n",
        "src/main/java/com/acme/util/Text.java": "package com.acme.util;\n\npublic class Text {\n"
                                                 "    public static int len(String s) { return 0; }\n}\n",
        "src/lib.rs": "mod parser;\npub use crate::parser::parse;\n",
        "src/parser.rs": "use crate::util::clean;\n\npub fn parse(s: &str) -> usize {\n    clean(s)\n}\n",
        "src/util.rs": "pub fn clean(s: &str) -> usize {\n    0\n}\n",
    })
    g = CodeGraph.build(snap)
    assert g.imports["src/main/java/com/acme/Parser.java"] == ["src/main/java/com/acme/util/Text.java"]
    java = {d.name: (d.start, d.end) for d in g.facts["src/main/java/com/acme/Parser.java"].defs}
    assert java == {"Parser": (5, 9), "Parser.parse": (6, 8)}
    assert g.imports["src/lib.rs"] == ["src/parser.rs"]
    assert g.imports["src/parser.rs"] == ["src/util.rs"]
    assert g.dependents(["src/util.rs"]) == {"src/parser.rs": 1, "src/lib.rs": 2}
    assert {d.name: (d.start, d.end) for d in g.facts["src/parser.rs"].defs} == {"parse": (3, 5)}


def test_incremental_refresh_reparses_only_changed_files_and_equals_a_fresh_build():
    first = MemSnapshot(PY_TREE)
    g = CodeGraph.build(first)
    tree = dict(PY_TREE)
    tree["src/pkg/util.py"] = "import os\n\ndef helper(x):\n    return x\n"
    tree["src/pkg/extra.py"] = "from .util import helper\n"
    del tree["tests/test_run.py"]
    second = MemSnapshot(tree, "r2")
    g2 = g.refresh(second, ["src/pkg/util.py"])
    assert sorted(set(second.reads)) == ["src/pkg/extra.py", "src/pkg/util.py"]
    fresh = CodeGraph.build(MemSnapshot(tree, "r2"))
    assert g2.to_data() == fresh.to_data()
    assert g2.imports == fresh.imports
    assert "tests/test_run.py" not in g2.facts
    # a full rebuild against a previous graph re-reads but does not re-parse unchanged files
    assert CodeGraph.build(MemSnapshot(tree, "r2"), previous=g2).to_data() == fresh.to_data()


def test_graph_round_trips_through_msgspec_json_and_can_drop_fields():
    g = CodeGraph.build(MemSnapshot(PY_TREE))
    raw = msgspec.json.encode(g.to_data())
    back = CodeGraph.from_data(msgspec.json.decode(raw))
    assert back.to_data() == g.to_data()
    assert back.imports == g.imports
    assert back.enclosing("src/pkg/core.py", 14).name == "Engine.start"
    slim = g.to_data(keep=("imports",))
    assert all(not v[3] and not v[4] and not v[5] for v in slim.values())  # defs, strings, names
    assert CodeGraph.from_data(slim).imports == g.imports


CALLS = {
    "pkg/__init__.py": "",
    "pkg/low.py": """\
        def _force(x):
            return x

        def reader(x):
            return _force(x)

        def run(x):
            def helper():
                return 1
            return helper()
        """,
    "pkg/mid.py": """\
        from pkg import low as _low
        from pkg.low import reader as _read

        class File:
            def convert(self, x):
                return _read(x)

            def __exit__(self, *a):
                return None

        def open_stream(x):
            return _low.reader(x)

        def helper():
            return 2
        """,
    "pkg/top.py": """\
        from pkg.mid import open_stream

        def open_file(x):
            return open_stream(x)

        def far(x):
            return open_file(x)

        def farther(x):
            return far(x)
        """,
}


def test_call_graph_resolves_aliases_attribute_calls_and_walks_callers_with_decay():
    from git_ml.experts.codegraph import CallGraph

    g = CodeGraph.build(MemSnapshot(CALLS))
    assert ("_read", "reader") in g.facts["pkg/mid.py"].aliases
    calls = CallGraph(g)
    reach = calls.reach({"pkg/low.py::_force": 1.0}, hops=3)
    assert reach["pkg/low.py::reader"] == 0.5
    assert reach["pkg/mid.py::File.convert"] == 0.25  # through the alias ``_read``
    assert reach["pkg/mid.py::File"] == 0.25  # a class's users run its methods
    assert reach["pkg/mid.py::open_stream"] == 0.25  # through ``_low.reader(``
    assert reach["pkg/top.py::open_file"] == 0.125
    assert "pkg/top.py::far" not in reach  # beyond three hops


def test_call_graph_keeps_nested_functions_local_and_methods_off_bare_calls():
    from git_ml.experts.codegraph import CallGraph

    calls = CallGraph(CodeGraph.build(MemSnapshot(CALLS)))
    assert calls.is_local("pkg/low.py::run.helper")
    assert calls.reach({"pkg/low.py::run.helper": 1.0}) == {"pkg/low.py::run.helper": 1.0, "pkg/low.py::run": 1.0}
    # ``helper()`` in run names its own nested function, not pkg/mid.py's helper
    assert "pkg/low.py::run" not in calls.reach({"pkg/mid.py::helper": 1.0})
    assert calls.nodes_in("pkg/mid.py", [(9, 9)], CodeGraph.build(MemSnapshot(CALLS))) == ["pkg/mid.py::File.__exit__"]


def test_call_graph_callees_follow_aliases_and_halve_per_further_hop():
    from git_ml.experts.codegraph import CallGraph

    calls = CallGraph(CodeGraph.build(MemSnapshot(CALLS)))
    assert calls.callees("pkg/mid.py::File.convert", hops=1) == {"pkg/low.py::reader": 1.0}  # ``_read(``
    assert calls.callees("pkg/top.py::open_file", hops=2) == {"pkg/mid.py::open_stream": 1.0,
                                                                "pkg/low.py::reader": 0.5}


TABLES = {
    "pkg/__init__.py": "",
    "pkg/streams.py": """\
        def get_stdin():
            return 1

        def get_stdout():
            return 2

        class IntType:
            def convert(self, value):
                return int(value)

        streams = {
            "in": get_stdin,
            "out": get_stdout,
        }
        INT = IntType()
        LIMIT = 3
        """,
    "pkg/api.py": """\
        from pkg.streams import streams, INT

        def get_stream(name):
            opener = streams.get(name)
            return opener()

        def option(kind=None):
            return kind or INT

        def unrelated(streams_count):
            return streams_count
        """,
}


def test_module_level_tables_link_their_readers_to_what_they_hold():
    from git_ml.experts.codegraph import CallGraph

    g = CodeGraph.build(MemSnapshot(TABLES))
    tables = {t.name: (t.start, t.end, t.calls) for t in g.facts["pkg/streams.py"].tables}
    assert tables == {"streams": (11, 14, ["get_stdin", "get_stdout"]), "INT": (15, 15, ["IntType"])}
    refs = {d.name: d.refs for d in g.facts["pkg/api.py"].defs}
    assert refs == {"get_stream": ["streams"], "option": ["INT"], "unrelated": []}
    calls = CallGraph(g)
    reach = calls.reach({"pkg/streams.py::get_stdin": 1.0})
    assert reach["pkg/streams.py::streams"] == 1.0  # the table holds it: no call hop
    assert reach["pkg/api.py::get_stream"] == 0.5  # reads the table, calls what it holds
    reach = calls.reach({"pkg/streams.py::IntType.convert": 1.0})
    assert reach["pkg/streams.py::INT"] == 1.0  # an instance of the class
    assert reach["pkg/api.py::option"] == 0.5
    assert "pkg/api.py::unrelated" not in reach
    assert calls.nodes_in("pkg/streams.py", [(13, 13)], g) == ["pkg/streams.py::streams"]
    assert calls.callees("pkg/api.py::get_stream") == {}  # a table read is not a call of its own
    again = CodeGraph.from_data(msgspec.json.decode(msgspec.json.encode(g.to_data(keep=("imports", "defs")))))
    assert again.facts["pkg/streams.py"].tables == g.facts["pkg/streams.py"].tables
    assert again.facts["pkg/api.py"].defs == g.facts["pkg/api.py"].defs


def test_python_definitions_keep_their_parameter_names():
    g = CodeGraph.build(MemSnapshot({"m.py": """\
        class Box:
            def open(self, mode, *args, errors=None, **extra):
                return mode

        def make(cls, size, /, fill=0):
            return size
        """}))
    params = {d.name: d.params for d in g.facts["m.py"].defs}
    assert params == {"Box": [], "Box.open": ["mode", "errors"], "make": ["size", "fill"]}  # not *args, **extra


def test_calls_in_docstrings_are_not_calls():
    g = CodeGraph.build(MemSnapshot({"m.py": '''\
        def with_resource(x):
            """Use it like this::

                @cli.group()
                def sub(): helper()
            """
            return enter(x)  # a real call
        '''}))
    assert g.facts["m.py"].defs[0].calls == ["enter"]
