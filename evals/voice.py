"""``python -m evals voice``: the spoken conversation, from sound in to sound out.

Held-out English utterances (``evals/data/voice/utterances.jsonl``, written for this suite and kept
out of the intent training sentences the domain language model is built from) are synthesised at
run time with flite's voices (``slt``, ``rms``, ``awb``, ``kal16``) and espeak-ng's. The audio is
synthetic, not recorded people, so the figures are for clean, evenly paced speech; espeak-ng's
formant voice is recognised far worse than flite's and is reported apart, not hidden in a mean.

* **Recogniser**: word error rate of the embedded PocketSphinx on whole clips, with the domain
  language model and with PocketSphinx's general one, per voice and over the flite voices; reference
  and hypothesis are both normalised with ``spoken_words``. Real-time factor: seconds spent
  recognising per second of audio.
* **Round trips**: a hands-free ``VoiceSession`` on the real agent (template replies, embedded stores
  in a temporary folder) is fed each clip in 20 ms chunks paced in real time, with 1 s of silence
  before and 1.5 s after. Latency is from the moment the last sample of speech (the last one louder
  than ``SPEECH_LEVEL``) was fed to the first ``audio`` event of the reply. Targets: p50 ≤ 800 ms,
  p95 ≤ 1.5 s.
* **Bad input**: silence, noise, clipping, odd sample rates, a monologue past the length limit and
  a person leaving mid-sentence; each must end with a clear event, within a time limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from evals.measure import machine, percentile
from model_servers.speech.audio import AudioError, Clip, decode, resample, to_wav
from model_servers.speech.engine import PCM, SAMPLE_RATE, SpeechRecognizer, transcribe
from model_servers.speech.lm import spoken_words

Mode = Literal["hands_free", "push_to_talk"]

DATA_DIR = Path(__file__).parent / "data" / "voice"
FLITE_VOICES = ("slt", "rms", "awb", "kal16")
VOICES = (*FLITE_VOICES, "espeak")
#: A sample louder than this is speech when finding where a clip's speech really ends.
SPEECH_LEVEL = 500
CHUNK = SAMPLE_RATE // 50  # 20 ms
LEAD_S = 1.0
TAIL_S = 1.5
LATENCY_P50_TARGET_MS = 800.0
LATENCY_P95_TARGET_MS = 1500.0
#: Catalogue products loaded for the agent behind the round trips (search needs some, not all).
CATALOG_LIMIT = 2000
#: Seconds a whole round trip or bad-input case may take before it counts as hung.
CASE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Utterance:
    id: str
    text: str
    intent: str


def load_utterances(path: Path = DATA_DIR / "utterances.jsonl") -> list[Utterance]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [Utterance(str(r["id"]), str(r["text"]), str(r["intent"])) for r in rows]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed (Debian: apt-get install flite espeak-ng)")
    return found


def synthesize(text: str, voice: str) -> Clip:
    """``text`` spoken by a flite voice, or by the product's own espeak-ng voice (``espeak``, at
    espeak-ng's default 175 words a minute), as 16 kHz mono. Flite reads the text from a file,
    never from a command-line option."""
    if voice == "espeak":
        from model_servers.speech.espeak_engine import EspeakSynthesizer

        pcm, rate = EspeakSynthesizer(words_per_minute=175).synthesize(text, "en")
        return Clip(resample(pcm, rate), rate, 1)
    flite = _binary("flite")
    with tempfile.TemporaryDirectory(prefix="ik-voice-") as folder:
        source, out = Path(folder) / "in.txt", Path(folder) / "out.wav"
        source.write_text(text, encoding="utf-8")
        command = [flite, "-voice", voice, "-f", str(source), "-o", str(out)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603 - a fixed binary
        return decode(out.read_bytes(), max_seconds=600)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words), both texts as ``spoken_words``."""
    ref, hyp = spoken_words(reference), spoken_words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != heard))
    return row[len(hyp)], len(ref)


