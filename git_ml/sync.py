"""Share tracked records between clones through one git ref per writer, never through a branch.

Each clone is a *writer* with a random id kept in its git config (``git-ml.writer``; no personal
data). Its records travel in ``refs/git-ml/writers/<writer>``: commits built with plumbing
(``hash-object``, ``mktree``, ``commit-tree``, ``update-ref``) that never touch the user's index or
working tree, whose tree holds one append-only ``<kind>.jsonl`` per record kind. Only its writer
updates that ref, so pushing it is always a fast-forward; nobody ever merges data.

``git ml sync``: fetch ``refs/git-ml/writers/*`` into ``refs/git-ml/remotes/<remote>/*``, import
every writer's records into the local store by id, publish this clone's own records (those that
cannot be regenerated: hook-captured commits with their branch and session links, rewrites,
sessions, CI results; backfilled commits are rebuilt by every clone) and push its ref.

Hooks start a detached :func:`sync` from pre-push, and call :func:`import_fetched` after a pull
that brought writer refs through the fetch refspec that :func:`configure_remote` adds. Our own
``git`` calls run with ``GIT_ML_INTERNAL=1`` and our push with ``--no-verify``, so they never
re-enter the hooks.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import msgspec

from git_ml.detach import REENTRY_ENV
from git_ml.layout import GitMLError, Layout
from git_ml.records import TRACKED_KINDS, CommitRecord, Record
from git_ml.store import Store, encode_line

WRITER_KEY = "git-ml.writer"
WRITERS = "refs/git-ml/writers/"
REMOTES = "refs/git-ml/remotes/"
LOCK_WAIT = 30.0  # seconds a foreground sync waits for another one to finish
_WRITER_RE = re.compile(r"^[0-9a-f]{8,64}$")
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class _Version(msgspec.Struct):
    """The fields that decide which of two lines with the same id is the better one."""

    id: str = ""
    source: str = ""
    captured_at: str = ""


def _rank(kind: str, v: _Version) -> tuple:
    # A hook-captured commit (branch, session link) beats the backfilled copy of the same commit;
    # a later capture of a session beats an earlier one. Other records are facts: first one wins.
    if kind == "commits":
        return (v.source != "backfill",)
    if kind == "sessions":
        return (v.captured_at,)
    return ()


@dataclass
class SyncReport:
    """What one sync did."""

    remote: str
    writer: str
    published: dict[str, int] = field(default_factory=dict)
    imported: dict[str, int] = field(default_factory=dict)
    writers_seen: int = 0
    pushed: bool = False

    def summary(self) -> str:
        pub = sum(self.published.values())
        imp = sum(self.imported.values())
        push = "pushed" if self.pushed else "nothing to push"
        return (f"synced with {self.remote}: published {pub} record(s), imported {imp} record(s) "
                f"from {self.writers_seen} other writer(s); {push}")


# ---------------------------------------------------------------------------------------------
# git plumbing


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env[REENTRY_ENV] = "1"  # hooks fired by our own git calls return at once
    for var in ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(var, None)
    return env


def _git(layout: Layout, *args: str, input: bytes | None = None, check: bool = True,
         env: dict | None = None) -> subprocess.CompletedProcess:
    out = subprocess.run(["git", *args], cwd=layout.worktree, input=input, capture_output=True,
                         env=env or _env(), check=False)
    if check and out.returncode != 0:
        msg = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitMLError(f"git {args[0]} failed: {msg[-1] if msg else out.returncode}")
    return out


def _out(layout: Layout, *args: str, **kw) -> str:
    return _git(layout, *args, **kw).stdout.decode("utf-8", "replace").strip()


def writer_id(layout: Layout) -> str:
    """This clone's writer id, created on first use (random, no personal data)."""
    got = _git(layout, "config", "--local", "--get", WRITER_KEY, check=False)
    wid = got.stdout.decode().strip()
    if _WRITER_RE.match(wid):
        return wid
    wid = secrets.token_hex(8)
    # `git config` fails while anyone else (the user's git, another clone tool) holds
    # .git/config.lock: wait briefly, and take an id another process wrote meanwhile.
    for attempt in range(20):
        if _git(layout, "config", "--local", WRITER_KEY, wid, check=False).returncode == 0:
            return wid
        got = _out(layout, "config", "--local", "--get", WRITER_KEY, check=False)
        if _WRITER_RE.match(got):
            return got
        time.sleep(0.05 * (attempt + 1))
    raise GitMLError("could not save this clone's git-ml writer id: .git/config stays locked; "
                     "remove .git/config.lock if no git command is running, then try again")


