"""The code of a repository at one revision, read straight from git's object store.

A :class:`Snapshot` lists the paths of a commit's tree (``git ls-tree``) and reads blobs through
one long-lived ``git cat-file --batch`` process, so reading thousands of files costs one process,
not thousands. It never touches the working tree: training and temporal replay see the code as
it was at ``revision``, never a later state.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from git_ml.experts.text import decode_text

MAX_BLOB = 1 << 20  # larger files (data dumps, vendored bundles) are not read as code


class Snapshot:
    """Paths and contents of the tree of ``revision`` in the repository at ``cwd``.

    ``git_dir`` may point at a bare repository or a mirror (then ``cwd`` is only where git runs).
    ``revision`` is resolved once to a commit hash; an unborn or unknown revision gives an empty
    snapshot (no files), never an error, so a brand-new repository can still be trained on.
    """

    def __init__(self, cwd: Path | str, revision: str = "HEAD", *, git_dir: Path | str | None = None,
                 max_blob: int = MAX_BLOB):
        self.cwd = Path(cwd)
        self._git = ["git", "-c", "core.quotepath=off"]
        if git_dir is not None:
            self._git += ["--git-dir", str(git_dir)]
        self.max_blob = max_blob
        self.revision = self._resolve(revision)
        self._files: list[str] | None = None
        self._sizes: dict[str, int] = {}
        self._blobs: dict[str, str] = {}
        self._proc: subprocess.Popen | None = None

    # -- tree ------------------------------------------------------------------------------

    def _resolve(self, revision: str) -> str:
        out = subprocess.run([*self._git, "rev-parse", "-q", "--verify", f"{revision}^{{commit}}"],
                             cwd=self.cwd, capture_output=True, check=False)
        return out.stdout.decode().strip() if out.returncode == 0 else ""

    def _load_tree(self) -> None:
        files: list[str] = []
        if self.revision:
            out = subprocess.run([*self._git, "ls-tree", "-r", "-l", "-z", "--full-tree", self.revision],
                                 cwd=self.cwd, capture_output=True, check=False)
            for entry in out.stdout.split(b"\0"):
                if not entry:
                    continue
                meta, _, raw_path = entry.partition(b"\t")
                parts = meta.split()
                if len(parts) < 4 or parts[1] != b"blob":
                    continue  # submodules (commit entries) have no content here
                path = raw_path.decode("utf-8", errors="backslashreplace")
                files.append(path)
                self._blobs[path] = parts[2].decode()
                self._sizes[path] = int(parts[3]) if parts[3].isdigit() else 0
        self._files = files

    def files(self) -> list[str]:
        """Every file path in the tree of ``revision`` (repo-relative, sorted as git lists them)."""
        if self._files is None:
            self._load_tree()
        return list(self._files or ())

    def size(self, path: str) -> int | None:
        """The blob size of ``path`` in bytes, or None when it is not in the tree."""
        if self._files is None:
            self._load_tree()
        return self._sizes.get(path)

    def __contains__(self, path: str) -> bool:
        return self.size(path) is not None

    # -- blobs -----------------------------------------------------------------------------

    def _batch(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen([*self._git, "cat-file", "--batch"], cwd=self.cwd,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL)
        return self._proc

    def read(self, path: str) -> bytes | None:
        """The bytes of ``path`` at ``revision``; None if absent, not a file, or over ``max_blob``."""
        size = self.size(path)
        if size is None or size > self.max_blob:
            return None
        proc = self._batch()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(self._blobs[path].encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            return None
        n = int(header[2])
        data = proc.stdout.read(n)
        proc.stdout.read(1)  # the newline after each object
        return data

    def text(self, path: str) -> str | None:
        """``read(path)`` decoded as text; None for absent or binary files."""
        data = self.read(path)
        return None if data is None else decode_text(data)

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the ``cat-file`` process (safe to call twice; reading again restarts it)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            if proc.stdout is not None:
                proc.stdout.close()
            proc.wait()

    def __enter__(self) -> "Snapshot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() must not leave a git process behind
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"Snapshot({str(self.cwd)!r}, {self.revision[:12] or '<empty>'!r})"
