"""`git ml <TAB>`: the _git_ml function, driven through git's own bash completion."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import typer

from conftest import run_gitml
from git_ml.cli import app
from git_ml.surfaces.completion import bash_script, cli_spec

GIT_COMPLETION = [Path("/usr/share/bash-completion/completions/git"),
                  Path("/usr/share/doc/git/contrib/completion/git-completion.bash"),
                  Path("/etc/bash_completion.d/git")]

# The git-completion helpers _git_ml relies on, reduced to what it needs: used when git's own
# completion script is not installed, so the function's logic is still exercised.
_STUB = r'''
__gitcomp () { local c; COMPREPLY=(); for c in $1; do case "$c" in "$cur"*) COMPREPLY+=("$c ");; esac; done; }
__gitcomp_nl () { COMPREPLY=($1); }
__git_remotes () { git remote; }
__git_complete_refs () { COMPREPLY=($(git for-each-ref --format='%(refname:short)' | grep "^$cur")); }
__git_complete_revlist () { __git_complete_refs; }
__git_find_on_cmdline () { local w c; for w in "${words[@]:2:$((cword-2))}"; do for c in $1; do
    [ "$w" = "$c" ] && { echo "$c"; return; }; done; done; }
'''


def _complete(script: str, words: list[str], cwd: Path, real: Path | None) -> list[str]:
    cur = words[-1]
    prev = words[-2]
    if real is not None:
        driver = (f"source {real}\n{script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\n"
                  f"COMP_CWORD={len(words) - 1}\nCOMP_LINE={' '.join(words)!r}\nCOMP_POINT=${{#COMP_LINE}}\n"
                  "__git_wrap__git_main\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    else:
        driver = (f"{_STUB}\n{script}\nwords=({' '.join(repr(w) for w in words)}); cword={len(words) - 1}\n"
                  f"cur={cur!r}; prev={prev!r}\n_git_ml\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    out = subprocess.run(["bash", "--norc", "--noprofile"], input=driver.encode(), cwd=cwd,
                         capture_output=True, check=True)
    return [w.strip() for w in out.stdout.decode().splitlines() if w.strip()]


@pytest.mark.parametrize("mode", ["git-completion", "stub"])
def test_git_ml_tab_completes_commands_options_and_values(repo, on_path, mode):
    real = next((p for p in GIT_COMPLETION if p.exists()), None)
    if mode == "stub":
        real = None
    elif real is None:
        pytest.fail("git's bash completion is not installed (apt-get install git bash-completion)")
    out = run_gitml(repo, "completion", "bash")
    assert out.returncode == 0, out.stderr.decode()
    script = out.stdout.decode()
    assert "_git_ml ()" in script
    subprocess.run(["git", "remote", "add", "upstream", "/nowhere"], cwd=repo, check=True)
    names = [s.path[0] for s in cli_spec(typer.main.get_command(app)) if len(s.path) == 1]
    assert set(_complete(script, ["git", "ml", ""], repo, real)) == set(names)
    assert _complete(script, ["git", "ml", "pre"], repo, real) == ["predict"]
    assert "--staged" in _complete(script, ["git", "ml", "predict", "--s"], repo, real)
    assert _complete(script, ["git", "ml", "predict", "--expert", ""], repo, real) == [
        "file", "test", "error", "doc", "refactor"]
    assert _complete(script, ["git", "ml", "session", ""], repo, real) == ["ingest"]
    assert _complete(script, ["git", "ml", "session", "ingest", "--a"], repo, real) == ["--agent"]
    assert _complete(script, ["git", "ml", "sync", "--remote", "up"], repo, real) == ["upstream"]
    assert _complete(script, ["git", "ml", "install-agent", "c"], repo, real) == ["claude", "codex"]
    assert "--version" in _complete(script, ["git", "ml", "--v"], repo, real)


def test_script_is_valid_bash_and_lists_every_option():
    specs = cli_spec(typer.main.get_command(app))
    script = bash_script(specs)
    subprocess.run(["bash", "-n"], input=script.encode(), check=True)
    for spec in specs:
        for opt in spec.options:
            assert opt.names[0] in script
    assert shutil.which("bash")


def test_help_lists_every_command_and_version(repo, on_path):
    out = run_gitml(repo, "-h")
    assert out.returncode == 0
    text = out.stdout.decode()
    for spec in cli_spec(typer.main.get_command(app)):
        if len(spec.path) == 1:
            assert spec.path[0] in text
    out = run_gitml(repo, "--version")
    assert out.returncode == 0 and out.stdout.decode().startswith("git-ml ")
