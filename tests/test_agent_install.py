"""Agent settings: our hooks merged in keeping every key, idempotently; uninstall removes only ours."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import ROOT, run_gitml
from git_ml.capture.agents.install import (
    EVENTS, codex_trust_lines, install_agent, is_ours, portable_command, uninstall_agents)
from git_ml.layout import GitMLError, find_layout

THEIRS = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm test)"], "deny": ["Read(.env)"]},
    "env": {"FOO": "1"},
    "hooks": {
        "SessionEnd": [{"hooks": [{"type": "command", "command": "~/bin/notify-done"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh", "timeout": 5}]}],
    },
}


@pytest.fixture
def layout(repo):
    lay = find_layout(repo)
    lay.create()
    return lay


def settings(layout, rel=".claude/settings.json"):
    return json.loads((layout.worktree / rel).read_text())


def commands(data, event):
    return [h["command"] for g in data["hooks"].get(event, []) for h in g["hooks"]]


def test_merge_keeps_every_key_and_adds_our_three_events(layout, on_path):
    path = layout.worktree / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(THEIRS, indent=4))
    lines = install_agent(layout, "claude")
    assert lines == ["claude: session hooks installed in .claude/settings.json"]
    data = settings(layout)
    assert {k: data[k] for k in ("model", "permissions", "env")} == {k: THEIRS[k] for k in ("model", "permissions", "env")}
    assert data["hooks"]["PreToolUse"] == THEIRS["hooks"]["PreToolUse"]
    assert commands(data, "SessionEnd")[0] == "~/bin/notify-done"
    for event, hook in EVENTS.items():
        ours = [c for c in commands(data, event) if "git-ml" in c]
        assert ours == [portable_command(hook, "claude")]
        assert str(on_path) not in ours[0]  # shared settings name no path of this machine


def test_the_portable_command_runs_git_ml_from_path_and_fails_open_without_it(tmp_path):
    cmd = portable_command("session-end", "codex")
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run(["/bin/sh", "-c", cmd], env=bare, input=b"{}", capture_output=True)
    assert (out.returncode, out.stdout, out.stderr) == (0, b"", b"")  # a teammate without git-ml
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git-ml").write_text('#!/bin/sh\necho "$@"; cat\nexit 3\n')
    (fake / "git-ml").chmod(0o755)
    out = subprocess.run(["/bin/sh", "-c", cmd], env={**bare, "PATH": f"{fake}:/usr/bin:/bin"},
                         input=b'{"session_id": "s"}', capture_output=True)
    assert out.stdout == b'hook session-end --agent codex\n{"session_id": "s"}'  # args and stdin passed
    assert out.returncode == 3


def test_without_git_ml_on_path_claude_hooks_go_to_personal_settings_by_absolute_path(layout, on_path, monkeypatch):
    shared = layout.worktree / ".claude" / "settings.json"
    shared.parent.mkdir()
    shared.write_text(json.dumps(THEIRS))
    monkeypatch.setenv("PATH", "/nonexistent")
    (line,) = install_agent(layout, "claude")
    assert "settings.local.json" in line and "not on PATH" in line
    assert settings(layout) == THEIRS  # the shared file is untouched
    local = settings(layout, ".claude/settings.local.json")
    for event, hook in EVENTS.items():
        (cmd,) = commands(local, event)
        assert cmd.endswith(f"-m git_ml hook {hook}") and cmd.startswith("/")
    assert install_agent(layout, "claude")[0].startswith("claude: session hooks already in .claude/settings.local.json")
    # git-ml later on PATH: shared settings get the portable form, the personal entries go (no double run)
    monkeypatch.setenv("PATH", f"{on_path}:/usr/bin:/bin")
    install_agent(layout, "claude")
    assert not (layout.worktree / ".claude" / "settings.local.json").exists()
    assert commands(settings(layout), "SessionEnd") == ["~/bin/notify-done", portable_command("session-end", "claude")]
    monkeypatch.setenv("PATH", "/nonexistent")
    install_agent(layout, "claude")
    assert uninstall_agents(layout) == ["claude: removed 3 git-ml hook(s) from .claude/settings.json",
                                        "claude: removed 3 git-ml hook(s) from .claude/settings.local.json"]
    assert settings(layout) == THEIRS and not (layout.worktree / ".claude" / "settings.local.json").exists()


def test_an_older_absolute_entry_is_replaced_and_uninstalled(layout, on_path):
    old = {"hooks": {"SessionEnd": [{"hooks": [{"type": "command",
                                                "command": "/tmp/qa-venv/bin/git-ml hook session-end"}]}]}}
    path = layout.worktree / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(old))
    install_agent(layout, "claude")
    assert commands(settings(layout), "SessionEnd") == [portable_command("session-end", "claude")]
    path.write_text(json.dumps(old))
    assert uninstall_agents(layout) == ["claude: removed 1 git-ml hook(s) from .claude/settings.json"]


def test_install_is_idempotent(layout, on_path):
    install_agent(layout, "claude")
    first = (layout.worktree / ".claude/settings.json").read_bytes()
    assert install_agent(layout, "claude") == ["claude: session hooks already in .claude/settings.json"]
    assert (layout.worktree / ".claude/settings.json").read_bytes() == first


def test_a_moved_executable_updates_our_entries_in_place(layout, on_path, monkeypatch):
    install_agent(layout, "codex")
    monkeypatch.setenv("PATH", "/nonexistent")  # no git-ml found: this interpreter with -m git_ml
    install_agent(layout, "codex")
    data = settings(layout, ".codex/hooks.json")
    for event, hook in EVENTS.items():
        (cmd,) = commands(data, event)
        assert cmd.endswith(f"-m git_ml hook {hook} --agent codex")


def test_uninstall_removes_exactly_ours(layout, on_path):
    path = layout.worktree / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(THEIRS))
    install_agent(layout, "claude")
    assert uninstall_agents(layout) == ["claude: removed 3 git-ml hook(s) from .claude/settings.json"]
    assert settings(layout) == THEIRS
    assert uninstall_agents(layout) == []


def test_uninstall_deletes_a_file_that_held_only_our_hooks(layout, on_path):
    install_agent(layout, "claude")
    install_agent(layout, "codex")
    lines = uninstall_agents(layout)
    assert len(lines) == 2
    assert not (layout.worktree / ".claude").exists() and not (layout.worktree / ".codex").exists()


def test_codex_hooks_carry_the_agent_and_exact_trust_steps(layout, on_path):
    lines = install_agent(layout, "codex")
    data = settings(layout, ".codex/hooks.json")
    assert commands(data, "SessionEnd") == [portable_command("session-end", "codex")]
    config = os.path.join(os.environ["HOME"], ".codex", "config.toml")
    text = "\n".join(lines)
    assert f"add these two lines to {config}" in text
    assert f'[projects.{json.dumps(str(layout.worktree))}]\n       trust_level = "trusted"' in text
    assert "/hooks" in text and "--dangerously-bypass-hook-trust" in text
    # once the project is trusted (as printed), the install says so instead of asking again
    os.makedirs(os.path.dirname(config))
    with open(config, "w") as f:
        f.write("\n".join(line.strip() for line in lines if line.strip().startswith(("[projects", "trust_level"))))
    assert any("already trusted" in line for line in codex_trust_lines(layout.worktree))


def test_invalid_settings_are_an_error_and_stay_untouched(layout, on_path):
    path = layout.worktree / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"hooks": {"SessionEnd": [}')
    with pytest.raises(GitMLError, match="not valid JSON"):
        install_agent(layout, "claude")
    assert path.read_text() == '{"hooks": {"SessionEnd": [}'
    path.write_text('{"hooks": []}')
    with pytest.raises(GitMLError, match="not a JSON object"):
        install_agent(layout, "claude")
    with pytest.raises(GitMLError, match="unknown agent"):
        install_agent(layout, "vim")


def test_is_ours():
    assert is_ours({"type": "command", "command": "'/opt/x y/bin/git-ml' hook session-end"})
    assert is_ours({"type": "command", "command": "/usr/bin/python3 -m git_ml hook prompt-submit --agent codex"})
    assert not is_ours({"type": "command", "command": "git-ml-other hook-session"})
    assert not is_ours({"type": "command", "command": "echo git-ml"})
    assert not is_ours("git-ml hook session-end")


def test_cli_install_agent(repo, on_path):
    out = run_gitml(repo, "install-agent", "claude")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().strip() == "claude: session hooks installed in .claude/settings.json"
    assert "git-ml hook session-end" in (repo / ".claude" / "settings.json").read_text()
    assert run_gitml(repo, "install-agent", "vim").returncode == 2


def test_the_plugin_manifest_and_its_hooks():
    manifest = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["name"] == "git-ml"
    hooks = json.loads((ROOT / "hooks" / "hooks.json").read_text())["hooks"]
    for event, hook in EVENTS.items():
        (cmd,) = [h["command"] for g in hooks[event] for h in g["hooks"]]
        assert cmd.endswith(f"git-ml hook {hook}")
