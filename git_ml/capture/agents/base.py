"""What every agent adapter shares: the adapter interface, a streamed JSONL reader, path mapping,
and the extraction of test runs, errors and file reads from shell commands and their output.

An adapter turns one agent's transcript into a :class:`ParsedSession` (a SessionRecord, not yet
redacted or linked to commits). Claude Code and Codex are implemented; Gemini CLI, Copilot CLI and
Cursor can follow the same interface: ``sniff`` a transcript's first bytes, ``parse`` it in one
streamed pass, and list ``transcripts`` of a repository for the sweep of sessions whose end hook
never fired.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from git_ml.records import SessionError, SessionRecord, TestRun

# Bounds that keep one session record small whatever the transcript holds.
MAX_PROMPTS = 200
MAX_PROMPT_CHARS = 4000
MAX_COMMANDS = 500
MAX_COMMAND_CHARS = 1000
MAX_ERRORS = 100
MAX_ERROR_CHARS = 600
MAX_TEST_RUNS = 200
MAX_FILES = 2000
MAX_NAMED_FILES = 20  # files named by one error
SMALL_SEARCH = 10  # a Glob/Grep that found at most this many files counts them as read
SNIFF_BYTES = 8 << 20  # a first record (Codex session_meta) can be large


# --------------------------------------------------------------------------------------------
# Reading JSON Lines


class JsonLines:
    """Stream the JSON objects of a file, one line at a time (memory: the longest line).

    Blank lines are ignored; a line that is not a JSON object (corrupt, or the partial last line
    of a transcript still being written) is counted in ``skipped`` and never stops the reading.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lines = 0
        self.skipped = 0
        self._decode = msgspec.json.Decoder().decode

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                self.lines += 1
                try:
                    obj = self._decode(raw)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    self.skipped += 1
                    continue
                if isinstance(obj, dict):
                    yield obj
                else:
                    self.skipped += 1


def head_objects(path: Path, limit: int = 20) -> list[dict[str, Any]]:
    """The JSON objects on the first ``limit`` lines of a file (for format detection and its
    cwd), reading at most SNIFF_BYTES."""
    out: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as fh:
            budget = SNIFF_BYTES
            for _ in range(limit):
                raw = fh.readline(budget)
                if not raw:
                    break
                budget -= len(raw)
                try:
                    obj = msgspec.json.decode(raw)
                except msgspec.DecodeError:
                    obj = None
                if isinstance(obj, dict):
                    out.append(obj)
                if budget <= 0:
                    break
    except OSError:
        return []
    return out


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --------------------------------------------------------------------------------------------
# Paths


_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]")


def _norm(path: str) -> str:
    if _WINDOWS.match(path):
        path = "/" + path[0].lower() + path[2:].replace("\\", "/")
    return posixpath.normpath(path)


class PathMapper:
    """Maps paths seen in a transcript to repository-relative ones, through the transcript's own
    working directory (never the current one); paths outside the repository map to None."""

    def __init__(self, root: str):
        self.root = _norm(root)
        roots = {self.root}
        try:
            real = os.path.realpath(root)
            if os.path.isdir(real):
                roots.add(_norm(real))
        except OSError:
            pass
        self._roots = sorted(roots, key=len, reverse=True)

    def rel(self, path: Any, cwd: str | None = None) -> str | None:
        if not isinstance(path, str):
            return None
        p = path.strip().strip("\"'`")
        if not p or "\0" in p or "\n" in p or len(p) > 4096:
            return None
        if p.startswith("~"):
            return None
        if not (p.startswith("/") or _WINDOWS.match(p)):
            if not cwd:
                return None
            p = posixpath.join(_norm(cwd), p)
        p = _norm(p)
        for root in self._roots:
            if p.startswith(root + "/") or root == "/":
                rel = p[len(root):].lstrip("/")
                if not rel or rel == ".git" or rel.startswith(".git/") or rel.startswith(".git-ml/"):
                    return None
                return rel
        return None


def repository_root(session_cwd: str | None, worktree: Path) -> str:
    """The repository top as the session saw it: the git top of its cwd when that still exists,
    else the worktree when the cwd lies inside it, else the cwd itself (a transcript from another
    machine or a deleted folder is read as if it ran at its repository's top)."""
    import subprocess

    if session_cwd and os.path.isdir(session_cwd):
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=session_cwd,
                             capture_output=True, check=False)
        top = out.stdout.decode("utf-8", "surrogateescape").strip()
        if out.returncode == 0 and top:
            return top
    wt = str(worktree)
    if session_cwd and (_norm(session_cwd) + "/").startswith(_norm(wt) + "/"):
        return wt
    return session_cwd or wt


