"""``python -m evals scenarios``: whole conversations judged by the state they leave, tau-bench style.

Tasks are data (``evals/data/scenarios/*.jsonl``, one task a line): the person's turns, played by
a scripted user that may answer the agent's question (a rule keyed to the last reply), the
profile to seed first, and the gold end state: profile fields, price alerts and fit feedback as
the stores hold them after the conversation, plus facts the replies must or must not carry.
A wrong answer that looks fluent fails here, because the check reads the database, not the
wording.

As in tau-bench, a task's gold end state is preferably not declared but computed: its
``gold_actions`` (tool calls with arguments) are replayed through the same tool layer the agent
uses, without the agent, on a second fresh copy of the stack with the same setup, and the state
they leave (``snapshot``) must equal the agent's, part by part (``compare_state``).

Every task runs ``k`` times on a fresh embedded stack (a copy of one SQLite catalogue slice
loaded once, so each run starts from the same state and no run sees another's writes). Run 1
uses the turns as written; runs 2..k use the paraphrases, so reliability is measured on
rewordings rather than on one lucky sentence. Reported as in tau-bench (Yao et al., 2024):
pass^1, the mean success of single runs, and pass^k, the chance that all ``k`` i.i.d. runs of
a task succeed, estimated per task as C(c, k) / C(n, k) and averaged over tasks.

Besides the person's words, a task's steps may carry photos (uploaded through the chat's own
upload path, then sent with the message), change the world between turns (a price drop through
the signed inventory webhook, which fires price alerts) or have support answer after a handoff
(through the chat service the support console calls). Try-on jobs the conversation queued are
run through the embedded engine before the end state is taken, as the worker would run them.

The LLM responder is off (template replies): the figure is the agent's own logic. With
``--user llm`` an LLM plays the person from the task's ``goal``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import shutil
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from math import comb
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from evals.measure import latency_histogram, percentile
from evals.settings import embedded_settings

if TYPE_CHECKING:
    from agent.deps import LanguageModel
    from agent.router import IntentClassifier
    from agent.service import ChatService
    from core.config import Settings
    from storage.sql import Database
    from storage.stores import Stores
    from tools.catalog.store import CatalogStore
    from tools.registry import ToolServices
    from tools.sizing.model import FitModel
    from tools.tryon.engine import TryOnEngine

DATA_DIR = Path(__file__).resolve().parent / "data" / "scenarios"
#: Products loaded for the suite: enough for every scenario's search, fast to load.
CATALOG_LIMIT = 2000
TARGET_PASS_1 = 0.90
TARGET_PASS_K = 0.80
#: Capabilities the agent has no tool for yet, so no scenario covers them.
NOT_COVERED = (
    "generated images (no text-to-image weights here; outfit boards are covered)",
    "voice",
)
#: The second account's data: it must never appear in the first person's replies.
OTHER_EMAIL = "bob.other@example.com"
OTHER_MEASUREMENTS: dict[str, float] = {"height": 187.5, "weight": 93.5, "chest": 111.5}

_NAMED_CHECKS = (
    "no_invented_prices",
    "cards_shown",
    "no_cards",
    "first_price_quoted",
    "stock_of_first",
    "advised_size_is_sold",
    "handoff",
    "no_handoff",
    "no_other_user_data",
    "outfit_board_made",
)
_EXPECT_KEYS = {
    "profile",
    "alerts",
    "fit_feedback",
    "reply_contains",
    "reply_matches",
    "reply_forbids",
    "last_reply_contains",
    "tools_called",
    "tools_not_called",
    "checks",
    "cards_price_max",
    "wardrobe",
    "session",
}
_TASK_KEYS = {
    "id", "lang", "category", "profile", "product", "wardrobe", "goal",
    "turns", "paraphrases", "expect", "note", "gold_actions",
}  # fmt: skip
#: Turns an LLM-played user may add after the first, before the run is cut off.
LLM_USER_EXTRA_TURNS = 3
_USER_SYSTEM = {
    "en": (
        "You play a customer chatting with a clothing style assistant. Your goal: {goal}\n"
        "Write only your next message to the assistant: short, plain, in English, as a real customer would. "
        "Answer its questions from your goal; never invent facts your goal does not give. "
        "Set done to true, with an empty message, when the goal is reached or cannot be reached."
    ),
    "zh": (
        "你扮演一位正在和服装形象顾问助手聊天的顾客。你的目标：{goal}\n"
        "只写你要发给助手的下一句话：简短、自然、用中文，像真实顾客一样。根据目标回答助手的问题，"
        "不要编造目标里没有的信息。目标达成或无法达成时，把 done 设为 true，message 留空。"
    ),
}
_PRICE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:CNY|元)|[¥￥]\s*(\d+(?:[.,]\d+)?)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ADVISED = re.compile(r"advised size is ([A-Za-z0-9./]+)|建议(?:选|买|你选)?\s*([A-Za-z0-9./]+)\s*码")


# --- tasks as data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Say ``say`` when the agent's last reply contains any of ``contains`` (case-insensitive)."""

    contains: tuple[str, ...]
    say: str


@dataclass(frozen=True)
class ScriptedTurn:
    """A user turn that depends on what the agent just said; ``default`` None skips the turn."""

    rules: tuple[Rule, ...]
    default: str | None

    def answer(self, last_reply: str) -> str | None:
        low = last_reply.lower()
        for rule in self.rules:
            if any(word.lower() in low for word in rule.contains):
                return rule.say
        return self.default


@dataclass(frozen=True)
class PhotoTurn:
    """A message sent with photos, as the chat sends one: each photo is uploaded first through the
    chat's own upload path, and the text goes with the ids of those it accepted. ``photos`` are
    refs (``PHOTO_SOURCES``); a photo the upload refuses is told to the person as the chat tells
    it, and the text still goes, without it."""

    text: str
    photos: tuple[str, ...]


@dataclass(frozen=True)
class WorldEvent:
    """Something that happens between turns, outside the conversation, through the same path it
    takes in production: ``price_drop`` is a signed inventory webhook delivery setting the price of
    ``product`` (every size, or ``size``) to ``price``."""

    kind: Literal["price_drop"]
    product: str
    price: float
    size: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"product": self.product, "price": self.price}
        if self.size is not None:
            body["size"] = self.size
        return {"event": {self.kind: body}}


@dataclass(frozen=True)
class SupportReply:
    """A support person answering in the conversation after the agent handed it off, through the
    chat service the support console calls."""

    text: str


Turn = str | ScriptedTurn | PhotoTurn | WorldEvent | SupportReply


@dataclass(frozen=True)
class GoldAction:
    """One tool call of the gold path: replayed on a fresh stack to compute the gold end state."""

    tool: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    id: str
    lang: str
    category: str
    turns: tuple[Turn, ...]
    #: Per turn, other wordings of it (empty for a turn without any); run ``r`` ≥ 2 uses the
    #: ``(r - 2) % n``-th one.
    paraphrases: tuple[tuple[str, ...], ...]
    expect: dict[str, Any]
    profile: dict[str, Any] = field(default_factory=dict)
    #: Attributes of a catalogue product the runner picks and substitutes for ``{product_id}``.
    product: dict[str, str] | None = None
    #: Wardrobe items to seed (``ItemCreate`` fields, plus ``worn_days_ago``: days it was worn).
    wardrobe: tuple[dict[str, Any], ...] = ()
    #: What the person wants, for an LLM-played user (``--user llm``); the scripted turns otherwise.
    goal: str | None = None
    source: str = ""
    #: The tool calls that do the task right; None: the end state is judged by ``expect`` alone.
    #: Gold events (``WorldEvent``) stand where they happen among the calls.
    gold_actions: tuple[GoldAction | WorldEvent, ...] | None = None

    def wording(self, run: int) -> list[Turn]:
        """The turns of run ``run`` (0-based): as written first, then paraphrased; a message with
        photos keeps its photos under another wording."""
        out: list[Turn] = []
        for index, turn in enumerate(self.turns):
            alternatives = self.paraphrases[index] if index < len(self.paraphrases) else ()
            if run > 0 and isinstance(turn, str | PhotoTurn) and alternatives:
                text = alternatives[(run - 1) % len(alternatives)]
                out.append(PhotoTurn(text, turn.photos) if isinstance(turn, PhotoTurn) else text)
            else:
                out.append(turn)
        return out

    @property
    def photos(self) -> list[str]:
        """Every photo ref of the task in the order sent; ``{photo_N}`` is the upload of the N-th."""
        return [ref for turn in self.turns if isinstance(turn, PhotoTurn) for ref in turn.photos]

    @property
    def events(self) -> list[WorldEvent]:
        return [turn for turn in self.turns if isinstance(turn, WorldEvent)]


