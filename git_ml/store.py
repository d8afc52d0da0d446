"""The tracked store: append-only JSON Lines, one record a line, de-duplicated on read.

Rules that keep data safe under concurrent hooks and crashes:

* every batch is written by one ``O_APPEND`` ``write`` of whole lines, under a file lock;
* a file whose last line was cut short gets a newline first, so a new record never glues onto it;
* a line that does not decode is skipped with a warning and left in place, never erased;
* the same ``id`` seen twice is one record: the later line wins (a later capture of a session).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import msgspec

from git_ml.layout import Layout
from git_ml.records import TRACKED_KINDS, Record

R = TypeVar("R", bound=Record)

_ENCODER = msgspec.json.Encoder()
_MAX_WRITE = 1 << 20  # large batches go out in chunks of whole lines
LOCK_TIMEOUT = 10.0


class _IdOnly(msgspec.Struct):
    id: str = ""


class CorruptLines(msgspec.Struct):
    path: str
    count: int
    first_line: int


def encode_line(record: Record) -> bytes:
    if not record.id:
        record = record.with_id()
    return _ENCODER.encode(record) + b"\n"


class _FlockLock:
    """``flock`` on ``<path>.lock``: the very lock filelock takes on POSIX (so both exclude each
    other), without its ~15 ms import on the post-commit hot path."""

    def __init__(self, path: str):
        self.path = path
        self.fd = -1

    def __enter__(self):
        import fcntl
        import time

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise TimeoutError(f"{self.path} is locked by another git-ml process") from None
                time.sleep(0.01)
        self.fd = fd
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = -1


def _lock(path: Path):
    if os.name == "posix":
        return _FlockLock(str(path) + ".lock")
    from filelock import FileLock  # imported lazily: hooks that only read never pay for it

    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)


def append_lines(path: Path, payload: bytes) -> None:
    """Append whole JSON lines to ``path`` safely (lock, newline repair, O_APPEND writes)."""
    if not payload:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock(path):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size:
                with open(path, "rb") as fh:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        payload = b"\n" + payload
            view = memoryview(payload)
            while view:
                chunk = view[:_MAX_WRITE]
                if len(view) > _MAX_WRITE:
                    cut = bytes(chunk).rfind(b"\n") + 1 or len(chunk)
                    chunk = view[:cut]
                written = os.write(fd, chunk)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)


class Store:
    """Typed access to ``.git-ml/tracked/<kind>.jsonl`` for one repository."""

    def __init__(self, layout: Layout, *, warn=None):
        self.layout = layout
        self._warn = warn or (lambda msg: print(f"git-ml: {msg}", file=sys.stderr))
        self._warned: set[str] = set()  # one warning per file, however often a command reads it

    def path(self, kind: str) -> Path:
        if kind not in TRACKED_KINDS:
            raise KeyError(f"unknown record kind {kind!r}")
        return self.layout.tracked_file(kind)

    # -- writing ---------------------------------------------------------------------------

    def append(self, kind: str, records: Iterable[Record]) -> int:
        """Append records (ids filled in). Returns how many lines were written."""
        lines = [encode_line(r) for r in records]
        append_lines(self.path(kind), b"".join(lines))
        return len(lines)

    def append_new(self, kind: str, records: Iterable[Record]) -> int:
        """Append only records whose id is not stored yet (idempotent backfill and import)."""
        have = self.ids(kind)
        fresh: list[bytes] = []
        for r in records:
            if not r.id:
                r = r.with_id()
            if r.id not in have:
                have.add(r.id)
                fresh.append(encode_line(r))
        append_lines(self.path(kind), b"".join(fresh))
        return len(fresh)

    # -- reading ---------------------------------------------------------------------------

    def _lines(self, kind: str) -> Iterator[tuple[int, bytes]]:
        path = self.path(kind)
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            return
        with fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    yield n, line

    def ids(self, kind: str) -> set[str]:
        dec = msgspec.json.Decoder(_IdOnly)
        out: set[str] = set()
        for _, line in self._lines(kind):
            try:
                rid = dec.decode(line).id
            except msgspec.DecodeError:
                continue
            if rid:
                out.add(rid)
        return out

    def read(self, kind: str) -> list[Record]:
        """All records of ``kind``, de-duplicated by id (later line wins, first position kept)."""
        typ = TRACKED_KINDS[kind]
        dec = msgspec.json.Decoder(typ)
        by_id: dict[str, Record] = {}
        bad = 0
        first_bad = 0
        for n, line in self._lines(kind):
            try:
                rec = dec.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError):
                bad += 1
                first_bad = first_bad or n
                continue
            if not rec.id:
                rec = rec.with_id()
            by_id[rec.id] = rec
        if bad and kind not in self._warned:
            self._warned.add(kind)
            self._warn(
                f"{self.path(kind)}: skipped {bad} unreadable line(s) (first at line {first_bad}); "
                "they are kept in the file"
            )
        return list(by_id.values())

    def count(self, kind: str) -> int:
        return len(self.ids(kind))


def commits_in_effect(store: Store):
    """Commit records with rewritten ones replaced: an amended or rebased commit counts once,
    under its new hash. Returns records in store order."""
    from git_ml.records import CommitRecord, RewriteRecord

    commits: list[CommitRecord] = store.read("commits")  # type: ignore[assignment]
    rewrites: list[RewriteRecord] = store.read("rewrites")  # type: ignore[assignment]
    replaced = {r.old for r in rewrites}
    have = {c.hash for c in commits}
    # An old hash is dropped only once its replacement is captured, so nothing is lost meanwhile.
    new_of = {r.old: r.new for r in rewrites}
    return [c for c in commits if not (c.hash in replaced and new_of[c.hash] in have)]
