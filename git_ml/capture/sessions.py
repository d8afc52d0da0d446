"""Agent sessions into tracked/sessions.jsonl: ingest, sweep, active-session markers, commit links.

* :func:`ingest_paths` captures transcripts (files or folders, format detected) by hand or from the
  SessionEnd hook's detached child; each becomes one redacted SessionRecord (a later capture of the
  same session wins on read) linked to the commits made during it, plus its episode expert.
* :func:`sweep` captures sessions whose end hook never fired (crash, kill, timeout), from the
  agents' own transcript folders for this repository, skipping transcripts already captured and
  unchanged and ones still being written.
* Marker files under ``.git-ml/state/agent-sessions/``: ``<agent>-<id>.active`` (written at
  SessionStart and UserPromptSubmit, removed at SessionEnd) lets the post-commit hook stamp
  ``CommitRecord.session_id`` through :func:`active_session` (one directory read);
  ``<agent>-<id>.ended`` carries the end reason from the hook to the capture.

Only the standard library is imported at module level: post-commit imports this module.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from git_ml.layout import GitMLError, Layout, write_atomic

if TYPE_CHECKING:
    from git_ml.capture.agents.base import AgentAdapter
    from git_ml.records import CommitRecord, SessionRecord
    from git_ml.store import Store

MARKERS = "agent-sessions"
STALE_AFTER = 12 * 3600.0  # an active marker not touched for this long belongs to a dead session
QUIET_SECONDS = 60.0  # a transcript written to more recently is still in use: the sweep leaves it
ACTIVE_IDLE = 600.0  # ... and so is a marked-active session's transcript written to this recently
SETTLE_SECONDS = 5.0  # how long a capture right after SessionEnd waits for the transcript to settle
SWEEP_LIMIT = 50  # transcripts captured by one sweep (the rest wait for the next one)
MARKER_TTL = 7 * 86400.0  # the sweep deletes markers older than this
COMMIT_SLACK = 120  # seconds after a session's last record in which its commits still count


# --------------------------------------------------------------------------------------------
# Markers


def _safe(session_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in session_id)[:200]


def marker_dir(layout: Layout) -> Path:
    return layout.state / MARKERS


def _marker(layout: Layout, agent: str, session_id: str, suffix: str) -> Path:
    return marker_dir(layout) / f"{_safe(agent)}-{_safe(session_id)}.{suffix}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data).encode())


def mark_active(layout: Layout, agent: str, session_id: str, transcript_path: str | None = None) -> None:
    """Note that a session is running here (touching the marker if it exists)."""
    path = _marker(layout, agent, session_id, "active")
    try:
        os.utime(path)
    except FileNotFoundError:
        _write_json(path, {"agent": agent, "session_id": session_id, "transcript_path": transcript_path,
                           "since": time.time()})


def mark_ended(layout: Layout, agent: str, session_id: str, transcript_path: str | None,
               reason: str | None) -> None:
    """SessionEnd: the session is over; remember why, for its capture."""
    _marker(layout, agent, session_id, "active").unlink(missing_ok=True)
    _write_json(_marker(layout, agent, session_id, "ended"),
                {"agent": agent, "session_id": session_id, "transcript_path": transcript_path,
                 "reason": reason, "at": time.time()})


def _read_marker(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def active_session(layout: Layout, *, now: float | None = None) -> str | None:
    """The id of the agent session most recently active in this repository, or None.

    Cheap (one directory listing and one small read) for the post-commit hook; markers older than
    STALE_AFTER are ignored (a session killed before its end hook could remove them).
    """
    now = time.time() if now is None else now
    best: tuple[float, Path] | None = None
    try:
        entries = list(os.scandir(marker_dir(layout)))
    except OSError:
        return None
    for entry in entries:
        if not entry.name.endswith(".active"):
            continue
        try:
            mtime = entry.stat().st_mtime
        except OSError:
            continue
        if now - mtime > STALE_AFTER:
            continue
        if best is None or mtime > best[0]:
            best = (mtime, Path(entry.path))
    if best is None:
        return None
    sid = _read_marker(best[1]).get("session_id")
    return sid if isinstance(sid, str) and sid else None


def _prune_markers(layout: Layout, now: float) -> None:
    """Drop markers of sessions long dead (killed sessions, ends whose transcript never came)."""
    try:
        entries = list(os.scandir(marker_dir(layout)))
    except OSError:
        return
    for entry in entries:
        try:
            if now - entry.stat().st_mtime > MARKER_TTL:
                os.unlink(entry.path)
        except OSError:
            continue


def _active_ids(layout: Layout, now: float) -> set[str]:
    out: set[str] = set()
    try:
        entries = list(os.scandir(marker_dir(layout)))
    except OSError:
        return out
    for entry in entries:
        if entry.name.endswith(".active"):
            try:
                if now - entry.stat().st_mtime <= STALE_AFTER:
                    sid = _read_marker(Path(entry.path)).get("session_id")
                    if isinstance(sid, str):
                        out.add(sid)
            except OSError:
                continue
    return out


# --------------------------------------------------------------------------------------------
# What was captured already (for the sweep)


def _captured_path(layout: Layout) -> Path:
    return layout.state / "sessions-captured.json"


def _load_captured(layout: Layout) -> dict[str, dict[str, Any]]:
    data = _read_marker(_captured_path(layout))
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def _note_captured(layout: Layout, entries: dict[str, dict[str, Any]]) -> None:
    from filelock import FileLock

    path = _captured_path(layout)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=30):
        data = _load_captured(layout)
        data.update(entries)
        _write_json(path, data)


# --------------------------------------------------------------------------------------------
# Linking commits


def link_commits(record: "SessionRecord", refs: Sequence[str], commits: Iterable["CommitRecord"]) -> list[str]:
    """Commits made during a session: stamped with its id, printed by a ``git commit`` in it, or
    authored inside its time window (on its branch when both are known) and not claimed by
    another session."""
    from git_ml.capture.agents.base import parse_time

    start, end = parse_time(record.started_at), parse_time(record.ended_at)
    out: list[str] = []
    for c in commits:
        if c.session_id == record.session_id or any(c.hash.startswith(r) for r in refs):
            out.append(c.hash)
        elif c.session_id is None and start is not None and end is not None \
                and start - 1 <= c.author_time <= end + COMMIT_SLACK \
                and (not record.branch or not c.branch or c.branch == record.branch):
            out.append(c.hash)
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------------------
# Capture


def _wait_settled(path: Path, limit: float) -> None:
    """Wait (up to ``limit`` s) until a transcript stops growing: it is written asynchronously
    and may lag the SessionEnd hook."""
    deadline = time.monotonic() + limit
    last = -1
    steady = 0
    while time.monotonic() < deadline:
        try:
            size = path.stat().st_size
        except OSError:
            return
        steady = steady + 1 if size == last else 0
        if steady >= 2:
            return
        last = size
        time.sleep(0.15)


class _Context:
    """What a batch of captures shares: the commits on record, read once."""

    def __init__(self, store: "Store"):
        from git_ml.store import commits_in_effect

        self.store = store
        self.commits = commits_in_effect(store)
        self.by_hash = {c.hash: c for c in self.commits}


def capture_file(layout: Layout, ctx: _Context, path: Path, adapter: "AgentAdapter",
                 previous: dict[str, Any] | None = None, keep: frozenset[str] | None = None,
                 ) -> tuple["SessionRecord | None", str]:
    """Capture one transcript: parse, redact, link, store, train its episode. Returns the record
    (None when the file holds no session) and a one-line summary. ``keep``: the only repository
    paths to keep (for a transcript recorded outside this repository)."""
    import msgspec

    from git_ml.capture.redact import redact_session
    from git_ml.experts.base import utc_now

    try:
        before = path.stat()
    except OSError as exc:
        return None, f"skipped {path}: {exc.strerror or exc}"
    parsed = adapter.parse(path, layout.worktree)
    if parsed is None or not parsed.record.session_id:
        return None, f"skipped {path}: no session in it"
    sid = parsed.record.session_id
    ended = _marker(layout, adapter.name, sid, "ended")
    end = _read_marker(ended)
    if end and time.time() - float(end.get("at") or 0) < 2 * SETTLE_SECONDS:
        _wait_settled(path, SETTLE_SECONDS)  # the session just ended: let the transcript settle
        before = path.stat()
        parsed = adapter.parse(path, layout.worktree) or parsed
    reason = end.get("reason") or (previous or {}).get("end_reason")
    record = redact_session(parsed.record)
    if keep is not None:
        record = keep_paths(record, keep)
    record = msgspec.structs.replace(
        record,
        end_reason=reason if isinstance(reason, str) else None,
        commits=link_commits(record, parsed.commit_refs, ctx.commits),
        captured_at=utc_now(),
    ).with_id()
    # the episode first: once the record can be read, its expert is there too
    save_episode(layout, record, [ctx.by_hash[h] for h in record.commits if h in ctx.by_hash])
    ctx.store.append("sessions", [record])
    _stamp_commits(ctx, record)
    _note_captured(layout, {str(path): {"size": before.st_size, "mtime_ns": before.st_mtime_ns,
                                        "session_id": sid, "agent": adapter.name,
                                        "end_reason": record.end_reason}})
    ended.unlink(missing_ok=True)
    return record, (f"captured {adapter.name} session {sid}: {len(record.prompts)} prompt(s), "
                    f"{len(record.files_modified)} file(s) modified, {len(record.commits)} commit(s)")


def _stamp_commits(ctx: _Context, record: "SessionRecord") -> None:
    """Give linked commits that carry no session id this one (a later line wins on read)."""
    import msgspec

    fresh = []
    for h in record.commits:
        c = ctx.by_hash.get(h)
        if c is not None and c.session_id is None:
            c = msgspec.structs.replace(c, session_id=record.session_id)
            ctx.by_hash[h] = c
            fresh.append(c)
    if fresh:
        ctx.store.append("commits", fresh)
        ctx.commits = [ctx.by_hash.get(c.hash, c) for c in ctx.commits]


def save_episode(layout: Layout, record: "SessionRecord", commits: Sequence["CommitRecord"]) -> Path:
    """Train the session's episode expert and write it to ``experts/episodes/``."""
    import msgspec

    from git_ml.experts.base import TrainingData
    from git_ml.experts.episode import EpisodeExpert

    expert = EpisodeExpert(f"episode_{record.session_id}")
    expert.fit(TrainingData(commits=list(commits), sessions=[record]))
    path = layout.episode_file(record.session_id)
    write_atomic(path, msgspec.json.encode(expert.to_micro()))
    return path