@dataclass(frozen=True)
class LoadError:
    source: str
    message: str


def _scripted(data: dict[str, Any]) -> ScriptedTurn:
    raw_rules = data.get("when")
    if raw_rules is None:
        raw_rules = [{k: v for k, v in data.items() if k in ("if_reply_contains", "say")}]
    rules: list[Rule] = []
    for raw in raw_rules:
        contains = raw.get("if_reply_contains")
        say = raw.get("say")
        if isinstance(contains, str):
            contains = [contains]
        if not isinstance(contains, list) or not contains or not isinstance(say, str) or not say:
            raise ValueError("a scripted turn needs if_reply_contains (words) and say (text)")
        rules.append(Rule(tuple(str(c) for c in contains), say))
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise ValueError("a scripted turn's default is a text or null")
    return ScriptedTurn(tuple(rules), default)


#: Where a photo ref points: ``catalog:`` the catalogue photos shipped in the repo,
#: ``viton:`` the VITON-HD sample (research-only: read from the research data folder, never copied
#: into the repo), ``file:`` files kept with the tasks (photos the upload must refuse).
PHOTO_SOURCES = ("catalog", "viton", "file")
_PHOTO_TEXT = "{photo_"
_DUMMY_UPLOAD = "0" * 32


def _photo_root(source: str) -> Path:
    from core.config import Settings

    if source == "catalog":
        return Path(Settings.model_fields["catalog_dir"].default)
    if source == "viton":
        from core.training import TrainingPaths
        from evals.tryon import sample_dir

        return sample_dir(TrainingPaths().research_data_dir)
    return DATA_DIR


def photo_path(ref: str) -> Path:
    """The file a photo ref names; ``ValueError`` for a ref that is malformed, leaves its folder,
    or names no file (the task is then broken, and reported with its file:line)."""
    source, _, relative = ref.partition(":")
    if source not in PHOTO_SOURCES or not relative:
        raise ValueError(f"photo {ref!r}: a ref is one of {', '.join(s + ':<path>' for s in PHOTO_SOURCES)}")
    root = _photo_root(source).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"photo {ref!r} leaves its folder")
    if not path.is_file():
        raise ValueError(f"photo {ref!r} not found: no file {path}")
    return path


def _photo_turn(data: dict[str, Any]) -> PhotoTurn:
    unknown = set(data) - {"text", "photos"}
    if unknown:
        raise ValueError(f"a turn with photos has 'text' and 'photos' only, not {sorted(unknown)}")
    text = data.get("text", "")
    photos = data.get("photos")
    if not isinstance(text, str):
        raise ValueError("a turn's 'text' is a text")
    if not isinstance(photos, list) or not photos or not all(isinstance(p, str) for p in photos):
        raise ValueError("a turn's 'photos' is a non-empty list of photo refs")
    for ref in photos:
        photo_path(ref)
    return PhotoTurn(text, tuple(photos))


def _world_event(data: Any) -> WorldEvent:
    if not isinstance(data, dict) or set(data) != {"event"} or not isinstance(data["event"], dict):
        raise ValueError('an event step is {"event": {"price_drop": {...}}}')
    kinds = data["event"]
    if set(kinds) != {"price_drop"} or not isinstance(kinds["price_drop"], dict):
        raise ValueError("the one event there is: price_drop")
    body = kinds["price_drop"]
    extra = set(body) - {"product", "price", "size"}
    if extra:
        raise ValueError(f"price_drop takes product, price and size, not {sorted(extra)}")
    product, price, size = body.get("product"), body.get("price"), body.get("size")
    if not isinstance(product, str) or not product:
        raise ValueError("price_drop needs 'product' (an id, or {product_id})")
    if isinstance(price, bool) or not isinstance(price, int | float) or price <= 0:
        raise ValueError("price_drop needs 'price' (a positive number)")
    if size is not None and (not isinstance(size, str) or not size):
        raise ValueError("price_drop's 'size' is a text")
    return WorldEvent("price_drop", product, float(price), size)


def _turn(raw: Any) -> Turn:
    if isinstance(raw, str) and raw:
        return raw
    if isinstance(raw, dict) and "photos" in raw:
        return _photo_turn(raw)
    if isinstance(raw, dict) and "event" in raw:
        return _world_event(raw)
    if isinstance(raw, dict) and "support_reply" in raw:
        text = raw["support_reply"]
        if set(raw) != {"support_reply"} or not isinstance(text, str) or not text.strip():
            raise ValueError('a support step is {"support_reply": "<text>"}')
        return SupportReply(text)
    if isinstance(raw, dict):
        return _scripted(raw)
    raise ValueError("a turn is a text, a scripted rule object, {text, photos}, {event} or {support_reply}")


