"""The pytest plugin: ``pytest --git-ml-record`` records which tests run which functions of the
repository into ``.git-ml/local/test_map.json``, where the test and error experts find it, and
the tests that failed, with the files changed against HEAD, as a ``ci`` record of the tracked
store (source ``local``): the test expert learns which tests fail after changes to which files.

Installed with git-ml (entry point ``pytest11``) and inert unless asked: ``--git-ml-record``, or
``git_ml_record = true`` in the pytest ini. A run of some tests updates what is known of those
tests. Under pytest-xdist each worker records its own tests and the controller writes the map.
The plugin fails open: a problem is one line in the terminal summary, never a failed or changed
test run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

WORKER_KEY = "git_ml_test_map"
NOTES = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("git-ml")
    group.addoption("--git-ml-record", action="store_true", default=False,
                    help="record which tests run which code of this repository, for `git ml predict` "
                         "(.git-ml/local/test_map.json)")
    parser.addini("git_ml_record", type="bool", default=False,
                  help="record the test map on every run (as --git-ml-record)")


def pytest_configure(config: pytest.Config) -> None:
    if not (config.getoption("git_ml_record") or config.getini("git_ml_record")):
        return
    try:
        plugin = Recording(config)
    except Exception as exc:  # noqa: BLE001 - never fail a test run over git-ml
        _note(config, f"not recording the test map: {exc}")
        return
    config.pluginmanager.register(plugin, "git-ml-recording")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for message in config.stash.get(NOTES, []):
        terminalreporter.write_line(f"git-ml: {message}", yellow=True)


def _git(root: Any, *args: str) -> str:
    import subprocess

    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False).stdout


def _head(root: Any) -> str | None:
    return _git(root, "rev-parse", "--verify", "-q", "HEAD").strip() or None


def _changed_files(root: Any) -> list[str]:
    """Files changed against HEAD (staged or not) and new files git does not ignore."""
    changed = _git(root, "diff", "HEAD", "--name-only", "-z").split("\0")
    new = _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    return sorted({p for p in changed + new if p and not p.startswith(".git-ml/")})


def known_tests(collected: set[str], root: Any) -> Callable[[str], bool]:
    """Whether a test recorded before, and not run now, still exists: its file does, and if this
    session collected that file, the test was among what it collected (selected or not)."""
    files = {c.split("::", 1)[0] for c in collected}
    present: dict[str, bool] = {}

    def keep(test_id: str) -> bool:
        path = test_id.split("::", 1)[0]
        if path not in present:
            present[path] = (root / path).exists()
        return present[path] and (test_id in collected or path not in files)

    return keep


def _note(config: pytest.Config, message: str) -> None:
    """A line in the terminal summary (not a warning: ``-W error`` must not fail the run over it)."""
    config.stash.setdefault(NOTES, []).append(message)


class Recording:
    """Records one pytest session (or one xdist worker's share of it)."""

    def __init__(self, config: pytest.Config):
        from git_ml.capture.testmap import Recorder
        from git_ml.layout import find_layout

        self.config = config
        self.layout = find_layout(config.rootpath)
        if not self.layout.is_initialized():
            raise RuntimeError("git ml is not set up in this repository: run `git ml init` first")
        self.recorder = Recorder(self.layout.worktree)
        self.root = self.layout.worktree.resolve()
        self.worker_runs: list[str] = []
        self.failed: dict[str, str] = {}  # test id -> failed | error (the controller sees every report)
        self.collected: set[str] = set()  # every test id collected, selected or not (-k, --lf)

    def _test_id(self, nodeid: str) -> str:
        """``nodeid`` (relative to pytest's rootdir) with its file relative to the repository."""
        head, sep, rest = nodeid.partition("::")
        path = (self.config.rootpath / head).resolve()
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            rel = path.as_posix()
        return rel + sep + rest

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.collected.update(self._test_id(item.nodeid) for item in items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected.update(self._test_id(item.nodeid) for item in session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and not hasattr(report, "wasxfail"):
            outcome = "failed" if report.when == "call" else "error"
            self.failed.setdefault(self._test_id(report.nodeid), outcome)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Any):
        self.recorder.start()
        try:
            yield
        finally:
            self.recorder.stop(self._test_id(item.nodeid))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        text = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if text:
            self.worker_runs.append(text)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from git_ml.capture.testmap import encode_runs

        if hasattr(self.config, "workerinput"):  # an xdist worker: the controller writes
            try:
                self.config.workeroutput[WORKER_KEY] = encode_runs(self.recorder.runs, self.collected)  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001
                _note(self.config, f"the test map was not sent: {exc}")
            return
        try:
            self._write()
        except Exception as exc:  # noqa: BLE001
            _note(self.config, f"the test map was not written: {exc}")
        try:
            self._record_failures()
        except Exception as exc:  # noqa: BLE001
            _note(self.config, f"the failing tests were not recorded: {exc}")

    def _write(self) -> None:
        from filelock import FileLock

        from git_ml.capture.testmap import decode_runs, merge, read_test_map, write_test_map

        runs = dict(self.recorder.runs)
        collected = set(self.collected)
        for text in self.worker_runs:
            worker_runs, worker_collected = decode_runs(text)
            runs.update(worker_runs)
            collected |= worker_collected
        if not runs:
            return
        if self.recorder.skipped:
            _note(self.config, f"{self.recorder.skipped} tests ran under another profiler and were not recorded")
        target = self.layout.test_map_file
        target.parent.mkdir(parents=True, exist_ok=True)
        root = self.layout.worktree
        self.layout.state.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.layout.state / "test_map.lock"), timeout=30):
            new = merge(read_test_map(target), runs, revision=_head(root),
                        keep=known_tests(collected, root))
            write_test_map(target, new)
        _note(self.config, f"recorded which code {len(runs)} tests ran ({len(new.tests)} known) in "
                           f"{target.relative_to(root)}")

    def _record_failures(self) -> None:
        """One ``ci`` record of the failing tests. Its id comes from the commit, the changed
        files and the failures, so running the same failing state again records nothing new."""
        if not self.failed:
            return
        import hashlib
        import time

        from git_ml.records import CIResult, TestOutcome
        from git_ml.store import Store

        root = self.layout.worktree
        commit = _head(root)
        if commit is None:
            return
        changed = _changed_files(root)
        state = "\0".join([commit, *changed, "", *sorted(self.failed)])
        outcomes = [TestOutcome(test_id=t, outcome=o, file=t.split("::", 1)[0]) for t, o in sorted(self.failed.items())]
        record = CIResult(commit=commit, source="local", run_id=hashlib.sha1(state.encode()).hexdigest()[:16],
                          time=int(time.time()), outcomes=outcomes, changed=changed)
        if Store(self.layout).append_new("ci", [record.with_id()]):
            _note(self.config, f"recorded {len(outcomes)} failing tests against {len(changed)} changed files")
