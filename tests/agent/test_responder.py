"""The responder with an LLM: grounded wording is streamed, anything else falls back to the template.
The LLM is a fake here: its wording is scripted so the check, not the model, is under test."""

from __future__ import annotations

import pytest

from core.config import LLMSettings
from tests.agent.conftest import FakeLLM, replies

pytestmark = pytest.mark.anyio


async def test_grounded_llm_wording_is_streamed_and_kept(open_test_agent):
    llm = FakeLLM(reply="Hello there! I can help with outfits and sizes.")
    async with open_test_agent(model=llm) as agent:
        events = await agent.say("hi")
        tokens = "".join(e.data["text"] for e in events if e.event == "token")
        message = next(e for e in events if e.event == "message")
        assert message.data["source"] == "llm"
        assert tokens == message.data["text"] == "Hello there! I can help with outfits and sizes."
        prompt = llm.calls[0][1]["content"]
        assert prompt.startswith("Reply: ")
        assert "style assistant" in prompt


async def test_an_invented_number_resets_the_stream_to_the_template(open_test_agent):
    llm = FakeLLM(reply="Wear a size 38 dress to the wedding.")
    async with open_test_agent(model=llm) as agent:
        events = await agent.say("recommend a dress for a wedding")
        names = [e.event for e in events]
        assert "reset" in names
        message = next(e for e in events if e.event == "message")
        assert message.data["source"] == "template"
        assert message.data["llm_attempted"] is True
        assert "38" not in message.data["text"]
        assert "isn't available yet" in message.data["text"]
        after_reset = "".join(e.data["text"] for e in events[names.index("reset") :] if e.event == "token")
        assert after_reset == message.data["text"]


async def test_questions_and_confirmations_are_sent_as_written(open_test_agent):
    llm = FakeLLM(reply="Sure, tell me more!")
    async with open_test_agent(model=llm) as agent:
        for text in ("What size should I order?", "remember that my height is 170 cm"):
            events = await agent.say(text)
            message = next(e for e in events if e.event == "message")
            assert message.data["source"] == "template"
            assert message.data["llm_attempted"] is False
        assert llm.calls == []


async def test_llm_fallback_rereads_a_low_confidence_turn(open_test_agent):
    llm = FakeLLM(reply="", choice={"intent": "handoff_human"})
    fallback = LLMSettings(
        provider="openai", base_url="http://llm.invalid/v1", route_fallback=True, route_fallback_below=1.0
    )
    async with open_test_agent(model=llm, llm=fallback) as agent:
        events = await agent.say("blorp zibble")
        assert [e.data["active"] for e in events if e.event == "handoff"] == [True]
        assert llm.calls[0][0]["content"].startswith("Classify")


async def test_without_fallback_the_llm_is_not_asked_to_route(open_test_agent):
    llm = FakeLLM(reply="Hello!", choice={"intent": "handoff_human"})
    async with open_test_agent(model=llm) as agent:
        events = await agent.say("blorp zibble")
        assert not [e for e in events if e.event == "handoff"]
        assert all(not call[0]["content"].startswith("Classify") for call in llm.calls)
        assert replies(events)


async def test_a_rewrite_that_drops_a_saved_value_is_replaced_by_the_template(open_test_agent):
    llm = FakeLLM(reply="All done, your profile is saved.")
    async with open_test_agent(model=llm) as agent:
        asked = await agent.say("remember that my height is 170 cm")
        events = await agent.say("yes", session_id=asked[0].data["session_id"])
        message = next(e for e in events if e.event == "message")
        assert message.data["llm_attempted"] is True
        assert message.data["source"] == "template"
        assert "170 cm" in message.data["text"]


async def test_an_echoed_label_is_dropped_from_the_stream(open_test_agent):
    llm = FakeLLM(reply="Reply: Hello! I help with outfits, sizes and your wardrobe.")
    async with open_test_agent(model=llm) as agent:
        events = await agent.say("hi")
        message = next(e for e in events if e.event == "message")
        assert message.data["source"] == "llm"
        assert message.data["text"] == "Hello! I help with outfits, sizes and your wardrobe."
        assert "".join(e.data["text"] for e in events if e.event == "token") == message.data["text"]


async def test_a_rambling_rewrite_is_cut_after_one_sentence_more_than_the_draft(open_test_agent):
    llm = FakeLLM(reply="Hello! I help with outfits. And sizes. And wardrobes. And shopping. And more.")
    async with open_test_agent(model=llm) as agent:
        events = await agent.say("hi")  # the draft has three sentences
        message = next(e for e in events if e.event == "message")
        assert message.data["source"] == "llm"
        assert message.data["text"] == "Hello! I help with outfits. And sizes. And wardrobes."
