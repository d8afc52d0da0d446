"""The ``git-ml`` executable. Kept tiny: hooks and ``predict`` run without importing typer."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hook"]:
        from git_ml.surfaces.hooks import run_hook

        return run_hook(args[1:])
    if args[:1] == ["predict"]:
        from git_ml.surfaces.predict_cmd import fast_main

        code = fast_main(args[1:])
        if code is not None:
            return code
    from git_ml.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
