"""``python -m model_servers.speech``: serve speech recognition and synthesis over HTTP with uvicorn.

    python -m model_servers.speech --host 127.0.0.1 --port 8004
    python -m model_servers.speech --lm /models/style.arpa --asr-pool 4 --max-seconds 60
    python -m model_servers.speech --whisper /models/whisper-small --whisper-device cuda

It speaks OpenAI's audio endpoints (``/v1/audio/transcriptions``, ``/v1/audio/speech``), so the
API's ``HttpRecognizer`` and ``HttpSynthesizer`` (``model_servers.speech.client``) use it exactly as
they use vLLM serving Whisper. The engines are the embedded ones: PocketSphinx (English; ``--lm``
swaps its general language model for one of the product's own sentences) and espeak-ng (English
and Mandarin). ``--whisper`` recognises with Whisper from a local model folder instead (English and
Chinese; the ``whisper`` extra), loaded before the server starts listening.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI

from model_servers.serve import positive, run, server_parser, trace_server
from model_servers.speech.app import create_app
from model_servers.speech.engine import SpeechError
from model_servers.speech.protocol import DEFAULT_MAX_SECONDS


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def parser() -> argparse.ArgumentParser:
    p = server_parser("python -m model_servers.speech", __doc__, 8004)
    p.add_argument("--lm", type=Path, default=None, help="an ARPA language model for PocketSphinx")
    p.add_argument(
        "--asr-pool", type=positive, default=2, help="PocketSphinx decoders (concurrent utterances)"
    )
    p.add_argument(
        "--whisper", type=Path, default=None, help="a Whisper model folder to recognise with instead"
    )
    p.add_argument("--whisper-device", default="cpu", help="where Whisper runs: cpu, cuda, cuda:N")
    p.add_argument(
        "--max-seconds",
        type=_seconds,
        default=DEFAULT_MAX_SECONDS,
        help=f"longest recording transcribed (default {DEFAULT_MAX_SECONDS:g} s)",
    )
    return p


def build_app(args: argparse.Namespace) -> FastAPI:
    """Raises ``SpeechError`` when ``--whisper`` names a folder that holds no usable Whisper model."""
    if args.whisper is not None:
        from model_servers.speech.espeak_engine import EspeakSynthesizer
        from model_servers.speech.whisper_engine import WhisperRecognizer

        recognizer = WhisperRecognizer(args.whisper, device=args.whisper_device)
        return create_app(recognizer, EspeakSynthesizer(), max_seconds=args.max_seconds)
    return create_app(max_seconds=args.max_seconds, lm_path=args.lm, asr_pool=args.asr_pool)


def main(argv: Sequence[str] | None = None) -> None:
    p = parser()
    args = p.parse_args(argv)
    if args.lm is not None and not args.lm.is_file():
        p.error(f"language model not found: {args.lm}")
    if args.whisper is not None and args.lm is not None:
        p.error("--lm is PocketSphinx's; it means nothing with --whisper")
    trace_server("innovation-kun-speech")
    try:
        app = build_app(args)
    except SpeechError as exc:
        p.error(exc.message)
    run(app, args)


if __name__ == "__main__":
    main()
