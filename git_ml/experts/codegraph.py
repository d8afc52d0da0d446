"""A static code graph of one snapshot: modules, imports, definitions, string literals, names.

Per language, each code file is reduced to a small :class:`FileFacts` record (what it imports,
what it defines and on which lines, its string literals and identifiers); the graph then resolves
imports to repository files and answers reachability questions (who imports this module,
directly or transitively, and at what distance); :class:`CallGraph` does the same at the level of
definitions (callers, containers, module-level tables holding a function). Python is read with :mod:`ast` (with a regex
scanner for files that do not parse, e.g. Python 2 code); JavaScript/TypeScript, Go, Java and
Rust are read with regular expressions, which is enough for imports and definition spans.

Facts are keyed by a content digest, so a rebuild re-parses only files whose content changed,
and the whole graph is plain data (``to_data``/``from_data``) that an expert keeps in its
``model_data``.
"""

from __future__ import annotations

import ast
import hashlib
import posixpath
import re
import warnings
from collections import deque
from collections.abc import Iterable
from typing import Any

import msgspec

LANGUAGES = {
    ".py": "python", ".pyi": "python",
    ".js": "js", ".jsx": "js", ".mjs": "js", ".cjs": "js", ".ts": "js", ".tsx": "js",
    ".go": "go", ".java": "java", ".rs": "rust",
}
JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")
MAX_STRINGS = 400  # literals kept per file (the longest messages matter most for error matching)
MAX_STRING_LEN = 300


class Definition(msgspec.Struct, array_like=True):
    """A function, method or class (or struct/trait/impl) and its 1-based inclusive line span."""

    name: str  # qualified within the file: ``Class.method``
    kind: str  # function | method | class
    start: int
    end: int
    calls: list[str] = []  # names called in its body, ``.name`` when called as an attribute
    refs: list[str] = []  # module-level names its body uses without calling them (tables, aliases)
    params: list[str] = []  # Python: its parameter names (``self``/``cls`` left out)


class FileFacts(msgspec.Struct, array_like=True):
    """What one code file contributes to the graph (kept compact: it is stored per file)."""

    digest: str
    lang: str
    imports: list[str] = []  # raw import specs; Python: ``<dots><module>|<name>,<name>``
    defs: list[Definition] = []
    strings: list[tuple[str, int]] = []  # (literal, line); f-strings with ``{}`` placeholders
    names: list[str] = []  # identifiers used or defined (sorted, unique)
    parsed: bool = True  # False when the fallback scanner read it
    aliases: list[tuple[str, str]] = []  # Python ``import a as b``/``from m import a as b``: (b, a)
    attrs: list[str] = []  # identifiers used as attributes (``x.name``), sorted, unique
    tables: list[Definition] = []  # Python module-level ``NAME = value``; ``calls`` = names in the value


def language(path: str) -> str | None:
    """The language key of a path by extension (``gomod`` for ``go.mod``), or None for non-code."""
    if path == "go.mod" or path.endswith("/go.mod"):
        return "gomod"
    return LANGUAGES.get(posixpath.splitext(path)[1])


def _digest(snapshot: Any, path: str, data: bytes | None) -> str:
    blob_id = getattr(snapshot, "blob_id", None)
    if callable(blob_id):
        bid = blob_id(path)
        if bid:
            return bid
    return hashlib.blake2b(data or b"", digest_size=10).hexdigest()


# --------------------------------------------------------------------------------------------
# Python