# --------------------------------------------------------------------------------------------
# Ingest and sweep


def _candidates(layout: Layout, paths: Sequence[Path], agent: str | None,
                force: bool = False) -> list[tuple[Path, "AgentAdapter", bool]]:
    """The transcripts to capture, with their adapters and whether they ran outside this
    repository. A folder is walked; in it, a transcript whose session ran in a folder of this
    machine outside this repository is left out (a walk of ``~/.claude/projects`` takes this
    repository's sessions only). A file named is held to the same rule, stricter: its session must
    have run inside this repository (its paths would otherwise be taken for this repository's),
    unless ``force`` says to take it anyway, keeping only the paths that exist here."""
    from git_ml.capture.agents import adapters, detect
    from git_ml.capture.agents.base import head_objects, inside

    known = adapters()
    if agent is not None and agent not in known:
        raise GitMLError(f"unknown agent {agent!r} (known: {', '.join(known)})")
    forced = known[agent] if agent else None
    out: list[tuple[Path, AgentAdapter, bool]] = []
    worktrees: list[Path] | None = None
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = elsewhere = 0
            worktrees = worktrees or _worktrees(layout)
            for f in sorted(p.rglob("*.jsonl")):
                if "subagents" in f.relative_to(p).parts[:-1]:
                    continue  # read with their parent session
                ad = forced if forced and forced.sniff(head_objects(f)) else (None if forced else detect(f))
                if ad is None:
                    continue
                cwd = ad.session_cwd(f)
                if cwd and os.path.isdir(cwd) and not inside(cwd, worktrees):
                    elsewhere += 1
                    continue
                out.append((f, ad, False))
                found += 1
            if not found:
                why = f" ({elsewhere} belong to other repositories)" if elsewhere else ""
                raise GitMLError(f"{p}: no {agent or 'Claude Code or Codex'} transcripts of this repository in "
                                 f"this folder{why}")
        elif p.is_file():
            if p.parent.name == "subagents":
                parent = p.parent.parent.with_suffix(".jsonl")
                if not parent.is_file():
                    raise GitMLError(f"{p}: a subagent transcript; ingest its session's transcript instead")
                p = parent
            head = head_objects(p)
            ad = forced if forced else detect(p)
            if ad is None or not ad.sniff(head):
                what = {"claude": "a Claude Code", "codex": "a Codex"}.get(agent or "", "a Claude Code or Codex")
                raise GitMLError(f"{p}: not {what} transcript (JSON Lines)")
            cwd = ad.session_cwd(p)
            worktrees = worktrees or _worktrees(layout)
            foreign = bool(cwd) and not inside(cwd, worktrees)
            if foreign and not force:
                raise GitMLError(f"{p}: recorded in {cwd}, outside this repository; pass --force to take it "
                                 f"anyway (keeping only the paths that exist here)")
            out.append((p, ad, foreign))
        else:
            raise GitMLError(f"{p}: no such file or folder")
    return out


