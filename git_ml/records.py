"""Every record git-ml writes to disk, as msgspec Structs.

Tracked records (``.git-ml/tracked/*.jsonl``) are append-only, one JSON object per line, with a
stable content-derived ``id``: readers de-duplicate on it, so the same fact captured twice is one
record. Expert files (``.git-ml/experts/**.json``) are caches rebuilt from tracked data and git.

Field names are part of the on-disk contract: add fields with defaults, never rename or remove.
Unknown fields are ignored on decode, so older clients read newer files.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Literal

import msgspec

SCHEMA_VERSION = 1

FileStatus = Literal["A", "M", "D", "R", "C", "T", "U", "X"]
CommitSource = Literal["hook", "backfill", "rewrite"]
ExpertType = Literal["file", "test", "error", "doc", "refactor", "episode", "review"]


class Record(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every tracked record: a schema version and a content-derived id."""

    KIND: ClassVar[str] = ""

    v: int = SCHEMA_VERSION
    id: str = ""

    def identity(self) -> tuple[Any, ...]:
        """The fields that make two records 'the same fact'. Subclasses narrow this."""
        raise NotImplementedError

    def with_id(self):
        """Return this record with ``id`` set from its identity (stable across clones)."""
        digest = hashlib.blake2b(msgspec.json.encode(self.identity()), digest_size=10).hexdigest()
        return msgspec.structs.replace(self, id=f"{self.KIND[:1]}{digest}")


# --------------------------------------------------------------------------------------------
# Commits


class FileChange(msgspec.Struct, kw_only=True, omit_defaults=True, array_like=False):
    path: str
    status: str = "M"  # one of FileStatus; free string so an unknown git letter never fails
    old_path: str | None = None
    insertions: int | None = None  # None for binary files
    deletions: int | None = None


class CommitRecord(Record, kw_only=True, omit_defaults=True):
    """One commit as git-ml learns from it (metadata only: diffs are never stored)."""

    KIND: ClassVar[str] = "commit"

    hash: str
    parents: list[str] = []
    author: str = ""
    author_time: int = 0  # unix seconds
    branch: str | None = None
    message: str = ""
    files: list[FileChange] = []
    is_merge: bool = False
    session_id: str | None = None  # agent session active when the commit was made
    source: str = "hook"  # one of CommitSource
    files_truncated: bool = False  # True when a huge commit's file list was capped

    def identity(self) -> tuple[Any, ...]:
        return ("commit", self.hash)


class RewriteRecord(Record, kw_only=True, omit_defaults=True):
    """post-rewrite: ``old`` was replaced by ``new`` (amend or rebase)."""

    KIND: ClassVar[str] = "rewrite"

    old: str
    new: str
    how: str = "rebase"  # 'amend' | 'rebase'
    time: int = 0

    def identity(self) -> tuple[Any, ...]:
        return ("rewrite", self.old, self.new)


# --------------------------------------------------------------------------------------------
# Agent sessions


