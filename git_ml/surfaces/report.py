"""``git ml stats``: what git-ml holds for a repository and how far it is from each milestone.

:func:`collect_stats` reads the tracked store and the expert files (their headers only; the model
data is skipped by the decoder) into a :class:`Stats` record, whose JSON form is what
``git ml stats --format json`` prints; :func:`render_stats` draws it with rich.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import msgspec

from git_ml.layout import Layout
from git_ml.records import TRACKED_KINDS, CommitRecord, SessionRecord
from git_ml.store import Store, commits_in_effect

# The seed's MOE_MILESTONES, split in two: what an expert needs before its answers are worth
# trusting, and what makes them better. The seed asked for agent sessions everywhere; the replay
# benchmark shows every expert beating its anchors from commits alone (the error expert answers
# from the code itself), so sessions, CI results and error chats improve an expert, never gate it.
MOE_MILESTONES: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    "file_expert": ({"commits": 500}, {"sessions": 100}),
    "test_expert": ({"commits": 300}, {"sessions": 75, "ci_results": 100}),
    "error_expert": ({}, {"sessions": 150, "error_chats": 50}),
    "doc_expert": ({"commits": 400, "doc_commits": 50}, {}),
    "refactor_expert": ({"commits": 500, "large_commits": 100}, {}),
    "moe_routing": ({"experts": 3}, {}),
}
LARGE_COMMIT_FILES = 5  # a "large" commit touches more files than this
_DOC_SUFFIXES = {".md", ".rst", ".adoc", ".txt", ".rdoc", ".org", ".tex"}
_DOC_DIRS = {"doc", "docs", "documentation"}


class ExpertInfo(msgspec.Struct, kw_only=True):
    """The header of one saved expert."""

    expert_id: str
    expert_type: str
    version: str
    created_at: str
    trained_on_commits: int = 0
    trained_on_sessions: int = 0
    git_hash: str = ""
    file: str = ""
    size_bytes: int = 0


class Milestone(msgspec.Struct, kw_only=True):
    name: str
    needs: dict[str, int]  # what the expert's answers need
    have: dict[str, int]  # for the needs and the helps
    progress: float  # 0..1, the least-advanced need (1 with none)
    reached: bool
    helps: dict[str, int] = {}  # what improves them further


class Stats(msgspec.Struct, kw_only=True):
    worktree: str
    records: dict[str, int]  # distinct records per tracked kind
    counts: dict[str, int]  # the quantities milestones are measured in
    experts: list[ExpertInfo]
    episodes: list[ExpertInfo]
    history_versions: int  # previous versions of domain experts kept in experts/history
    milestones: list[Milestone]
    unreadable_expert_files: list[str] = []


class _Header(msgspec.Struct):
    expert_id: str = ""
    expert_type: str = ""
    version: str = ""
    created_at: str = ""
    trained_on_commits: int = 0
    trained_on_sessions: int = 0
    git_hash: str = ""


def _text(path) -> str:
    # A path that is not UTF-8 holds surrogate escapes, which JSON cannot carry: show them as \\xNN.
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_doc_path(path: str) -> bool:
    """True for documentation files: doc suffixes, README/CHANGELOG-like names, doc folders."""
    p = PurePosixPath(path)
    if p.suffix.lower() in _DOC_SUFFIXES:
        return True
    if p.stem.upper() in {"README", "CHANGELOG", "CHANGES", "HISTORY", "NEWS", "CONTRIBUTING"}:
        return True
    return any(part.lower() in _DOC_DIRS for part in p.parts[:-1])


def _read_experts(files, bad: list[str]) -> list[ExpertInfo]:
    dec = msgspec.json.Decoder(_Header)
    out = []
    for path in sorted(files):
        try:
            h = dec.decode(path.read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            bad.append(_text(path))
            continue
        if not h.expert_type:
            bad.append(_text(path))
            continue
        out.append(ExpertInfo(
            expert_id=h.expert_id, expert_type=h.expert_type, version=h.version,
            created_at=h.created_at, trained_on_commits=h.trained_on_commits,
            trained_on_sessions=h.trained_on_sessions, git_hash=h.git_hash,
            file=_text(path), size_bytes=path.stat().st_size,
        ))
    return out


def _milestones(counts: dict[str, int]) -> list[Milestone]:
    out = []
    for name, (needs, helps) in MOE_MILESTONES.items():
        have = {k: counts.get(k, 0) for k in (*needs, *helps)}
        progress = min((min(have[k] / n, 1.0) for k, n in needs.items()), default=1.0)
        out.append(Milestone(name=name, needs=dict(needs), have=have, progress=round(progress, 3),
                             reached=progress >= 1.0, helps=dict(helps)))
    return out


def collect_stats(layout: Layout, store: Store) -> Stats:
    """Records per kind, experts present (with versions and training counts), milestone progress."""
    records = {kind: store.count(kind) for kind in TRACKED_KINDS}
    commits: list[CommitRecord] = [c for c in commits_in_effect(store) if not c.is_merge]
    sessions: list[SessionRecord] = store.read("sessions")  # type: ignore[assignment]
    bad: list[str] = []
    experts = _read_experts(layout.domain.glob("*_expert.json"), bad) if layout.domain.is_dir() else []
    episodes = _read_experts(layout.episodes.glob("episode_*.json"), bad) if layout.episodes.is_dir() else []
    history = sum(1 for p in layout.history.rglob("*.json")) if layout.history.is_dir() else 0
    counts = {
        "commits": len(commits),
        "sessions": len(sessions),
        "ci_results": records["ci"],
        "doc_commits": sum(1 for c in commits if any(is_doc_path(f.path) for f in c.files)),
        "large_commits": sum(1 for c in commits if len(c.files) > LARGE_COMMIT_FILES),
        "error_chats": sum(1 for s in sessions if s.errors),
        # An expert trained on nothing (a new repository) does not count toward routing.
        "experts": sum(1 for e in experts if e.trained_on_commits or e.trained_on_sessions),
        "episodes": len(episodes),
        "mapped_tests": _mapped_tests(layout),
    }
    return Stats(worktree=_text(layout.worktree), records=records, counts=counts, experts=experts,
                 episodes=episodes, history_versions=history, milestones=_milestones(counts),
                 unreadable_expert_files=bad)


def _mapped_tests(layout: Layout) -> int:
    """Tests in the recorded test map (``pytest --git-ml-record``); 0 without one."""
    if not layout.test_map_file.exists():
        return 0
    from git_ml.capture.testmap import read_test_map

    test_map = read_test_map(layout.test_map_file)
    return len(test_map.tests) if test_map is not None else 0


def render_stats(stats: Stats, console) -> None:
    """Draw :class:`Stats` as three tables (records, experts, milestones) on a rich console."""
    from rich.table import Table

    rec = Table(title="Records", title_justify="left")
    rec.add_column("kind")
    rec.add_column("count", justify="right")
    for kind, n in stats.records.items():
        rec.add_row(kind, str(n))
    for name in ("doc_commits", "large_commits", "error_chats", "mapped_tests"):
        rec.add_row(f"  {name.replace('_', ' ')}", str(stats.counts.get(name, 0)))
    console.print(rec)

    exp = Table(title="Experts", title_justify="left")
    for col in ("type", "version", "created", "commits", "sessions"):
        exp.add_column(col, justify="right" if col in ("commits", "sessions") else "left")
    for e in stats.experts:
        exp.add_row(e.expert_type, e.version, e.created_at[:19], str(e.trained_on_commits),
                    str(e.trained_on_sessions))
    if stats.episodes:
        exp.add_row("episode", f"{len(stats.episodes)} expert(s)", "",
                    str(sum(e.trained_on_commits for e in stats.episodes)),
                    str(sum(e.trained_on_sessions for e in stats.episodes)))
    if not stats.experts and not stats.episodes:
        exp.add_row("(none yet)", "run `git ml train`", "", "", "")
    console.print(exp)
    if stats.history_versions:
        console.print(f"{stats.history_versions} previous expert version(s) kept in experts/history")

    ms = Table(title="Milestones", title_justify="left")
    ms.add_column("milestone")
    ms.add_column("progress", justify="right")
    ms.add_column("have / needs")
    ms.add_column("better with")
    for m in stats.milestones:
        detail = ", ".join(f"{k} {m.have[k]}/{n}" for k, n in m.needs.items()) or "the code alone"
        better = ", ".join(f"{k} {m.have[k]}/{n}" for k, n in m.helps.items())
        mark = "[green]reached[/green]" if m.reached else f"{m.progress:.0%}"
        ms.add_row(m.name, mark, detail, better)
    console.print(ms)
    for path in stats.unreadable_expert_files:
        console.print(f"[yellow]unreadable expert file skipped:[/yellow] {path}")
