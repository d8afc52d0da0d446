"""The pytest plugin, run by a real pytest in a scratch repository (surfaces/pytest_plugin.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conftest import git, run_gitml

ROOT = Path(__file__).resolve().parents[1]

PROJECT = {
    "shop/__init__.py": "",
    "shop/core.py": "def total(xs):\n    return sum(price(x) for x in xs)\n\n"
                    "def price(x):\n    return x * 2\n\n"
                    "def render(name):\n    return HANDLERS[name]()\n\n"
                    "def _hello():\n    return 'hello'\n\nHANDLERS = {'hello': _hello}\n",
    "tests/test_total.py": "from shop.core import total\n\ndef test_total():\n    assert total([1, 2]) == 6\n\n"
                           "def test_empty():\n    assert total([]) == 0\n",
    "tests/test_render.py": "from shop import core\n\ndef test_render():\n    assert core.render('hello') == 'hello'\n",
}


@pytest.fixture
def project(repo, on_path):
    for path, text in PROJECT.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Add shop")
    assert run_gitml(repo, "init", "--no-hooks").returncode == 0
    return repo


def pytest_in(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """A real pytest with only this checkout's plugin (and xdist when asked) loaded."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{repo}", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "git_ml.surfaces.pytest_plugin",
                           "-p", "no:cacheprovider", *args], cwd=repo, capture_output=True, text=True,
                          env=env, timeout=120)


def test_map(repo: Path) -> dict:
    return json.loads((repo / ".git-ml" / "local" / "test_map.json").read_text())


test_map.__test__ = False


def ran(m: dict) -> dict[str, set[str]]:
    """{function: the tests that ran it}."""
    return {u[1]: {m["tests"][i] for i in u[4]} for u in m["units"]}


def test_recording_maps_each_test_to_the_functions_it_ran(project):
    out = pytest_in(project, "--git-ml-record")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "git-ml: recorded which code 3 tests ran (3 known) in .git-ml/local/test_map.json" in out.stdout
    m = test_map(project)
    assert m["revision"] == git(project, "rev-parse", "HEAD").strip()
    assert m["tests"] == ["tests/test_render.py::test_render", "tests/test_total.py::test_empty",
                          "tests/test_total.py::test_total"]
    by_fn = ran(m)
    assert by_fn["price"] == {"tests/test_total.py::test_total"}  # test_empty never prices anything
    assert by_fn["_hello"] == {"tests/test_render.py::test_render"}  # reached through a table only
    assert {u[0] for u in m["units"]} == {"shop/core.py", "tests/test_total.py", "tests/test_render.py"}
    assert git(project, "status", "--porcelain") == ""  # nothing tracked touched