# --------------------------------------------------------------------------------------------
# Shell commands: test runs, reads, writes


_SEGMENT_SPLIT = re.compile(r"\s*(?:&&|\|\||;|\n|(?<![<>&|])\|(?!\|))\s*")
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = {"time", "env", "sudo", "nice", "command", "exec", "xvfb-run", "stdbuf"}
_RUN_WRAPPERS = {("uv", "run"), ("poetry", "run"), ("pdm", "run"), ("hatch", "run"), ("pipenv", "run"),
                 ("rye", "run"), ("pixi", "run"), ("bundle", "exec"), ("pnpm", "exec"), ("pnpm", "dlx"),
                 ("yarn", "dlx"), ("conda", "run")}
# options whose value is a separate word, per runner (so the value is not taken for a target)
_VALUED = {
    "pytest": {"-k", "-m", "-p", "-c", "-n", "-o", "-W", "--maxfail", "--tb", "--rootdir", "--deselect",
               "--ignore", "--ignore-glob", "--durations", "--cov", "--cov-report", "--junitxml",
               "--basetemp", "--confcutdir", "--log-level", "-r", "--dist", "--timeout", "--count",
               "--import-mode", "--override-ini", "--capture", "--color"},
    "go": {"-run", "-timeout", "-count", "-tags", "-p", "-parallel", "-coverprofile", "-bench", "-cpu",
           "-skip", "-covermode", "-coverpkg", "-exec", "-o", "-C"},
    "cargo": {"-p", "--package", "--features", "-F", "--target", "--test", "--bin", "--example",
              "-j", "--jobs", "--manifest-path", "--profile", "--bench"},
    "jest": {"-t", "--testNamePattern", "--config", "-c", "--maxWorkers", "-w", "--reporters",
             "--testPathPattern", "--shard"},
}
_VALUED["vitest"] = _VALUED["jest"]
_TEST_SCRIPT = re.compile(r"(^|[:_-])(test|tests|check)([:_-]|$)")


_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1[^\n]*\n.*?^\s*\2\s*$", re.S | re.M)
_REDIRECT = re.compile(r"(?:^|\s)\d*(?:>{1,2}|<)&?\s*(?:\S+)?")


def split_segments(command: str) -> list[str]:
    """Simple commands of a command line (heredoc bodies removed: they are data, not commands)."""
    command = _HEREDOC.sub("<<heredoc", command)
    return [s for s in _SEGMENT_SPLIT.split(command) if s.strip()]


