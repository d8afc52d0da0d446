import os

from git_ml.capture.git import current_branch, head_commit, log_commits

from conftest import commit_file, git


def test_head_commit_has_files_stats_and_branch(repo):
    commit_file(repo, "src/app.py", "a\nb\n", "Add app")
    rec = head_commit(repo)
    assert rec.message == "Add app"
    assert rec.branch == "main"
    assert [(f.path, f.status, f.insertions, f.deletions) for f in rec.files] == [("src/app.py", "A", 2, 0)]
    assert rec.parents and not rec.is_merge
    assert rec.hash == git(repo, "rev-parse", "HEAD").strip()


def test_renames_spaces_newlines_and_binary(repo):
    commit_file(repo, "old name.txt", "x\n" * 20, "add")
    (repo / "bin.dat").write_bytes(b"\0\1\2")
    git(repo, "add", "bin.dat")
    git(repo, "mv", "old name.txt", "new\nname.txt")
    git(repo, "commit", "-q", "-m", "rename")
    rec = head_commit(repo)
    files = {f.path: f for f in rec.files}
    assert files["new\nname.txt"].status == "R" and files["new\nname.txt"].old_path == "old name.txt"
    assert files["bin.dat"].insertions is None  # binary: no line counts


def test_log_streams_oldest_first_and_marks_merges(repo):
    commit_file(repo, "a.txt", "1", "one")
    git(repo, "checkout", "-q", "-b", "side")
    commit_file(repo, "b.txt", "2", "two")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "c.txt", "3", "three")
    git(repo, "merge", "-q", "--no-edit", "side")
    recs = list(log_commits(repo, ["HEAD"]))
    assert recs[0].message == "Initial commit"
    merges = [r for r in recs if r.is_merge]
    assert len(merges) == 1 and len(merges[0].parents) == 2
    assert len({r.id for r in recs}) == len(recs) == 5


def test_non_utf8_message_and_path(repo):
    with open(os.path.join(os.fsencode(repo), b"caf\xe9.txt"), "wb") as fh:  # not UTF-8 on disk
        fh.write(b"x")
    git(repo, "add", "-A")
    git(repo, "-c", "i18n.commitEncoding=latin1", "commit", "-q", "-m", "caf\xe9")
    rec = head_commit(repo)
    assert rec.message
    assert [f.path for f in rec.files] == ["caf\\xe9.txt"]  # escaped, stable, JSON-safe


def test_detached_head_has_no_branch(repo):
    commit_file(repo, "a.txt", "1", "one")
    git(repo, "checkout", "-q", "--detach")
    assert current_branch(repo) is None
    assert head_commit(repo).branch is None
