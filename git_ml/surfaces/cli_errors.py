"""How every command ends: one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from git_ml.layout import GitMLError


def guarded(command: Callable[[], object]) -> int:
    """Run ``command``; map errors to one stderr line (0 ok, 1 error, 2 usage, 130 interrupted).

    ``GIT_ML_DEBUG=1`` lets unexpected exceptions through with their traceback.
    """
    for stream in (sys.stdout, sys.stderr):
        # Paths that are not UTF-8 (kept as surrogate escapes) are written back as their bytes.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    try:
        command()
    except SystemExit as exc:  # click's own exits: 0 for help/version, 2 for usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except GitMLError as exc:
        print(f"git-ml: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("git-ml: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `git ml predict ... | head`: the reader left, nothing to report
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI promises no tracebacks
        if os.environ.get("GIT_ML_DEBUG"):
            raise
        print(f"git-ml: error: {type(exc).__name__}: {exc} (set GIT_ML_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1
    return 0
