"""The predict fast path: same options and answers as the typer command, without importing typer."""

import json
import subprocess
import sys

import typer.main

from git_ml import api, cli
from git_ml.surfaces.predict_cmd import EXPERT_NAMES, fast_main, fast_options

from conftest import ROOT, commit_file


def test_fast_parser_accepts_exactly_the_typer_options():
    command = typer.main.get_command(cli.app).commands["predict"]
    typer_opts = {s for p in command.params for s in p.opts if s.startswith("-")} - {"-h", "--help"}
    assert fast_options() == typer_opts
    assert set(EXPERT_NAMES) == {e.value for e in cli.ExpertName}


def _trained(repo):
    commit_file(repo, "src/auth.py", "def login(user, password):\n    return True\n", "Add login with password check")
    commit_file(repo, "tests/test_auth.py", "from src.auth import login\n", "Test login")
    api.init(repo, hooks=False)
    return repo


def _run(repo, *args, **kw):
    return subprocess.run([sys.executable, "-c", "import sys; from git_ml.entry import main; "
                           "code = main(sys.argv[1:]); "
                           "print('TYPER' if 'typer' in sys.modules else 'NO-TYPER', file=sys.stderr); "
                           "sys.exit(code)", *args], cwd=repo, capture_output=True, env={**kw.get("env", {}),
                          "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(repo)})


def test_json_answers_without_typer_and_matches_the_typer_command(repo):
    _trained(repo)
    fast = _run(repo, "predict", "login password", "--format", "json", "-n", "3")
    assert fast.returncode == 0, fast.stderr
    assert b"NO-TYPER" in fast.stderr
    answer = json.loads(fast.stdout)
    assert answer["items"][0]["item"] == "src/auth.py"
    via_typer = _run(repo, "predict", "login password", "--format=json", "-n", "3", "--bogus")
    assert via_typer.returncode == 2 and b"TYPER" in via_typer.stderr  # unknown flag: typer's usage error
    slow = subprocess.run([sys.executable, "-c", "import sys; from git_ml.cli import run; sys.exit(run(sys.argv[1:]))",
                           "predict", "login password", "--format", "json", "-n", "3"], cwd=repo,
                          capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(repo)})
    assert json.loads(slow.stdout)["items"] == answer["items"]


def test_help_and_errors_fall_through_or_stay_one_line(repo):
    assert fast_main(["-h"]) is None
    assert fast_main(["--top", "0", "x"]) is None  # typer reports the range error
    assert fast_main(["--expert", "nope", "x"]) is None
    out = _run(repo, "predict", "anything", "--format", "json")  # not initialised
    assert out.returncode == 1
    assert out.stderr.decode().splitlines()[0].startswith("git-ml: error: git-ml is not set up")
