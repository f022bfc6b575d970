"""The Whisper recogniser's code path on a tiny randomly initialised Whisper (d_model 64, two layers,
a byte-level vocabulary of a few hundred tokens) built here and saved like a published model: loading
from a folder, features from 16 kHz PCM, the language and task forced, bounded decoding, refusals.
Random weights say nothing of accuracy: the text is whatever they decode to and is never checked."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from core.config import SpeechSettings
from model_servers.speech.engine import SAMPLE_RATE, SpeechError, transcribe
from model_servers.speech.whisper_engine import WINDOW_S, WhisperRecognizer, split_windows
from tests.conftest import make_settings

pytestmark = [pytest.mark.unit, pytest.mark.slow]

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

SPECIAL = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|zh|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
]
MAX_NEW_TOKENS = 12


def build_tiny_whisper(
    folder: Path, *, languages: tuple[str, ...] = ("en", "zh"), multilingual: bool = True
) -> Path:
    """A Whisper of the real architecture and file layout, with random weights and a tiny vocabulary;
    ``multilingual=False`` makes one like ``whisper-*.en``, whose prompt names no language."""
    from tokenizers.pre_tokenizers import ByteLevel

    vocab = {char: i for i, char in enumerate(sorted(ByteLevel.alphabet()))}
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r")]
    for left, right in merges:
        vocab[left + right] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    tokenizer = transformers.WhisperTokenizer(vocab=vocab, merges=merges)
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL[1:]})
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL}
    eot = ids["<|endoftext|>"]

    config = transformers.WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_source_positions=1500,
        max_target_positions=64,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=ids["<|startoftranscript|>"],
    )
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(config)
    model.generation_config = transformers.GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"],
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=64,
        is_multilingual=multilingual,
        **(
            {
                "lang_to_id": {f"<|{lang}|>": ids[f"<|{lang}|>"] for lang in languages},
                "task_to_id": {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
            }
            if multilingual
            else {}
        ),
        no_timestamps_token_id=ids["<|notimestamps|>"],
        suppress_tokens=[],
        begin_suppress_tokens=[eot],
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    transformers.WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """A tiny model on a shared machine: two threads only wait for each other (20× slower here when
    another process keeps a core busy), as in the try-on engine's tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_whisper(tmp_path_factory.mktemp("whisper-tiny-random"))


@pytest.fixture(scope="module")
def recognizer(model_dir: Path) -> WhisperRecognizer:
    return WhisperRecognizer(model_dir, max_new_tokens=MAX_NEW_TOKENS)


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 2000).astype(np.int16)


def test_the_folder_is_what_a_published_model_has(model_dir: Path) -> None:
    names = {p.name for p in model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "generation_config.json", "preprocessor_config.json"} <= names
    assert "tokenizer.json" in names or "vocab.json" in names


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_second_of_speech_is_recognised_in_the_language_asked(
    recognizer: WhisperRecognizer, language: str
) -> None:
    stream = recognizer.stream(language)
    pcm = noise(1.0)
    # fed in 20 ms frames as the voice socket does; Whisper keeps them until the utterance ends
    for start in range(0, len(pcm), 320):
        stream.feed(pcm[start : start + 320])
    result = stream.finish()
    assert isinstance(result.text, str)
    assert result.text == result.text.strip()
    assert (result.engine, result.language) == ("whisper", language)
    assert result.duration_s == pytest.approx(1.0)
    assert result.confidence is None or 0.0 <= result.confidence <= 1.0


