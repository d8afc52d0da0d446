"""OpenAI Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``.

Each line is ``{timestamp, type, payload}``: ``session_meta`` (id, cwd, cli_version, git),
``turn_context`` (cwd), ``event_msg`` (``user_message`` is the typed prompt; ``exec_command_end``
and ``patch_apply_end`` report tool outcomes) and ``response_item`` (messages, ``function_call``
with JSON-string ``arguments``, ``custom_tool_call`` such as ``apply_patch`` with the patch as
input, and their ``*_output``). Codex has no structured edit record like Claude's: files modified
come from patch headers and shell commands, files read from shell commands (cat, sed -n, rg ...).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from git_ml.capture.agents.base import (
    AgentAdapter,
    JsonLines,
    ParsedSession,
    PathMapper,
    SessionBuilder,
    as_dict,
    as_list,
    as_str,
    head_objects,
    inside,
    repository_root,
)

_SHELL_CALLS = {"shell", "exec_command", "local_shell", "shell_command", "container.exec", "unified_exec"}
_PATCH_HEADER = re.compile(r"^\*\*\* (?:(?:Add|Update|Delete) File|Move to): (.+?)\s*$", re.M)
_EXIT = re.compile(r"(?:Exit code:?|Process exited with code)\s*(-?\d+)")
_OUTPUT_SCAN = 256 * 1024
_UUID_TAIL = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
SWEEP_DAYS = 30


def patch_files(patch: str) -> list[str]:
    """Paths named by an ``apply_patch`` envelope (added, updated, deleted, moved to)."""
    return [m.group(1) for m in _PATCH_HEADER.finditer(patch)]


def _shell_command(args: dict[str, Any]) -> str:
    cmd = args.get("cmd") if "cmd" in args else args.get("command")
    if isinstance(cmd, list):
        argv = [as_str(a) for a in cmd]
        # ["bash", "-lc", "pytest -q"] -> the script itself
        if len(argv) >= 3 and os.path.basename(argv[0]) in ("bash", "sh", "zsh") and argv[1] in ("-c", "-lc", "-ic"):
            return argv[2]
        return shlex.join(argv)
    return as_str(cmd)


def _loads(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text.startswith("{"):
        return {}
    try:
        return as_dict(json.loads(text))
    except ValueError:
        return {}


def _output(raw: Any) -> tuple[str, int | None]:
    """(text, exit code) of a tool output: a JSON string with metadata (older), or text that says
    ``Exit code: N`` / ``Process exited with code N`` (newer)."""
    data = _loads(raw)
    if data:
        text = as_str(data.get("output")) or as_str(data.get("stdout")) + as_str(data.get("stderr"))
        code = as_dict(data.get("metadata")).get("exit_code", data.get("exit_code"))
        return text, code if isinstance(code, int) else None
    if isinstance(raw, list):
        raw = "\n".join(as_str(as_dict(x).get("text")) for x in raw)
    text = as_str(raw)
    m = _EXIT.search(text[:400])
    return text, int(m.group(1)) if m else None


def _user_text(content: Any) -> str:
    parts = [as_str(as_dict(x).get("text")) for x in as_list(content)
             if as_dict(x).get("type") in ("input_text", "text")]
    text = "\n".join(p for p in parts if p).strip()
    # context Codex injects as user messages: AGENTS.md, environment, instructions
    if text.startswith(("<", "# AGENTS.md")):
        return ""
    return text


def sessions_dir() -> Path:
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex") / "sessions"


class CodexAdapter(AgentAdapter):
    name = "codex"

    def sniff(self, head: list[dict[str, Any]]) -> bool:
        for obj in head:
            if "payload" in obj and obj.get("type") in ("session_meta", "response_item", "event_msg", "turn_context"):
                return True
        return False

    def session_cwd(self, path: Path) -> str | None:
        for obj in head_objects(path, 50):
            if obj.get("type") in ("session_meta", "turn_context"):
                cwd = as_str(as_dict(obj.get("payload")).get("cwd"))
                if cwd:
                    return cwd
        return None

    def parse(self, path: Path, worktree: Path) -> ParsedSession | None:
        cwd = self.session_cwd(path)
        root = repository_root(cwd, worktree)
        mapper = PathMapper(root)
        b = SessionBuilder(self.name, mapper)
        pending: dict[str, tuple[str, Any, str | None]] = {}  # call id -> (kind, arg, cwd)
        done: set[str] = set()
        stream = JsonLines(path)
        for obj in stream:
            b.seen_at(obj.get("timestamp"))
            kind = obj.get("type")
            p = as_dict(obj.get("payload"))
            ts = as_str(obj.get("timestamp")) or None
            if kind == "session_meta":
                b.session_id = b.session_id or as_str(p.get("id")) or as_str(p.get("session_id"))
                b.version = as_str(p.get("cli_version")) or b.version
                cwd = as_str(p.get("cwd")) or cwd
                b.set_branch(as_dict(p.get("git")).get("branch"))
            elif kind == "turn_context":
                cwd = as_str(p.get("cwd")) or cwd
            elif kind == "event_msg":
                sub = p.get("type")
                if sub == "user_message":
                    self._prompt(b, as_str(p.get("message")))
                elif sub == "exec_command_end":
                    cid = as_str(p.get("call_id"))
                    if cid in pending and cid not in done:
                        text = as_str(p.get("aggregated_output")) or (as_str(p.get("stdout")) + as_str(p.get("stderr")))
                        code = p.get("exit_code")
                        self._result(b, pending.pop(cid), text, code if isinstance(code, int) else None, ts)
                        done.add(cid)
                elif sub == "patch_apply_end":
                    cid = as_str(p.get("call_id"))
                    if p.get("success") is True:
                        for f in as_dict(p.get("changes")):
                            b.modified(mapper.rel(f, cwd))
                    if cid in pending and cid not in done:
                        done.add(cid)
                        kind_, arg, pcwd = pending.pop(cid)
                        if p.get("success") is not True:
                            b.error(as_str(p.get("stderr")) or "apply_patch failed", cwd=pcwd, tool="apply_patch", ts=ts)
                        elif kind_ == "patch":
                            for f in arg:
                                b.modified(mapper.rel(f, pcwd))
            elif kind == "response_item":
                sub = p.get("type")
                if sub == "message" and p.get("role") == "user":
                    self._prompt(b, _user_text(p.get("content")))
                elif sub in ("function_call", "custom_tool_call", "local_shell_call"):
                    self._call(b, mapper, p, cwd, pending, done)
                elif sub in ("function_call_output", "custom_tool_call_output"):
                    cid = as_str(p.get("call_id"))
                    if cid in pending and cid not in done:
                        done.add(cid)
                        text, code = _output(p.get("output"))
                        self._result(b, pending.pop(cid), text, code, ts)
        for kind_, arg, pcwd in pending.values():
            if kind_ == "patch":  # a patch whose result never came still counts as made
                for f in arg:
                    b.modified(mapper.rel(f, pcwd))
        if not b.session_id:
            if stream.lines == 0:
                return None
            m = _UUID_TAIL.search(path.stem)
            b.session_id = m.group(1) if m else path.stem
        return b.build(lines=stream.lines, skipped=stream.skipped, root=root)

    @staticmethod
    def _prompt(b: SessionBuilder, text: str) -> None:
        # the same prompt arrives as a response_item message and as an event_msg user_message
        if text and not (b.prompts and b.prompts[-1] == text.strip()[:len(b.prompts[-1])]):
            b.prompt(text)

    @staticmethod
    def _call(b: SessionBuilder, mapper: PathMapper, p: dict[str, Any], cwd: str | None,
              pending: dict[str, tuple[str, Any, str | None]], done: set[str]) -> None:
        cid = as_str(p.get("call_id")) or as_str(p.get("id"))
        if cid in pending or cid in done:
            return
        name = as_str(p.get("name"))
        args = _loads(p.get("arguments"))
        if p.get("type") == "local_shell_call":
            action = as_dict(p.get("action"))
            args = {"command": action.get("command"), "workdir": action.get("working_directory")}
            name = "local_shell"
        wd = as_str(args.get("workdir")) or as_str(args.get("cwd")) or cwd
        if wd and cwd and not wd.startswith("/"):
            wd = os.path.join(cwd, wd)
        if name in _SHELL_CALLS:
            cmd = _shell_command(args)
            b.command(cmd, wd)
            if "*** Begin Patch" in cmd:
                pending[cid] = ("patch", patch_files(cmd), wd)
            else:
                pending[cid] = ("shell", cmd, wd)
        elif name == "apply_patch":
            patch = as_str(p.get("input")) or as_str(args.get("input")) or as_str(args.get("patch"))
            pending[cid] = ("patch", patch_files(patch), wd)
        elif name in ("read_file", "view_image", "view_file"):
            b.read(mapper.rel(args.get("path") or args.get("file_path"), wd))
            pending[cid] = ("other", name, wd)
        else:
            pending[cid] = ("other", name, wd)

    @staticmethod
    def _result(b: SessionBuilder, call: tuple[str, Any, str | None], text: str, code: int | None,
                ts: str | None) -> None:
        kind, arg, wd = call
        text = text[:_OUTPUT_SCAN]
        failed = code is not None and code != 0
        if kind == "shell":
            b.command_result(arg, wd, text, is_error=failed, ts=ts, tool="shell")
        elif kind == "patch":
            if failed or text.lstrip().lower().startswith(("error", "failed", "apply_patch verification failed")):
                b.error(text, cwd=wd, tool="apply_patch", ts=ts)
            else:
                for f in arg:
                    b.modified(b.mapper.rel(f, wd))
        elif failed:
            b.error(text, cwd=wd, tool=arg or None, ts=ts)

    def transcripts(self, worktrees: list[Path]) -> Iterator[Path]:
        root = sessions_dir()
        if not root.is_dir():
            return
        horizon = time.time() - SWEEP_DAYS * 86400
        for f in root.rglob("rollout-*.jsonl"):
            try:
                if f.stat().st_mtime < horizon:
                    continue
            except OSError:
                continue
            if inside(self.session_cwd(f), worktrees):
                yield f
