"""A scripted stand-in for the Anthropic Messages API on loopback, for driving the real Claude Code
CLI offline through real tool calls (Read, Edit, Bash ...): real hooks, a real transcript.

The script is a list of steps, each ``{"tool": NAME, "input": {...}}`` or ``{"text": "..."}``. A
request whose conversation holds N tool results gets step N; past the end, a final text. Requests
without tools (titles, summaries) get a short text. Standard library only.
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _tool_results(messages: list[Any]) -> int:
    return sum(1 for m in messages if isinstance(m, dict) and isinstance(m.get("content"), list)
               for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")


class StandIn:
    """``with StandIn(script) as s:`` serves on ``s.url`` until the block ends."""

    def __init__(self, script: list[dict[str, Any]]):
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send_json({"data": [], "has_more": False})

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                standin.requests.append({"path": self.path, "messages": len(body.get("messages", []))})
                if "count_tokens" in self.path:
                    return self._send_json({"input_tokens": 10})
                block, stop = standin.answer(body)
                mid = f"msg_standin_{next(standin._ids):04d}"
                message = {"id": mid, "type": "message", "role": "assistant", "model": body.get("model", "m"),
                           "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}
                if not body.get("stream"):
                    return self._send_json({**message, "content": [block], "stop_reason": stop})
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                self._event("message_start", {"message": {**message, "content": [], "stop_reason": None}})
                if block["type"] == "tool_use":
                    self._event("content_block_start", {"index": 0, "content_block": {**block, "input": {}}})
                    self._event("content_block_delta", {"index": 0, "delta": {
                        "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
                else:
                    self._event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
                    self._event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": block["text"]}})
                self._event("content_block_stop", {"index": 0})
                self._event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                              "usage": {"output_tokens": 5}})
                self._event("message_stop", {})

            def _event(self, kind: str, data: dict[str, Any]) -> None:
                self.wfile.write(f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode())
                self.wfile.flush()

            def _send_json(self, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        done = _tool_results(body.get("messages", []))
        if body.get("tools") and done < len(self.script) and "tool" in self.script[done]:
            step = self.script[done]
            block = {"type": "tool_use", "id": f"toolu_standin_{next(self._ids):04d}", "name": step["tool"],
                     "input": step["input"]}
            return block, "tool_use"
        last = self.script[-1] if self.script else {}
        return {"type": "text", "text": last.get("text", "Done.")}, "end_turn"

    def __enter__(self) -> "StandIn":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
