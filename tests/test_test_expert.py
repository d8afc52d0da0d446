"""TestExpert: naming, the import graph (transitively), co-change, failures, diffs, must-run
tests, incremental updates and storage."""

from __future__ import annotations

import msgspec

from git_ml.experts.base import Query, TrainingData
from git_ml.capture.git import log_commits
from git_ml.experts.snapshot import Snapshot
from git_ml.experts.test import DEFAULT_WEIGHTS, FEATURES, TestExpert, changed_lines, diff_paths
from git_ml import records  # TestRun/TestOutcome by module: pytest would collect Test* names
from git_ml.records import CIResult, CommitRecord, FileChange, SessionRecord
from conftest import git
from expert_support import MemSnapshot, round_trip


def commit(h: str, *paths: str, status: str = "M", message: str = "change") -> CommitRecord:
    return CommitRecord(hash=h, message=message, files=[FileChange(path=p, status=status) for p in paths])


TREE = {
    "src/shop/__init__.py": "",
    "src/shop/cart.py": "from shop.money import add\n\nclass Cart:\n    def total(self):\n        return add(1, 2)\n",
    "src/shop/money.py": "def add(a, b):\n    return a + b\n\ndef round_cents(x):\n    return _fmt(x)\n\n"
                         "def _fmt(x):\n    return str(x)\n",
    "src/shop/report.py": "def render():\n    return ''\n",
    "tests/test_cart.py": "from shop.cart import Cart\n\ndef test_total():\n    assert Cart().total() == 3\n",
    "tests/test_checkout.py": "from shop.cart import Cart\n\ndef test_checkout():\n    Cart()\n",
    "tests/test_rounding.py": "from shop.money import round_cents\n\ndef test_round():\n    round_cents(1)\n",
    "tests/test_layout.py": "def test_layout():\n    pass\n",
}


def history() -> list[CommitRecord]:
    commits = [commit("c0", *TREE, status="A")]
    # report.py and test_layout.py always change together (no naming or import link)
    commits += [commit(f"r{i}", "src/shop/report.py", "tests/test_layout.py") for i in range(6)]
    commits += [commit(f"m{i}", "src/shop/money.py") for i in range(3)]
    commits += [commit(f"k{i}", "src/shop/cart.py", "tests/test_cart.py") for i in range(3)]
    return commits


def fitted(commits=None, tree=None, **kw) -> TestExpert:
    e = TestExpert()
    e.fit(TrainingData(commits=commits or history(), snapshot=MemSnapshot(tree or TREE), **kw))
    return e


def ranked(e: TestExpert, **query) -> list[str]:
    return [t for t, _ in e.predict(Query(**query), top=20).items]


def test_naming_convention_ranks_the_namesake_test_first():
    e = fitted()
    assert ranked(e, files=["src/shop/cart.py"])[0] == "tests/test_cart.py"


def test_import_graph_reaches_tests_transitively():
    e = fitted()
    pred = e.predict(Query(files=["src/shop/money.py"]), top=20)
    order = [t for t, _ in pred.items]
    # test_rounding imports money directly; test_checkout only through cart.py (distance 2)
    assert order.index("tests/test_rounding.py") < order.index("tests/test_checkout.py")
    assert pred.metadata["reasons"]["tests/test_checkout.py"]["imports"] == 0.5
    assert pred.metadata["reasons"]["tests/test_rounding.py"]["imports"] == 1.0
    assert "tests/test_layout.py" not in order[:3]


def test_co_change_links_a_test_with_no_name_or_import_in_common():
    e = fitted()
    pred = e.predict(Query(files=["src/shop/report.py"]), top=20)
    assert pred.items[0][0] == "tests/test_layout.py"
    # changed together in all 7 of report.py's commits: the confidence shrunk by its support, 7/(7+1)
    assert pred.metadata["reasons"]["tests/test_layout.py"]["cochange"] == 0.875