def speech_bounds(pcm: PCM, level: int = SPEECH_LEVEL) -> tuple[int, int]:
    """First and one past the last sample louder than ``level`` (0, 0 for a silent clip)."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > level)
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, 0)


# --- the recogniser -----------------------------------------------------------------------------------

_RECOGNIZERS: dict[str, SpeechRecognizer] = {}


def _open_recognizers(domain_lm_path: str) -> None:
    from model_servers.speech.pocketsphinx_engine import PocketSphinxRecognizer

    _RECOGNIZERS["domain"] = PocketSphinxRecognizer(Path(domain_lm_path), pool_size=1)
    _RECOGNIZERS["general"] = PocketSphinxRecognizer(None, pool_size=1)


def _score_clip(voice: str, utterance: Utterance) -> dict[str, Any]:
    """One clip through both language models (in a worker process with ``_open_recognizers`` run)."""
    clip = synthesize(utterance.text, voice)
    record: dict[str, Any] = {"voice": voice, "id": utterance.id, "audio_s": round(clip.duration_s, 3)}
    for lm, recognizer in _RECOGNIZERS.items():
        started = time.perf_counter()
        heard = transcribe(recognizer, clip.pcm, "en")
        seconds = time.perf_counter() - started
        errors, words = word_errors(utterance.text, heard.text)
        record[lm] = {"text": heard.text, "errors": errors, "words": words, "seconds": round(seconds, 3)}
    return record


def _wer(records: Sequence[dict[str, Any]], lm: str) -> dict[str, Any]:
    errors = sum(r[lm]["errors"] for r in records)
    words = sum(r[lm]["words"] for r in records)
    seconds = sum(r[lm]["seconds"] for r in records)
    audio = sum(r["audio_s"] for r in records)
    return {
        "wer": round(errors / words, 4) if words else None,
        "errors": errors,
        "words": words,
        "rtf": round(seconds / audio, 3) if audio else None,
    }


def recognizer_wer(
    utterances: Sequence[Utterance], voices: Sequence[str], domain_lm_path: Path, *, workers: int
) -> dict[str, Any]:
    """WER and real-time factor per voice and language model; ``workers`` processes decode (PocketSphinx
    holds the GIL, so threads would not help)."""
    jobs = [(voice, u) for voice in voices for u in utterances]
    if workers <= 1:
        _open_recognizers(str(domain_lm_path))
        records = [_score_clip(voice, u) for voice, u in jobs]
    else:
        import multiprocessing

        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_recognizers,
            initargs=(str(domain_lm_path),),
        ) as pool:
            records = list(pool.map(_score_clip, *zip(*jobs, strict=True)))
    by_voice = {
        voice: {lm: _wer([r for r in records if r["voice"] == voice], lm) for lm in ("domain", "general")}
        for voice in voices
    }
    flite = [r for r in records if r["voice"] in FLITE_VOICES]
    worst = sorted(records, key=lambda r: -r["domain"]["errors"])[:5]
    return {
        "utterances": len(utterances),
        "clips": len(records),
        "by_voice": by_voice,
        "flite": {lm: _wer(flite, lm) for lm in ("domain", "general")} if flite else None,
        "all": {lm: _wer(records, lm) for lm in ("domain", "general")},
        "worst_domain": [
            {
                "voice": r["voice"],
                "id": r["id"],
                "heard": r["domain"]["text"],
                "errors": r["domain"]["errors"],
            }
            for r in worst
        ],
    }


# --- round trips ----------------------------------------------------------------------------------------


@dataclass
class Heard:
    """What a session sent back, each event with the wall time it arrived."""

    events: list[tuple[float, Any]]

    def named(self, name: str) -> list[Any]:
        return [e for _, e in self.events if e.event == name]

    def codes(self) -> list[str]:
        return [str(e.data.get("code")) for e in self.named("notice")]

    def summary(self) -> list[str]:
        names = []
        for _, e in self.events:
            if e.event in ("token", "audio"):
                continue
            names.append(f"{e.event}:{e.data['code']}" if e.event == "notice" else e.event)
        return names


async def _session_run(
    engines: Any,
    chat: Any,
    user_id: str,
    script: Callable[[Any], Awaitable[None]],
    *,
    mode: Mode = "hands_free",
    max_utterance_s: float = 30.0,
    drain: bool = True,
) -> Heard:
    """A fresh session, ``script`` run on it, its replies waited for (``drain``), then closed."""
    from agent.voice.session import VoiceSession

    session = VoiceSession(
        engines,
        chat,
        user_id,
        locale="en",
        mode=mode,
        max_utterance_s=max_utterance_s,
    )
    events: list[tuple[float, Any]] = []

    async def collect() -> None:
        async for event in session.events():
            events.append((time.perf_counter(), event))

    collector = asyncio.create_task(collect())
    try:
        await script(session)
        if drain:
            await session.drain()
    finally:
        await session.close()
        await collector
    return Heard(events)


async def feed_paced(session: Any, pcm: PCM, *, realtime: bool, mark: int | None = None) -> float | None:
    """Feed ``pcm`` in 20 ms chunks, chunk k at t0 + k * 20 ms when ``realtime``; returns the wall time
    at which the chunk holding sample ``mark - 1`` (the last sample of speech) was fed."""
    started = time.perf_counter()
    marked: float | None = None
    for k, start in enumerate(range(0, len(pcm), CHUNK)):
        if realtime:
            await asyncio.sleep(max(0.0, started + k * CHUNK / SAMPLE_RATE - time.perf_counter()))
        else:
            await asyncio.sleep(0)
        if mark is not None and marked is None and start + CHUNK >= mark:
            marked = time.perf_counter()
        await session.feed(pcm[start : start + CHUNK])
    return marked


def _silence(seconds: float) -> PCM:
    return np.zeros(round(seconds * SAMPLE_RATE), np.int16)


async def round_trip(
    engines: Any, chat: Any, user_id: str, utterance: Utterance, clip: Clip, *, realtime: bool
) -> dict[str, Any]:
    _, end = speech_bounds(clip.pcm)
    pcm = np.concatenate([_silence(LEAD_S), clip.pcm, _silence(TAIL_S)])
    ended_at: list[float | None] = [None]

    async def speak(session: Any) -> None:
        ended_at[0] = await feed_paced(session, pcm, realtime=realtime, mark=len(_silence(LEAD_S)) + end)

    async with asyncio.timeout(CASE_TIMEOUT_S):
        heard = await _session_run(engines, chat, user_id, speak)
    replies: dict[str, float] = {}
    for at, event in heard.events:
        reply_id = str(event.data.get("reply_id", ""))
        if event.event == "audio" and not reply_id.startswith("notice-"):
            replies.setdefault(reply_id, at)
    # The reply to the end of what was said: if a pause split the utterance, the last reply started.
    first_audio = max(replies.values()) if replies else None
    done = [e.data for e in heard.named("audio_done")]
    transcripts = [str(e.data["text"]) for e in heard.named("transcript")]
    said = [e for e in heard.named("message") if e.data.get("role") == "assistant"]
    errors, words = word_errors(utterance.text, " ".join(transcripts))
    end_time = ended_at[0]
    return {
        "id": utterance.id,
        "transcripts": transcripts,
        "word_errors": errors,
        "words": words,
        "replied": bool(said),
        "audio": bool(replies),
        "notices": heard.codes(),
        "latency_ms": None
        if first_audio is None or end_time is None
        else round((first_audio - end_time) * 1000, 1),
        "recognize_ms": done[-1].get("recognize_ms") if done else None,
        "first_audio_ms": done[-1].get("first_audio_ms") if done else None,
    }


def _latency_summary(turns: list[dict[str, Any]], realtime: bool) -> dict[str, Any]:
    latencies = [t["latency_ms"] for t in turns if t["latency_ms"] is not None]
    recognize = [t["recognize_ms"] for t in turns if t["recognize_ms"] is not None]
    first_audio = [t["first_audio_ms"] for t in turns if t["first_audio_ms"] is not None]
    p50 = percentile(latencies, 50, digits=1)
    p95 = percentile(latencies, 95, digits=1)
    met = None
    if realtime and p50 is not None and p95 is not None:
        met = p50 <= LATENCY_P50_TARGET_MS and p95 <= LATENCY_P95_TARGET_MS
    return {
        "realtime": realtime,
        "turns": len(turns),
        "with_transcript": sum(bool(t["transcripts"]) for t in turns),
        "with_reply": sum(t["replied"] for t in turns),
        "with_audio": sum(t["audio"] for t in turns),
        "round_trips_ok": sum(bool(t["transcripts"]) and t["replied"] and t["audio"] for t in turns),
        "split_utterances": sum(len(t["transcripts"]) > 1 for t in turns),
        "latency_ms_p50": p50,
        "latency_ms_p95": p95,
        "latency_ms_max": round(max(latencies), 1) if latencies else None,
        "recognize_ms_p50": percentile(recognize, 50, digits=1),
        "first_audio_ms_p50": percentile(first_audio, 50, digits=1),
        "wer_in_session": round(
            sum(t["word_errors"] for t in turns) / max(sum(t["words"] for t in turns), 1), 4
        ),
        "targets": {"latency_ms_p50": LATENCY_P50_TARGET_MS, "latency_ms_p95": LATENCY_P95_TARGET_MS},
        "targets_met": met,
        "records": turns,
    }


# --- bad input ------------------------------------------------------------------------------------------


def _loud(pcm: PCM, gain: int = 8) -> PCM:
    return np.clip(pcm.astype(np.int32) * gain, -32768, 32767).astype(np.int16)


def _continuous(clips: Sequence[Clip], seconds: float) -> PCM:
    """Speech with the clips' leading and trailing quiet cut, joined without pauses, to ``seconds``."""
    parts: list[PCM] = []
    total = 0
    while total < seconds * SAMPLE_RATE:
        for clip in clips:
            start, end = speech_bounds(clip.pcm)
            parts.append(clip.pcm[start:end])
            total += end - start
    return np.concatenate(parts)[: round(seconds * SAMPLE_RATE)]


