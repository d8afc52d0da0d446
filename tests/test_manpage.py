"""The git-ml(1) man page: accurate to the CLI, valid roff, installed where man finds it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile

import typer

from conftest import ROOT
from git_ml.cli import app
from git_ml.surfaces.completion import cli_spec

PAGE = ROOT / "git_ml" / "data" / "git-ml.1"
_MACROS = {"TH", "SH", "SS", "TP", "PP", "P", "LP", "IP", "RS", "RE", "B", "I", "BR", "RB", "BI", "IB",
           "IR", "RI", "br", "nf", "fi", "sp", "EX", "EE"}


def _plain(text: str) -> str:
    return re.sub(r"\\f[BIRP]", "", text.replace("\\-", "-"))


def test_page_names_every_command_and_option():
    text = _plain(PAGE.read_text())
    for spec in cli_spec(typer.main.get_command(app)):
        if spec.path:
            assert " ".join(spec.path) in text, spec.path
        for opt in spec.options:
            for name in opt.names:
                assert name in text, (spec.path, name)
            for choice in opt.choices:
                assert choice in text, (spec.path, opt.names, choice)


def test_page_is_well_formed_roff():
    lines = PAGE.read_text().splitlines()
    assert lines[0].startswith(".TH GIT\\-ML 1 ")
    depth = 0
    sections = []
    for n, line in enumerate(lines, 1):
        if line.startswith("'"):
            raise AssertionError(f"line {n} starts with a quote (a roff control character)")
        if not line.startswith("."):
            continue
        macro = line[1:].split(" ", 1)[0]
        assert macro in _MACROS, f"line {n}: unknown macro {macro!r}"
        depth += {"RS": 1, "RE": -1}.get(macro, 0)
        assert depth >= 0, f"line {n}: .RE without .RS"
        if macro == "SH":
            sections.append(line[4:].strip('"'))
    assert depth == 0
    assert sections[:3] == ["NAME", "SYNOPSIS", "DESCRIPTION"]
    assert {"COMMANDS", "EXIT STATUS", "SEE ALSO"} <= set(sections)
    if shutil.which("man"):
        out = subprocess.run(["man", "--warnings", "-l", str(PAGE)], capture_output=True,
                             env={**os.environ, "MANWIDTH": "80"})
        assert out.returncode == 0 and out.stderr == b"", out.stderr.decode()
        assert b"git ml session ingest" in out.stdout


def test_pip_install_puts_the_page_where_man_finds_it(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "git_ml", src / "git_ml", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "--no-index", "-w", str(tmp_path / "dist"), str(src)], capture_output=True)
    assert build.returncode == 0, build.stderr.decode()
    (wheel,) = (tmp_path / "dist").glob("git_ml-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        data = [n for n in zf.namelist() if n.endswith("share/man/man1/git-ml.1")]
        assert data == [f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.data/data/share/man/man1/git-ml.1"]
        assert zf.read(data[0]) == PAGE.read_bytes()
    prefix = tmp_path / "prefix"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
                           "--prefix", str(prefix), str(wheel)], capture_output=True)
    assert inst.returncode == 0, inst.stderr.decode()
    page = prefix / "share" / "man" / "man1" / "git-ml.1"
    assert page.read_bytes() == PAGE.read_bytes()
    assert (prefix / "bin" / "git-ml").exists()
    if shutil.which("man"):
        # man-db derives MANPATH from PATH: <prefix>/bin on PATH is enough.
        env = {**os.environ, "PATH": f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        env.pop("MANPATH", None)
        found = subprocess.run(["man", "-w", "git-ml"], capture_output=True, env=env)
        assert found.stdout.decode().strip() == str(page)
