"""The grounding check: numbers, sizes and names must come from tool facts, the draft or the person."""

from __future__ import annotations

import pytest

from agent.grounding import Allowed, StreamingCheck, Ungrounded, check_reply

pytestmark = pytest.mark.unit

FACTS = ["height 170 cm", "weight 60 kg", "Levi's 511 jeans, size M, 399 CNY, 3 in stock"]


@pytest.fixture
def allowed() -> Allowed:
    return Allowed.from_texts([*FACTS, "What size should I order?"])


@pytest.mark.parametrize(
    "reply",
    [
        "You are 170 cm tall and weigh 60 kg.",
        "The Levi's 511 jeans cost 399 CNY in size M, and 3 are left.",
        "Sure! Those jeans come in M.",
        "I would go for 170.0 cm as your height.",
    ],
)
def test_grounded_replies_pass(allowed: Allowed, reply: str) -> None:
    assert check_reply(reply, allowed, "en").ok


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("Order size L.", "size L"),
        ("They cost 299 CNY.", "number 299"),
        ("Try the Zara version instead.", "name 'Zara'"),
        ("你身高一百七十厘米。", "number 一百七十"),
    ],
)
def test_invented_facts_fail(allowed: Allowed, reply: str, problem: str) -> None:
    report = check_reply(reply, allowed, "zh" if "你" in reply else "en")
    assert not report.ok
    assert any(problem in p for p in report.problems)


def test_wrong_language_fails(allowed: Allowed) -> None:
    assert "not in Chinese" in check_reply("You are 170 cm tall.", allowed, "zh").problems[0]
    assert check_reply("你身高170厘米，体重60公斤。", allowed, "zh").ok


def test_stream_releases_only_checked_words(allowed: Allowed) -> None:
    check = StreamingCheck(allowed, "en")
    assert check.feed("You are 1") == "You are "
    assert check.feed("70 cm") == "170 "
    assert check.finish() == "cm"
    assert check.released == "You are 170 cm"


def test_stream_stops_at_the_first_invented_number(allowed: Allowed) -> None:
    check = StreamingCheck(allowed, "en")
    check.feed("Take size ")
    with pytest.raises(Ungrounded, match="number 38"):
        check.feed("38 ")
    assert "38" not in check.released


def test_a_rewrite_must_keep_the_drafts_numbers_and_question(allowed: Allowed) -> None:
    draft = "Shall I save this to your profile: height 170 cm; weight 60 kg?"
    assert check_reply("Want me to save height 170 cm and weight 60 kg?", allowed, "en", draft).ok
    dropped = check_reply("I can save your height of 170 cm.", allowed, "en", draft).problems
    assert "the reply drops 60" in dropped
    assert "the reply drops the question" in dropped