def _case(ok: bool, what: str, **facts: Any) -> dict[str, Any]:
    return {"pass": ok, "what": what, **facts}


async def bad_input(
    engines: Any, chat: Any, user_id: str, clips: Sequence[tuple[Utterance, Clip]]
) -> dict[str, Any]:
    """Each case with its own time limit; a case that raises or hangs fails, the rest still run."""
    utterance, clip = clips[0]
    padded = np.concatenate([_silence(0.5), clip.pcm, _silence(1.0)])
    noise = np.random.default_rng(0).normal(0, 3000, 3 * SAMPLE_RATE).clip(-32768, 32767).astype(np.int16)

    def fast(pcm: PCM) -> Callable[[Any], Awaitable[None]]:
        async def script(session: Any) -> None:
            await feed_paced(session, pcm, realtime=False)

        return script

    def ptt(pcm: PCM) -> Callable[[Any], Awaitable[None]]:
        async def script(session: Any) -> None:
            await session.start_talking()
            await feed_paced(session, pcm, realtime=False)
            await session.stop_talking()

        return script

    async def silence_hands_free() -> dict[str, Any]:
        heard = await _session_run(engines, chat, user_id, fast(_silence(3.0)))
        return _case(not heard.events, f"events {heard.summary()}")

    async def silence_push_to_talk() -> dict[str, Any]:
        heard = await _session_run(engines, chat, user_id, ptt(_silence(3.0)), mode="push_to_talk")
        return _case(
            heard.codes() == ["no_speech"] and not heard.named("transcript"), f"events {heard.summary()}"
        )

    async def noise_hands_free() -> dict[str, Any]:
        heard = await _session_run(engines, chat, user_id, fast(noise))
        return _case(not heard.named("transcript") and not heard.named("error"), f"events {heard.summary()}")

    async def noise_push_to_talk() -> dict[str, Any]:
        heard = await _session_run(engines, chat, user_id, ptt(noise), mode="push_to_talk")
        ok = bool(set(heard.codes()) & {"no_speech", "not_understood"}) and not heard.named("transcript")
        return _case(ok, f"events {heard.summary()}")

    async def clipped() -> dict[str, Any]:
        heard = await _session_run(engines, chat, user_id, fast(_loud(padded)))
        shares = [float(e.data["clipped"]) for e in heard.named("transcript")]
        ok = bool(shares) and max(shares) > 0.01 and "clipped" in heard.codes()
        return _case(ok, f"clipped shares {shares}, events {heard.summary()}")

    def rate(source: int) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def case() -> dict[str, Any]:
            data = to_wav(resample(clip.pcm, SAMPLE_RATE, source), source)
            decoded = decode(data, max_seconds=120)
            heard = await asyncio.to_thread(transcribe, engines.recognizer, decoded.pcm, "en")
            errors, words = word_errors(utterance.text, heard.text)
            # Accepted and recognised; 8 kHz (telephone band) loses what the 16 kHz acoustic model
            # listens to above 4 kHz, so its word errors are reported, not held to a bar.
            ok = decoded.source_rate == source and bool(heard.text.strip())
            return _case(
                ok,
                f"decoded from {decoded.source_rate} Hz; heard {heard.text!r} ({errors}/{words} errors)",
                word_errors=errors,
                words=words,
            )

        return case

    async def rate_4k() -> dict[str, Any]:
        try:
            decode(to_wav(resample(clip.pcm, SAMPLE_RATE, 8000)[::2], 4000), max_seconds=120)
        except AudioError as exc:
            return _case(exc.code == "unsupported_rate", f"AudioError {exc.code}: {exc.message}")
        return _case(False, "a 4 kHz WAV was accepted")

    async def too_long() -> dict[str, Any]:
        speech = np.concatenate([_continuous([c for _, c in clips], 40.0), _silence(1.0)])
        heard = await _session_run(engines, chat, user_id, fast(speech))
        reasons = [e.data["reason"] for e in heard.named("speech_ended")]
        cut = [e.data["cut_off"] for e in heard.named("transcript")]
        ok = reasons[:1] == ["max_length"] and cut[:1] == [True] and "too_long" in heard.codes()
        return _case(ok, f"ends {reasons}, cut_off {cut}, notices {heard.codes()}")

    async def push_to_talk_monologue() -> dict[str, Any]:
        speech = _continuous([c for _, c in clips], 12.0)
        heard = await _session_run(
            engines, chat, user_id, ptt(speech), mode="push_to_talk", max_utterance_s=5.0
        )
        transcripts = heard.named("transcript")
        said = [e for e in heard.named("message") if e.data.get("role") == "assistant"]
        ok = len(transcripts) == 1 and bool(said) and bool(heard.named("audio_done"))
        words = len(str(transcripts[0].data["text"]).split()) if transcripts else 0
        return _case(
            ok,
            f"12 s held, max_utterance_s 5: {len(transcripts)} transcript(s) ({words} words, cut_off "
            f"{[e.data['cut_off'] for e in transcripts]}), notices {heard.codes()}, {len(said)} reply(ies)",
        )

    async def disconnect() -> dict[str, Any]:
        recognizer = engines.recognizer

        def idle() -> int | None:
            pool = getattr(recognizer, "_pool", None)  # PocketSphinx's decoders not lent out
            return None if pool is None else int(pool.qsize())

        await asyncio.sleep(0.5)
        idle_before, created_before = idle(), getattr(recognizer, "_created", 0)
        half = padded[: len(padded) // 2]
        timing: dict[str, float] = {}

        async def script(session: Any) -> None:
            await feed_paced(session, np.concatenate([_silence(0.5), half]), realtime=False)
            started = time.perf_counter()
            await session.close()
            timing["close_s"] = time.perf_counter() - started

        heard = await _session_run(engines, chat, user_id, script, drain=False)
        await asyncio.sleep(1.0)  # the ASR thread's last jobs
        idle_after = idle()
        created = getattr(recognizer, "_created", 0)
        # The utterance's decoder must go back to the pool, or a few hang-ups starve every later turn.
        returned = idle_before is None or idle_after == idle_before + created - created_before
        prompt = timing["close_s"] < 2.0 and not heard.named("transcript") and not heard.named("message")
        return _case(
            prompt and returned,
            f"close() took {timing['close_s'] * 1000:.0f} ms, events {heard.summary()}; decoders idle "
            f"{idle_before} before, {idle_after} after, of {created} created",
            prompt=prompt,
            decoder_returned=returned,
        )

    cases: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
        "silence_hands_free": silence_hands_free,
        "silence_push_to_talk": silence_push_to_talk,
        "noise_hands_free": noise_hands_free,
        "noise_push_to_talk": noise_push_to_talk,
        "clipped_x8": clipped,
        "wav_8khz": rate(8000),
        "wav_44khz": rate(44_100),
        "wav_4khz_refused": rate_4k,
        "too_long_hands_free_40s": too_long,
        "push_to_talk_monologue": push_to_talk_monologue,
        "disconnect_mid_utterance": disconnect,
    }
    results: dict[str, Any] = {}
    for name, case in cases.items():
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CASE_TIMEOUT_S):
                results[name] = await case()
        except TimeoutError:
            results[name] = _case(False, f"hung: no end within {CASE_TIMEOUT_S:.0f} s")
        except Exception as exc:  # a crash fails the case, not the suite
            results[name] = _case(False, f"raised {type(exc).__name__}: {exc}")
        results[name]["seconds"] = round(time.perf_counter() - started, 2)
    return results