def ingest_paths(layout: Layout, store: "Store", paths: Sequence[Path], agent: str | None = None,
                 *, force: bool = False) -> list[str]:
    """Capture transcripts (files, or folders walked for ``*.jsonl``; format detected unless
    ``agent`` says it) as redacted SessionRecords with their episode experts. Returns one line per
    transcript. Raises GitMLError (before writing anything) on a missing path, a file that is not
    a transcript, or one recorded outside this repository (unless ``force``: then only the paths
    that exist in this repository are kept)."""
    todo = _candidates(layout, paths, agent, force)
    ctx = _Context(store)
    captured = _load_captured(layout)
    here = tracked_files(layout) if any(foreign for _, _, foreign in todo) else None
    return [capture_file(layout, ctx, path, adapter, captured.get(str(path)), keep=here if foreign else None)[1]
            for path, adapter, foreign in todo]


def tracked_files(layout: Layout) -> frozenset[str]:
    """The repository's files (``git ls-files``: HEAD plus what is staged)."""
    import subprocess

    out = subprocess.run(["git", "ls-files", "-z"], cwd=layout.worktree, capture_output=True, check=False)
    return frozenset(out.stdout.decode("utf-8", "surrogateescape").split("\0")) - {""}


def keep_paths(record: "SessionRecord", keep: frozenset[str]) -> "SessionRecord":
    """The record with every repository path not in ``keep`` dropped (a transcript from another
    project mapped onto this one keeps only what exists here)."""
    import msgspec

    def only(paths: list[str]) -> list[str]:
        return [f for f in paths if f in keep]

    return msgspec.structs.replace(
        record,
        prompt_files=[only(fs) for fs in record.prompt_files],
        files_read=only(record.files_read),
        files_modified=only(record.files_modified),
        test_runs=[msgspec.structs.replace(r, targets=[t for t in r.targets if t.split("::")[0] in keep])
                   for r in record.test_runs],
        errors=[msgspec.structs.replace(e, files=only(e.files), fixed_by=only(e.fixed_by)) for e in record.errors],
    )


