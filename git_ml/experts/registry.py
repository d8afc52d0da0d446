"""The domain experts of a repository: which classes exist, training, incremental update, loading.

Expert classes are imported lazily and an expert whose module fails to import is skipped (a
missing optional expert never breaks the others). Trained experts are saved as
``.git-ml/experts/domain/<type>_expert.json`` (the previous version is kept in ``history/``);
the FileExpert's statistics sit beside it in ``file_expert.sqlite``, a cache rebuilt from the
tracked records whenever it is missing, corrupt or stale.

``update`` learns the records captured since the last training (the post-commit worker calls
it); a small state file lists the record ids already learned, and a lock keeps two workers from
updating at once. An expert type whose file is missing or unreadable is trained from scratch by
the next ``update`` (that type only).

``update`` and ``train_all`` over the same records give the same models (tests/test_registry.py
checks it). The FileExpert keeps this by construction: its fusion weights are tuned on a window of
the history that moves in steps, and the update that crosses a step re-tunes from scratch.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

from git_ml.experts.base import Expert, TrainingData
from git_ml.layout import Layout, write_atomic
from git_ml.records import CommitRecord, MicroExpert, SessionRecord
from git_ml.store import Store, commits_in_effect

EXPERT_TYPES = ("file", "test", "error", "doc", "refactor")
_CLASSES = {
    "file": ("git_ml.experts.file", "FileExpert"),
    "test": ("git_ml.experts.test", "TestExpert"),
    "error": ("git_ml.experts.error", "ErrorDiagnosisExpert"),
    "doc": ("git_ml.experts.doc", "DocumentationExpert"),
    "refactor": ("git_ml.experts.refactor", "RefactorExpert"),
    "episode": ("git_ml.experts.episode", "EpisodeExpert"),
}
STATE_FILE = "experts_seen.json"
LOCK_FILE = "experts.lock"
LOCK_TIMEOUT = 600.0  # a full training on a large history can take a minute


class _Seen(msgspec.Struct):
    commits: list[str] = []
    sessions: list[str] = []
    trained_at: str = ""


def expert_class(expert_type: str) -> type[Expert] | None:
    """The class of an expert type, or None when its module is absent or fails to import."""
    spec = _CLASSES.get(expert_type)
    if spec is None:
        return None
    try:
        return getattr(importlib.import_module(spec[0]), spec[1])
    except Exception:  # noqa: BLE001 - one broken expert must not take the others down
        return None


def available(only: Iterable[str] | None = None) -> list[str]:
    """Expert types (of ``only``, or all domain types) whose class imports."""
    return [t for t in (only or EXPERT_TYPES) if expert_class(t) is not None]


def index_path(layout: Layout, expert_type: str) -> Path:
    return layout.domain / f"{expert_type}_expert.sqlite"


def new_expert(expert_type: str, *, index: Path | None = None) -> Expert:
    cls = expert_class(expert_type)
    if cls is None:
        raise KeyError(expert_type)
    if expert_type == "file":
        return cls(index_path=index)  # type: ignore[call-arg]
    return cls()


def training_data(layout: Layout, store: Store, revision: str = "HEAD") -> TrainingData:
    """Every learnable record of the store, with the code at ``revision``."""
    from git_ml.experts.snapshot import Snapshot

    commits = [c for c in commits_in_effect(store) if not c.is_merge]
    sessions = store.read("sessions")
    ci = store.read("ci")
    snap = Snapshot(layout.worktree, revision)
    return TrainingData(commits=commits, sessions=sessions, ci=ci, revision=snap.revision or revision,  # type: ignore[arg-type]
                        snapshot=snap)


# -- saving and loading -----------------------------------------------------------------------


def save(layout: Layout, expert: Expert, *, keep_history: bool = True) -> MicroExpert:
    """Write ``expert`` to its domain file; the version it replaces goes to ``history/``."""
    target = layout.domain_expert_file(expert.expert_type)
    if keep_history and target.exists():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S_%f")
        layout.history.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, layout.history / f"{expert.expert_type}_expert_{stamp}.json")
    micro = expert.to_micro()
    write_atomic(target, msgspec.json.encode(micro))
    return micro


def read_micro(path: Path) -> MicroExpert | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=MicroExpert)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def load(layout: Layout, types: Iterable[str], store: Store | None = None) -> dict[str, Expert]:
    """The saved experts of ``types`` that exist and load; an expert with a missing, corrupt or
    stale index has it rebuilt from the store (and is saved again)."""
    return _load(layout, types, store, lock=True)


def _load(layout: Layout, types: Iterable[str], store: Store | None, *, lock: bool) -> dict[str, Expert]:
    out: dict[str, Expert] = {}
    for t in types:
        micro = read_micro(layout.domain_expert_file(t))
        cls = expert_class(t)
        if micro is None or cls is None:
            continue
        try:
            expert = cls.from_micro(micro)
        except Exception:  # noqa: BLE001 - a model from another version: skip it, never crash
            continue
        if t in ("test", "error"):
            expert.test_map_path = layout.test_map_file  # type: ignore[attr-defined]
        if t == "file":
            expert.index_path = index_path(layout, t)  # type: ignore[attr-defined]
            if not expert.index_ok():  # type: ignore[attr-defined]
                if store is None:
                    continue
                with _locked(layout) if lock else contextlib.nullcontext():
                    _rebuild_index(layout, store, expert)
        out[t] = expert
    return out


def load_episodes(layout: Layout, newest: int | None = None) -> list[Expert]:
    """Episode experts (one per agent session; the ``newest`` by file time), when the sessions
    helper's class is present."""
    if not layout.episodes.is_dir():
        return []
    files = sorted(layout.episodes.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not files:
        return []
    cls = expert_class("episode")
    if cls is None:
        return []
    out = []
    for path in files[:newest]:
        micro = read_micro(path)
        if micro is None:
            continue
        try:
            out.append(cls.from_micro(micro))
        except Exception:  # noqa: BLE001
            continue
    return out


def _rebuild_index(layout: Layout, store: Store, expert: Any) -> None:
    data = training_data(layout, store)
    try:
        expert.build_index(data)
        save(layout, expert, keep_history=False)
        _save_seen(layout, data)
    finally:
        data.snapshot.close()


# -- training -------------------------------------------------------------------------------


def _locked(layout: Layout, timeout: float = LOCK_TIMEOUT):
    from filelock import FileLock

    layout.state.mkdir(parents=True, exist_ok=True)
    return FileLock(str(layout.state / LOCK_FILE), timeout=timeout)


def _save_seen(layout: Layout, data: TrainingData) -> None:
    seen = _Seen(commits=[c.id for c in data.commits], sessions=[s.id for s in data.sessions],
                 trained_at=datetime.now(timezone.utc).isoformat())
    write_atomic(layout.state / STATE_FILE, msgspec.json.encode(seen))


def _read_seen(layout: Layout) -> _Seen | None:
    try:
        return msgspec.json.decode((layout.state / STATE_FILE).read_bytes(), type=_Seen)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def _fit_one(layout: Layout, t: str, data: TrainingData) -> Expert:
    if t != "file":
        expert = new_expert(t)
        expert.fit(data)
        return expert
    final = index_path(layout, t)
    tmp = final.with_name(final.name + f".tmp{os.getpid()}")
    expert = new_expert(t, index=tmp)
    expert.fit(data)
    expert.close()  # type: ignore[attr-defined]
    for suffix in ("-wal", "-shm"):
        Path(str(final) + suffix).unlink(missing_ok=True)
    os.replace(tmp, final)  # readers see the old index or the new one, never half of one
    expert.index_path = final  # type: ignore[attr-defined]
    return expert


def _can_fork() -> bool:
    """Linux with two cores or more, in a process with no other thread: a fork copies the locks
    other threads hold (Python 3.12+ warns of it), as in a server embedding the library."""
    return sys.platform == "linux" and (os.cpu_count() or 1) >= 2 and _os_threads() == 1


def _os_threads() -> int:
    """Threads of this process as the kernel counts them (threads started outside ``threading``,
    as pytest-xdist's are, included)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _fork_fit(layout: Layout, t: str, data: TrainingData) -> int | None:
    """Train and save expert ``t`` in a forked child process; its pid, or None where forking is
    not safe or not worth it (see :func:`_can_fork`). The child reads the code through a
    snapshot of its own (the parent's holds pipes to git processes)."""
    if not _can_fork():
        return None
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        snap = data.snapshot.at(data.snapshot.revision) if data.snapshot is not None else None
        try:
            save(layout, _fit_one(layout, t, TrainingData(commits=data.commits, sessions=data.sessions,
                                                          revision=data.revision, snapshot=snap)))
            code = 0
        finally:
            if snap is not None:
                snap.close()
    except BaseException:  # the parent trains it again, and reports any error itself
        pass
    finally:
        os._exit(code)


def _join(pid: int, layout: Layout, t: str) -> MicroExpert | None:
    """The expert a forked child trained, once it exits; None when it failed."""
    _, status = os.waitpid(pid, 0)
    return read_micro(layout.domain_expert_file(t)) if os.waitstatus_to_exitcode(status) == 0 else None


def train_all(layout: Layout, store: Store, only: Sequence[str] | None = None,
              progress: Callable[[str], Any] | None = None) -> list[MicroExpert]:
    """Train the domain experts (``only`` these types) from scratch on every record; save them.
    The file expert, most of the work, trains in a child process beside the others when a
    second core is there to run it."""
    layout.create()
    trained: dict[str, MicroExpert] = {}
    with _locked(layout):
        data = training_data(layout, store)
        try:
            types = available(only)
            child = _fork_fit(layout, "file", data) if "file" in types and len(types) > 1 else None
            try:
                for t in types:
                    if progress:
                        progress(f"training {t} expert on {len(data.commits)} commits")
                    if t != "file" or child is None:
                        trained[t] = save(layout, _fit_one(layout, t, data))
            except BaseException:
                if child is not None:  # no writer may outlive the lock
                    os.kill(child, signal.SIGKILL)
                    os.waitpid(child, 0)
                raise
            if child is not None:
                micro = _join(child, layout, "file")
                trained["file"] = micro if micro is not None else save(layout, _fit_one(layout, "file", data))
            _save_seen(layout, data)
        finally:
            if data.snapshot is not None:
                data.snapshot.close()
    return [trained[t] for t in types]


def update(layout: Layout, store: Store, *, timeout: float = 5.0) -> list[str]:
    """Learn the records captured since the last training, without retraining; returns the
    expert types updated. Safe to call from several processes (one updates, others wait)."""
    from filelock import Timeout

    if not layout.is_initialized():
        return []
    try:
        lock = _locked(layout, timeout)
        lock.acquire()
    except Timeout:
        return []
    try:
        seen = _read_seen(layout)
        saved = [t for t in EXPERT_TYPES if layout.domain_expert_file(t).exists()]
        if seen is None or not saved:
            lock.release()
            return [m.expert_type for m in train_all(layout, store)]
        data = training_data(layout, store)
        try:
            return _update_locked(layout, store, seen, data)
        finally:
            if data.snapshot is not None:
                data.snapshot.close()
    finally:
        if lock.is_locked:
            lock.release()


def _update_locked(layout: Layout, store: Store, seen: _Seen, data: TrainingData) -> list[str]:
    """Update the loadable experts with the new records; train any expert type whose file is
    missing or unreadable from scratch (only that type), so a deleted model heals itself."""
    old_c, old_s = set(seen.commits), set(seen.sessions)
    new_commits: list[CommitRecord] = [c for c in data.commits if c.id not in old_c]
    new_sessions: list[SessionRecord] = [s for s in data.sessions if s.id not in old_s]
    loaded = _load(layout, EXPERT_TYPES, store, lock=False)
    try:
        broken = [t for t in available() if t not in loaded]
        done = []
        for t in broken:
            save(layout, _fit_one(layout, t, data), keep_history=False)
            done.append(t)
        if new_commits or new_sessions:
            for t, expert in loaded.items():
                expert.update(data, new_commits, new_sessions)
                save(layout, expert, keep_history=False)
                done.append(t)
        if done:
            _save_seen(layout, data)
        return done
    finally:
        for expert in loaded.values():
            if hasattr(expert, "close"):
                expert.close()