def test_changed_and_new_tests_are_always_selected_first():
    e = fitted()
    diff = ("diff --git a/tests/test_new.py b/tests/test_new.py\nnew file mode 100644\n--- /dev/null\n"
            "+++ b/tests/test_new.py\n@@ -0,0 +1,2 @@\n+def test_new():\n+    pass\n")
    pred = e.predict(Query(files=["src/shop/report.py", "tests/test_rounding.py"], diff=diff), top=5)
    assert [t for t, _ in pred.items[:2]] == ["tests/test_rounding.py", "tests/test_new.py"]
    assert all(c == 1.0 for _, c in pred.items[:2])
    assert pred.metadata["must_run"] == ["tests/test_rounding.py", "tests/test_new.py"]
    assert pred.metadata["detail"]["tests/test_rounding.py"]["must_run"] is True  # per item, for the vote
    assert len({t for t, _ in pred.items}) == len(pred.items)


def test_diff_hunks_name_the_changed_function_and_select_its_users():
    e = fitted()
    hunk = "--- a/src/shop/money.py\n+++ b/src/shop/money.py\n@@ -5,1 +5,1 @@\n-    return _fmt(x)\n+    return 0\n"
    assert changed_lines(hunk) == {"src/shop/money.py": [(5, 5)]}
    assert diff_paths(hunk) == (["src/shop/money.py"], [])
    pred = e.predict(Query(diff=hunk), top=5)
    assert pred.metadata["changed_names"] == ["round_cents"]
    assert pred.items[0][0] == "tests/test_rounding.py"
    assert pred.metadata["reasons"]["tests/test_rounding.py"]["changed"] == 1.0


def test_a_test_named_after_the_changed_class_is_its_namesake():
    # test_totals.py neither imports cart.py nor is named after it, but after Cart.total
    tree = {**TREE, "tests/test_totals.py": "def test_sum():\n    assert 1 + 2 == 3\n"}
    e = fitted(tree=tree)
    hunk = "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@ -5,1 +5,1 @@\n-        return add(1, 2)\n+        return 3\n"
    pred = e.predict(Query(diff=hunk), top=20)
    assert pred.metadata["reasons"]["tests/test_totals.py"]["naming"] == 1.0
    assert [t for t, _ in pred.items].index("tests/test_totals.py") < 3
    file_only = e.predict(Query(files=["src/shop/cart.py"]), top=20).metadata["reasons"]
    assert "naming" not in file_only.get("tests/test_totals.py", {})


def test_a_changed_private_helper_reaches_tests_through_its_callers():
    e = fitted()
    hunk = "--- a/src/shop/money.py\n+++ b/src/shop/money.py\n@@ -8,1 +8,1 @@\n-    return str(x)\n+    return x\n"
    pred = e.predict(Query(diff=hunk), top=5)
    assert pred.metadata["changed_names"] == ["_fmt", "round_cents"]  # the helper, then its caller
    assert pred.items[0][0] == "tests/test_rounding.py"


def test_recorded_failures_after_changes_to_a_file_are_learned():
    commits = history() + [commit("f1", "src/shop/report.py")]
    ci = [CIResult(commit="f1", outcomes=[records.TestOutcome(test_id="tests/test_rounding.py::test_round",
                                                     outcome="failed")])]
    sessions = [SessionRecord(session_id="s1", files_modified=["src/shop/report.py"],
                              test_runs=[records.TestRun(command="pytest", outcome="failed",
                                                 failed=["tests/test_rounding.py::test_round"])])]
    plain = fitted(commits)
    learned = fitted(commits, ci=ci, sessions=sessions)
    assert learned.failures["src/shop/report.py"] == {"tests/test_rounding.py": 2}
    ran = [SessionRecord(session_id="s2", files_modified=["src/shop/report.py"],
                         test_runs=[records.TestRun(command="pytest tests/test_checkout.py", outcome="passed",
                                                    targets=["tests/test_checkout.py"])])]
    assert fitted(commits, sessions=ran).failures["src/shop/report.py"] == {"tests/test_checkout.py": 0.25}
    # a local run (the pytest plugin) blames the files changed in the working tree, not HEAD's own
    local = [CIResult(commit="f1", changed=["src/shop/money.py"], outcomes=[
        records.TestOutcome(test_id="tests/test_cart.py::test_total", outcome="failed")])]
    assert fitted(commits, ci=local).failures == {"src/shop/money.py": {"tests/test_cart.py": 1}}
    pred = learned.predict(Query(files=["src/shop/report.py"]), top=5)
    assert "tests/test_rounding.py" in [t for t, _ in pred.items]
    assert pred.metadata["test_ids"]["tests/test_rounding.py"] == ["tests/test_rounding.py::test_round"]
    before = ranked(plain, files=["src/shop/report.py"])
    after = ranked(learned, files=["src/shop/report.py"])
    assert after.index("tests/test_rounding.py") < before.index("tests/test_rounding.py")