def _worktrees(layout: Layout) -> list[Path]:
    import subprocess

    out = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=layout.worktree,
                         capture_output=True, check=False)
    trees = [Path(line[9:]) for line in out.stdout.decode("utf-8", "surrogateescape").splitlines()
             if line.startswith("worktree ")]
    return list(dict.fromkeys([layout.worktree, *trees]))


def sweep(layout: Layout, store: "Store", *, quiet: float = QUIET_SECONDS, now: float | None = None) -> list[str]:
    """Capture this repository's sessions whose end hook never fired: transcripts in the agents'
    folders that are new or changed since their last capture and quiet for ``quiet`` seconds
    (ACTIVE_IDLE when the session is marked active: a killed session's marker stays behind, so a
    marker alone does not protect a transcript for ever). One sweep at a time; returns one line
    per capture."""
    from filelock import FileLock, Timeout

    from git_ml.capture.agents import adapters

    lock = FileLock(str(layout.state / "sweep.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return []  # another sweep is on it
    try:
        now = time.time() if now is None else now
        _prune_markers(layout, now)
        worktrees = _worktrees(layout)
        captured = _load_captured(layout)
        active = _active_ids(layout, now)
        todo: list[tuple[Path, AgentAdapter, dict[str, Any] | None]] = []
        for adapter in adapters().values():
            for f in adapter.transcripts(worktrees):
                try:
                    st = f.stat()
                except OSError:
                    continue
                prev = captured.get(str(f))
                if prev and prev.get("size") == st.st_size and prev.get("mtime_ns") == st.st_mtime_ns:
                    continue
                idle = now - st.st_mtime
                if idle < quiet or (idle < ACTIVE_IDLE and any(sid in f.name for sid in active)):
                    continue
                todo.append((f, adapter, prev))
        if not todo:
            return []
        todo.sort(key=lambda t: t[0].stat().st_mtime)
        ctx = _Context(store)
        lines = []
        for f, adapter, prev in todo[:SWEEP_LIMIT]:
            lines.append(capture_file(layout, ctx, f, adapter, prev)[1])
        return lines
    finally:
        lock.release()