def _remotes(layout: Layout) -> list[str]:
    return _out(layout, "remote").split()


def resolve_remote(layout: Layout, remote: str | None) -> str:
    """``remote`` if given, else the current branch's upstream remote, else ``origin``."""
    names = _remotes(layout)
    if remote:
        if remote not in names:
            raise GitMLError(f"no remote named {remote!r} (see `git remote -v`)")
        return remote
    branch = _out(layout, "symbolic-ref", "--short", "-q", "HEAD", check=False)
    if branch:
        up = _out(layout, "config", "--get", f"branch.{branch}.remote", check=False)
        if up in names:
            return up
    if "origin" in names:
        return "origin"
    if len(names) == 1:
        return names[0]
    if not names:
        raise GitMLError("this repository has no remote to sync with: add one with `git remote add`")
    raise GitMLError(f"several remotes and no upstream: choose one with --remote ({', '.join(names)})")


def _refs(layout: Layout, prefix: str) -> dict[str, str]:
    out = _out(layout, "for-each-ref", "--format=%(objectname) %(refname)", prefix)
    refs = {}
    for line in out.splitlines():
        sha, _, name = line.partition(" ")
        refs[name] = sha
    return refs


def _ref_lines(layout: Layout, commits: Iterable[str]) -> Iterator[tuple[str, str, bytes]]:
    """(commit, kind, blob) for every ``<kind>.jsonl`` in the given data commits (one cat-file)."""
    wanted = [(c, k) for c in commits for k in TRACKED_KINDS]
    if not wanted:
        return
    query = "".join(f"{c}:{k}.jsonl\n" for c, k in wanted).encode()
    data = _git(layout, "cat-file", "--batch", input=query).stdout
    pos = 0
    for commit, kind in wanted:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            yield commit, kind, data[pos:pos + size]
            pos += size + 1


def _versions(blob: bytes) -> Iterator[tuple[_Version, bytes]]:
    dec = msgspec.json.Decoder(_Version)
    for line in blob.splitlines():
        if not line.strip():
            continue
        try:
            v = dec.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # a foreign line we cannot read is left where it is
        if v.id:
            yield v, line


def _best(ranks: dict[str, tuple], kind: str, v: _Version) -> bool:
    """Record ``v`` in ``ranks`` if it is new or better; True when it was."""
    r = _rank(kind, v)
    old = ranks.get(v.id)
    if old is None or r > old:
        ranks[v.id] = r
        return True
    return False


def _local_ranks(store: Store, kind: str) -> dict[str, tuple]:
    ranks: dict[str, tuple] = {}
    path = store.path(kind)
    if path.exists():
        for v, _ in _versions(path.read_bytes()):
            _best(ranks, kind, v)
    return ranks


# ---------------------------------------------------------------------------------------------
# import


def _import_refs(layout: Layout, store: Store, refs: dict[str, str], *, skip: set[str]) -> dict[str, int]:
    """Append to the local store every record of ``refs`` it lacks (or holds an older version of)."""
    commits = sorted({sha for name, sha in refs.items() if name not in skip})
    imported: dict[str, int] = {}
    if not commits:
        return imported
    local = {kind: _local_ranks(store, kind) for kind in TRACKED_KINDS}
    fresh: dict[str, list[Record]] = {kind: [] for kind in TRACKED_KINDS}
    for _, kind, blob in _ref_lines(layout, commits):
        dec = msgspec.json.Decoder(TRACKED_KINDS[kind])
        for v, line in _versions(blob):
            if not _best(local[kind], kind, v):
                continue
            try:
                fresh[kind].append(dec.decode(line))
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
    for kind, records in fresh.items():
        if records:
            imported[kind] = store.append(kind, records)
    return imported


def _import_all(layout: Layout, store: Store, own: str) -> tuple[dict[str, int], int]:
    """Import from every writer ref known locally (other writers', and the remote's copy of ours)."""
    refs = {**_refs(layout, WRITERS), **_refs(layout, REMOTES)}
    others = {name.rsplit("/", 1)[-1] for name in refs} - {own}
    return _import_refs(layout, store, refs, skip={WRITERS + own}), len(others)


# ---------------------------------------------------------------------------------------------
# publish


def _publishable(rec: Record) -> bool:
    # Backfilled commits are rebuilt from git history by every clone: they need not travel.
    return not (isinstance(rec, CommitRecord) and rec.source == "backfill")