def redirect_targets(segment: str) -> list[str]:
    """Files a simple command writes with ``>`` / ``>>`` (quoted text is not a redirection)."""
    lex = shlex.shlex(segment, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        toks = list(lex)
    except ValueError:
        return []
    return [toks[i + 1] for i, t in enumerate(toks[:-1]) if t in (">", ">>", ">|")]


def words(segment: str) -> list[str]:
    """The words of a simple command, redirections left out."""
    segment = _REDIRECT.sub(" ", segment)
    try:
        return shlex.split(segment, comments=False, posix=True)
    except ValueError:
        return segment.split()


def _strip_prefix(argv: list[str]) -> list[str]:
    """Drop env assignments and wrappers (``FOO=1 timeout 60 uv run pytest`` -> ``pytest ...``)."""
    i = 0
    while i < len(argv):
        w = argv[i]
        if _ENV_ASSIGN.match(w) or w in _WRAPPERS or w == "--":
            i += 1
        elif w == "timeout":
            i += 1
            while i < len(argv) and (argv[i].startswith("-") or argv[i][:1].isdigit()):
                i += 1
        elif i + 1 < len(argv) and (w, argv[i + 1]) in _RUN_WRAPPERS:
            i += 2
        elif w in ("npx", "bunx", "pnpx"):
            i += 1
            while i < len(argv) and argv[i].startswith("-"):
                i += 1
        else:
            break
    return argv[i:]


def _exe(word: str) -> str:
    return posixpath.basename(word)


def _positionals(args: list[str], valued: set[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--":
            continue
        if a.startswith("-"):
            if "=" not in a and a in valued:
                skip = True
            continue
        out.append(a)
    return out


def classify_test_command(argv: list[str]) -> tuple[str, list[str]] | None:
    """(runner, raw targets) when ``argv`` (one simple command) runs tests, else None."""
    argv = _strip_prefix(argv)
    if not argv:
        return None
    exe = _exe(argv[0])
    rest = argv[1:]
    if re.fullmatch(r"python[0-9.]*|py|pypy[0-9.]*", exe):
        while rest and rest[0].startswith("-") and rest[0] != "-m":
            rest = rest[1:]
        if len(rest) >= 2 and rest[0] == "-m":
            exe, rest = rest[1], rest[2:]
        elif rest and _exe(rest[0]) in ("pytest", "py.test", "manage.py", "runtests.py"):
            exe, rest = _exe(rest[0]), rest[1:]
        else:
            return None
    if exe in ("pytest", "py.test"):
        return "pytest", _positionals(rest, _VALUED["pytest"])
    if exe == "unittest":
        return "unittest", [a for a in _positionals(rest, {"-k", "-p", "-s", "-t"}) if a != "discover"]
    if exe == "manage.py" and rest[:1] == ["test"]:
        return "django", _positionals(rest[1:], set())
    if exe in ("tox", "nox"):
        targets = rest[rest.index("--") + 1:] if "--" in rest else []
        return exe, [t for t in targets if not t.startswith("-")]
    if exe in ("npm", "yarn", "pnpm", "bun"):
        if not rest:
            return None
        sub = rest[0]
        script = rest[1] if sub in ("run", "run-script") and len(rest) > 1 else sub
        if sub in ("test", "t", "tst") or (sub in ("run", "run-script") and _TEST_SCRIPT.search(script)) or (
                exe != "npm" and sub in ("jest", "vitest", "mocha")):
            after = rest[rest.index("--") + 1:] if "--" in rest else (rest[2:] if sub in ("run", "run-script") else rest[1:])
            return exe, _positionals(after, _VALUED["jest"])
        return None
    if exe in ("jest", "vitest", "mocha", "ava", "karma", "playwright"):
        args = rest[1:] if exe == "vitest" and rest[:1] in (["run"], ["watch"]) else rest
        if exe == "playwright":
            if rest[:1] != ["test"]:
                return None
            args = rest[1:]
        return exe, _positionals(args, _VALUED.get(exe, _VALUED["jest"]))
    if exe == "go" and rest[:1] == ["test"]:
        return "go", _positionals(rest[1:], _VALUED["go"])
    if exe == "cargo" and rest[:1] in (["test"], ["nextest"]):
        args = rest[2:] if rest[:2] == ["nextest", "run"] else rest[1:]
        if "--" in args:
            args = args[:args.index("--")]
        return "cargo", _positionals(args, _VALUED["cargo"])
    if exe in ("rspec", "phpunit", "ctest", "bats"):
        return exe, _positionals(rest, set())
    if exe in ("make", "just", "task") and any(_TEST_SCRIPT.search(a) for a in rest if not a.startswith("-")):
        return exe, []
    if exe in ("mvn", "mvnw", "gradle", "gradlew", "dotnet", "mix", "bazel", "bazelisk", "swift", "deno",
               "sbt", "lein", "zig", "stack", "cabal") and rest[:1] and rest[0] in ("test", "verify", "check"):
        return exe, _positionals(rest[1:], set())
    return None


def map_target(target: str, mapper: PathMapper, cwd: str | None) -> str | None:
    """A test target as a repo-relative path or node id; names that are not paths (a cargo test
    filter, a tox env) are kept as given; paths outside the repository are dropped."""
    path, sep, rest = target.partition("::")
    looks_like_path = "/" in path or "." in posixpath.basename(path)
    if path.startswith("./") or path == ".":
        looks_like_path = True
    if not looks_like_path:
        return target if target and len(target) <= 200 else None
    go_tail = ""
    if path.endswith("/..."):
        path, go_tail = path[:-4], "/..."
    if path in (".", "./"):
        rel = mapper.rel(cwd or "", None) if cwd else None
        if rel is None:
            return "." + go_tail if cwd and _norm(cwd) in mapper._roots else None
        return rel + go_tail
    rel = mapper.rel(path, cwd)
    if rel is None:
        return None
    return rel + go_tail + (sep + rest if sep else "")


def find_test_runs(command: str, mapper: PathMapper, cwd: str | None) -> list[tuple[str, list[str]]]:
    """Every test run in a shell command line: (runner, repo-relative targets)."""
    runs = []
    cur = cwd
    for seg in split_segments(command):
        argv = words(seg)
        if argv[:1] == ["cd"] and len(argv) >= 2:
            cur = posixpath.join(_norm(cur), argv[1]) if cur and not argv[1].startswith("/") else argv[1]
            continue
        found = classify_test_command(argv)
        if found:
            runner, raw = found
            targets = [t for t in (map_target(r, mapper, cur) for r in raw) if t]
            runs.append((runner, targets))
    return runs


_READERS = {"cat", "head", "tail", "less", "more", "nl", "bat", "batcat", "view", "wc"}
_SEARCHERS = {"rg", "grep", "egrep", "fgrep", "ag", "ack"}
_WRITERS = {"rm", "touch", "truncate", "tee"}


def command_file_effects(command: str, mapper: PathMapper, cwd: str | None) -> tuple[list[str], list[str]]:
    """Files a shell command reads (cat/head/sed -n/rg ...) and modifies (rm/mv/sed -i/tee/> file),
    repo-relative. A heuristic: the agents' own Read/Edit tools are the primary source."""
    reads: list[str] = []
    writes: list[str] = []
    cur = cwd
    for seg in split_segments(command):
        writes.extend(r for r in (mapper.rel(t, cur) for t in redirect_targets(seg)) if r)
        argv = _strip_prefix(words(seg))
        if not argv:
            continue
        exe = _exe(argv[0])
        args = argv[1:]
        if exe == "cd" and args:
            cur = posixpath.join(_norm(cur), args[0]) if cur and not args[0].startswith("/") else args[0]
            continue
        if exe == "git" and args[:1] in (["rm"], ["mv"]):
            exe, args = args[0], args[1:]
        if exe == "sed":
            files = _positionals(args, {"-e", "-f"})
            inplace = any(a.startswith("-i") or a.startswith("--in-place") for a in args)
            if not any(a in ("-e", "-f") for a in args) and files:
                files = files[1:]  # the script
            (writes if inplace else reads).extend(r for r in (mapper.rel(f, cur) for f in files) if r)
        elif exe in _READERS:
            reads.extend(r for r in (mapper.rel(f, cur) for f in _positionals(args, {"-n", "-c"})) if r)
        elif exe in _SEARCHERS:
            pos = _positionals(args, {"-e", "-f", "-g", "--glob", "-t", "--type", "-A", "-B", "-C", "-m",
                                      "--include", "--exclude", "-max-count"})
            for f in pos[1:]:
                rel = mapper.rel(f, cur)
                if rel and "." in posixpath.basename(rel):
                    reads.append(rel)
        elif exe == "rm" and any(a.startswith("-") and "r" in a.lower() for a in args):
            continue  # a folder: its files are not known here
        elif exe in _WRITERS or exe == "mv":
            writes.extend(r for r in (mapper.rel(f, cur) for f in _positionals(args, set())) if r)
    return reads, writes


# --------------------------------------------------------------------------------------------
# Test output and errors


_FAILED_ID = re.compile(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", re.M)
_GO_FAIL = re.compile(r"^--- FAIL: (\S+)", re.M)
_GO_PKG_FAIL = re.compile(r"^FAIL\s+(\S+)", re.M)
_CARGO_FAIL = re.compile(r"^test (\S+) \.\.\. FAILED", re.M)
_JEST_FAIL = re.compile(r"^\s*FAIL\s+(\S+\.[A-Za-z]\w*)\s*$", re.M)
_FAIL_MARKS = re.compile(r"\b[1-9]\d* failed\b|\btest result: FAILED\b|^FAIL\b|\bTests:\s+\d+ failed|\b[1-9]\d* errors? in\b|^FAILED\b|\bFAILURES!|\bFailures: [1-9]", re.M)
_PASS_MARKS = re.compile(r"\b[1-9]\d* passed\b|\btest result: ok\b|^ok\s|\bTests:\s+\d+ passed|^OK\b|\bPASS\b|\b0 failures\b", re.M)


def test_outcome(output: str, *, is_error: bool, interrupted: bool = False) -> tuple[str, list[str]]:
    """(outcome, failing ids) read from a test command's output and exit status."""
    failed: list[str] = []
    for rx in (_FAILED_ID, _GO_FAIL, _CARGO_FAIL, _JEST_FAIL):
        for m in rx.finditer(output):
            if m.group(1) not in failed:
                failed.append(m.group(1))
    if not failed:
        failed = [m.group(1) for m in _GO_PKG_FAIL.finditer(output)]
    if interrupted:
        return "error", failed[:50]
    if failed or _FAIL_MARKS.search(output):
        return "failed", failed[:50]
    if is_error:
        return ("failed" if _PASS_MARKS.search(output) else "error"), failed
    if _PASS_MARKS.search(output):
        return "passed", []
    return "unknown", []


_PY_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_PATH_LINE = re.compile(r"(?:^|[\s(\['\"=,>])((?:[A-Za-z]:)?[\w./\\@+-]*[\w-]\.[A-Za-z0-9]{1,10}):(\d+)")
_TRACEBACK = "Traceback (most recent call last)"
_EXC_LINE = re.compile(r"^(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Failure)\b.*$", re.M)


def named_files(text: str, mapper: PathMapper, cwd: str | None) -> list[str]:
    """Repository files named in an error or traceback (Python frames, ``path:line`` forms)."""
    out: dict[str, None] = {}
    for rx in (_PY_FRAME, _PATH_LINE):
        for m in rx.finditer(text):
            rel = mapper.rel(m.group(1), cwd)
            if rel and "site-packages/" not in rel and "node_modules/" not in rel:
                out[rel] = None
                if len(out) >= MAX_NAMED_FILES:
                    return list(out)
    return list(out)


def error_message(text: str) -> str:
    """A short message for an error: the exception line of a traceback, else the first lines."""
    if _TRACEBACK in text:
        exc = _EXC_LINE.findall(text.split(_TRACEBACK)[-1])
        if exc:
            return exc[-1].strip()[:MAX_ERROR_CHARS]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[:4])[:MAX_ERROR_CHARS]


def looks_like_failure(text: str) -> bool:
    return _TRACEBACK in text


# --------------------------------------------------------------------------------------------
# Building a session


_GIT_COMMIT_OUT = re.compile(r"^\[([^\]\s]+)(?: \(root-commit\))? ([0-9a-f]{7,40})\] ", re.M)


@dataclass
class ParsedSession:
    """A session read from a transcript (not yet redacted nor linked to commits)."""

    record: SessionRecord
    root: str  # the repository top as the transcript saw it
    commit_refs: list[str] = field(default_factory=list)  # hashes printed by `git commit` in the session


class SessionBuilder:
    """Accumulates what a transcript shows, in order, within fixed bounds."""

    def __init__(self, agent: str, mapper: PathMapper):
        self.agent = agent
        self.mapper = mapper
        self.session_id = ""
        self.version: str | None = None
        self.branch: str | None = None
        self.started_at: str | None = None
        self.ended_at: str | None = None
        self.prompts: list[str] = []
        self.prompt_files: list[dict[str, None]] = []
        self.files_read: dict[str, None] = {}
        self.files_modified: dict[str, None] = {}
        self.commands: list[str] = []
        self.test_runs: list[TestRun] = []
        self.errors: list[SessionError] = []
        self._open_errors: list[SessionError] = []
        self.commit_refs: dict[str, None] = {}

    # -- events ------------------------------------------------------------------------------

    def seen_at(self, ts: Any) -> None:
        if isinstance(ts, str) and ts:
            if self.started_at is None or ts < self.started_at:
                self.started_at = ts
            if self.ended_at is None or ts > self.ended_at:
                self.ended_at = ts

    def set_branch(self, branch: Any) -> None:
        if isinstance(branch, str) and branch and branch != "HEAD":
            self.branch = branch

    def prompt(self, text: str) -> None:
        text = text.strip()
        if not text or len(self.prompts) >= MAX_PROMPTS:
            return
        self.prompts.append(text[:MAX_PROMPT_CHARS])
        self.prompt_files.append({})
        self._open_errors = []  # the session moved on: later edits fix the new task, not old errors

    def _turn_file(self, rel: str) -> None:
        if self.prompt_files:
            self.prompt_files[-1][rel] = None

    def read(self, rel: str | None) -> None:
        if rel and len(self.files_read) < MAX_FILES:
            self.files_read[rel] = None
            self._turn_file(rel)

    def modified(self, rel: str | None) -> None:
        if rel and len(self.files_modified) < MAX_FILES:
            self.files_modified[rel] = None
            self._turn_file(rel)
            for err in self._open_errors:
                if rel not in err.fixed_by:
                    err.fixed_by.append(rel)

    def command(self, cmd: str, cwd: str | None) -> None:
        """A shell command: kept (bounded), and its file reads and writes noted."""
        if not cmd.strip():
            return
        if len(self.commands) < MAX_COMMANDS:
            self.commands.append(cmd.strip()[:MAX_COMMAND_CHARS])
        reads, writes = command_file_effects(cmd, self.mapper, cwd)
        for r in reads:
            self.read(r)
        for w in writes:
            self.modified(w)

    def command_result(self, cmd: str, cwd: str | None, output: str, *, is_error: bool,
                       interrupted: bool = False, ts: str | None = None, tool: str | None = None) -> None:
        """What a shell command printed: test outcomes, commits made, errors."""
        for m in _GIT_COMMIT_OUT.finditer(output):
            self.commit_refs[m.group(2)] = None
        runs = find_test_runs(cmd, self.mapper, cwd)
        outcome = None
        for runner, targets in runs:
            outcome, failed = test_outcome(output, is_error=is_error, interrupted=interrupted)
            if len(self.test_runs) < MAX_TEST_RUNS:
                self.test_runs.append(TestRun(command=cmd.strip()[:MAX_COMMAND_CHARS], runner=runner,
                                              targets=targets, outcome=outcome, failed=failed, timestamp=ts))
        if is_error or looks_like_failure(output) or outcome == "failed":
            self.error(output, cwd=cwd, tool=tool, ts=ts)

    def error(self, text: str, *, cwd: str | None, tool: str | None, ts: str | None) -> None:
        if not text.strip() or len(self.errors) >= MAX_ERRORS:
            return
        err = SessionError(message=error_message(text), files=named_files(text, self.mapper, cwd),
                           tool=tool, timestamp=ts)
        self.errors.append(err)
        self._open_errors.append(err)

    # -- result ------------------------------------------------------------------------------

    def build(self, *, lines: int, skipped: int, root: str) -> ParsedSession:
        pf = [list(d) for d in self.prompt_files]
        record = SessionRecord(
            session_id=self.session_id,
            agent=self.agent,
            agent_version=self.version,
            started_at=normalize_time(self.started_at),
            ended_at=normalize_time(self.ended_at),
            branch=self.branch,
            prompts=self.prompts,
            prompt_files=pf if any(pf) else [],
            files_read=list(self.files_read),
            files_modified=list(self.files_modified),
            commands=self.commands,
            test_runs=self.test_runs,
            errors=self.errors,
            transcript_lines=lines,
            skipped_lines=skipped,
        )
        return ParsedSession(record=record, root=root, commit_refs=list(self.commit_refs))


def normalize_time(ts: str | None) -> str | None:
    """ISO-8601 UTC with a ``Z`` (transcripts already use it; epoch numbers are converted)."""
    if ts is None:
        return None
    if isinstance(ts, (int, float)) or ts.isdigit():
        from datetime import datetime, timezone

        value = float(ts)
        if value > 1e11:  # milliseconds
            value /= 1000
        return datetime.fromtimestamp(value, timezone.utc).isoformat().replace("+00:00", "Z")
    return ts


def parse_time(ts: str | None) -> float | None:
    """Unix seconds of an ISO-8601 timestamp, or None."""
    if not ts:
        return None
    from datetime import datetime, timezone

    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


# --------------------------------------------------------------------------------------------
# The adapter interface


class AgentAdapter(ABC):
    """One agent's transcript format."""

    name: ClassVar[str]

    @abstractmethod
    def sniff(self, head: list[dict[str, Any]]) -> bool:
        """True when the first objects of a file look like this agent's transcript."""

    @abstractmethod
    def parse(self, path: Path, worktree: Path) -> ParsedSession | None:
        """Read a transcript in one streamed pass; None when it holds no session."""

    @abstractmethod
    def transcripts(self, worktrees: list[Path]) -> Iterator[Path]:
        """Transcript files this agent keeps for sessions run in these worktrees (for the sweep)."""

    def session_cwd(self, path: Path) -> str | None:
        """The working directory a transcript records, from its first records."""
        for obj in head_objects(path, 50):
            cwd = as_str(obj.get("cwd")) or as_str(as_dict(obj.get("payload")).get("cwd"))
            if cwd:
                return cwd
        return None


def inside(cwd: str | None, worktrees: list[Path]) -> bool:
    if not cwd:
        return False
    c = _norm(cwd) + "/"
    return any(c.startswith(_norm(str(w)) + "/") or c.startswith(_norm(os.path.realpath(w)) + "/")
               for w in worktrees)
