"""``git ml predict``: route a query to experts, ask them, vote.

Experts are loaded lazily, only those a query needs, and kept for the next query of a batch.
Nothing here imports rich or typer: JSON answers stay fast.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from git_ml.experts.base import Expert, Query
from git_ml.layout import GitMLError, Layout
from git_ml.records import AggregatedPrediction, ExpertPrediction
from git_ml.routing.router import route
from git_ml.routing.vote import aggregate, weight_from_metrics
from git_ml.store import Store

EXPERT_NAMES = ("file", "test", "error", "doc", "refactor")  # the domain experts a query can name
MAX_EPISODES = 50  # newest episode experts that vote on file queries
EPISODE_WEIGHT = 0.5  # one session is weaker evidence than a whole history
MAX_DIFF = 4 << 20  # bytes of a diff read for one query (a vendored blob must not stall it)
_REFACTOR_KIND = re.compile(r"\b(renam|mov|extract|inlin|signature|split)\w*", re.I)
_KIND = {"renam": "rename", "mov": "move", "extract": "extract", "inlin": "inline", "signature": "signature",
         "split": "extract"}


class _BatchLine(msgspec.Struct):
    id: Any = None
    query: str | None = None
    files: list[str] = []
    expert: str | list[str] | None = None


def _git(layout: Layout, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=layout.worktree,
                          capture_output=True, check=False)


def _git_files(layout: Layout, args: list[str], what: str) -> list[str]:
    out = _git(layout, args)
    if out.returncode != 0:
        lines = out.stderr.decode(errors="replace").strip().splitlines()
        why = lines[-1].removeprefix("fatal: ").strip() if lines else "git failed"
        raise GitMLError(f"{what} ({why})"[:300])
    return [p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def staged_files(layout: Layout) -> list[str]:
    """Files in the index that differ from HEAD (added, modified, renamed; not deleted)."""
    files = _git_files(layout, ["diff", "--cached", "--name-only", "-z", "--diff-filter=d"],
                       "cannot read the staged changes")
    if not files:
        raise GitMLError("nothing is staged (git add some changes, or use --files / --range)")
    return files


def range_files(layout: Layout, rev_range: str) -> list[str]:
    """Files changed in ``A..B`` (or ``A...B``)."""
    if rev_range.startswith("-") or ".." not in rev_range:
        raise GitMLError(f"--range {rev_range!r} is not a revision range (expected A..B, e.g. main..HEAD)")
    files = _git_files(layout, ["diff", "--name-only", "-z", "--diff-filter=d", rev_range, "--"],
                       f"--range {rev_range!r} is not a valid range in this repository")
    if not files:
        raise GitMLError(f"the range {rev_range} has no changes")
    return files


def change_diff(layout: Layout, *, staged: bool = False, rev_range: str | None = None) -> str | None:
    """The unified diff (no context lines) of the staged changes or of a range, for the experts
    that read which lines changed (the test expert: the changed functions and their callers).
    At most MAX_DIFF bytes; None when git cannot give it (the file lists still answer)."""
    args = ["diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", "-U0", "--diff-filter=d"]
    args += ["--cached"] if staged else [rev_range or "", "--"]
    out = _git(layout, args)
    if out.returncode != 0 or not out.stdout:
        return None
    return out.stdout[:MAX_DIFF].decode("utf-8", "replace")


def resolve_files(layout: Layout, files: Sequence[str], cwd: Path | None,
                  note: Callable[[str], None]) -> list[str]:
    """Repository paths for ``--files``: relative to ``cwd`` first, then to the repository root
    (so ``types.py`` from ``src/click`` is ``src/click/types.py``). A path found neither on disk
    nor in the history is kept as given (cwd-relative) with a note."""
    root = layout.worktree.resolve()
    here = (cwd or root).resolve()
    out = []
    for f in files:
        candidates = []
        try:
            rel = (here / f).resolve().relative_to(root).as_posix()
            candidates.append(rel)
        except ValueError:
            pass
        if f not in candidates and not Path(f).is_absolute():
            candidates.append(Path(f).as_posix())
        found = next((c for c in candidates if (root / c).exists()), None)
        if found is None:
            found = next((c for c in candidates if _in_history(layout, c)), None)
        if found is None:
            found = candidates[0] if candidates else f
            note(f"{f}: not in the repository nor in its history")
        out.append(found)
    return out


def _in_history(layout: Layout, path: str) -> bool:
    out = _git(layout, ["log", "-1", "--all", "--format=%H", "--", path])
    return out.returncode == 0 and bool(out.stdout.strip())


def refactor_kind(text: str | None) -> str | None:
    m = _REFACTOR_KIND.search(text or "")
    return _KIND.get(m.group(1).lower()) if m else None


class Predictor:
    """Answers queries for one repository with its saved experts."""

    def __init__(self, layout: Layout, store: Store):
        self.layout = layout
        self.store = store
        self._experts: dict[str, Expert | None] = {}
        self._episodes: list[Expert] | None = None

    @classmethod
    def load(cls, layout: Layout, store: Store) -> "Predictor":
        return cls(layout, store)

    def close(self) -> None:
        """Close what the loaded experts hold open (the file expert's index)."""
        for expert in [*self._experts.values(), *(self._episodes or [])]:
            if expert is not None and hasattr(expert, "close"):
                expert.close()
        self._experts, self._episodes = {}, None

    def __enter__(self) -> "Predictor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def expert(self, expert_type: str) -> Expert | None:
        if expert_type not in self._experts:
            from git_ml.experts import registry

            self._experts[expert_type] = registry.load(self.layout, [expert_type], self.store).get(expert_type)
        return self._experts[expert_type]

    def episodes(self) -> list[Expert]:
        if self._episodes is None:
            from git_ml.experts import registry

            self._episodes = registry.load_episodes(self.layout, newest=MAX_EPISODES)
            if self._episodes:  # an episode may name files gone since (or another project's): never propose them
                from git_ml.capture.sessions import tracked_files

                here = tracked_files(self.layout)
                for episode in self._episodes:
                    restrict = getattr(episode, "restrict_to", None)
                    if restrict is not None:
                        restrict(here)
        return self._episodes

    def _ask(self, expert: Expert, query: Query, top: int) -> ExpertPrediction | None:
        try:
            return expert.predict(query, top=top)
        except Exception:  # noqa: BLE001 - one failing expert must not sink the answer
            return None

    def predict(self, query: str | None = None, *, experts: Sequence[str] = (), files: Sequence[str] = (),
                staged: bool = False, rev_range: str | None = None, top: int = 10, cwd: Path | None = None,
                note: Callable[[str], None] | None = None) -> AggregatedPrediction:
        """Route, ask and vote. ``files`` are relative to ``cwd`` (else the repository root);
        ``note`` hears what the answer lacks (an unknown path, a missing expert). Raises
        GitMLError on empty input, an unknown expert, or when no asked expert is trained."""
        note = note or (lambda _msg: None)
        unknown = [e for e in experts if e not in EXPERT_NAMES]
        if unknown:
            raise GitMLError(f"unknown expert {', '.join(map(repr, unknown))} (valid: {', '.join(EXPERT_NAMES)})")
        if query is not None and not query.strip():
            query = None
            if not files and not staged and not rev_range:
                raise GitMLError("the query is empty (give words, --files, --staged or --range)")
        changed = resolve_files(self.layout, files, cwd, note)
        diffs = []
        if staged:
            changed += staged_files(self.layout)
            diffs.append(change_diff(self.layout, staged=True))
        if rev_range:
            changed += range_files(self.layout, rev_range)
            diffs.append(change_diff(self.layout, rev_range=rev_range))
        changed = list(dict.fromkeys(changed))
        if query is None and not changed:
            raise GitMLError("nothing to predict from: give a query, --files, --staged or --range")
        plan = route(query, changed, experts)
        diff = "".join(d for d in diffs if d) or None
        q = Query(text=query, files=changed, diff=diff, refactor_type=refactor_kind(query))
        predictions: list[ExpertPrediction] = []
        weights: dict[str, float] = {}
        missing = []
        for t in plan.experts:
            expert = self.expert(t)
            if expert is None:
                missing.append(t)
                continue
            pred = self._ask(expert, q, top)
            if pred is not None:
                predictions.append(pred)
                weights[pred.expert_id] = weight_from_metrics(expert.metrics)
        if "file" in plan.experts:
            for episode in self.episodes():
                pred = self._ask(episode, q, top)
                if pred is not None and pred.items:
                    predictions.append(pred)
                    weights[pred.expert_id] = EPISODE_WEIGHT * weight_from_metrics(episode.metrics)
        if not predictions and len(missing) == len(plan.experts):
            raise GitMLError(f"no trained expert among {', '.join(plan.experts)}: run `git ml train`")
        for t in missing:
            note(f"the {t} expert is missing or unreadable: answered without it "
                 "(the next commit rebuilds it, or run `git ml train`)")
        return aggregate(predictions, weights, top=top, intent=plan.intent)

    def predict_batch(self, source: Path | IO[bytes], *, top: int = 10) -> Iterator[str]:
        """One JSON answer per JSONL line ``{"id", "query"?, "files"?, "expert"?}``, with its id.
        A bad line gets ``{"id", "error"}`` and the batch goes on."""
        dec = msgspec.json.Decoder(_BatchLine)
        enc = msgspec.json.Encoder()
        if isinstance(source, (str, Path)):
            try:
                fh: IO[bytes] = open(source, "rb")
            except OSError as exc:
                raise GitMLError(f"cannot read --batch file {source}: {exc.strerror}") from exc
        else:
            fh = source
        with fh, self:
            for n, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    line = dec.decode(raw)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    yield enc.encode({"id": None, "line": n, "error": f"bad JSON line: {exc}"}).decode()
                    continue
                wanted = [line.expert] if isinstance(line.expert, str) else list(line.expert or [])
                try:
                    if line.query is None and not line.files:
                        raise GitMLError("a line needs a query or files")
                    answer = self.predict(line.query, experts=wanted, files=line.files, top=top)
                except GitMLError as exc:
                    yield enc.encode({"id": line.id, "error": str(exc)}).decode()
                    continue
                payload = msgspec.structs.asdict(answer)
                yield enc.encode({"id": line.id, **payload}).decode()
