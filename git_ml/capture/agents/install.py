"""Install (and remove) git-ml's session hooks in an agent's project settings.

Claude Code: ``.claude/settings.json`` gets ``SessionEnd`` (capture), ``SessionStart`` and
``UserPromptSubmit`` (active-session marker) entries. Codex: ``.codex/hooks.json`` gets the same
events (Claude-compatible format); Codex runs project hooks only once the user has trusted them.

The merge keeps every existing key and entry, adds ours once (an entry is ours when its command
runs ``git-ml hook <our hook>``), and uninstall removes exactly those. The command names the
git-ml executable by absolute path (agents launched from a GUI may not have the virtualenv on
PATH), or this interpreter with ``-m git_ml`` when no executable is found.
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
from typing import Any

from git_ml.layout import GitMLError, Layout

# event -> our hook name
EVENTS = {"SessionEnd": "session-end", "SessionStart": "session-start", "UserPromptSubmit": "prompt-submit"}
_OURS = re.compile(r"(?:git-ml|git_ml)\S*['\"]?\s+hook\s+(?:session-end|session-start|prompt-submit)\b")
SETTINGS = {"claude": Path(".claude") / "settings.json", "codex": Path(".codex") / "hooks.json"}


def git_ml_command() -> list[str]:
    """argv that runs this git-ml from anywhere: the executable's absolute path if found, else
    this interpreter with ``-m git_ml``."""
    exe = shutil.which("git-ml")
    if exe:
        return [os.path.abspath(exe)]
    return [sys.executable, "-m", "git_ml"]


def hook_command(hook: str, agent: str) -> str:
    argv = [*git_ml_command(), "hook", hook]
    if agent != "claude":
        argv += ["--agent", agent]
    return shlex.join(argv)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.git-ml.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def merge_hooks(data: dict[str, Any], agent: str) -> bool:
    """Add our handlers to a settings object (in place). Returns True when something changed.

    An existing handler of ours whose command differs (git-ml moved) is updated in place."""
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise GitMLError("the settings' \"hooks\" is not a JSON object; fix it, then run this again")
    changed = False
    for event, hook in EVENTS.items():
        command = hook_command(hook, agent)
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


def install_agent(layout: Layout, agent: str) -> list[str]:
    """Merge our session hooks into the agent's project settings; idempotent. Returns report lines."""
    if agent not in SETTINGS:
        raise GitMLError(f"unknown agent {agent!r}: use one of {', '.join(SETTINGS)}")
    path = layout.worktree / SETTINGS[agent]
    data = _load(path)
    changed = merge_hooks(data, agent)
    if changed:
        _save(path, data)
    rel = SETTINGS[agent].as_posix()
    lines = [f"{agent}: session hooks {'installed in' if changed else 'already in'} {rel}"]
    if agent == "codex":
        lines.append("codex: Codex runs project hooks only once trusted: start `codex` here and approve "
                     "git-ml's hooks in /hooks (automation: `codex --dangerously-bypass-hook-trust`)")
    return lines


def uninstall_agents(layout: Layout) -> list[str]:
    """Remove exactly our entries from every agent's project settings. Returns report lines."""
    lines = []
    for agent, rel in SETTINGS.items():
        path = layout.worktree / rel
        if not path.exists():
            continue
        data = _load(path)
        removed = remove_hooks(data)
        if not removed:
            continue
        if data:
            _save(path, data)
        else:
            path.unlink()  # it held nothing but our hooks
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # and its folder, when nothing else is in it
        lines.append(f"{agent}: removed {removed} git-ml hook(s) from {rel.as_posix()}")
    return lines
