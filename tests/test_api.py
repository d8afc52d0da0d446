"""The library API's own decisions (the commands it backs are tested through the CLI elsewhere)."""

from git_ml import api

from conftest import commit_file, git


def test_init_trains_then_a_second_init_only_adds_what_is_new(repo):
    commit_file(repo, "src/auth.py", "def login(user, password):\n    return True\n", "Add login with password")
    first = api.init(repo, hooks=False)
    assert first.backfilled == 2 and "file" in first.trained
    again = api.init(repo, hooks=False)
    assert again.backfilled == 0 and again.trained == [] and "experts are up to date" in again.notes
    commit_file(repo, "src/billing.py", "def invoice():\n    pass\n", "Add invoice billing")
    third = api.init(repo, hooks=False)
    assert third.backfilled == 1 and "file" in third.trained


def test_init_tips_the_test_map_to_a_project_with_pytest_tests_until_it_has_one(repo):
    def tipped() -> bool:
        return any("pytest --git-ml-record" in n for n in api.init(repo, hooks=False).notes)

    assert not tipped()  # no tests
    commit_file(repo, "tests/test_auth.py", "def test_login():\n    pass\n", "Add a login test")
    assert tipped()
    layout, _ = api.open_store(repo)
    layout.test_map_file.parent.mkdir(parents=True)
    layout.test_map_file.write_text("{}")
    assert not tipped()


def test_a_long_history_trains_in_the_background(repo, monkeypatch):
    monkeypatch.setattr(api, "FOREGROUND_TRAIN_COMMITS", 0)
    monkeypatch.setenv("GIT_ML_NO_DETACH", "1")  # run the detached training in the foreground
    report = api.init(repo, hooks=False)
    assert report.trained == [] and any("in the background" in n for n in report.notes)
    layout, _ = api.open_store(repo)
    assert layout.domain_expert_file("file").exists()  # the background training saved it


def test_predict_reads_files_relative_to_the_directory_it_is_given(repo):
    commit_file(repo, "src/auth.py", "def login(user, password):\n    return True\n", "Add login")
    commit_file(repo, "src/session.py", "def start():\n    pass\n", "Add session")
    for n in range(3):  # auth.py and session.py change together
        (repo / "src" / "session.py").write_text(f"def start():\n    return {n}\n")
        git(repo, "add", "src/session.py")
        commit_file(repo, "src/auth.py", f"def login(user, password):\n    return {n}\n", f"Login fix {n}")
    api.init(repo, hooks=False)
    notes: list[str] = []
    from_src = api.predict(repo / "src", files=["auth.py"], experts=["refactor"], note=notes.append)
    from_root = api.predict(repo, files=["src/auth.py"], experts=["refactor"], note=notes.append)
    assert notes == []
    assert [i.item for i in from_src.items] == [i.item for i in from_root.items]
    assert "src/session.py" in [i.item for i in from_src.items]
