"""The speech server with its real engines: OpenAI's audio endpoints, and refusals a client can act on."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient

from model_servers.speech.__main__ import main, parser
from model_servers.speech.app import create_app
from model_servers.speech.audio import to_wav
from model_servers.speech.espeak_engine import EspeakSynthesizer
from model_servers.speech.pocketsphinx_engine import PocketSphinxRecognizer
from tests.model_servers.speech.conftest import BLACK_JACKET, RED_DRESS

pytestmark = pytest.mark.unit

Speak = Callable[[str], bytes]


@pytest.fixture(scope="module")
def client(recognizer: PocketSphinxRecognizer, synthesizer: EspeakSynthesizer) -> TestClient:
    return TestClient(create_app(recognizer, synthesizer, max_seconds=10))


def _wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        return np.frombuffer(reader.readframes(reader.getnframes()), "<i2"), reader.getframerate()


def test_speech_is_transcribed_like_openai_answers(client: TestClient, flite: Speak) -> None:
    response = client.post(
        "/v1/audio/transcriptions",
        files={"file": ("speech.wav", flite(BLACK_JACKET), "audio/wav")},
        data={"model": "whisper-1"},
    )
    assert response.status_code == 200
    assert set(response.json()) == {"text"}
    assert "black jacket" in response.json()["text"]


def test_the_response_formats(client: TestClient, flite: Speak) -> None:
    files = {"file": ("speech.wav", flite(RED_DRESS), "audio/wav")}
    text = client.post("/v1/audio/transcriptions", files=files, data={"response_format": "text"})
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    assert "red dress" in text.text
    verbose = client.post(
        "/v1/audio/transcriptions",
        files=files,
        data={"response_format": "verbose_json", "language": "en-US"},
    ).json()
    assert verbose["language"] == "en"
    assert "red dress" in verbose["text"]
    # flite's slt voice says the sentence in about a second and a half.
    assert 0.8 < verbose["duration"] < 3.0


def test_a_language_the_recogniser_lacks_is_refused_as_such(client: TestClient, flite: Speak) -> None:
    response = client.post(
        "/v1/audio/transcriptions",
        files={"file": ("speech.wav", flite(BLACK_JACKET), "audio/wav")},
        data={"language": "zh"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unsupported_language"
    assert "pocketsphinx" in response.json()["detail"]


@pytest.mark.parametrize(
    ("audio", "status", "code"),
    [
        (b"this is not audio at all, just some text", 415, "unreadable"),
        (b"", 422, "empty"),
        (to_wav(np.zeros(0, np.int16), 16_000), 422, "empty"),
        (to_wav(np.zeros(4_000, np.int16), 4_000), 422, "unsupported_rate"),
        (to_wav(np.zeros(11 * 16_000, np.int16), 16_000), 413, "too_long"),
    ],
    ids=["not-audio", "no-bytes", "no-samples", "low-rate", "too-long"],
)
def test_unusable_audio_gets_the_apis_codes(client: TestClient, audio: bytes, status: int, code: str) -> None:
    response = client.post("/v1/audio/transcriptions", files={"file": ("a.wav", audio, "audio/wav")})
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["detail"]


@pytest.mark.parametrize(("voice", "text"), [("en", "Navy goes with grey."), ("zh-cmn", "藏青色配灰色。")])
def test_speech_comes_back_as_wav(client: TestClient, voice: str, text: str) -> None:
    response = client.post(
        "/v1/audio/speech", json={"model": "tts-1", "input": text, "voice": voice, "speed": 1.0}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    samples, rate = _wav(response.content)
    assert rate == int(response.headers["x-sample-rate"]) == 22_050
    assert len(samples) / rate > 0.5
    assert np.abs(samples.astype(np.int32)).max() > 1_000


def test_the_language_field_overrides_the_voice_and_pcm_is_raw(client: TestClient) -> None:
    wav = client.post("/v1/audio/speech", json={"model": "m", "input": "你好", "voice": "zh"})
    pcm = client.post(
        "/v1/audio/speech",
        json={"model": "m", "input": "你好", "voice": "alloy", "language": "zh", "response_format": "pcm"},
    )
    assert pcm.status_code == 200
    assert pcm.headers["content-type"] == "audio/pcm"
    assert pcm.headers["x-sample-rate"] == "22050"
    samples, _ = _wav(wav.content)
    # The same voice for the same text: the WAV is the PCM with a header.
    assert np.array_equal(np.frombuffer(pcm.content, "<i2"), samples)


def test_speech_requests_it_cannot_serve_are_refused(client: TestClient) -> None:
    unknown = client.post("/v1/audio/speech", json={"model": "m", "input": "hi", "voice": "alloy"})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unsupported_language"
    french = client.post("/v1/audio/speech", json={"model": "m", "input": "salut", "voice": "fr"})
    assert french.json()["code"] == "unsupported_language"
    too_long = client.post("/v1/audio/speech", json={"model": "m", "input": "a" * 4097, "voice": "en"})
    assert too_long.status_code == 422
    empty = client.post("/v1/audio/speech", json={"model": "m", "input": "", "voice": "en"})
    assert empty.status_code == 422


def test_health_and_models_name_the_engines(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health == {
        "status": "ok",
        "asr": "pocketsphinx",
        "tts": "espeak-ng",
        "asr_languages": ["en"],
        "tts_languages": ["en", "zh"],
        "max_seconds": 10.0,
    }
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert {(m["id"], m["task"]) for m in models["data"]} == {
        ("pocketsphinx", "transcription"),
        ("espeak-ng", "speech"),
    }


def test_the_embedded_engines_are_built_in_the_lifespan(flite: Speak) -> None:
    args = parser().parse_args(["--asr-pool", "1", "--max-seconds", "30"])
    assert (args.port, args.lm, args.asr_pool, args.max_seconds) == (8004, None, 1, 30.0)
    app = create_app(max_seconds=args.max_seconds, asr_pool=args.asr_pool)
    with TestClient(app) as client:
        assert client.get("/health").json()["max_seconds"] == 30.0
        response = client.post("/v1/audio/transcriptions", files={"file": ("s.wav", flite(BLACK_JACKET))})
        assert "black jacket" in response.json()["text"]


def test_the_command_line_refuses_bad_options() -> None:
    for argv in (["--asr-pool", "0"], ["--max-seconds", "0"]):
        with pytest.raises(SystemExit):
            parser().parse_args(argv)
    with pytest.raises(SystemExit):
        main(["--lm", "/nonexistent/style.arpa"])