# --- the run --------------------------------------------------------------------------------------------


async def _agent_part(
    utterances: Sequence[Utterance], latency_turns: int, realtime: bool, bad: bool
) -> dict[str, Any]:
    from agent.router import default_classifier
    from agent.runtime import open_agent
    from agent.voice.engines import open_speech
    from evals.bench_agent import bench_settings
    from storage.stores import build_stores
    from tools.catalog.runtime import open_catalog
    from tools.profile.service import AccountService, ProfileService
    from tools.registry import ToolServices

    out: dict[str, Any] = {}
    clips = [
        (
            utterances[i % len(utterances)],
            synthesize(utterances[i % len(utterances)].text, FLITE_VOICES[i % 4]),
        )
        for i in range(max(latency_turns, 3))
    ]
    classifier = await asyncio.to_thread(default_classifier)
    with tempfile.TemporaryDirectory(prefix="ik-voice-") as folder:
        settings = bench_settings(Path(folder))
        settings.catalog.limit = CATALOG_LIMIT
        stores = await asyncio.to_thread(build_stores, settings)
        engines = await asyncio.to_thread(open_speech, settings)
        try:
            accounts = AccountService(stores.db)
            catalog = await asyncio.to_thread(open_catalog, settings, stores)
            services = ToolServices(accounts=accounts, profiles=ProfileService(stores.db), catalog=catalog)
            user = accounts.create_user(email="voice@example.com", password=secrets.token_urlsafe(16))
            async with open_agent(settings, stores.db, services, classifier=classifier) as chat:
                # One unmeasured turn warms the graph, the recogniser's decoders and the synthesiser.
                await round_trip(engines, chat, user.id, *clips[0], realtime=False)
                turns = []
                for utterance, clip in clips[:latency_turns]:
                    try:
                        turns.append(
                            await round_trip(engines, chat, user.id, utterance, clip, realtime=realtime)
                        )
                    except TimeoutError:
                        turns.append(
                            {
                                "id": utterance.id,
                                "transcripts": [],
                                "word_errors": 0,
                                "words": 0,
                                "replied": False,
                                "audio": False,
                                "notices": ["hung"],
                                "latency_ms": None,
                                "recognize_ms": None,
                                "first_audio_ms": None,
                            }
                        )
                out["round_trips"] = _latency_summary(turns, realtime)
                if bad:
                    out["bad_input"] = await bad_input(engines, chat, user.id, clips[:3])
        finally:
            engines.close()
            await asyncio.to_thread(stores.close)
    return out


