"""Agent settings: our hooks merged in keeping every key, idempotently; uninstall removes only ours."""

from __future__ import annotations

import json
import shlex

import pytest

from conftest import ROOT, run_gitml
from git_ml.capture.agents.install import EVENTS, install_agent, is_ours, uninstall_agents
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
    exe = str(on_path / "git-ml")
    for event, hook in EVENTS.items():
        ours = [c for c in commands(data, event) if "git-ml" in c]
        assert ours == [shlex.join([exe, "hook", hook])]  # absolute path of the executable found


def test_install_is_idempotent(layout, on_path):
    install_agent(layout, "claude")
    first = (layout.worktree / ".claude/settings.json").read_bytes()
    assert install_agent(layout, "claude") == ["claude: session hooks already in .claude/settings.json"]
    assert (layout.worktree / ".claude/settings.json").read_bytes() == first


def test_a_moved_executable_updates_our_entries_in_place(layout, on_path, monkeypatch):
    install_agent(layout, "claude")
    monkeypatch.setenv("PATH", "/nonexistent")  # no git-ml found: this interpreter with -m git_ml
    install_agent(layout, "claude")
    data = settings(layout)
    for event, hook in EVENTS.items():
        (cmd,) = commands(data, event)
        assert cmd.endswith(f"-m git_ml hook {hook}")


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


def test_codex_hooks_carry_the_agent_and_a_trust_note(layout, on_path):
    lines = install_agent(layout, "codex")
    assert any("trust" in line for line in lines)
    data = settings(layout, ".codex/hooks.json")
    assert commands(data, "SessionEnd") == [shlex.join([str(on_path / "git-ml"), "hook", "session-end", "--agent", "codex"])]


def test_invalid_settings_are_an_error_and_stay_untouched(layout):
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
    assert run_gitml(repo, "install-agent", "vim").returncode == 2


def test_the_plugin_manifest_and_its_hooks():
    manifest = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["name"] == "git-ml"
    hooks = json.loads((ROOT / "hooks" / "hooks.json").read_text())["hooks"]
    for event, hook in EVENTS.items():
        (cmd,) = [h["command"] for g in hooks[event] for h in g["hooks"]]
        assert cmd.endswith(f"git-ml hook {hook}")
