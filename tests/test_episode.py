"""The episode expert: trained from one session, it ranks that session's files for related queries."""

from __future__ import annotations

import msgspec

from git_ml.experts.base import Query, TrainingData
from git_ml.experts.episode import EpisodeExpert, tokens
from git_ml.records import CommitRecord, FileChange, MicroExpert, SessionError, SessionRecord


def session(**kw) -> SessionRecord:
    base = dict(
        session_id="ep-1",
        prompts=["Fix the coupon discount in the cart total", "Document the discount rules"],
        prompt_files=[["shop/cart.py", "shop/coupon.py", "tests/test_cart.py"], ["docs/pricing.md"]],
        files_read=["shop/cart.py", "shop/coupon.py", "shop/models.py"],
        files_modified=["shop/cart.py", "tests/test_cart.py", "docs/pricing.md"],
        errors=[SessionError(message="TypeError: unsupported operand type(s) for +: 'Decimal' and 'float'",
                             files=["shop/money.py"], fixed_by=["shop/cart.py"])],
        commits=["c1"],
    )
    base.update(kw)
    return SessionRecord(**base)


COMMIT = CommitRecord(hash="c1", files=[FileChange(path="shop/cart.py"), FileChange(path="shop/checkout.py")],
                      session_id="ep-1")


def trained(*records: SessionRecord) -> EpisodeExpert:
    e = EpisodeExpert("episode_ep-1")
    e.fit(TrainingData(commits=[COMMIT], sessions=list(records)))
    return e


def items(e: EpisodeExpert, **q) -> list[str]:
    return [f for f, _ in e.predict(Query(**q)).items]


def test_a_task_like_the_prompt_ranks_the_files_it_touched():
    e = trained(session())
    got = items(e, text="coupon discount wrong in cart")
    assert set(got[:3]) == {"shop/cart.py", "shop/coupon.py", "tests/test_cart.py"}
    assert "docs/pricing.md" not in got[:3]
    assert items(e, text="update the pricing documentation")[0] == "docs/pricing.md"


def test_an_error_like_a_seen_one_ranks_its_fix_first():
    e = trained(session())
    assert items(e, text="TypeError: unsupported operand Decimal float")[:2] == ["shop/cart.py", "shop/money.py"]


def test_restricted_to_the_files_here_it_never_proposes_others():
    e = trained(session())
    here = {"shop/coupon.py", "tests/test_cart.py", "docs/pricing.md"}  # shop/cart.py is gone
    full = items(e, text="coupon discount wrong in cart")
    assert "shop/cart.py" in full
    e.restrict_to(here)
    got = items(e, text="coupon discount wrong in cart")
    assert got and set(got) <= here and got == [f for f in full if f in here]
    assert set(items(e, files=["shop/coupon.py"])) <= here
    e.restrict_to(None)
    assert items(e, text="coupon discount wrong in cart") == full


def test_seed_files_bring_their_co_occurring_files():
    e = trained(session())
    got = items(e, files=["shop/coupon.py"])
    assert "shop/coupon.py" not in got
    assert got[0] in ("shop/cart.py", "tests/test_cart.py", "docs/pricing.md")
    # files of the commits made in the session count as worked on
    assert "shop/checkout.py" in items(e, files=["shop/cart.py"])


def test_confidences_are_ranked_and_bounded_and_an_unrelated_query_gets_nothing():
    e = trained(session())
    pred = e.predict(Query(text="coupon cart discount total"), top=3)
    scores = [c for _, c in pred.items]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and all(0 < c <= 1 for c in scores)
    assert pred.expert_type == "episode" and pred.expert_id == "episode_ep-1"
    assert e.predict(Query(text="kubernetes helm chart")).items == []
    assert e.predict(Query()).items == []


def test_micro_round_trip_with_msgspec_keeps_the_answers():
    e = trained(session())
    blob = msgspec.json.encode(e.to_micro())
    micro = msgspec.json.decode(blob, type=MicroExpert)
    assert micro.expert_type == "episode" and micro.trained_on_sessions == 1 and micro.trained_on_commits == 1
    assert set(micro.model_data) >= {"file_cooccurrence", "query_patterns", "error_patterns"}
    back = EpisodeExpert.from_micro(micro)
    for q in (Query(text="coupon discount"), Query(text="TypeError Decimal"), Query(files=["shop/cart.py"])):
        assert back.predict(q).items == e.predict(q).items


def test_update_equals_fit_and_a_recaptured_session_replaces_the_old_one():
    first = session()
    second = session(session_id="ep-2", prompts=["Add a gift card payment"], prompt_files=[["shop/giftcard.py"]],
                     files_modified=["shop/giftcard.py"], files_read=[], errors=[], commits=[])
    fitted = trained(first, second)
    updated = trained(first)
    updated.update(TrainingData(commits=[COMMIT], sessions=[first]), [], [second])
    assert updated.model_data() == fitted.model_data()
    recaptured = session(files_modified=["shop/cart.py"], prompt_files=[["shop/cart.py"], []])
    updated.update(TrainingData(commits=[COMMIT]), [], [recaptured])
    assert updated.trained_on_sessions == 2
    assert "tests/test_cart.py" not in items(updated, text="coupon discount cart")


def test_tokens_split_code_words():
    assert tokens("parseHTTPResponse in src/http_client.py") == ["parse", "http", "response", "src", "http",
                                                                  "client", "py"]