def run(
    *,
    voices: Sequence[str] = VOICES,
    limit: int | None = None,
    latency_turns: int = 20,
    realtime: bool = True,
    workers: int | None = None,
    bad: bool = True,
) -> dict[str, Any]:
    """The whole suite; ``workers`` processes decode for the WER (default: up to 2)."""
    from agent.voice.engines import domain_lm
    from evals.settings import embedded_settings

    for tool in ("flite", "espeak-ng"):
        _binary(tool)
    started = time.perf_counter()
    utterances = load_utterances()[:limit]
    with tempfile.TemporaryDirectory(prefix="ik-voice-lm-") as folder:
        lm_path = domain_lm(embedded_settings(Path(folder)))
    wer = recognizer_wer(
        utterances, voices, lm_path, workers=workers if workers is not None else min(2, os.cpu_count() or 1)
    )
    wer_s = time.perf_counter() - started
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        agent = asyncio.run(_agent_part(utterances, latency_turns, realtime, bad))
    trips = agent["round_trips"]
    cases = agent.get("bad_input", {})
    flite_wer = wer["flite"] or wer["all"]
    return {
        "suite": "voice",
        "data": "evals/data/voice/utterances.jsonl (held-out test), synthesised by flite / espeak-ng: "
        "not real recordings",
        "machine": machine(),
        "recognizer": wer,
        **agent,
        "seconds": {"wer": round(wer_s, 1), "total": round(time.perf_counter() - started, 1)},
        "wer_domain": flite_wer["domain"]["wer"],
        "wer_general": flite_wer["general"]["wer"],
        "wer_by_voice": {v: {lm: s["wer"] for lm, s in by.items()} for v, by in wer["by_voice"].items()},
        "rtf_domain": flite_wer["domain"]["rtf"],
        "latency_p50_ms": trips["latency_ms_p50"],
        "latency_p95_ms": trips["latency_ms_p95"],
        "turns": trips["turns"],
        "round_trips_ok": trips["round_trips_ok"],
        "bad_input_passed": sum(c["pass"] for c in cases.values()),
        "bad_input_total": len(cases),
        "targets_met": trips["targets_met"],
    }