def _commit_data(layout: Layout, writer: str, blobs: dict[str, bytes], parents: list[str], n: int) -> str:
    """Write a data commit with one blob per kind; touches no index and no working tree."""
    entries = []
    for kind in sorted(blobs):
        sha = _out(layout, "hash-object", "-w", "--stdin", input=blobs[kind])
        entries.append(f"100644 blob {sha}\t{kind}.jsonl\n")
    tree = _out(layout, "mktree", input="".join(entries).encode())
    env = _env()
    # A neutral identity: no user name or e-mail goes into shared data.
    env.update(GIT_AUTHOR_NAME="git-ml", GIT_AUTHOR_EMAIL=f"{writer}@git-ml.invalid",
               GIT_COMMITTER_NAME="git-ml", GIT_COMMITTER_EMAIL=f"{writer}@git-ml.invalid")
    args = ["commit-tree", "--no-gpg-sign", tree, "-m", f"git-ml: {n} record(s) from writer {writer}"]
    for p in parents:
        args += ["-p", p]
    return _out(layout, *args, env=env)


def _is_ancestor(layout: Layout, a: str, b: str) -> bool:
    return _git(layout, "merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def publish_local(layout: Layout, store: Store, writer: str, *, remote_copy: str | None = None) -> dict[str, int]:
    """Append this clone's new records to its writer ref (a local commit; no network).

    ``remote_copy`` is the remote's version of this writer's ref. When it is ahead, we build on
    it; when it diverged (the ref was rewritten elsewhere, or this clone's config was copied into
    another clone), its lines are kept and it becomes a second parent: nothing is lost and the
    next push is still a fast-forward.
    """
    own_ref = WRITERS + writer
    own = _refs(layout, own_ref).get(own_ref)
    base, extra = own, None
    if remote_copy and remote_copy != own:
        if not own or _is_ancestor(layout, own, remote_copy):
            base = remote_copy
        elif not _is_ancestor(layout, remote_copy, own):
            extra = remote_copy
    blobs: dict[str, bytes] = {}
    ranks: dict[str, dict[str, tuple]] = {kind: {} for kind in TRACKED_KINDS}
    # The base's files are kept byte for byte (append-only); a diverged copy adds its new lines.
    for commit, kind, blob in _ref_lines(layout, [c for c in (base, extra) if c]):
        body = blobs.get(kind, b"")
        if commit == base:
            body = blob
            for v, _ in _versions(blob):
                _best(ranks[kind], kind, v)
        else:
            lines = [line + b"\n" for v, line in _versions(blob) if _best(ranks[kind], kind, v)]
            if lines and body and not body.endswith(b"\n"):
                body += b"\n"
            body += b"".join(lines)
        blobs[kind] = body
    # Records other writers published are theirs: never re-publish them under our name.
    others = sorted({sha for name, sha in {**_refs(layout, WRITERS), **_refs(layout, REMOTES)}.items()
                     if name.rsplit("/", 1)[-1] != writer})
    for _, kind, blob in _ref_lines(layout, others):
        for v, _ in _versions(blob):
            _best(ranks[kind], kind, v)
    published: dict[str, int] = {}
    for kind in TRACKED_KINDS:
        lines = []
        for rec in store.read(kind):
            if not _publishable(rec):
                continue
            v = _Version(id=rec.id, source=getattr(rec, "source", ""),
                         captured_at=getattr(rec, "captured_at", ""))
            if _best(ranks[kind], kind, v):
                lines.append(encode_line(rec))
        if lines:
            body = blobs.get(kind, b"")
            if body and not body.endswith(b"\n"):
                body += b"\n"
            blobs[kind] = body + b"".join(lines)
            published[kind] = len(lines)
    if published or extra:
        parents = [c for c in (base, extra) if c]
        new = _commit_data(layout, writer, blobs, parents, sum(published.values()))
    elif base != own:
        new = base  # a fast-forward to the remote's copy
    else:
        return published
    # Compare-and-swap: a concurrent update of this ref makes this fail instead of losing data.
    _git(layout, "update-ref", "-m", "git-ml sync", own_ref, new, own or "0" * 40)
    return published


# ---------------------------------------------------------------------------------------------
# sync, and what hooks call


def _lock(layout: Layout, wait: float):
    from filelock import FileLock

    layout.state.mkdir(parents=True, exist_ok=True)
    # Not "sync.lock": a caller (the hooks' detached child) may hold that one around this call.
    return FileLock(str(layout.state / "sync-run.lock"), timeout=wait)


def _refspec(remote: str) -> str:
    return f"+{WRITERS}*:{REMOTES}{remote}/*"


def _git_reason(out) -> str:
    """Why a git fetch/push failed, in one line: its first ``fatal:``/``error:`` line (the last
    line is often the tail of a wrapped hint such as "and the repository exists.")."""
    lines = [line.strip() for line in out.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal:", "error:"):
            if line.startswith(prefix):
                return line[len(prefix):].strip().rstrip(".")
    return lines[0].rstrip(".") if lines else f"git exited with {out.returncode}"


def _fetch(layout: Layout, remote: str) -> None:
    out = _git(layout, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote,
               _refspec(remote), check=False)
    if out.returncode != 0:
        raise GitMLError(f"could not fetch git-ml data from {remote!r}: {_git_reason(out)}; "
                         "local data is intact")


def _push(layout: Layout, remote: str, ref: str) -> None:
    # --no-verify: our own push must not run the user's pre-push hook (nor ours again).
    out = _git(layout, "push", "--quiet", "--no-verify", remote, f"{ref}:{ref}", check=False)
    if out.returncode != 0:
        raise GitMLError(f"could not push git-ml data to {remote!r}: {_git_reason(out)}; "
                         "local data is intact, run `git ml sync` again")


def sync(layout: Layout, store: Store, remote: str | None = None) -> SyncReport:
    """Fetch every writer's ref, import their records, publish ours and push our ref."""
    remote = resolve_remote(layout, remote)
    from filelock import Timeout

    try:
        with _lock(layout, LOCK_WAIT):
            # Inside the lock: two first syncs must not both create (and race on) the id.
            writer = writer_id(layout)
            report = SyncReport(remote=remote, writer=writer)
            _fetch(layout, remote)
            report.imported, report.writers_seen = _import_all(layout, store, writer)
            tracking = f"{REMOTES}{remote}/{writer}"
            remote_copy = _refs(layout, tracking).get(tracking)
            report.published = publish_local(layout, store, writer, remote_copy=remote_copy)
            own = _refs(layout, WRITERS + writer).get(WRITERS + writer)
            if own and own != remote_copy:
                _push(layout, remote, WRITERS + writer)
                _git(layout, "update-ref", tracking, own)
                report.pushed = True
    except Timeout as exc:
        raise GitMLError("another git ml sync is running in this repository; try again shortly") from exc
    return report


def import_fetched(layout: Layout, store: Store) -> dict[str, int]:
    """Import writer refs that a plain ``git fetch``/``git pull`` brought (the hooks' worker).

    Returns what was imported. Cheap when nothing changed: the writer refs seen last time are
    kept in ``state/sync-imported`` and an unchanged set costs one ``git for-each-ref`` (``git ml
    sync`` always imports in full). Does nothing while a sync runs: it imports them itself.
    """
    if not layout.is_initialized():
        return {}
    from filelock import Timeout

    seen = layout.state / "sync-imported"
    try:
        with _lock(layout, 0):
            refs = {**_refs(layout, WRITERS), **_refs(layout, REMOTES)}
            snapshot = "".join(f"{sha} {name}\n" for name, sha in sorted(refs.items()))
            if seen.exists() and seen.read_text() == snapshot:
                return {}
            imported = _import_all(layout, store, writer_id(layout))[0]
            seen.write_text(snapshot)
            return imported
    except Timeout:
        return {}


def configure_remote(layout: Layout) -> list[str]:
    """Make plain ``git fetch``/``git pull`` bring writer refs from every remote (idempotent)."""
    lines = []
    for remote in _remotes(layout):
        spec = _refspec(remote)
        have = _out(layout, "config", "--get-all", f"remote.{remote}.fetch", check=False).splitlines()
        if spec not in have:
            _git(layout, "config", "--add", f"remote.{remote}.fetch", spec)
            lines.append(f"git fetch/pull from {remote} now also brings git-ml data ({REMOTES}{remote}/*)")
    return lines


def unconfigure_remote(layout: Layout) -> list[str]:
    """Remove the fetch refspecs :func:`configure_remote` added; the data refs stay."""
    lines = []
    for remote in _remotes(layout):
        spec = _refspec(remote)
        have = _out(layout, "config", "--get-all", f"remote.{remote}.fetch", check=False).splitlines()
        if spec in have:
            _git(layout, "config", "--fixed-value", "--unset-all", f"remote.{remote}.fetch", spec)
            lines.append(f"removed the git-ml fetch refspec from remote {remote}")
    return lines
