"""``python -m evals bench-agent``: how long a person waits for the whole agent.

Times ``ChatService.turn`` end to end (guard, router, tools, responder, checkpoint, session
registry) on the real graph and SQLite embedded stores in a temporary folder, for a fresh
user, on the dev-split utterances (``evals/data/intents/dev.jsonl``, shuffled with a fixed
seed), alternating a new session and a continued one, after a few warm-up turns.

Two modes, because they answer different questions: with the template responder (no LLM)
the figure is the agent's own overhead (target: p50 ≤ 150 ms); with SmolLM2 on the
embedded llama.cpp server it is what a person waits for the first words (target: time to
first token p50 ≤ 300 ms). The figures depend on the machine, so its CPU count and load are
reported with them.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import socket
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.router import INTENT_DATA_DIR, IntentClassifier, default_classifier, read_jsonl
from agent.runtime import open_agent, open_llm
from agent.service import ChatService
from core.config import Settings
from evals.measure import machine, percentile
from evals.settings import embedded_settings
from storage.stores import Stores, build_stores
from tools.catalog.runtime import open_catalog
from tools.profile.service import AccountService, ProfileService
from tools.registry import ToolServices

TURN_P50_TARGET_MS = 150.0
TTFT_P50_TARGET_MS = 300.0


@dataclass(frozen=True)
class TurnTiming:
    new_session: bool
    total_ms: float
    #: Until the first ``token`` event; ``None`` when the turn streamed none (e.g. waiting for support).
    first_token_ms: float | None
    #: ``source`` of the turn's reply: ``llm``, ``template``, ``guard``, or ``None`` without a reply.
    source: str | None
    reset: bool
    handoff: bool
    #: Whether the responder asked the LLM (questions and confirmations are sent as written).
    llm_attempted: bool = False


def utterances(count: int, *, seed: int = 0, data_dir: Path = INTENT_DATA_DIR) -> list[str]:
    """``count`` dev-split texts in a fixed shuffled order (repeated when more are asked for)."""
    texts = [row["text"] for row in read_jsonl(data_dir / "dev.jsonl")]
    random.Random(seed).shuffle(texts)  # noqa: S311 - a fixed order, not a secret
    return [texts[i % len(texts)] for i in range(count)]


def bench_settings(
    data_dir: Path, *, provider: str = "none", port: int = 8089, threads: int | None = None
) -> Settings:
    """Embedded stores in ``data_dir``, the whole catalogue with full-text search (shopping turns run
    real searches); vectors, minutes to encode the first time, are left out of an agent benchmark."""
    return embedded_settings(
        data_dir,
        llm={
            "provider": provider,
            "embedded_port": port,
            "route_fallback": False,
            "embedded_threads": threads,
        },
        load_catalog=True,
    )


async def time_turn(
    service: ChatService, user_id: str, text: str, session_id: str | None
) -> tuple[TurnTiming, str]:
    started = time.perf_counter()
    first_token: float | None = None
    source: str | None = None
    reset = handoff = attempted = False
    session = ""
    async for event in service.turn(user_id, text, session_id=session_id):
        if event.event == "session":
            session = str(event.data["session_id"])
        elif event.event == "token" and first_token is None:
            first_token = (time.perf_counter() - started) * 1000
        elif event.event == "reset":
            reset = True
        elif event.event == "message" and event.data.get("role") == "assistant":
            source = event.data.get("source")
            attempted = bool(event.data.get("llm_attempted"))
        elif event.event == "handoff":
            handoff = bool(event.data.get("active"))
    total = (time.perf_counter() - started) * 1000
    timing = TurnTiming(session_id is None, total, first_token, source, reset, handoff, attempted)
    return timing, session


async def drive(service: ChatService, user_id: str, texts: list[str], warmup: int) -> list[TurnTiming]:
    """Run ``warmup`` unrecorded turns, then the rest: even turns open a session, odd ones continue it.

    A session that support took over is not continued (its next turn would only wait for them).
    """
    timings: list[TurnTiming] = []
    session: str | None = None
    for index, text in enumerate(texts):
        continued = index % 2 == 1 and session is not None
        timing, opened = await time_turn(service, user_id, text, session if continued else None)
        session = None if timing.handoff else opened
        if index >= warmup:
            timings.append(timing)
    return timings


def _percentile(values: list[float], q: float) -> float | None:
    return percentile(values, q, digits=1)


def summarise(timings: list[TurnTiming], *, llm: bool) -> dict[str, Any]:
    totals = [t.total_ms for t in timings]
    firsts = [t.first_token_ms for t in timings if t.first_token_ms is not None]
    asked = [t for t in timings if t.llm_attempted]
    asked_firsts = [t.first_token_ms for t in asked if t.first_token_ms is not None]
    sources = Counter(t.source or "none" for t in timings)
    return {
        "turns": len(timings),
        "new_session_turns": sum(t.new_session for t in timings),
        "turn_ms_p50": _percentile(totals, 50),
        "turn_ms_p99": _percentile(totals, 99),
        "turn_ms_max": round(max(totals), 1) if totals else None,
        "ttft_ms_p50": _percentile(firsts, 50),
        "ttft_ms_p99": _percentile(firsts, 99),
        "turns_without_token": len(timings) - len(firsts),
        #: Turns whose reply the LLM was asked to word, and their time to first token: the figure
        #: the TTFT target is about (other turns stream a template at once).
        "llm_turns": len(asked),
        "llm_turn_ms_p50": _percentile([t.total_ms for t in asked], 50) if llm else None,
        "llm_ttft_ms_p50": _percentile(asked_firsts, 50) if llm else None,
        "llm_ttft_ms_p99": _percentile(asked_firsts, 99) if llm else None,
        "reply_sources": dict(sorted(sources.items())),
        #: Of the replies the LLM was asked to word, how many kept its wording.
        "llm_kept_share": round(sources["llm"] / len(asked), 3) if llm and asked else None,
        "resets": sum(t.reset for t in timings),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _bench(
    turns: int, llm_turns: int, warmup: int, with_llm: bool, seed: int, llm_threads: int | None
) -> dict[str, Any]:
    result: dict[str, Any] = {"suite": "bench-agent", "machine": machine()}
    started = time.perf_counter()
    classifier = await asyncio.to_thread(default_classifier)
    texts = utterances(warmup + max(turns, llm_turns), seed=seed)
    with tempfile.TemporaryDirectory(prefix="ik-bench-") as folder:
        settings = bench_settings(Path(folder))
        stores = await asyncio.to_thread(build_stores, settings)
        try:
            accounts = AccountService(stores.db)
            catalog = await asyncio.to_thread(open_catalog, settings, stores)
            services = ToolServices(accounts=accounts, profiles=ProfileService(stores.db), catalog=catalog)
            user = accounts.create_user(email="bench@example.com", password=secrets.token_urlsafe(16))
            result["setup_s"] = round(time.perf_counter() - started, 2)
            async with open_agent(settings, stores.db, services, classifier=classifier) as service:
                # ``provider=none``: no LLM is opened, every reply comes from the templates.
                result["template"] = summarise(
                    await drive(service, user.id, texts[: warmup + turns], warmup), llm=False
                )
            result["llm"] = None
            if with_llm:
                llm_settings = bench_settings(
                    Path(folder), provider="embedded", port=_free_port(), threads=llm_threads
                )
                result["llm"] = await _bench_llm(llm_settings, stores, services, classifier, texts, llm_turns)
        finally:
            await asyncio.to_thread(stores.close)
    return result


async def _bench_llm(
    settings: Settings,
    stores: Stores,
    services: ToolServices,
    classifier: IntentClassifier,
    texts: list[str],
    turns: int,
) -> dict[str, Any]:
    user = services.accounts.create_user(email="bench-llm@example.com", password=secrets.token_urlsafe(16))
    warmup = 2
    started = time.perf_counter()
    try:
        async with open_llm(settings) as llm:
            startup_s = round(time.perf_counter() - started, 2)
            async with open_agent(settings, stores.db, services, classifier=classifier, llm=llm) as service:
                timings = await drive(service, user.id, texts[: warmup + turns], warmup)
    except Exception as exc:  # no llama.cpp, no model file, a crash: reported, not raised
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "model": settings.llm.model,
        "threads": settings.llm.embedded_threads or "default (half the cores)",
        "server_startup_s": startup_s,
        **summarise(timings, llm=True),
    }


def run(
    *,
    turns: int = 100,
    llm_turns: int = 20,
    warmup: int = 5,
    with_llm: bool = True,
    seed: int = 0,
    llm_threads: int | None = None,
) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = asyncio.run(_bench(turns, llm_turns, warmup, with_llm, seed, llm_threads))
    template_p50 = result["template"]["turn_ms_p50"]
    llm = result["llm"]
    ttft_p50 = llm.get("llm_ttft_ms_p50") if llm else None
    result["targets"] = {
        "turn_ms_p50_without_llm": TURN_P50_TARGET_MS,
        "ttft_ms_p50_with_llm": TTFT_P50_TARGET_MS,
    }
    result["pass"] = {
        "turn_ms_p50_without_llm": template_p50 is not None and template_p50 <= TURN_P50_TARGET_MS,
        "ttft_ms_p50_with_llm": None
        if llm is None
        else ttft_p50 is not None and ttft_p50 <= TTFT_P50_TARGET_MS,
    }
    return result


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def table(result: dict[str, Any]) -> str:
    """The figures for a person to read; the JSON line after it is for tools."""
    m = result["machine"]
    blas = ", ".join(f"{b['api']} × {b['threads']}" for b in m["blas"])
    lines = [
        f"agent turn latency · {m['cpus_usable']} of {m['cpu_count']} CPUs usable · "
        f"load {m['load_avg_1m']} · BLAS {blas or '?'} · Python {m['python']}",
        f"{'mode':<10} {'turns':>5} {'turn p50':>9} {'turn p99':>9} {'TTFT p50':>9} {'TTFT p99':>9}  replies",
    ]
    rows = [("template", result["template"])]
    llm = result.get("llm")
    if llm and "error" not in llm:
        rows.append(("SmolLM2", llm))
    for name, row in rows:
        sources = ", ".join(f"{k} {v}" for k, v in row["reply_sources"].items())
        lines.append(
            f"{name:<10} {row['turns']:>5} {_ms(row['turn_ms_p50']):>9} {_ms(row['turn_ms_p99']):>9} "
            f"{_ms(row['ttft_ms_p50']):>9} {_ms(row['ttft_ms_p99']):>9}  {sources}"
        )
    if llm and "error" in llm:
        lines.append(f"SmolLM2    not measured: {llm['error']}")
    elif llm:
        share = llm["llm_kept_share"]
        lines.append(
            f"SmolLM2 asked to word {llm['llm_turns']} replies: "
            f"first token p50 {_ms(llm['llm_ttft_ms_p50'])}, p99 {_ms(llm['llm_ttft_ms_p99'])}, "
            f"turn p50 {_ms(llm['llm_turn_ms_p50'])}; wording kept in "
            f"{'—' if share is None else f'{share:.0%}'}, {llm['resets']} reset(s); "
            f"server started in {llm['server_startup_s']} s"
        )

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("PASS" if ok else "FAIL")

    passed, targets = result["pass"], result["targets"]
    lines.append(
        f"targets: turn p50 ≤ {targets['turn_ms_p50_without_llm']:.0f} ms without LLM: "
        f"{verdict(passed['turn_ms_p50_without_llm'])}; TTFT p50 ≤ {targets['ttft_ms_p50_with_llm']:.0f} ms "
        f"on LLM-worded turns: {verdict(passed['ttft_ms_p50_with_llm'])}"
    )
    return "\n".join(lines)
