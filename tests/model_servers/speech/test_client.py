"""The HTTP speech engines against the real speech server: the same words and samples as the
embedded engines, and failures sorted into "tell the person", "our mistake" and "try again"."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pytest

from model_servers.speech.app import create_app
from model_servers.speech.audio import decode, resample, to_wav
from model_servers.speech.client import HttpRecognizer, HttpSynthesizer
from model_servers.speech.engine import SAMPLE_RATE, SpeechError, transcribe
from model_servers.speech.espeak_engine import EspeakSynthesizer
from model_servers.speech.lm import build_arpa, spoken_words
from model_servers.speech.pocketsphinx_engine import PocketSphinxRecognizer
from tests.model_servers.serving import free_port, live_server
from tests.model_servers.speech.conftest import BLACK_JACKET

pytestmark = pytest.mark.unit

Speak = Callable[[str], bytes]
VOICES = {"en": "en", "zh": "zh"}


@pytest.fixture(scope="module")
def speech_server(recognizer: PocketSphinxRecognizer, synthesizer: EspeakSynthesizer) -> Iterator[str]:
    with live_server(create_app(recognizer, synthesizer, max_seconds=10)) as url:
        yield url + "/v1"


@pytest.fixture
def remote_asr(speech_server: str) -> Iterator[HttpRecognizer]:
    # The client is told the server knows Chinese, so the server's own refusal is what is tested.
    with HttpRecognizer(speech_server, "pocketsphinx", ["en", "zh"], timeout_s=10) as engine:
        yield engine


@pytest.fixture
def remote_tts(speech_server: str) -> Iterator[HttpSynthesizer]:
    with HttpSynthesizer(speech_server, "espeak-ng", VOICES, timeout_s=10) as engine:
        yield engine


def test_streamed_speech_is_transcribed_by_the_server(remote_asr: HttpRecognizer, flite: Speak) -> None:
    pcm = decode(flite(BLACK_JACKET), max_seconds=10).pcm
    stream = remote_asr.stream("en")
    for start in range(0, len(pcm), 3_200):  # 200 ms at a time, as a microphone sends it
        stream.feed(pcm[start : start + 3_200])
    result = stream.finish()
    stream.close()
    assert "black jacket" in result.text
    assert result.engine == remote_asr.name == "server:pocketsphinx"
    assert result.language == "en"
    assert result.duration_s == pytest.approx(len(pcm) / SAMPLE_RATE)
    assert result.confidence is None


#: What the style advisor says and hears; the round-trip server's language model is built from them.
STYLE_SENTENCES = (
    BLACK_JACKET,
    "show me a red dress",
    "what goes with grey trousers",
    "navy goes with grey",
    "thank you very much",
)


@pytest.fixture(scope="module")
def style_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded engines built in the lifespan, PocketSphinx with a model of the advisor's
    sentences: espeak-ng's voice is too robotic for the general English model to hear reliably."""
    lm = tmp_path_factory.mktemp("lm") / "style.arpa"
    lm.write_text(build_arpa([spoken_words(sentence) for sentence in STYLE_SENTENCES]), encoding="utf-8")
    with live_server(create_app(max_seconds=10, lm_path=lm, asr_pool=1)) as url:
        yield url + "/v1"


def test_a_spoken_reply_round_trips_through_the_server(
    style_server: str, synthesizer: EspeakSynthesizer, flite: Speak
) -> None:
    with (
        HttpRecognizer(style_server, "pocketsphinx", ["en"]) as asr,
        HttpSynthesizer(style_server, "espeak-ng", VOICES) as tts,
    ):
        # A first, natural voice settles the decoder's normalisation as a conversation's first words do.
        assert transcribe(asr, decode(flite(BLACK_JACKET), max_seconds=10).pcm, "en").text == BLACK_JACKET
        for sentence in STYLE_SENTENCES[1:]:
            pcm, rate = tts.synthesize(sentence, "en")
            local_pcm, local_rate = synthesizer.synthesize(sentence, "en")
            # Through HTTP and WAV, the server's voice is the embedded one sample for sample.
            assert rate == local_rate
            assert np.array_equal(pcm, local_pcm)
            assert transcribe(asr, resample(pcm, rate), "en").text == sentence


def test_chinese_speech_comes_back(remote_tts: HttpSynthesizer) -> None:
    pcm, rate = remote_tts.synthesize("这件外套有黑色的吗？", "zh")
    assert len(pcm) / rate > 0.5
    assert np.abs(pcm.astype(np.int32)).max() > 1_000
    blank, _ = remote_tts.synthesize("   ", "zh")
    assert len(blank) == 0


def test_nothing_fed_is_nothing_heard(remote_asr: HttpRecognizer) -> None:
    result = transcribe(remote_asr, np.zeros(0, np.int16), "en")
    assert (result.text, result.duration_s) == ("", 0.0)


def test_the_servers_language_refusal_is_a_language_refusal(remote_asr: HttpRecognizer, flite: Speak) -> None:
    pcm = decode(flite(BLACK_JACKET), max_seconds=10).pcm
    with pytest.raises(SpeechError) as refused:
        transcribe(remote_asr, pcm, "zh")
    assert refused.value.code == "unsupported_language"
    assert "pocketsphinx" in refused.value.message


