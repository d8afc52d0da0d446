"""DocumentationExpert: docs that co-change with code, the needs-docs probability, stale
references, updates and storage."""

from __future__ import annotations

import msgspec

from git_ml.experts.base import Query, TrainingData
from git_ml.experts.doc import DocumentationExpert, referenced_names
from git_ml.records import CommitRecord, FileChange
from expert_support import MemSnapshot, round_trip


TREE = {
    "src/lib/api.py": "def fetch_page(url, timeout=None):\n    return url\n\nclass Widget:\n    def draw(self):\n"
                      "        pass\n",
    "src/lib/internal.py": "def _cache():\n    return {}\n",
    "src/lib/cli.py": "def main():\n    pass\n",
    "docs/api.md": "# API\n\nCall `fetch_page()` with a `timeout`. ``Widget.draw`` paints;\n"
                   "``Widget.render`` is gone and `old_helper()` too. Also see `plain`.\n",
    "docs/cli.rst": "CLI\n===\n\nRun :func:`lib.cli.main`. :class:`~lib.api.Gadget` was removed.\n\n"
                    "Example::\n\n    class MyAuth(object):\n        pass\n\n    `MyAuth` is yours.\n",
    "CHANGES.md": "- removed `legacy_call()`\n",
    "README.md": "# lib\n",
}


def commit(h: str, *paths: str, message: str = "change") -> CommitRecord:
    return CommitRecord(hash=h, message=message, files=[FileChange(path=p) for p in paths])


def history() -> list[CommitRecord]:
    out = [CommitRecord(hash="c0", message="initial", files=[FileChange(path=p, status="A") for p in TREE])]
    for i in range(6):  # api.py changes always come with its doc
        out.append(commit(f"a{i}", "src/lib/api.py", "docs/api.md", message="document the api"))
    for i in range(6):  # internal.py never touches docs
        out.append(commit(f"i{i}", "src/lib/internal.py", message="refactor internals"))
    for i in range(3):
        out.append(commit(f"l{i}", "src/lib/cli.py", "docs/cli.rst", "CHANGES.md", message="cli option"))
    return out


def fitted(commits=None) -> DocumentationExpert:
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits or history(), snapshot=MemSnapshot(TREE)))
    return e


def test_docs_that_co_change_with_the_code_rank_first():
    e = fitted()
    assert e.predict(Query(files=["src/lib/api.py"])).items[0][0] == "docs/api.md"
    top2 = [d for d, _ in e.predict(Query(files=["src/lib/cli.py"])).items[:2]]
    assert set(top2) == {"docs/cli.rst", "CHANGES.md"}


def test_needs_docs_probability_follows_each_files_history():
    e = fitted()
    api = e.predict(Query(files=["src/lib/api.py"])).metadata
    internal = e.predict(Query(files=["src/lib/internal.py"])).metadata
    assert 0.0 <= internal["needs_docs"] < api["needs_docs"] <= 1.0
    assert api["needs_docs"] > 0.5 > internal["needs_docs"]
    assert api["docs_needed"] is True and internal["docs_needed"] is False
    assert api["detail"]["docs/api.md"]["needs_docs"] == api["needs_docs"]
    # an unseen file gets the repository's base rate
    unseen = e.predict(Query(files=["src/lib/new.py"])).metadata["needs_docs"]
    assert unseen == round(e.base_rate, 4)


def test_stale_references_are_names_the_code_no_longer_has():
    e = fitted()
    stale = e.stale_references()
    names = {(d, n) for d, n, _ in stale}
    assert ("docs/api.md", "Widget.render") in names
    assert ("docs/api.md", "old_helper") in names
    assert ("docs/cli.rst", "lib.api.Gadget") in names
    assert ("docs/api.md", "fetch_page") not in names  # still defined
    assert ("docs/api.md", "Widget.draw") not in names
    assert not any(d == "CHANGES.md" for d, _, _ in stale)  # changelogs cite removed names on purpose
    assert not any(n == "MyAuth" for _, n, _ in stale)  # defined by the doc's own example
    assert ("docs/api.md", "old_helper", 4) in stale
    pred = e.predict(Query(files=["src/lib/api.py"]))
    assert ["docs/api.md", "Widget.render", 4] in pred.metadata["stale_references"]


def test_referenced_names_reads_markdown_and_rst_forms():
    text = "Use `a_b()` and ``Pkg.mod``, :meth:`~x.Y.z`, call helper_fn() here; `word` and `Link`_ are prose.\n"
    assert [n for n, _ in referenced_names(text)] == ["x.Y.z", "a_b", "Pkg.mod", "helper_fn"]


def test_incremental_update_equals_fit_from_scratch():
    commits = history()
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits[:7], snapshot=MemSnapshot(TREE)))
    e.update(TrainingData(commits=commits, snapshot=MemSnapshot(TREE, "r2")), commits[7:])
    full = fitted(commits)
    assert msgspec.json.encode(e.model_data()) == msgspec.json.encode(full.model_data())