def test_the_predicted_tests_for_a_diff_start_with_those_that_ran_the_changed_code(project):
    assert pytest_in(project, "--git-ml-record").returncode == 0
    core = project / "shop" / "core.py"
    core.write_text(core.read_text().replace("return 'hello'", "return 'bye'"))
    git(project, "add", "shop/core.py")
    out = run_gitml(project, "predict", "--staged", "--expert", "test", "--format", "json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["items"][0]["item"] == "tests/test_render.py"


def test_a_run_of_some_tests_keeps_what_is_known_of_the_others(project):
    assert pytest_in(project, "--git-ml-record").returncode == 0
    core = project / "shop" / "core.py"
    core.write_text(core.read_text().replace("    return x * 2\n", "    return x * 2\n\ndef unused():\n    pass\n"))
    assert pytest_in(project, "--git-ml-record", "tests/test_render.py").returncode == 0
    m = test_map(project)
    assert len(m["tests"]) == 3
    assert ran(m)["price"] == {"tests/test_total.py::test_total"}


def test_a_test_renamed_or_removed_leaves_the_map_and_a_deselected_one_stays(project):
    assert pytest_in(project, "--git-ml-record").returncode == 0
    assert pytest_in(project, "--git-ml-record", "-k", "test_total").returncode == 0  # -k: the rest stay
    assert len(test_map(project)["tests"]) == 3
    tests = project / "tests" / "test_total.py"
    tests.write_text(tests.read_text().replace("def test_empty", "def test_nothing"))
    assert pytest_in(project, "--git-ml-record", "tests/test_total.py").returncode == 0
    assert test_map(project)["tests"] == ["tests/test_render.py::test_render", "tests/test_total.py::test_nothing",
                                          "tests/test_total.py::test_total"]


def test_xdist_workers_record_and_the_controller_writes_one_map(project):
    pytest.importorskip("xdist")
    assert pytest_in(project, "--git-ml-record").returncode == 0
    serial = test_map(project)
    (project / ".git-ml" / "local" / "test_map.json").unlink()
    out = pytest_in(project, "-p", "xdist.plugin", "-n", "2", "--git-ml-record")
    assert out.returncode == 0, out.stdout + out.stderr
    parallel = test_map(project)
    assert parallel["tests"] == serial["tests"] and ran(parallel) == ran(serial)


def test_without_the_flag_or_in_a_repository_without_git_ml_nothing_is_recorded_and_tests_run(repo, tmp_path):
    for path, text in PROJECT.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    plain = pytest_in(repo)
    assert plain.returncode == 0 and not (repo / ".git-ml").exists()
    out = pytest_in(repo, "--git-ml-record", "-W", "error")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "git ml init" in out.stdout and not (repo / ".git-ml").exists()


def test_the_ini_option_turns_recording_on(project):
    (project / "pytest.ini").write_text("[pytest]\ngit_ml_record = true\n")
    assert pytest_in(project).returncode == 0
    assert len(test_map(project)["tests"]) == 3


def test_the_plugin_is_declared_for_pytest_to_load():
    # pyproject's entry point: pytest loads the plugin (inert until asked) wherever git-ml is installed
    eps = [ep for ep in metadata.entry_points(group="pytest11") if ep.name == "git_ml"]
    assert [ep.value for ep in eps] == ["git_ml.surfaces.pytest_plugin"]


def test_failing_tests_are_recorded_once_against_the_files_changed(project):
    core = project / "shop" / "core.py"
    core.write_text(core.read_text().replace("return x * 2", "return x * 3"))
    first, again = (pytest_in(project, "--git-ml-record") for _ in range(2))
    assert first.returncode == again.returncode == 1
    assert "git-ml: recorded 1 failing tests against 1 changed files" in first.stdout
    assert "failing tests" not in again.stdout  # the same failing state: nothing new
    lines = (project / ".git-ml" / "tracked" / "ci.jsonl").read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["commit"] == git(project, "rev-parse", "HEAD").strip()
    assert record.get("source", "local") == "local" and record["changed"] == ["shop/core.py"]
    assert [o["test_id"] for o in record["outcomes"]] == ["tests/test_total.py::test_total"]
    assert git(project, "status", "--porcelain") == " M shop/core.py\n"
    # the test expert learns it: a change to core.py -> test_total.py, by its failure
    git(project, "add", "shop/core.py")
    git(project, "commit", "-q", "-m", "Price change")
    assert run_gitml(project, "train", "--expert", "test").returncode == 0
    out = run_gitml(project, "predict", "--files", "shop/core.py", "--expert", "test", "--format", "json")
    item = next(i for i in json.loads(out.stdout)["items"] if i["item"] == "tests/test_total.py")
    assert item["detail"]["reasons"]["failures"] > 0
    assert item["detail"]["test_ids"][0] == "tests/test_total.py::test_total"


def test_xdist_failures_are_recorded_by_the_controller_alone(project):
    pytest.importorskip("xdist")
    core = project / "shop" / "core.py"
    core.write_text(core.read_text().replace("return x * 2", "return x * 3"))
    out = pytest_in(project, "-p", "xdist.plugin", "-n", "2", "--git-ml-record")
    assert out.returncode == 1, out.stdout + out.stderr
    lines = (project / ".git-ml" / "tracked" / "ci.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["outcomes"][0]["test_id"] == "tests/test_total.py::test_total"
