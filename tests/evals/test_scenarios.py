"""The scenario suite: its loader, pass^k arithmetic, the price checker and one real task end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.scenarios import (
    DATA_DIR,
    ScriptedTurn,
    Transcript,
    check,
    invented_prices,
    load_scenarios,
    outfit_totals,
    parse_scenario,
    pass_hat_k,
    run,
)

pytestmark = pytest.mark.unit

GOOD = {
    "id": "hello",
    "lang": "en",
    "category": "smalltalk",
    "turns": ["hi"],
    "expect": {"reply_contains": ["style assistant"]},
}


def test_a_broken_line_is_reported_with_file_and_line_and_the_rest_load(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    lines = [
        json.dumps(GOOD),
        "{not json",
        json.dumps({**GOOD, "id": "two", "expect": {"checks": ["no_such_check"]}}),
        json.dumps({**GOOD, "id": "three"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenarios, errors = load_scenarios([path])
    assert [s.id for s in scenarios] == ["hello", "three"]
    assert [e.source for e in errors] == [f"{path}:2", f"{path}:3"]
    assert "no_such_check" in errors[1].message


def test_the_shipped_scenarios_all_load() -> None:
    scenarios, errors = load_scenarios(sorted(DATA_DIR.glob("*.jsonl")))
    assert not errors, errors
    assert len(scenarios) >= 30
    assert {s.lang for s in scenarios} == {"en", "zh"}


def test_pass_hat_k_known_values() -> None:
    assert pass_hat_k(4, 2, 2) == pytest.approx(1 / 6)
    assert pass_hat_k(4, 4, 4) == 1.0
    assert pass_hat_k(4, 3, 4) == 0.0
    assert pass_hat_k(4, 3, 1) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        pass_hat_k(2, 1, 3)


def test_invented_prices_are_caught_and_stored_ones_accepted() -> None:
    stored = [419.0, 309.0]
    assert invented_prices(["Shirt (419 CNY, id 1); Polo（309元，编号 2）"], stored) == []
    assert invented_prices(["It costs 399 CNY now."], stored) == ["399 CNY"]
    assert invented_prices(["现价 ¥250"], stored) == ["¥250"]
    transcript = Transcript(said=["a shirt"], replies=[["Shirt (419 CNY, id 1), now 199 CNY"]])
    transcript.prices = {"1": stored}
    assert check({"checks": ["no_invented_prices"]}, transcript) == ["invented price(s) ['199 CNY']"]


def test_paraphrases_and_scripted_turns() -> None:
    scenario = parse_scenario(
        {
            **GOOD,
            "turns": [
                "which size?",
                {"if_reply_contains": ["height"], "say": "170 cm, 60 kg", "default": None},
            ],
            "paraphrases": [["what size?", "size please?"]],
        }
    )
    assert [scenario.wording(r)[0] for r in range(4)] == [
        "which size?",
        "what size?",
        "size please?",
        "what size?",
    ]
    scripted = scenario.turns[1]
    assert isinstance(scripted, ScriptedTurn)
    assert scripted.answer("What are your height and weight?") == "170 cm, 60 kg"
    assert scripted.answer("Which product?") is None


def test_wardrobe_seeds_are_checked_and_the_gold_wardrobe_is_judged() -> None:
    task = {**GOOD, "wardrobe": [{"name": "white tee", "category": "Tshirts", "worn_days_ago": [1]}]}
    assert parse_scenario(task, "t").wardrobe[0]["name"] == "white tee"
    with pytest.raises(ValueError, match="category"):
        parse_scenario({**GOOD, "wardrobe": [{"name": "x", "category": "Spaceships"}]}, "t")
    t = Transcript(
        wardrobe=[{"name": "white tee", "category": "Tshirts", "colour": "White"}], worn={"white tee": 2}
    )
    expect = {
        "wardrobe": {
            "count": 1,
            "has": [{"category": "Tshirts", "colour": "White"}],
            "worn": {"white tee": 2},
        }
    }
    assert check(expect, t) == []
    wrong = {"wardrobe": {"count": 2, "has": [{"category": "Jeans"}], "worn": {"white tee": 1, "jeans": 1}}}
    assert check(wrong, t) == [
        "1 wardrobe item(s), expected 2",
        "no wardrobe item with {'category': 'Jeans'}",
        "'white tee' logged as worn 2 time(s), expected 1",
        "'jeans' logged as worn 0 time(s), expected 1",
    ]


@pytest.mark.slow
def test_a_real_scenario_passes_end_to_end() -> None:
    result = run(k=2, only=["profile-save-yes-en", "search-navy-shirt-en", "wardrobe-wear-en"], limit=300)
    assert result["load_errors"] == []
    assert result["runs"] == 6
    for task in result["per_task"].values():
        assert task["passed"] == task["runs"], task["first_failure"]
    assert result["pass_1"] == 1.0
    assert result["pass_k"] == 1.0
    assert result["mean_tool_calls"] > 0


def test_outfit_totals_sum_stored_prices_per_outfit_and_reply() -> None:
    prices = {"a": [100.0, 120.0], "b": [50.0], "c": [30.0], "d": [7.0]}
    cards = [
        {"id": "a", "data": {"outfit": 1}},
        {"id": "b", "data": {"outfit": 1}},
        {"id": "c", "data": {"outfit": 2}},
        {"id": "d", "data": {}},  # a search card ends a run
        {"id": "c", "data": {"outfit": 1}},  # the next reply numbers from 1 again
        {"id": "zz", "data": {"outfit": 1}},  # unknown products add nothing
    ]
    assert outfit_totals(cards, prices) == [150.0, 30.0, 30.0]
    t = Transcript(replies=[["outfit 1 total ¥150, outfit 2 total ¥30"]], cards=cards, prices=prices)
    assert check({"checks": ["no_invented_prices"]}, t) == []


class _ScriptedLLMUser:
    """Stands in for the LLM playing the person: answers from a list, then says it is done."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.seen: list[list[dict[str, str]]] = []

    async def structured(self, messages, schema, *, max_tokens=256):
        self.seen.append(list(messages))
        if self.answers:
            return schema(message=self.answers.pop(0), done=False)
        return schema(message="", done=True)

    def stream(self, messages, *, max_tokens=256, temperature=0.0):
        raise AssertionError("the user simulator never streams")


def test_an_llm_played_user_reaches_the_gold_state() -> None:
    user = _ScriptedLLMUser(["yes, please save it"])
    result = run(k=1, only=["profile-save-yes-en"], limit=50, user="llm", user_llm=user)
    task = result["per_task"]["profile-save-yes-en"]
    assert task["passed"] == 1, task["first_failure"]
    assert result["user"] == "llm"
    assert result["llm_user_tasks"] == 1
    system = user.seen[0][0]
    assert system["role"] == "system"
    assert "170 cm" in system["content"]
    # the LLM saw the agent's question as what it answers, and stopped when done
    assert user.seen[0][-1]["role"] == "user"
    assert "Shall I save this" in user.seen[0][-1]["content"]
    assert len(user.seen) == 2


def test_a_task_without_a_goal_keeps_its_script_under_an_llm_user() -> None:
    user = _ScriptedLLMUser([])
    result = run(k=1, only=["smalltalk-en"], limit=50, user="llm", user_llm=user)
    assert result["per_task"]["smalltalk-en"]["passed"] == 1
    assert user.seen == []
