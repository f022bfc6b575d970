"""``python -m evals <suite>``: run one evaluation; the last line printed is one JSON object."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from rag.documents import SearchMode


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
    search = suites.add_parser(
        "search", help="product search: nDCG@10, recall@50 and latency per mode, on labelled queries"
    )
    search.add_argument(
        "--split", default="dev", choices=["dev", "test"], help="dev while tuning; test for the final figure"
    )
    search.add_argument(
        "--limit", type=_positive, default=None, help="load only the first N catalog products"
    )
    search.add_argument(
        "--modes", type=_modes, default=["fulltext", "vector", "hybrid"], help="comma-separated search modes"
    )
    search.add_argument(
        "--search-url",
        default=None,
        help="run full text on this Elasticsearch-API server (a scratch index is created and dropped)",
    )
    bench_import = suites.add_parser(
        "bench-import", help="feed importer throughput (products/s) on SQLite, and PostgreSQL if given"
    )
    bench_import.add_argument("--products", type=_positive, default=20_000, help="products in the feed")
    bench_import.add_argument(
        "--postgres-url", default=None, help="a scratch PostgreSQL database (its public schema is reset)"
    )
    bench_search = suites.add_parser(
        "bench-search", help="search latency p50/p99: full-text, vector top-10, hybrid, over the catalog"
    )
    bench_search.add_argument("--queries", type=_positive, default=200, help="measured queries per path")
    bench_search.add_argument(
        "--limit-products", type=_positive, default=None, help="load only the first N catalog products"
    )
    bench_search.add_argument("--warmup", type=_not_negative, default=20, help="unmeasured queries first")
    sizing = suites.add_parser(
        "sizing", help="fit model vs baselines on RentTheRunway: AUC, accuracy, ECE (validation and test)"
    )
    sizing.add_argument("--limit", type=_positive, default=None, help="use only the first N RTR records")
    sizing.add_argument("--no-baselines", action="store_true", help="score the fit model only")
    bench_sizing = suites.add_parser(
        "bench-sizing", help="fit model latency p50/p99 per product (one call with all its sizes)"
    )
    bench_sizing.add_argument("--products", type=_positive, default=1000, help="measured products")
    bench_sizing.add_argument("--warmup", type=_not_negative, default=50, help="unmeasured products first")
    recommend = suites.add_parser(
        "recommend", help="ranker recall/NDCG/AUC (all, cold start) and Polyvore FITB / compatibility AUC"
    )
    recommend.add_argument("--limit", type=_positive, default=None, help="use only the first N RTR records")
    recommend.add_argument("--no-single-task", action="store_true", help="skip the single-task baseline")
    bench_recommend = suites.add_parser(
        "bench-recommend", help="outfit recommendation latency p50/p99, cold (cache miss) and warm (hit)"
    )
    bench_recommend.add_argument("--requests", type=_positive, default=200, help="measured requests")
    bench_recommend.add_argument("--warmup", type=_not_negative, default=10, help="unmeasured requests first")
    bench_recommend.add_argument(
        "--limit-products", type=_positive, default=None, help="load only the first N catalogue products"
    )
    everything = suites.add_parser(
        "all", help="every suite in its own process; writes a JSON + HTML report and a diff with the last run"
    )
    everything.add_argument("--suites", type=_ids, default=None, help="comma-separated subset of suites")
    everything.add_argument("--benches", action="store_true", help="also run the latency benches")
    everything.add_argument("--out", type=Path, default=None, help="reports folder (default var/reports)")
    everything.add_argument("--timeout", type=_positive, default=1800, help="seconds allowed per suite")
    everything.add_argument("--run-id", default=None, help="the report folder's name (default: a time stamp)")
    bench_events = suites.add_parser(
        "bench-events", help="event bus throughput and end-to-end latency (in-process, or a Kafka broker)"
    )
    bench_events.add_argument("--events", type=_positive, default=5000, help="events to publish")
    bench_events.add_argument(
        "--bootstrap",
        default=None,
        help="Kafka bootstrap servers, e.g. 127.0.0.1:59092 (default: in-process)",
    )
    bench_events.add_argument(
        "--batch", type=_positive, default=1, help="events per publish_many (1: publish)"
    )
    bench_tryon = suites.add_parser(
        "bench-tryon", help="try-on job pipeline: overhead around the engine, queue time, submit time"
    )
    bench_tryon.add_argument("--jobs", type=_positive, default=20, help="jobs to time (one more warms up)")
    bench_tryon.add_argument(
        "--bootstrap",
        default=None,
        help="Kafka bootstrap servers, e.g. 127.0.0.1:59092 (default: in-process)",
    )
    from evals import bench_tryon_gpu

    bench_tryon_gpu.add_arguments(
        suites.add_parser(
            "bench-tryon-gpu",
            help="the diffusion try-on engine with full-size random weights: latency, throughput, GPU memory",
        )
    )
    scenarios = suites.add_parser(
        "scenarios", help="whole conversations judged by the end state, k runs each: pass^1 and pass^k"
    )
    scenarios.add_argument("--k", type=_positive, default=4, help="runs per task (2..k use paraphrases)")
    scenarios.add_argument("--only", type=_ids, default=None, help="comma-separated task ids")
    scenarios.add_argument("--lang", choices=["en", "zh"], default=None, help="only tasks in this language")
    scenarios.add_argument(
        "--user",
        choices=["scripted", "llm"],
        default="scripted",
        help="llm: an LLM (IK_LLM__*) plays the person in tasks that have a goal; scripted otherwise",
    )
    scenarios.add_argument(
        "--limit", type=_positive, default=None, help="catalogue products to load (default 2000)"
    )
    tryon = suites.add_parser(
        "tryon", help="the CPU try-on engine on the VITON-HD sample: preservation, placement, colour, speed"
    )
    tryon.add_argument(
        "--limit", type=_positive, default=None, help="only the first N demo pairs (no 72-image timing)"
    )
    tryon.add_argument("--out", type=Path, default=None, help="write a contact sheet PNG into this folder")
    wardrobe = suites.add_parser(
        "wardrobe", help="photo tagging on the catalogue thumbnails: colour, category (CV), pattern, speed"
    )
    wardrobe.add_argument("--limit", type=_positive, default=None, help="use only the first N thumbnails")
    wardrobe.add_argument(
        "--captions", type=Path, default=None, help="captions JSON Lines (id, caption, lang)"
    )
    voice = suites.add_parser(
        "voice", help="speech: recogniser WER (domain vs general LM), spoken round-trip latency, bad audio"
    )
    voice.add_argument("--voices", type=_ids, default=None, help="comma-separated: slt,rms,awb,kal16,espeak")
    voice.add_argument("--limit", type=_positive, default=None, help="only the first N utterances")
    voice.add_argument("--latency-turns", type=_positive, default=20, help="round trips to time")
    voice.add_argument("--no-realtime", action="store_true", help="feed audio as fast as possible")
    bench_web = suites.add_parser(
        "bench-web", help="web app: gzipped JS of the chat page, time to first token in a real browser"
    )
    bench_web.add_argument("--turns", type=_positive, default=20, help="measured chat turns")
    bench_web.add_argument("--warmup", type=_not_negative, default=3, help="unmeasured turns first")
    bench_web.add_argument(
        "--llm", choices=["none", "embedded"], default="none", help="template replies, or SmolLM2's wording"
    )
    bench_web.add_argument("--chromium", default="/usr/bin/chromium", help="the browser to drive")
    args = parser.parse_args(argv)
    if args.suite == "intent":
        from evals.intent import run

        result = run(split=args.split)
        for label, f1 in result["per_intent_f1"].items():
            sys.stdout.write(f"{label:18s} F1 {f1:.3f}\n")
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    if args.suite == "bench-agent":
        result = _report(
            "bench_agent",
            turns=args.turns,
            llm_turns=args.llm_turns,
            warmup=args.warmup,
            with_llm=not args.no_llm,
            llm_threads=args.llm_threads,
        )
        return 1 if result["llm"] and "error" in result["llm"] else 0
    if args.suite == "search":
        _report("search", split=args.split, limit=args.limit, modes=args.modes, search_url=args.search_url)
        return 0
    if args.suite == "bench-import":
        _report("bench_import", products=args.products, postgres_url=args.postgres_url)
        return 0
    if args.suite == "bench-web":
        _report("bench_web", turns=args.turns, warmup=args.warmup, llm=args.llm, chromium=args.chromium)
        return 0
    if args.suite == "bench-search":
        _report("bench_search", queries=args.queries, limit_products=args.limit_products, warmup=args.warmup)
        return 0
    if args.suite == "sizing":
        import logging

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        _report("sizing", limit=args.limit, baselines=not args.no_baselines)
        return 0
    if args.suite == "bench-sizing":
        _report("bench_sizing", products=args.products, warmup=args.warmup)
        return 0
    if args.suite == "recommend":
        import logging

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        _report("recommend", limit=args.limit, single_task=not args.no_single_task)
        return 0
    if args.suite == "bench-recommend":
        _report(
            "bench_recommend",
            requests_n=args.requests,
            warmup=args.warmup,
            limit_products=args.limit_products,
        )
        return 0
    if args.suite == "all":
        result = _report(
            "all",
            suites=args.suites,
            benches=args.benches,
            out=args.out,
            timeout_s=float(args.timeout),
            run_id=args.run_id,
        )
        return 0 if all(status == "ok" for status in result["statuses"].values()) else 1
    if args.suite == "bench-events":
        _report("bench_events", events=args.events, bootstrap=args.bootstrap, batch=args.batch)
        return 0
    if args.suite == "bench-tryon":
        _report("bench_tryon", jobs=args.jobs, bootstrap=args.bootstrap)
        return 0
    if args.suite == "bench-tryon-gpu":
        _report("bench_tryon_gpu", **bench_tryon_gpu.options(args))
        return 0
    if args.suite == "scenarios":
        from evals.scenarios import CATALOG_LIMIT

        _report(
            "scenarios",
            k=args.k,
            only=args.only,
            lang=args.lang,
            limit=args.limit or CATALOG_LIMIT,
            user=args.user,
        )
        return 0
    if args.suite == "tryon":
        from core.training import TrainingPaths

        _report("tryon", data_dir=TrainingPaths().research_data_dir, limit=args.limit, out_dir=args.out)
        return 0
    if args.suite == "wardrobe":
        _report("wardrobe", limit=args.limit, captions_path=args.captions)
        return 0
    if args.suite == "voice":
        from evals.voice import VOICES

        _report(
            "voice",
            voices=args.voices or VOICES,
            limit=args.limit,
            latency_turns=args.latency_turns,
            realtime=not args.no_realtime,
        )
        return 0
    return 2  # pragma: no cover - argparse rejects unknown suites


def _report(module: str, **options: Any) -> dict[str, Any]:
    """Run ``evals.<module>.run(**options)``; write its ``table``, then its result as the last line.

    Suites are imported only when chosen, so one suite's heavy imports never slow another's start.
    """
    suite = importlib.import_module(f"evals.{module}")
    result: dict[str, Any] = suite.run(**options)
    sys.stdout.write(suite.table(result) + "\n")
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result


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


def _ids(text: str) -> list[str]:
    ids = [word.strip() for word in text.split(",") if word.strip()]
    if not ids:
        raise argparse.ArgumentTypeError("name at least one task id")
    return ids


def _modes(text: str) -> list[SearchMode]:
    known: tuple[SearchMode, ...] = ("fulltext", "vector", "hybrid")
    modes: list[SearchMode] = []
    for word in text.split(","):
        mode = next((m for m in known if m == word.strip()), None)
        if mode is None:
            raise argparse.ArgumentTypeError("modes are fulltext, vector and hybrid, comma-separated")
        if mode not in modes:
            modes.append(mode)
    return modes


if __name__ == "__main__":
    sys.exit(main())