def test_model_data_round_trips_through_msgspec_json():
    e = fitted()
    back = round_trip(e)
    q = Query(files=["src/lib/api.py"], text="document the api")
    assert back.predict(q).items == e.predict(q).items
    assert back.predict(q).metadata == e.predict(q).metadata
    assert back.stale_references() == e.stale_references()


def test_the_answer_depends_on_the_input_not_on_popularity():
    tree = dict(TREE, **{"src/lib/shell_completion.py": "def complete():\n    pass\n",
                         "src/lib/testing.py": "class Runner:\n    pass\n",
                         "docs/shell-completion.md": "# Shell completion\n", "docs/testing.md": "# Testing\n"})
    commits = [CommitRecord(hash="c0", message="initial", files=[FileChange(path=p, status="A") for p in tree])]
    for i in range(12):  # the api doc is by far the most popular doc
        commits.append(commit(f"a{i}", "src/lib/api.py", "docs/api.md"))
    commits.append(commit("s0", "src/lib/shell_completion.py", "src/lib/testing.py"))
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree)))
    assert e.predict(Query(files=["src/lib/shell_completion.py"])).items[0][0] == "docs/shell-completion.md"
    assert e.predict(Query(files=["src/lib/testing.py"])).items[0][0] == "docs/testing.md"
    assert e.predict(Query(files=["src/lib/api.py"])).items[0][0] == "docs/api.md"


def test_tests_and_ci_files_alone_rarely_need_docs():
    commits = history()
    for i in range(4):  # tests change with the code (and its doc), and alone
        commits.append(commit(f"t{i}", "src/lib/api.py", "tests/test_api.py", "docs/api.md"))
        commits.append(commit(f"u{i}", "tests/test_api.py", message="more tests"))
        commits.append(commit(f"w{i}", ".github/workflows/ci.yaml", message="ci"))
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits, snapshot=MemSnapshot(TREE)))
    code = e.predict(Query(files=["src/lib/api.py"])).metadata["needs_docs"]
    for other in ("tests/test_api.py", ".github/workflows/ci.yaml", ".github/workflows/new.yaml"):
        assert e.predict(Query(files=[other])).metadata["needs_docs"] < min(0.3, code)


def test_a_doc_converted_to_another_format_keeps_its_history():
    commits = history()
    commits.append(CommitRecord(hash="m0", message="docs to markdown", files=[
        FileChange(path="docs/cli.rst", status="D"), FileChange(path="docs/cli.md", status="A")]))
    tree = {k: v for k, v in TREE.items() if k != "docs/cli.rst"} | {"docs/cli.md": "# CLI\n"}
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree)))
    assert e.predict(Query(files=["src/lib/cli.py"])).items[0][0] in ("docs/cli.md", "CHANGES.md")
    assert e.cochange.confidence("src/lib/cli.py", "docs/cli.md") == 1.0


def test_dependency_pins_in_a_requirements_folder_are_not_docs():
    from git_ml.experts.changes import is_doc

    assert not is_doc("requirements/tests.txt") and not is_doc("requirements.txt")
    assert is_doc("docs/testing.rst") and is_doc("docs/tests.txt")
    tree = {**TREE, "src/lib/tests_support.py": "def helper():\n    pass\n", "requirements/tests.txt": "pytest\n"}
    commits = history() + [commit(f"t{i}", "src/lib/tests_support.py", "requirements/tests.txt") for i in range(3)]
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree)))
    assert "requirements/tests.txt" not in e.docs
    assert "requirements/tests.txt" not in [d for d, _ in e.predict(Query(files=["src/lib/tests_support.py"])).items]


def test_the_prior_is_how_often_a_doc_goes_with_code_and_ranks_docs_when_nothing_else_does():
    tree = dict(TREE, **{"tools/new.py": "def zzz():\n    pass\n"})
    commits = [CommitRecord(hash="c0", message="initial", files=[FileChange(path=p, status="A") for p in tree])]
    commits += [commit(f"r{i}", "README.md", message="typo") for i in range(10)]  # edited on its own
    commits += history()[1:]
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree)))
    assert e.cochange.freq["README.md"] > e.cochange.freq["docs/api.md"]
    assert e.with_code["docs/api.md"] > e.with_code["README.md"]
    # a file with no history, no namesake, no folder peers and no mentions: the prior alone answers
    ranked = [d for d, _ in e.predict(Query(files=["tools/new.py"])).items]
    assert set(ranked[:2]) == {"docs/api.md", "CHANGES.md"}  # the changelog channel speaks for any change
    assert ranked.index("docs/api.md") < ranked.index("README.md")


def test_the_changelog_channel_knows_a_change_log_from_a_release_guide():
    from git_ml.experts.doc import is_change_log

    for p in ("CHANGES.rst", "CHANGELOG.md", "HISTORY.rst", "NEWS", "docs/changelog.rst", "RELEASE_NOTES.md",
              "docs/whatsnew.rst"):
        assert is_change_log(p), p
    for p in ("docs/release-process.rst", "docs/upgrading.rst", "docs/newsletter.md", "docs/history-of-http.md"):
        assert not is_change_log(p), p


