"""Agent adapters: one module per agent's transcript format (see :mod:`.base` for the interface)."""

from __future__ import annotations

from pathlib import Path

from git_ml.capture.agents.base import AgentAdapter, head_objects


def adapters() -> dict[str, AgentAdapter]:
    """Every known adapter by agent name."""
    from git_ml.capture.agents.claude import ClaudeAdapter
    from git_ml.capture.agents.codex import CodexAdapter

    return {a.name: a for a in (ClaudeAdapter(), CodexAdapter())}


def detect(path: Path) -> AgentAdapter | None:
    """The adapter whose format a transcript has, from its first records; None if unknown."""
    head = head_objects(path)
    for adapter in adapters().values():
        if adapter.sniff(head):
            return adapter
    return None