def test_languages_the_client_was_not_promised_are_refused_without_a_request() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request to {request.url}")

    transport = httpx.MockTransport(fail)
    with HttpRecognizer("http://asr.invalid/v1", "whisper", ["en"], transport=transport) as asr:
        with pytest.raises(SpeechError) as refused:
            asr.stream("zh")
        assert refused.value.code == "unsupported_language"
    with HttpSynthesizer("http://tts.invalid/v1", "piper", {"en": "amy"}, transport=transport) as tts:
        with pytest.raises(SpeechError) as refused:
            tts.synthesize("你好", "zh")
        assert refused.value.code == "unsupported_language"


def test_other_refusals_are_bad_requests(remote_tts: HttpSynthesizer) -> None:
    with pytest.raises(SpeechError) as refused:
        remote_tts.synthesize("a" * 5_000, "en")
    assert refused.value.code == "bad_request"
    assert "422" in refused.value.message


def test_a_down_server_is_unavailable(flite: Speak) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with HttpRecognizer(url, "whisper", ["en"], timeout_s=2) as asr, pytest.raises(SpeechError) as down:
        transcribe(asr, decode(flite(BLACK_JACKET), max_seconds=10).pcm, "en")
    assert down.value.code == "unavailable"
    assert url in down.value.message
    with HttpSynthesizer(url, "tts", VOICES, timeout_s=2) as tts, pytest.raises(SpeechError) as down:
        tts.synthesize("hello", "en")
    assert down.value.code == "unavailable"


def _openai_error(status: int, message: str, code: str | None = None) -> httpx.MockTransport:
    """What OpenAI and vLLM answer with: ``{"error": {"message", "type", "code"}}``."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        return httpx.Response(status, json=body)

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "unsupported_language", "unsupported_language"),
        (400, None, "bad_request"),
        (429, None, "unavailable"),
        (500, None, "unavailable"),
        (503, None, "unavailable"),
    ],
)
def test_openai_style_errors_are_sorted(status: int, code: str | None, expected: str) -> None:
    transport = _openai_error(status, "Whisper says no", code)
    with (
        HttpRecognizer("http://whisper/v1", "whisper-large-v3", ["en"], transport=transport) as asr,
        pytest.raises(SpeechError) as failed,
    ):
        transcribe(asr, np.ones(1_600, np.int16), "en")
    assert failed.value.code == expected
    assert "Whisper says no" in failed.value.message
    assert str(status) in failed.value.message


def test_a_timeout_is_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    transport = httpx.MockTransport(slow)
    with (
        HttpSynthesizer("http://tts/v1", "piper", {"en": "amy"}, timeout_s=3, transport=transport) as tts,
        pytest.raises(SpeechError) as failed,
    ):
        tts.synthesize("hello", "en")
    assert failed.value.code == "unavailable"
    assert "timed out after 3 s" in failed.value.message


def test_the_clients_send_what_openai_servers_expect() -> None:
    seen: list[httpx.Request] = []
    voice_pcm = (np.sin(np.arange(4_800) / 10) * 8_000).astype(np.int16)

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        request.read()
        if request.url.path.endswith("/audio/transcriptions"):
            return httpx.Response(200, json={"text": "  navy   suits you "})
        stereo = np.repeat(voice_pcm, 2)  # a stereo server: the client hears it as mono
        out = io.BytesIO()
        with wave.open(out, "wb") as writer:
            writer.setnchannels(2)
            writer.setsampwidth(2)
            writer.setframerate(24_000)
            writer.writeframes(stereo.astype("<i2").tobytes())
        return httpx.Response(200, content=out.getvalue(), headers={"content-type": "audio/wav"})

    transport = httpx.MockTransport(server)
    with HttpRecognizer("http://h/v1/", "whisper-1", ["en"], api_key="k3y", transport=transport) as asr:
        heard = transcribe(asr, np.ones(16_000, np.int16), "en")
    assert heard.text == "navy suits you"
    assert heard.duration_s == 1.0
    asked = seen[-1]
    assert str(asked.url) == "http://h/v1/audio/transcriptions"
    assert asked.headers["authorization"] == "Bearer k3y"
    body = asked.content
    for field in (b'name="model"', b"whisper-1", b'name="language"', b'name="response_format"', b"json"):
        assert field in body
    assert to_wav(np.ones(16_000, np.int16), SAMPLE_RATE) in body
    with HttpSynthesizer("http://h/v1", "tts-1", {"en": "alloy"}, transport=transport) as tts:
        pcm, rate = tts.synthesize("Navy suits you.", "en")
    assert rate == 24_000
    assert np.array_equal(pcm, voice_pcm)
    assert str(seen[-1].url) == "http://h/v1/audio/speech"
    assert seen[-1].headers.get("authorization") is None
    assert json.loads(seen[-1].content) == {
        "model": "tts-1",
        "input": "Navy suits you.",
        "voice": "alloy",
        "response_format": "wav",
    }


def test_a_body_that_is_not_a_transcription_is_unavailable() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    with (
        HttpRecognizer("http://h/v1", "w", ["en"], transport=transport) as asr,
        pytest.raises(SpeechError) as failed,
    ):
        transcribe(asr, np.ones(160, np.int16), "en")
    assert failed.value.code == "unavailable"
    with (
        HttpSynthesizer("http://h/v1", "t", {"en": "a"}, transport=transport) as tts,
        pytest.raises(SpeechError) as failed,
    ):
        tts.synthesize("hi", "en")
    assert failed.value.code == "unavailable"
    assert "not WAV" in failed.value.message
