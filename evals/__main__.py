"""``python -m evals <suite>``: run one evaluation; the last line printed is one JSON object."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    suites = parser.add_subparsers(dest="suite", required=True)
    intent = suites.add_parser("intent", help="intent router: accuracy, macro-F1, per-intent F1, calibration")
    intent.add_argument("--split", default="dev", choices=["dev", "train"], help="which split to score")
    bench = suites.add_parser(
        "bench-agent", help="turn latency of the whole agent, with templates and with SmolLM2"
    )
    bench.add_argument("--turns", type=_positive, default=100, help="measured turns without the LLM")
    bench.add_argument("--llm-turns", type=_positive, default=20, help="measured turns with SmolLM2")
    bench.add_argument("--warmup", type=_not_negative, default=5, help="unmeasured turns first")
    bench.add_argument("--no-llm", action="store_true", help="skip the SmolLM2 measurement")
    bench.add_argument(
        "--llm-threads", type=_positive, default=None, help="llama.cpp threads (default: half the cores)"
    )
    args = parser.parse_args(argv)
    if args.suite == "intent":
        from evals.intent import run

        result = run(split=args.split)
        for label, f1 in result["per_intent_f1"].items():
            sys.stdout.write(f"{label:18s} F1 {f1:.3f}\n")
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    if args.suite == "bench-agent":
        from evals.bench_agent import run as bench_agent
        from evals.bench_agent import table

        result = bench_agent(
            turns=args.turns,
            llm_turns=args.llm_turns,
            warmup=args.warmup,
            with_llm=not args.no_llm,
            llm_threads=args.llm_threads,
        )
        sys.stdout.write(table(result) + "\n")
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 1 if result["llm"] and "error" in result["llm"] else 0
    return 2  # pragma: no cover - argparse rejects unknown suites


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


if __name__ == "__main__":
    sys.exit(main())
