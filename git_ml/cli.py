"""``git ml`` commands: a thin typer layer over :mod:`git_ml.api`.

Data goes to stdout, diagnostics to stderr. Exit codes: 0 ok, 1 error (one line, no traceback
unless GIT_ML_DEBUG=1), 2 usage error.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from git_ml import __version__, api

app = typer.Typer(
    name="git ml",
    help="Learn from this repository's history and agent sessions; predict files, tests, errors, docs.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
session_app = typer.Typer(help="Agent sessions: ingest transcripts by hand or in bulk.", no_args_is_help=True)
app.add_typer(session_app, name="session")


class Format(str, Enum):
    text = "text"
    json = "json"


class Agent(str, Enum):
    claude = "claude"
    codex = "codex"


class Shell(str, Enum):
    bash = "bash"


class ExpertName(str, Enum):
    file = "file"
    test = "test"
    error = "error"
    doc = "doc"
    refactor = "refactor"


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _version(value: bool) -> None:
    if value:
        print(f"git-ml {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """git-ml: micro-experts trained on your repository vote on what a task touches."""


@app.command()
def init(
    no_hooks: Annotated[bool, typer.Option("--no-hooks", help="Do not install git hooks.")] = False,
    agent: Annotated[list[Agent], typer.Option("--agent", help="Also install an agent's session hooks.")] = [],
) -> None:
    """Create .git-ml/, backfill history, train experts and install hooks."""
    report = api.init(Path.cwd(), hooks=not no_hooks, agents=[a.value for a in agent], progress=_console(True))
    for line in report.lines():
        print(line)


@app.command()
def backfill(
    since: Annotated[Optional[str], typer.Option("--since", help="Only commits after REV.")] = None,
) -> None:
    """Capture the repository's history into tracked/commits.jsonl (idempotent)."""
    added = api.backfill(Path.cwd(), since=since)
    print(f"backfilled {added} new commit(s)")


@app.command()
def train(
    expert: Annotated[list[ExpertName], typer.Option("--expert", "-e", help="Only these experts.")] = [],
) -> None:
    """Train the domain experts from scratch on tracked data and git history."""
    trained = api.train(Path.cwd(), experts=[e.value for e in expert] or None)
    for e in trained:
        print(f"trained {e.expert_type} expert on {e.trained_on_commits} commits, {e.trained_on_sessions} sessions")


@app.command()
def stats(fmt: Annotated[Format, typer.Option("--format")] = Format.text) -> None:
    """Records per type, experts and versions, progress toward the milestones."""
    report = api.stats(Path.cwd())
    if fmt is Format.json:
        import msgspec

        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    else:
        from git_ml.surfaces.report import render_stats

        render_stats(report, _console())


@app.command()
def predict(
    query: Annotated[Optional[str], typer.Argument(help="A task, an error message or a question.")] = None,
    expert: Annotated[list[ExpertName], typer.Option("--expert", "-e", help="Ask these experts only.")] = [],
    files: Annotated[list[str], typer.Option("--files", "-f", help="Seed or changed files.")] = [],
    staged: Annotated[bool, typer.Option("--staged", help="Use the staged changes as the changed files.")] = False,
    rev_range: Annotated[Optional[str], typer.Option("--range", help="Use the files changed in A..B.")] = None,
    top: Annotated[int, typer.Option("--top", "-n", min=1, help="How many items.")] = 10,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
    batch: Annotated[Optional[Path], typer.Option("--batch", help="JSONL of {id, query?, files?, expert?}; '-' for stdin.")] = None,
) -> None:
    """Predict files, tests, error locations, docs or refactor impact."""
    from git_ml.surfaces.predict_cmd import run_predict

    run_predict(query, experts=[e.value for e in expert], files=files, staged=staged, rev_range=rev_range,
                top=top, fmt=fmt.value, batch=None if batch is None else str(batch))


@app.command("eval")
def evaluate(
    split: Annotated[float, typer.Option("--split", min=0.1, max=0.95, help="Share of history to learn from.")] = 0.8,
    expert: Annotated[list[ExpertName], typer.Option("--expert", "-e")] = [],
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """Temporal replay on this repository's history: experts next to the anchors."""
    import msgspec

    result = api.evaluate(Path.cwd(), split=split, experts=[e.value for e in expert] or None,
                          progress=_console(True))
    if fmt is Format.json:
        sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
    else:
        from git_ml.surfaces.render import render_eval

        render_eval(result, _console())


@app.command()
def sync(
    remote: Annotated[Optional[str], typer.Option("--remote", help="Remote to sync with (default: the upstream's, else origin).")] = None,
) -> None:
    """Publish this clone's records to the remote and bring in everyone else's."""
    report = api.sync(Path.cwd(), remote=remote)
    print(report.summary())


@app.command()
def uninstall() -> None:
    """Remove the hooks and settings git-ml installed; keep the data."""
    for line in api.uninstall(Path.cwd()):
        print(line)


@app.command("install-agent")
def install_agent(agent: Annotated[Agent, typer.Argument(help="claude or codex")]) -> None:
    """Install an agent's session hooks into this repository's agent settings."""
    for line in api.install_agent(Path.cwd(), agent.value):
        print(line)


@session_app.command("ingest")
def session_ingest(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders.")],
    agent: Annotated[Optional[Agent], typer.Option("--agent", help="Transcript format (default: detect).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Take a transcript recorded outside this repository, "
                                        "keeping only the paths that exist here.")] = False,
) -> None:
    """Capture agent transcripts (redacted) into tracked/sessions.jsonl and train episode experts."""
    results = api.ingest_sessions(Path.cwd(), paths, agent=agent.value if agent else None, force=force)
    for r in results:
        print(r)


@app.command()
def completion(shell: Annotated[Shell, typer.Argument(help="Shell to print the script for.")] = Shell.bash) -> None:
    """Print the `git ml <TAB>` completion function: eval "$(git ml completion bash)" in ~/.bashrc."""
    from git_ml.surfaces.completion import bash_script, cli_spec

    sys.stdout.write(bash_script(cli_spec(typer.main.get_command(app))))


def run(argv: list[str]) -> int:
    """Run the CLI; turn every error into one line on stderr and a non-zero exit."""
    from git_ml.surfaces.cli_errors import guarded

    return guarded(lambda: _invoke(argv))


def _invoke(argv: list[str]) -> None:
    try:  # typer >= 0.26 vendors click
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - older typer
        from click.exceptions import ClickException
    try:
        code = app(args=argv, prog_name="git ml", standalone_mode=False)
    except ClickException as exc:  # usage errors: one line, exit 2 (not a rich box)
        where = exc.ctx.command_path if getattr(exc, "ctx", None) else "git ml"
        print(f"git-ml: error: {exc.format_message()} (see `{where} -h`)", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)