def test_weights_are_learned_from_the_repositorys_own_history():
    # Many commits in which only co-change predicts the test: the inner split must keep
    # co-change and may drop the channels that never help.
    tree = dict(TREE)
    commits = [commit("c0", *tree, status="A")]
    for i in range(40):
        commits.append(commit(f"x{i}", "src/shop/report.py", "tests/test_layout.py"))
    e = fitted(commits, tree)
    assert e.inner_items >= 8
    weights = dict(zip(("naming", "imports", "references", "cochange"), e.weights))
    assert weights["cochange"] > 0


def test_incremental_update_equals_fit_from_scratch():
    commits = history()
    old, new = commits[:8], commits[8:]
    tree2 = dict(TREE, **{"src/shop/money.py": TREE["src/shop/money.py"] + "\ndef fee():\n    return 1\n"})
    e = TestExpert()
    e.fit(TrainingData(commits=old, snapshot=MemSnapshot(TREE)))
    e.update(TrainingData(commits=commits, snapshot=MemSnapshot(tree2, "r2")), new)
    full = TestExpert()
    full.fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree2, "r2")))
    assert e.model_data() == full.model_data()


def test_model_data_round_trips_through_msgspec_json():
    e = fitted()
    back = round_trip(e)
    assert msgspec.json.encode(back.model_data()) == msgspec.json.encode(e.model_data())
    q = Query(files=["src/shop/money.py"])
    assert back.predict(q).items == e.predict(q).items


def test_a_change_deep_below_the_public_api_reaches_the_tests_of_that_api():
    tree = {
        "src/io/__init__.py": "",
        "src/io/_compat.py": "def _force(x):\n    return x\n\ndef get_stdin():\n    return _force(1)\n\n"
                             "def open_stream(name):\n    return get_stdin()\n",
        "src/io/utils.py": "from io import _compat as _c\n\ndef open_file(name):\n    return _c.open_stream(name)\n\n"
                           "def __getattr__(name):\n    raise AttributeError(name)\n",
        "tests/test_open_file.py": "from io.utils import open_file\n\ndef test_open():\n    open_file('-')\n",
        "tests/test_other.py": "def test_other():\n    pass\n",
        "tests/test_deprecated.py": "import io.utils\n\ndef test_old():\n    io.utils.old_name\n",
    }
    e = fitted(commits=[commit("c0", *tree, status="A")], tree=tree)
    hunk = "--- a/src/io/_compat.py\n+++ b/src/io/_compat.py\n@@ -2,1 +2,1 @@\n-    return x\n+    return None\n"
    pred = e.predict(Query(diff=hunk), top=5)
    assert {"_force", "get_stdin", "open_stream", "open_file"} <= set(pred.metadata["changed_names"])
    assert pred.items[0][0] == "tests/test_open_file.py"
    # a module-level __getattr__ names the module: the tests using it as an attribute
    hunk = "--- a/src/io/utils.py\n+++ b/src/io/utils.py\n@@ -7,1 +7,1 @@\n-    raise AttributeError(name)\n+    pass\n"
    pred = e.predict(Query(diff=hunk), top=5)
    assert [n for n in pred.metadata["changed_names"] if not n.startswith("param:")] == ["module:src/io/utils.py"]
    assert pred.metadata["reasons"]["tests/test_deprecated.py"]["changed"] == 1.0
    assert "changed" not in pred.metadata["reasons"].get("tests/test_other.py", {})


