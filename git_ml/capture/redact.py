"""Redaction of secrets from everything a session record keeps, before anything is written.

Two layers. Our own rules come first: known key formats (cloud, VCS, AI and SaaS providers),
private key blocks, JWTs, secret-named assignments (``password=``, ``API_TOKEN=xyz cmd``,
``"secret": "..."``, ``--token xyz``), credentials in URLs and connection strings, bearer tokens, and
high-entropy values assigned to a name. Then detect-secrets' detectors run beneath them as a net
for formats we do not list. A found secret becomes ``[REDACTED:<kind>]``; the placeholder never
matches a rule, so redaction is idempotent.

Ordinary identifiers, paths, code and git object ids in plain text survive: entropy rules apply
only to values assigned to a name or quoted, and never to bare lowercase hex of a git id's length.

Importing detect-secrets costs ~150 ms, so it happens on first use, in the detached worker, never
on a hook's synchronous path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

import msgspec

from git_ml.records import SessionRecord

PLACEHOLDER = "[REDACTED:{}]"
_PLACEHOLDER_RX = re.compile(r"\[REDACTED:[a-z0-9-]+\]")

# -- known formats: (kind, pattern); the whole match is the secret ----------------------------
_B = r"(?<![A-Za-z0-9_])"  # a key starts at a word boundary (letters after it are part of the key)
_FORMATS: list[tuple[str, str]] = [
    ("private-key", r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)"),
    ("aws-key", _B + r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}"),
    ("github-token", _B + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ("gitlab-token", _B + r"gl(?:pat|dt|ptt|rt|cbt|soat|ffct|agent|imt)-[A-Za-z0-9_-]{20,}"),
    ("anthropic-key", _B + r"sk-ant-[A-Za-z0-9_-]{20,}"),
    ("openai-key", _B + r"sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}"),
    ("slack-token", _B + r"xox[abposrec]-[A-Za-z0-9-]{10,}"),
    ("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_+-]+"),
    ("google-key", _B + r"AIza[0-9A-Za-z_-]{35}"),
    ("google-oauth", _B + r"ya29\.[0-9A-Za-z_-]{20,}"),
    ("google-client-secret", _B + r"GOCSPX-[0-9A-Za-z_-]{20,}"),
    ("stripe-key", _B + r"(?:sk|rk|pk|whsec)_(?:live|test)_[0-9A-Za-z]{16,}"),
    ("twilio-key", _B + r"SK[0-9a-f]{32}"),
    ("sendgrid-key", _B + r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    ("npm-token", _B + r"npm_[A-Za-z0-9]{36}"),
    ("pypi-token", _B + r"pypi-[A-Za-z0-9_-]{50,}"),
    ("huggingface-token", _B + r"hf_[A-Za-z0-9]{30,}"),
    ("digitalocean-token", _B + r"do[opr]_v1_[a-f0-9]{64}"),
    ("shopify-token", _B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("mailgun-key", _B + r"key-[0-9a-zA-Z]{32}"),
    ("databricks-token", _B + r"dapi[0-9a-f]{32}"),
    ("jwt", _B + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("azure-key", r"(?i)(?<=AccountKey=)[A-Za-z0-9+/=]{20,}"),
]
# A key runs to the end of its word: a match never stops inside one (the rest would be left, or
# become a new match once the placeholder gives it a boundary, and redaction would not be idempotent).
_TAIL = r"[A-Za-z0-9_-]*"
_WHOLE = {"private-key", "slack-webhook", "azure-key"}
_FORMAT_RX = [(kind, re.compile(rx if kind in _WHOLE else rx + _TAIL, re.S)) for kind, rx in _FORMATS]

# -- credentials inside URLs: scheme://user:PASSWORD@host -------------------------------------
_URL_CRED = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@'\"]*:)([^\s@/'\"]+)(@)")

# -- Authorization headers and bearer tokens ----------------------------------------------------
_BEARER = re.compile(r"(?i)\b(bearer|token|basic)(\s+)([A-Za-z0-9._~+/=-]{16,})")

# -- assignments to secret-sounding names ------------------------------------------------------
_SECRET_NAME = (r"[A-Za-z0-9_.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
                r"private[_-]?key|client[_-]?secret|auth[_-]?key|credentials?|session[_-]?key|"
                r"signing[_-]?key|encryption[_-]?key|conn(?:ection)?[_-]?str(?:ing)?)[A-Za-z0-9_.-]*")
_ASSIGN = re.compile(
    r"(?i)(?P<name>" + _SECRET_NAME + r")(?P<q1>['\"]?)(?P<sep>\s*(?::=|=|:|=>)\s*)"
    r"(?:(?P<q>['\"])(?P<qv>[^'\"\n]+)(?P=q)|(?P<v>[^\s'\",;&|(){}\[\]]+))")
_FLAG = re.compile(r"(?i)(?P<name>--?(?:passw(?:or)?d|token|secret|api-?key|auth-token|access-token|client-secret))"
                   r"(?P<sep>[ =])(?:(?P<q>['\"])(?P<qv>[^'\"\n]+)(?P=q)|(?P<v>[^\s'\"-][^\s'\"]*))")
# a connection string's Password=...; is covered by _ASSIGN (the value stops at ';')

# -- high-entropy values assigned to any name --------------------------------------------------
_ANY_ASSIGN = re.compile(r"(?P<pre>[A-Za-z_][A-Za-z0-9_.-]*['\"]?\s*(?:=|:)\s*['\"]?)(?P<v>[A-Za-z0-9+/_=.-]{20,})")
# The closing quote is only looked at, not consumed: it may open the next quoted value
# ('k1'k2'), which a second pass would otherwise find (redaction must be idempotent).
_QUOTED = re.compile(r"(['\"])([A-Za-z0-9+/_=.-]{20,})(?=\1)")
_HEXISH = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_NOT_SECRET_VALUE = re.compile(r"^(?:\$|%|\{\{|<|\[REDACTED|\*+$|x+$|X+$|\.+$|true$|false$|null$|none$|None$|"
                               r"changeme$|placeholder|your[_-]|example|dummy|redacted|\.\.\.)", re.I)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_random(value: str) -> bool:
    """A value that reads like a key, not a word, path, version or git id."""
    if _PLACEHOLDER_RX.search(value) or len(value) < 20:
        return False
    if _HEXISH.fullmatch(value):
        # bare hex: a git object id (40/64) or a digest is ordinary text; longer odd hex is not
        return len(value) not in (7, 8, 10, 12, 16, 32, 40, 64) and entropy(value) > 3.0
    if "/" in value and value.count("/") >= 2 and not value.endswith("="):
        return False  # a path
    if "." in value and value.replace(".", "").isalpha():
        return False  # a dotted name
    classes = sum(bool(re.search(rx, value)) for rx in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 3 and entropy(value) >= 4.0


_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_TYPE_WORDS = {"str", "int", "bytes", "bool", "float", "string", "number", "boolean", "any", "dict", "list",
               "object", "optional", "none", "secretstr", "secretbytes", "required"}


def _code_value(value: str, sep: str) -> bool:
    """An unquoted value that is code, not a secret: ``os.environ``, a call, or after ``:`` a type."""
    if _DOTTED.fullmatch(value):
        return True
    return ":" in sep and (value.lower() in _TYPE_WORDS or re.fullmatch(r"[A-Z][A-Za-z]*", value) is not None)


def _sub_value(kind: str, m: re.Match, group_names: tuple[str, ...]) -> str:
    """Replace the value group of an assignment-like match, keeping its name and quotes."""
    for g in group_names:
        value = m.group(g)
        if value is None:
            continue
        if _NOT_SECRET_VALUE.match(value) or _PLACEHOLDER_RX.fullmatch(value):
            return m.group(0)
        if g == "v" and (_code_value(value, m.group("sep")) or m.string[m.end(g):m.end(g) + 1] in ("(", "[")):
            return m.group(0)
        start, end = m.span(g)
        base = m.start(0)
        whole = m.group(0)
        return whole[:start - base] + PLACEHOLDER.format(kind) + whole[end - base:]
    return m.group(0)


def _bearer(m: re.Match) -> str:
    """``Bearer x`` always hides x; ``token x`` / ``basic x`` only when x reads like a key."""
    value = m.group(3)
    if _PLACEHOLDER_RX.search(value) or (m.group(1).lower() != "bearer" and not _looks_random(value)):
        return m.group(0)
    return m.group(1) + m.group(2) + PLACEHOLDER.format("token")


def _own_rules(text: str) -> str:
    for kind, rx in _FORMAT_RX:
        text = rx.sub(PLACEHOLDER.format(kind), text)
    text = _URL_CRED.sub(lambda m: m.group(1) + (m.group(2) if _PLACEHOLDER_RX.fullmatch(m.group(2))
                                                 else PLACEHOLDER.format("url-password")) + m.group(3), text)
    text = _ASSIGN.sub(lambda m: _sub_value("secret", m, ("qv", "v")), text)
    text = _FLAG.sub(lambda m: _sub_value("secret", m, ("qv", "v")), text)
    text = _BEARER.sub(_bearer, text)
    text = _ANY_ASSIGN.sub(lambda m: m.group("pre") + PLACEHOLDER.format("high-entropy")
                           if _looks_random(m.group("v")) else m.group(0), text)
    text = _QUOTED.sub(lambda m: m.group(1) + PLACEHOLDER.format("high-entropy")
                       if _looks_random(m.group(2)) else m.group(0), text)
    return text


# -- detect-secrets, beneath our rules ---------------------------------------------------------


@lru_cache(maxsize=1)
def _detectors() -> list[tuple[str, Callable[[str], object]]]:
    """detect-secrets' format detectors (no network verification, no keyword or IP detectors:
    our assignment rules cover keywords with fewer false alarms, and an IP is not a secret)."""
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:  # pragma: no cover - detect-secrets is a dependency; fail safe to our rules
        return []
    skip = {"Public IP (ipv4)", "Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String"}
    out = []
    for secret_type, cls in sorted(get_mapping_from_secret_type_to_class().items()):
        if secret_type in skip:
            continue
        try:
            plugin = cls()
        except TypeError:
            continue
        kind = re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")
        out.append((kind, plugin.analyze_string))
    return out


def _detect_secrets(text: str) -> str:
    for line in set(text.splitlines()):
        if len(line) < 8 or len(line) > 20000:
            continue
        for kind, analyze in _detectors():
            try:
                found = list(analyze(line))  # type: ignore[call-overload]
            except Exception:  # noqa: BLE001 - a detector bug must not stop the capture
                continue
            for value in found:
                if isinstance(value, str) and len(value) >= 8 and not _PLACEHOLDER_RX.search(value) \
                        and not _NOT_SECRET_VALUE.match(value):
                    # the whole word around it goes: a key glued to letters stays a key
                    placeholder = PLACEHOLDER.format(kind)
                    text = re.sub(_TAIL + re.escape(value) + _TAIL, lambda _: placeholder, text)
    return text


def redact(text: str) -> str:
    """``text`` with every secret we recognise replaced by ``[REDACTED:<kind>]``."""
    if not text:
        return text
    return _detect_secrets(_own_rules(text))


def redact_session(record: SessionRecord) -> SessionRecord:
    """The record with prompts, commands, test commands and error messages redacted."""
    return msgspec.structs.replace(
        record,
        prompts=[redact(p) for p in record.prompts],
        commands=[redact(c) for c in record.commands],
        test_runs=[msgspec.structs.replace(t, command=redact(t.command), targets=[redact(x) for x in t.targets],
                                           failed=[redact(x) for x in t.failed]) for t in record.test_runs],
        errors=[msgspec.structs.replace(e, message=redact(e.message)) for e in record.errors],
    )
