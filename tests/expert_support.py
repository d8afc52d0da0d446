"""What the expert and code graph tests share: an in-memory snapshot, a storage round trip."""

from __future__ import annotations

import textwrap

import msgspec

from git_ml.experts.base import Expert


class MemSnapshot:
    """``files()``, ``read(path)`` and ``revision`` like ``git_ml.experts.snapshot.Snapshot``;
    texts are dedented (so trees can be written indented) and reads are counted (to check that
    incremental builds re-read only what changed)."""

    def __init__(self, files: dict[str, str], revision: str = "r1"):
        self._files = {p: textwrap.dedent(t) for p, t in files.items()}
        self.revision = revision
        self.reads: list[str] = []

    def files(self) -> list[str]:
        return sorted(self._files)

    def read(self, path: str) -> bytes | None:
        self.reads.append(path)
        text = self._files.get(path)
        return None if text is None else text.encode()


def round_trip(expert: Expert) -> Expert:
    """The expert as stored (its micro model through msgspec JSON) and loaded back."""
    micro = expert.to_micro()
    return type(expert).from_micro(msgspec.json.decode(msgspec.json.encode(micro), type=type(micro)))