def test_a_test_folder_named_after_the_module_counts_as_its_namesake():
    from git_ml.experts.changes import naming_score

    assert naming_score("src/click/utils.py", "tests/test_utils.py") == 1.0
    assert naming_score("src/click/utils.py", "tests/test_utils/test_echo.py") == 0.8
    assert naming_score("src/click/utils.py", "tests/utils/test_echo.py") == 0.8
    assert naming_score("src/click/core.py", "tests/test_utils/test_echo.py") == 0.0
    assert naming_score("src/tests.py", "tests/test_other.py") < 0.8  # the top tests/ folder names nothing


def test_a_private_module_is_the_namesake_of_its_test():
    from git_ml.experts.test import namesake

    assert namesake("httpx/_client.py", "tests/client/test_client.py") == 1.0
    assert namesake("httpx/_models.py", "tests/models/test_url.py") == 0.8
    assert namesake("httpx/_client.py", "tests/test_utils.py") == 0.0
    assert namesake("pkg/__init__.py", "tests/test_init.py") < 1.0  # a package's __init__ is no "init"
    tree = {**TREE, "src/shop/_tax.py": "RATE = 1\n", "tests/test_tax.py": "def test_rate():\n    pass\n"}
    assert ranked(fitted(tree=tree), files=["src/shop/_tax.py"])[0] == "tests/test_tax.py"


def test_co_change_is_the_strongest_coupling_to_any_changed_file_not_diluted_by_the_others():
    e = fitted()
    alone = e.predict(Query(files=["src/shop/report.py"]), top=20).metadata["reasons"]["tests/test_layout.py"]
    both = e.predict(Query(files=["src/shop/report.py", "src/shop/money.py"]), top=20).metadata["reasons"]
    assert both["tests/test_layout.py"]["cochange"] == alone["cochange"] == 0.875


TAX_TREE = {**TREE, "src/shop/tax.py": "X = 1\n", "src/shop/fees.py": "Y = 1\n",
            "tests/test_a.py": "def test_a():\n    pass\n", "tests/test_b.py": "def test_b():\n    pass\n"}


def test_a_co_change_seen_once_counts_less_than_one_seen_often():
    # tax.py changed once after its creation, with test_a (2 of 2); fees.py five times, with
    # test_b in four (5 of 6): one lucky commit is weaker evidence than a habit
    commits = [commit("c0", *TAX_TREE, status="A"), commit("s1", "src/shop/tax.py", "tests/test_a.py")]
    commits += [commit(f"f{i}", "src/shop/fees.py", *(["tests/test_b.py"] if i else [])) for i in range(5)]
    reasons = fitted(commits, TAX_TREE).predict(Query(files=["src/shop/tax.py", "src/shop/fees.py"]),
                                                top=20).metadata["reasons"]
    assert reasons["tests/test_a.py"]["cochange"] == round(2 / 3, 3)
    assert reasons["tests/test_b.py"]["cochange"] == round(5 / 7, 3)


def test_a_test_that_changed_with_several_of_the_changed_files_sums_their_co_change():
    # test_b changed with both tax.py and fees.py, test_a only (if more often) with tax.py
    commits = [commit("c0", *TAX_TREE, status="A")]
    commits += [commit(f"a{i}", "src/shop/tax.py", "tests/test_a.py") for i in range(3)]
    commits += [commit(f"b{i}", "src/shop/tax.py", "tests/test_b.py") for i in range(2)]
    commits += [commit(f"c{i}", "src/shop/fees.py", "tests/test_b.py") for i in range(2)]
    commits += [commit(f"d{i}", "src/shop/fees.py") for i in range(3)]
    pred = fitted(commits, TAX_TREE).predict(Query(files=["src/shop/tax.py", "src/shop/fees.py"]), top=20)
    a, b = pred.metadata["reasons"]["tests/test_a.py"], pred.metadata["reasons"]["tests/test_b.py"]
    assert a["cochange"] > b["cochange"]  # the strongest single coupling favours test_a ...
    assert b["cochanges"] > a["cochanges"]  # ... the coupling to the whole change, test_b


