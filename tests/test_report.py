"""git ml stats: records per kind, experts with versions, milestone progress."""

from __future__ import annotations

import msgspec
from rich.console import Console

from conftest import run_gitml
from git_ml.layout import find_layout
from git_ml import records as R
from git_ml.store import Store
from git_ml.surfaces.report import collect_stats, is_doc_path, render_stats


def _commit(n: int, paths: list[str], **kw) -> R.CommitRecord:
    return R.CommitRecord(hash=f"{n:040x}", files=[R.FileChange(path=p) for p in paths], **kw)


def _expert(typ: str, version: str, commits: int, sessions: int = 0, eid: str | None = None) -> bytes:
    return msgspec.json.encode(R.MicroExpert(
        expert_id=eid or f"{typ}-1", expert_type=typ, version=version, created_at="2026-01-02T03:04:05Z",
        trained_on_commits=commits, trained_on_sessions=sessions, model_data={"big": list(range(100))}))


def _populate(repo):
    layout = find_layout(repo)
    layout.create()
    store = Store(layout)
    commits = [
        _commit(1, ["README.md"], source="backfill"),
        _commit(2, ["docs/guide/intro.html", "src/a.py"]),
        _commit(3, [f"src/m{i}.py" for i in range(6)]),  # large: more than 5 files
        _commit(4, [f"src/m{i}.py" for i in range(5)]),  # exactly 5: not large
        _commit(5, [], parents=["a", "b"], is_merge=True),  # merges do not count as commits
        _commit(6, ["old.py"]),
    ]
    store.append("commits", commits + [commits[1]])  # a duplicate line counts once
    store.append("rewrites", [R.RewriteRecord(old=f"{6:040x}", new=f"{7:040x}", how="amend")])
    store.append("commits", [_commit(7, ["new.py"])])
    store.append("sessions", [
        R.SessionRecord(session_id="s1", errors=[R.SessionError(message="boom", files=["src/a.py"])]),
        R.SessionRecord(session_id="s2"),
    ])
    store.append("ci", [R.CIResult(commit=f"{2:040x}", run_id="r1")])
    layout.domain_expert_file("file").write_bytes(_expert("file", "3", 6, 2))
    layout.domain_expert_file("test").write_bytes(_expert("test", "1", 4))
    layout.domain_expert_file("doc").write_bytes(_expert("doc", "1", 0))  # trained on nothing
    layout.domain_expert_file("broken").write_bytes(b"{not json")
    layout.episode_file("s1").write_bytes(_expert("episode", "1", 0, 1, eid="episode-s1"))
    (layout.history / "file_expert.v2.json").write_bytes(_expert("file", "2", 5))
    return layout, store


def test_collect_stats_counts_records_experts_and_milestones(repo):
    layout, store = _populate(repo)
    stats = collect_stats(layout, store)
    assert stats.records == {"commits": 7, "rewrites": 1, "sessions": 2, "ci": 1}
    # Commits in effect, merges left out: 1,2,3,4,7 (6 was amended into 7).
    assert stats.counts["commits"] == 5
    assert stats.counts["doc_commits"] == 2  # README.md, docs/...
    assert stats.counts["large_commits"] == 1
    assert stats.counts["error_chats"] == 1
    assert stats.counts["ci_results"] == 1
    assert stats.counts["mapped_tests"] == 0  # no `pytest --git-ml-record` yet
    from git_ml.capture.testmap import merge, write_test_map

    write_test_map(layout.test_map_file, merge(None, {"tests/test_a.py::t": {("a.py", "f", 1, 2)}}, revision=None))
    assert collect_stats(layout, store).counts["mapped_tests"] == 1
    assert [(e.expert_type, e.version, e.trained_on_commits, e.trained_on_sessions) for e in stats.experts] == [
        ("doc", "1", 0, 0), ("file", "3", 6, 2), ("test", "1", 4, 0)]
    assert [(e.expert_id, e.trained_on_sessions) for e in stats.episodes] == [("episode-s1", 1)]
    assert stats.history_versions == 1
    assert stats.unreadable_expert_files == [str(layout.domain_expert_file("broken"))]
    ms = {m.name: m for m in stats.milestones}
    assert ms["file_expert"].have == {"commits": 5, "sessions": 2}
    assert ms["file_expert"].progress == 0.01  # commits 5/500; sessions help, never gate
    assert ms["file_expert"].helps == {"sessions": 100}
    assert ms["doc_expert"].progress == round(5 / 400, 3)  # commits 5/400 < doc commits 2/50
    assert ms["error_expert"].reached and ms["error_expert"].have == {"sessions": 2, "error_chats": 1}
    assert ms["moe_routing"].have == {"experts": 2} and not ms["moe_routing"].reached
    # The JSON form round-trips (it is what --format json prints).
    assert msgspec.json.decode(msgspec.json.encode(stats))["counts"]["large_commits"] == 1


def test_render_stats_shows_every_section(repo):
    layout, store = _populate(repo)
    console = Console(record=True, width=140, color_system=None)
    render_stats(collect_stats(layout, store), console)
    text = console.export_text()
    for needle in ("Records", "sessions", "large commits", "Experts", "file", "episode", "1 expert(s)",
                   "Milestones", "refactor_expert", "commits 5/500", "sessions 2/100", "the code alone",
                   "1 previous expert version(s)",
                   "unreadable expert file skipped"):
        assert needle in text, needle


def test_empty_store_stats(repo):
    layout = find_layout(repo)
    layout.create()
    stats = collect_stats(layout, Store(layout))
    assert stats.records == {"commits": 0, "rewrites": 0, "sessions": 0, "ci": 0}
    assert stats.experts == [] and all(m.progress == 0 for m in stats.milestones if m.needs)
    console = Console(record=True, width=120, color_system=None)
    render_stats(stats, console)
    assert "run `git ml train`" in console.export_text()


def test_doc_paths():
    assert is_doc_path("README") and is_doc_path("docs/api/x.py") and is_doc_path("a/b/NOTES.rst")
    assert not is_doc_path("src/readme_parser.py") and not is_doc_path("docsrc.py")


def test_git_ml_stats_cli(repo, on_path):
    _populate(repo)
    out = run_gitml(repo, "stats", "--format", "json")
    assert out.returncode == 0, out.stderr.decode()
    data = msgspec.json.decode(out.stdout)
    assert data["records"]["sessions"] == 2 and data["counts"]["doc_commits"] == 2
    out = run_gitml(repo, "stats")
    assert out.returncode == 0 and b"Milestones" in out.stdout
