"""Claude Code transcripts: ``~/.claude/projects/<encoded cwd>/<session id>.jsonl``.

There is no official schema (see the research notes); this reader follows what real files hold and
ignores the rest:

* ``user`` records carry typed prompts (a string, or text blocks) and ``tool_result`` blocks, with a
  structured ``toolUseResult`` beside them (``filePath`` + ``structuredPatch`` for edits, ``stdout``
  and ``stderr`` for Bash, ``filenames`` for Glob/Grep);
* ``assistant`` records carry ``tool_use`` blocks; one API message may be split over several lines
  that share ``message.id``, so tool calls are keyed by their own id, never by line;
* synthetic user records (``isMeta``: hook feedback; ``isCompactSummary``: the summary that opens a
  compacted conversation), sidechains and subagent files add tool activity but no prompts;
* records copied into a resumed session are skipped by ``uuid``; unknown record types and fields,
  corrupt lines and a partial last line are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from git_ml.capture.agents.base import (
    SMALL_SEARCH,
    AgentAdapter,
    JsonLines,
    ParsedSession,
    PathMapper,
    SessionBuilder,
    as_dict,
    as_list,
    as_str,
    inside,
    repository_root,
)

_EDIT_TOOLS = {"Edit", "MultiEdit", "Write", "NotebookEdit"}
_READ_TOOLS = {"Read", "NotebookRead"}
_SEARCH_TOOLS = {"Glob", "Grep", "LS"}
_SHELL_TOOLS = {"Bash", "PowerShell"}
_RESULT_SCAN = 256 * 1024  # characters of one tool output that are scanned for tests and errors
_NOT_PROMPTS = ("<local-command-", "<bash-stdout>", "<bash-stderr>", "[Request interrupted",
                "Caveat: The messages below", "<system-reminder>", "<task-notification>")
_COMMAND_TAGS = re.compile(r"<command-(name|args)>(.*?)</command-\1>", re.S)
_PERSISTED = re.compile(r"Full output saved to: (\S+)")


def _full_output(text: str) -> str:
    """A large tool output Claude Code spilled to a file (``<persisted-output>`` with a preview in
    the transcript): its head and tail, which hold what matters (errors, test summaries)."""
    m = _PERSISTED.search(text) if "<persisted-output>" in text else None
    if m is None:
        return text
    half = _RESULT_SCAN // 2
    try:
        with open(m.group(1), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(half if size > _RESULT_SCAN else _RESULT_SCAN)
            if size > _RESULT_SCAN:
                fh.seek(size - half)
                data += b"\n...\n" + fh.read(half)
    except OSError:
        return text
    return data.decode("utf-8", "replace")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in as_list(content):
        block = as_dict(block)
        if block.get("type") == "text":
            parts.append(as_str(block.get("text")))
    return "\n".join(parts)


def _prompt_text(text: str) -> str:
    """The user's words in a prompt record, or '' for command output and other synthetic text."""
    text = text.strip()
    if text.startswith("<command-"):
        tags = dict(_COMMAND_TAGS.findall(text))
        args = tags.get("args", "").strip()
        return f"{tags.get('name', '').strip()} {args}".strip() if args else ""
    if text.startswith(_NOT_PROMPTS):
        return ""
    return text


