"""FileExpert: a task description (and optional seed files) -> the files it will touch.

Channels, each a score per candidate file, normalised by its best candidate:

* ``hist``     BM25 of the task over each file's past commit messages and session prompts;
* ``knn``      the most similar past commits (and sessions) vote for the files they touched
               (also ``knn_wide``: more neighbours, and ``knn_recent``: votes decayed with age);
* ``content``  BM25 over the file's code at the training revision (identifiers split);
* ``path``     BM25 over the file's path tokens;
* ``recency``  exponentially decayed change count (time measured in commits);
* ``freq``     log change count;
* ``cochange`` association with the seed files (confidence of ``seed => file``);
* ``cochange_recent`` the same with every co-change decayed with its age (in commits);
* ``prf``      co-change propagated from the top candidates of a fixed base fusion;
* ``template`` past commits whose message is the task's but for its numbers (``release 4.37.0``,
               ``Version 0.40.0``) vote for their files: a recurring chore touches what it
               touched before (replay files MRR: tox 0.524 -> 0.617, starlette 0.698 -> 0.753,
               uvicorn 0.635 -> 0.681). Its weight is a fixed share of the others' total.

The fused score is a weighted sum; the weights (but ``template``'s) are learned per repository
by coordinate ascent on MRR over an inner time split of the learning window (older part learns,
newer part answers), and a calibration curve maps the fused score to the probability that a ranked file is touched.

The learned parameters live in ``model_data``; the statistics live in a SQLite file (FTS5 for
text) that is a cache of the training records: every statistic is additive over commits in
order, so :meth:`FileExpert.update` with new commits leaves it exactly as :meth:`fit` over all.
"""

from __future__ import annotations

import math
import secrets
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from git_ml.experts.base import Expert, Query, TrainingData
from git_ml.experts.text import match_expression, path_tokens, tokens
from git_ml.records import CommitRecord, ExpertPrediction, SessionRecord

FEATURES = ("hist", "knn", "knn_wide", "knn_recent", "content", "path", "recency", "freq", "cochange",
            "cochange_recent", "prf")
DEFAULT_WEIGHTS = {"hist": 1.0, "knn": 1.0, "knn_wide": 0.0, "knn_recent": 0.0, "content": 1.0, "path": 0.0,
                   "recency": 0.0, "freq": 0.0, "cochange": 1.0, "cochange_recent": 0.0, "prf": 0.0}
# The ``template`` channel's weight: this share of the tuned weights' total, fixed rather than
# tuned (a recurring chore is rare in the inner split, and one more tuned weight moved the
# optimum of unrelated weights by +-0.02 MRR on single repositories). Replay files MRR was flat
# from 0.25 to 1 (0.5: mean +0.011 over 19 repositories, none lower by more than 0.005).
TEMPLATE_SHARE = 0.5
MAX_COMMIT_FILES = 30  # bigger commits (mass renames, reformatting) say little about one file
TAU = 200.0  # decay time scale of the recency prior, in commits
KNN = 20  # neighbour commits that vote
KNN_WIDE = 40  # and a wider neighbourhood
KNN_TAU = 300.0  # commits; decay of a neighbour's vote with its age, for the ``knn_recent`` channel
KNN_WINDOW = 20_000  # newest commits searched for neighbours
MAX_DF = 0.5  # query words in more of a table's rows are skipped (their BM25 idf is ~0)
POOL = 150  # candidates taken from each text channel
PRF_TOP = 3  # top candidates whose co-change is propagated
MAX_TEXT = 200_000  # characters of one file indexed as content
INDEX_VERSION = "4"
HIST_PATH_REPEAT = 3  # path tokens weigh in a file's history document as in the bench anchor
SESSION_ROWIDS = 1 << 40  # session rows in ``commits`` sit above every commit's sequence number

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS paths(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, alive INTEGER NOT NULL,
    n INTEGER NOT NULL, decay REAL NOT NULL, stamp INTEGER NOT NULL, blob TEXT);
