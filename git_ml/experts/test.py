"""TestExpert: changed files (or a diff) -> the test files to run, best first.

Channels, each a feature in [0, 1] per (change, test file):

* ``naming``   the test is named after a changed file (``core.py`` ~ ``test_core.py``, ``FooTest``;
  a private module by its public name, ``_client.py`` ~ ``test_client.py``);
* ``imports``  the test imports a changed module, directly (1) or transitively (1/distance);
* ``references`` the test uses names the changed files define, or that files importing them
  define (1/(1 + distance)); rarer names weigh more;
* ``cochange`` the test changed together with a changed file in past commits (the confidence,
  shrunk by its support so that one lucky commit counts less than a habit; the strongest over the
  changed files: a change to two files needs the tests of each, and an average would dilute them);
  ``cochanges`` the same summed over the changed files (the one channel that can pass 1), for
  the test of the change as a whole (several changed files each with a namesake test tie on
  naming: the test that changed with most of them is the likelier one); ``recent`` the strongest
  with a half-life, so the project's current habits count most;
* ``failures`` the test failed after changes to these files (CI results, session test runs);
* ``prior``    how often the test file changes; ``recency`` how recently; ``words`` shared path words.

With a diff, the functions its changed lines touch are known (their spans come from the code
graph), and ``changed`` scores the tests that use those names, or the names of the functions
calling them or reading a module-level table holding them (half the weight per hop): the static
counterpart of per-test coverage, with a fixed share of the fusion (``DIFF_SHARE`` of the learned
weights' total) since history has no diffs to learn it from. Among the tests it reaches, those
naming a parameter of the changed function (``errors=``) count more. A test named after a changed
definition or the class around it is a namesake too (``Argument.human_readable_name`` ~
``test_arguments.py``).

Where the pytest plugin recorded which tests ran which functions (``pytest --git-ml-record``,
``.git-ml/local/test_map.json``), the tests that ran the changed code (the functions a diff
touches, or any function of a changed file) come before those that did not, each group in the
order of the fused score: a test that never ran the code can only fail through import-time code,
where a test reaching it through a template string or a plugin hook is seen by no static channel.
The map is read as it is when asked (never learned: the replay has no map of past code).

They are fused linearly with weights learned per repository on a rolling inner time split of its
own history (counts up to 50/65/80%, the commits after each cut scored against the code as it was
at the cut), so a channel that does not help there is switched off; a weight leaves its default
only for a clear gain there (``MIN_GAIN_ITEMS``). Changed or new test files are always selected
first.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from git_ml.capture.testmap import CachedTestMap
from git_ml.experts.base import Query, TrainingData
from git_ml.experts.changes import (
    HALF_LIFE,
    ChangeGraphExpert,
    CoChange,
    is_code,
    is_test,
    learn_weights,
    modified_existing,
    naming_score,
    path_words,
    inner_items,
    test_file,
    test_stem,
)
from git_ml.experts.codegraph import CallGraph, CodeGraph, is_dunder, module_name
from git_ml.records import CommitRecord, ExpertPrediction, TestMap

FEATURES = ("naming", "imports", "references", "cochange", "recent", "failures", "prior", "recency", "words",
            "cochanges")
DEFAULT_WEIGHTS = (1.0, 0.5, 0.5, 1.0, 0.5, 1.0, 0.25, 0.25, 0.25, 0.5)
MIN_INNER_ITEMS = 8
# The inner split has one to four hundred items: a weight leaves its default only when that gains
# more than three items' reciprocal rank there. Scored against the code at each cut (no longer the
# latest code, which knew the answers), the gains are smaller and noisier. Replay tests MRR at 0.8,
# mean over the bench's 11 corpora: 0.753 at 1 item, 0.752 to 0.757 from 1.5 to 5 (3: 0.757, no
# corpus lower than at 1), 0.752 at 8, where pytest falls below its anchor.
MIN_GAIN_ITEMS = 3.0
DIFF_SHARE = 0.5
MAX_TEST_IDS = 20  # more tests of one file ran the changed code: the file is the selection
CALLER_HOPS = 4
MODULE = "module:"  # a changed-name key standing for a module's own (module-level) code
PARAM = "param:"  # a changed-name key standing for a parameter of a changed function
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)
_DIFF_PATH = re.compile(r"^(?:\+\+\+ b/|--- a/|diff --git a/\S+ b/)(\S+)", re.M)


def diff_paths(diff: str | None) -> tuple[list[str], list[str]]:
    """(paths a unified diff touches, paths it adds) in order of appearance."""
    if not diff:
        return [], []
    touched = list(dict.fromkeys(p for p in _DIFF_PATH.findall(diff) if p != "/dev/null"))
    added = re.findall(r"^--- /dev/null\n\+\+\+ b/(\S+)", diff, re.M)
    return touched, added


def changed_lines(diff: str | None) -> dict[str, list[tuple[int, int]]]:
    """{path: [(first, last) new-side line ranges]} of a unified diff: the lines its hunks add,
    and for a removal with nothing added in its place the line before it; never the context. A
    hunk without content lines (a bare header) stands for its whole new-side range. A hunk's
    lines are counted off its header, so content lines that look like file headers stay content."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    path, hunk, lines = None, (0, 0), []
    at = old_left = new_left = 0
    removed = False

    def close() -> None:
        if removed:
            lines.append(max(at - 1, hunk[0]))
        if path and hunk[1]:
            ranges.setdefault(path, []).extend(_runs(lines) if lines else [hunk])

    for line in (diff or "").splitlines():
        if old_left > 0 or new_left > 0:  # inside a hunk
            if line.startswith("\\"):
                continue
            if line[:1] == "+":
                lines.append(at)
                at, new_left, removed = at + 1, new_left - 1, False
                continue
            if line[:1] == "-":
                old_left, removed = old_left - 1, True
                continue
            if line[:1] in (" ", ""):  # context (an empty line is a context line whose blank was stripped)
                if removed:
                    lines.append(max(at - 1, hunk[0]))
                at, old_left, new_left, removed = at + 1, old_left - 1, new_left - 1, False
                continue
        if m := _HUNK.match(line):
            close()
            at = int(m.group(2))
            old_left, new_left = int(m.group(1) or 1), int(m.group(3) or 1)
            hunk, lines, removed = (at, at + max(new_left, 1) - 1), [], False
        elif line.startswith(("diff ", "+++ ")):
            close()
            hunk, lines, removed, old_left, new_left = (0, 0), [], False, 0, 0
            if line.startswith("+++ "):
                path = line[6:].strip() if line.startswith("+++ b/") else None
    close()
    return ranges


