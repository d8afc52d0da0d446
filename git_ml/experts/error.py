"""ErrorDiagnosisExpert: an error message or traceback -> ranked source files, each with the line
range (the enclosing function) where the fault most likely is.

Evidence channels, each scored per file in [0, 1] and fused with fixed weights (or weights learned
from past session errors and the files that fixed them, when there are enough):

* ``frames``      stack frames mapped to repository files by longest path suffix (traces come from
                  other machines and CI), innermost project frame first. Python (native and
                  pytest), JavaScript, Go, Java and Rust frame formats;
* ``callees``     functions the innermost project frames call (the fault is often one call away);
* ``literals``    the error text matched against the code's string literals (format placeholders
                  as wildcards): the place that raised the message;
* ``names``       identifiers in the trace (the failing test's name, shown source lines) matched
                  to the definitions that carry them (rare names weigh more);
* ``tested``      the failing test file -> the code it tests (naming, imports, co-change);
* ``past``        past errors and the files that fixed them (sessions), and past commit messages;
* ``content``     BM25 of the error words over each file's identifiers and literals;
* ``prior``       how often the file changed (bug-prone files).

An assertion failure with no project frame still gets an answer from the other channels.

Where the pytest plugin recorded which tests ran which functions (``pytest --git-ml-record``),
the files the failing tests ran (named by a ``FAILED`` line or a test frame) come before those
they never ran, each group in the order of the fused score: a test cannot fail on code it never
ran, import-time code aside.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from git_ml.capture.testmap import CachedTestMap, files_run_by, find_tests
from git_ml.experts.base import Query, TrainingData
from git_ml.experts.changes import ChangeGraphExpert, CoChange, is_test, learn_weights, naming_score
from git_ml.experts.codegraph import CallGraph, CodeGraph
from git_ml.experts.text import BM25, tokens
from git_ml.records import CommitRecord, ExpertPrediction

FEATURES = ("frames", "callees", "literals", "names", "tested", "past", "content", "prior")
DEFAULT_WEIGHTS = (4.0, 2.0, 2.0, 0.25, 1.0, 1.0, 0.25, 0.1)  # set on two projects' mutants (bench_mutants.py)
TEST_PENALTY = 0.3  # a test file is rarely where the fault is
MIN_LEARN = 8  # past session errors with a fix needed before weights are learned
FRAME_DECAY = 0.6  # each frame further out from the innermost counts this much less
MIN_LITERAL = 8  # fixed characters a literal needs before it can match an error text
MAX_SPANS = 3  # line ranges reported per file
CALLEE_FRAMES = 2  # innermost project frames whose callees are suspects
CALLEE_HOPS = 1  # direct callees only: two hops spread the channel too thin on the mutation benchmark
OFF_TRACE = 0.25  # weight of a literal match away from a trace's project frames

# -- frame formats ----------------------------------------------------------------------------
_PY_NATIVE = re.compile(r'^\s*File "([^"]+)", line (\d+)(?:, in (\S+))?', re.M)
_PYTEST = re.compile(r"^([^\s:\"'<>]+\.py):(\d+):(?: in (\S+))?", re.M)
_JS = re.compile(r"^\s*at (?:(?:async )?([\w$.<>\[\] ]+?) \()?((?:file://)?[^\s()]+?\.(?:[cm]?js|jsx|tsx?)):(\d+)(?::\d+)?\)?\s*$", re.M)
_GO = re.compile(r"^\s+(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?\s*$|^\s*(\S+_test\.go):(\d+): ", re.M)
_JAVA = re.compile(r"^\s*at ([\w$.]+)\.([\w$<>]+)\(([\w$]+\.(?:java|kt|scala)):(\d+)\)", re.M)
_RUST = re.compile(r"(?:panicked at |^\s+at )'?((?:[\w.\-/\\]+/)?[\w\-]+\.rs):(\d+)(?::\d+)?", re.M)
_FAILED_ID = re.compile(r"^(?:FAILED|ERROR)\s+([^\s:]+\.py)::([\w\[\]\-.:]+)", re.M)
_PYTEST_DEF = re.compile(r"^\s{0,8}def (test\w*)\(", re.M)
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrifgxXoecua%]|\{[^{}]*\}")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")
_LIBRARY = re.compile(r"[/\\](?:site-packages|dist-packages|node_modules)[/\\]")
_SKIP_PATH = ("<frozen", "<string>", "<stdin>", "node:internal", "/rustc/", "go/src/runtime/")


@dataclass
class Frame:
    """One stack frame: the path as printed, its line, function, and how deep (0 = innermost)."""

    path: str
    line: int
    function: str = ""
    depth: int = 0
    repo_path: str | None = None


def parse_frames(text: str) -> list[Frame]:
    """Every frame in ``text``, innermost first (Python prints innermost last; JS, Go, Java and
    Rust innermost first). Chained Python exceptions: the final exception's frames come first."""
    py_pos = sorted(
        [(m.start(), Frame(m.group(1), int(m.group(2)), m.group(3) or "")) for m in _PY_NATIVE.finditer(text)]
        + [(m.start(), Frame(m.group(1), int(m.group(2)), m.group(3) or "")) for m in _PYTEST.finditer(text)],
        key=lambda x: x[0])
    frames = [f for _, f in reversed(py_pos)]
    others: list[Frame] = []
    for m in _JS.finditer(text):
        others.append(Frame(m.group(2).removeprefix("file://"), int(m.group(3)), (m.group(1) or "").strip()))
    for m in _GO.finditer(text):
        path, line = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        others.append(Frame(path, int(line)))
    for m in _JAVA.finditer(text):
        cls = m.group(1).split("$", 1)[0]
        pkg = cls.rsplit(".", 1)[0].replace(".", "/") if "." in cls else ""
        others.append(Frame(f"{pkg}/{m.group(3)}" if pkg else m.group(3), int(m.group(4)), m.group(2)))
    for m in _RUST.finditer(text):
        others.append(Frame(m.group(1).replace("\\", "/"), int(m.group(2))))
    out = frames + others
    for i, f in enumerate(out):
        f.depth = i
    return out