class TestRun(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A test command run during a session, with what it targeted and how it ended."""

    command: str
    runner: str = ""  # pytest, tox, nox, npm, yarn, go, cargo, ...
    targets: list[str] = []  # repo-relative test files or test ids
    outcome: str = "unknown"  # passed | failed | error | unknown
    failed: list[str] = []  # failing test ids / files when reported
    timestamp: str | None = None


class SessionError(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An error seen in a session (a failing tool result or a traceback) and the files it names."""

    message: str
    files: list[str] = []
    tool: str | None = None
    timestamp: str | None = None
    fixed_by: list[str] = []  # files modified after the error, before the session moved on


class SessionRecord(Record, kw_only=True, omit_defaults=True):
    """One agent session, redacted, with paths repo-relative."""

    KIND: ClassVar[str] = "session"

    session_id: str
    agent: str = "claude"  # claude | codex | gemini | copilot | cursor | ...
    agent_version: str | None = None
    started_at: str | None = None  # ISO-8601 UTC
    ended_at: str | None = None
    end_reason: str | None = None
    branch: str | None = None
    prompts: list[str] = []  # first is the task; later prompts follow
    prompt_files: list[list[str]] = []  # files read or modified while answering prompts[i]
    files_read: list[str] = []
    files_modified: list[str] = []
    commands: list[str] = []
    test_runs: list[TestRun] = []
    errors: list[SessionError] = []
    commits: list[str] = []  # commits made during the session
    captured_at: str = ""  # later capture of the same session wins
    transcript_lines: int = 0
    skipped_lines: int = 0

    def identity(self) -> tuple[Any, ...]:
        return ("session", self.agent, self.session_id)


# --------------------------------------------------------------------------------------------
# Tests and CI


class TestOutcome(msgspec.Struct, kw_only=True, omit_defaults=True):
    test_id: str  # pytest node id or test file
    outcome: str  # passed | failed | error | skipped
    duration: float | None = None
    file: str | None = None


class CIResult(Record, kw_only=True, omit_defaults=True):
    """Test outcomes for a commit, from a local run (pytest plugin) or CI."""

    KIND: ClassVar[str] = "ci"

    commit: str
    source: str = "local"  # local | ci | session
    run_id: str = ""
    time: int = 0
    outcomes: list[TestOutcome] = []
    # files changed against ``commit`` when the tests ran (a local run in a working tree with
    # changes); empty: the tests ran on the commit itself, whose own changes are the suspects
    changed: list[str] = []

    def identity(self) -> tuple[Any, ...]:
        return ("ci", self.commit, self.source, self.run_id)


class CoveredUnit(msgspec.Struct, array_like=True):
    """A function of the repository's code and the tests that ran it (indices into ``TestMap.tests``)."""

    path: str  # repo-relative
    name: str  # qualified name, as Python gives it (``Parser.parse_print``, ``f.<locals>.g``)
    start: int  # first and last line when recorded
    end: int
    tests: list[int]


class TestMap(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Which tests ran which functions of the repository, recorded by the pytest plugin
    (``pytest --git-ml-record``) into ``.git-ml/local/test_map.json``: local to this machine, as
    it describes this checkout's code. A run of some tests replaces what is known of those tests."""

    schema: int = SCHEMA_VERSION
    revision: str | None = None  # HEAD at the latest recording
    recorded_at: str = ""  # ISO-8601 UTC
    tests: list[str] = []  # test ids: ``tests/test_x.py::TestY::test_z`` (repo-relative)
    units: list[CoveredUnit] = []


TRACKED_KINDS: dict[str, type[Record]] = {
    "commits": CommitRecord,
    "rewrites": RewriteRecord,
    "sessions": SessionRecord,
    "ci": CIResult,
}


# --------------------------------------------------------------------------------------------
# Experts and predictions (the seed's data classes)


class ExpertMetrics(msgspec.Struct, kw_only=True, omit_defaults=True):
    mrr: float = 0.0
    recall_at_k: dict[int, float] = {}
    precision_at_k: dict[int, float] = {}
    acc_at_k: dict[int, float] = {}
    map: float = 0.0
    calibration_error: float = 0.0  # expected calibration error
    test_examples: int = 0
    anchors: dict[str, float] = {}  # anchor name -> MRR on the same items
    measured_at: str | None = None


class MicroExpert(msgspec.Struct, kw_only=True):
    """One micro-expert: a whole small model of one aspect, serialised as JSON."""

    expert_id: str
    expert_type: str  # one of ExpertType
    version: str
    created_at: str
    trained_on_commits: int = 0
    trained_on_sessions: int = 0
    git_hash: str = ""
    model_data: dict[str, Any] = {}
    metrics: ExpertMetrics | None = None
    calibration_curve: list[tuple[float, float]] | None = None


class ExpertPrediction(msgspec.Struct, kw_only=True):
    expert_id: str
    expert_type: str
    items: list[tuple[str, float]]  # (item, confidence), best first
    metadata: dict[str, Any] = {}


class PredictedItem(msgspec.Struct, kw_only=True):
    item: str
    confidence: float
    experts: list[str] = []
    detail: dict[str, Any] = {}


class AggregatedPrediction(msgspec.Struct, kw_only=True):
    """The answer of ``git ml predict``; its JSON form is the public contract."""

    intent: str
    items: list[PredictedItem]
    contributing_experts: list[str]
    disagreement_score: float
    confidence: float
