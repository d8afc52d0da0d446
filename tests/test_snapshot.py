"""Snapshot: the tree and blobs of one revision, never the working tree."""

from conftest import commit_file, git

from git_ml.experts.snapshot import Snapshot


def test_snapshot_reads_files_as_of_its_revision(repo):
    first = commit_file(repo, "src/a.py", "def alpha():\n    pass\n", "add a")
    commit_file(repo, "src/a.py", "def beta():\n    pass\n", "change a")
    commit_file(repo, "src/b.py", "x = 1\n", "add b")
    (repo / "src/a.py").write_text("uncommitted\n")
    with Snapshot(repo, first) as old:
        assert old.revision == first
        assert old.files() == ["README.md", "src/a.py"]
        assert old.read("src/a.py") == b"def alpha():\n    pass\n"
        assert old.read("src/b.py") is None
        assert "src/b.py" not in old
    with Snapshot(repo) as head:
        assert head.files() == ["README.md", "src/a.py", "src/b.py"]
        assert head.text("src/a.py") == "def beta():\n    pass\n"
        assert head.read("src/b.py") == b"x = 1\n"  # many reads through one cat-file process
        assert head.read("README.md") == b"# demo\n"


def test_snapshot_skips_large_and_reports_binary(repo):
    (repo / "big.txt").write_text("x" * 5000)
    (repo / "img.bin").write_bytes(b"\x89PNG\0\0data")
    git(repo, "add", "big.txt", "img.bin")
    git(repo, "commit", "-q", "-m", "blobs")
    snap = Snapshot(repo, max_blob=1000)
    assert snap.size("big.txt") == 5000
    assert snap.read("big.txt") is None
    assert snap.read("img.bin") == b"\x89PNG\0\0data"
    assert snap.text("img.bin") is None
    snap.close()
    snap.close()  # idempotent
    assert snap.read("README.md") == b"# demo\n"  # reading after close restarts git
    snap.close()


def test_snapshot_of_unknown_revision_or_git_dir(repo, tmp_path):
    assert Snapshot(repo, "no-such-rev").files() == []
    assert Snapshot(repo, "no-such-rev").revision == ""
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    snap = Snapshot(tmp_path, "HEAD", git_dir=bare)
    assert snap.files() == ["README.md"]
    assert snap.read("README.md") == b"# demo\n"
    snap.close()