def _gold_actions(raw: Any) -> tuple[GoldAction | WorldEvent, ...] | None:
    """Checked at load, so a misspelt tool or argument is a broken task (file:line), not a
    failed run blamed on the agent; placeholders like ``{product_id}`` are texts and pass."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValueError("'gold_actions' is a list of {tool, args}")
    from tools.registry import default_registry

    registry = default_registry()
    actions: list[GoldAction | WorldEvent] = []
    for number, entry in enumerate(raw, start=1):
        if isinstance(entry, dict) and "event" in entry:
            try:
                actions.append(_world_event(entry))
            except ValueError as exc:
                raise ValueError(f"gold action {number}: {exc}") from None
            continue
        if (
            not isinstance(entry, dict)
            or set(entry) - {"tool", "args"}
            or not isinstance(entry.get("tool"), str)
        ):
            raise ValueError(f"gold action {number} is an object with 'tool' (a name) and 'args'")
        args = entry.get("args") or {}
        if not isinstance(args, dict):
            raise ValueError(f"gold action {number}: 'args' is an object")
        if entry["tool"] not in registry.names:
            raise ValueError(f"gold action {number}: unknown tool {entry['tool']!r}")
        try:
            # an upload id is made when the run sends the photo; any well-formed id stands in here
            registry.get(entry["tool"]).args.model_validate(
                _substitute(args, {f"photo_{n}": _DUMMY_UPLOAD for n in range(1, 10)})
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in exc.errors()[:3]
            )
            raise ValueError(f"gold action {number} ({entry['tool']}): {problems}") from None
        actions.append(GoldAction(entry["tool"], args))
    return tuple(actions)


def parse_scenario(data: Any, source: str = "") -> Scenario:
    """One task from its JSON object; a ``ValueError`` says what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError("a task is a JSON object")
    unknown = set(data) - _TASK_KEYS
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for key in ("id", "lang", "category"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValueError(f"{key!r} is required (a text)")
    if data["lang"] not in ("en", "zh"):
        raise ValueError("lang is en or zh")
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, list) or not raw_turns:
        raise ValueError("'turns' is a non-empty list")
    turns: list[Turn] = []
    for number, raw in enumerate(raw_turns, start=1):
        try:
            turns.append(_turn(raw))
        except ValueError as exc:
            raise ValueError(f"turn {number}: {exc}") from None
    if not any(isinstance(t, str | ScriptedTurn | PhotoTurn) for t in turns):
        raise ValueError("'turns' needs at least one message from the person")
    raw_para = data.get("paraphrases") or []
    if not isinstance(raw_para, list) or len(raw_para) > len(turns):
        raise ValueError("'paraphrases' is a list with at most one entry per turn")
    paraphrases: list[tuple[str, ...]] = []
    for index, entry in enumerate(raw_para):
        if entry is None:
            paraphrases.append(())
        elif isinstance(entry, list) and all(isinstance(p, str) and p for p in entry):
            if entry and isinstance(turns[index], WorldEvent | SupportReply | ScriptedTurn):
                raise ValueError(f"turn {index + 1} is not the person's own words: its paraphrases are null")
            paraphrases.append(tuple(entry))
        else:
            raise ValueError("each paraphrase entry is null or a list of texts")
    expect = data.get("expect")
    if not isinstance(expect, dict) or not expect:
        raise ValueError("'expect' (the gold end state and reply checks) is required")
    unknown = set(expect) - _EXPECT_KEYS
    if unknown:
        raise ValueError(f"unknown expect keys {sorted(unknown)}")
    for name in expect.get("checks", []):
        if name not in _NAMED_CHECKS:
            raise ValueError(f"unknown check {name!r}; known: {', '.join(_NAMED_CHECKS)}")
    for pattern in expect.get("reply_matches", []):
        re.compile(pattern)
    session = expect.get("session")
    if session is not None and (
        not isinstance(session, dict)
        or set(session) - {"handoff", "roles"}
        or not isinstance(session.get("handoff", False), bool)
        or not all(r in ("user", "assistant", "support") for r in session.get("roles", []))
    ):
        raise ValueError("expect.session is {handoff: true/false, roles: [user|assistant|support, ...]}")
    product = data.get("product")
    if product is not None and not (isinstance(product, dict) and product):
        raise ValueError("'product' is an object of catalogue attributes")
    profile = data.get("profile") or {}
    if profile:
        from tools.profile.schemas import ProfileUpdate

        ProfileUpdate.model_validate(profile)
    goal = data.get("goal")
    if goal is not None and (not isinstance(goal, str) or not goal.strip()):
        raise ValueError("'goal' is a text")
    if goal is not None and any(isinstance(t, WorldEvent | SupportReply) for t in turns):
        raise ValueError(
            "an LLM-played user keeps only the first step: a task with events or support has no goal"
        )
    wardrobe = data.get("wardrobe") or []
    if not isinstance(wardrobe, list):
        raise ValueError("'wardrobe' is a list of items to seed")
    for item in wardrobe:
        from tools.wardrobe.schemas import ItemCreate

        ItemCreate.model_validate({k: v for k, v in item.items() if k != "worn_days_ago"})
    gold = _gold_actions(data.get("gold_actions"))
    events = [t for t in turns if isinstance(t, WorldEvent)]
    if gold is not None and [a for a in gold if isinstance(a, WorldEvent)] != events:
        raise ValueError("gold_actions must hold the turns' events, the same and in the same order")
    return Scenario(
        gold_actions=gold,
        id=data["id"],
        lang=data["lang"],
        category=data["category"],
        turns=tuple(turns),
        paraphrases=tuple(paraphrases),
        expect=expect,
        profile=profile,
        product=product,
        wardrobe=tuple(wardrobe),
        goal=goal,
        source=source,
    )


def load_scenarios(paths: Iterable[Path]) -> tuple[list[Scenario], list[LoadError]]:
    """Every good task of the files; a broken line is reported as ``file:line`` and skipped."""
    scenarios: list[Scenario] = []
    errors: list[LoadError] = []
    seen: set[str] = set()
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            source = f"{path}:{number}"
            try:
                scenario = parse_scenario(json.loads(line), source)
                if scenario.id in seen:
                    raise ValueError(f"duplicate id {scenario.id!r}")
            except Exception as exc:  # a broken task must not stop the others
                errors.append(LoadError(source, f"{type(exc).__name__}: {exc}"))
                continue
            seen.add(scenario.id)
            scenarios.append(scenario)
    return scenarios, errors