def test_a_function_held_in_a_module_level_table_reaches_the_tests_of_its_readers():
    tree = {
        "src/io/__init__.py": "",
        "src/io/_compat.py": "def get_stdin():\n    x = 1\n    return x\n\nstreams = {\n    'stdin': get_stdin,\n}\n",
        "src/io/utils.py": "from io._compat import streams\n\ndef get_stream(name):\n    return streams[name]()\n",
        "tests/test_stream.py": "from io.utils import get_stream\n\ndef test_stream():\n    get_stream('stdin')\n",
        "tests/test_compat.py": "import io._compat\n\ndef test_other():\n    pass\n",
    }
    e = fitted(commits=[commit("c0", *tree, status="A")], tree=tree)
    hunk = "--- a/src/io/_compat.py\n+++ b/src/io/_compat.py\n@@ -2,1 +2,1 @@\n-    x = 1\n+    x = 2\n"
    pred = e.predict(Query(diff=hunk), top=5)
    assert {"get_stdin", "streams", "get_stream"} <= set(pred.metadata["changed_names"])
    assert pred.items[0][0] == "tests/test_stream.py"
    assert pred.metadata["reasons"]["tests/test_stream.py"]["changed"] == 1.0


def test_diff_lines_are_the_added_and_removed_lines_not_their_context():
    diff = ("diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -10,6 +10,6 @@ def f():\n"
            " x = 1\n y = 2\n-    return g(\n-        y)\n+    return None\n+\n z = 3\n\n"
            "@@ -40,3 +40,2 @@\n a\n-b\n c\n"
            "diff --git a/b.py b/b.py\n--- a/b.py\n+++ b/b.py\n@@ -7,1 +7,1 @@\n"
            "diff --git a/c.py b/c.py\n--- /dev/null\n+++ b/c.py\n@@ -0,0 +1,2 @@\n+--- not a header\n++++ nor this\n")
    assert changed_lines(diff) == {"a.py": [(12, 13), (40, 40)],  # a removal alone: the line before it
                                   "b.py": [(7, 7)],  # a bare hunk header: its range
                                   "c.py": [(1, 2)]}


def test_a_parameter_of_the_changed_function_favours_the_tests_passing_it():
    tree = {
        "src/io/__init__.py": "",
        "src/io/core.py": "def _wrap(stream, errors):\n    if errors is None:\n        errors = 'replace'\n"
                          "    return stream\n\ndef open_file(name, errors=None):\n    return _wrap(name, errors)\n\n"
                          "def show(name):\n    return _wrap(name, None)\n",
        "tests/test_via_open.py": "from io.core import open_file\n\ndef test_open():\n    open_file('-', errors='x')\n",
        "tests/test_show.py": "from io.core import show\n\ndef test_show():\n    show('x')\n",
        "tests/test_other.py": "def test_other():\n    errors = []\n",
    }
    e = fitted(commits=[commit("c0", *tree, status="A")], tree=tree)
    for diff in ("--- a/src/io/core.py\n+++ b/src/io/core.py\n@@ -2,3 +2,3 @@\n     if errors is None:\n"
                 "-        errors = 'replace'\n+        errors = 'strict'\n     return stream\n",
                 "--- a/src/io/core.py\n+++ b/src/io/core.py\n@@ -3,1 +3,1 @@\n"):  # a bare hunk header too
        pred = e.predict(Query(diff=diff), top=5)
        assert "param:errors" in pred.metadata["changed_names"]
        assert [t for t, _ in pred.items[:2]] == ["tests/test_via_open.py", "tests/test_show.py"]
        assert "changed" not in pred.metadata["reasons"].get("tests/test_other.py", {})  # it reaches nothing


