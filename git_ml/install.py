"""Install, chain and remove git-ml's git hooks.

Hooks go into the *effective* hooks folder (``git rev-parse --git-path hooks``), so
``core.hooksPath`` and linked worktrees are honoured. A hook that is already there and is not
ours (the user's own, pre-commit's, husky's) is never overwritten: it is moved aside to
``<hook>.git-ml-chained`` and our hook runs it first, with the same arguments and standard input,
and keeps its exit status. Installing twice changes nothing; uninstalling removes exactly our
files and puts chained hooks back.

The hook scripts are thin POSIX ``sh``: they find ``git-ml`` (the absolute path recorded here,
else ``git-ml`` on ``PATH``), run ``git-ml hook <name>`` under a time limit and always let git go
on (one line on stderr when git-ml is missing, crashed or timed out). ``hooks/`` at the top of
the source tree holds the same scripts with no recorded path, rendered by :func:`render_hook`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from git_ml.layout import GitMLError, Layout

HOOK_NAMES = ("post-commit", "post-rewrite", "post-merge", "pre-push", "post-applypatch")
MARKER = "GIT-ML-HOOK"  # a file with this word in its first lines is ours
CHAINED_SUFFIX = ".git-ml-chained"
PRE_COMMIT_LEGACY = ".legacy"  # where pre-commit moves a hook it found (it runs it first)
DEFAULT_TIMEOUT = 10  # seconds; GIT_ML_HOOK_TIMEOUT overrides at run time

_TEMPLATE = r"""#!/bin/sh
# GIT-ML-HOOK v1 @HOOK@: installed by `git ml init`, removed by `git ml uninstall`.
# Runs a hook that was here before (@HOOK@@CHAINED@) first, then `git-ml hook @HOOK@`.
# git-ml never fails the git command: missing, crashed or too slow, it prints one line.
hook=@HOOK@
exe=@EXE@
chained="$0@CHAINED@"
status=0
case $hook in post-rewrite|pre-push) input=$(cat; echo x); input=${input%x} ;; esac

if [ -x "$chained" ]; then
  if [ -n "${input+x}" ]; then printf '%s' "$input" | "$chained" "$@"; else "$chained" "$@"; fi
  status=$?
  # A failing pre-push aborts the push, as it would without git-ml: nothing to sync then.
  [ "$status" -ne 0 ] && [ "$hook" = pre-push ] && exit "$status"
fi

# git-ml's own git calls and its background workers set GIT_ML_INTERNAL: no re-entry.
[ "${GIT_ML_INTERNAL:-}" = 1 ] && exit "$status"

case $hook:${1:-} in post-commit:*|post-applypatch:*|post-rewrite:amend)
  # Inside a rebase every pick fires post-commit, and every reword/squash an amend; the
  # post-rewrite "rebase" at the end records them all (and an aborted rebase leaves nothing).
  gd=$(git rev-parse --git-dir 2>/dev/null) &&
    { [ -d "$gd/rebase-merge" ] || [ -f "$gd/rebase-apply/rebasing" ]; } && exit "$status" ;;
esac