CREATE TABLE IF NOT EXISTS cochange(a INTEGER, b INTEGER, n INTEGER NOT NULL, decay REAL NOT NULL,
    stamp INTEGER NOT NULL, PRIMARY KEY(a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen(hash TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS hist USING fts5(ptoks, body);
CREATE VIRTUAL TABLE IF NOT EXISTS content USING fts5(ptoks, body);
CREATE VIRTUAL TABLE IF NOT EXISTS pathidx USING fts5(ptoks);
CREATE VIRTUAL TABLE IF NOT EXISTS commits USING fts5(files UNINDEXED, body);
CREATE VIRTUAL TABLE IF NOT EXISTS hist_vocab USING fts5vocab(hist, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS content_vocab USING fts5vocab(content, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS commits_vocab USING fts5vocab(commits, 'row');
"""
TEXT_TABLES = ("hist", "content", "pathidx", "commits")
Neighbour = tuple[int, list[int], float, str]  # a past commit: rowid, file ids, BM25 score, message words


def is_bot(author: str) -> bool:
    """Bot commits (dependabot, pre-commit-ci) are not examples of human tasks."""
    return "[bot]" in author or author.lower() in ("dependabot", "pre-commit-ci")


def learnable(commits: Iterable[CommitRecord]) -> list[CommitRecord]:
    """The commits an expert learns from: no merges (their file lists are empty or misleading)."""
    return [c for c in commits if not c.is_merge]


class IndexUnusable(Exception):
    """The index file is missing, corrupt or does not match the model (rebuild it)."""


class FileIndex:
    """The statistics of a FileExpert in one SQLite database (``:memory:`` when no path)."""

    def __init__(self, path: Path | None):
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(str(path) if path else ":memory:")
        self.con.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self._paths: dict[int, list] | None = None  # id -> [path, alive, n, decay, stamp, blob]
        self._df: dict[str, dict[str, int]] = {}  # table -> word -> rows holding it (until a write)
        self._has_pairs = False  # whether ``cochange`` has rows (else no pair needs looking up)

    @classmethod
    def open_existing(cls, path: Path, fingerprint: str) -> "FileIndex":
        """Open an index written for ``fingerprint``; raise IndexUnusable if it is missing, corrupt
        or stale."""
        if not path.is_file():
            raise IndexUnusable(f"{path} is missing")
        try:
            index = cls(path)
            got = index.meta("fingerprint")
        except sqlite3.Error as exc:
            raise IndexUnusable(f"{path} is unreadable: {exc}") from exc
        if got != fingerprint or index.meta("version") != INDEX_VERSION:
            index.close()
            raise IndexUnusable(f"{path} is stale")
        return index

    def close(self) -> None:
        self.con.close()

    def reset(self) -> None:
        for table in ("meta", "paths", "cochange", "seen", "hist_vocab", "content_vocab", "commits_vocab",
                      "hist", "content", "pathidx", "commits"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        self.con.executescript(SCHEMA)
        self.set_meta("version", INDEX_VERSION)
        self.set_meta("seq", "0")
        self._paths = {}

    def meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def seq(self) -> int:
        return int(self.meta("seq") or 0)

    def paths(self) -> dict[int, list]:
        if self._paths is None:
            self._paths = {row[0]: list(row[1:]) for row in
                           self.con.execute("SELECT id, path, alive, n, decay, stamp, blob FROM paths")}
        return self._paths

    def fingerprint(self) -> str:
        return self.meta("fingerprint") or ""

    # -- learning --------------------------------------------------------------------------

    def ingest(self, commits: Sequence[CommitRecord], sessions: Sequence[SessionRecord] = ()) -> int:
        """Add commits (oldest first) and sessions; commits already seen are skipped. Returns
        how many commits were added."""
        paths = self.paths()
        by_path = {row[0]: pid for pid, row in paths.items()}
        next_id = max(paths, default=0) + 1
        seq = self.seq
        seen = {h for (h,) in self.con.execute("SELECT hash FROM seen")} if commits else set()
        self._has_pairs = self.con.execute("SELECT 1 FROM cochange LIMIT 1").fetchone() is not None
        hist_add: dict[int, list[str]] = defaultdict(list)
        co_add: dict[tuple[int, int], list] = {}  # (a, b), a < b -> [added count, decay, stamp]
        touched: set[int] = set()
        renamed: set[int] = set()
        commit_rows: list[tuple[int, str, str]] = []
        seen_rows: list[tuple[str]] = []

        def pid_of(path: str) -> int:
            nonlocal next_id
            pid = by_path.get(path)
            if pid is None:
                pid = by_path[path] = next_id
                paths[pid] = [path, 0, 0, 0.0, 0, None]
                next_id += 1
            return pid

        added = 0
        for c in commits:
            if c.is_merge or c.hash in seen:
                continue
            seen.add(c.hash)
            seen_rows.append((c.hash,))
            added += 1
            seq += 1
            for fc in c.files:  # renames carry a file's history to its new path
                if fc.status == "R" and fc.old_path and fc.old_path in by_path and fc.path not in by_path:
                    pid = by_path.pop(fc.old_path)
                    by_path[fc.path] = pid
                    paths[pid][0] = fc.path
                    paths[pid][5] = None  # re-index its content under the new path
                    touched.add(pid)
                    renamed.add(pid)
            live = [fc.path for fc in c.files if fc.status != "D"]
            if not live or len(c.files) > MAX_COMMIT_FILES:
                continue
            words = tokens(c.message, compounds=True)
            ids = list(dict.fromkeys(pid_of(p) for p in live))
            for pid in ids:
                row = paths[pid]
                row[2] += 1
                row[3] = row[3] * math.exp(-(seq - row[4]) / TAU) + 1.0
                row[4] = seq
                hist_add[pid].extend(words)
                touched.add(pid)
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    key = (a, b) if a < b else (b, a)
                    st = co_add.get(key)
                    if st is None:
                        st = co_add[key] = [0, *self._pair_decay(key)]
                    st[0] += 1
                    st[1] = st[1] * math.exp(-(seq - st[2]) / TAU) + 1.0
                    st[2] = seq
            if words and not is_bot(c.author):
                commit_rows.append((seq, " ".join(map(str, ids)), " ".join(words)))
        self._add_sessions(sessions, pid_of, hist_add, touched, commit_rows, seq)
        for pid in renamed:
            hist_add.setdefault(pid, [])
        self._write(paths, touched, hist_add, co_add, commit_rows, seen_rows, seq)
        return added

    def _add_sessions(self, sessions, pid_of, hist_add, touched, commit_rows, seq) -> None:
        # A session's first prompt is a task worded by its author; the files it modified answer it.
        for s in sessions:
            if not s.prompts or not s.files_modified:
                continue
            key = f"session:{s.session_id}"
            if self.con.execute("SELECT 1 FROM seen WHERE hash = ?", (key,)).fetchone():
                continue
            self.con.execute("INSERT INTO seen VALUES (?)", (key,))
            words = tokens(s.prompts[0], compounds=True)
            ids = list(dict.fromkeys(pid_of(p) for p in s.files_modified[:MAX_COMMIT_FILES]))
            for pid in ids:
                hist_add[pid].extend(words)
                touched.add(pid)
            if words:
                n_sessions = int(self.meta("sessions") or 0) + 1
                self.set_meta("sessions", str(n_sessions))
                commit_rows.append((SESSION_ROWIDS + n_sessions, " ".join(map(str, ids)), " ".join(words)))

    def _pair_decay(self, key: tuple[int, int]) -> tuple[float, int]:
        """The stored (decay, stamp) of a file pair; (0, 0) when it never changed together."""
        if not self._has_pairs:
            return 0.0, 0
        row = self.con.execute("SELECT decay, stamp FROM cochange WHERE a = ? AND b = ?", key).fetchone()
        return (row[0], row[1]) if row else (0.0, 0)

    def _write(self, paths, touched, hist_add, co_add, commit_rows, seen_rows, seq) -> None:
        con = self.con
        with con:
            con.executemany("INSERT OR REPLACE INTO paths VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(pid, *paths[pid]) for pid in sorted(touched)])
            for pid in sorted(hist_add):
                row = con.execute("SELECT body FROM hist WHERE rowid = ?", (pid,)).fetchone()
                body = " ".join(hist_add[pid])
                if row:
                    body = f"{row[0]} {body}" if row[0] and body else (row[0] or body)
                    con.execute("DELETE FROM hist WHERE rowid = ?", (pid,))
                ptoks = " ".join(path_tokens(paths[pid][0]) * HIST_PATH_REPEAT)
                con.execute("INSERT INTO hist(rowid, ptoks, body) VALUES (?, ?, ?)", (pid, ptoks, body))
            con.executemany("INSERT INTO cochange VALUES (?, ?, ?, ?, ?) ON CONFLICT(a, b) "
                            "DO UPDATE SET n = n + excluded.n, decay = excluded.decay, stamp = excluded.stamp",
                            [row for (a, b), (n, d, t) in sorted(co_add.items())
                             for row in ((a, b, n, d, t), (b, a, n, d, t))])
            con.executemany("INSERT INTO commits(rowid, files, body) VALUES (?, ?, ?)", commit_rows)
            con.executemany("INSERT OR IGNORE INTO seen VALUES (?)", seen_rows)
            self.set_meta("seq", str(seq))
            self._count_rows()

    def index_content(self, snapshot: Any, cache: dict[str, str] | None = None) -> None:
        """Make the ``content`` table and ``alive`` flags match ``snapshot`` (re-reading only files
        whose blob changed), so an updated index equals one built from scratch at that revision."""
        paths = self.paths()
        by_path = {row[0]: pid for pid, row in paths.items()}
        next_id = max(paths, default=0) + 1
        files = set(snapshot.files()) if snapshot is not None else set()
        con = self.con
        with con:
            for pid, row in paths.items():
                if row[1] and row[0] not in files:
                    row[1], row[5] = 0, None
                    con.execute("DELETE FROM content WHERE rowid = ?", (pid,))
                    con.execute("DELETE FROM pathidx WHERE rowid = ?", (pid,))
                    con.execute("UPDATE paths SET alive = 0, blob = NULL WHERE id = ?", (pid,))
            for path in sorted(files):
                blob = snapshot.blob_id(path)
                pid = by_path.get(path)
                if pid is None:
                    pid = by_path[path] = next_id
                    next_id += 1
                    paths[pid] = [path, 0, 0, 0.0, 0, None]
                row = paths[pid]
                if row[1] and row[5] == blob:
                    continue
                body = cache.get(blob) if cache is not None and blob else None
                if body is None:
                    text = snapshot.text(path) or ""
                    body = " ".join(tokens(text[:MAX_TEXT], compounds=True))
                    if cache is not None and blob:
                        cache[blob] = body
                ptoks = " ".join(path_tokens(path))
                con.execute("DELETE FROM content WHERE rowid = ?", (pid,))
                con.execute("DELETE FROM pathidx WHERE rowid = ?", (pid,))
                con.execute("INSERT INTO content(rowid, ptoks, body) VALUES (?, ?, ?)", (pid, ptoks, body))
                con.execute("INSERT INTO pathidx(rowid, ptoks) VALUES (?, ?)", (pid, ptoks))
                row[1], row[5] = 1, blob
                con.execute("INSERT OR REPLACE INTO paths VALUES (?, ?, ?, ?, ?, ?, ?)", (pid, *row))
            self._count_rows()

    def _count_rows(self) -> None:
        self._df = {}
        for table in TEXT_TABLES:
            self.set_meta(f"rows:{table}", str(self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))

    def selective(self, table: str, words: list[str]) -> list[str]:
        """The query words worth searching ``table`` for: a word in more than MAX_DF of its rows
        adds (next to) nothing to BM25 (FTS5 clamps a negative idf) but costs the most time."""
        uniq = list(dict.fromkeys(words))
        n = int(self.meta(f"rows:{table}") or 0)
        if not uniq or not n or table == "pathidx":
            return uniq
        cache = self._df.setdefault(table, {})
        todo = [w for w in uniq if w not in cache]
        if todo:
            found = dict(self.con.execute(
                f"SELECT term, doc FROM {table}_vocab WHERE term IN ({','.join('?' * len(todo))})", todo))
            cache.update((w, found.get(w, 0)) for w in todo)
        return [w for w in uniq if cache[w] <= MAX_DF * n]

    def stamp(self) -> str:
        """Give the index a new fingerprint (after every change) and return it."""
        fp = secrets.token_hex(8)
        with self.con:
            self.set_meta("fingerprint", fp)
        return fp

    def dump(self) -> dict[str, Any]:
        """Every table's rows, for comparing two indexes (tests)."""
        out = {}
        for table, order in (("paths", "id"), ("cochange", "a, b"), ("seen", "hash"),
                             ("hist", "rowid"), ("content", "rowid"), ("pathidx", "rowid"),
                             ("commits", "rowid")):
            cols = "rowid, *" if table in ("hist", "content", "pathidx", "commits") else "*"
            out[table] = self.con.execute(f"SELECT {cols} FROM {table} ORDER BY {order}").fetchall()
        out["seq"] = self.seq
        return out

    # -- answering -------------------------------------------------------------------------

    def text_channel(self, table: str, expr: str, limit: int = POOL) -> dict[int, float]:
        if not expr:
            return {}
        # Filtering dead files in SQL makes FTS5 score row by row (100x slower): filter here.
        sql = f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH ? ORDER BY bm25({table}) LIMIT ?"
        paths = self.paths()
        out: dict[int, float] = {}
        try:
            for pid, s in self.con.execute(sql, (expr, limit * 4)):
                row = paths.get(pid)
                if row is not None and row[1]:
                    out[pid] = s
                    if len(out) >= limit:
                        break
        except sqlite3.OperationalError:
            return {}
        return out

    def neighbours(self, expr: str, k: int = KNN_WIDE) -> list[Neighbour]:
        """The ``k`` most similar past commits (and sessions): (rowid, file ids, BM25 score, words)."""
        if not expr:
            return []
        # Only the newest KNN_WINDOW commits (and all sessions) are neighbours: FTS5 narrows a rowid
        # range cheaply, which bounds the cost on long histories.
        sql = ("SELECT rowid, files, -bm25(commits), body FROM commits WHERE commits MATCH ? AND rowid > ? "
               "ORDER BY bm25(commits) LIMIT ?")
        try:
            rows = self.con.execute(sql, (expr, self.seq - KNN_WINDOW, k)).fetchall()
        except sqlite3.OperationalError:
            return []
        return [(rowid, [int(f) for f in files.split()], score, body) for rowid, files, score, body in rows]

    def cochange(self, pid: int) -> dict[int, tuple[int, float]]:
        """The files that changed with ``pid``: their count, and its decayed count now."""
        seq = self.seq
        return {b: (n, d * math.exp(-(seq - t) / TAU))
                for b, n, d, t in self.con.execute("SELECT b, n, decay, stamp FROM cochange WHERE a = ?", (pid,))}


def _votes(rows: list[Neighbour], seq: int) -> dict[str, dict[int, float]]:
    """Neighbour commits vote for their files (score / their file count), three ways: the
    nearest KNN, the nearest KNN_WIDE, and the nearest KNN weighted by how recent each commit is
    (sessions count as recent). Which helps differs by repository: tuning weighs them."""
    out: dict[str, dict[int, float]] = {"knn": defaultdict(float), "knn_wide": defaultdict(float),
                                        "knn_recent": defaultdict(float)}
    for n, (rowid, ids, score, _) in enumerate(rows):
        share = score / max(1, len(ids))
        age = max(0, seq - rowid) if rowid < SESSION_ROWIDS else 0
        recent = share * math.exp(-age / KNN_TAU)
        for f in ids:
            out["knn_wide"][f] += share
            if n < KNN:
                out["knn"][f] += share
                out["knn_recent"][f] += recent
    return {name: _normalised(v) for name, v in out.items()}


def _template(words: Sequence[str]) -> str:
    """A message's words without its numbers (``release 4.37.0`` -> ``release``; the tokenizer
    already drops one-digit numbers, so they cannot be kept as placeholders)."""
    return " ".join(w for w in words if not w.isdigit())


def _template_votes(rows: list[Neighbour], words: Sequence[str]) -> dict[int, float]:
    """Past commits whose message is the task's but for its numbers (``release 4.37.0``,
    ``Bump version to 2.1``) vote for their files: a recurring chore touches the same files."""
    if not any(not w.isdigit() for w in words):
        return {}
    mine = _template(words)
    votes: dict[int, float] = defaultdict(float)
    for _, ids, _, body in rows:
        if _template(body.split()) == mine:
            for f in ids:
                votes[f] += 1.0 / len(ids)
    return _normalised(votes)


def _normalised(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {k: v / top for k, v in scores.items()} if top > 0 else {}


class FileExpert(Expert):
    """Ranks the files a task will touch; see the module docstring for the channels."""

    expert_type = "file"
    version = "1.3.0"

    def __init__(self, expert_id: str | None = None, *, index_path: Path | None = None,
                 weights: dict[str, float] | None = None, tune: bool = True):
        super().__init__(expert_id)
        self.index_path = index_path
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self.tune = tune and weights is None
        self.fingerprint = ""
        self.tuning: dict[str, Any] = {}
        self._index: FileIndex | None = None
        self._cochange_cache: dict[int, dict[int, tuple[int, float]]] = {}
        self._content_cache: dict[str, str] = {}  # blob id -> tokens, shared by tuning and fit

    # -- learning ----------------------------------------------------------------------------

    @property
    def index(self) -> FileIndex:
        if self._index is None:
            if self.index_path is None:
                raise IndexUnusable("the file expert has no index")
            self._index = FileIndex.open_existing(self.index_path, self.fingerprint)
        return self._index

    def index_ok(self) -> bool:
        """Whether the index file exists, opens and matches this model (else: rebuild it)."""
        try:
            self.index
        except IndexUnusable:
            return False
        return True

    def _fresh_index(self) -> FileIndex:
        if self._index is not None:
            self._index.close()
        if self.index_path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.index_path) + suffix).unlink(missing_ok=True)
        self._index = FileIndex(self.index_path)
        self._index.reset()
        self._cochange_cache = {}
        return self._index

    def fit(self, data: TrainingData) -> None:
        """Learn from scratch. With tuning, the index is first built on the older part of the
        tuning window (the inner split), the weights are tuned on its newer part, and the same
        index is then brought up to date incrementally (equal to a build over everything)."""
        if not self.tune:
            self.build_index(data)
            return
        from git_ml.experts.file_tuning import inner_cut, tune_weights, tuning_window

        commits = learnable(data.commits)
        window = tuning_window(len(commits))
        cut = inner_cut(commits[:window])
        index = self._fresh_index()
        if cut:
            snapshot = data.snapshot
            inner = snapshot.at(commits[cut - 1].hash) if hasattr(snapshot, "at") else snapshot
            try:
                index.ingest(commits[:cut])
                index.index_content(inner, self._content_cache)
            finally:
                if inner is not snapshot:
                    inner.close()
        self.weights, self.calibration_curve, self.tuning = tune_weights(self, commits[:window], cut)
        self.tuning["window"] = window
        index.ingest(commits[cut:], data.sessions)
        index.index_content(data.snapshot, self._content_cache)
        self._content_cache = {}
        self._cochange_cache = {}
        self._finish(data, index)

    def build_index(self, data: TrainingData) -> None:
        """(Re)build the statistics from ``data`` with the current weights (no tuning)."""
        index = self._fresh_index()
        index.ingest(learnable(data.commits), data.sessions)
        index.index_content(data.snapshot, self._content_cache)
        self._finish(data, index)

    def update(self, data: TrainingData, new_commits: Sequence[CommitRecord],
               new_sessions: Sequence[SessionRecord] = ()) -> None:
        """Add the new records to the statistics (equal to a rebuild). When the history has grown
        past the tuning window, re-tune from scratch instead (tuning needs an index of the
        older commits only), so the result always equals :meth:`fit` over the same data."""
        from git_ml.experts.file_tuning import tuning_window

        if self.tune and tuning_window(len(learnable(data.commits))) != self.tuning.get("window"):
            self.fit(data)
            return
        index = self.index
        index.ingest(learnable(new_commits), new_sessions)
        index.index_content(data.snapshot)
        self._cochange_cache = {}
        self._finish(data, index)

    def _finish(self, data: TrainingData, index: FileIndex) -> None:
        self.fingerprint = index.stamp()
        self.trained_on_commits = int(index.con.execute(
            "SELECT count(*) FROM seen WHERE hash NOT LIKE 'session:%'").fetchone()[0])
        self.trained_on_sessions = int(index.con.execute(
            "SELECT count(*) FROM seen WHERE hash LIKE 'session:%'").fetchone()[0])
        rev = getattr(data.snapshot, "revision", "") or ""
        self.git_hash = rev or (data.commits[-1].hash if data.commits else "")

    # -- answering ---------------------------------------------------------------------------

    def features(self, query: Query) -> dict[int, dict[str, float]]:
        """Every candidate file id with its normalised channel scores."""
        index = self.index
        paths = index.paths()
        words = tokens(query.text or "", compounds=True)
        expr = {t: match_expression(index.selective(t, words)) if words else "" for t in TEXT_TABLES}
        channels: dict[str, dict[int, float]] = {
            "hist": _normalised(index.text_channel("hist", expr["hist"])),
            "content": _normalised(index.text_channel("content", expr["content"])),
            "path": _normalised(index.text_channel("pathidx", expr["pathidx"])),
        }
        rows = index.neighbours(expr["commits"])
        channels.update(_votes(rows, index.seq))
        channels["template"] = _template_votes(rows, words)
        wanted = set(query.files)
        seeds = [pid for pid, row in paths.items() if row[0] in wanted]
        seq = index.seq
        co: dict[int, float] = defaultdict(float)
        co_recent: dict[int, float] = defaultdict(float)
        for s in seeds:
            n_s = max(1, paths[s][2])
            d_s = paths[s][3] * math.exp(-(seq - paths[s][4]) / TAU) or 1.0
            for b, (n, d) in self._cochange(s).items():
                co[b] += n / n_s
                co_recent[b] += d / d_s
        channels["cochange"] = _normalised(co)
        channels["cochange_recent"] = _normalised(co_recent)
        rec = {pid: row[3] * math.exp(-(seq - row[4]) / TAU) for pid, row in paths.items() if row[1] and row[2]}
        recent = sorted(rec, key=rec.get, reverse=True)[:20]
        cand: dict[int, dict[str, float]] = defaultdict(dict)
        for name, scores in channels.items():
            for pid, v in scores.items():
                cand[pid][name] = v
        for pid in recent:
            cand.setdefault(pid, {})
        # Pseudo-relevance feedback: what the best text matches usually change with.
        base = sorted(cand, key=lambda p: -(cand[p].get("hist", 0) + cand[p].get("knn", 0)
                                            + cand[p].get("content", 0) + cand[p].get("cochange", 0)))
        prf: dict[int, float] = defaultdict(float)
        for top in [p for p in base if p in paths and paths[p][1]][:PRF_TOP]:
            strength = (cand[top].get("hist", 0) + cand[top].get("knn", 0) + cand[top].get("content", 0)) / 3
            n_t = max(1, paths[top][2])
            for b, (n, _) in self._cochange(top).items():
                prf[b] += strength * n / n_t
        for pid, v in _normalised(prf).items():
            cand[pid]["prf"] = v
        max_rec = max(rec.values(), default=0.0) or 1.0
        max_freq = math.log1p(max((row[2] for row in paths.values() if row[1]), default=0)) or 1.0
        out: dict[int, dict[str, float]] = {}
        exclude = set(seeds)
        for pid, feats in cand.items():
            row = paths.get(pid)
            if row is None or not row[1] or pid in exclude:
                continue
            feats["recency"] = rec.get(pid, 0.0) / max_rec
            feats["freq"] = math.log1p(row[2]) / max_freq
            out[pid] = feats
        return out

    def _cochange(self, pid: int) -> dict[int, tuple[int, float]]:
        got = self._cochange_cache.get(pid)
        if got is None:
            got = self._cochange_cache[pid] = self.index.cochange(pid)
        return got

    def rank(self, query: Query) -> list[tuple[str, float]]:
        """Every candidate as (path, fused score), best first."""
        paths = self.index.paths()
        feats = self.features(query)
        w = self.weights
        chore = TEMPLATE_SHARE * sum(v for v in w.values() if v > 0)
        scored = [(sum(w.get(k, 0.0) * v for k, v in f.items()) + chore * f.get("template", 0.0),
                   f.get("recency", 0.0), paths[pid][0]) for pid, f in feats.items()]
        scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
        return [(p, s) for s, _, p in scored]

    def predict(self, query: Query, top: int = 10) -> ExpertPrediction:
        ranked = self.rank(query)[:top]
        total = sum(v for v in self.weights.values() if v > 0) or 1.0
        items = [(p, round(self.confidence(s / total), 4)) for p, s in ranked]
        return self._prediction(items)

    def confidence(self, x: float) -> float:
        """P(a ranked file is touched) for a fused score share ``x``, from the calibration curve."""
        curve = self.calibration_curve
        if not curve:
            return max(0.0, min(1.0, x))
        if x <= curve[0][0]:
            return curve[0][1]
        for (x0, y0), (x1, y1) in zip(curve, curve[1:]):
            if x <= x1:
                return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
        return curve[-1][1]

    # -- persistence -------------------------------------------------------------------------

    def model_data(self) -> dict[str, Any]:
        return {"weights": self.weights, "fingerprint": self.fingerprint, "tuning": self.tuning,
                "tune": self.tune, "index": self.index_path.name if self.index_path else None}

    def load_model_data(self, data: dict[str, Any]) -> None:
        self.weights = {k: float(v) for k, v in data.get("weights", DEFAULT_WEIGHTS).items()}
        self.fingerprint = data.get("fingerprint", "")
        self.tuning = data.get("tuning", {})
        # A model saved before "tune" was recorded was tuned when it has a tuning report: its next
        # update then re-tunes (its report has no window), as a training would.
        self.tune = bool(data.get("tune", bool(self.tuning)))

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
