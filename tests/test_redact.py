"""Redaction: a corpus of realistic (fake) secrets never survives; ordinary text does; idempotent.

The fake keys are assembled at run time so that no scanner mistakes this file for a leak.
"""

from __future__ import annotations

import os
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from git_ml.capture.redact import entropy, redact, redact_session
from git_ml.records import SessionError, SessionRecord
from git_ml.records import TestRun as Run  # not "Test*": pytest would collect it

ALNUM = string.ascii_letters + string.digits


def k(*parts: str) -> str:
    return "".join(parts)


AWS_ID = k("AKIA", "Q3EXAMPLE7KZ2MNB")
AWS_SECRET = k("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYzq9EXAMPLEKEY")
GITHUB = k("ghp_", "R4nd0mL00k1ngT0k3nF0rT3st1ngOnly1234")
GITHUB_PAT = k("github_pat_", "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789")
ANTHROPIC = k("sk-ant-api03-", "Zq8vN2xK5mP7rT1wY4bC6dF9gH0jL3nQ-_sV8uX2zA5eI7oU1yR4tW6")
OPENAI = k("sk-proj-", "Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc2Ef4Hi6Kl8No0Qr2Tu4Wx")
SLACK = k("xoxb-", "1234567890-0987654321-", "AbCdEfGhIjKlMnOpQrStUvWx")
SLACK_HOOK = k("https://hooks.slack.com/services/", "T00000000/B00000000/", "XXXXXXXXXXXXXXXXXXXXXXXX")
GOOGLE = k("AIza", "SyD-3xAmPlE_k3y_F0r_T3st1ng_0nly_123")
STRIPE = k("sk_", "live_", "51HqLyjWDarjtT1zdp7dcXYZabc")
STRIPE_TEST = k("rk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc")
SENDGRID = k("SG.", "ngeVfQFYQlKU0ufo8x5d1A", ".", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr")
NPM = k("npm_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8")
HF = k("hf_", "AbCdEfGhIjKlMnOpQrStUvWxYz01234567")
JWT = k("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".", "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
        ".", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM = k("-----BEGIN ", "RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq9Xl3kZf0v1n2m3b4v5c6x7z8a9s0d1f2g3h4j5k6l7\n",
        "q8w9e0r1t2y3u4i5o6p7a8s9d0f1g2h3j4k5l6z7x8c9v0b1n2m3==\n-----END ", "RSA PRIVATE KEY-----")
OPENSSH = k("-----BEGIN ", "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n")

# (text, the secret inside it)
CORPUS = [
    (f"export AWS_ACCESS_KEY_ID={AWS_ID}", AWS_ID),
    (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    (f"git remote set-url origin https://x-access-token:{GITHUB}@github.com/acme/app.git", GITHUB),
    (f"GH_TOKEN={GITHUB_PAT} gh pr create", GITHUB_PAT),
    (f'client = Anthropic(api_key="{ANTHROPIC}")', ANTHROPIC),
    (f"OPENAI_API_KEY={OPENAI} python run.py", OPENAI),
    (f"curl -H 'Authorization: Bearer {SLACK}' https://slack.com/api/chat.postMessage", SLACK),
    (f"webhook: {SLACK_HOOK}", SLACK_HOOK),
    (f"const maps = new Maps('{GOOGLE}')", GOOGLE),
    (f"stripe.api_key = '{STRIPE}'", STRIPE),
    (f"STRIPE_KEY: {STRIPE_TEST}", STRIPE_TEST),
    (f"SENDGRID={SENDGRID}", SENDGRID),
    (f"//registry.npmjs.org/:_authToken={NPM}", NPM),
    (f"huggingface-cli login --token {HF}", HF),
    (f"Cookie: session={JWT}", JWT),
    (f"cat ~/.ssh/id_rsa\n{PEM}\nok", "MIIEpAIBAAKCAQEA7bq9Xl3kZf0v1n2m3b4v5c6x7z8a9s0d1f2g3h4j5k6l7"),
    (f"{OPENSSH}b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB (truncated", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE"),
    ("DB_PASSWORD=hunter2-Correct ./manage.py migrate", "hunter2-Correct"),
    ("API_TOKEN=xyz42abc make deploy", "xyz42abc"),
    ('{"password": "correct horse battery staple"}', "correct horse battery staple"),
    ("mysql -u root --password=Sup3rS3cret! shop", "Sup3rS3cret!"),
    ("psql postgresql://app:pa55w0rd-x@db.internal:5432/shop", "pa55w0rd-x"),
    ("redis://:r3d1sS3cret@cache:6379/0", "r3d1sS3cret"),
    ("Server=tcp:sql.example.net;Database=shop;User Id=app;Password=Pl41nT3xt;Encrypt=True", "Pl41nT3xt"),
    ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + "a" * 20 + "Zx9kQ2mP7vR4tL8nW3yB6cF1hJ5gD0sA==",
     "Zx9kQ2mP7vR4tL8nW3yB6cF1hJ5gD0sA"),
    ("secret: s3cr3t-v4lue-here", "s3cr3t-v4lue-here"),
    ("client_secret='Q2xpZW50U2VjcmV0VmFsdWUxMjM0NTY3'", "Q2xpZW50U2VjcmV0VmFsdWUxMjM0NTY3"),
    ("SIGNING_KEY = \"Zx9kQ2mP7vR4tL8nW3yB6cF1hJ5gD0sA\"", "Zx9kQ2mP7vR4tL8nW3yB6cF1hJ5gD0sA"),
    ("config.seed = 'Hq7Lp2Xv9Rt4Mk8Ws3Nb6Yc1Fd5Gj0Zu'", "Hq7Lp2Xv9Rt4Mk8Ws3Nb6Yc1Fd5Gj0Zu"),
    ("docker login -u ci -p $(cat pw) && echo --token Tk9f8e7d6c5b4a3Z", "Tk9f8e7d6c5b4a3Z"),
]

SURVIVORS = [
    "git checkout 3f2a9c1e5b7d4a6c8e0f1a2b3c4d5e6f7a8b9c0d",
    "cherry-picked 9fceb02 onto main (tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904)",
    "src/git_ml/capture/agents/claude.py:123: in parse",
    "def get_user_by_id(user_id: int) -> User:\n    return db.query(User).filter_by(id=user_id).first()",
    "def login(password: str, token: Optional[str] = None) -> bool:",
    "token = os.environ['GITHUB_TOKEN']",
    "password = getpass.getpass()",
    "secret = settings.SECRET_KEY",
    "The token expires after 3600 seconds; passwords need 12 characters.",
    "python -m pytest tests/test_redact.py -q -k 'not slow'",
    "import { createHash } from 'node:crypto'; const sum = createHash('sha256')",
    "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "uuid 123e4567-e89b-12d3-a456-426614174000 at /var/lib/app/cache/index.json",
    "export PATH=/usr/local/bin:$PATH",
    "password: ${DB_PASSWORD}",
    "api_key = '<your-api-key>'",
    "https://github.com/acme/app/blob/main/README.md#install",
    "CamelCaseIdentifierForTestingPurposes and snake_case_identifier_for_testing",
]


@pytest.mark.parametrize("text, secret", CORPUS, ids=[s[:12] for _, s in CORPUS])
def test_no_secret_of_the_corpus_survives(text, secret):
    out = redact(text)
    assert secret not in out
    assert "[REDACTED:" in out


@pytest.mark.parametrize("text", SURVIVORS)
def test_ordinary_text_survives(text):
    assert redact(text) == text


def test_names_and_context_are_kept_around_a_redaction():
    assert redact("API_TOKEN=xyz42abc make deploy") == "API_TOKEN=[REDACTED:secret] make deploy"
    assert redact("psql postgresql://app:pa55w0rd-x@db/shop") == "psql postgresql://app:[REDACTED:url-password]@db/shop"
    assert redact(f"id {AWS_ID} ok") == "id [REDACTED:aws-key] ok"


def test_session_record_fields_are_redacted():
    rec = SessionRecord(
        session_id="s", prompts=[f"use key {ANTHROPIC}"], commands=[f"GH_TOKEN={GITHUB} gh api"],
        test_runs=[Run(command=f"OPENAI_API_KEY={OPENAI} pytest", runner="pytest")],
        errors=[SessionError(message=f"401 for token {SLACK}", files=["a.py"])],
        files_modified=["a.py"],
    )
    out = redact_session(rec)
    blob = repr(out)
    for secret in (ANTHROPIC, GITHUB, OPENAI, SLACK):
        assert secret not in blob
    assert out.files_modified == ["a.py"] and out.errors[0].files == ["a.py"]


def test_entropy():
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == 2.0


# -- properties -------------------------------------------------------------------------------

def _key(prefix: str, alphabet: str, n: int):
    return st.text(alphabet=alphabet, min_size=n, max_size=n).map(lambda s: prefix + s)


UPPER_DIGITS = string.ascii_uppercase + string.digits
KEYS = st.one_of(
    _key("AKIA", UPPER_DIGITS, 16),
    _key("ghp_", ALNUM, 36),
    _key("github_pat_", ALNUM + "_", 60),
    _key("sk-ant-api03-", ALNUM + "-_", 60),
    _key("sk-proj-", ALNUM + "-_", 48),
    _key("xoxb-", string.digits + "-", 10).flatmap(lambda p: _key(p + "-", ALNUM, 24)),
    _key("AIza", ALNUM + "-_", 35),
    _key("sk_live_", ALNUM, 24),
    _key("glpat-", ALNUM + "-_", 20),
    _key("npm_", ALNUM, 36),
    _key("hf_", ALNUM, 34),
)
WORDS = st.lists(st.sampled_from(["run", "the", "deploy", "key", "=", ":", "'", '"', "\n", "/", "x", "src/app.py",
                                  "export", "Bearer", "token", "with", "(", ")", ",", "--flag"]), max_size=8)
SEPARATORS = st.sampled_from([" ", "=", ":", "'", '"', "\n", "/", "(", ", ", "@", "\t"])


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "300")), deadline=None)
@given(before=WORDS, key=KEYS, sep1=SEPARATORS, sep2=SEPARATORS, after=WORDS)
def test_any_generated_key_of_a_known_format_never_survives(before, key, sep1, sep2, after):
    text = " ".join(before) + sep1 + key + sep2 + " ".join(after)
    assert key not in redact(text)


PRINTABLE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120)
FRAGMENTS = st.lists(st.one_of(PRINTABLE, KEYS, st.sampled_from(
    ["password=", "TOKEN=", "secret: ", "--token ", "https://u:", "@host", "Bearer ", "api_key = '", "'",
     "[REDACTED:secret]", "\n"])), max_size=10).map("".join)


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "300")), deadline=None)
@given(text=FRAGMENTS)
def test_redaction_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


def test_a_quote_shared_by_two_quoted_keys_hides_both_in_one_pass():
    # found by hypothesis: the second key is quoted by the first one's closing quote
    text = "'a00789=ABCDEF0123456'a0011223456789=ABCDE'"
    once = redact(text)
    assert "ABCDEF0123456" not in once and "a0011223456789" not in once
    assert redact(once) == once