_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _python_statements(tree: ast.Module) -> tuple[list[str], list[Definition], list[tuple[str, str]],
                                                   list[Definition]]:
    """Imports, definitions, import aliases and module-level tables from the statement tree
    (expressions are walked only in module-level assignments; the names and literals come from
    fast regex scans of the text)."""
    imports: list[str] = []
    defs: list[Definition] = []
    aliases: list[tuple[str, str]] = []
    tables: list[Definition] = []

    def walk(stmts: list, scope: list[tuple[str, str]]) -> None:
        for node in stmts:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                aliases.extend((a.asname, a.name.rsplit(".", 1)[-1]) for a in node.names
                               if a.asname and a.asname != a.name.rsplit(".", 1)[-1])
            if isinstance(node, ast.Import):
                imports.extend(a.name + "|" for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names = ",".join(a.name for a in node.names if a.name != "*")
                imports.append("." * node.level + (node.module or "") + "|" + names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kind = "class" if isinstance(node, ast.ClassDef) else (
                    "method" if scope and scope[-1][1] == "class" else "function")
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                qual = ".".join([n for n, _ in scope] + [node.name])
                defs.append(Definition(qual, kind, start, node.end_lineno or node.lineno,
                                       params=[] if kind == "class" else _params(node.args)))
                walk(node.body, [*scope, (node.name, "class" if kind == "class" else "function")])
                continue
            if not scope and isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                tables.extend(_table(node))
            for name in _BLOCK_FIELDS:
                block = getattr(node, name, None)
                if block:
                    walk(block if name not in ("handlers", "cases") else
                         [s for h in block for s in h.body], scope)

    walk(tree.body, [])
    return imports, defs, sorted(set(aliases)), tables


def _params(args: ast.arguments) -> list[str]:
    """The parameters a caller can name (``*args``/``**kwargs`` have no name a caller uses)."""
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg not in ("self", "cls")]


def _table(node: ast.Assign | ast.AnnAssign) -> list[Definition]:
    """A module-level assignment as a definition whose ``calls`` are the names its value uses:
    ``streams = {"in": get_stdin}`` or ``INT = IntType()`` make the code using ``streams`` or
    ``INT`` reach ``get_stdin`` or ``IntType``, which no call in a function body shows."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    used = sorted({n.id for n in ast.walk(node.value) if isinstance(n, ast.Name) and len(n.id) > 2})
    if not used:
        return []
    end = node.end_lineno or node.lineno
    return [Definition(name, "variable", node.lineno, end, used) for name in names]


_PY_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+(\w+)", re.M)
_PY_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([\w, \t]+)|import[ \t]+([\w., \t]+))", re.M)
_STRING = re.compile(r'"((?:[^"\\\n]|\\.){3,300})"|\'((?:[^\'\\\n]|\\.){3,300})\'|`([^`]{3,300})`')
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _line_of(text: str) -> list[int]:
    """Offsets of line starts, for offset -> line lookups."""
    starts = [0]
    starts.extend(m.end() for m in re.finditer(r"\n", text))
    return starts


def _offset_line(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


def _indent_spans(lines: list[str], found: list[tuple[int, int, str, str]]) -> list[Definition]:
    """Spans of indentation-delimited definitions (Python fallback): a block ends before the next
    non-blank line indented at or left of its header."""
    defs = []
    stack: list[tuple[int, str, str]] = []  # (indent, qualified name, kind)
    for lineno, indent, kw, name in found:
        while stack and stack[-1][0] >= indent:
            stack.pop()
        kind = "class" if kw == "class" else ("method" if stack and stack[-1][2] == "class" else "function")
        qual = ".".join([s[1].rsplit(".", 1)[-1] for s in stack] + [name])
        end = lineno
        for j in range(lineno, len(lines)):
            line = lines[j]
            if line.strip() and not line.lstrip().startswith("#"):
                if len(line) - len(line.lstrip()) <= indent:
                    break
                end = j + 1
        defs.append(Definition(qual, kind, lineno, end))
        stack.append((indent, qual, kind))
    return defs


def _python_fallback(text: str) -> tuple[list[str], list[Definition]]:
    imports = []
    for m in _PY_IMPORT.finditer(text):
        if m.group(3):
            imports += [p.strip().split()[0] + "|" for p in m.group(3).split(",") if p.strip()]
        else:
            names = [n.strip().split()[0] for n in m.group(2).split(",") if n.strip()]
            imports.append(m.group(1) + "|" + ",".join(names))
    starts = _line_of(text)
    found = [(_offset_line(starts, m.start()), len(m.group(1).expandtabs()), m.group(2), m.group(3))
             for m in _PY_DEF.finditer(text)]
    return imports, _indent_spans(text.splitlines(), found)


def _parse_python(text: str) -> FileFacts:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old code are not our business
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        imports, defs = _python_fallback(text)
        return FileFacts("", "python", imports, defs, _scan_strings(text), _scan_names(text), parsed=False)
    imports, defs, aliases, tables = _python_statements(tree)
    return FileFacts("", "python", imports, defs, _scan_strings(text), _scan_names(text), aliases=aliases,
                     tables=tables)


# --------------------------------------------------------------------------------------------
# Brace languages (JS/TS, Go, Java, Rust): regex imports and definitions, brace-matched spans

_JS_IMPORT = re.compile(
    r"""(?:^|[;\s])(?:import\s+(?:[\w*{}\s,$]+\s+from\s+)?|export\s+[\w*{}\s,$]+\s+from\s+|require\s*\(\s*|import\s*\(\s*)['"]([^'"\n]+)['"]""",
    re.M)
_JS_DEF = re.compile(
    r"^[ \t]*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?\s*(\w+)|class\s+(\w+)"
    r"|(?:const|let|var)\s+(\w+)\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|\w+\s*=>)"
    r"|(?:static\s+|async\s+|get\s+|set\s+|public\s+|private\s+|protected\s+)*(\w+)\s*\([^)]*\)\s*(?::\s*[^{]+)?\{)",
    re.M)
_GO_IMPORT_BLOCK = re.compile(r"^import\s*\(([^)]*)\)", re.M)
_GO_IMPORT_ONE = re.compile(r'^import\s+(?:\w+\s+)?"([^"]+)"', re.M)
_GO_DEF = re.compile(r"^func\s+(?:\(\s*\w*\s*\*?(\w+)[^)]*\)\s*)?(\w+)|^type\s+(\w+)\s+(?:struct|interface)", re.M)
_JAVA_IMPORT = re.compile(r"^import\s+(?:static\s+)?([\w.]+(?:\.\*)?)\s*;", re.M)
_JAVA_PACKAGE = re.compile(r"^package\s+([\w.]+)\s*;", re.M)
_JAVA_DEF = re.compile(
    r"^[ \t]*(?:(?:public|protected|private|static|final|abstract|sealed|synchronized|native|default)\s+)*"
    r"(?:(class|interface|enum|record)\s+(\w+)|[\w<>\[\],.? ]+?\s+(\w+)\s*\([^;{]*\)\s*(?:throws\s+[\w., ]+)?\{)",
    re.M)
_RUST_MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", re.M)
_RUST_USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([\w:]+)", re.M)
_RUST_DEF = re.compile(
    r"^[ \t]*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+|const\s+|unsafe\s+|extern\s+\"C\"\s+)*"
    r"(?:fn\s+(\w+)|(struct|enum|trait)\s+(\w+)|impl(?:<[^>]*>)?\s+(?:[\w:<>]+\s+for\s+)?(\w+))",
    re.M)
_KEYWORDS = frozenset("if for while switch catch return function else do try with new typeof await "
                      "elif and not print super isinstance len str int list dict set tuple".split())


def _brace_end(text: str, start: int, starts: list[int]) -> int:
    """The line of the brace closing the first ``{`` at or after ``start`` (strings skipped
    roughly); the header line when there is no block (a declaration)."""
    i = text.find("{", start)
    semi = text.find(";", start)
    if i < 0 or (0 <= semi < i and "\n" in text[start:semi]):
        return _offset_line(starts, start)
    depth = 0
    n = len(text)
    quote = ""
    while i < n:
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote or (c == "\n" and quote != "`"):
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return _offset_line(starts, i)
        i += 1
    return _offset_line(starts, n - 1)


def _nest(defs: list[Definition]) -> list[Definition]:
    """Qualify names by the class-like definitions that contain them; functions inside a class
    become methods."""
    out = []
    stack: list[Definition] = []
    for d in sorted(defs, key=lambda d: (d.start, -d.end)):
        while stack and not (stack[-1].start <= d.start and d.end <= stack[-1].end):
            stack.pop()
        outer = [s for s in stack if s.kind == "class"]
        if outer:
            d = Definition(outer[-1].name + "." + d.name, "method" if d.kind == "function" else d.kind,
                           d.start, d.end)
        out.append(d)
        stack.append(d)
    return out


def _parse_brace(text: str, lang: str) -> FileFacts:
    starts = _line_of(text)
    imports: list[str] = []
    defs: list[Definition] = []
    if lang == "js":
        imports = [m.group(1) for m in _JS_IMPORT.finditer(text)]
        for m in _JS_DEF.finditer(text):
            fn, cls, var, meth = m.group(1), m.group(2), m.group(3), m.group(4)
            name = fn or cls or var or meth
            if not name or name in _KEYWORDS:
                continue
            kind = "class" if cls else "function"
            defs.append(Definition(name, kind, _offset_line(starts, m.start(m.lastindex or 0)),
                                   _brace_end(text, m.start(m.lastindex or 0), starts)))
    elif lang == "go":
        for m in _GO_IMPORT_BLOCK.finditer(text):
            imports += re.findall(r'"([^"]+)"', m.group(1))
        imports += [m.group(1) for m in _GO_IMPORT_ONE.finditer(text)]
        for m in _GO_DEF.finditer(text):
            recv, fn, typ = m.group(1), m.group(2), m.group(3)
            start = _offset_line(starts, m.start())
            if typ:
                defs.append(Definition(typ, "class", start, _brace_end(text, m.start(), starts)))
            else:
                defs.append(Definition(f"{recv}.{fn}" if recv else fn, "method" if recv else "function",
                                       start, _brace_end(text, m.start(), starts)))
    elif lang == "java":
        pkg = _JAVA_PACKAGE.search(text)
        if pkg:
            imports.append("package:" + pkg.group(1))
        imports += [m.group(1) for m in _JAVA_IMPORT.finditer(text)]
        for m in _JAVA_DEF.finditer(text):
            kw, cls, meth = m.group(1), m.group(2), m.group(3)
            name = cls or meth
            if not name or name in _KEYWORDS:
                continue
            pos = m.start(2) if cls else m.start(3)
            defs.append(Definition(name, "class" if kw else "function", _offset_line(starts, pos),
                                   _brace_end(text, pos, starts)))
        defs = _nest(defs)
    elif lang == "rust":
        imports = ["mod:" + m.group(1) for m in _RUST_MOD.finditer(text)]
        imports += [m.group(1) for m in _RUST_USE.finditer(text)]
        for m in _RUST_DEF.finditer(text):
            fn, kw, typ, impl = m.group(1), m.group(2), m.group(3), m.group(4)
            name = fn or typ or impl
            pos = m.start()
            kind = "function" if fn else "class"
            defs.append(Definition(name, kind, _offset_line(starts, pos), _brace_end(text, pos, starts)))
        defs = _nest(defs)
    if lang == "js":
        defs = _nest(defs)
    return FileFacts("", lang, imports, defs, _scan_strings(text), _scan_names(text))


def _scan_strings(text: str) -> list[tuple[str, int]]:
    starts = _line_of(text)
    found = []
    for m in _STRING.finditer(text):
        s = m.group(1) or m.group(2) or m.group(3) or ""
        if s.strip():
            found.append((s, _offset_line(starts, m.start())))
    return _keep_strings(found)


def _keep_strings(found: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Drop docstring-length prose and duplicates; keep the longest literals when there are many."""
    seen: dict[str, int] = {}
    for s, line in found:
        if "\n" in s.strip() or len(s) > MAX_STRING_LEN:
            continue  # docstrings and long templates are not error messages
        seen.setdefault(s, line)
    items = list(seen.items())
    if len(items) > MAX_STRINGS:
        items = sorted(items, key=lambda x: -len(x[0]))[:MAX_STRINGS]
        items.sort(key=lambda x: x[1])
    return items


def _scan_names(text: str) -> list[str]:
    return sorted(set(_IDENT.findall(text)))


def parse_file(path: str, data: bytes) -> FileFacts | None:
    """Facts of one code file, or None when it is not code (by extension) or not text."""
    lang = language(path)
    if lang is None or b"\0" in data[:8000]:
        return None
    text = data.decode("utf-8", errors="replace")
    if lang == "gomod":  # only the module path matters: it roots the repository's Go imports
        m = re.search(r"^module\s+(\S+)", text, re.M)
        return FileFacts("", lang, [f"module:{m.group(1)}@{posixpath.dirname(path)}"] if m else [])
    facts = _parse_python(text) if lang == "python" else _parse_brace(text, lang)
    code = _TRIPLE.sub(lambda m: "\n" * m.group(0).count("\n"), text) if lang == "python" else text
    _add_calls(facts.defs, code.splitlines(), _module_level_names(facts))
    facts.attrs = sorted(set(_ATTR.findall(text)))
    return facts


_ATTR = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*)")
# Python docstrings and other triple-quoted text: their examples (``@click.group()``) are no calls
_TRIPLE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'')


_CALLED = re.compile(r"(\.\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _module_level_names(facts: FileFacts) -> set[str]:
    """Names a function body may use as module-level values: this file's tables and the names
    it imports with ``from m import name``."""
    names = {t.name for t in facts.tables}
    for spec in facts.imports:
        names.update(filter(None, spec.partition("|")[2].split(",")))
    names.update(b for b, _ in facts.aliases)
    return names


def _add_calls(defs: list[Definition], lines: list[str], module_names: set[str] = frozenset()) -> None:
    """Each function's called names, read from its span's text: ``foo`` for ``foo(`` and ``.foo``
    for ``obj.foo(`` (a method, or a function reached through its module); the call graph at
    name level, enough to go from a changed helper to the functions using it. ``refs`` are the
    ``module_names`` the body uses otherwise (``streams.get(name)``, ``type=INT``)."""
    for d in defs:
        if d.kind != "class":
            body = "\n".join(lines[d.start:d.end])  # after the header line: not its own name
            d.calls = sorted({("." if dot else "") + n for dot, n in _CALLED.findall(body)
                              if n not in _KEYWORDS and len(n) > 2})
            if module_names:
                called = set(d.calls)
                d.refs = sorted({n for n in _BARE.findall(body) if n in module_names and n not in called})


_BARE = re.compile(r"(?<![.\w])([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")


def called_name(call: str) -> str:
    """The name of a :attr:`Definition.calls` entry, without its attribute marker."""
    return call.lstrip(".")


# --------------------------------------------------------------------------------------------
# The graph


class CodeGraph:
    """Facts per code file plus the resolved import graph of one snapshot.

    Build with :meth:`build` (or :meth:`refresh` for an incremental rebuild); ask
    :meth:`dependents` (reverse transitive closure with distances), :meth:`enclosing` (the
    definition around a line), :meth:`module_of`, :attr:`imports` and :attr:`importers`.
    """

    def __init__(self, facts: dict[str, FileFacts] | None = None):
        self.facts: dict[str, FileFacts] = dict(sorted((facts or {}).items()))
        self.imports: dict[str, list[str]] = {}
        self.importers: dict[str, list[str]] = {}
        self.modules: dict[str, str] = {}
        self._link()

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def build(cls, snapshot: Any, previous: "CodeGraph | None" = None) -> "CodeGraph":
        """The graph of ``snapshot``; files whose digest matches ``previous`` are not re-parsed."""
        return (previous or cls()).refresh(snapshot)

    def refresh(self, snapshot: Any, paths: Iterable[str] | None = None) -> "CodeGraph":
        """A new graph for ``snapshot``, re-reading only ``paths`` (when given) or every file whose
        digest changed. Files gone from the snapshot are dropped."""
        present = [p for p in snapshot.files() if language(p)]
        check = set(present) if paths is None else {p for p in paths if language(p)} | (
            set(present) - set(self.facts))
        facts = {p: f for p, f in self.facts.items() if p in set(present)}
        use_blob = callable(getattr(snapshot, "blob_id", None))
        for p in sorted(check & set(present)):
            old = self.facts.get(p)
            if use_blob and old is not None and snapshot.blob_id(p) == old.digest:
                continue
            data = snapshot.read(p)
            if data is None:
                facts.pop(p, None)
                continue
            digest = _digest(snapshot, p, data)
            if old is not None and old.digest == digest:
                continue
            parsed = parse_file(p, data)
            if parsed is None:
                facts.pop(p, None)
                continue
            parsed.digest = digest
            facts[p] = parsed
        return type(self)(facts)

    # -- persistence -------------------------------------------------------------------------

    def to_data(self, keep: Iterable[str] = ("imports", "defs", "strings", "names")) -> dict[str, Any]:
        """JSON-ready facts; fields not in ``keep`` are emptied (an expert stores what it uses)."""
        keep = set(keep)
        out = {}
        for p, f in self.facts.items():
            out[p] = msgspec.to_builtins(FileFacts(
                f.digest, f.lang, f.imports if "imports" in keep else [], f.defs if "defs" in keep else [],
                f.strings if "strings" in keep else [], f.names if "names" in keep else [], f.parsed,
                f.aliases if "imports" in keep else [], f.attrs if "names" in keep else [],
                f.tables if "defs" in keep else []))
        return out

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "CodeGraph":
        return cls({p: msgspec.convert(v, FileFacts) for p, v in data.items()})

    # -- resolution --------------------------------------------------------------------------

    def _link(self) -> None:
        paths = set(self.facts)
        py = [p for p in paths if self.facts[p].lang == "python"]
        self.modules = {}
        suffix: dict[str, str] = {}
        for p in sorted(py, key=lambda p: (p.count("/"), p)):
            mod = python_module(p, paths)
            self.modules.setdefault(mod, p)
            parts = _module_parts(p)
            for i in range(len(parts)):
                suffix.setdefault(".".join(parts[i:]), p)
        self.path_module = {p: m for m, p in self.modules.items()}
        go_mods = self._go_modules()
        dirs: dict[str, list[str]] = {}
        for p in paths:
            dirs.setdefault(posixpath.dirname(p), []).append(p)
        imports: dict[str, list[str]] = {}
        for p in sorted(paths):
            f = self.facts[p]
            if f.lang == "python":
                found = self._resolve_python(p, f.imports, suffix)
                found |= _conftests(p, paths)
            elif f.lang == "js":
                found = {t for spec in f.imports if (t := _resolve_js(p, spec, paths))}
            elif f.lang == "go":
                found = _resolve_go(p, f.imports, go_mods, dirs)
            elif f.lang == "java":
                found = _resolve_java(f.imports, paths, dirs)
            elif f.lang == "gomod":
                found = set()
            else:
                found = _resolve_rust(p, f.imports, paths)
            found.discard(p)
            imports[p] = sorted(found)
        self.imports = imports
        importers: dict[str, list[str]] = {}
        for p, targets in imports.items():
            for t in targets:
                importers.setdefault(t, []).append(p)
        self.importers = importers

    def _go_modules(self) -> list[tuple[str, str]]:
        """(module path, directory) of the go.mod files, read from the facts' recorded imports
        (go.mod itself is not code, so Go files carry their module through ``module:`` specs)."""
        mods = set()
        for f in self.facts.values():
            for spec in f.imports:
                if spec.startswith("module:"):
                    name, _, d = spec[7:].partition("@")
                    mods.add((name, d))
        return sorted(mods, key=lambda m: -len(m[0]))

    def _resolve_python(self, path: str, specs: list[str], suffix: dict[str, str]) -> set[str]:
        found: set[str] = set()
        mod = self.path_module.get(path) or python_module(path, set(self.facts))
        package = mod if path.endswith("__init__.py") else mod.rpartition(".")[0]
        for spec in specs:
            target, _, names = spec.partition("|")
            level = len(target) - len(target.lstrip("."))
            target = target[level:]
            if level:
                base = package.split(".") if package else []
                if level > 1:
                    base = base[: len(base) - (level - 1)] if len(base) >= level - 1 else []
                target = ".".join([*base, target] if target else base)
            for name in filter(None, names.split(",")):
                sub = self._module_file(f"{target}.{name}" if target else name, suffix, exact=bool(level))
                if sub:
                    found.add(sub)
            if target:  # the package itself runs too (and is the target when names are attributes)
                parts = target.split(".")
                for i in range(len(parts), 0, -1):
                    f = self._module_file(".".join(parts[:i]), suffix, exact=bool(level))
                    if f:
                        found.add(f)
                        break
        return found

    def _module_file(self, module: str, suffix: dict[str, str], exact: bool) -> str | None:
        # A dotted name may also match a path suffix (namespace packages, sys.path tweaks); a
        # bare name never does, or ``import types`` would resolve to some ``pkg/types.py``.
        if module in self.modules:
            return self.modules[module]
        return None if exact or "." not in module else suffix.get(module)

    # -- queries -----------------------------------------------------------------------------

    def module_of(self, path: str) -> str | None:
        return self.path_module.get(path)

    def dependents(self, paths: Iterable[str], max_depth: int = 8) -> dict[str, int]:
        """Files that import any of ``paths``, directly (distance 1) or transitively."""
        return _bfs(paths, self.importers, max_depth)

    def dependencies(self, paths: Iterable[str], max_depth: int = 8) -> dict[str, int]:
        """Files that ``paths`` import, directly (distance 1) or transitively."""
        return _bfs(paths, self.imports, max_depth)

    def enclosing(self, path: str, line: int) -> Definition | None:
        """The innermost function, method or class whose span holds ``line``."""
        best = None
        for d in self.facts[path].defs if path in self.facts else ():
            if d.start <= line <= d.end and (best is None or d.end - d.start <= best.end - best.start):
                best = d
        return best

    def defined_names(self) -> dict[str, list[str]]:
        """Short definition name -> files defining it."""
        out: dict[str, list[str]] = {}
        for p, f in self.facts.items():
            for d in f.defs:
                out.setdefault(d.name.rsplit(".", 1)[-1], []).append(p)
        return out


def _bfs(seeds: Iterable[str], edges: dict[str, list[str]], max_depth: int) -> dict[str, int]:
    seeds = list(seeds)
    dist = {s: 0 for s in seeds}
    queue = deque(seeds)
    while queue:
        cur = queue.popleft()
        if dist[cur] >= max_depth:
            continue
        for nxt in edges.get(cur, ()):
            if nxt not in dist:
                dist[nxt] = dist[cur] + 1
                queue.append(nxt)
    for s in seeds:
        dist.pop(s, None)
    return dist


def _module_parts(path: str) -> list[str]:
    parts = posixpath.splitext(path)[0].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return parts


def python_module(path: str, paths: set[str]) -> str:
    """The dotted module name of ``path``: its package chain (directories with ``__init__.py``)
    above the file, so ``src/pkg/mod.py`` is ``pkg.mod`` and ``tests/test_x.py`` (no package) is
    ``test_x``."""
    parts = _module_parts(path)
    dirs = path.split("/")[:-1]
    i = len(dirs)
    while i > 0 and "/".join(dirs[:i]) + "/__init__.py" in paths:
        i -= 1
    return ".".join(parts[i:]) or parts[-1]


def _conftests(path: str, paths: set[str]) -> set[str]:
    """pytest loads every ``conftest.py`` above a test module: treat them as its imports."""
    out: set[str] = set()
    name = posixpath.basename(path)
    if not (name.startswith("test") or name.endswith("_test.py")):
        return out
    d = posixpath.dirname(path)
    while True:
        c = posixpath.join(d, "conftest.py") if d else "conftest.py"
        if c in paths and c != path:
            out.add(c)
        if not d:
            return out
        d = posixpath.dirname(d)


def _resolve_js(path: str, spec: str, paths: set[str]) -> str | None:
    if not spec.startswith("."):
        return None  # packages from node_modules (monorepo aliases are not resolved)
    base = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
    stem = base[:-3] if base.endswith((".js", ".ts")) else base
    for cand in (base, *(stem + e for e in JS_EXTS), *(base + "/index" + e for e in JS_EXTS)):
        if cand in paths:
            return cand
    return None


def _resolve_go(path: str, specs: list[str], go_mods: list[tuple[str, str]],
                dirs: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    here = posixpath.dirname(path)
    if path.endswith("_test.go"):  # a test file sees its whole package
        found |= {p for p in dirs.get(here, ()) if p.endswith(".go") and not p.endswith("_test.go")}
    for spec in specs:
        if spec.startswith("module:"):
            continue
        for name, d in go_mods:
            if spec == name or spec.startswith(name + "/"):
                target = posixpath.normpath(posixpath.join(d, spec[len(name) + 1:])) if spec != name else d
                target = "" if target == "." else target
                found |= {p for p in dirs.get(target, ()) if p.endswith(".go") and not p.endswith("_test.go")}
                break
    return found


def _resolve_java(specs: list[str], paths: set[str], dirs: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    for spec in specs:
        if spec.startswith("package:"):
            continue
        rel = spec.replace(".", "/")
        if rel.endswith("/*"):
            tail = rel[:-2]
            for d, files in dirs.items():
                if d == tail or d.endswith("/" + tail):
                    found |= {p for p in files if p.endswith(".java")}
            continue
        parts = rel.split("/")
        for i in range(len(parts), 1, -1):  # static imports and nested classes: trim members
            want = "/".join(parts[:i]) + ".java"
            hits = [p for p in paths if p == want or p.endswith("/" + want)]
            if hits:
                found.add(min(hits, key=len))
                break
    return found


def _rust_root(path: str) -> str:
    d = posixpath.dirname(path)
    parts = d.split("/") if d else []
    for i in range(len(parts), 0, -1):
        if parts[i - 1] == "src":
            return "/".join(parts[:i])
    return d


def _resolve_rust(path: str, specs: list[str], paths: set[str]) -> set[str]:
    found: set[str] = set()
    name = posixpath.basename(path)
    here = posixpath.dirname(path)
    mod_dir = here if name in ("lib.rs", "main.rs", "mod.rs") else posixpath.join(here, name[:-3])
    for spec in specs:
        if spec.startswith("mod:"):
            m = spec[4:]
            for cand in (posixpath.join(mod_dir, m + ".rs"), posixpath.join(mod_dir, m, "mod.rs")):
                if cand in paths:
                    found.add(cand)
            continue
        parts = spec.split("::")
        if parts[0] == "crate":
            base, rest = _rust_root(path), parts[1:]
        elif parts[0] == "super":
            base, rest = posixpath.dirname(mod_dir), parts[1:]
        elif parts[0] == "self":
            base, rest = mod_dir, parts[1:]
        else:
            continue
        for i in range(len(rest), 0, -1):
            stem = posixpath.join(base, *rest[:i]) if base else "/".join(rest[:i])
            hit = next((c for c in (stem + ".rs", stem + "/mod.rs") if c in paths), None)
            if hit:
                found.add(hit)
                break
    return found


# --------------------------------------------------------------------------------------------
# Definition-level call graph

HOP_DECAY = 0.5  # weight kept per call hop away from a changed definition
MAX_OWNERS = 8  # a called name defined in more places than this is too ambiguous to follow
MAX_CALLERS = 30  # a definition called from more places than this says nothing about who is hit


def is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def module_name(path: str) -> str:
    """The name a module goes by as an attribute: ``pkg/utils.py`` -> ``utils``, ``pkg/__init__.py``
    -> ``pkg``."""
    return _module_parts(path)[-1]


class CallGraph:
    """Who reaches a definition: its callers (resolved by name), the function it is nested in,
    and, for a method, its class (whose users run it). Nodes are ``path::qualified.name``.

    Built from a :class:`CodeGraph`'s facts for the files ``include`` admits (e.g. non-test code);
    :meth:`reach` walks it backwards from changed definitions with a weight that halves per call
    hop, which is what a change to a private helper means for the public code above it.
    """

    def __init__(self, graph: CodeGraph, include: Any = None):
        self.kind: dict[str, str] = {}
        self.by_name: dict[str, list[str]] = {}
        self.up: dict[str, dict[str, float]] = {}  # node -> {node reaching it: weight kept}
        self.down: dict[str, dict[str, float]] = {}  # node -> {callee: share among same-named}
        files = [(p, f) for p, f in graph.facts.items() if include is None or include(p)]
        defs = [(p, d) for p, f in files for d in f.defs]
        tables = [(p, t) for p, f in files if f.tables
                  for defined in [{d.name for d in f.defs}] for t in f.tables if t.name not in defined]
        aliases = {p: dict(f.aliases) for p, f in graph.facts.items() if f.aliases}
        self.span: dict[str, tuple[int, int]] = {}
        for p, d in [*defs, *tables]:
            node = f"{p}::{d.name}"
            self.kind[node] = d.kind
            self.span[node] = (d.start, d.end)
        for node in self.kind:
            self.by_name.setdefault(node.rsplit("::", 1)[1].rsplit(".", 1)[-1], []).append(node)
        for p, d in defs:
            node = f"{p}::{d.name}"
            if "." in d.name:  # nested function or method: its container reaches it
                outer = f"{p}::{d.name.rsplit('.', 1)[0]}"
                if outer in self.kind:
                    self._edge(node, outer, 1.0)
            for call in d.calls:
                self._link(node, aliases.get(p, {}).get(called_name(call), called_name(call)),
                           bare=call[0] != ".", weight=HOP_DECAY)
            for ref in d.refs:  # a table it reads: what the table holds runs, one call away
                self._link(node, aliases.get(p, {}).get(ref, ref), bare=True, weight=HOP_DECAY, kinds=("variable",),
                           down=False)
        for p, t in tables:  # a table holds what its value names: no call hop of its own
            for name in t.calls:
                self._link(f"{p}::{t.name}", aliases.get(p, {}).get(name, name), bare=True, weight=1.0,
                           kinds=("function", "class", "variable"), down=False)

    def _link(self, node: str, name: str, bare: bool, weight: float, kinds: tuple[str, ...] = (),
              down: bool = True) -> None:
        """Edges from ``node`` to the definitions ``name`` may denote (all of them, when few);
        ``down`` records them as calls for :meth:`callees` too."""
        owners = [o for o in self.by_name.get(name, ()) if self._visible(o, node, bare=bare)
                  and (not kinds or self.kind[o] in kinds)]
        if bare and any(self.is_local(o) for o in owners):  # a local name shadows
            owners = [o for o in owners if self.is_local(o)]
        if len(owners) <= MAX_OWNERS:
            for target in owners:
                if target != node:
                    self._edge(target, node, weight)
                    if down:
                        self.down.setdefault(node, {})[target] = 1.0 / len(owners)

    def is_local(self, node: str) -> bool:
        """A function nested in another function: only its container can call it by name."""
        qual = node.rsplit("::", 1)[1]
        return "." in qual and self.kind[node] == "function"

    def _visible(self, target: str, caller: str, bare: bool) -> bool:
        """Whether a call in ``caller`` may name ``target``: a bare call names a function or a
        class (not a method); a nested function is seen only from inside its container."""
        if bare and self.kind[target] == "method":
            return False
        if self.is_local(target):
            return caller.startswith(target.rsplit(".", 1)[0] + ".") or caller == target.rsplit(".", 1)[0]
        return True

    def _edge(self, target: str, source: str, weight: float) -> None:
        row = self.up.setdefault(target, {})
        row[source] = max(row.get(source, 0.0), weight)

    def nodes_in(self, path: str, ranges: Iterable[tuple[int, int]], graph: CodeGraph) -> list[str]:
        """The innermost definitions of ``path`` whose spans overlap the line ``ranges``."""
        f = graph.facts.get(path)
        out = []
        for a, b in ranges:
            hit = [d for d in ([*f.defs, *f.tables] if f else ()) if a <= d.end and d.start <= b
                   and f"{path}::{d.name}" in self.kind]
            inner = [d for d in hit if not any(o is not d and d.start <= o.start and o.end <= d.end for o in hit)]
            out += [f"{path}::{d.name}" for d in inner]
        return list(dict.fromkeys(out))

    def reach(self, seeds: dict[str, float], hops: int = 4) -> dict[str, float]:
        """{node: weight} of the seeds and every node reaching them within ``hops`` call hops
        (containment is free), the best weight per node. A node with very many callers is kept
        but not expanded: everything reaches it, so its callers say nothing."""
        best = dict(seeds)
        frontier = dict(seeds)
        for _ in range(hops * 2):  # containment steps do not count as hops but still take rounds
            nxt: dict[str, float] = {}
            for node, w in frontier.items():
                ups = self.up.get(node, {})
                if sum(1 for v in ups.values() if v < 1.0) > MAX_CALLERS:
                    continue
                for src, keep in ups.items():
                    v = w * keep
                    if v >= HOP_DECAY ** hops - 1e-12 and v > best.get(src, 0.0):
                        best[src] = nxt[src] = v
            if not nxt:
                break
            frontier = nxt
        return best

    def callees(self, node: str, hops: int = 2) -> dict[str, float]:
        """{definition: weight} that ``node`` calls, directly (its share among same-named
        definitions) or through ``hops - 1`` more calls (halving per further hop)."""
        best: dict[str, float] = {}
        frontier = {node: 1.0}
        for hop in range(hops):
            nxt: dict[str, float] = {}
            for src, w in frontier.items():
                for dst, share in self.down.get(src, {}).items():
                    v = w * share * (HOP_DECAY if hop else 1.0)
                    if dst != node and v > best.get(dst, 0.0):
                        best[dst] = nxt[dst] = v
            frontier = nxt
        return best