[ -n "$exe" ] && [ -x "$exe" ] || exe=$(command -v git-ml 2>/dev/null) || exe=
if [ -z "$exe" ]; then
  dir=$(cd "${0%/*}" 2>/dev/null && pwd) || dir=${0%/*}
  echo "git-ml: $hook skipped: git-ml not found (reinstall git-ml, or remove its hooks by hand:" \
    "delete the files marked GIT-ML-HOOK in $dir and rename any *@CHAINED@ back)" >&2
  exit "$status"
fi

limit=${GIT_ML_HOOK_TIMEOUT:-@TIMEOUT@}
case $limit in ''|*[!0-9]*) limit=@TIMEOUT@ ;; esac
set -- "$exe" hook "$hook" "$@"
command -v timeout >/dev/null 2>&1 && set -- timeout -k 2 "$limit" "$@"

# stderr is held back so that a crash shows as one line, never a traceback.
if [ -n "${input+x}" ]; then
  { err=$(printf '%s' "$input" | "$@" 2>&1 1>&3 3>&-); rc=$?; } 3>&1
else
  { err=$("$@" 2>&1 1>&3 3>&-); rc=$?; } 3>&1
fi
case $rc in
  0) [ -n "$err" ] && printf '%s\n' "$err" >&2 ;;
  124|137) echo "git-ml: $hook skipped: timed out after ${limit}s" >&2 ;;
  *) last=${err##*"
"}
     echo "git-ml: $hook skipped: git-ml failed (exit $rc)${last:+: $last}" >&2 ;;
esac
exit "$status"
"""


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def render_hook(name: str, exe: str | None = None, *, timeout: int = DEFAULT_TIMEOUT) -> str:
    """The script for hook ``name``; ``exe`` is the git-ml executable to record (None: PATH)."""
    return (_TEMPLATE.replace("@HOOK@", name).replace("@CHAINED@", CHAINED_SUFFIX)
            .replace("@EXE@", _sh_quote(exe or "")).replace("@TIMEOUT@", str(int(timeout))))


def find_executable() -> str | None:
    """The absolute path of the running ``git-ml`` (else the one on PATH), to record in hooks."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name in ("git-ml", "git-ml.exe") and argv0.is_file():
        return str(argv0.absolute())
    found = shutil.which("git-ml")
    return str(Path(found).absolute()) if found else None


def hooks_dir(layout: Layout) -> Path:
    """The folder git runs hooks from (``core.hooksPath`` or the common git dir's ``hooks``)."""
    out = subprocess.run(["git", "rev-parse", "--git-path", "hooks"], cwd=layout.worktree,
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise GitMLError(f"cannot find the git hooks folder of {layout.worktree}: "
                         + out.stderr.decode(errors="replace").strip())
    raw = out.stdout.decode(errors="surrogateescape").strip()
    path = Path(raw)
    return path if path.is_absolute() else layout.worktree / path


def is_ours(path: Path) -> bool:
    """True when ``path`` is a hook script git-ml wrote (it carries the marker line)."""
    try:
        with open(path, "rb") as fh:
            return MARKER.encode() in fh.read(512)
    except OSError:
        return False


def _is_pre_commit_script(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return b"File generated by pre-commit" in fh.read(4096)
    except OSError:
        return False


def _write_script(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.git-ml-tmp")
    tmp.write_text(content, encoding="utf-8", newline="\n")
    tmp.chmod(0o755)
    os.replace(tmp, path)


def install_hooks(layout: Layout, *, exe: str | None = None) -> list[str]:
    """Install post-commit, post-rewrite, post-merge, pre-push and post-applypatch (``git am``
    commits fire it instead of post-commit); returns what was done.

    ``exe`` defaults to :func:`find_executable`. A foreign hook is chained, never clobbered.
    """
    directory = hooks_dir(layout)
    if str(directory) in (os.devnull, "/dev/null"):
        return ["git hooks not installed: core.hooksPath is /dev/null (hooks are disabled here)"]
    directory.mkdir(parents=True, exist_ok=True)
    exe = exe or find_executable()
    done: list[str] = []
    chained: list[str] = []
    notes: list[str] = []
    for name in HOOK_NAMES:
        path = directory / name
        content = render_hook(name, exe)
        if is_ours(path):
            if path.read_text(encoding="utf-8", errors="replace") != content:
                _write_script(path, content)
                done.append(name)
            continue
        if is_ours(directory / (name + PRE_COMMIT_LEGACY)):
            continue  # pre-commit took the hook over and runs ours as its legacy hook
        if path.exists() or path.is_symlink():
            aside = directory / (name + CHAINED_SUFFIX)
            if aside.exists() or aside.is_symlink():
                notes.append(f"{name}: left as is ({aside.name} already exists; move one of them away "
                             "and run `git ml init` again)")
                continue
            os.replace(path, aside)
            chained.append(name)
        _write_script(path, content)
        done.append(name)
    lines: list[str] = []
    if done:
        lines.append(f"git hooks installed in {directory}: {', '.join(done)}")
    else:
        lines.append(f"git hooks already installed in {directory}")
    if chained:
        lines.append(f"existing hooks kept and run first: {', '.join(chained)} "
                     f"(moved to <hook>{CHAINED_SUFFIX})")
    if exe is None:
        lines.append("note: git-ml was not found on PATH; the hooks will look for it there when they run")
    return lines + notes


def uninstall_hooks(layout: Layout) -> list[str]:
    """Remove the hooks git-ml installed and put chained hooks back; returns what was done."""
    directory = hooks_dir(layout)
    if not directory.is_dir():
        return ["no git hooks to remove"]
    removed: list[str] = []
    restored: list[str] = []
    notes: list[str] = []
    for name in HOOK_NAMES:
        path = directory / name
        aside = directory / (name + CHAINED_SUFFIX)
        legacy = directory / (name + PRE_COMMIT_LEGACY)
        if is_ours(path):
            path.unlink()
            removed.append(name)
        if is_ours(legacy):
            # pre-commit runs ours as its legacy hook: drop it, and hand back what we had chained.
            legacy.unlink()
            removed.append(name + PRE_COMMIT_LEGACY)
            if aside.exists() and _is_pre_commit_script(aside) and _is_pre_commit_script(path):
                aside.unlink()  # an older copy of the script pre-commit has since rewritten
            elif aside.exists():
                os.replace(aside, legacy)
                restored.append(name)
            continue
        if (aside.exists() or aside.is_symlink()):
            if path.exists() or path.is_symlink():
                notes.append(f"{name}: {aside.name} kept ({name} is not git-ml's any more)")
            else:
                os.replace(aside, path)
                restored.append(name)
    lines = [f"git hooks removed from {directory}: {', '.join(removed)}" if removed
             else "no git-ml hooks were installed"]
    if restored:
        lines.append(f"hooks restored: {', '.join(restored)}")
    return lines + notes
