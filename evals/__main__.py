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
    args = parser.parse_args(argv)
    if args.suite == "intent":
        from evals.intent import run

        result = run(split=args.split)
        for label, f1 in result["per_intent_f1"].items():
            sys.stdout.write(f"{label:18s} F1 {f1:.3f}\n")
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    return 2  # pragma: no cover - argparse rejects unknown suites


if __name__ == "__main__":
    sys.exit(main())