class PathIndex:
    """Maps paths printed on another machine to repository files by longest path suffix."""

    def __init__(self, files: Sequence[str]):
        self.by_name: dict[str, list[str]] = {}
        for p in files:
            self.by_name.setdefault(p.rsplit("/", 1)[-1], []).append(p)

    def resolve(self, printed: str) -> str | None:
        path = printed.replace("\\", "/")
        if any(s in path for s in _SKIP_PATH):
            return None
        path = re.sub(r"^(?:[A-Za-z]:)?/*|^\./", "", path)
        cands = self.by_name.get(path.rsplit("/", 1)[-1], [])
        best, best_len = None, 0
        for c in cands:
            if path == c or path.endswith("/" + c):
                n = c.count("/") + 1
            else:  # the repo file is deeper than the printed path shows (a relative trace)
                n = _common_suffix(path, c)
            if n > best_len:
                best, best_len = c, n
        # An absolute path from elsewhere must agree on more than a bare file name
        # (site-packages/six.py is not the repo's vendored six.py) unless the file is unique.
        if best is not None and best_len < 2 and printed.startswith("/") and len(cands) > 1:
            return None
        if best is not None and best_len < 2 and ("site-packages" in path or "node_modules" in path):
            return None
        return best


def _common_suffix(a: str, b: str) -> int:
    pa, pb = a.split("/"), b.split("/")
    n = 0
    while n < min(len(pa), len(pb)) and pa[-1 - n] == pb[-1 - n]:
        n += 1
    return n