def test_the_language_and_task_are_forced_and_decoding_is_bounded(
    recognizer: WhisperRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    model: Any = recognizer._model
    calls: list[tuple[dict[str, Any], Any]] = []
    generate = model.generate

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = generate(*args, **kwargs)
        calls.append((kwargs, out.sequences))
        return out

    monkeypatch.setattr(model, "generate", spy)
    started = time.monotonic()
    transcribe(recognizer, noise(2.0, seed=1), "zh")
    assert time.monotonic() - started < 20
    [(kwargs, sequences)] = calls
    assert (kwargs["language"], kwargs["task"]) == ("zh", "transcribe")
    tokenizer: Any = recognizer._tokenizer
    prompt = tokenizer.convert_ids_to_tokens(sequences[0, :4].tolist())
    assert prompt == ["<|startoftranscript|>", "<|zh|>", "<|transcribe|>", "<|notimestamps|>"]
    assert sequences.shape[1] <= 4 + MAX_NEW_TOKENS


def test_max_new_tokens_is_held_to_what_the_decoder_can_hold(model_dir: Path) -> None:
    # the tiny decoder has 64 positions, four of which the prompt takes
    assert WhisperRecognizer(model_dir, max_new_tokens=10_000).max_new_tokens == 60
    with pytest.raises(ValueError, match="max_new_tokens"):
        WhisperRecognizer(model_dir, max_new_tokens=0)


def test_audio_longer_than_a_window_is_cut_at_a_pause_and_decoded_whole(
    recognizer: WhisperRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pcm = noise(70.0, seed=2)
    pause = int(27.5 * SAMPLE_RATE)
    pcm[pause : pause + SAMPLE_RATE // 5] = 0
    pieces = split_windows(pcm)
    assert sum(len(p) for p in pieces) == len(pcm)
    assert all(len(p) <= WINDOW_S * SAMPLE_RATE for p in pieces)
    assert len(pieces) == 3
    assert pause <= len(pieces[0]) <= pause + SAMPLE_RATE // 5

    model: Any = recognizer._model
    batches: list[int] = []
    generate = model.generate

    def spy(features: Any, **kwargs: Any) -> Any:
        batches.append(features.shape[0])
        return generate(features, **kwargs)

    monkeypatch.setattr(model, "generate", spy)
    result = transcribe(recognizer, pcm, "en")
    assert batches == [3]
    assert result.duration_s == pytest.approx(70.0)


def test_silence_and_nothing(recognizer: WhisperRecognizer) -> None:
    empty = recognizer.stream("en").finish()
    assert (empty.text, empty.duration_s, empty.confidence) == ("", 0.0, None)
    assert transcribe(recognizer, np.zeros(SAMPLE_RATE // 2, np.int16), "en").duration_s == 0.5


def test_a_closed_stream_gives_no_result(recognizer: WhisperRecognizer) -> None:
    stream = recognizer.stream("en")
    stream.feed(noise(0.5))
    stream.close()
    with pytest.raises(SpeechError) as refused:
        stream.finish()
    assert refused.value.code == "bad_request"


def test_a_language_it_lacks_is_refused_as_such(recognizer: WhisperRecognizer) -> None:
    with pytest.raises(SpeechError) as refused:
        recognizer.stream("fr")
    assert refused.value.code == "unsupported_language"
    assert "whisper" in refused.value.message


def test_a_model_without_a_language_it_is_asked_for_is_unavailable(tmp_path: Path) -> None:
    folder = build_tiny_whisper(tmp_path / "english-only", languages=("en",))
    assert WhisperRecognizer(folder, languages=("en",)).languages == {"en"}
    with pytest.raises(SpeechError) as refused:
        WhisperRecognizer(folder)
    assert refused.value.code == "unavailable"
    assert str(folder) in refused.value.message
    assert "zh" in refused.value.message


def test_an_english_only_model_hears_english_without_a_forced_language(tmp_path: Path) -> None:
    folder = build_tiny_whisper(tmp_path / "tiny.en", multilingual=False)
    with pytest.raises(SpeechError) as refused:
        WhisperRecognizer(folder)
    assert refused.value.code == "unavailable"
    assert "English-only" in refused.value.message
    english = WhisperRecognizer(folder, languages=["en"], max_new_tokens=4)
    result = transcribe(english, noise(0.5), "en")
    assert (result.engine, result.language, result.duration_s) == ("whisper", "en", 0.5)


def test_folders_that_hold_no_whisper_are_unavailable_and_named(tmp_path: Path, model_dir: Path) -> None:
    missing = tmp_path / "nowhere"
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "empty").mkdir()
    no_weights = tmp_path / "no-weights"
    shutil.copytree(model_dir, no_weights)
    (no_weights / "model.safetensors").unlink()
    for folder, why in [
        (missing, "no such folder"),
        (tmp_path / "bert", "not a Whisper model"),
        (tmp_path / "empty", "config.json"),
        (no_weights, "could not load"),
    ]:
        with pytest.raises(SpeechError) as refused:
            WhisperRecognizer(folder)
        assert refused.value.code == "unavailable"
        assert str(folder) in refused.value.message
        assert why in refused.value.message


def test_settings_need_a_path_for_whisper(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="IK_SPEECH__WHISPER_PATH"):
        SpeechSettings(asr="whisper")
    speech = SpeechSettings(asr="whisper", whisper_path=model_dir)
    assert (speech.whisper_path, speech.whisper_device) == (model_dir, "cpu")


def test_open_recognizer_picks_whisper(model_dir: Path, tmp_path: Path) -> None:
    from agent.voice.engines import open_recognizer

    speech = {"asr": "whisper", "whisper_path": model_dir, "asr_languages": ["en"]}
    settings = make_settings(tmp_path, speech=speech)
    engine = open_recognizer(settings)
    assert isinstance(engine, WhisperRecognizer)
    assert (engine.name, engine.languages, engine.device) == ("whisper", frozenset({"en"}), "cpu")


def _wav(pcm: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm.astype("<i2").tobytes())
    return out.getvalue()


def test_the_speech_server_serves_whisper(model_dir: Path) -> None:
    from model_servers.speech.__main__ import build_app, parser

    app = build_app(parser().parse_args(["--whisper", str(model_dir), "--max-seconds", "10"]))
    with TestClient(app) as client:
        response = client.post(
            "/v1/audio/transcriptions",
            files={"file": ("speech.wav", _wav(noise(1.0)), "audio/wav")},
            data={"response_format": "verbose_json", "language": "zh-CN"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["language"] == "zh"
        assert isinstance(body["text"], str)
        assert body["duration"] == pytest.approx(1.0)
        french = client.post(
            "/v1/audio/transcriptions",
            files={"file": ("speech.wav", _wav(noise(1.0)), "audio/wav")},
            data={"language": "fr"},
        )
        assert french.status_code == 422
        assert french.json()["code"] == "unsupported_language"


def test_the_speech_server_refuses_a_folder_without_whisper(tmp_path: Path) -> None:
    from model_servers.speech.__main__ import main

    with pytest.raises(SystemExit):
        main(["--whisper", str(tmp_path / "nowhere")])


def test_the_embedded_speech_server_does_not_import_torch() -> None:
    """torch and transformers take seconds and hundreds of MB to import: only ``--whisper`` pays
    (``agent.voice.engines`` imports the Whisper engine inside ``open_recognizer`` alike)."""
    code = (
        "import sys, model_servers.speech.__main__, model_servers.speech.app\n"
        "loaded = {'torch', 'transformers'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    # our own interpreter running a fixed string
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3], timeout=120)  # noqa: S603