def _runs(lines: list[int]) -> list[tuple[int, int]]:
    """Sorted line numbers as (first, last) runs of consecutive lines."""
    runs: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


@lru_cache(maxsize=1 << 16)
def namesake(source: str, test: str) -> float:
    """:func:`naming_score`, a private module counting as its public name: a test covers
    ``httpx/_client.py`` as ``tests/client/test_client.py``, not as a partial match."""
    folder, name = posixpath.split(source)
    public = name.lstrip("_")
    if public == name or public.startswith("init"):  # ``__init__.py`` names its package, not "init"
        return naming_score(source, test)
    return max(naming_score(source, test), naming_score(posixpath.join(folder, public), test))


def supported_partners(co: CoChange, source: str) -> dict[str, float]:
    """The files that changed with ``source``, with the confidence of that rule shrunk by its
    support, ``together / (changes of source + 1)``: a file changed once with a test gets 1/2,
    five times out of five 5/6, so one lucky commit no longer outranks a habit."""
    n = co.freq.get(source, 0)
    return {q: c / (n + 1) for q, c in co.pairs.get(source, {}).items()}


RUN_WEIGHT = 0.25  # a test an agent chose to run after editing a file, without it failing


def failure_counts(data: TrainingData) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """From CI results and session test runs: {source file: {test file: weight}} and the same by
    test id. A failure counts 1 against the files changed when it failed (a local run of the
    pytest plugin), the files its commit changed (CI) or the files the session modified;
    a session's test run that did not fail counts ``RUN_WEIGHT`` for the tests it targeted."""
    by_file: dict[str, dict[str, float]] = {}
    by_id: dict[str, dict[str, float]] = {}

    def count(sources: Sequence[str], tests: Sequence[str], weight: float = 1.0) -> None:
        for s in sources:
            if is_test(s):
                continue
            for tid in tests:
                row = by_file.setdefault(s, {})
                row[test_file(tid)] = row.get(test_file(tid), 0) + weight
                if "::" in tid:
                    ids = by_id.setdefault(s, {})
                    ids[tid] = ids.get(tid, 0) + weight

    changed = {c.hash: [f.path for f in c.files] for c in data.commits}
    for ci in data.ci:
        failed = [o.test_id if "::" in o.test_id or not o.file else o.file
                  for o in ci.outcomes if o.outcome in ("failed", "error")]
        suspects = ci.changed or changed.get(ci.commit, [])
        if failed and suspects:
            count(suspects, failed)
    for s in data.sessions:
        failed = [t for run in s.test_runs for t in run.failed]
        if failed:
            count(s.files_modified, failed)
        ran = [t for run in s.test_runs if not run.failed for t in run.targets if is_test(test_file(t))]
        if ran:
            count(s.files_modified, ran, RUN_WEIGHT)
    return by_file, by_id


