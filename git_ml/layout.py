"""Where a repository's git-ml data lives, found with one ``git rev-parse`` (no gitpython: hooks use this).

::

    .git-ml/
    ├── .gitignore            "*": nothing here is committed to the user's branch
    ├── tracked/*.jsonl       captured records (local store; shared through refs/git-ml/*, see sync)
    ├── experts/domain/       <type>_expert.json (+ indexes beside them)
    ├── experts/episodes/     episode_<session id>.json
    ├── experts/history/      previous versions of domain experts
    ├── experts/routing/      router config and learned weights
    ├── local/test_map.json   which tests ran which code (``pytest --git-ml-record``; this machine's)
    └── state/                locks, logs, worker markers
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

DIRNAME = ".git-ml"


class GitMLError(Exception):
    """An error with a one-line message that tells the user what to do."""


class NotARepositoryError(GitMLError):
    pass


@dataclass(frozen=True)
class Layout:
    """Paths of one repository's git-ml data; pure, creates nothing until :meth:`create`."""

    worktree: Path  # top of the main working tree
    git_dir: Path  # this worktree's git dir
    common_dir: Path  # shared git dir (objects, refs, config)

    @property
    def root(self) -> Path:
        return self.worktree / DIRNAME

    @property
    def tracked(self) -> Path:
        return self.root / "tracked"

    @property
    def experts(self) -> Path:
        return self.root / "experts"

    @property
    def domain(self) -> Path:
        return self.experts / "domain"

    @property
    def episodes(self) -> Path:
        return self.experts / "episodes"

    @property
    def history(self) -> Path:
        return self.experts / "history"

    @property
    def routing(self) -> Path:
        return self.experts / "routing"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def test_map_file(self) -> Path:
        return self.root / "local" / "test_map.json"

    def tracked_file(self, kind: str) -> Path:
        return self.tracked / f"{kind}.jsonl"

    def domain_expert_file(self, expert_type: str) -> Path:
        return self.domain / f"{expert_type}_expert.json"

    def episode_file(self, session_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in session_id)
        return self.episodes / f"episode_{safe}.json"

    def is_initialized(self) -> bool:
        return self.tracked.is_dir()

    def create(self) -> None:
        for d in (self.tracked, self.domain, self.episodes, self.history, self.routing, self.state):
            d.mkdir(parents=True, exist_ok=True)
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            ignore.write_text(
                "# git-ml data: shared through refs/git-ml/* by `git ml sync`, never on your branch\n*\n"
            )


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _rev_parse(cwd: Path | str | None) -> list[str]:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--is-bare-repository", "--absolute-git-dir", "--git-common-dir",
             "--show-toplevel"],
            cwd=cwd, capture_output=True, check=False,
        )
    except FileNotFoundError as exc:
        raise GitMLError("git is not installed or not on PATH") from exc
    if out.returncode != 0 and b"--show-toplevel" not in out.stderr:
        lines = out.stdout.decode(errors="replace").splitlines()
        if lines[:1] == ["true"]:
            raise NotARepositoryError(
                "this is a bare repository: run git ml in a clone with a working tree"
            )
        if b"must be run in a work tree" in out.stderr:
            raise NotARepositoryError("this is inside the .git directory: run git ml in the working tree")
        raise NotARepositoryError("not a git repository: run git ml inside a git working tree")
    return out.stdout.decode(errors="surrogateescape").splitlines()


def find_layout(cwd: Path | str | None = None) -> Layout:
    """The layout of the repository containing ``cwd``; raises :class:`NotARepositoryError`."""
    lines = _rev_parse(cwd)
    if not lines or lines[0] == "true" or len(lines) < 4:
        if lines and lines[0] == "true":
            raise NotARepositoryError(
                "this is a bare repository: run git ml in a clone with a working tree"
            )
        raise NotARepositoryError("not a git repository: run git ml inside a git working tree")
    git_dir = Path(lines[1])
    common = Path(lines[2])
    if not common.is_absolute():
        common = (Path(cwd or os.getcwd()) / common).resolve()
    toplevel = Path(lines[3])
    # Linked worktrees share one store: the main working tree's (the parent of a `.git` common dir).
    worktree = common.parent if common.name == ".git" else toplevel
    return Layout(worktree=worktree, git_dir=git_dir, common_dir=common)
