"""Builders of small synthetic agent transcripts (Claude Code JSONL, Codex rollouts) for the tests.

They follow the shapes real files have (see the research notes), with made-up content.
"""

from __future__ import annotations

import json
import uuid as _uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any


class Claude:
    """A Claude Code transcript, record by record."""

    def __init__(self, cwd: str | Path, session_id: str = "11111111-2222-3333-4444-555555555555",
                 branch: str = "main", version: str = "2.1.197",
                 start: datetime = datetime(2026, 1, 5, 10, 0, 0, tzinfo=timezone.utc)):
        self.cwd = str(cwd)
        self.session_id = session_id
        self.branch = branch
        self.version = version
        self.now = start
        self.parent: str | None = None
        self.lines: list[str] = []
        self._ids = 0

    def _tick(self) -> str:
        self.now += timedelta(seconds=2)
        return self.now.isoformat().replace("+00:00", "Z")

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{_uuid.uuid4().hex[:20]}"

    def envelope(self, kind: str, **extra: Any) -> dict[str, Any]:
        rec = {"parentUuid": self.parent, "isSidechain": False, "userType": "external", "cwd": self.cwd,
               "sessionId": self.session_id, "version": self.version, "gitBranch": self.branch,
               "type": kind, "uuid": str(_uuid.uuid4()), "timestamp": self._tick()}
        rec.update(extra)
        self.parent = rec["uuid"]
        return rec

    def add(self, rec: dict[str, Any]) -> dict[str, Any]:
        self.lines.append(json.dumps(rec))
        return rec

    def raw(self, line: str) -> None:
        self.lines.append(line)

    def prompt(self, text: str | list, **extra: Any) -> dict[str, Any]:
        return self.add(self.envelope("user", message={"role": "user", "content": text}, **extra))

    def text(self, text: str, msg_id: str | None = None) -> dict[str, Any]:
        return self.add(self.envelope("assistant", requestId="req_1", message={
            "id": msg_id or self._next_id("msg_"), "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": text}], "stop_reason": None}))

    def tool_use(self, name: str, inp: dict[str, Any], msg_id: str | None = None, **extra: Any) -> str:
        tid = self._next_id("toolu_")
        self.add(self.envelope("assistant", message={
            "id": msg_id or self._next_id("msg_"), "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "tool_use", "id": tid, "name": name, "input": inp}]}, **extra))
        return tid

    def tool_result(self, tid: str, content: Any, *, is_error: bool | None = None,
                    tur: Any = None, **extra: Any) -> dict[str, Any]:
        block: dict[str, Any] = {"tool_use_id": tid, "type": "tool_result", "content": content}
        if is_error is not None:
            block["is_error"] = is_error
        rec = self.envelope("user", message={"role": "user", "content": [block]}, **extra)
        if tur is not None:
            rec["toolUseResult"] = tur
        return self.add(rec)

    def tool(self, name: str, inp: dict[str, Any], content: Any = "ok", *, is_error: bool | None = None,
             tur: Any = None, **extra: Any) -> str:
        tid = self.tool_use(name, inp, **extra)
        self.tool_result(tid, content, is_error=is_error, tur=tur, **extra)
        return tid

    def bash(self, command: str, stdout: str = "", *, is_error: bool = False, **extra: Any) -> str:
        if is_error:
            return self.tool("Bash", {"command": command, "description": "run"}, stdout, is_error=True,
                             tur=f"Error: {stdout}", **extra)
        return self.tool("Bash", {"command": command, "description": "run"}, stdout, is_error=False,
                         tur={"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False}, **extra)

    def edit(self, path: str, **extra: Any) -> str:
        return self.tool("Edit", {"file_path": path, "old_string": "a", "new_string": "b"},
                         f"The file {path} has been updated.",
                         tur={"filePath": path, "oldString": "a", "newString": "b", "originalFile": "a\n",
                              "structuredPatch": [{"oldStart": 1, "oldLines": 1, "newStart": 1, "newLines": 1,
                                                   "lines": ["-a", "+b"]}], "userModified": False}, **extra)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path


class Codex:
    """A Codex CLI rollout, line by line."""

    def __init__(self, cwd: str | Path, session_id: str = "019b64e5-57fa-7463-b644-fba7e456f905",
                 branch: str | None = "main", version: str = "0.169.0",
                 start: datetime = datetime(2026, 1, 6, 9, 0, 0, tzinfo=timezone.utc)):
        self.cwd = str(cwd)
        self.now = start
        self.session_id = session_id
        self.lines: list[str] = []
        self._ids = 0
        meta: dict[str, Any] = {"id": session_id, "timestamp": self._ts(), "cwd": self.cwd,
                                "originator": "codex_exec", "cli_version": version, "source": "exec",
                                "model_provider": "openai", "base_instructions": {"text": "You are Codex."}}
        if branch:
            meta["git"] = {"branch": branch, "commit_hash": "0" * 40}
        self.add("session_meta", meta)
        self.add("turn_context", {"cwd": self.cwd, "approval_policy": "never", "model": "gpt"})

    def _ts(self) -> str:
        self.now += timedelta(seconds=3)
        return self.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def add(self, kind: str, payload: dict[str, Any]) -> None:
        self.lines.append(json.dumps({"timestamp": self._ts(), "type": kind, "payload": payload}))

    def raw(self, line: str) -> None:
        self.lines.append(line)

    def prompt(self, text: str) -> None:
        self.add("response_item", {"type": "message", "role": "user",
                                   "content": [{"type": "input_text", "text": text}]})
        self.add("event_msg", {"type": "user_message", "message": text, "images": []})

    def call(self, name: str, arguments: dict[str, Any], output: str, **extra: Any) -> str:
        self._ids += 1
        cid = f"call_{self._ids:04d}"
        self.add("response_item", {"type": "function_call", "name": name, "arguments": json.dumps(arguments),
                                   "call_id": cid})
        self.add("response_item", {"type": "function_call_output", "call_id": cid, "output": output})
        return cid

    def patch(self, patch: str, output: str = "Success. Updated the following files:\n") -> str:
        self._ids += 1
        cid = f"call_{self._ids:04d}"
        self.add("response_item", {"type": "custom_tool_call", "name": "apply_patch", "input": patch,
                                   "call_id": cid, "status": "completed"})
        self.add("response_item", {"type": "custom_tool_call_output", "call_id": cid, "output": output})
        return cid

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path