def table(result: dict[str, Any]) -> str:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    m = result["machine"]
    wer = result["recognizer"]
    lines = [
        f"voice · {wer['utterances']} held-out utterances, synthetic speech · {m['cpus_usable']} CPUs · "
        f"load {m['load_avg_1m']}",
        f"{'voice':<8} {'WER domain':>10} {'WER general':>11} {'RTF domain':>10} {'RTF general':>11}",
    ]
    rows = [*wer["by_voice"].items()]
    if wer["flite"]:
        rows.append(("flite", wer["flite"]))
    for name, by in rows:
        lines.append(
            f"{name:<8} {pct(by['domain']['wer']):>10} {pct(by['general']['wer']):>11} "
            f"{by['domain']['rtf']:>10} {by['general']['rtf']:>11}"
        )
    lines.append("headline WER is over the flite voices; espeak-ng's formant voice is shown on its own row")
    trips = result["round_trips"]

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value:.0f} ms"

    verdict = {True: "MET", False: "NOT MET", None: "not judged (not paced in real time)"}[
        trips["targets_met"]
    ]
    lines.append(
        f"round trips ({'real time' if trips['realtime'] else 'fed as fast as possible'}): "
        f"{trips['turns']} turns, "
        f"{trips['with_transcript']} transcript, {trips['with_reply']} reply, {trips['with_audio']} audio, "
        f"{trips['split_utterances']} split by a pause"
    )
    lines.append(
        f"end of speech → first reply audio: p50 {ms(trips['latency_ms_p50'])}, "
        f"p95 {ms(trips['latency_ms_p95'])}, "
        f"max {ms(trips['latency_ms_max'])} (targets p50 ≤ 800 ms, p95 ≤ 1500 ms: {verdict}); "
        f"from the endpoint: recognise p50 {ms(trips['recognize_ms_p50'])}, first audio p50 "
        f"{ms(trips['first_audio_ms_p50'])}"
    )
    for name, case in result.get("bad_input", {}).items():
        lines.append(f"  {'PASS' if case['pass'] else 'FAIL'} {name:<26} {case['what']}")
    return "\n".join(lines)
