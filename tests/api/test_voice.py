"""The voice socket end to end: real speech (flite) in, PocketSphinx, the agent, espeak-ng out."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from model_servers.speech.audio import decode, resample
from tests.api.conftest import API, Session

pytestmark = [pytest.mark.unit, pytest.mark.timeout(240)]

Speak = Callable[[str], bytes]
QUESTION = "is the black jacket in stock"
SILENCE = np.zeros(16_000, np.int16)


@pytest.fixture
def user(new_user: Callable[..., Session]) -> Session:
    return new_user()


def _pcm(flite: Speak, text: str = QUESTION) -> np.ndarray:
    return decode(flite(text), max_seconds=30).pcm


def _send_pcm(ws: WebSocketTestSession, pcm: np.ndarray, chunk: int = 1600) -> None:
    for start in range(0, len(pcm), chunk):
        ws.send_bytes(pcm[start : start + chunk].astype("<i2").tobytes())


def _receive_until(ws: WebSocketTestSession, last: str) -> list[dict[str, Any]]:
    """JSON events until ``last``; each ``audio`` event gets the binary frame that follows it."""
    frames: list[dict[str, Any]] = []
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["event"] == "audio":
            frame["audio"] = ws.receive_bytes()
        frames.append(frame)
        if frame["event"] == last:
            return frames


def _ready(ws: WebSocketTestSession) -> dict[str, Any]:
    ready: dict[str, Any] = ws.receive_json()
    assert ready["event"] == "ready", ready
    data: dict[str, Any] = ready["data"]
    return data


def _events(frames: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["event"] == name]


def test_a_push_to_talk_turn_is_heard_answered_spoken_and_kept(
    client: TestClient, user: Session, flite: Speak
) -> None:
    with client.websocket_connect(f"{API}/voice/ws?token={user.access_token}") as ws:
        ready = _ready(ws)
        assert ready["asr"] == "pocketsphinx"
        assert ready["languages_heard"] == ["en"]
        assert ready["languages_spoken"] == ["en", "zh"]
        ws.send_json({"type": "config", "mode": "push_to_talk"})
        assert ws.receive_json()["event"] == "configured"
        ws.send_json({"type": "start"})
        _send_pcm(ws, _pcm(flite))
        ws.send_json({"type": "end"})
        frames = _receive_until(ws, "audio_done")

    [transcript] = _events(frames, "transcript")
    assert transcript["data"]["text"] == QUESTION
    assert transcript["data"]["engine"] == "pocketsphinx"
    replies = [f["data"] for f in _events(frames, "message") if f["data"]["role"] == "assistant"]
    assert replies, [f["event"] for f in frames]
    audio = _events(frames, "audio")
    assert audio
    samples = np.frombuffer(audio[0]["audio"], "<i2")
    assert len(samples) / audio[0]["data"]["sample_rate"] > 0.3
    assert np.abs(samples).max() > 1000  # speech, not silence
    done = _events(frames, "audio_done")[0]["data"]
    assert done["chunks"] == len(audio)
    assert not done["interrupted"]

    session_id = _events(frames, "session")[0]["data"]["session_id"]
    history = client.get(f"{API}/chat/sessions/{session_id}", headers=user.headers).json()["history"]
    spoken = [m for m in history if m["data"]["role"] == "user"]
    assert spoken[0]["data"]["text"] == QUESTION
    assert spoken[0]["data"]["voice"]["engine"] == "pocketsphinx"
    assert spoken[0]["data"]["voice"]["duration_s"] > 1


def test_hands_free_at_48_khz_finds_the_end_of_speech_itself(
    client: TestClient, user: Session, flite: Speak
) -> None:
    pcm = np.concatenate([SILENCE, _pcm(flite), SILENCE])
    with client.websocket_connect(f"{API}/voice/ws") as ws:
        ws.send_json({"type": "auth", "token": user.access_token})
        _ready(ws)
        ws.send_json({"type": "config", "sample_rate": 48_000, "locale": "en"})
        assert ws.receive_json()["data"]["sample_rate"] == 48_000
        _send_pcm(ws, resample(pcm, 16_000, 48_000), chunk=4800)
        frames = _receive_until(ws, "audio_done")
    names = [f["event"] for f in frames]
    assert names.index("speech_started") < names.index("speech_ended") < names.index("transcript")
    assert _events(frames, "speech_ended")[0]["data"]["reason"] == "silence"
    assert _events(frames, "transcript")[0]["data"]["text"] == QUESTION


def _webm_opus(pcm: np.ndarray) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=48_000)
        frame = av.AudioFrame.from_ndarray(resample(pcm, 16_000, 48_000).reshape(1, -1), "s16", "mono")
        frame.sample_rate = 48_000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def test_opus_in_webm_from_a_browser_is_decoded_when_the_button_is_released(
    client: TestClient, user: Session, flite: Speak
) -> None:
    webm = _webm_opus(np.concatenate([SILENCE[:4000], _pcm(flite), SILENCE[:4000]]))
    with client.websocket_connect(f"{API}/voice/ws?token={user.access_token}") as ws:
        _ready(ws)
        ws.send_json({"type": "config", "format": "webm"})  # hands-free cannot take encoded audio
        error = ws.receive_json()
        assert error["event"] == "error"
        assert "push-to-talk" in error["data"]["detail"]
        ws.send_json({"type": "config", "format": "webm", "mode": "push_to_talk"})
        assert ws.receive_json()["data"]["format"] == "webm"
        ws.send_json({"type": "start"})
        for start in range(0, len(webm), 4096):
            ws.send_bytes(webm[start : start + 4096])
        ws.send_json({"type": "end"})
        frames = _receive_until(ws, "audio_done")
        assert _events(frames, "transcript")[0]["data"]["text"] == QUESTION

        # Pressing again talks over the reply, which the client is still playing.
        ws.send_json({"type": "start"})
        ws.send_bytes(b"this is not a webm file")
        ws.send_json({"type": "end"})
        frames = _receive_until(ws, "error")
        assert [f["event"] for f in frames] == ["barge_in", "error"]
        assert frames[1]["data"]["code"] == "unreadable"
        notice = _receive_until(ws, "notice")[-1]
        assert notice["data"]["code"] == "no_speech"


def test_silence_noise_and_bad_frames_get_clear_answers(client: TestClient, user: Session) -> None:
    noise = np.random.default_rng(7).normal(0, 2000, 16_000 * 2).astype(np.int16)
    with client.websocket_connect(f"{API}/voice/ws?token={user.access_token}") as ws:
        _ready(ws)
        ws.send_json({"type": "config", "sample_rate": 4000})
        error = ws.receive_json()
        assert error["data"]["code"] == "unsupported_rate"
        ws.send_text("{not json")
        assert ws.receive_json()["data"]["code"] == "bad_frame"
        ws.send_json({"type": "config", "session_id": "00000000-0000-0000-0000-000000000000"})
        assert ws.receive_json()["data"]["code"] == "session_not_found"

        ws.send_json({"type": "config", "mode": "push_to_talk"})
        ws.receive_json()
        for pcm in (SILENCE, noise):
            ws.send_json({"type": "start"})
            _send_pcm(ws, pcm)
            ws.send_json({"type": "end"})
            frames = _receive_until(ws, "audio_done")
            notice = _events(frames, "notice")[0]["data"]
            assert notice["code"] == "no_speech"
            assert "didn't hear" in notice["text"]
            assert _events(frames, "audio")  # said out loud too
            assert not _events(frames, "transcript")


def test_chinese_is_refused_politely_by_an_english_only_recogniser(
    client: TestClient, user: Session, flite: Speak
) -> None:
    with client.websocket_connect(f"{API}/voice/ws?token={user.access_token}") as ws:
        _ready(ws)
        ws.send_json({"type": "config", "mode": "push_to_talk", "locale": "zh"})
        ws.receive_json()
        ws.send_json({"type": "start"})
        _send_pcm(ws, _pcm(flite))
        ws.send_json({"type": "end"})
        frames = _receive_until(ws, "audio_done")
    notice = _events(frames, "notice")[0]["data"]
    assert notice["code"] == "language_unsupported"
    assert "只支持英语" in notice["text"]
    assert _events(frames, "audio")


def test_a_disconnect_mid_utterance_leaves_the_server_working(
    client: TestClient, user: Session, flite: Speak
) -> None:
    pcm = _pcm(flite)
    with client.websocket_connect(f"{API}/voice/ws?token={user.access_token}") as ws:
        _ready(ws)
        _send_pcm(ws, np.concatenate([SILENCE, pcm[: len(pcm) // 2]]))
    with client.websocket_connect(f"{API}/voice/ws?token={user.access_token}") as ws:
        _ready(ws)
        _send_pcm(ws, np.concatenate([SILENCE, pcm, SILENCE]))
        frames = _receive_until(ws, "audio_done")
    assert _events(frames, "transcript")[0]["data"]["text"] == QUESTION


def test_the_voice_socket_needs_a_signed_in_person(client: TestClient) -> None:
    with (
        client.websocket_connect(f"{API}/voice/ws?token=nonsense") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4401