class _Reader:
    """One streamed pass over a transcript (and its subagent files) into a SessionBuilder."""

    def __init__(self, builder: SessionBuilder, mapper: PathMapper):
        self.b = builder
        self.mapper = mapper
        self.seen: set[str] = set()
        self.pending: dict[str, tuple[str, str, str | None]] = {}  # tool id -> (name, arg, cwd)
        self.done: set[str] = set()
        self.lines = 0
        self.skipped = 0

    def read_file(self, path: Path, *, sidechain: bool) -> None:
        stream = JsonLines(path)
        for obj in stream:
            self.record(obj, sidechain=sidechain)
        self.lines += stream.lines
        self.skipped += stream.skipped

    def record(self, obj: dict[str, Any], *, sidechain: bool) -> None:
        uuid = as_str(obj.get("uuid"))
        if uuid:
            if uuid in self.seen:
                return
            self.seen.add(uuid)
        b = self.b
        kind = obj.get("type")
        b.seen_at(obj.get("timestamp"))
        if kind not in ("user", "assistant"):
            return  # summary, system, progress, attachment, queue-operation, snapshots, unknown ...
        if not sidechain:
            if not b.session_id:
                b.session_id = as_str(obj.get("sessionId"))
            if as_str(obj.get("version")):
                b.version = obj["version"]
            b.set_branch(obj.get("gitBranch"))
        cwd = as_str(obj.get("cwd")) or None
        message = as_dict(obj.get("message"))
        content = message.get("content")
        side = sidechain or obj.get("isSidechain") is True
        if kind == "assistant":
            for block in as_list(content):
                block = as_dict(block)
                if block.get("type") == "tool_use":
                    self.tool_use(block, cwd)
            return
        synthetic = side or obj.get("isMeta") is True or obj.get("isCompactSummary") is True \
            or obj.get("isVisibleInTranscriptOnly") is True
        if isinstance(content, str):
            if not synthetic:
                b.prompt(_prompt_text(content))
            return
        blocks = [as_dict(x) for x in as_list(content)]
        results = [x for x in blocks if x.get("type") == "tool_result"]
        if not results and not synthetic:
            b.prompt(_prompt_text(_text_of(blocks)))
        for block in results:
            self.tool_result(block, obj, cwd)

    def tool_use(self, block: dict[str, Any], cwd: str | None) -> None:
        tid = as_str(block.get("id"))
        if tid and (tid in self.pending or tid in self.done):
            return  # the same call repeated (a split or copied message)
        name = as_str(block.get("name"))
        inp = as_dict(block.get("input"))
        b, m = self.b, self.mapper
        arg = ""
        if name in _READ_TOOLS:
            b.read(m.rel(inp.get("file_path") or inp.get("notebook_path"), cwd))
        elif name in _SEARCH_TOOLS:
            path = as_str(inp.get("path"))
            if path and "." in os.path.basename(path.rstrip("/")) and not any(c in path for c in "*?[{"):
                b.read(m.rel(path, cwd))
        elif name in _EDIT_TOOLS:
            arg = as_str(inp.get("file_path") or inp.get("notebook_path"))
        elif name in _SHELL_TOOLS:
            arg = as_str(inp.get("command"))
            b.command(arg, cwd)
        if tid:
            self.pending[tid] = (name, arg, cwd)

    def tool_result(self, block: dict[str, Any], obj: dict[str, Any], cwd: str | None) -> None:
        tid = as_str(block.get("tool_use_id"))
        if tid in self.done:
            return
        self.done.add(tid)
        name, arg, use_cwd = self.pending.pop(tid, ("", "", cwd))
        cwd = use_cwd or cwd
        b, m = self.b, self.mapper
        is_error = block.get("is_error") is True
        ts = as_str(obj.get("timestamp")) or None
        result = obj.get("toolUseResult")
        tur = as_dict(result)
        if tur.get("filePath") and (as_list(tur.get("structuredPatch")) or tur.get("type") in ("create", "update")):
            b.modified(m.rel(tur["filePath"], cwd))
        if name in _EDIT_TOOLS and not is_error:
            b.modified(m.rel(arg, cwd))
        text = _full_output(_text_of(block.get("content"))[:_RESULT_SCAN])
        if name in _SHELL_TOOLS:
            output = text
            if not is_error and tur:
                output = _full_output((as_str(tur.get("stdout")) + "\n" + as_str(tur.get("stderr"))).strip()) or text
            b.command_result(arg, cwd, output[:_RESULT_SCAN], is_error=is_error,
                             interrupted=tur.get("interrupted") is True, ts=ts, tool=name)
            return
        if name in _SEARCH_TOOLS and not is_error:
            found = as_list(tur.get("filenames"))
            if 0 < len(found) <= SMALL_SEARCH:
                for f in found:
                    b.read(m.rel(f, cwd))
        if is_error:
            b.error(text or as_str(result), cwd=cwd, tool=name or None, ts=ts)

    def finish(self) -> None:
        """Edits whose result never came (a transcript cut short) still count as made."""
        for name, arg, cwd in self.pending.values():
            if name in _EDIT_TOOLS:
                self.b.modified(self.mapper.rel(arg, cwd))
        self.pending.clear()


def encode_project(path: str) -> str:
    """Claude Code's folder name for a project: every non-alphanumeric character becomes ``-``."""
    return re.sub(r"[^A-Za-z0-9]", "-", path)


def config_dir() -> Path:
    return Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")


class ClaudeAdapter(AgentAdapter):
    name = "claude"

    def sniff(self, head: list[dict[str, Any]]) -> bool:
        for obj in head:
            if "payload" in obj:
                return False
            if "sessionId" in obj or ("uuid" in obj and "message" in obj) or \
                    (obj.get("type") == "summary" and "leafUuid" in obj):
                return True
        return False

    def parse(self, path: Path, worktree: Path) -> ParsedSession | None:
        root = repository_root(self.session_cwd(path), worktree)
        mapper = PathMapper(root)
        builder = SessionBuilder(self.name, mapper)
        reader = _Reader(builder, mapper)
        reader.read_file(path, sidechain=False)
        subagents = path.with_suffix("") / "subagents"
        if subagents.is_dir():
            for sub in sorted(subagents.glob("*.jsonl")):
                reader.read_file(sub, sidechain=True)
        reader.finish()
        if not builder.session_id:
            if reader.lines == 0:
                return None
            builder.session_id = path.stem
        return builder.build(lines=reader.lines, skipped=reader.skipped, root=root)

    def transcripts(self, worktrees: list[Path]) -> Iterator[Path]:
        projects = config_dir() / "projects"
        if not projects.is_dir():
            return
        prefixes = {encode_project(str(w)) for w in worktrees} | {encode_project(os.path.realpath(w)) for w in worktrees}
        for folder in projects.iterdir():
            if not folder.is_dir() or not any(folder.name.startswith(p) for p in prefixes):
                continue
            for f in folder.glob("*.jsonl"):
                if inside(self.session_cwd(f), worktrees):
                    yield f
