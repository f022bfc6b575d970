"""``python -m agent route --jsonl FILE``: route utterances offline, one JSON line out per line in.

Evaluators and other tools use it to see what the router makes of a message
(intent, confidence, slots) without starting any server.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from agent.guard import check_message
from agent.router import default_classifier, iter_jsonl_texts
from agent.slots import extract_slots


def route_line(text: str) -> dict[str, Any]:
    routed = default_classifier().route(text)
    result: dict[str, Any] = {
        "text": text,
        "intent": routed[0].intent.value,
        "confidence": routed[0].confidence,
        "slots": extract_slots(text).model_dump(mode="json", exclude_defaults=True),
    }
    if len(routed) > 1:
        result["intents"] = [
            {"intent": r.intent.value, "confidence": r.confidence, "text": r.text} for r in routed
        ]
    verdict = check_message(text)
    if not verdict.allowed:
        # The agent would answer with the guard's reply and never route; shown for evaluators.
        result["guard"] = {"allowed": False, "kind": verdict.kind, "reply": verdict.reply}
    return result


def _route(source: TextIO, sink: TextIO) -> int:
    try:
        for text in iter_jsonl_texts(source):
            sink.write(json.dumps(route_line(text), ensure_ascii=False) + "\n")
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    route = commands.add_parser("route", help="route JSON lines {'text': ...} and print intents and slots")
    route.add_argument("--jsonl", required=True, help="input file, or - for standard input")
    args = parser.parse_args(argv)
    if args.command == "route":
        if args.jsonl == "-":
            return _route(sys.stdin, sys.stdout)
        try:
            with open(args.jsonl, encoding="utf-8") as source:
                return _route(source, sys.stdout)
        except OSError as exc:
            sys.stderr.write(f"error: cannot read {args.jsonl}: {exc.strerror}\n")
            return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
