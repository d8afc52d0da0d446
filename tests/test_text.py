"""Tokenizer, stemmer, BM25 and FTS5 helpers."""

import sqlite3

from git_ml.experts.text import (
    BM25, decode_text, fts5_available, is_binary, match_expression, path_tokens, split_identifier,
    stem, tokens,
)


def test_split_identifier_splits_acronyms_and_digits_apart():
    assert split_identifier("getHTTPResponse_v2") == ["get", "http", "response", "v", "2"]
    assert split_identifier("snake_case_name") == ["snake", "case", "name"]
    assert split_identifier("URLParser") == ["url", "parser"]


def test_stem_folds_plurals_and_verb_endings_but_keeps_short_words():
    assert stem("redirects") == "redirect"
    assert stem("redirected") == "redirect"
    assert stem("redirecting") == "redirect"
    assert stem("dependencies") == "dependency"
    assert stem("status") == "status"
    assert stem("class") == "class"
    assert stem("is") == "is"


def test_tokens_split_words_keep_acronyms_and_drop_stop_words():
    assert tokens("Fix the parseHeaders bug in the client") == ["parse", "headers", "bug", "client"]
    assert tokens("HTTPAdapter urllib3 get_adapter x") == ["httpadapter", "urllib3", "get", "adapter"]
    assert tokens("parseHeaders get_adapter", compounds=True) == ["parseheaders", "parse", "headers",
                                                                  "getadapter", "get", "adapter"]
    assert tokens("parseHeaders", stemming=True) == ["parse", "header"]


def test_path_tokens_split_directories_and_extension():
    assert path_tokens("src/httpClient.py") == ["src", "http", "client", "py"]


def test_binary_detection_and_decoding():
    assert is_binary(b"ab\0cd")
    assert decode_text(b"ab\0cd") is None
    assert decode_text("é".encode() + b"\xff") == "é\ufffd"


def test_bm25_ranks_the_document_sharing_rare_terms_first():
    bm = BM25([["session", "cookie"], ["adapter", "retry", "retry"], ["cookie", "jar", "session"]])
    scores = bm.score(["retry"])
    assert max(scores, key=scores.get) == 1
    assert set(bm.score(["nothing"])) == set()


def test_match_expression_quotes_tokens_and_works_in_fts5():
    assert match_expression([]) == ""
    expr = match_expression(["or", "cookie", "cookie"])
    assert expr == '"or" OR "cookie"'
    assert fts5_available()
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE t USING fts5(p, body)")
    con.execute("INSERT INTO t VALUES ('a', 'cookie jar'), ('b', 'retry')")
    rows = con.execute("SELECT p FROM t WHERE t MATCH ?", (match_expression(["cookie"], column="body"),)).fetchall()
    assert rows == [("a",)]


_SCORES = """
import sys
from collections import Counter
from git_ml.evaluation.anchors import BM25 as AnchorBM25
from git_ml.experts.text import BM25
words = [f"w{i}" for i in range(40)]
docs = [[words[(i * 7 + j * 3) % 40] for j in range(1 + i % 9)] for i in range(60)]
query = words[::2] + words[1::3]
print(sorted(BM25(docs).score(query).items()))
print(sorted(AnchorBM25([Counter(d) for d in docs]).score(query).items()))
"""


def test_bm25_scores_are_the_same_in_every_process():
    """A query's words are summed in its own order, not in set order (which follows the hash
    seed): the same model must rank near-ties the same way in every `git ml predict`."""
    import os
    import subprocess
    import sys

    outs = {subprocess.run([sys.executable, "-c", _SCORES], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(6)}
    assert len(outs) == 1