def test_a_testing_package_inside_the_library_is_code_to_test_not_a_test_to_run():
    from git_ml.experts.changes import is_code, is_test

    assert not is_test("sphinx/testing/util.py") and is_code("sphinx/testing/util.py")
    assert not is_test("django/test/utils.py")
    assert is_test("tests/roots/conf.py") and is_test("testing/python/collect.py")  # a suite's folder
    assert is_test("src/pkg/tests/helpers.py") and is_test("sphinx/testing/test_util.py")
    tree = {**TREE, "src/shop/testing/__init__.py": "",
            "src/shop/testing/fixtures.py": "from shop.cart import Cart\n\ndef make():\n    return Cart()\n",
            "tests/test_fixtures.py": "from shop.testing.fixtures import make\n\ndef test_make():\n    make()\n"}
    commits = history() + [commit(f"f{i}", "src/shop/testing/fixtures.py", "tests/test_fixtures.py") for i in range(3)]
    e = fitted(commits, tree)
    pred = e.predict(Query(files=["src/shop/testing/fixtures.py"]), top=20)
    # the helper is what changed, not a test to run: its tests come first
    assert pred.metadata["must_run"] == [] and pred.items[0][0] == "tests/test_fixtures.py"
    assert "src/shop/testing/fixtures.py" not in [t for t, _ in pred.items]


def test_the_inner_split_reads_the_code_as_it_was_at_each_cut(repo):
    # report.py changes alone four times out of five, so co-change ties it to test_layout.py
    # only weakly; test_shop.py starts to import and call it only in the last commit. Read from
    # the last commit, the import and the call would point every inner item at test_shop.py and
    # switch those channels off; read at each cut, no test links to report.py by code and the
    # channels keep their weights.
    def commit_stream(n: int, files: dict[str, str]) -> str:
        blobs = "".join(f"M 100644 inline {p}\ndata {len(t)}\n{t}\n" for p, t in files.items())
        return (f"commit refs/heads/main\ncommitter Dev <dev@example.com> {1700000000 + n} +0000\n"
                f"data 7\nchange\n{'from refs/heads/main^0' + chr(10) if n == 0 else ''}{blobs}")

    stream = [commit_stream(0, {"src/shop/__init__.py": "", "src/shop/report.py": "def render():\n    return 0\n",
                                "tests/test_layout.py": "def test_layout():\n    pass\n",
                                "tests/test_shop.py": "def test_all():\n    pass\n"})]
    for i in range(1, 101):
        files = {"src/shop/report.py": f"def render():\n    return {i}\n"}
        if i % 5 == 0:
            files["tests/test_layout.py"] = f"def test_layout():\n    assert {i}\n"
        stream.append(commit_stream(i, files))
    stream.append(commit_stream(101, {"tests/test_shop.py": "from shop.report import render\n\n"
                                                            "def test_all():\n    render()\n"}))
    git(repo, "fast-import", "--quiet", input="".join(stream).encode())
    commits = list(log_commits(repo))
    with Snapshot(repo) as snap:
        e = TestExpert()
        e.fit(TrainingData(commits=commits, snapshot=snap))
    weights = dict(zip(FEATURES, e.weights))
    defaults = dict(zip(FEATURES, DEFAULT_WEIGHTS))
    assert e.inner_items >= 8
    assert weights["imports"] == defaults["imports"] and weights["references"] == defaults["references"]


# -- the recorded test map ---------------------------------------------------------------------


def write_map(path, tests, units):
    from git_ml.capture.testmap import write_test_map
    from git_ml.records import CoveredUnit, TestMap

    write_test_map(path, TestMap(tests=tests, units=[CoveredUnit(*u) for u in units]))
    return path