def project_text(text: str, paths: PathIndex) -> str:
    """``text`` without the source lines shown under frames outside the repository (test runner
    and library internals), whose identifiers would only add noise."""
    keep: list[str] = []
    inside = True
    for line in text.splitlines():
        m = _PY_NATIVE.match(line) or _PYTEST.match(line)
        if m:
            inside = paths.resolve(m.group(1)) is not None
            continue
        if inside:
            keep.append(line)
    return "\n".join(keep)


def message_lines(text: str) -> list[str]:
    """The lines that carry the error message: pytest's ``E`` lines, ``SomeError: ...`` lines,
    Go/Rust panics, and a bare message (no frames) as a whole."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("E ") or s == "E":
            out.append(s[1:].strip())
        elif re.match(r"^[\w.]*(?:Error|Exception|Warning|Failure|Exit|Interrupt)\b.*:", s) or s.startswith(
                ("panic:", "thread '", "Error:", "error:", "Caused by:", "assert ")):
            out.append(s)
    return [s for s in out if s] or [text.strip()[:2000]]


def literal_pattern(literal: str) -> tuple[str, "_LazyPattern"] | None:
    """(longest fixed chunk, regex) for a string literal with format placeholders as wildcards;
    None when it has too little fixed text to identify a message."""
    chunks = [c for c in _PLACEHOLDER.split(literal)]
    fixed = "".join(chunks).strip()
    longest = max(chunks, key=len).strip() if chunks else ""
    if len(fixed) < MIN_LITERAL or len(longest) < 5 or " " not in literal.strip():
        return None
    return longest, _LazyPattern(".{0,200}?".join(re.escape(c) for c in chunks))


class _LazyPattern:
    """A regex compiled on first use: a query checks thousands of literals by their fixed chunk
    first, and compiling them all up front cost more than the whole rest of a prediction."""

    __slots__ = ("source", "_compiled")

    def __init__(self, source: str):
        self.source = source
        self._compiled: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.source, re.S)
        return self._compiled.search(text)


class ErrorDiagnosisExpert(ChangeGraphExpert):
    """Ranks the files (and functions) an error most likely comes from."""

    expert_type = "error"
    version = "1.1.0"

    def __init__(self, expert_id: str | None = None):
        super().__init__(expert_id)
        self.files: list[str] = []
        self.history: dict[str, list[str]] = {}  # file -> tokens of messages of commits that changed it
        self.fixes: list[tuple[str, list[str]]] = []  # (past error message, files that fixed it)
        self.terms: dict[str, dict[str, int]] = {}  # code file -> token counts of its text
        self.term_digest: dict[str, str] = {}  # code file -> digest of the text counted
        self.weights: list[float] = list(DEFAULT_WEIGHTS)
        self._cache: dict[str, Any] = {}
        self.test_map_path: Path | None = None  # set by the registry when loading a saved expert
        self._test_map = CachedTestMap()

    # -- learning ----------------------------------------------------------------------------

    def _reset(self) -> None:
        self.history = {}
        self.terms, self.term_digest = {}, {}

    def _derive(self, data: TrainingData, commits: Sequence[CommitRecord]) -> None:
        for c in commits:
            if c.is_merge or len(c.files) > 30:
                continue
            words = tokens(c.message.split("\n", 1)[0])
            for f in c.files:
                self.history.setdefault(f.path, []).extend(words)
        self.files = self.paths(data)
        if data.snapshot is not None:
            self._count_terms(data.snapshot)
        self.fixes = [(e.message, list(e.fixed_by)) for s in data.sessions for e in s.errors if e.fixed_by]
        self._cache = {}
        self.weights = self._fit_weights()

    def _count_terms(self, snapshot: Any) -> None:
        """Token counts of each code file's text (re-counted only when its content changed)."""
        terms, digests = {}, {}
        for p, f in self.graph.facts.items():
            if self.term_digest.get(p) == f.digest and p in self.terms:
                terms[p] = self.terms[p]
            else:
                raw = snapshot.read(p)
                terms[p] = dict(Counter(tokens(raw.decode("utf-8", "replace")))) if raw else {}
            digests[p] = f.digest
        self.terms, self.term_digest = terms, digests

    def _fit_weights(self) -> list[float]:
        """With enough past errors whose fix is known, learn the fusion on them (each scored
        without its own fix in the ``past`` channel); otherwise the fixed defaults."""
        if len(self.fixes) < MIN_LEARN:
            return list(DEFAULT_WEIGHTS)
        rows = []
        for i, (msg, fixed) in enumerate(self.fixes):
            feats, _ = self._features(msg, exclude_fix=i)
            truth = {f for f in fixed if f in feats}
            if truth:
                rows.append((feats, truth))
        return learn_weights(rows, DEFAULT_WEIGHTS) if len(rows) >= MIN_LEARN else list(DEFAULT_WEIGHTS)

    # -- indexes (built lazily from the learned state) ---------------------------------------

    def _index(self, name: str):
        if name not in self._cache:
            self._cache[name] = getattr(self, "_build_" + name)()
        return self._cache[name]

    def _build_paths(self) -> PathIndex:
        return PathIndex(self.files or list(self.graph.facts))

    def _build_literals(self) -> list[tuple[str, _LazyPattern, str, int]]:
        out = []
        for p, f in self.graph.facts.items():
            for lit, line in f.strings:
                pat = literal_pattern(lit)
                if pat:
                    out.append((pat[0], pat[1], p, line))
        return out

    def _build_defs(self) -> dict[str, list[tuple[str, int, int, str]]]:
        """Short name -> definitions; nested helpers (``wrapper``, ``decorator``) are left out:
        their names are everywhere and say nothing."""
        out: dict[str, list[tuple[str, int, int, str]]] = {}
        for p, f in self.graph.facts.items():
            for d in f.defs:
                if d.name.count(".") > (1 if d.kind == "method" else 0):
                    continue
                out.setdefault(d.name.rsplit(".", 1)[-1], []).append((p, d.start, d.end, d.name))
        return out

    def _build_calls(self) -> CallGraph:
        return CallGraph(self.graph, include=lambda p: not is_test(p))

    def _build_def_words(self) -> dict[str, list[tuple[str, int, int, str]]]:
        """Word of a definition's name -> definitions (``get_netrc_auth`` under ``netrc``)."""
        out: dict[str, list[tuple[str, int, int, str]]] = {}
        for name, owners in self._index("defs").items():
            for w in dict.fromkeys(tokens(name)):  # in order: the same lists every run
                if len(w) > 3:
                    out.setdefault(w, []).extend(owners)
        return out

    def _build_content(self) -> tuple[list[str], BM25]:
        paths = sorted(self.graph.facts)
        docs = []
        for p in paths:
            bag = Counter(self.terms.get(p) or tokens(" ".join(self.graph.facts[p].names)))
            bag.update(tokens(p.replace("/", " ")) * 3)
            docs.append(bag)
        return paths, BM25(docs)

    def _build_history(self) -> tuple[list[str], BM25]:
        paths = sorted(p for p in self.history if p in self.graph.facts)
        return paths, BM25([self.history[p] for p in paths])

    # -- evidence ----------------------------------------------------------------------------

    def _features(self, text: str, exclude_fix: int = -1) -> tuple[dict[str, list[float]], dict[str, list]]:
        """{file: feature vector} and {file: [line evidence]} for an error text."""
        paths: PathIndex = self._index("paths")
        frames = parse_frames(text)
        for f in frames:
            f.repo_path = paths.resolve(f.path)
        mapped = [f for f in frames if f.repo_path]
        # An installed copy (site-packages, node_modules) of a repo file is only used when the
        # trace has no frame in the checkout itself: its line numbers belong to another version.
        local = [f for f in mapped if not _LIBRARY.search(f.path)]
        mapped = local or mapped
        evidence: dict[str, list] = {}
        chan: dict[str, dict[str, float]] = {n: {} for n in FEATURES}

        def note(path: str, line: int | None, why: str, strength: float) -> None:
            evidence.setdefault(path, []).append({"line": line, "evidence": why, "strength": strength})

        # frames: innermost project (non-test) frame first
        rank = 0
        for f in mapped:
            if is_test(f.repo_path):
                continue
            s = FRAME_DECAY ** rank
            if f.repo_path not in chan["frames"]:
                chan["frames"][f.repo_path] = s
                rank += 1
            note(f.repo_path, f.line, "frame", 1.0 + s)
        # callees: what the innermost project frames' functions call (a fault one call away,
        # e.g. a helper that returned None to the frame that crashed)
        calls = self._index("calls")
        seen_frames = 0
        for f in mapped:
            if is_test(f.repo_path) or seen_frames >= CALLEE_FRAMES:
                continue
            seen_frames += 1
            d = self.graph.enclosing(f.repo_path, f.line)
            reached = calls.callees(f"{f.repo_path}::{d.name}", CALLEE_HOPS) if d is not None else {}
            for node, w in reached.items():
                p, qual = node.split("::", 1)
                chan["callees"][p] = chan["callees"].get(p, 0.0) + FRAME_DECAY ** (seen_frames - 1) * w
                note(p, calls.span[node][0], f"callee:{qual}", 0.3 * w)
        _normalise(chan["callees"])
        msgs = message_lines(text)
        msg_text = "\n".join(msgs)
        # literals: the message raised from a literal in the code. A place that raised would be
        # the innermost frame, so with project frames on the trace a literal elsewhere is more
        # likely a look-alike (a custom __getattr__ echoing Python's own AttributeError).
        on_trace = set(chan["frames"])
        for longest, regex, p, line in self._index("literals"):
            if longest in msg_text and regex.search(msg_text):
                s = min(1.0, len(longest) / 40) * (OFF_TRACE if on_trace and p not in on_trace else 1.0)
                if s > chan["literals"].get(p, 0.0):
                    chan["literals"][p] = s
                    note(p, line, "literal", 0.5 + s)
        # failing tests: from test frames, FAILED ids and pytest's shown test source
        test_files = {f.repo_path for f in mapped if is_test(f.repo_path)}
        test_names = {f.function for f in mapped if is_test(f.repo_path) and f.function.startswith("test")}
        for m in _FAILED_ID.finditer(text):
            rp = paths.resolve(m.group(1))
            if rp:
                test_files.add(rp)
            test_names.add(m.group(2).split("::")[-1].split("[")[0])
        test_names |= set(_PYTEST_DEF.findall(text))
        # names: identifiers of the trace and the test names' words, matched to definitions
        idents = set(_IDENT.findall(project_text(text, paths)))
        for t in sorted(test_names):
            rest = re.sub(r"^tests?_?", "", t)
            idents.add(rest)
            idents.update(w for w in rest.split("_") if len(w) > 3)
        defs = self._index("defs")
        for name in sorted(idents):  # sorted: evidence ties keep one order whatever the hash seed
            owners = defs.get(name)
            if not owners or len(owners) > 5:
                continue
            w = 1.0 / len(owners)
            for p, start, end, qual in owners:
                chan["names"][p] = chan["names"].get(p, 0.0) + w
                note(p, start, f"name:{qual}", 0.2 + 0.1 * w)
        # a rare word of the test's name inside a definition's name (netrc -> get_netrc_auth)
        parts = self._index("def_words")
        for t in sorted(test_names):
            for word in {w for w in tokens(t) if w != "test" and len(w) > 3}:
                owners = parts.get(word, ())
                if 0 < len(owners) <= 5:
                    for p, start, end, qual in owners:
                        chan["names"][p] = chan["names"].get(p, 0.0) + 0.5 / len(owners)
                        note(p, start, f"name:{qual}", 0.15)
        _normalise(chan["names"])
        # tested: the failing test -> the code it tests. The test's own name is the most specific
        # clue (test_cookie_sent_on_redirect -> cookies.py); its file's imports, co-change and
        # naming count half, since one test file often covers a whole package.
        tested: dict[str, float] = {}
        words = {w for t in test_names for w in tokens(t) if w != "test" and len(w) > 3}
        for p in self.graph.facts:
            if not is_test(p) and words and any(
                    _same_word(w, n) for w in words for n in tokens(p.rsplit("/", 1)[-1].rsplit(".", 1)[0])):
                tested[p] = tested.get(p, 0.0) + 1.0
        for t in test_files:
            for p in self.graph.imports.get(t, ()):
                if not is_test(p):
                    tested[p] = tested.get(p, 0.0) + 0.15
            for p, conf in self.cochange.partners(t).items():
                if not is_test(p) and p in self.graph.facts:
                    tested[p] = tested.get(p, 0.0) + 0.5 * conf
            for p in self.graph.facts:
                if not is_test(p):
                    n = naming_score(p, t)
                    if n >= 0.6:
                        tested[p] = tested.get(p, 0.0) + 0.5 * n
        chan["tested"] = tested
        _normalise(chan["tested"])
        # past fixes of similar errors, and past commit messages
        query = tokens(msg_text + " " + " ".join(test_names))
        past = [(m, f) for i, (m, f) in enumerate(self.fixes) if i != exclude_fix]
        if past and query:
            scores = BM25([tokens(m) for m, _ in past]).score(query)
            for i, s in scores.items():
                for p in past[i][1]:
                    chan["past"][p] = chan["past"].get(p, 0.0) + s
        hist_paths, hist = self._index("history")
        for i, s in hist.score(query).items():
            chan["past"][hist_paths[i]] = chan["past"].get(hist_paths[i], 0.0) + 0.3 * s
        _normalise(chan["past"])
        content_paths, content = self._index("content")
        for i, s in content.score(tokens(text)).items():
            chan["content"][content_paths[i]] = s
        _normalise(chan["content"])
        top = max(self.cochange.freq.values(), default=0) or 1
        for p in self.graph.facts:
            if not is_test(p) and p in self.cochange.freq:
                chan["prior"][p] = self.cochange.freq[p] / top
        pool = sorted(set().union(*chan.values()), key=lambda p: (-self.cochange.freq.get(p, 0), p))
        feats = {p: [chan[n].get(p, 0.0) for n in FEATURES] for p in pool}
        return feats, evidence

    # -- answering ---------------------------------------------------------------------------

    def predict(self, query: Query, top: int = 10) -> ExpertPrediction:
        text = "\n".join(x for x in (query.text, query.diff) if x)
        if not text.strip():
            return self._prediction([], locations=[])
        feats, evidence = self._features(text)
        ran = self._ran_by_failing_tests(text)
        total = sum(self.weights) or 1.0
        scored = []
        for p, f in feats.items():
            s = sum(w * x for w, x in zip(self.weights, f)) / total
            if is_test(p):
                s *= TEST_PENALTY
            if s > 0:
                scored.append((s, p))
        confidence = {p: min(1.0, s * 2) for s, p in scored}
        if ran:  # the files the failing tests ran first: see the module docstring
            scored = [((1 + s) / 2 if p in ran else s / 2, p) for s, p in scored]
            confidence = {p: (1 + c) / 2 if p in ran else c / 2 for p, c in confidence.items()}
        scored.sort(key=lambda x: -x[0])
        items = [(p, round(confidence[p], 4)) for s, p in scored[:top]]
        locations = [loc for p, _ in items for loc in self._locations(p, evidence.get(p, []))]
        frames = [{"path": f.path, "line": f.line, "function": f.function} for f in parse_frames(text)[:20]]
        ranges: dict[str, str] = {}
        for loc in locations:
            ranges.setdefault(loc["file"], f"{loc['start']}-{loc['end']}")
        reasons = {p: {n: round(x, 3) for n, x in zip(FEATURES, feats[p]) if x} for p, _ in items}
        for p, _ in items:
            if p in ran:
                reasons[p]["ran_by_failing_test"] = ran[p]
        detail = {}
        for p, _ in items:
            best = next((loc for loc in locations if loc["file"] == p), None)
            detail[p] = {"reasons": reasons[p], **({k: best[k] for k in ("location", "line", "function", "evidence")
                                                    if k in best} if best else {})}
        return self._prediction(items, locations=locations, ranges=ranges, frames=frames, reasons=reasons,
                                detail=detail)

    def _ran_by_failing_tests(self, text: str) -> dict[str, int]:
        """{file: functions of it that the failing tests ran}, by the recorded test map; empty
        without a map or when the text names no test the map knows."""
        test_map = self._test_map.read(self.test_map_path)
        if test_map is None:
            return {}
        paths: PathIndex = self._index("paths")
        named = set()
        for m in _FAILED_ID.finditer(text):
            if (rp := paths.resolve(m.group(1))) is not None:
                named.add((rp, m.group(2)))
        for f in parse_frames(text):
            if f.function.startswith("test") and (rp := paths.resolve(f.path)) is not None and is_test(rp):
                named.add((rp, f.function))
        failing = find_tests(test_map, named)
        return files_run_by(test_map, failing) if failing else {}

    def _locations(self, path: str, evidence: list[dict]) -> list[dict[str, Any]]:
        """Up to ``MAX_SPANS`` distinct ``path:start-end`` spans of ``path``, strongest evidence
        first: the function enclosing each evidence line (a frame, a raised literal) or the
        definition a name in the trace refers to."""
        out: list[dict[str, Any]] = []
        seen = set()
        for ev in sorted(evidence, key=lambda e: -e["strength"]):
            line = ev["line"]
            d = self.graph.enclosing(path, line)
            start, end = (d.start, d.end) if d is not None else (line, line)
            if (start, end) in seen:
                continue
            seen.add((start, end))
            loc = {"file": path, "line": line, "start": start, "end": end, "evidence": ev["evidence"],
                   "location": f"{path}:{start}-{end}"}
            if d is not None:
                loc["function"] = d.name
            out.append(loc)
            if len(out) == MAX_SPANS:
                break
        return out

    # -- persistence -------------------------------------------------------------------------

    def model_data(self) -> dict[str, Any]:
        return {"graph": self.graph.to_data(), "cochange": self.cochange.to_data(), "files": self.files,
                "history": {p: " ".join(w) for p, w in self.history.items()},
                "fixes": [[m, f] for m, f in self.fixes], "weights": self.weights,
                "terms": self.terms, "term_digest": self.term_digest}

    def load_model_data(self, data: dict[str, Any]) -> None:
        self.graph = CodeGraph.from_data(data.get("graph", {}))
        self.cochange = CoChange.from_data(data.get("cochange", {}))
        self.files = list(data.get("files", []))
        self.history = {p: s.split() for p, s in data.get("history", {}).items()}
        self.fixes = [(str(m), list(f)) for m, f in data.get("fixes", [])]
        self.weights = [float(w) for w in data.get("weights", DEFAULT_WEIGHTS)]
        self.terms = {p: dict(c) for p, c in data.get("terms", {}).items()}
        self.term_digest = dict(data.get("term_digest", {}))
        self._cache = {}


def _same_word(a: str, b: str) -> bool:
    """``cookie`` ~ ``cookies``, ``adapter`` ~ ``adapters``: one word is the other plus a suffix."""
    short, long = sorted((a, b), key=len)
    return len(short) > 3 and long.startswith(short) and len(long) - len(short) <= 3


def _normalise(scores: dict[str, float]) -> None:
    top = max(scores.values(), default=0.0)
    if top > 0:
        for k in scores:
            scores[k] /= top