def _plain_name(qualname: str) -> str:
    """A recorded qualified name as the code graph spells it: ``f.<locals>.g`` -> ``f.g``, and a
    lambda or comprehension as the function around it."""
    return ".".join(p for p in qualname.split(".") if not p.startswith("<"))


class TestExpert(ChangeGraphExpert):
    """Ranks test files for a change; see the module docstring for the channels."""

    __test__ = False  # not a pytest class, whatever its name
    expert_type = "test"
    version = "1.2.0"

    def __init__(self, expert_id: str | None = None):
        super().__init__(expert_id)
        self.tests: list[str] = []
        self.failures: dict[str, dict[str, float]] = {}
        self.failure_ids: dict[str, dict[str, float]] = {}
        self.weights: list[float] = list(DEFAULT_WEIGHTS)
        self.inner_items = 0
        self._indexes: tuple[dict[str, list[str]], dict[str, list[str]], CallGraph] | None = None
        self.test_map_path: Path | None = None  # set by the registry when loading a saved expert
        self._test_map = CachedTestMap()

    # -- learning ----------------------------------------------------------------------------

    def _derive(self, data: TrainingData, commits: Sequence[CommitRecord]) -> None:
        self._indexes = None
        self.tests = self.paths(data, is_test)
        self.failures, self.failure_ids = failure_counts(data)
        self.weights, self.inner_items = self._fit_weights(data)

    def _fit_weights(self, data: TrainingData) -> tuple[list[float], int]:
        """Weights from a rolling inner time split: at each cut, score the next window's
        (source files -> test files) items with counts from before the cut and the code graph
        of the commit at the cut; keep the weights with the best MRR over the latest items."""
        commits = data.commits

        def select(c: CommitRecord, alive: set[str]):
            mod = modified_existing(c, alive)
            src = [p for p in mod if not is_test(p)]
            truth = {p for p in mod if is_test(p)}
            return (src, truth) if src and truth and len(mod) <= 20 else None

        final = self.graph
        at = getattr(data.snapshot, "at", None)

        def code_at(cut: int) -> None:
            # The latest code would answer the window's items with their own future: its tests
            # already call what those commits added, and files since moved are missing from it
            # (a move to ``src/`` leaves the static channels blank before it), so a weight the
            # window cannot measure would be learned from chance.
            if callable(at) and cut:
                with at(commits[cut - 1].hash) as snap:
                    if snap.revision:
                        self.graph, self._indexes = CodeGraph.build(snap, previous=self.graph), None

        try:
            rows = [(self._features(src, [t for t in alive if is_test(t)], co, recent), truth)
                    for co, recent, alive, (src, truth) in inner_items(commits, select, on_cut=code_at)]
        finally:
            self.graph, self._indexes = final, None
        if len(rows) < MIN_INNER_ITEMS:
            return list(DEFAULT_WEIGHTS), len(rows)
        return learn_weights(rows, DEFAULT_WEIGHTS, min_items=MIN_GAIN_ITEMS), len(rows)

    # -- features ----------------------------------------------------------------------------

    def _features(self, sources: Sequence[str], tests: Sequence[str], co: CoChange,
                  recent: CoChange) -> dict[str, list[float]]:
        """{test file: feature vector} for a change to ``sources``; candidates in prior order."""
        dist: dict[str, int] = {}
        for s in sources:
            for t, d in self.graph.dependents([s]).items():
                if t not in dist or d < dist[t]:
                    dist[t] = d
        partners = [supported_partners(co, s) for s in sources]
        lately = [recent.partners(s) for s in sources]
        fails = [self.failures.get(s, {}) for s in sources]
        top = max((co.freq.get(t, 0) for t in tests), default=0) or 1
        span = co.commits or 1
        words = [path_words(s) for s in sources]
        refs = self._references(sources, tests)
        out = {}
        for t in sorted(tests, key=lambda t: (-co.freq.get(t, 0), t)):
            tw = path_words(t)
            out[t] = [
                max((namesake(s, t) for s in sources), default=0.0),
                1.0 / dist[t] if t in dist else 0.0,
                refs.get(t, 0.0),
                max((p.get(t, 0.0) for p in partners), default=0.0),
                max((p.get(t, 0.0) for p in lately), default=0.0),
                min(1.0, sum(f.get(t, 0) / (1 + sum(f.values())) for f in fails) * 2),
                co.freq.get(t, 0) / top,
                co.last.get(t, 0) / span,
                max((len(w & tw) / len(w | tw) for w in words if w | tw), default=0.0),
                sum(p.get(t, 0.0) for p in partners),
            ]
        return out

    def _references(self, sources: Sequence[str], tests: Sequence[str]) -> dict[str, float]:
        """{test: weight of the changed files' defined names it uses}, normalised to [0, 1]; a
        name used by few tests counts more (inverse document frequency over the tests)."""
        reach = {s: 0 for s in sources}
        for s in sources:
            for p, d in self.graph.dependents([s], max_depth=3).items():
                if not is_test(p) and d < reach.get(p, 99):
                    reach[p] = d
        public = self._index()[1]
        names: dict[str, float] = {}
        for s, dist in reach.items():
            for short in public.get(s, ()):
                names[short] = max(names.get(short, 0.0), 1.0 / (1 + dist))
        return self._name_users(names, tests)

    def _index(self) -> tuple[dict[str, list[str]], dict[str, list[str]], CallGraph]:
        """(name -> test files using it, file -> its public top-level and method names, the call
        graph of the non-test code), built once per learned state."""
        if self._indexes is None:
            users: dict[str, list[str]] = {}
            public: dict[str, list[str]] = {}
            for p, f in self.graph.facts.items():
                if is_test(p):
                    for n in f.names:
                        users.setdefault(n, []).append(p)
                    for n in f.attrs:
                        users.setdefault("." + n, []).append(p)
                    continue
                public[p] = sorted({d.name.rsplit(".", 1)[-1] for d in f.defs if d.name.count(".") <= 1
                                    and len(d.name.rsplit(".", 1)[-1]) > 3
                                    and not d.name.rsplit(".", 1)[-1].startswith("__")})
            self._indexes = (users, public, CallGraph(self.graph, include=is_code))
        return self._indexes

    def _changed_names(self, hunks: dict[str, list[tuple[int, int]]]) -> dict[str, float]:
        """Names that a diff's hunks reach, with weights: the definitions they touch (1), and
        everything reaching those through the call graph (half per call hop; a method's class, a
        nested function's outer function). A hunk in module-level code, or in a module-level
        dunder such as ``__getattr__``, names the module itself (key ``module:<path>``): its users
        are the tests that import it and name it, touching it as an attribute."""
        calls = self._index()[2]
        seeds: dict[str, float] = {}
        names: dict[str, float] = {}
        for path, ranges in hunks.items():
            if path not in self.graph.facts:
                continue
            for r in ranges:
                nodes = calls.nodes_in(path, [r], self.graph)
                seeds.update((n, 1.0) for n in nodes)
                if not nodes or any("." not in n.split("::", 1)[1] and is_dunder(n.split("::", 1)[1])
                                    for n in nodes):
                    names[MODULE + path] = 1.0
        for node, w in calls.reach(seeds, CALLER_HOPS).items():
            short = node.rsplit("::", 1)[1].rsplit(".", 1)[-1]
            if not is_dunder(short) and not calls.is_local(node):  # no test can name a local function
                if calls.kind[node] == "method":  # only ``x.name`` uses it (not ``name(``: open, close)
                    short = "." + short
                names[short] = max(names.get(short, 0.0), w)
        return names

    def _changed_params(self, hunks: dict[str, list[tuple[int, int]]]) -> dict[str, float]:
        """The parameters of the innermost function around each hunk (key ``param:<name>``): a
        test passing ``errors=`` runs the function with its own ``errors``, however many calls
        down, where a test leaving it out runs the default path (names of three letters or
        fewer say too little)."""
        names: dict[str, float] = {}
        for path, ranges in hunks.items():
            f = self.graph.facts.get(path)
            for a, b in ranges if f is not None else ():
                around = [d for d in f.defs if d.start <= a and b <= d.end and d.kind != "class"]
                if around:
                    inner = min(around, key=lambda d: d.end - d.start)
                    names.update((PARAM + p, 1.0) for p in inner.params if len(p) > 3)
        return names

    def _named_after_definitions(self, hunks: dict[str, list[tuple[int, int]]],
                                 tests: Sequence[str]) -> set[str]:
        """The tests named after a definition the diff touches or a class or function around it
        (``Argument.human_readable_name`` ~ ``test_arguments.py``): a file's namesake test is
        one per module, a definition's is the one for the code that changed."""
        calls = self._index()[2]
        defs = set()
        for path, ranges in hunks.items():
            for node in calls.nodes_in(path, ranges, self.graph) if path in self.graph.facts else ():
                for part in node.split("::", 1)[1].split("."):
                    if len(part) > 3 and not is_dunder(part):
                        defs.add(part.lower().strip("_").replace("_", ""))
        return {t for t in tests if (stem := test_stem(t).replace("_", "")) and (
            stem in defs or stem.removesuffix("s") in defs)}

    def _names_of(self, path: str) -> set[str]:
        f = self.graph.facts.get(path)
        return set(f.names) if f is not None else set()

    def _name_users(self, names: dict[str, float], tests: Sequence[str]) -> dict[str, float]:
        """{test: IDF-weighted use of ``names`` (name -> weight)}, normalised to [0, 1]."""
        if not names:
            return {}
        index = self._index()[0]
        wanted = set(tests)
        users = {n: [t for t in index.get(n, ()) if t in wanted] for n in names
                 if not n.startswith((MODULE, PARAM))}
        for n in names:  # a module's own code: the tests that import it by name use it as an attribute
            if n.startswith(MODULE):
                path = n[len(MODULE):]
                users[n] = [t for t in self.graph.importers.get(path, ()) if t in wanted
                            and module_name(path) in self._names_of(t)]
        reach = {t for ts in users.values() for t in ts}
        for n in names:  # a parameter's name only sorts the tests that reach the changed code
            if n.startswith(PARAM):
                users[n] = [t for t in index.get(n[len(PARAM):], ()) if t in reach]
        users = {n: ts for n, ts in users.items() if ts}
        out: dict[str, float] = {}
        for n, ts in users.items():
            idf = math.log(1 + len(tests) / len(ts)) * names[n]
            for t in ts:
                out[t] = out.get(t, 0.0) + idf
        top = max(out.values(), default=0.0) or 1.0
        return {t: v / top for t, v in out.items()}

    # -- the recorded test map -----------------------------------------------------------------

    def test_map(self) -> TestMap | None:
        """The map at ``test_map_path`` as it is now (re-read when the file changes)."""
        return self._test_map.read(self.test_map_path)

    def _covering(self, sources: Sequence[str], hunks: dict[str, list[tuple[int, int]]]) -> dict[str, list[str]]:
        """{test file: its tests} that ran the changed code by the recorded map: with a diff, the
        innermost functions its hunks touch (by name, so lines moved since the recording still
        match; by the recorded lines when the name is unknown); a hunk outside every recorded
        function, or a changed file without a diff, counts every function of the file."""
        test_map = self.test_map()
        if test_map is None or not sources:
            return {}
        by_path: dict[str, list[Any]] = {}
        for unit in test_map.units:
            by_path.setdefault(unit.path, []).append(unit)
        calls = self._index()[2] if hunks else None
        ran: set[int] = set()
        for path in sources:
            units = by_path.get(path, [])
            ranges = hunks.get(path, [])
            if not ranges:
                hit = units
            else:
                names = set()
                if calls is not None and path in self.graph.facts:
                    names = {n.split("::", 1)[1] for n in calls.nodes_in(path, ranges, self.graph)}
                hit = [u for u in units if _plain_name(u.name) in names]
                if not hit:
                    around = [u for u in units if any(u.start <= b and a <= u.end for a, b in ranges)]
                    hit = [u for u in around if not any(o is not u and u.start <= o.start and o.end <= u.end
                                                        for o in around)] or units
            for u in hit:
                ran.update(u.tests)
        out: dict[str, list[str]] = {}
        for i in sorted(ran):
            if 0 <= i < len(test_map.tests):
                test_id = test_map.tests[i]
                out.setdefault(test_id.split("::", 1)[0], []).append(test_id)
        return out

    # -- answering ---------------------------------------------------------------------------

    def predict(self, query: Query, top: int = 10) -> ExpertPrediction:
        touched, added = diff_paths(query.diff)
        files = list(dict.fromkeys([*query.files, *touched]))
        must = [p for p in files if is_test(p)]
        sources = [p for p in files if not is_test(p)]
        candidates = [t for t in dict.fromkeys([*self.tests, *added]) if t not in must]
        scored: list[tuple[float, str]] = []
        reasons: dict[str, dict[str, float]] = {}
        hunks = changed_lines(query.diff)
        names = self._changed_names(hunks)
        if names:
            names.update(self._changed_params(hunks))
        changed = self._name_users(names, candidates) if names else {}
        named = self._named_after_definitions(hunks, candidates)
        covering = self._covering(sources, hunks)
        if sources:
            diff_weight = DIFF_SHARE * sum(self.weights) if names else 0.0
            total = sum(self.weights) + diff_weight or 1.0
            for t, feats in self._features(sources, candidates, self.cochange, self.recent).items():
                if t in named:
                    feats[0] = 1.0
                s = sum(w * f for w, f in zip(self.weights, feats)) + diff_weight * changed.get(t, 0.0)
                if covering:  # the tests that ran the changed code first: see the module docstring
                    s = (total + s) / 2 if t in covering else s / 2
                if s > 0:
                    scored.append((s / total, t))
                    reasons[t] = {n: round(f, 3) for n, f in zip(FEATURES, feats) if f}
                    if changed.get(t):
                        reasons[t]["changed"] = round(changed[t], 3)
                    if t in covering:
                        reasons[t]["ran_changed_code"] = len(covering[t])
            scored.sort(key=lambda x: -x[0])  # stable: ties keep the prior order
        items = [(t, 1.0) for t in must] + [(t, round(min(1.0, s), 4)) for s, t in scored]
        items = items[:top]
        ids = {}
        for t, _ in items:
            counts: dict[str, float] = {}
            for s in sources:
                for tid, n in self.failure_ids.get(s, {}).items():
                    if test_file(tid) == t:
                        counts[tid] = counts.get(tid, 0) + n
            ran = [tid for tid in covering.get(t, ()) if tid not in counts]
            if len(ran) > MAX_TEST_IDS:
                ran = []
            if counts or ran:
                ids[t] = sorted(counts, key=lambda k: -counts[k]) + ran
        detail = {t: {"must_run": t in must, **({"reasons": reasons[t]} if t in reasons else {}),
                      **({"test_ids": ids[t]} if t in ids else {})} for t, _ in items}
        return self._prediction(items, must_run=must, changed_names=sorted(names),
                                reasons={t: reasons[t] for t, _ in items if t in reasons},
                                test_ids=ids, weights=dict(zip(FEATURES, self.weights)), detail=detail)

    # -- persistence -------------------------------------------------------------------------

    def model_data(self) -> dict[str, Any]:
        return {"cochange": self.cochange.to_data(), "recent": self.recent.to_data(),
                "graph": self.graph.to_data(keep=("imports", "defs", "names")),
                "tests": self.tests, "failures": self.failures, "failure_ids": self.failure_ids,
                "weights": self.weights, "inner_items": self.inner_items}

    def load_model_data(self, data: dict[str, Any]) -> None:
        self.cochange = CoChange.from_data(data.get("cochange", {}))
        self.recent = CoChange.from_data(data.get("recent", {"half_life": HALF_LIFE}))
        self.graph = CodeGraph.from_data(data.get("graph", {}))
        self._indexes = None
        self.tests = list(data.get("tests", []))
        self.failures = {k: dict(v) for k, v in data.get("failures", {}).items()}
        self.failure_ids = {k: dict(v) for k, v in data.get("failure_ids", {}).items()}
        weights = [float(w) for w in data.get("weights", DEFAULT_WEIGHTS)]
        # a model saved with other channels is answered with the defaults until it is retrained
        self.weights = weights if len(weights) == len(FEATURES) else list(DEFAULT_WEIGHTS)
        self.inner_items = int(data.get("inner_items", 0))
