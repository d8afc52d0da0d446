"""The public library API of git-ml. The CLI, the hooks, the pytest plugin and the MCP server are
all thin surfaces over these functions.

Every function takes the path of a directory inside a repository and raises
:class:`git_ml.layout.GitMLError` (with a message that says what to do) on bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from git_ml.layout import GitMLError, Layout, find_layout
from git_ml.records import AggregatedPrediction, CommitRecord, MicroExpert
from git_ml.store import Store

__all__ = [
    "GitMLError", "InitReport", "init", "backfill", "train", "stats", "predict", "predict_batch",
    "evaluate", "sync", "uninstall", "install_agent", "ingest_sessions", "open_store",
]


# Above this many commits, init trains the experts in a detached process instead of waiting.
FOREGROUND_TRAIN_COMMITS = 20_000
LOCK_WAIT_INIT = 120.0


def open_store(cwd: Path | str) -> tuple[Layout, Store]:
    """The layout and store of an initialised repository (raises if ``git ml init`` never ran)."""
    layout = find_layout(cwd)
    if not layout.is_initialized():
        raise GitMLError(f"git-ml is not set up in {layout.worktree}: run `git ml init` first")
    return layout, Store(layout)


@dataclass
class InitReport:
    worktree: Path
    backfilled: int = 0
    trained: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"git-ml initialised in {self.worktree / '.git-ml'}",
               f"backfilled {self.backfilled} commit(s)"]
        if self.trained:
            out.append("trained experts: " + ", ".join(self.trained))
        out += self.notes
        out += self.hooks
        out += self.agents
        return out


def init(cwd: Path | str, *, hooks: bool = True, agents: Sequence[str] = (), progress: Any = None) -> InitReport:
    """Create the layout, backfill history, train the experts, install hooks (and agent hooks)."""
    layout = find_layout(cwd)
    layout.create()
    report = InitReport(worktree=layout.worktree)
    report.backfilled = backfill(cwd)
    store = Store(layout)
    commits = store.count("commits")
    if commits > FOREGROUND_TRAIN_COMMITS:
        # A long history trains in the background so that init returns in backfill time; the
        # experts appear as soon as they are saved (`git ml stats`), and hooks keep them current.
        from git_ml.detach import spawn_detached

        spawn_detached(["train"], cwd=layout.worktree, log=layout.state / "train.log")
        report.notes.append(f"training experts on {commits} commits in the background "
                            "(`git ml stats` lists them when ready; log: .git-ml/state/train.log)")
    else:
        from git_ml.experts.registry import update

        # From scratch the first time; a second init only adds what is new.
        report.trained = update(layout, store, timeout=LOCK_WAIT_INIT)
        if not report.trained:
            report.notes.append("experts are up to date")
    if hooks:
        from git_ml.install import install_hooks
        from git_ml.sync import configure_remote

        report.hooks = install_hooks(layout) + configure_remote(layout)
    for agent in agents:
        report.agents += install_agent(cwd, agent)
    if not layout.test_map_file.exists() and _has_pytest_tests(layout.worktree):
        report.notes.append("tip: `pytest --git-ml-record` records which tests run which code; the test "
                            "and error experts then put those tests (and the code they ran) first")
    return report


def _has_pytest_tests(worktree: Path) -> bool:
    import subprocess

    out = subprocess.run(["git", "ls-files", "--", "*test_*.py", "*_test.py"], cwd=worktree,
                         capture_output=True, check=False)
    return bool(out.stdout.strip())


def backfill(cwd: Path | str, *, since: str | None = None) -> int:
    """Capture history (all of it, or after ``since``) into tracked/commits.jsonl; idempotent."""
    layout, store = open_store(cwd)
    from git_ml.capture.backfill import backfill as _backfill

    return _backfill(layout, store, since=since)


def train(cwd: Path | str, *, experts: Sequence[str] | None = None) -> list[MicroExpert]:
    """Train domain experts from scratch on tracked data and git history and save them."""
    layout, store = open_store(cwd)
    from git_ml.experts.registry import train_all

    return train_all(layout, store, only=experts)


def stats(cwd: Path | str):
    layout, store = open_store(cwd)
    from git_ml.surfaces.report import collect_stats

    return collect_stats(layout, store)


def predict(
    cwd: Path | str,
    query: str | None = None,
    *,
    experts: Sequence[str] = (),
    files: Sequence[str] = (),
    staged: bool = False,
    rev_range: str | None = None,
    top: int = 10,
    note: Callable[[str], None] | None = None,
) -> AggregatedPrediction:
    """Ask the experts (chosen by ``experts`` or by the query's intent) and return their vote.

    ``files`` are read relative to ``cwd`` (as a shell user in ``cwd`` means them), else to the
    repository root; ``note`` receives one line about each file that is in neither."""
    layout, store = open_store(cwd)
    from git_ml.routing.predictor import Predictor

    with Predictor.load(layout, store) as predictor:
        return predictor.predict(query, experts=experts, files=files, staged=staged, rev_range=rev_range,
                                 top=top, cwd=Path(cwd), note=note)


def predict_batch(cwd: Path | str, source: Path | IO[bytes], *, top: int = 10) -> Iterator[str]:
    """Answer a JSONL batch of ``{"id", "query"?, "files"?, "expert"?}``, one JSON line each,
    loading the experts once (and closing them when the batch ends)."""
    layout, store = open_store(cwd)
    from git_ml.routing.predictor import Predictor

    return Predictor.load(layout, store).predict_batch(source, top=top)


def evaluate(cwd: Path | str, *, split: float = 0.8, experts: Sequence[str] | None = None, progress: Any = None):
    """Temporal replay on the repository's own history; stores metrics in each expert."""
    layout, store = open_store(cwd)
    from git_ml.evaluation.replay import evaluate_repository

    return evaluate_repository(layout, store, split=split, only=experts, progress=progress)


def sync(cwd: Path | str, *, remote: str | None = None):
    """Publish this clone's records to ``refs/git-ml/*`` on the remote and import everyone's."""
    layout, store = open_store(cwd)
    from git_ml.sync import sync as _sync

    return _sync(layout, store, remote=remote)


def uninstall(cwd: Path | str) -> list[str]:
    """Remove exactly what init installed (hooks, agent settings); keep the data."""
    layout = find_layout(cwd)  # a bad directory is reported before anything is imported
    from git_ml.install import uninstall_hooks
    from git_ml.capture.agents.install import uninstall_agents
    from git_ml.sync import unconfigure_remote

    return uninstall_hooks(layout) + unconfigure_remote(layout) + uninstall_agents(layout)


def install_agent(cwd: Path | str, agent: str) -> list[str]:
    """Merge an agent's session hooks into the repository's agent settings, idempotently."""
    layout = find_layout(cwd)
    from git_ml.capture.agents.install import install_agent as _install

    layout.create()
    return _install(layout, agent)


def ingest_sessions(cwd: Path | str, paths: Iterable[Path], *, agent: str | None = None,
                    force: bool = False) -> list[str]:
    """Capture transcripts (redacted) as SessionRecords and train their episode experts. A file
    recorded outside this repository is refused unless ``force`` (then only paths that exist here
    are kept)."""
    layout, store = open_store(cwd)
    from git_ml.capture.sessions import ingest_paths

    return ingest_paths(layout, store, list(paths), agent=agent, force=force)


def recorded_commits(cwd: Path | str) -> list[CommitRecord]:
    """Commit records in effect (rewritten commits under their new hashes)."""
    from git_ml.store import commits_in_effect

    _, store = open_store(cwd)
    return commits_in_effect(store)
