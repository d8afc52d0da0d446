#!/usr/bin/env python3
"""Check the transcript parsers against real agent transcripts (not part of the project).

usage: scripts/check_fixtures.py [FOLDER ...]   (default: ../shared/fixtures/claude-code beside the
checkout, else /work/shared/fixtures/claude-code)

For each transcript, prints what git-ml extracted (after redaction): session, prompts, files read and
modified, commands, test runs, errors, commits printed. Paths are mapped through each transcript's
own cwd. Exits 1 when a file is not recognised or parses to nothing, or a record type goes unseen.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from git_ml.capture.agents import detect  # noqa: E402
from git_ml.capture.redact import redact_session  # noqa: E402


def default_folders() -> list[Path]:
    for base in (ROOT.parent / "shared", Path("/work/shared")):
        folder = base / "fixtures" / "claude-code"
        if folder.is_dir():
            return [folder]
    return []


def short(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or default_folders()
    if not folders:
        print("no fixture folder found; give one", file=sys.stderr)
        return 2
    bad = 0
    kinds: Counter[str] = Counter()
    for folder in folders:
        for path in sorted(folder.rglob("*.jsonl")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    kinds[json.loads(line).get("type", "?")] += 1
                except ValueError:
                    kinds["(corrupt)"] += 1
            adapter = detect(path)
            parsed = adapter.parse(path, path.parent) if adapter else None
            if parsed is None:
                print(f"== {path.name}: NOT RECOGNISED")
                bad += 1
                continue
            r = redact_session(parsed.record)
            print(f"== {path.name}  [{adapter.name} {r.agent_version or '?'}] session {r.session_id}")
            print(f"   cwd/root {parsed.root}   branch {r.branch}   {r.started_at} .. {r.ended_at}")
            print(f"   lines {r.transcript_lines} (skipped {r.skipped_lines})")
            for i, p in enumerate(r.prompts):
                files = r.prompt_files[i] if i < len(r.prompt_files) else []
                print(f"   prompt {i + 1}: {short(p)}  -> {len(files)} file(s)")
            print(f"   read     {r.files_read}")
            print(f"   modified {r.files_modified}")
            print(f"   commands {len(r.commands)}: " + "; ".join(short(c, 40) for c in r.commands[:6]))
            for t in r.test_runs:
                print(f"   test     {t.runner} {t.targets} -> {t.outcome} {t.failed or ''}")
            for e in r.errors:
                print(f"   error    [{e.tool}] {short(e.message, 70)} files={e.files} fixed_by={e.fixed_by}")
            if parsed.commit_refs:
                print(f"   commits printed {parsed.commit_refs}")
            if not (r.prompts and (r.files_modified or r.files_read or r.commands)):
                print("   !! nothing extracted")
                bad += 1
    print(f"record types seen: {dict(kinds)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
