"""What the experts' benchmark scripts share: the shared anchor scripts as modules, and
``extract.py`` rows as commit records."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from git_ml.records import CommitRecord, FileChange  # noqa: E402


def load_module(bench_dir: Path, name: str):
    """Import one of the shared bench scripts from its folder (the package never depends on it)."""
    sys.path.insert(0, str(bench_dir))
    spec = importlib.util.spec_from_file_location(name, bench_dir / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def to_record(c: dict) -> CommitRecord:
    """A commit record from one ``extract.py`` JSONL row."""
    return CommitRecord(hash=c["hash"], author=c.get("author", ""), author_time=c.get("time", 0),
                        message=c.get("message", ""),
                        files=[FileChange(path=f["path"], status=f["status"], old_path=f.get("old_path"))
                               for f in c["files"]])