def test_the_contributors_channel_lifts_the_list_newcomers_add_themselves_to():
    from git_ml.experts.doc import FEATURES, is_contributors

    for p in ("AUTHORS.rst", "AUTHORS", "CONTRIBUTORS.txt", "docs/credits.rst", "THANKS"):
        assert is_contributors(p), p
    for p in ("CONTRIBUTING.md", "docs/authoring.md", "docs/api.md"):
        assert not is_contributors(p), p
    tree = dict(TREE, **{"AUTHORS.rst": "- Ann\n"})
    commits = history() + [commit("n0", "src/lib/cli.py", "AUTHORS.rst")]
    e = DocumentationExpert()
    e.fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree)))
    k = FEATURES.index("contributors")
    assert e.weights[k] == 0.0  # off until the repository's own history turns it on
    before = [d for d, _ in e.predict(Query(files=["src/lib/api.py"])).items]
    e.weights[k] = 2.0
    pred = e.predict(Query(files=["src/lib/api.py"]))
    after = [d for d, _ in pred.items]
    assert after.index("AUTHORS.rst") < before.index("AUTHORS.rst")
    assert after[0] == "docs/api.md"  # the doc the change needs still leads
    assert pred.metadata["reasons"]["AUTHORS.rst"]["contributors"] == 1.0


def test_a_name_match_counts_less_the_longer_the_file_has_its_own_history():
    tree = dict(TREE, **{"src/lib/widget.py": "def w():\n    pass\n", "docs/widget.md": "# widget\n",
                         "docs/guide.md": "# guide\n"})
    base = [CommitRecord(hash="c0", message="initial", files=[FileChange(path=p, status="A") for p in tree])]

    def name_channel(n_commits: int) -> float:
        commits = base + [commit(f"w{i}", "src/lib/widget.py", *(["docs/guide.md"] if i % 4 == 0 else []))
                          for i in range(n_commits)]
        e = DocumentationExpert()
        e.fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree)))
        pred = e.predict(Query(files=["src/lib/widget.py"]))
        return pred.metadata["reasons"]["docs/widget.md"]["name"], [d for d, _ in pred.items]

    young, _ = name_channel(1)
    old, ranked = name_channel(40)
    assert 0 < old < young
    assert ranked[0] == "docs/guide.md"  # measured co-change beats a guess from the name


def renamed_changelog_history() -> tuple[list[CommitRecord], dict[str, str]]:
    """``CHANGES`` (not a doc by its name) goes with every code change and becomes ``CHANGES.rst``
    after the last inner cut, as on werkzeug."""
    tree = {"pkg/core.py": "def run():\n    pass\n", "docs/core.rst": "Core\n====\n\n:func:`run`.\n",
            "CHANGES.rst": "Changes\n"}
    out = [CommitRecord(hash="c0", message="initial",
                        files=[FileChange(path=p, status="A") for p in ("pkg/core.py", "docs/core.rst", "CHANGES")])]
    out += [commit(f"k{i}", "pkg/core.py", "docs/core.rst", "CHANGES") for i in range(40)]
    out.append(CommitRecord(hash="mv", message="rename",
                            files=[FileChange(path="CHANGES.rst", status="R", old_path="CHANGES")]))
    out += [commit(f"n{i}", "pkg/core.py", "CHANGES.rst") for i in range(9)]
    return out, tree


def test_the_inner_split_follows_renames_made_after_its_cut(monkeypatch):
    import git_ml.experts.doc as doc

    rows = []
    real = doc.learn_weights

    def spy(inner_rows, start, **kw):
        rows.extend(inner_rows)
        return real(inner_rows, start, **kw)

    monkeypatch.setattr(doc, "learn_weights", spy)
    commits, tree = renamed_changelog_history()
    DocumentationExpert().fit(TrainingData(commits=commits, snapshot=MemSnapshot(tree)))
    # the changelog is a candidate by its name at the cut (a doc by the name it ends up with),
    # and each commit after the rename is an item with it as the truth
    assert rows and all("CHANGES" in cands for cands, _ in rows)
    assert sum(1 for _, truth in rows if truth == {"CHANGES"}) == 9


def test_final_names_and_known_modified_follow_rename_chains():
    from git_ml.experts.doc import final_names, known_modified

    commits = [CommitRecord(hash="r1", message="m", files=[FileChange(path="b.rst", status="R", old_path="a.txt")]),
               CommitRecord(hash="r2", message="m", files=[FileChange(path="b.rst", status="D"),
                                                            FileChange(path="b.md", status="A")]),
               commit("e", "b.md", "x.py")]
    assert final_names(commits) == {"a.txt": "b.md", "b.rst": "b.md"}
    seen = [mod for _, mod in known_modified(commits, {"a.txt", "x.py"})]
    assert seen == [["a.txt"], [], ["a.txt", "x.py"]]