MONEY_HUNK = "--- a/src/shop/money.py\n+++ b/src/shop/money.py\n@@ -5,1 +5,1 @@\n-    return _fmt(x)\n+    return 0\n"


def test_the_tests_that_ran_the_changed_function_come_first(tmp_path):
    e = fitted()
    assert ranked(e, diff=MONEY_HUNK)[0] == "tests/test_rounding.py"
    # test_layout reaches round_cents through no import or name (a template string, a plugin hook):
    # only the recorded map knows it runs it; recorded at other line numbers, it matches by name
    e.test_map_path = write_map(tmp_path / "map.json",
                                ["tests/test_cart.py::test_total", "tests/test_layout.py::test_layout"],
                                [("src/shop/money.py", "add", 1, 2, [0]), ("src/shop/money.py", "round_cents", 40, 41, [1])])
    pred = e.predict(Query(diff=MONEY_HUNK), top=20)
    order = [t for t, _ in pred.items]
    assert order[0] == "tests/test_layout.py"
    assert order.index("tests/test_rounding.py") < order.index("tests/test_cart.py") or "tests/test_cart.py" not in order
    assert pred.metadata["reasons"]["tests/test_layout.py"]["ran_changed_code"] == 1
    assert pred.metadata["test_ids"]["tests/test_layout.py"] == ["tests/test_layout.py::test_layout"]
    assert [c for _, c in pred.items] == sorted((c for _, c in pred.items), reverse=True)


def test_a_changed_file_without_a_diff_selects_every_test_that_ran_its_code(tmp_path):
    e = fitted()
    e.test_map_path = write_map(tmp_path / "map.json",
                                ["tests/test_cart.py::test_total", "tests/test_layout.py::test_layout"],
                                [("src/shop/money.py", "add", 1, 2, [0]), ("src/shop/money.py", "round_cents", 4, 5, [1])])
    order = ranked(e, files=["src/shop/money.py"])
    assert set(order[:2]) == {"tests/test_cart.py", "tests/test_layout.py"}


def test_a_function_the_code_graph_does_not_know_matches_by_its_recorded_lines(tmp_path):
    e = fitted()
    e.test_map_path = write_map(tmp_path / "map.json", ["tests/test_layout.py::test_layout", "tests/test_cart.py::t"],
                                [("src/shop/money.py", "round_cents.<locals>.inner", 5, 5, [0]),
                                 ("src/shop/money.py", "round_cents", 4, 6, [1])])
    # by name the hunk is in round_cents (test_cart); "round_cents.inner" is unknown to the graph,
    # but round_cents is known: the name wins over the lines
    assert ranked(e, diff=MONEY_HUNK)[0] == "tests/test_cart.py"
    e.test_map_path = write_map(tmp_path / "map2.json", ["tests/test_layout.py::test_layout", "tests/test_cart.py::t"],
                                [("src/shop/money.py", "<lambda>", 5, 5, [0]), ("src/shop/money.py", "x", 1, 9, [1])])
    assert ranked(e, diff=MONEY_HUNK)[0] == "tests/test_layout.py"  # the innermost recorded span


def test_a_missing_corrupt_or_rewritten_map_is_read_as_it_is_now(tmp_path):
    e = fitted()
    plain = ranked(e, diff=MONEY_HUNK)
    e.test_map_path = tmp_path / "map.json"
    assert ranked(e, diff=MONEY_HUNK) == plain  # missing
    e.test_map_path.write_text("{not json")
    assert ranked(e, diff=MONEY_HUNK) == plain  # corrupt: ignored, never an error
    write_map(e.test_map_path, ["tests/test_layout.py::test_layout"], [("src/shop/money.py", "round_cents", 4, 5, [0])])
    import os
    os.utime(e.test_map_path, (1, 1))  # a new mtime whatever the clock's resolution
    assert ranked(e, diff=MONEY_HUNK)[0] == "tests/test_layout.py"
