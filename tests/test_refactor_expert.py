"""RefactorExpert: affected files with their impact types, refactor types, updates and storage."""

from __future__ import annotations

import msgspec

from git_ml.experts.base import Query, TrainingData
from git_ml.experts.refactor import RefactorExpert
from git_ml.records import CommitRecord, FileChange
from expert_support import MemSnapshot, round_trip


TREE = {
    "pkg/__init__.py": "",
    "pkg/models.py": "from pkg.base import Base\n\nclass Invoice(Base):\n    def total_amount(self):\n"
                     "        return 0\n",
    "pkg/base.py": "class Base:\n    pass\n",
    "pkg/views.py": "from pkg.models import Invoice\n\ndef show():\n    return Invoice().total_amount()\n",
    "pkg/api.py": "from pkg.views import show\n",
    "pkg/report.py": "def summary(inv):\n    return inv.total_amount()\n",  # uses the name, no import
    "pkg/settings.py": "DEBUG = False\n",
    "tests/test_models.py": "from pkg.models import Invoice\n\ndef test_total():\n    Invoice()\n",
    "docs/models.md": "# models\n",
}


def history() -> list[CommitRecord]:
    out = [CommitRecord(hash="c0", message="initial", files=[FileChange(path=p, status="A") for p in TREE])]
    for i in range(4):  # settings change with models, with no code link
        out.append(CommitRecord(hash=f"s{i}", message="tune", files=[FileChange(path="pkg/models.py"),
                                                                       FileChange(path="pkg/settings.py")]))
    return out


def fitted(commits=None, tree=None) -> RefactorExpert:
    e = RefactorExpert()
    e.fit(TrainingData(commits=commits or history(), snapshot=MemSnapshot(tree or TREE)))
    return e


def test_affected_files_carry_their_impact_types():
    e = fitted()
    pred = e.predict(Query(files=["pkg/models.py"], refactor_type="rename"), top=20)
    impacts = pred.metadata["impacts"]
    assert "imports" in impacts["pkg/views.py"]
    assert pred.metadata["detail"]["pkg/views.py"]["impacts"] == impacts["pkg/views.py"]
    assert "imports" in impacts["pkg/api.py"]  # transitively, through views.py
    assert "imported" in impacts["pkg/base.py"]
    assert "references" in impacts["pkg/report.py"]  # calls total_amount without importing models
    assert "cochange" in impacts["pkg/settings.py"]
    assert "tests" in impacts["tests/test_models.py"]
    order = [p for p, _ in pred.items]
    assert order.index("pkg/views.py") < order.index("pkg/api.py")  # direct before transitive
    assert "pkg/models.py" not in order
    assert pred.metadata["refactor_type"] == "rename"


def test_structural_refactors_weigh_importers_more_than_co_change():
    e = fitted()
    move = [p for p, _ in e.predict(Query(files=["pkg/models.py"], refactor_type="move"), top=20).items]
    plain = [p for p, _ in e.predict(Query(files=["pkg/models.py"]), top=20).items]
    assert move.index("pkg/views.py") <= plain.index("pkg/views.py")
    assert move.index("pkg/settings.py") >= plain.index("pkg/settings.py")


def test_no_seed_files_no_answer():
    assert fitted().predict(Query(files=[])).items == []


def test_incremental_update_equals_fit_from_scratch():
    commits = history()
    tree2 = dict(TREE, **{"pkg/report.py": "from pkg.models import Invoice\n"})
    e = RefactorExpert()
    e.fit(TrainingData(commits=commits[:2], snapshot=MemSnapshot(TREE)))
    e.update(TrainingData(commits=commits, snapshot=MemSnapshot(tree2, "r2")), commits[2:])
    full = fitted(commits, tree2)
    assert msgspec.json.encode(e.model_data()) == msgspec.json.encode(full.model_data())
    assert "imports" in e.predict(Query(files=["pkg/models.py"]), top=20).metadata["impacts"]["pkg/report.py"]


def test_model_data_round_trips_through_msgspec_json():
    e = fitted()
    back = round_trip(e)
    q = Query(files=["pkg/models.py"], refactor_type="signature")
    assert back.predict(q).items == e.predict(q).items
    assert back.predict(q).metadata == e.predict(q).metadata


def test_files_gone_from_the_snapshot_are_never_affected():
    # legacy.py changed with models.py, then went in a merge (which the history skips): only the
    # snapshot knows it is gone
    commits = history() + [CommitRecord(hash=f"o{i}", message="old", files=[
        FileChange(path="pkg/models.py"), FileChange(path="pkg/legacy.py", status="A" if i == 0 else "M")])
        for i in range(3)]
    order = [p for p, _ in fitted(commits).predict(Query(files=["pkg/models.py"]), top=50).items]
    assert "pkg/settings.py" in order
    assert "pkg/legacy.py" not in order


def test_path_words_fade_for_a_seed_known_by_its_history():
    tree = dict(TREE, **{"CHANGES.md": "", "docs/changes.md": "", "pkg/new_feature.py": "",
                         "tests/test_new_feature.py": ""})
    commits = history() + [CommitRecord(hash=f"h{i}", message="note", files=[
        FileChange(path="CHANGES.md"), FileChange(path="pkg/views.py")]) for i in range(12)]
    commits += [CommitRecord(hash=f"d{p}", message="add", files=[FileChange(path=p, status="A")])
                for p in ("docs/changes.md", "tests/test_new_feature.py")]
    e = fitted(commits, tree)
    # Even a fusion that trusts path words most (as a small inner split may learn) ranks the
    # changelog's real partner first; a file with no history is still matched by its words.
    e.weights = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0]
    assert [p for p, _ in e.predict(Query(files=["CHANGES.md"]), top=5).items][0] == "pkg/views.py"
    assert [p for p, _ in e.predict(Query(files=["pkg/new_feature.py"]), top=5).items][0] == \
        "tests/test_new_feature.py"
