"""Whisper in our own process, from a Hugging Face model folder that the deployment puts in place.

PocketSphinx hears English only; Chinese needs Whisper. This recogniser runs it with ``transformers``
(the ``whisper`` extra: torch and transformers) from ``IK_SPEECH__WHISPER_PATH``: a folder holding
``config.json``, the weights, the tokenizer files and ``preprocessor_config.json``, as
``save_pretrained`` writes them or as they are published. Nothing is downloaded: machines are
offline, so every load is ``local_files_only`` and the hub is switched off (``HF_HUB_OFFLINE=1``).

Whisper is not a streaming model: a stream keeps the PCM it is fed, and ``finish`` computes the
log-mel features and decodes the whole utterance, with the language and the task (``transcribe``)
forced so the model neither guesses the language nor translates, and at most ``max_new_tokens``
tokens per 30 s window, so a model that never emits end-of-text still stops.

Whisper sees 30 s at a time. Longer audio (uploads and recordings may run to minutes) is cut into
windows of at most 30 s, each cut made at the quietest 100 ms of the window's last 5 s so a word is
rarely split, and the windows are decoded together as one batch; their texts are joined in order.
Each window is decoded without the previous one's text as a prompt, so a word cut in two may be
heard twice or not at all, which is rare with the cut at a pause.

``confidence`` is the mean probability of the tokens chosen (end-of-text included), from the scores
``generate`` keeps anyway: a rough gauge, not a calibrated posterior; Whisper has none.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from model_servers.speech.engine import PCM, SAMPLE_RATE, Recognition, SpeechError, require_language

logger = logging.getLogger(__name__)

#: Whisper's window: the encoder takes exactly 30 s of features, padded with silence.
WINDOW_S = 30.0
#: Where in a window a long recording may be cut: the quietest stretch of the window's last seconds.
_CUT_SEARCH_S = 5.0
_CUT_FRAME = SAMPLE_RATE // 10
#: Windows decoded in one ``generate`` call; more are decoded in further calls, which bounds memory.
_BATCH = 8
#: ``<|startoftranscript|><|xx|><|transcribe|><|notimestamps|>``: the prompt every window starts with.
_PROMPT_TOKENS = 4
#: How long an utterance waits for the model before the person is told recognition is busy.
_WAIT_S = 60.0


def split_windows(pcm: PCM, *, window_s: float = WINDOW_S) -> list[PCM]:
    """``pcm`` as consecutive pieces of at most ``window_s``, each cut at the quietest 100 ms of the
    last few seconds before the limit (the middle of that stretch), so words are rarely cut in two."""
    window = int(window_s * SAMPLE_RATE)
    search = min(int(_CUT_SEARCH_S * SAMPLE_RATE), window // 2)
    pieces: list[PCM] = []
    start = 0
    while len(pcm) - start > window:
        tail = pcm[start + window - search : start + window].astype(np.float64)
        frames = len(tail) // _CUT_FRAME
        energy = (tail[: frames * _CUT_FRAME].reshape(frames, _CUT_FRAME) ** 2).sum(axis=1)
        quietest = int(np.argmin(energy))
        cut = start + window - search + quietest * _CUT_FRAME + _CUT_FRAME // 2
        pieces.append(pcm[start:cut])
        start = cut
    pieces.append(pcm[start:])
    return pieces


class WhisperRecognizer:
    """One model shared by every stream. Decoding runs one ``generate`` at a time under a lock:
    on CPU two at once only share the same cores (each slower, neither sooner) and on a GPU one
    batch already fills the device, while a pool of models would multiply the memory (~1 GB for
    whisper-small in float32, ~3 GB for large-v3 in float16) for no gain. Feeding and feature
    extraction need no lock."""

    name = "whisper"

    def __init__(
        self,
        path: Path | str,
        *,
        device: str = "cpu",
        max_new_tokens: int = 224,
        languages: Iterable[str] = ("en", "zh"),
    ) -> None:
        """Loads the model now; raises ``SpeechError`` (``unavailable``) naming ``path`` when it cannot.

        ``max_new_tokens``: the most tokens decoded per 30 s window (224 is openai-whisper's own
        bound; fast speech rarely needs more than ~150). It is lowered where the model's decoder
        holds fewer positions. ``languages``: those offered; each must be one the model knows.
        """
        if max_new_tokens < 1:
            raise ValueError("max_new_tokens must be at least 1")
        self.path = Path(path)
        self.device = device
        self.languages = frozenset(languages)
        self._lock = threading.Lock()
        self._multilingual = True
        self._model, self._features, self._tokenizer = self._load()
        positions = int(self._model.config.max_target_positions)
        self.max_new_tokens = min(max_new_tokens, positions - _PROMPT_TOKENS)
        # The model's own settings (suppressed tokens, the language table) with our bound, and the
        # scores kept for the confidence. Whisper's ``generate`` adds the prompt's length to
        # ``max_length``, so there it counts new tokens; ``max_new_tokens`` would do the same but log
        # on every call that both are set. Set on the model's own config, which this engine alone
        # holds and ``generate`` copies per call before adding the language.
        generation = self._model.generation_config
        generation.max_length = self.max_new_tokens
        generation.max_new_tokens = None
        generation.return_dict_in_generate = True
        generation.output_scores = True

    def _unavailable(self, why: str) -> SpeechError:
        return SpeechError(f"Whisper model at {self.path}: {why}", code="unavailable")

    def _load(self) -> tuple[Any, Any, Any]:
        if not self.path.is_dir():
            raise self._unavailable("no such folder (set IK_SPEECH__WHISPER_PATH to a model folder)")
        config_file = self.path / "config.json"
        try:
            model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
        except (OSError, ValueError, AttributeError) as exc:
            raise self._unavailable(f"no readable config.json ({exc})") from exc
        if model_type != "whisper":
            raise self._unavailable(f"not a Whisper model (config.json says model_type {model_type!r})")

        # Read when huggingface_hub is first imported; ``local_files_only`` below holds either way.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from transformers import (
                WhisperFeatureExtractor,
                WhisperForConditionalGeneration,
                WhisperTokenizer,
            )
        except ImportError as exc:
            raise self._unavailable(f"{exc.name} is not installed (install the `whisper` extra)") from exc

        try:
            device = torch.device(self.device)
            dtype = torch.float16 if device.type == "cuda" else torch.float32
            # Any: transformers types ``to`` through a wrapper that mypy reads as unbound
            model: Any = WhisperForConditionalGeneration.from_pretrained(
                self.path, local_files_only=True, dtype=dtype
            )
            model.to(device)
            features = WhisperFeatureExtractor.from_pretrained(self.path, local_files_only=True)
            tokenizer = WhisperTokenizer.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError, AssertionError) as exc:
            # OSError: a missing weights or tokenizer file; RuntimeError/AssertionError: a device
            # that is absent (no CUDA) or too small; ValueError/KeyError: files that do not match.
            raise self._unavailable(f"could not load it on {self.device} ({exc})") from exc
        model.eval()

        if features.sampling_rate != SAMPLE_RATE:
            raise self._unavailable(f"its feature extractor expects {features.sampling_rate} Hz")
        self._check_languages(model.generation_config)
        logger.info(
            "loaded Whisper",
            extra={"path": str(self.path), "device": self.device, "parameters": model.num_parameters()},
        )
        return model, features, tokenizer

    def _check_languages(self, generation: Any) -> None:
        """Every language offered is one the model was trained on, told by its generation config."""
        # An English-only model (``*.en``) refuses a forced language; it is asked for none.
        self._multilingual = bool(getattr(generation, "is_multilingual", True))
        if not self._multilingual:
            if self.languages != {"en"}:
                others = ", ".join(sorted(self.languages - {"en"}))
                raise self._unavailable(
                    f'an English-only model cannot hear {others} (set IK_SPEECH__ASR_LANGUAGES=["en"])'
                )
            return
        known = getattr(generation, "lang_to_id", None) or {}
        missing = sorted(lang for lang in self.languages if f"<|{lang}|>" not in known)
        if missing:
            raise self._unavailable(
                f"its generation_config.json knows no {', '.join(missing)} "
                "(set IK_SPEECH__ASR_LANGUAGES to the languages it has)"
            )
        if "transcribe" not in (getattr(generation, "task_to_id", None) or {}):
            raise self._unavailable("its generation_config.json has no transcribe task")

    def stream(self, language: str) -> _WhisperStream:
        require_language(self.name, self.languages, language)
        return _WhisperStream(self, language)

    def recognise(self, pcm: PCM, language: str) -> Recognition:
        """The whole of ``pcm``: one or more windows decoded with ``language`` forced."""
        duration_s = len(pcm) / SAMPLE_RATE
        if len(pcm) == 0:
            return Recognition("", language, self.name, 0.0, None)
        texts: list[str] = []
        probabilities: list[float] = []
        windows = split_windows(pcm)
        for first in range(0, len(windows), _BATCH):
            batch = windows[first : first + _BATCH]
            batch_texts, batch_probabilities = self._decode(batch, language)
            texts.extend(batch_texts)
            probabilities.extend(batch_probabilities)
        # Chinese is written without spaces between words, so windows join without one either.
        joiner = "" if language == "zh" else " "
        text = joiner.join(t for t in texts if t)
        confidence = float(np.mean(probabilities)) if text and probabilities else None
        return Recognition(text, language, self.name, duration_s, confidence)

    def _decode(self, windows: list[PCM], language: str) -> tuple[list[str], list[float]]:
        """Each window's text and the probabilities of every token generated for them (through
        end-of-text; the padding after it is not the model's choice)."""
        import torch

        audio = [(w.astype(np.float32) / 32768.0) for w in windows]
        inputs = self._features(
            audio, sampling_rate=SAMPLE_RATE, return_tensors="pt", return_attention_mask=True
        )
        features = inputs.input_features.to(self._model.device, self._model.dtype)
        mask = inputs.attention_mask.to(self._model.device)
        if not self._lock.acquire(timeout=_WAIT_S):
            raise SpeechError(f"the Whisper model stayed busy for {_WAIT_S:.0f} s")
        try:
            with torch.inference_mode():
                forced = {"language": language, "task": "transcribe"} if self._multilingual else {}
                out = self._model.generate(
                    features,
                    attention_mask=mask,
                    return_timestamps=False,
                    **forced,
                )
                # log-softmax of the scores the model chose from (after Whisper's suppressions)
                logprobs = self._model.compute_transition_scores(
                    out.sequences, out.scores, normalize_logits=True
                )
        except RuntimeError as exc:  # out of GPU memory among them: the next utterance may fit
            raise SpeechError(f"Whisper failed on {len(windows)} window(s): {exc}") from exc
        finally:
            self._lock.release()

        generated = out.sequences[:, -logprobs.shape[1] :].cpu()
        eos = self._model.generation_config.eos_token_id
        ends = set(eos if isinstance(eos, list) else [eos])
        texts: list[str] = []
        probabilities: list[float] = []
        for tokens, scores in zip(generated.tolist(), logprobs.float().cpu().numpy(), strict=True):
            kept = len(tokens)
            for i, token in enumerate(tokens):
                if token in ends:
                    kept = i + 1
                    break
            probabilities.extend(np.exp(scores[:kept]).tolist())
            texts.append(self._tokenizer.decode(tokens[:kept], skip_special_tokens=True).strip())
        return texts, probabilities


class _WhisperStream:
    def __init__(self, engine: WhisperRecognizer, language: str) -> None:
        self._engine = engine
        self._language = language
        self._chunks: list[PCM] = []
        self._spent = False

    def feed(self, pcm: PCM) -> None:
        if self._spent:
            raise SpeechError("this utterance is already finished", code="bad_request")
        if len(pcm):
            # copied: callers reuse their buffers, and Whisper only reads them at ``finish``
            self._chunks.append(np.array(pcm, dtype=np.int16))

    def finish(self) -> Recognition:
        if self._spent:
            raise SpeechError("this utterance is already finished", code="bad_request")
        self._spent = True
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        self._chunks = []
        return self._engine.recognise(pcm, self._language)

    def close(self) -> None:
        self._spent = True
        self._chunks = []
