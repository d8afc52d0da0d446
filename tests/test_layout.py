import pytest

from git_ml.layout import NotARepositoryError, find_layout

from conftest import git


def test_layout_paths_and_create(repo):
    layout = find_layout(repo / ".")
    assert layout.worktree == repo.resolve()
    layout.create()
    assert layout.tracked.is_dir() and layout.domain.is_dir() and layout.episodes.is_dir()
    # the whole folder ignores itself: nothing of git-ml ever shows up as untracked or gets committed
    assert git(repo, "status", "--porcelain") == ""
    assert layout.episode_file("a/b c").name == "episode_a_b_c.json"


def test_subdirectory_and_linked_worktree_share_one_store(repo):
    (repo / "sub").mkdir()
    assert find_layout(repo / "sub").worktree == repo.resolve()
    git(repo, "worktree", "add", "-q", str(repo.parent / "wt"))
    assert find_layout(repo.parent / "wt").root == repo.resolve() / ".git-ml"


def test_not_a_repository(tmp_path):
    with pytest.raises(NotARepositoryError, match="not a git repository"):
        find_layout(tmp_path)


def test_bare_repository(tmp_path):
    git(tmp_path, "init", "-q", "--bare", "b.git")
    with pytest.raises(NotARepositoryError, match="bare"):
        find_layout(tmp_path / "b.git")


def test_write_atomic_creates_the_folder_replaces_the_file_and_leaves_no_temporary(tmp_path):
    from git_ml.layout import write_atomic

    target = tmp_path / "a" / "b.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["b.json"]
