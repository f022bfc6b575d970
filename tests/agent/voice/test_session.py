"""Voice sessions on the real agent (template responder or a scripted LLM), real speech engines."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from agent.voice.engines import SpeechEngines
from agent.voice.session import VoiceEvent, VoiceSession
from agent.voice.speech_text import SentenceSplitter, language_of, sentences, speakable
from model_servers.speech.audio import decode
from model_servers.speech.espeak_engine import EspeakSynthesizer
from model_servers.speech.pocketsphinx_engine import PocketSphinxRecognizer
from model_servers.speech.vad import SileroVad
from tests.agent.conftest import FakeLLM

pytestmark = [pytest.mark.unit, pytest.mark.anyio, pytest.mark.timeout(120)]

Speak = Callable[[str], bytes]
SILENCE = np.zeros(16_000, np.int16)
LONG_REPLY = (
    "Hello there! Linen breathes in the heat, so it suits a summer garden party. "
    "A light blazer over a plain tee keeps it smart. Loafers without socks finish the look."
)


@pytest.fixture(scope="module")
def engines() -> SpeechEngines:
    recognizer = PocketSphinxRecognizer(pool_size=2)
    recognizer.warm()
    return SpeechEngines(recognizer, EspeakSynthesizer(), SileroVad())


async def _collect(session: VoiceSession, into: list[VoiceEvent]) -> None:
    async for event in session.events():
        into.append(event)


async def _wait_for(events: list[VoiceEvent], name: str, timeout_s: float = 30.0) -> VoiceEvent:
    async with asyncio.timeout(timeout_s):
        while True:
            found = [e for e in events if e.event == name]
            if found:
                return found[0]
            await asyncio.sleep(0.02)


def _names(events: list[VoiceEvent]) -> list[str]:
    return [e.event for e in events]


async def test_a_spoken_reply_is_interrupted_when_the_person_talks_over_it(
    open_test_agent: Any, engines: SpeechEngines, flite: Speak
) -> None:
    hello = decode(flite("hello"), max_seconds=10).pcm
    async with open_test_agent(model=FakeLLM(reply=LONG_REPLY)) as agent:
        session = VoiceSession(engines, agent.service, agent.user_id)
        events: list[VoiceEvent] = []
        collector = asyncio.create_task(_collect(session, events))
        await session.feed(np.concatenate([SILENCE, hello, SILENCE]))
        first_audio = await _wait_for(events, "audio")
        # The client is now playing several seconds of reply; the person speaks again.
        await session.feed(np.concatenate([hello, SILENCE[:8000]]))
        barge_in = await _wait_for(events, "barge_in")
        assert barge_in.data["reply_id"] == first_audio.data["reply_id"]
        await session.drain()
        await session.close()
        await collector

        names = _names(events)
        assert names.index("speech_started") < names.index("speech_ended") < names.index("transcript")
        # The reply was spoken sentence by sentence, as its words streamed in.
        spoken = [
            e.data["text"]
            for e in events
            if e.event == "audio" and e.data["reply_id"] == barge_in.data["reply_id"]
        ]
        assert spoken[0] == "Hello there!"
        assert all(len(e.audio or b"") > 0 for e in events if e.event == "audio")
        done = [
            e.data
            for e in events
            if e.event == "audio_done" and e.data["reply_id"] == barge_in.data["reply_id"]
        ]
        assert done[0]["interrupted"] is True
        assert done[0]["first_audio_ms"] is not None
        # The interrupted turn still finished and is kept; the second utterance got its own turn.
        history = await agent.service.history(
            str(next(e for e in events if e.event == "session").data["session_id"])
        )
        assert [m.data["role"] for m in history].count("user") == 2
        assert history[1].data["text"] == LONG_REPLY


async def test_push_to_talk_with_nothing_said_is_told_so_out_loud(
    open_test_agent: Any, engines: SpeechEngines
) -> None:
    async with open_test_agent() as agent:
        session = VoiceSession(engines, agent.service, agent.user_id, mode="push_to_talk")
        events: list[VoiceEvent] = []
        collector = asyncio.create_task(_collect(session, events))
        await session.feed(SILENCE)  # before the press: ignored
        await session.start_talking()
        await session.feed(SILENCE)
        await session.stop_talking()
        await session.close()
        await collector
    assert _names(events)[0] == "notice"
    assert events[0].data["code"] == "no_speech"
    assert "audio" in _names(events)
    assert "transcript" not in _names(events)
    # Every decoder went back to the pool (a hang-up must not starve later turns).
    recognizer = engines.recognizer
    assert isinstance(recognizer, PocketSphinxRecognizer)
    await asyncio.sleep(0.2)
    assert recognizer._pool.qsize() == recognizer._created


async def test_holding_push_to_talk_past_the_limit_is_answered_with_a_notice(
    open_test_agent: Any, engines: SpeechEngines, flite: Speak
) -> None:
    speech = decode(flite("show me a red dress"), max_seconds=10).pcm
    async with open_test_agent() as agent:
        session = VoiceSession(
            engines, agent.service, agent.user_id, mode="push_to_talk", max_utterance_s=2.0
        )
        events: list[VoiceEvent] = []
        collector = asyncio.create_task(_collect(session, events))
        await session.start_talking()
        for _ in range(3):
            await session.feed(speech)
        await session.stop_talking()  # already answered: the release changes nothing
        await session.drain()
        await session.close()
        await collector
    transcript = next(e for e in events if e.event == "transcript")
    assert transcript.data["cut_off"] is True
    assert [e.data["code"] for e in events if e.event == "notice"] == ["too_long"]


def test_replies_become_speakable_sentences() -> None:
    splitter = SentenceSplitter()
    streamed = [
        s
        for piece in ["Sure.", "A", "**linen", "suit**", "works.", "See", "https://x.y/z", "🙂", "now!"]
        for s in splitter.add(piece + " ")
    ]
    assert streamed + splitter.flush() == ["Sure. A linen suit works.", "See now!"]
    assert speakable("Kurta (id 11803, ¥579); total ¥1536（演示数据）") == "Kurta; total ¥1536"
    assert sentences("好的。夏天的婚礼可以穿浅灰色亚麻西装。") == ["好的。夏天的婚礼可以穿浅灰色亚麻西装。"]
    assert language_of("尺码 M 合适") == "zh"
    assert language_of("Size M fits") == "en"
