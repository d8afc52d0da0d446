"""The ``git-ml`` executable. Kept tiny: hook calls dispatch before typer or rich are imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hook"]:
        from git_ml.surfaces.hooks import run_hook

        return run_hook(args[1:])
    from git_ml.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
