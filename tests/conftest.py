"""Shared fixtures: scratch git repositories and a `git-ml` executable for the code under test."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str, check: bool = True, env: dict | None = None, input: bytes | None = None) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, env=env, input=input)
    if check and out.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({out.returncode}):\n{out.stderr.decode()}")
    return out.stdout.decode("utf-8", "replace")


def commit_file(repo: Path, path: str, content: str, message: str) -> str:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git(repo, "add", "--", path)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture(autouse=True)
def _isolated_git_env(tmp_path_factory, monkeypatch):
    """No user or system git config leaks into tests; HOME is a scratch folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Dev")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "dev@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Dev")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "dev@example.com")
    monkeypatch.setenv("GIT_ML_NO_DETACH", os.environ.get("GIT_ML_NO_DETACH", ""))
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")


@pytest.fixture(scope="session")
def gitml_bin(tmp_path_factory) -> Path:
    """A bin folder whose `git-ml` runs this checkout with this interpreter (so `git ml` works)."""
    bindir = tmp_path_factory.mktemp("bin")
    exe = bindir / "git-ml"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT}${{PYTHONPATH:+:$PYTHONPATH}} exec {sys.executable} -m git_ml \"$@\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bindir


@pytest.fixture
def on_path(gitml_bin, monkeypatch):
    """Put the `git-ml` shim first on PATH."""
    monkeypatch.setenv("PATH", f"{gitml_bin}{os.pathsep}{os.environ['PATH']}")
    return gitml_bin


@pytest.fixture
def repo(tmp_path) -> Path:
    """An empty git repository with one commit."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    commit_file(r, "README.md", "# demo\n", "Initial commit")
    return r


def run_gitml(cwd: Path, *args: str, input: bytes | None = None, env: dict | None = None, timeout: float = 120):
    """Run `git ml ...` as a user would (a new process through git's subcommand dispatch)."""
    return subprocess.run(["git", "ml", *args], cwd=cwd, capture_output=True, input=input,
                          env=env, timeout=timeout)


@pytest.fixture
def gm(repo):
    """The layout and store of ``repo`` after `git ml init --no-hooks` minus training: layout
    created, history backfilled."""
    from git_ml.capture.backfill import backfill
    from git_ml.layout import find_layout
    from git_ml.store import Store

    layout = find_layout(repo)
    layout.create()
    store = Store(layout)
    backfill(layout, store)
    return layout, store
