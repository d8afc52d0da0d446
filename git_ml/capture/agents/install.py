"""Install (and remove) git-ml's session hooks in an agent's project settings.

Claude Code: ``.claude/settings.json`` gets ``SessionEnd`` (capture), ``SessionStart`` and
``UserPromptSubmit`` (active-session marker) entries. Codex: ``.codex/hooks.json`` gets the same
events (Claude-compatible format); Codex runs project hooks only in a trusted project and once the
user has reviewed them, so the install prints the exact steps.

Project settings are shared through the repository, so the command written there is portable: it
runs ``git-ml`` from PATH (both agents run a hook command through a shell) and exits 0 when git-ml
is absent, so a teammate without it is not hurt. When git-ml is not on PATH at install time, the
Claude hooks go to ``.claude/settings.local.json`` (personal, not shared) naming git-ml by absolute
path instead (Codex has no personal project file: its hooks.json gets the absolute form).

The merge keeps every existing key and entry, adds ours once (an entry is ours when its command
runs ``git-ml hook <our hook>``, in either form), and uninstall removes exactly those.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

from git_ml.layout import GitMLError, Layout, write_atomic

# event -> our hook name
EVENTS = {"SessionEnd": "session-end", "SessionStart": "session-start", "UserPromptSubmit": "prompt-submit"}
_OURS = re.compile(r"(?:git-ml|git_ml)\S*['\"]?\s+hook\s+(?:session-end|session-start|prompt-submit)\b")
SETTINGS = {"claude": Path(".claude") / "settings.json", "codex": Path(".codex") / "hooks.json"}
LOCAL = {"claude": Path(".claude") / "settings.local.json"}  # personal, not shared


def git_ml_command() -> list[str]:
    """argv that runs this git-ml from anywhere: the executable's absolute path if found, else
    this interpreter with ``-m git_ml``."""
    exe = shutil.which("git-ml")
    if exe:
        return [os.path.abspath(exe)]
    return [sys.executable, "-m", "git_ml"]


def _hook_args(hook: str, agent: str) -> list[str]:
    return ["hook", hook] + (["--agent", agent] if agent != "claude" else [])


def hook_command(hook: str, agent: str) -> str:
    """The machine-specific command: git-ml by absolute path (for personal settings)."""
    return shlex.join([*git_ml_command(), *_hook_args(hook, agent)])


def portable_command(hook: str, agent: str) -> str:
    """The shareable command: git-ml from PATH, a no-op (exit 0) where git-ml is not installed."""
    return f"command -v git-ml >/dev/null 2>&1 || exit 0; exec {shlex.join(['git-ml', *_hook_args(hook, agent)])}"


def is_ours(handler: Any) -> bool:
    return isinstance(handler, dict) and isinstance(handler.get("command"), str) and \
        _OURS.search(handler["command"]) is not None


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except ValueError as exc:
        raise GitMLError(f"{path} is not valid JSON ({exc}); fix it, then run this again") from None
    except OSError as exc:
        raise GitMLError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise GitMLError(f"{path} does not hold a JSON object; fix it, then run this again")
    return data


def _save(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def merge_hooks(data: dict[str, Any], agent: str, command_for: Callable[[str, str], str] = portable_command) -> bool:
    """Add our handlers to a settings object (in place). Returns True when something changed.

    An existing handler of ours whose command differs (git-ml moved, or the older absolute form)
    is updated in place."""
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise GitMLError("the settings' \"hooks\" is not a JSON object; fix it, then run this again")
    changed = False
    for event, hook in EVENTS.items():
        command = command_for(hook, agent)
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise GitMLError(f"the settings' hooks.{event} is not a JSON list; fix it, then run this again")
        found = False
        for group in groups:
            for handler in group.get("hooks", []) if isinstance(group, dict) else []:
                if is_ours(handler) and _OURS.search(handler["command"]).group(0).endswith(hook):
                    found = True
                    if handler.get("command") != command:
                        handler["command"] = command
                        changed = True
        if not found:
            groups.append({"hooks": [{"type": "command", "command": command}]})
            changed = True
    return changed


def remove_hooks(data: dict[str, Any]) -> int:
    """Remove our handlers (and the groups and events they leave empty). Returns how many."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return 0
    removed = 0
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                kept_groups.append(group)
                continue
            kept = [h for h in group["hooks"] if not is_ours(h)]
            removed += len(group["hooks"]) - len(kept)
            if kept or not group["hooks"]:
                group["hooks"] = kept
                kept_groups.append(group)
        if kept_groups:
            hooks[event] = kept_groups
        elif groups:
            del hooks[event]
    if not hooks and removed:
        del data["hooks"]
    return removed


