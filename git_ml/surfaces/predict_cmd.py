"""``git ml predict``: the command body, and a fast path that parses it without typer.

Agents, hooks and editors call predict far more often than any other command, and typer (with the
pydantic it now loads to coerce options) costs more than the prediction itself. So ``git-ml
predict ...`` is parsed here with argparse, over the very same options as the typer command (a
test keeps the two in step); anything this parser does not take (``-h``, a wrong flag) falls
through to typer, which owns help and usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from git_ml.layout import GitMLError
from git_ml.routing.predictor import EXPERT_NAMES
FORMATS = ("text", "json")


def run_predict(
    query: str | None,
    *,
    experts: Sequence[str] = (),
    files: Sequence[str] = (),
    staged: bool = False,
    rev_range: str | None = None,
    top: int = 10,
    fmt: str = "text",
    batch: str | None = None,
) -> None:
    """Answer one query (or a batch) and write it to stdout."""
    import msgspec

    from git_ml import api

    if batch is not None:
        source = sys.stdin.buffer if batch == "-" else Path(batch)
        for line in api.predict_batch(Path.cwd(), source, top=top):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        return
    if query is None and not files and not staged and not rev_range:
        raise GitMLError("give a query, --files, --staged or --range (see git ml predict -h)")
    answer = api.predict(Path.cwd(), query, experts=list(experts), files=list(files), staged=staged,
                         rev_range=rev_range, top=top,
                         note=lambda msg: print(f"git-ml: note: {msg}", file=sys.stderr))
    if fmt == "json":
        sys.stdout.write(msgspec.json.encode(answer).decode() + "\n")
    else:
        from rich.console import Console

        from git_ml.surfaces.render import render_prediction

        render_prediction(answer, Console(highlight=False))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="git ml predict", add_help=False, exit_on_error=False, allow_abbrev=False)
    p.add_argument("query", nargs="?")
    p.add_argument("--expert", "-e", action="append", choices=EXPERT_NAMES, default=[])
    p.add_argument("--files", "-f", action="append", default=[])
    p.add_argument("--staged", action="store_true")
    p.add_argument("--range", dest="rev_range")
    p.add_argument("--top", "-n", type=int, default=10)
    p.add_argument("--format", dest="fmt", choices=FORMATS, default="text")
    p.add_argument("--batch")
    return p


def fast_options() -> set[str]:
    """The option strings the fast path accepts (compared with typer's in the tests)."""
    return {s for a in _parser()._actions for s in a.option_strings}


def fast_main(args: list[str]) -> int | None:
    """Run ``predict`` from ``args`` (after the word predict); None when typer should take it."""
    if any(a in ("-h", "--help") for a in args):
        return None
    try:
        ns, extra = _parser().parse_known_args(args)
    except (argparse.ArgumentError, SystemExit):
        return None
    if extra or ns.top < 1:
        return None
    from git_ml.surfaces.cli_errors import guarded

    return guarded(lambda: run_predict(ns.query, experts=ns.expert, files=ns.files, staged=ns.staged,
                                       rev_range=ns.rev_range, top=ns.top, fmt=ns.fmt, batch=ns.batch))