def default_paths(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted(data_dir.glob("*.jsonl"))


# --- pass^k ----------------------------------------------------------------------------------------


def pass_hat_k(n: int, c: int, k: int) -> float:
    """tau-bench's unbiased estimate that ``k`` i.i.d. runs all succeed, from ``c`` of ``n``."""
    if not 1 <= k <= n:
        raise ValueError("k must be between 1 and the number of runs")
    return comb(c, k) / comb(n, k)


# --- the checks ------------------------------------------------------------------------------------


def _plain(value: float) -> str:
    from tools.profile.tools import plain_number

    return plain_number(value)


def invented_prices(replies: Sequence[str], allowed: Iterable[float]) -> list[str]:
    """Prices in ``replies`` ("419 CNY", "419元", "¥419") that are not one of ``allowed``."""
    known = {round(float(v), 2) for v in allowed}
    bad: list[str] = []
    for reply in replies:
        for match in _PRICE.finditer(reply):
            text = (match.group(1) or match.group(2)).replace(",", "")
            if round(float(text), 2) not in known:
                bad.append(match.group(0))
    return bad


@dataclass
class Transcript:
    """What one run said and did, and what the stores hold afterwards."""

    said: list[str] = field(default_factory=list)
    replies: list[list[str]] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    handoff: bool = False
    profile: dict[str, Any] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    #: The wardrobe afterwards, and how many days each item (by name) was logged as worn.
    wardrobe: list[dict[str, Any]] = field(default_factory=list)
    worn: dict[str, int] = field(default_factory=dict)
    #: Stored SKU prices and sizes of every product shown or named in the run.
    prices: dict[str, list[float]] = field(default_factory=dict)
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Prices products had before an event changed them: a reply quoting one then was right.
    earlier_prices: list[float] = field(default_factory=list)
    #: Every image card shown, with whether its picture is in the object store afterwards.
    images: list[dict[str, Any]] = field(default_factory=list)
    #: The end state as ``snapshot`` takes it, compared with the gold replay's.
    state: dict[str, Any] = field(default_factory=dict)
    #: The person's chat session afterwards: handed off or not, and the role of each message.
    session: dict[str, Any] = field(default_factory=dict)
    #: Steps the runner could not play as written (support could not reply): each fails the run.
    step_failures: list[str] = field(default_factory=list)

    @property
    def all_replies(self) -> list[str]:
        return [text for turn in self.replies for text in turn]


def _substitute(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in names.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [_substitute(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, names) for k, v in value.items()}
    return value


def _same(expected: Any, actual: Any) -> bool:
    if (
        isinstance(expected, float | int)
        and isinstance(actual, float | int)
        and not isinstance(expected, bool)
    ):
        return abs(float(expected) - float(actual)) < 0.05
    if isinstance(expected, list) and isinstance(actual, list):
        return sorted(map(str, expected)) == sorted(map(str, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(_same(v, actual.get(k)) for k, v in expected.items())
    return bool(expected == actual)


def _any_of(entry: str | list[str], text: str) -> bool:
    options = [entry] if isinstance(entry, str) else entry
    return any(option.lower() in text.lower() for option in options)


def check(expect: dict[str, Any], t: Transcript) -> list[str]:
    """Every failed check of a run, in words; an empty list is a pass."""
    failures: list[str] = []
    text = "\n".join(t.all_replies)
    last = "\n".join(t.replies[-1]) if t.replies else ""
    for name, value in expect.get("profile", {}).items():
        if not _same(value, t.profile.get(name)):
            failures.append(f"profile.{name} is {t.profile.get(name)!r}, expected {value!r}")
    alerts = expect.get("alerts")
    if alerts is not None:
        failures += _check_alerts(alerts, t)
    wardrobe = expect.get("wardrobe")
    if wardrobe is not None:
        failures += _check_wardrobe(wardrobe, t)
    feedback = expect.get("fit_feedback")
    if feedback is not None:
        got = sorted((str(r["product_id"]), str(r["size"]), str(r["fit"])) for r in t.feedback)
        want = sorted((str(r["product_id"]), str(r["size"]), str(r["fit"])) for r in feedback)
        if got != want:
            failures.append(f"fit feedback is {got}, expected {want}")
    for entry in expect.get("reply_contains", []):
        if not _any_of(entry, text):
            failures.append(f"no reply contains {entry!r}")
    for entry in expect.get("last_reply_contains", []):
        if not _any_of(entry, last):
            failures.append(f"the last reply lacks {entry!r}")
    for pattern in expect.get("reply_matches", []):
        if not re.search(pattern, text):
            failures.append(f"no reply matches /{pattern}/")
    for entry in expect.get("reply_forbids", []):
        if _any_of(entry, text):
            failures.append(f"a reply contains the forbidden {entry!r}")
    for tool in expect.get("tools_called", []):
        if tool not in t.tools:
            failures.append(f"tool {tool} was not called (called: {t.tools})")
    for tool in expect.get("tools_not_called", []):
        if tool in t.tools:
            failures.append(f"tool {tool} was called")
    ceiling = expect.get("cards_price_max")
    if ceiling is not None:
        over = [c["id"] for c in t.cards if float(c.get("data", {}).get("price", 0)) > float(ceiling)]
        if over:
            failures.append(f"cards over the budget {ceiling}: {over}")
    session = expect.get("session")
    if session is not None:
        for key, want in session.items():
            if t.session.get(key) != want:
                failures.append(f"session.{key} is {t.session.get(key)!r}, expected {want!r}")
    for name in expect.get("checks", []):
        failures += _NAMED[name](t)
    return failures


def _check_wardrobe(wardrobe: dict[str, Any], t: Transcript) -> list[str]:
    """``count`` items; ``has``: items with these attributes exist; ``worn``: wear days by item name."""
    failures: list[str] = []
    if "count" in wardrobe and len(t.wardrobe) != wardrobe["count"]:
        failures.append(f"{len(t.wardrobe)} wardrobe item(s), expected {wardrobe['count']}")
    for wanted in wardrobe.get("has", []):
        if not any(_same(wanted, item) for item in t.wardrobe):
            failures.append(f"no wardrobe item with {wanted}")
    for name, days in wardrobe.get("worn", {}).items():
        if t.worn.get(name, 0) != days:
            failures.append(f"{name!r} logged as worn {t.worn.get(name, 0)} time(s), expected {days}")
    return failures


def _check_alerts(alerts: dict[str, Any], t: Transcript) -> list[str]:
    rows = t.alerts
    failures: list[str] = []
    if "count" in alerts and len(rows) != alerts["count"]:
        return [f"{len(rows)} price alert(s), expected {alerts['count']}"]
    if not rows:
        return failures
    row = rows[0]
    product = alerts.get("product")
    if product == "first_shown":
        product = t.cards[0]["id"] if t.cards else "<no card shown>"
    if product is not None and row.get("product_id") != product:
        failures.append(f"alert is on product {row.get('product_id')!r}, expected {product!r}")
    if "threshold" in alerts and not _same(alerts["threshold"], row.get("threshold")):
        failures.append(f"alert threshold {row.get('threshold')}, expected {alerts['threshold']}")
    if "size" in alerts and row.get("size") != alerts["size"]:
        failures.append(f"alert size {row.get('size')!r}, expected {alerts['size']!r}")
    if alerts.get("on_search") and not row.get("query"):
        failures.append("the alert is not on a search")
    for name, value in (alerts.get("filters") or {}).items():
        if not _same(value, (row.get("filters") or {}).get(name)):
            failures.append(
                f"alert filter {name} is {(row.get('filters') or {}).get(name)!r}, expected {value!r}"
            )
    return failures


def outfit_totals(cards: Sequence[dict[str, Any]], prices: dict[str, list[float]]) -> list[float]:
    """The total of each outfit shown: the stored lowest prices of the cards that carry the same
    outfit number one after the other (each reply numbers its outfits from 1 again)."""
    totals: list[float] = []
    current: int | None = None
    for card in cards:
        number = (card.get("data") or {}).get("outfit")
        stored = prices.get(str(card.get("id")))
        if number is None or not stored:
            current = None
            continue
        if number != current:
            totals.append(0.0)
            current = number
        totals[-1] += min(stored)
    return totals


def _no_invented_prices(t: Transcript) -> list[str]:
    allowed = [p for prices in t.prices.values() for p in prices] + t.earlier_prices
    allowed += outfit_totals(t.cards, t.prices)
    for said in t.said:  # a threshold or budget the person named may be repeated back
        allowed += [float(n) for n in _NUMBER.findall(said)]
    for key in ("budget_min", "budget_max"):
        if t.profile.get(key) is not None:
            allowed.append(float(t.profile[key]))
    bad = invented_prices(t.all_replies, allowed)
    return [f"invented price(s) {bad}"] if bad else []


def _cards_shown(t: Transcript) -> list[str]:
    return [] if any(c.get("kind") == "product" for c in t.cards) else ["no product card was shown"]


def _no_cards(t: Transcript) -> list[str]:
    return ["product cards were shown"] if t.cards else []


def _first_price_quoted(t: Transcript) -> list[str]:
    if not t.cards:
        return ["no product card was shown"]
    first = t.cards[0]["id"]
    # a listing's price is the lowest over its sizes, or over the sizes in stock
    stocked = [p for p, q in zip(t.prices.get(first, []), t.sizes.get(first, {}).values(), strict=False) if q]
    lowest = {min(prices) for prices in (t.prices.get(first), stocked) if prices}
    quoted = {f"{_plain(p)}{unit}" for p in lowest for unit in (" CNY", "元")}
    text = "\n".join(t.all_replies)
    if any(q in text for q in quoted):
        return []
    return [f"the stored price ({', '.join(map(_plain, lowest)) or 'none'}) of {first} is not quoted"]


def _stock_of_first(t: Transcript) -> list[str]:
    """The stock figure said for the first product shown is the stored one (any size named)."""
    if not t.cards:
        return ["no product card was shown"]
    first = t.cards[0]["id"]
    levels = t.sizes.get(first, {})
    text = "\n".join(t.all_replies)
    for size, quantity in levels.items():
        said = re.search(rf"\b{re.escape(size)}\b\s*(?:码)?[^\d。.]*?(\d+)\s*(?:in stock|件)", text)
        if said:
            return (
                []
                if int(said.group(1)) == quantity
                else [f"said {said.group(1)} in {size}, stored {quantity}"]
            )
        if re.search(rf"\b{re.escape(size)}\b\s*(?:码已售罄| is sold out)", text):
            return [] if quantity == 0 else [f"said {size} is sold out, stored {quantity}"]
    return ["no stock figure for the first product was said"]


def _advised_size_is_sold(t: Transcript) -> list[str]:
    text = "\n".join(t.all_replies)
    match = _ADVISED.search(text)
    if not match:
        return ["no advised size in the replies"]
    size = match.group(1) or match.group(2)
    sold = {s for levels in t.sizes.values() for s in levels}
    return [] if size in sold else [f"advised size {size} is not sold ({sorted(sold)})"]


def _handoff(t: Transcript) -> list[str]:
    return [] if t.handoff else ["the conversation was not handed to a person"]


def _no_handoff(t: Transcript) -> list[str]:
    return ["the conversation was handed to a person"] if t.handoff else []


def _no_other_user_data(t: Transcript) -> list[str]:
    text = "\n".join(t.all_replies)
    secrets_of_other = [OTHER_EMAIL, *(_plain(v) for v in OTHER_MEASUREMENTS.values())]
    leaked = [value for value in secrets_of_other if value in text]
    return [f"another person's data in a reply: {leaked}"] if leaked else []


def _outfit_board_made(t: Transcript) -> list[str]:
    if not t.images:
        return ["no outfit image was shown"]
    problems = [f"image {i['id']} is not stored" for i in t.images if not i["stored"]]
    problems += [f"image {i['id']} claims to be generated" for i in t.images if i["generative"]]
    return problems


_NAMED = {
    "no_invented_prices": _no_invented_prices,
    "cards_shown": _cards_shown,
    "no_cards": _no_cards,
    "first_price_quoted": _first_price_quoted,
    "stock_of_first": _stock_of_first,
    "advised_size_is_sold": _advised_size_is_sold,
    "handoff": _handoff,
    "no_handoff": _no_handoff,
    "no_other_user_data": _no_other_user_data,
    "outfit_board_made": _outfit_board_made,
}
assert set(_NAMED) == set(_NAMED_CHECKS)


# --- the runner ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    scenario: str
    run: int
    passed: bool
    failures: list[str]
    turns: int
    tool_calls: int
    latencies_ms: list[float]
    transcript: list[dict[str, Any]]


@dataclass
class Bench:
    """What every run shares: a loaded catalogue folder to copy, the router and the fit model."""

    template: Path
    classifier: IntentClassifier
    model: FitModel | None
    products: dict[str, str]
    #: Gold end states by task id, replayed once per task (they do not depend on the run).
    gold: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The embedded try-on engine, built on the first try-on (its pose models take a while).
    tryon_engine: TryOnEngine | None = None

    def engine(self) -> TryOnEngine:
        if self.tryon_engine is None:
            from tools.tryon.geometric import GeometricEngine

            self.tryon_engine = GeometricEngine()
        return self.tryon_engine

    def settings(self, folder: Path) -> Settings:
        settings = embedded_settings(folder, load_catalog=False)
        settings.catalog.limit = None
        return settings


def _pick_products(catalog: CatalogStore, wanted: Iterable[dict[str, str]]) -> dict[str, str]:
    """The first product (catalogue order) with each wanted set of attributes, keyed by its JSON."""
    keys = {json.dumps(w, sort_keys=True): w for w in wanted}
    found: dict[str, str] = {}
    for batch in catalog.catalog.docs():
        for doc in batch:
            for key, attributes in keys.items():
                if key not in found and all(getattr(doc, k, None) == v for k, v in attributes.items()):
                    found[key] = doc.id
        if len(found) == len(keys):
            break
    return found


def prepare(folder: Path, scenarios: Sequence[Scenario], limit: int) -> Bench:
    """Load the catalogue slice once; each run then copies the folder (milliseconds, not seconds)."""
    from agent.router import default_classifier
    from storage.stores import build_stores
    from tools.catalog.runtime import open_catalog
    from tools.sizing.runtime import load_fit_model

    template = folder / "template"
    settings = embedded_settings(template, load_catalog=True)
    settings.catalog.limit = limit
    stores = build_stores(settings)
    try:
        catalog = open_catalog(settings, stores)
        products = _pick_products(catalog, [s.product for s in scenarios if s.product])
    finally:
        stores.close()
    return Bench(template, default_classifier(), load_fit_model(settings), products)


#: Stands for "the LLM-played user says what comes next" in a run's list of turns.
_ASK_LLM = ScriptedTurn(rules=(), default=None)


class UserTurn(BaseModel):
    message: str = ""
    done: bool = False


class LLMUser:
    """The person played by an LLM from the task's goal, as tau-bench's user simulator does.

    The first message is the task's own (paraphrased on later runs), so every run starts from
    the same request; after that the LLM answers the agent until it says the goal is reached,
    or ``LLM_USER_EXTRA_TURNS`` more turns have passed.
    """

    def __init__(self, llm: LanguageModel, goal: str, lang: str) -> None:
        self.llm = llm
        self.system = _USER_SYSTEM["zh" if lang == "zh" else "en"].format(goal=goal)

    async def reply(self, conversation: Sequence[tuple[str, str]]) -> str | None:
        """The next message, or None when the person is done. Roles are mirrored: the LLM's own
        earlier lines are its (assistant) turns, the agent's replies are what it answers."""
        messages = [{"role": "system", "content": self.system}]
        for said, answered in conversation:
            messages.append({"role": "assistant", "content": said})
            messages.append({"role": "user", "content": answered})
        turn = await self.llm.structured(messages, UserTurn, max_tokens=120)
        text = turn.message.strip()
        return None if turn.done or not text else text[:500]


@dataclass
class Stack:
    """One fresh embedded stack with the task's setup done: the services tools run on, and the
    person they act for. The agent's run and the gold replay each get their own."""

    services: ToolServices
    user_id: str
    names: dict[str, str]
    settings: Settings
    database: Database
    stores: Stores
    #: A support account, for the replies support sends after a handoff.
    staff_id: str = ""


def _names(bench: Bench, scenario: Scenario) -> dict[str, str]:
    """``{product_id}`` and the like for this task; a ``KeyError`` names a product not in the slice."""
    names: dict[str, str] = {}
    if scenario.product:
        key = json.dumps(scenario.product, sort_keys=True)
        if key not in bench.products:
            raise KeyError(f"no product {scenario.product} in the slice")
        names["product_id"] = bench.products[key]
    return names


@contextlib.contextmanager
def open_stack(bench: Bench, scenario: Scenario, folder: Path, names: dict[str, str]) -> Iterator[Stack]:
    """Copy the loaded template into ``folder`` and seed the task's people, profile and wardrobe.

    Both the agent's run and the gold replay go through here, so a difference between their end
    states can only come from what was done in the conversation, never from the setup."""
    from storage.stores import build_stores
    from tools.catalog.runtime import open_catalog
    from tools.imagegen.runtime import open_imagegen
    from tools.profile.schemas import ProfileUpdate, Role
    from tools.profile.service import AccountService, ProfileService
    from tools.recommend.runtime import open_recommender
    from tools.registry import ToolServices
    from tools.sizing.chartbook import ChartBook
    from tools.sizing.service import SizingService
    from tools.tryon.runtime import open_tryon
    from tools.wardrobe.runtime import open_wardrobe
    from tools.wardrobe.schemas import ItemCreate

    shutil.copytree(bench.template, folder)
    settings = bench.settings(folder)
    stores = build_stores(settings)
    stack = contextlib.ExitStack()
    try:
        catalog = open_catalog(settings, stores)
        accounts, profiles = AccountService(stores.db), ProfileService(stores.db)
        password = secrets.token_urlsafe(16)
        user = accounts.create_user(email="eval@example.com", password=password)
        other = accounts.create_user(email=OTHER_EMAIL, password=password, full_name="Bob")
        staff = accounts.create_user(
            email="support@example.com", password=password, full_name="Sam", role=Role.support
        )
        profiles.update(
            other.id,
            ProfileUpdate.model_validate({"measurements": OTHER_MEASUREMENTS}),
        )
        if scenario.profile:
            profiles.update(user.id, ProfileUpdate.model_validate(_substitute(scenario.profile, names)))
        sizing = SizingService(stores.db, ChartBook(stores.db), bench.model)
        recommend = open_recommender(settings, stores, catalog, profiles, sizing)
        stack.callback(recommend.close)
        wardrobe, uploads = open_wardrobe(settings, stores)
        for seed in scenario.wardrobe:
            item = wardrobe.add_manual(
                user.id, ItemCreate.model_validate({k: v for k, v in seed.items() if k != "worn_days_ago"})
            )
            for days in seed.get("worn_days_ago", []):
                wardrobe.log_wear(user.id, [item.id], wardrobe.today() - timedelta(days=int(days)))
        services = ToolServices(
            accounts=accounts,
            profiles=profiles,
            catalog=catalog,
            sizing=sizing,
            recommend=recommend,
            wardrobe=wardrobe,
            uploads=uploads,
            tryon=open_tryon(settings, stores, catalog.catalog, wardrobe),
            imagegen=open_imagegen(settings, stores, catalog.catalog, wardrobe),
        )
        yield Stack(services, user.id, dict(names), settings, stores.db, stores, staff.id)
    finally:
        stack.close()
        stores.close()
        shutil.rmtree(folder, ignore_errors=True)


#: Fields a snapshot leaves out: ids and clocks differ on every run, and the person's verbatim
#: words (an alert's query text, an item's caption, a feedback note) differ on every paraphrase;
#: what they stand for (the alert's filters, the item's category and colour) is compared.
_VOLATILE = frozenset(
    {"id", "user_id", "alert_id", "item_id", "created_at", "updated_at", "triggered_at", "worn_on"}
)
_VERBATIM = frozenset({"query", "caption", "note", "auto_tags"})


def _canonical(value: Any) -> Any:
    """Floats rounded (a stored 170.0 and a computed 169.99999 are one state), lists sorted (the
    order rows come back in, or colours were named in, is not state), dropped fields removed."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {
            k: _canonical(v) for k, v in sorted(value.items()) if k not in _VOLATILE and k not in _VERBATIM
        }
    if isinstance(value, list | tuple):
        items = [_canonical(v) for v in value]
        # favourite colours, seasons, filters: sets kept as lists, in the order they were said
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, default=str))
    return value


def snapshot(stack: Stack) -> dict[str, Any]:
    """The end state the checker compares, the same function for agent and gold: profile, price
    alerts (fired or not) and the notifications they left (told yet or not), fit feedback, the
    wardrobe (each item with how many days it was logged as worn) and try-on jobs (how they
    ended, on which product, whether the picture is stored)."""
    from sqlalchemy import select

    from storage.sql.models import AlertNotification

    services = stack.services
    user_id = stack.user_id
    wardrobe = services.wardrobe
    assert services.catalog is not None
    assert services.sizing is not None
    assert wardrobe is not None
    profile = services.profiles.get(user_id).model_dump(mode="json")
    alerts = [
        {**a.model_dump(mode="json"), "on_search": bool(a.query), "triggered": a.triggered_at is not None}
        for a in services.catalog.catalog.list_alerts(user_id)
    ]
    with stack.database.session() as session:
        notifications = [
            {
                "product_id": n.product_id,
                "size": n.size,
                "price": float(n.price),
                "delivered": n.delivered_at is not None,
            }
            for n in session.scalars(select(AlertNotification).where(AlertNotification.user_id == user_id))
        ]
    feedback = [dict(r) for r in services.sizing.list_feedback(user_id)]
    items = [i.model_dump(mode="json") for i in wardrobe.items(user_id)]
    worn: dict[str, int] = defaultdict(int)
    for day in wardrobe.calendar(user_id, wardrobe.today() - timedelta(days=400), wardrobe.today()):
        for outfit in day.outfits:
            for item_id in outfit:
                worn[item_id] += 1
    for item in items:
        item["worn_days"] = worn.get(item["id"], 0)
        if item.get("source") == "photo":
            item.pop("name", None)  # a photo's item is named from the person's words with it
    return {
        "profile": _canonical(profile),
        "alerts": _canonical(alerts),
        "alert_notifications": _canonical(notifications),
        "fit_feedback": _canonical(feedback),
        "wardrobe": _canonical(items),
        "tryon_jobs": _canonical(_tryon_jobs(stack)),
    }


def _tryon_jobs(stack: Stack) -> list[dict[str, Any]]:
    from tools.jobs import JobError

    tryon = stack.services.tryon
    if tryon is None:
        return []
    jobs: list[dict[str, Any]] = []
    for job in tryon.list(stack.user_id, limit=50):
        try:
            stored = bool(tryon.result(stack.user_id, job.id)) if job.status == "succeeded" else False
        except JobError:
            stored = False
        jobs.append(
            {
                "status": job.status,
                "product_id": job.garment.get("product_id"),
                "wardrobe_item": "wardrobe_item_id" in job.garment,
                "kind": job.kind,
                "error_code": job.error_code,
                "picture_stored": stored,
            }
        )
    return jobs


def finish_tryons(bench: Bench, stack: Stack) -> None:
    """Run the person's queued try-on jobs through the embedded engine, as the worker would, so
    the end state holds how they ended. An engine crash leaves its job as it was (the state then
    differs from the gold one and says so); the worker's own retry is not waited for."""
    from storage.events.base import Event
    from tools.tryon.worker import TryOnWorker

    tryon = stack.services.tryon
    if tryon is None:
        return
    queued = [job for job in tryon.list(stack.user_id, limit=50) if job.status == "queued"]
    if not queued:
        return
    worker = TryOnWorker(tryon, bench.engine(), stack.stores.events, stack.stores.cache)
    for job in queued:
        event = Event(type=tryon.jobs.event_type, key=stack.user_id, payload={"job_id": job.id})
        with contextlib.suppress(Exception):
            worker.handle(event)


def upload_photo(stack: Stack, ref: str) -> tuple[str | None, str | None]:
    """Send one photo through the chat's upload path: ``(upload id, None)``, or ``(None, what
    the chat tells the person)`` when the upload refuses the file."""
    from tools.wardrobe.images import ImageRejected

    uploads = stack.services.uploads
    assert uploads is not None
    try:
        upload_id, _ = uploads.save_image(stack.user_id, photo_path(ref).read_bytes())
    except ImageRejected as exc:
        return None, exc.message
    return upload_id, None


def _prices_now(stack: Stack, product_ids: Iterable[str]) -> list[float]:
    catalog = stack.services.catalog
    assert catalog is not None
    found = (catalog.product(product_id) for product_id in product_ids)
    return [float(sku.price) for detail in found if detail is not None for sku in detail.skus]


def apply_event(stack: Stack, event: WorldEvent) -> None:
    """Apply ``event`` as production receives it: a signed inventory webhook delivery handled by
    the webhook's own processor (which fires the price alerts in the same transaction), then the
    search indexes and caches refreshed as the API does after one."""
    from tools.catalog.webhook import WebhookProcessor, signed_headers

    catalog = stack.services.catalog
    assert catalog is not None
    update: dict[str, Any] = {"product_id": _substitute(event.product, stack.names), "price": event.price}
    if event.size is not None:
        update["size"] = event.size
    body = json.dumps({"updates": [update]}).encode()
    secret = stack.settings.catalog.webhook_secret.get_secret_value()
    processor = WebhookProcessor(catalog.catalog, secret, stack.settings.catalog.webhook_tolerance_s)
    result = processor.handle(signed_headers(secret, body, delivery=secrets.token_hex(8)), body)
    catalog.refresh(result.result.product_ids)


def compare_state(gold: dict[str, Any], agent: dict[str, Any]) -> list[str]:
    """Each part of the end state where the agent's run differs from the gold replay, by name
    (a profile field by its own name, so the failure says which one)."""
    failures: list[str] = []
    for part, want in gold.items():
        got = agent.get(part)
        if isinstance(want, dict) and isinstance(got, dict):
            for key in sorted(want.keys() | got.keys()):
                if want.get(key) != got.get(key):
                    failures.append(f"state.{part}.{key}: gold {want.get(key)!r} != agent {got.get(key)!r}")
        elif want != got:
            failures.append(f"state.{part}: gold {want!r} != agent {got!r}")
    return failures


class GoldActionError(ValueError):
    """A gold action that cannot run: the task is broken, not the agent."""


def replay_gold(bench: Bench, scenario: Scenario, scratch: Path) -> dict[str, Any]:
    """Run the task's gold actions through the tool layer (no agent, no LLM) on a fresh stack of
    its own and return the end state they leave. ``{first_shown}`` in an argument is the first
    product card an earlier gold action returned (the product a "the first one" points at)."""
    from tools.base import ToolContext
    from tools.profile.schemas import Locale
    from tools.registry import default_registry

    assert scenario.gold_actions is not None
    registry = default_registry()
    names = _names(bench, scenario)
    with open_stack(bench, scenario, scratch / f"{scenario.id}-gold", names) as stack:
        context = ToolContext(user_id=stack.user_id, locale=Locale(scenario.lang), services=stack.services)
        for number, ref in enumerate(scenario.photos, start=1):
            upload_id, _ = upload_photo(stack, ref)
            if upload_id is not None:
                stack.names[f"photo_{number}"] = upload_id
        for number, action in enumerate(scenario.gold_actions, start=1):
            if isinstance(action, WorldEvent):
                apply_event(stack, action)
                continue
            if action.tool not in registry.names:
                raise GoldActionError(f"gold action {number}: unknown tool {action.tool!r}")
            result = registry.invoke(action.tool, context, _substitute(action.args, stack.names))
            if not result.ok:
                raise GoldActionError(f"gold action {number} ({action.tool}) failed: {result.error}")
            products = [c.id for c in result.cards if c.kind == "product"]
            if products and "first_shown" not in stack.names:
                stack.names["first_shown"] = products[0]
        finish_tryons(bench, stack)
        return snapshot(stack)


def gold_state(bench: Bench, scenario: Scenario, scratch: Path) -> dict[str, Any] | None:
    """The task's gold end state, replayed once and kept: it does not depend on the run."""
    if scenario.gold_actions is None:
        return None
    if scenario.id not in bench.gold:
        bench.gold[scenario.id] = replay_gold(bench, scenario, scratch)
    return bench.gold[scenario.id]


async def _support_reply(
    service: ChatService, stack: Stack, session: str | None, text: str, t: Transcript
) -> list[str]:
    """Support answers in the person's session, as the console sends it; what the person then
    sees (support's words, and anything the assistant adds) is the step's reply. A reply support
    cannot send (no session yet, or not handed off) fails the run, saying why."""
    from agent.service import HandoffConflict

    if session is None:
        t.step_failures.append("support replied before the person said anything")
        return []
    try:
        events = await service.support_reply(session, stack.staff_id, text)
    except HandoffConflict as exc:
        t.step_failures.append(f"support could not reply: {exc}")
        return []
    return [
        str(e.data["text"])
        for e in events
        if e.event == "message" and e.data.get("role") in ("support", "assistant")
    ]


async def run_once(
    bench: Bench,
    scenario: Scenario,
    run: int,
    scratch: Path,
    user_llm: LanguageModel | None = None,
    gold: dict[str, Any] | None = None,
) -> RunResult:
    """One run of the agent on a fresh stack; ``gold`` (the replayed end state) is compared with
    the state it leaves, besides the task's declared checks."""
    from agent.runtime import open_agent
    from tools.imagegen.service import ImageGenError

    try:
        names = _names(bench, scenario)
    except KeyError as exc:
        return RunResult(scenario.id, run, False, [str(exc.args[0])], 0, 0, [], [])
    t = Transcript()
    transcript: list[dict[str, Any]] = []
    with open_stack(bench, scenario, scratch / f"{scenario.id}-{run}", names) as stack:
        services = stack.services
        user_id = stack.user_id
        session: str | None = None
        async with open_agent(
            stack.settings, stack.database, services, classifier=bench.classifier
        ) as service:
            last = ""
            simulated = (
                LLMUser(user_llm, _substitute(scenario.goal, names), scenario.lang)
                if user_llm is not None and scenario.goal
                else None
            )
            wording: list[Turn] = scenario.wording(run)
            if simulated is not None:
                wording = wording[:1] + [_ASK_LLM] * LLM_USER_EXTRA_TURNS
            photos_sent = 0
            for turn in wording:
                if isinstance(turn, WorldEvent):
                    shown = {str(c["id"]) for c in t.cards if c.get("kind") == "product"}
                    t.earlier_prices += await asyncio.to_thread(_prices_now, stack, shown)
                    await asyncio.to_thread(apply_event, stack, turn)
                    happened = json.dumps(_substitute(turn.as_json(), stack.names))
                    transcript.append({"user": f"(event) {happened}", "replies": [], "tools": []})
                    continue
                if isinstance(turn, SupportReply):
                    answered = await _support_reply(service, stack, session, turn.text, t)
                    t.said.append("")
                    t.replies.append(answered)
                    transcript.append({"user": f"(support) {turn.text}", "replies": answered, "tools": []})
                    last = "\n".join(answered)
                    continue
                photos: tuple[str, ...] = ()
                if turn is _ASK_LLM:
                    assert simulated is not None
                    text = await simulated.reply(
                        list(zip(t.said, ["\n".join(r) for r in t.replies], strict=True))
                    )
                elif isinstance(turn, PhotoTurn):
                    text, photos = turn.text, turn.photos
                else:
                    text = turn if isinstance(turn, str) else turn.answer(last)
                if text is None:
                    if turn is _ASK_LLM:
                        break
                    continue
                text = _substitute(text, stack.names)
                said: list[str] = []
                attachments: list[str] = []
                for ref in photos:
                    photos_sent += 1
                    upload_id, refusal = await asyncio.to_thread(upload_photo, stack, ref)
                    if upload_id is not None:
                        stack.names[f"photo_{photos_sent}"] = upload_id
                        attachments.append(upload_id)
                    else:
                        said.append(str(refusal))  # the chat shows the upload's refusal
                tools: list[str] = []
                started = time.perf_counter()
                if text.strip() or attachments:
                    async for event in service.turn(
                        user_id, text, session_id=session, attachments=attachments
                    ):
                        if event.event == "session":
                            session = str(event.data["session_id"])
                        elif event.event == "tool_started":
                            tools.append(str(event.data["tool"]))
                        elif event.event == "card":
                            t.cards.append(event.data["card"])
                            if event.data["card"].get("kind") == "product":
                                # what "the first one" is in this run, for a later event on it
                                stack.names.setdefault("first_shown", str(event.data["card"]["id"]))
                        elif event.event == "message" and event.data.get("role") == "assistant":
                            said.append(str(event.data["text"]))
                        elif event.event == "handoff" and event.data.get("active"):
                            t.handoff = True
                    t.latencies_ms.append((time.perf_counter() - started) * 1000)
                t.said.append(text)
                t.replies.append(said)
                t.tools += tools
                step: dict[str, Any] = {"user": text, "replies": said, "tools": tools}
                if photos:
                    step["photos"] = list(photos)
                transcript.append(step)
                last = "\n".join(said)
            if session is not None:
                info = await service.session(session)
                roles = [str(e.data.get("role")) for e in await service.history(session)]
                t.session = {"handoff": info.handoff, "roles": roles}
        await asyncio.to_thread(finish_tryons, bench, stack)
        assert services.catalog is not None
        _read_state(t, user_id, services.profiles, services.catalog, services.sizing, names)
        t.state = snapshot(stack)
        wardrobe = services.wardrobe
        assert wardrobe is not None
        t.wardrobe = [i.model_dump(mode="json") for i in wardrobe.items(user_id)]
        assert services.imagegen is not None
        for card in (c for c in t.cards if c.get("kind") == "image"):
            try:
                stored = bool(services.imagegen.read(user_id, str(card["id"])))
            except ImageGenError:
                stored = False
            t.images.append(
                {"id": card["id"], "stored": stored, "generative": card["data"].get("generative")}
            )
        calendar = wardrobe.calendar(user_id, wardrobe.today() - timedelta(days=400), wardrobe.today())
        by_id = {i["id"]: i["name"] for i in t.wardrobe}
        for day in calendar:
            for outfit in day.outfits:
                for item_id in outfit:
                    t.worn[by_id[item_id]] = t.worn.get(by_id[item_id], 0) + 1
    failures = t.step_failures + check(_substitute(scenario.expect, names), t)
    if gold is not None:
        failures += compare_state(gold, t.state)
    return RunResult(
        scenario.id, run, not failures, failures, len(t.said), len(t.tools), t.latencies_ms, transcript
    )


def _read_state(
    t: Transcript, user_id: str, profiles: Any, catalog: CatalogStore, sizing: Any, names: dict[str, str]
) -> None:
    t.profile = profiles.get(user_id).model_dump(mode="json")
    budget = t.profile.get("budget") or {}
    t.profile["budget_min"], t.profile["budget_max"] = budget.get("min"), budget.get("max")
    t.alerts = [a.model_dump(mode="json") for a in catalog.catalog.list_alerts(user_id)]
    t.feedback = [dict(r) for r in sizing.list_feedback(user_id)]
    ids = {str(c["id"]) for c in t.cards if c.get("kind") == "product"}
    ids |= {str(a["product_id"]) for a in t.alerts if a.get("product_id")}
    ids |= set(names.values())
    for said in t.said:
        ids |= set(re.findall(r"\b\d{4,6}\b", said))
    for product_id in ids:
        detail = catalog.product(product_id)
        if detail is None:
            continue
        t.prices[product_id] = [float(s.price) for s in detail.skus]
        t.sizes[product_id] = {str(s.size): int(s.stock) for s in detail.skus}


async def _run_all(
    scenarios: Sequence[Scenario], k: int, limit: int, user_llm: LanguageModel | None = None
) -> tuple[list[RunResult], float, list[LoadError]]:
    """Every run of every task, plus the tasks whose gold actions would not replay: those are
    reported as broken (file:line) and not run, since there is no gold state to judge them by."""
    with tempfile.TemporaryDirectory(prefix="ik-scenarios-") as folder:
        started = time.perf_counter()
        bench = await asyncio.to_thread(prepare, Path(folder), scenarios, limit)
        setup_s = time.perf_counter() - started
        results: list[RunResult] = []
        broken: list[LoadError] = []
        for scenario in scenarios:
            try:
                gold = gold_state(bench, scenario, Path(folder))
            except Exception as exc:  # a broken task must not stop the others
                broken.append(LoadError(scenario.source or scenario.id, f"{type(exc).__name__}: {exc}"))
                continue
            for run in range(k):
                try:
                    results.append(await run_once(bench, scenario, run, Path(folder), user_llm, gold))
                except Exception as exc:  # a crash fails the run, not the suite
                    failure = f"crashed: {type(exc).__name__}: {exc}"
                    results.append(RunResult(scenario.id, run, False, [failure], 0, 0, [], []))
    return results, setup_s, broken


# --- the report ------------------------------------------------------------------------------------


def summarise(
    scenarios: Sequence[Scenario], results: Sequence[RunResult], k: int, errors: Sequence[LoadError]
) -> dict[str, Any]:
    by_task: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        by_task[r.scenario].append(r)
    tasks: dict[str, Any] = {}
    groups: dict[str, dict[str, list[float]]] = {"category": defaultdict(list), "lang": defaultdict(list)}
    hat_k: list[float] = []
    for s in scenarios:
        runs = by_task[s.id]
        c = sum(r.passed for r in runs)
        share = c / len(runs)
        hat_k.append(pass_hat_k(len(runs), c, k))
        groups["category"][s.category].append(share)
        groups["lang"][s.lang].append(share)
        failed = next((r for r in runs if not r.passed), None)
        tasks[s.id] = {
            "category": s.category,
            "lang": s.lang,
            "passed": c,
            "runs": len(runs),
            "first_failure": None
            if failed is None
            else {"run": failed.run + 1, "failures": failed.failures, "transcript": failed.transcript},
        }
    latencies = [ms for r in results for ms in r.latencies_ms]
    pass_1 = sum(r.passed for r in results) / len(results) if results else 0.0
    pass_k = sum(hat_k) / len(hat_k) if hat_k else 0.0

    def rates(values: dict[str, list[float]]) -> dict[str, Any]:
        return {
            name: {"tasks": len(v), "pass_1": round(sum(v) / len(v), 3)} for name, v in sorted(values.items())
        }

    return {
        "suite": "scenarios",
        "tasks": len(scenarios),
        "k": k,
        "runs": len(results),
        "pass_1": round(pass_1, 3),
        f"pass_{k}": round(pass_k, 3),
        "pass_k": round(pass_k, 3),
        "per_category": rates(groups["category"]),
        "per_lang": rates(groups["lang"]),
        "mean_turns": round(sum(r.turns for r in results) / len(results), 2) if results else None,
        "mean_tool_calls": round(sum(r.tool_calls for r in results) / len(results), 2) if results else None,
        "turn_ms_p50": percentile(latencies, 50, digits=1),
        "turn_ms_p95": percentile(latencies, 95, digits=1),
        "turn_ms_histogram": latency_histogram(latencies),
        "per_task": tasks,
        "load_errors": [f"{e.source}: {e.message}" for e in errors],
        "targets": {"pass_1": TARGET_PASS_1, f"pass_{k}": TARGET_PASS_K},
        "pass": {"pass_1": pass_1 >= TARGET_PASS_1, f"pass_{k}": pass_k >= TARGET_PASS_K},
        "not_covered": list(NOT_COVERED),
        "llm": "none (template replies); scripted user",
    }


def run(
    *,
    k: int = 4,
    only: Sequence[str] | None = None,
    lang: str | None = None,
    paths: Sequence[Path] | None = None,
    limit: int = CATALOG_LIMIT,
    user: Literal["scripted", "llm"] = "scripted",
    user_llm: LanguageModel | None = None,
) -> dict[str, Any]:
    """``user="llm"`` plays the tasks that have a ``goal`` with an LLM user: ``user_llm``, or the one
    the ``IK_LLM__*`` settings configure (refused when none is); the others keep their script."""
    started = time.perf_counter()
    scenarios, errors = load_scenarios(paths if paths is not None else default_paths())
    if only:
        wanted = set(only)
        unknown = wanted - {s.id for s in scenarios}
        errors += [LoadError("--only", f"no task {name!r}") for name in sorted(unknown)]
        scenarios = [s for s in scenarios if s.id in wanted]
    if lang:
        scenarios = [s for s in scenarios if s.lang == lang]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        results, setup_s, broken = asyncio.run(_with_user(scenarios, k, limit, user, user_llm))
    errors += broken
    failed_to_replay = {e.source for e in broken}
    scenarios = [s for s in scenarios if (s.source or s.id) not in failed_to_replay]
    result = summarise(scenarios, results, k, errors)
    result["user"] = user
    result["llm_user_tasks"] = sum(1 for s in scenarios if s.goal) if user == "llm" else 0
    result["catalog_limit"] = limit
    result["setup_s"] = round(setup_s, 2)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


async def _with_user(
    scenarios: Sequence[Scenario],
    k: int,
    limit: int,
    user: Literal["scripted", "llm"],
    user_llm: LanguageModel | None,
) -> tuple[list[RunResult], float, list[LoadError]]:
    if user == "scripted" or user_llm is not None:
        return await _run_all(scenarios, k, limit, user_llm if user == "llm" else None)
    from agent.runtime import open_llm
    from core.config import Settings

    settings = Settings(environment="development")
    if settings.llm.provider == "none":
        raise ValueError(
            "--user llm needs an LLM: set IK_LLM__PROVIDER (embedded, or openai with IK_LLM__BASE_URL)"
        )
    async with open_llm(settings) as llm:
        return await _run_all(scenarios, k, limit, llm)


def table(result: dict[str, Any]) -> str:
    """The figures for a person to read; the JSON line after it is for tools."""
    k = result["k"]
    lines = [f"scenarios: {result['tasks']} tasks × {k} runs, catalogue slice {result['catalog_limit']}"]
    for error in result["load_errors"]:
        lines.append(f"  broken task {error}")
    for task_id, task in result["per_task"].items():
        mark = "ok  " if task["passed"] == task["runs"] else "FAIL"
        lines.append(f"{mark} {task['passed']}/{task['runs']} {task_id} ({task['category']}, {task['lang']})")
        failure = task["first_failure"]
        if failure:
            lines.append(f"       run {failure['run']}: {'; '.join(failure['failures'])}")
            for step in failure["transcript"]:
                lines.append(f"       > {step['user']}")
                for reply in step["replies"]:
                    lines.append(f"       < {reply[:220]}")
    for group in ("per_category", "per_lang"):
        parts = ", ".join(f"{name} {v['pass_1']:.2f} ({v['tasks']})" for name, v in result[group].items())
        lines.append(f"{group.replace('_', ' ')}: {parts}")
    verdict = {True: "PASS", False: "FAIL"}
    passed = result["pass"]
    lines.append(
        f"pass^1 {result['pass_1']:.3f} (target ≥ {TARGET_PASS_1}: {verdict[passed['pass_1']]}), "
        f"pass^{k} {result['pass_k']:.3f} (target ≥ {TARGET_PASS_K}: {verdict[passed[f'pass_{k}']]}); "
        f"mean turns {result['mean_turns']}, mean tool calls {result['mean_tool_calls']}, "
        f"turn p50 {result['turn_ms_p50']} ms, p95 {result['turn_ms_p95']} ms; "
        f"{result['seconds']} s in all ({result['setup_s']} s setup)"
    )
    lines.append(f"not covered (no capability yet): {', '.join(NOT_COVERED)}")
    return "\n".join(lines)