def _codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")


def _codex_trusts(project: Path) -> bool:
    """Whether the user's Codex config already marks this project trusted."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same parser, as a package (a dependency on 3.10)
        import tomli as tomllib

    try:
        config = tomllib.loads((_codex_home() / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    entry = config.get("projects", {}).get(str(project)) if isinstance(config.get("projects"), dict) else None
    return isinstance(entry, dict) and entry.get("trust_level") == "trusted"


def codex_trust_lines(project: Path) -> list[str]:
    """What a user must do once before Codex runs a project's .codex/hooks.json (checked with the
    real CLI, 0.169): the project must be trusted in ~/.codex/config.toml AND the hooks reviewed;
    without the first, even ``--dangerously-bypass-hook-trust`` runs no project hook."""
    config = _codex_home() / "config.toml"
    lines = ["codex: Codex runs .codex/hooks.json only in a trusted project, once its hooks are reviewed:"]
    if _codex_trusts(project):
        lines.append(f"  1. this project is already trusted in {config}")
    else:
        key = json.dumps(str(project))  # a TOML basic string is a JSON string
        lines += [f"  1. trust this project: add these two lines to {config} (or run `codex exec --trust` here once)",
                  f"       [projects.{key}]",
                  '       trust_level = "trusted"']
    lines += ["  2. trust the hooks: start `codex` here and approve git-ml's hooks in /hooks",
              "     (automation, e.g. CI: pass `--dangerously-bypass-hook-trust` to `codex exec` instead of step 2)"]
    return lines


def _install_into(layout: Layout, rel: Path, agent: str, command_for: Callable[[str, str], str]) -> bool:
    path = layout.worktree / rel
    data = _load(path)
    changed = merge_hooks(data, agent, command_for)
    if changed:
        _save(path, data)
    return changed


def _remove_from(layout: Layout, rel: Path) -> int:
    path = layout.worktree / rel
    if not path.exists():
        return 0
    data = _load(path)
    removed = remove_hooks(data)
    if not removed:
        return 0
    if data:
        _save(path, data)
    else:
        path.unlink()  # it held nothing but our hooks
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # and its folder, when nothing else is in it
    return removed


def install_agent(layout: Layout, agent: str) -> list[str]:
    """Merge our session hooks into the agent's project settings; idempotent. Returns report lines.

    With git-ml on PATH the shared settings get the portable command (and a personal absolute
    entry left by an earlier install is dropped, so a hook never runs twice); without it, Claude's
    hooks go to the personal settings.local.json by absolute path."""
    if agent not in SETTINGS:
        raise GitMLError(f"unknown agent {agent!r}: use one of {', '.join(SETTINGS)}")
    on_path = shutil.which("git-ml") is not None
    rel = SETTINGS[agent]
    if not on_path and agent in LOCAL:
        rel = LOCAL[agent]
        changed = _install_into(layout, rel, agent, hook_command)
        lines = [f"{agent}: session hooks {'installed in' if changed else 'already in'} {rel.as_posix()} "
                 f"(personal, not shared: git-ml is not on PATH, so they run `{shlex.join(git_ml_command())}`; "
                 f"put git-ml on PATH and run this again to share them in {SETTINGS[agent].as_posix()})"]
    else:
        changed = _install_into(layout, rel, agent, portable_command if on_path else hook_command)
        if agent in LOCAL:
            _remove_from(layout, LOCAL[agent])
        lines = [f"{agent}: session hooks {'installed in' if changed else 'already in'} {rel.as_posix()}"]
        if not on_path:
            lines[0] += (f" (they run `{shlex.join(git_ml_command())}`: git-ml is not on PATH, so they work "
                         f"on this machine only)")
    if agent == "codex":
        lines += codex_trust_lines(layout.worktree)
    return lines


def uninstall_agents(layout: Layout) -> list[str]:
    """Remove exactly our entries from every agent's project settings (shared and personal).
    Returns report lines."""
    lines = []
    for agent, rel in [*SETTINGS.items(), *LOCAL.items()]:
        removed = _remove_from(layout, rel)
        if removed:
            lines.append(f"{agent}: removed {removed} git-ml hook(s) from {rel.as_posix()}")
    return lines
