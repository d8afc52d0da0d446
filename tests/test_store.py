import os
import threading

import msgspec
from hypothesis import given, settings, strategies as st

from git_ml.layout import find_layout
from git_ml.records import CommitRecord, FileChange, SessionRecord
from git_ml.store import Store, append_lines, commits_in_effect
from git_ml.records import RewriteRecord


def _store(repo):
    layout = find_layout(repo)
    layout.create()
    return Store(layout, warn=lambda msg: None)


def _commit(h, msg="m"):
    return CommitRecord(hash=h, message=msg, files=[FileChange(path="a.py")])


def test_append_read_roundtrip_and_ids(repo):
    store = _store(repo)
    assert store.append("commits", [_commit("a" * 40), _commit("b" * 40)]) == 2
    got = store.read("commits")
    assert [c.hash for c in got] == ["a" * 40, "b" * 40]
    assert all(c.id.startswith("c") and len(c.id) == 21 for c in got)
    assert got[0].id == _commit("a" * 40).with_id().id  # id depends on identity only


def test_duplicates_are_one_record_and_later_wins(repo):
    store = _store(repo)
    store.append("sessions", [SessionRecord(session_id="s1", prompts=["first"])])
    store.append("sessions", [SessionRecord(session_id="s1", prompts=["first", "second"])])
    got = store.read("sessions")
    assert len(got) == 1 and got[0].prompts == ["first", "second"]
    assert store.path("sessions").read_text().count("\n") == 2  # nothing rewritten


def test_append_new_is_idempotent(repo):
    store = _store(repo)
    recs = [_commit(c * 40) for c in "abc"]
    assert store.append_new("commits", recs) == 3
    assert store.append_new("commits", recs) == 0
    assert store.count("commits") == 3


def test_corrupt_and_truncated_lines_are_skipped_and_kept(repo):
    warnings = []
    layout = find_layout(repo)
    layout.create()
    store = Store(layout, warn=warnings.append)
    store.append("commits", [_commit("a" * 40)])
    path = store.path("commits")
    with open(path, "ab") as fh:
        fh.write(b"{not json}\n" + b'{"hash": "trunc')  # a garbage line and a cut-short last line
    store.append("commits", [_commit("b" * 40)])
    got = store.read("commits")
    assert [c.hash for c in got] == ["a" * 40, "b" * 40]
    raw = path.read_bytes()
    assert b"{not json}" in raw and b'{"hash": "trunc' in raw  # never erased
    assert raw.endswith(b"\n") and b'"trunc{' not in raw  # the new record did not glue onto it
    assert len(warnings) == 1 and "2 unreadable" in warnings[0]


def test_concurrent_appends_keep_every_line_valid(repo):
    store = _store(repo)

    def writer(k):
        for i in range(50):
            store.append("commits", [_commit(f"{k:02d}{i:038d}", msg="x" * 5000)])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = store.path("commits").read_bytes().splitlines()
    assert len(lines) == 400
    for line in lines:
        msgspec.json.decode(line, type=CommitRecord)


def test_large_batches_are_written_in_whole_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    payload = b"".join(b'{"i": %d, "pad": "%s"}\n' % (i, b"p" * 3000) for i in range(1000))
    append_lines(path, payload)
    assert path.read_bytes() == payload


def test_rewritten_commits_count_once_under_new_hash(repo):
    store = _store(repo)
    store.append("commits", [_commit("a" * 40), _commit("b" * 40)])
    store.append("rewrites", [RewriteRecord(old="a" * 40, new="c" * 40, how="amend")])
    # Until the new commit is captured, the old one stays.
    assert {c.hash for c in commits_in_effect(store)} == {"a" * 40, "b" * 40}
    store.append("commits", [_commit("c" * 40)])
    assert [c.hash for c in commits_in_effect(store)] == ["b" * 40, "c" * 40]


@settings(max_examples=50, deadline=None)
@given(messages=st.lists(st.text(), min_size=1, max_size=5))
def test_any_message_text_roundtrips(tmp_path_factory, messages):
    repo = tmp_path_factory.mktemp("r")
    os.system(f"git init -q {repo}")
    store = _store(repo)
    recs = [_commit(f"{i:040x}", msg=m) for i, m in enumerate(messages)]
    store.append("commits", recs)
    assert [c.message for c in store.read("commits")] == messages
