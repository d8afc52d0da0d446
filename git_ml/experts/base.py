"""The contract every micro-expert follows.

An expert is a whole small model of one aspect (files, tests, errors, docs, refactors, one
session). It learns only from a :class:`TrainingData` (commits and sessions up to a point in
time, and the code as it was at that point), so the same code serves live use and temporal
replay without leakage. Its state is plain data (``model_data``) that additive updates keep
equal to a from-scratch fit on the same records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from git_ml.records import (
    CIResult,
    CommitRecord,
    ExpertMetrics,
    ExpertPrediction,
    MicroExpert,
    SessionRecord,
)


@dataclass
class Query:
    """What a surface asks. Any field may be empty; experts use what applies to them."""

    text: str | None = None  # task description, error message / traceback, question
    files: list[str] = field(default_factory=list)  # seed files / changed files (repo-relative)
    diff: str | None = None  # unified diff, when known
    refactor_type: str | None = None  # rename, move, extract, signature, ...


@dataclass
class TrainingData:
    """Everything an expert may learn from, as of one point in time.

    ``commits`` are oldest first and never newer than ``revision``; ``snapshot`` reads the code
    at ``revision`` (see :mod:`git_ml.experts.snapshot`).
    """

    commits: Sequence[CommitRecord]
    sessions: Sequence[SessionRecord] = ()
    ci: Sequence[CIResult] = ()
    revision: str = "HEAD"
    snapshot: Any = None  # git_ml.experts.snapshot.Snapshot


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Expert(ABC):
    """A micro-expert. Subclasses set ``expert_type`` and ``version`` and implement the four hooks."""

    expert_type: ClassVar[str]
    version: ClassVar[str] = "1.0.0"

    def __init__(self, expert_id: str | None = None):
        self.expert_id = expert_id or f"{self.expert_type}_expert"
        self.created_at = utc_now()
        self.trained_on_commits = 0
        self.trained_on_sessions = 0
        self.git_hash = ""
        self.metrics: ExpertMetrics | None = None
        self.calibration_curve: list[tuple[float, float]] | None = None

    # -- learning ----------------------------------------------------------------------------

    @abstractmethod
    def fit(self, data: TrainingData) -> None:
        """Learn from scratch."""

    @abstractmethod
    def update(self, data: TrainingData, new_commits: Sequence[CommitRecord],
               new_sessions: Sequence[SessionRecord] = ()) -> None:
        """Add new records to a fitted model; equal to ``fit`` over old + new records."""

    # -- answering ---------------------------------------------------------------------------

    @abstractmethod
    def predict(self, query: Query, top: int = 10) -> ExpertPrediction:
        """Ranked (item, confidence) pairs, best first; confidence in [0, 1]."""

    # -- persistence -------------------------------------------------------------------------

    @abstractmethod
    def model_data(self) -> dict[str, Any]:
        """The learned state as JSON-ready data."""

    @abstractmethod
    def load_model_data(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`model_data`."""

    def to_micro(self) -> MicroExpert:
        return MicroExpert(
            expert_id=self.expert_id,
            expert_type=self.expert_type,
            version=self.version,
            created_at=self.created_at,
            trained_on_commits=self.trained_on_commits,
            trained_on_sessions=self.trained_on_sessions,
            git_hash=self.git_hash,
            model_data=self.model_data(),
            metrics=self.metrics,
            calibration_curve=self.calibration_curve,
        )

    @classmethod
    def from_micro(cls, micro: MicroExpert) -> "Expert":
        expert = cls(micro.expert_id)
        expert.created_at = micro.created_at
        expert.trained_on_commits = micro.trained_on_commits
        expert.trained_on_sessions = micro.trained_on_sessions
        expert.git_hash = micro.git_hash
        expert.metrics = micro.metrics
        expert.calibration_curve = micro.calibration_curve
        expert.load_model_data(micro.model_data)
        return expert

    def _prediction(self, items: list[tuple[str, float]], **metadata: Any) -> ExpertPrediction:
        return ExpertPrediction(expert_id=self.expert_id, expert_type=self.expert_type,
                                items=items, metadata=metadata)
