"""Which tests run which code: recorded while tests run, merged into ``.git-ml/local/test_map.json``.

A test that never runs a function cannot be broken by a change to it (import-time code aside), so
the map is the most direct evidence the test expert has; its static channels (imports, names,
co-change) are proxies for it. Recording is per function, not per line, with a profile hook
(``sys.setprofile``): werkzeug's suite took 10.0 s instead of 8.4 s, and its map is 0.3 MB.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import msgspec

from git_ml.layout import write_atomic
from git_ml.records import CoveredUnit, TestMap

Unit = tuple[str, str, int, int]  # (repo-relative path, qualified name, first line, last line)
_SKIP_PARTS = frozenset({"site-packages", "dist-packages", ".git-ml", ".tox", ".nox", "node_modules"})


class Recorder:
    """Records the repository's functions each test calls, one test at a time.

    ``start()`` before a test, ``stop(test_id)`` after it; ``runs`` maps each test id to the
    units it ran. A profiler already installed (cProfile, a debugger's) is left alone: the test
    runs unrecorded rather than silently breaking the user's tool."""

    def __init__(self, root: Path):
        self.root = str(root.resolve()) + os.sep
        self.runs: dict[str, set[Unit]] = {}
        self.skipped = 0  # tests not recorded because another profiler was active
        self._codes: set[CodeType] = set()
        self._units: dict[CodeType, Unit | None] = {}
        self._active = False

    def _on_event(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self._codes.add(frame.f_code)

    def start(self) -> None:
        if sys.getprofile() is not None:
            self.skipped += 1
            return
        self._codes = set()
        self._active = True
        threading.setprofile(self._on_event)
        sys.setprofile(self._on_event)

    def stop(self, test_id: str) -> None:
        if not self._active:
            return
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        self._active = False
        units = {u for u in map(self._unit, self._codes) if u is not None}
        self.runs[test_id] = self.runs.get(test_id, set()) | units

    def _unit(self, code: CodeType) -> Unit | None:
        try:
            return self._units[code]
        except KeyError:
            pass
        unit = None
        name = code.co_filename
        if name.startswith(self.root):
            rel = name[len(self.root):].replace(os.sep, "/")
            if not _SKIP_PARTS.intersection(rel.split("/")) and rel.endswith(".py"):
                lines = [n for _, _, n in code.co_lines() if n]
                qualname = getattr(code, "co_qualname", code.co_name)  # 3.11+
                unit = (rel, qualname, code.co_firstlineno, max(lines, default=code.co_firstlineno))
        self._units[code] = unit
        return unit


def encode_runs(runs: Mapping[str, Iterable[Unit]], collected: Iterable[str] = ()) -> str:
    """``runs`` and the test ids collected as JSON text (what a pytest-xdist worker sends its
    controller)."""
    return msgspec.json.encode({"runs": {t: sorted(us) for t, us in runs.items()},
                                "collected": sorted(collected)}).decode()


def decode_runs(text: str) -> tuple[dict[str, set[Unit]], set[str]]:
    raw = msgspec.json.decode(text, type=_WorkerRuns)
    return {t: set(us) for t, us in raw.runs.items()}, set(raw.collected)


class _WorkerRuns(msgspec.Struct):
    runs: dict[str, list[tuple[str, str, int, int]]] = {}
    collected: list[str] = []


def merge(old: TestMap | None, runs: Mapping[str, Iterable[Unit]], *, revision: str | None,
          keep: Callable[[str], bool] | None = None) -> TestMap:
    """``old`` with the tests of ``runs`` replaced by what they ran now. A test of ``old`` that
    did not run now stays unless ``keep(test_id)`` says it no longer exists."""
    by_test: dict[str, set[Unit]] = {}
    if old is not None:
        for unit in old.units:
            key = (unit.path, unit.name, unit.start, unit.end)
            for i in unit.tests:
                if 0 <= i < len(old.tests):
                    by_test.setdefault(old.tests[i], set()).add(key)
        if keep is not None:
            by_test = {t: us for t, us in by_test.items() if t in runs or keep(t)}
    for test_id, units in runs.items():
        by_test[test_id] = set(units)
    tests = sorted(by_test)
    covered: dict[Unit, list[int]] = {}
    for i, t in enumerate(tests):
        for unit in by_test[t]:
            covered.setdefault(unit, []).append(i)
    units = [CoveredUnit(path=u[0], name=u[1], start=u[2], end=u[3], tests=ts)
             for u, ts in sorted(covered.items())]
    return TestMap(revision=revision, recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   tests=tests, units=units)


def read_test_map(path: Path) -> TestMap | None:
    """The map at ``path``; None when it is missing or unreadable (it is only ever re-recorded)."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=TestMap)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


class CachedTestMap:
    """The map at a path as it is now: read again only when the file changes (an expert asked
    many questions in one process, ``git ml predict --batch``, reads it once)."""

    def __init__(self) -> None:
        self._key: tuple[str, int, int] | None = None
        self._map: TestMap | None = None

    def read(self, path: Path | None) -> TestMap | None:
        if path is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key != self._key:
            self._key, self._map = key, read_test_map(path)
        return self._map


def find_tests(test_map: TestMap, names: Iterable[tuple[str, str]]) -> set[int]:
    """Indices of the map's tests named by ``(test file, test id or bare test name)`` pairs: a
    FAILED line's ``TestX::test_y[1]`` matches that test, and a bare ``test_y`` (a traceback's
    frame, or an id the map does not hold) every class and parametrisation of that name."""

    def bare(rest: str) -> str:
        return rest.rsplit("::", 1)[-1].split("[", 1)[0]

    wanted = set(names)
    index = {test_id: i for i, test_id in enumerate(test_map.tests)}
    out = {index[f"{path}::{rest}"] for path, rest in wanted if f"{path}::{rest}" in index}
    loose = {(path, bare(rest)) for path, rest in wanted if f"{path}::{rest}" not in index}
    if loose:
        for i, test_id in enumerate(test_map.tests):
            path, _, rest = test_id.partition("::")
            if (path, bare(rest)) in loose:
                out.add(i)
    return out


def files_run_by(test_map: TestMap, tests: set[int]) -> dict[str, int]:
    """{path: how many of its functions the ``tests`` ran}."""
    out: dict[str, int] = {}
    for unit in test_map.units:
        if tests.intersection(unit.tests):
            out[unit.path] = out.get(unit.path, 0) + 1
    return out


def write_test_map(path: Path, test_map: TestMap) -> None:
    write_atomic(path, msgspec.json.encode(test_map))
