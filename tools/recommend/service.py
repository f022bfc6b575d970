"""Outfit recommendation: cache, candidates, ranking, composition, explanation and logging.

One request goes:

1. **Cache** (30 min): the key holds the request, the person's profile version and their
   interaction generation, so a profile edit or a like makes the old lists unreachable at
   once instead of waiting for them to expire.
2. **Eligible slice**: in stock, wearable in the season, the person's department, within
   budget, colours as asked, and suitable for the occasion by the graph's rules
   (style→occasion and category→occasion). Each filter's survivors are counted so an empty
   slice can say which filter emptied it.
3. **Anchor candidates** (dresses, tops, ethnic sets) from four sources: graph neighbours
   (categories that go with what the person owns or bought), vector similarity to what they
   engaged with recently, live popularity, and the rules' best matches for the occasion.
4. **Ranking**: the multi-task ranker (trained on RentTheRunway, ``tools.recommend.ranker``)
   scores the anchors from occasion, season, profile and interaction history, blended with
   occasion fit and the person's own colour, category and style affinities.
5. **Composition** (``tools.recommend.compose``) completes each anchor into an outfit and
   keeps the list diverse; the person's size is checked per piece when measurements allow.
6. **Log**: every served list (cached or not) goes to ``recommendation-logs`` via the outbox.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

import numpy as np

from graphs.base import GraphStore, GraphUnavailable
from graphs.builder import UserEdge, rebuild, sync_products, sync_user_edges
from graphs.polyvore import GoesWith
from graphs.queries import RuleTables, add_user_edge, complement_categories, remove_user_edge, rule_tables
from graphs.rules import COLOURS, OCCASION_FORMALITY, STYLE_FORMALITY
from graphs.schema import NodeLabel, RelType
from graphs.vocabulary import Occasion, Season, Slot, article_kind, kind_slot
from rag.documents import CATALOG_CURRENCY
from rag.lexicon import Lexicon, is_han, load_lexicon
from rag.money import RATES
from rag.semantic import SemanticIndex
from storage.cache.base import Namespaces
from storage.events import Topic
from storage.sql.outbox import add_event
from tools.catalog.service import CatalogService
from tools.profile.schemas import ProfileRead
from tools.recommend.behaviour import ENGAGED, Behaviour, HistoryItem, InteractionKind, Recorded
from tools.recommend.compose import ComposedOutfit, Composer, Pick, RuleMatrices, SizeCheck, gender_ok
from tools.recommend.owned import OWNED_PREFIX, owned_table, rotation
from tools.recommend.ranker import Candidate, HistoryEvent, ItemHistory, Profile, Ranker, build_ranker_inputs
from tools.recommend.schemas import (
    Gap,
    Outfit,
    OutfitItem,
    OutfitRequest,
    OutfitResult,
    OwnedPiece,
    Reason,
    SimilarItem,
    SimilarResult,
)
from tools.recommend.table import (
    COLOUR_NAMES,
    DEPARTMENT_GENDERS,
    GENDERS,
    KINDS,
    SEASONS,
    SLOTS,
    USAGES,
    Bools,
    Floats,
    OutfitTable,
)
from tools.sizing.schemas import RTR_BODY_TYPE

logger = logging.getLogger(__name__)

LOG_TOPIC = Topic.RECOMMENDATION_LOGS
#: Below this temperature every outfit gets an outer layer.
COLD_BELOW_C = 15.0
#: Occasion fit below this is not offered at all.
MIN_SUIT = 0.25
#: How often the catalogue's fingerprint is compared with the table's, in seconds.
REFRESH_EVERY_S = 5.0
#: Anchors kept from each candidate source before ranking.
SOURCE_LIMITS = {"rules": 150, "graph": 60, "vector": 60, "popular": 60}
#: Recent engaged pieces whose mean vector looks for similar anchors.
VECTOR_HISTORY = 10
#: A candidate source's bonus in the anchor score: the graph and the person's own history are
#: more specific than popularity or the occasion rules.
SOURCE_BONUS = {"graph": 1.0, "vector": 1.0, "popular": 0.6, "rules": 0.0}
#: Profile styles to catalogue usages.
STYLE_USAGES: dict[str, tuple[str, ...]] = {
    "casual": ("Casual",),
    "smart_casual": ("Smart Casual",),
    "business": ("Formal", "Smart Casual"),
    "formal": ("Formal",),
    "sporty": ("Sports",),
    "streetwear": ("Casual",),
    "ethnic": ("Ethnic",),
    "classic": ("Formal", "Smart Casual"),
    "minimalist": ("Smart Casual", "Casual"),
}
_OCCASION_ZH = {
    Occasion.WEDDING: "婚礼",
    Occasion.FORMAL: "正式场合",
    Occasion.PARTY: "派对",
    Occasion.WORK: "上班",
    Occasion.DATE: "约会",
    Occasion.EVERYDAY: "日常",
    Occasion.VACATION: "度假",
    Occasion.SPORT: "运动",
    Occasion.OTHER: "日常",
}
_SEASON_ZH = {Season.SPRING: "春季", Season.SUMMER: "夏季", Season.FALL: "秋季", Season.WINTER: "冬季"}
_USAGE_ZH = {
    "Sports": "运动",
    "Home": "居家",
    "Casual": "休闲",
    "Travel": "旅行",
    "Smart Casual": "商务休闲",
    "Party": "派对",
    "Ethnic": "民族",
    "Formal": "正式",
}
_HARMONY_ZH = {
    "neutral": "中性色搭配",
    "monochrome": "同色系",
    "analogous": "邻近色",
    "complementary": "互补色",
    "triadic": "三角配色",
}
_STAGE_ZH = {
    "in_stock": "库存",
    "season": "季节",
    "department": "男女款",
    "occasion": "场合",
    "avoid_colours": "不要的颜色",
    "only_colours": "指定颜色",
    "budget": "预算",
}
#: Outfit slots (and what a shortfall may lack) in Chinese, for replies.
SLOT_ZH = {
    "top": "上装",
    "bottom": "下装",
    "one_piece": "连衣裙/套装",
    "outerwear": "外套",
    "shoes": "鞋",
    "bag": "包",
    "accessory": "配饰",
    "anchor": "主单品",
    "anchor_size": "您尺码有货的主单品",
    "budget": "预算内的单品",
}
_MONTH_SEASON = {12: Season.WINTER, 1: Season.WINTER, 2: Season.WINTER, 3: Season.SPRING, 4: Season.SPRING,
                 5: Season.SPRING, 6: Season.SUMMER, 7: Season.SUMMER, 8: Season.SUMMER, 9: Season.FALL,
                 10: Season.FALL, 11: Season.FALL}  # fmt: skip

ErrorCode = Literal["no_catalog", "unknown_product", "not_outfit_item", "bad_request", "empty_wardrobe"]
#: Where an outfit from the person's wardrobe may start, in order of preference.
OWNED_ANCHOR_SLOTS = (Slot.TOP, Slot.ONE_PIECE, Slot.BOTTOM)
#: Catalogue pieces offered for each slot the wardrobe cannot fill.
GAP_OPTIONS = 3


class RecommendError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Resolved:
    """The request after profile defaults and contradiction handling: what the slice is built from."""

    occasion: Occasion
    season: Season
    cold: bool
    budget_cny: float | None
    department: str | None
    wanted: frozenset[str]
    only: bool
    avoided: frozenset[str]
    relaxed: tuple[Reason, ...]

    def applied(self) -> dict[str, object]:
        return {
            "occasion": self.occasion.value,
            "season": self.season.value,
            "outerwear": self.cold,
            "budget_max": self.budget_cny,
            "budget_currency": CATALOG_CURRENCY,
            "department": self.department,
            "colours": sorted(self.wanted),
            "only_colours": self.only,
            "avoid_colours": sorted(self.avoided),
        }


def colour_zh(lexicon: Lexicon) -> dict[str, str]:
    """The first Chinese name the lexicon gives each catalogue colour."""
    names: dict[str, str] = {}
    for phrase, entries in lexicon.phrases.items():
        text = "".join(phrase)
        if is_han(text):
            for entry in entries:
                if entry.field == "colour" and (
                    entry.value not in names or len(text) < len(names[entry.value])
                ):
                    names[entry.value] = text
    return names


def match_colours(word: str, lexicon: Lexicon) -> frozenset[str]:
    """Catalogue colours a person's colour word stands for: "navy" -> Navy Blue, "红色" -> Red,
    a family name ("blue", "green") -> every shade of it."""
    key = word.casefold().strip()
    exact = {name for name in COLOURS if name.casefold() == key}
    if exact:
        return frozenset(exact)
    from_lexicon = {e.value for e in lexicon.lookup(key) if e.field == "colour" and e.value in COLOURS}
    family = {name for name, info in COLOURS.items() if info.family == key}
    return frozenset(from_lexicon | family)


def _norm(values: Floats) -> Floats:
    top = float(values.max()) if values.size else 0.0
    bottom = float(values.min()) if values.size else 0.0
    if top - bottom < 1e-12:
        return np.zeros_like(values)
    out: Floats = (values - bottom) / (top - bottom)
    return out


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:24]


class RecommendService:
    def __init__(
        self,
        *,
        catalog: CatalogService,
        graph: GraphStore,
        behaviour: Behaviour,
        namespaces: Namespaces,
        goes_with: Sequence[GoesWith],
        semantic: Callable[[], SemanticIndex | None] = lambda: None,
        ranker: Ranker | None = None,
        profile_of: Callable[[str], ProfileRead | None] = lambda _user: None,
        size_checker: Callable[[str, ProfileRead | None], SizeCheck | None] = lambda _user, _profile: None,
        compat: Callable[[str, Sequence[str]], Floats | None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lexicon: Lexicon | None = None,
    ) -> None:
        self.catalog = catalog
        self.graph = graph
        self.behaviour = behaviour
        self.namespaces = namespaces
        self.goes_with = list(goes_with)
        self.semantic = semantic
        self.ranker = ranker
        self.profile_of = profile_of
        self.size_checker = size_checker
        self.compat = compat
        self.clock = clock
        self.lexicon = lexicon or load_lexicon()
        self.colour_zh = colour_zh(self.lexicon)
        self._lock = threading.Lock()
        self._table: OutfitTable | None = None
        self._matrices: RuleMatrices | None = None
        self._rules: RuleTables | None = None
        self._checked_at = 0.0
        #: Set when a graph write was lost to an outage: the graph is behind SQL until ``_resync``.
        self._graph_stale = False

    # --- the catalogue table and the graph --------------------------------------------------------

    def refresh(self, *, force: bool = False) -> OutfitTable:
        """The outfit table, rebuilt (with the graph's products) when the catalogue changed.

        A graph outage does not stop recommendation once the rules were read: the table still
        follows the catalogue, the graph is marked behind and re-synced from SQL when it answers.
        Only a first start with no rules yet has nothing to fall back on (``GraphUnavailable``).
        """
        now = time.monotonic()
        with self._lock:
            table = self._table
            if table is not None and not force and now - self._checked_at < REFRESH_EVERY_S:
                return table
            self._checked_at = now
            if table is not None and self._graph_stale and not force:
                self._resync()
            fingerprint = self.catalog.fingerprint()
            if table is not None and not force and table.fingerprint == fingerprint:
                return table
            started = time.perf_counter()
            docs = [doc for batch in self.catalog.docs() for doc in batch]
            table = OutfitTable.build(docs, fingerprint)
            try:
                if force or (self._table is None and not self._graph_current(table)):
                    rebuild(self.graph, docs, self.goes_with, self.behaviour.user_edges())
                    self._graph_stale = False
                elif self._table is not None and not self._graph_stale:
                    changed = [doc for doc in docs if doc.id not in self._table.row_of]
                    sync_products(self.graph, changed)
                if self._rules is None or not self._graph_stale:  # while stale ``_resync`` does both
                    self._rules = rule_tables(self.graph)
            except GraphUnavailable:
                if self._rules is None or force:
                    raise
                self._graph_stale = True
                logger.warning("the graph is down: new products reach it once it answers", exc_info=True)
            self._matrices = RuleMatrices(self._rules, table.articles)
            self._table = table
            logger.info(
                "outfit table ready",
                extra={"products": len(table), "seconds": round(time.perf_counter() - started, 2)},
            )
            return table

    def _resync(self) -> None:
        """Bring a graph that missed writes during an outage back in line with SQL, the truth.

        Products and person edges are both derived from SQL, so a missed write is recovered by
        diffing, not replayed from memory: nothing acknowledged is lost even if the outage
        outlived many requests. Cheap enough to try every ``REFRESH_EVERY_S`` while it fails.
        """
        if not self.graph.ping():
            return
        # Cleared before reading SQL: an interaction committed from here on writes its own edge,
        # one committed before is in what is read below.
        self._graph_stale = False
        try:
            found = self.graph.query(f"MATCH (p:{NodeLabel.PRODUCT}) RETURN p.id AS id")
            known = {row["id"] for row in found}
            missing = [doc for batch in self.catalog.docs() for doc in batch if doc.id not in known]
            sync_products(self.graph, missing)
            sync_user_edges(self.graph, self.behaviour.user_edges())
            self._rules = rule_tables(self.graph)
        except GraphUnavailable:
            self._graph_stale = True
            logger.warning("re-syncing the graph failed; retrying later", exc_info=True)
            return
        logger.info("the graph is back and re-synced from SQL")

    def _graph_current(self, table: OutfitTable) -> bool:
        """Whether the graph a previous process built (a Kuzu folder, a shared Neo4j) still matches:
        the same products and the rules present. A restart then skips the rebuild; attribute edits
        to existing products need ``rebuild_graph`` (``python -m tools.recommend rebuild-graph``)."""
        return (
            self.graph.count(NodeLabel.PRODUCT) == len(table)
            and self.graph.count_edges(RelType.COLOUR_HARMONY) > 0
            and (not self.goes_with or self.graph.count_edges(RelType.GOES_WITH) > 0)
        )

    def warm(self) -> None:
        """Build the table and the graph now (a start-up thread), logging instead of raising."""
        try:
            self.refresh()
        except Exception:
            logger.exception("warming the recommender failed; the first request will try again")

    def rebuild_graph(self) -> dict[str, int]:
        """A full rebuild of the table and the graph; returns what the graph holds afterwards."""
        self.refresh(force=True)
        return {
            **{str(label): self.graph.count(label) for label in NodeLabel},
            **{str(rel): self.graph.count_edges(rel) for rel in RelType},
        }

    def _state(self) -> tuple[OutfitTable, RuleMatrices, RuleTables]:
        table = self.refresh()
        assert self._matrices is not None  # set by refresh
        assert self._rules is not None
        if len(table) == 0:
            raise RecommendError("no_catalog", "the catalogue has no products that can be part of an outfit")
        return table, self._matrices, self._rules

    def _outfit_row(self, table: OutfitTable, product_id: str) -> int:
        """The table row of a product named by the caller; an unknown or non-outfit product is refused."""
        row = table.row_of.get(product_id)
        if row is not None:
            return row
        if self.catalog.get_product(product_id) is None:
            raise RecommendError("unknown_product", f"no product with id {product_id!r}")
        raise RecommendError("not_outfit_item", f"product {product_id} is not something worn in an outfit")

    def close(self) -> None:
        self.graph.close()

    # --- interactions ----------------------------------------------------------------------------

    def record(
        self, user_id: str, product_id: str, kind: InteractionKind, occasion: Occasion | None = None
    ) -> Recorded:
        """Store the interaction and apply it at once: graph edge, popularity, cache generation."""
        try:
            recorded = self.behaviour.record(user_id, product_id, kind, occasion)
        except LookupError:
            raise RecommendError("unknown_product", f"no product with id {product_id!r}") from None
        at = recorded.at.isoformat()
        if self._graph_stale:
            return recorded  # committed in SQL; ``_resync`` writes it once the graph answers
        try:
            if kind == InteractionKind.LIKE:
                add_user_edge(self.graph, UserEdge(RelType.LIKED, user_id, product_id, at))
            elif kind == InteractionKind.UNLIKE:
                remove_user_edge(self.graph, RelType.LIKED, user_id, product_id)
            elif kind == InteractionKind.PURCHASE:
                add_user_edge(self.graph, UserEdge(RelType.BOUGHT, user_id, product_id, at))
                add_user_edge(self.graph, UserEdge(RelType.OWNS, user_id, product_id, at))
        except GraphUnavailable:
            # The interaction is committed in SQL, the truth; the graph catches up on recovery.
            self._graph_stale = True
            logger.warning("the graph missed an interaction; it is re-synced when it answers", exc_info=True)
        return recorded

    # --- requests --------------------------------------------------------------------------------

    def _resolve(self, request: OutfitRequest, profile: ProfileRead | None) -> Resolved:
        relaxed: list[Reason] = []
        occasion = request.occasion or Occasion.EVERYDAY
        season = request.season or _MONTH_SEASON[self.clock().month]
        cold = (
            (request.temperature_c is not None and request.temperature_c < COLD_BELOW_C)
            or bool({"cold", "snowy"} & set(request.weather))
            or (request.temperature_c is None and season == Season.WINTER and "hot" not in request.weather)
        )
        currency = (
            request.currency or (profile.budget.currency if profile and profile.budget else None) or "CNY"
        )
        budget = request.budget_max
        if (
            budget is None
            and profile is not None
            and profile.budget is not None
            and profile.budget.max is not None
        ):
            budget = float(profile.budget.max)
            currency = profile.budget.currency or currency
        budget_cny = round(budget * RATES[currency], 2) if budget is not None else None
        department = request.department or (profile.department if profile else None)
        wanted: set[str] = set()
        unknown: list[str] = []
        for word in request.colours:
            found = match_colours(word, self.lexicon)
            wanted |= found
            if not found:
                unknown.append(word)
        avoided: set[str] = set()
        for word in [*request.avoid_colours, *(profile.avoided_colours if profile else [])]:
            avoided |= match_colours(word, self.lexicon)
        if unknown:
            relaxed.append(
                Reason(
                    code="unknown_colour",
                    en=f"I do not know the colour {', '.join(unknown)}, so I left it out",
                    zh=f"我不认识颜色“{'、'.join(unknown)}”，已忽略",
                )
            )
        only = request.only_colours and bool(wanted)
        clash = wanted & avoided
        if clash:
            names = ", ".join(sorted(clash))
            names_zh = "、".join(self.colour_zh.get(c, c) for c in sorted(clash))
            wanted -= clash
            if only and not wanted:
                only = False
                relaxed.append(
                    Reason(
                        code="contradictory_colours",
                        en=f"You asked for only {names} and also for no {names}, "
                        "which leaves no colour at all; "
                        "I kept the colours you ruled out out, and show other colours instead",
                        zh=f"您既要求只要{names_zh}，又要求不要{names_zh}，这样没有任何颜色可选；"
                        "我保留了“不要”的要求，改为推荐其他颜色",
                    )
                )
            else:
                relaxed.append(
                    Reason(
                        code="contradictory_colours",
                        en=f"{names} was both wanted and ruled out; I left it out",
                        zh=f"{names_zh}既被要求又被排除，我按排除处理",
                    )
                )
        return Resolved(
            occasion=occasion,
            season=season,
            cold=cold,
            budget_cny=budget_cny,
            department=department.value if department is not None else None,
            wanted=frozenset(wanted),
            only=only,
            avoided=frozenset(avoided),
            relaxed=tuple(relaxed),
        )

    def _suitability(self, table: OutfitTable, rules: RuleTables, occasion: Occasion) -> Floats:
        """Occasion fit per row: the style's rule, lifted by a category rule (heels for a party)
        by at most half a step, so a casual piece never passes for formal on its category alone."""
        by_usage = np.array([rules.style_occasion.get((u, occasion.value), 0.0) for u in USAGES])
        style = by_usage[table.usage]
        category_weights = {a: w for (a, o), w in rules.category_occasion.items() if o == occasion.value}
        if not category_weights:
            return style
        category = table.per_article(category_weights, -1.0)
        lifted = np.where(category >= 0, np.maximum(style, np.minimum(category, style + 0.5)), style)
        result: Floats = lifted
        return result

    def _affinity(
        self,
        table: OutfitTable,
        history: Sequence[HistoryItem],
        row_of: Mapping[str, int],
        profile: ProfileRead | None,
    ) -> Floats:
        """The person's taste per row, in [0, 1]: colours, categories and styles they engaged with
        (recent ones count more), their favourite colours and styles, minus what they disliked."""
        colour = np.zeros(len(COLOUR_NAMES) + 1)
        usage = np.zeros(len(USAGES))
        article: dict[str, float] = {}
        for age, item in enumerate(history):
            row = row_of.get(item.product_id)
            if row is None or item.kind == InteractionKind.VIEW:
                continue
            sign = -1.0 if item.kind in (InteractionKind.DISLIKE, InteractionKind.UNLIKE) else 1.0
            weight = sign * 0.9**age
            colour[int(table.colour[row])] += weight
            usage[int(table.usage[row])] += weight
            article[table.article_types[row]] = article.get(table.article_types[row], 0.0) + weight
        if profile is not None:
            for word in profile.favourite_colours:
                for name in match_colours(word, self.lexicon):
                    colour[COLOUR_NAMES.index(name)] += 1.0
            for style in profile.styles:
                for name in STYLE_USAGES.get(style.value, ()):
                    usage[USAGES.index(name)] += 1.0
        colour_row = colour[np.where(table.colour >= 0, table.colour, len(COLOUR_NAMES))]
        article_row = table.per_article(article)
        score = (
            np.tanh(colour_row / 2) * 0.4
            + np.tanh(usage[table.usage] / 2) * 0.3
            + np.tanh(article_row / 2) * 0.3
        )
        out: Floats = np.clip(0.5 + score / 2, 0.0, 1.0)
        return out

    def _eligible(
        self, table: OutfitTable, resolved: Resolved, suit: Floats, exclude: Sequence[str]
    ) -> tuple[Bools, list[tuple[str, int]]]:
        """The rows an outfit may use, and how many survived each filter (for explaining an empty slice)."""
        stages: list[tuple[str, int]] = []
        mask = table.in_stock.copy()
        stages.append(("in_stock", int(mask.sum())))
        mask &= (table.seasons & (1 << SEASONS.index(resolved.season))) != 0
        stages.append(("season", int(mask.sum())))
        if resolved.department is not None:
            genders = [GENDERS.index(g) for g in DEPARTMENT_GENDERS[resolved.department]]
            mask &= np.isin(table.gender, genders)
            stages.append(("department", int(mask.sum())))
        mask &= suit >= MIN_SUIT
        stages.append(("occasion", int(mask.sum())))
        if resolved.avoided:
            mask &= ~np.isin(table.colour, [COLOUR_NAMES.index(c) for c in resolved.avoided])
            stages.append(("avoid_colours", int(mask.sum())))
        if resolved.only:
            mask &= np.isin(table.colour, [COLOUR_NAMES.index(c) for c in resolved.wanted])
            stages.append(("only_colours", int(mask.sum())))
        if resolved.budget_cny is not None:
            mask &= table.price <= resolved.budget_cny
            stages.append(("budget", int(mask.sum())))
        excluded = table.rows(exclude)
        if excluded:
            mask[excluded] = False
        return mask, stages

    def _complements(self, user_id: str) -> dict[str, float] | None:
        """What the person's owned pieces call for, from the graph; ``None`` while it is down.

        Once an outage is known the graph is not asked again until ``_resync`` finds it back: each
        try would hold the request for the driver's connect-and-retry time.
        """
        if self._graph_stale:
            return None
        try:
            return complement_categories(self.graph, user_id)
        except GraphUnavailable:
            self._graph_stale = True
            logger.warning("the graph is down: recommending without it", exc_info=True)
            return None

    def _anchor_candidates(
        self,
        user_id: str,
        table: OutfitTable,
        anchors: Bools,
        base: Floats,
        history: Sequence[HistoryItem],
        complements: dict[str, float],
    ) -> dict[int, str]:
        """Anchor rows by the first source that proposed them."""
        found: dict[int, str] = {}

        def take(rows: Sequence[int], source: str) -> None:
            kept = 0
            for row in rows:
                if kept >= SOURCE_LIMITS[source]:
                    break
                if anchors[row] and row not in found:
                    found[row] = source
                    kept += 1

        if complements:
            weight = table.per_article(complements)
            rows = np.flatnonzero(anchors & (weight > 0))
            take([int(r) for r in rows[np.argsort(-(weight[rows] + base[rows]), kind="stable")]], "graph")
        semantic = self.semantic()
        engaged = [item.product_id for item in history if item.kind in ENGAGED][:VECTOR_HISTORY]
        if semantic is not None and semantic.ready and engaged:
            vectors = semantic.vectors(engaged)
            if vectors:
                query = np.mean(np.stack(list(vectors.values())), axis=0)
                query /= max(float(np.linalg.norm(query)), 1e-9)
                hits = semantic.search_vector(query, top_k=400).hits
                take([r for r in table.rows([h.id for h in hits]) if table.ids[r] not in vectors], "vector")
        popular = self.behaviour.popular(500)
        if popular:
            take(table.rows([pid for pid, _ in popular]), "popular")
        rows = np.flatnonzero(anchors)
        take([int(r) for r in rows[np.argsort(-base[rows], kind="stable")]], "rules")
        return found

    def _rank(
        self,
        table: OutfitTable,
        rows: Sequence[int],
        resolved: Resolved,
        profile: ProfileRead | None,
        history: Sequence[HistoryItem],
        hist_rows: Mapping[str, int],
    ) -> Floats | None:
        if self.ranker is None or not rows:
            return None
        counts = self.behaviour.item_counts([table.ids[r] for r in rows])
        candidates = []
        for row in rows:
            c = counts.get(table.ids[row])
            item = (
                ItemHistory(
                    n=c.n,
                    likes=c.likes,
                    rated=c.likes + c.dislikes,
                    occasion_counts=dict(c.occasions),
                )
                if c is not None
                else ItemHistory()
            )
            candidates.append(Candidate(kind=KINDS[int(table.kind[row])], history=item))
        events = [
            HistoryEvent(
                kind=KINDS[int(table.kind[hist_rows[h.product_id]])],
                occasion=h.occasion,
                liked=True
                if h.kind == InteractionKind.LIKE
                else False
                if h.kind == InteractionKind.DISLIKE
                else None,
                when=h.at.date(),
            )
            for h in history
            if h.product_id in hist_rows and h.kind in (ENGAGED | {InteractionKind.DISLIKE})
        ]
        person = Profile(
            body_type=RTR_BODY_TYPE.get(profile.body_shape.value) if profile and profile.body_shape else None,
            height_cm=profile.height_cm if profile else None,
            weight_kg=profile.weight_kg if profile else None,
        )
        inputs = build_ranker_inputs(
            candidates,
            occasion=resolved.occasion,
            season=resolved.season,
            profile=person,
            history=events,
            as_of=self.clock().date(),
        )
        scores: Floats = np.asarray(self.ranker.score(inputs), dtype=np.float64)
        return scores

    def _cache_key(self, user_id: str, what: str, payload: Any, profile: ProfileRead | None) -> str:
        version = profile.updated_at.isoformat() if profile is not None else "-"
        generation = self.behaviour.generation(user_id)
        table = self._table.fingerprint if self._table is not None else "-"
        return f"{what}:{user_id}:{_digest([payload, version, generation, table, self.ranker_version])}"

    @property
    def ranker_version(self) -> str | None:
        return self.ranker.version if self.ranker is not None else None

    def recommend_outfits(self, user_id: str, request: OutfitRequest) -> OutfitResult:
        table, matrices, rules = self._state()
        return self._served(user_id, "outfits", request, None, table, matrices, rules)

    def complete_the_look(self, user_id: str, product_id: str, request: OutfitRequest) -> OutfitResult:
        """Outfits built around one product the person already has in mind (or owns)."""
        table, matrices, rules = self._state()
        self._outfit_row(table, product_id)
        return self._served(user_id, "complete_the_look", request, product_id, table, matrices, rules)

    def wardrobe_outfits(
        self, user_id: str, request: OutfitRequest, owned: Sequence[OwnedPiece]
    ) -> OutfitResult:
        """Outfits built from the person's own clothes, each slot their wardrobe cannot fill
        taken from the catalogue (with the alternatives listed as a gap: "no shoes of yours go
        with this; these three would").

        Anchors are their own tops, one-pieces and then bottoms, best for the occasion and
        the season first, favouring pieces not worn lately. Never cached: the wardrobe and
        the wear log change with every photo and every day worn.
        """
        catalogue, catalogue_matrices, rules = self._state()
        pieces = [p for p in owned if kind_slot(article_kind(p.article_type)) is not None]
        own = owned_table(pieces)
        if not np.isin(own.slot, [SLOTS.index(s) for s in OWNED_ANCHOR_SLOTS]).any():
            raise RecommendError(
                "empty_wardrobe",
                "the wardrobe has no tops, bottoms or dresses tagged yet to build an outfit around",
            )
        table = OutfitTable.concat(own, catalogue)
        # Owned pieces are filed under catalogue article types, so the catalogue's rule matrices
        # usually fit as they are; only a type the catalogue lacks needs them rebuilt.
        same = table.articles == catalogue.articles
        matrices = catalogue_matrices if same else RuleMatrices(rules, table.articles)
        n_own = len(own)
        is_owned = np.zeros(len(table), dtype=bool)
        is_owned[:n_own] = True
        profile = self.profile_of(user_id)
        resolved = self._resolve(request, profile)
        suit = self._suitability(table, rules, resolved.occasion)
        eligible, stages = self._eligible(table, resolved, suit, request.exclude_product_ids)
        # Owned pieces skip the shop's filters (stock, department, price) but not the season,
        # the occasion or the colours asked for.
        own_ok = ((table.seasons & (1 << SEASONS.index(resolved.season))) != 0) & (suit >= MIN_SUIT)
        if resolved.avoided:
            own_ok &= ~np.isin(table.colour, [COLOUR_NAMES.index(c) for c in resolved.avoided])
        if resolved.only:
            own_ok &= np.isin(table.colour, [COLOUR_NAMES.index(c) for c in resolved.wanted])
        eligible[:n_own] = own_ok[:n_own]
        by_row: list[OwnedPiece | None] = [None] * len(table)
        piece_of = {f"{OWNED_PREFIX}{p.id}": p for p in pieces}
        for row in range(n_own):
            by_row[row] = piece_of[table.ids[row]]
        base = _norm(0.7 * suit + 0.3 * rotation(by_row))
        anchors = [
            row
            for slot in OWNED_ANCHOR_SLOTS
            for row in sorted(
                (r for r in range(n_own) if eligible[r] and table.slot_of(r) == slot), key=lambda r: -base[r]
            )
        ]
        size_check = self.size_checker(user_id, profile)
        composer = Composer(
            table,
            matrices,
            eligible,
            base,
            budget=resolved.budget_cny,
            cold=resolved.cold,
            size_check=size_check,
            owned=is_owned,
        )
        report = composer.compose(anchors, request.count)
        outfits = []
        for composed in report.outfits:
            outfit = self._outfit(table, matrices, rules, resolved, composed, profile)
            for item, pick in zip(outfit.items, composed.picks, strict=True):
                if is_owned[pick.row]:
                    item.owned = True
                    item.product_id = item.product_id.removeprefix(OWNED_PREFIX)
            for position, pick in enumerate(composed.picks):
                if is_owned[pick.row]:
                    continue
                options = composer.alternatives(composed, position, GAP_OPTIONS)
                slot_zh = SLOT_ZH.get(pick.slot.value, pick.slot.value)
                outfit.gaps.append(
                    Gap(
                        slot=pick.slot,
                        en=f"nothing in your wardrobe fills the {pick.slot.value.replace('_', ' ')} "
                        f"for this outfit; {'these' if len(options) > 1 else 'this'} from the shop would",
                        zh=f"衣橱里没有适合这套的{slot_zh}，可以考虑商店里的这些",
                        options=[self._item(table, p) for p in options],
                    )
                )
            outfits.append(outfit)
        shortfall = None
        if len(outfits) < request.count:
            shortfall = self._shortfall(stages, report.unfilled, resolved, len(outfits), request.count)
        result = OutfitResult(
            outfits=outfits,
            applied=resolved.applied(),
            relaxed=list(resolved.relaxed),
            shortfall=shortfall,
            sources={"wardrobe": len(anchors)},
            ranker=None,
            sizes_checked=size_check is not None,
            served_id=uuid4().hex,
        )
        self._log(user_id, "wardrobe_outfits", request.model_dump(mode="json"), result)
        return result

    def _served(
        self,
        user_id: str,
        kind: str,
        request: OutfitRequest,
        anchor: str | None,
        table: OutfitTable,
        matrices: RuleMatrices,
        rules: RuleTables,
    ) -> OutfitResult:
        """The cached list if it is still current, else a new one (cached); logged either way."""
        profile = self.profile_of(user_id)
        payload = {"anchor": anchor, **request.model_dump(mode="json")}
        key = self._cache_key(user_id, kind, payload, profile)
        cached = self.namespaces.recommendations.get_json(key)
        if cached is not None:
            result = OutfitResult.model_validate(cached)
            result.cached = True
            result.served_id = uuid4().hex
        else:
            anchors = [anchor] if anchor is not None else None
            result = self._outfits(user_id, request, profile, table, matrices, rules, anchor_ids=anchors)
            if not result.degraded:  # a list made without the graph must not outlive the outage
                self.namespaces.recommendations.set_json(key, result.model_dump(mode="json"))
        self._log(user_id, kind, payload, result)
        return result

    def _outfits(
        self,
        user_id: str,
        request: OutfitRequest,
        profile: ProfileRead | None,
        table: OutfitTable,
        matrices: RuleMatrices,
        rules: RuleTables,
        anchor_ids: list[str] | None,
    ) -> OutfitResult:
        resolved = self._resolve(request, profile)
        suit = self._suitability(table, rules, resolved.occasion)
        eligible, stages = self._eligible(table, resolved, suit, request.exclude_product_ids)
        history = self.behaviour.history(user_id)
        # The table rows of the pieces in the person's history (both affinity and ranking read them).
        history_rows = {table.ids[r]: r for r in table.rows([h.product_id for h in history])}
        affinity = self._affinity(table, history, history_rows, profile)
        base = 0.55 * suit + 0.45 * affinity
        if resolved.wanted and not resolved.only:
            base = base + 0.3 * np.isin(table.colour, [COLOUR_NAMES.index(c) for c in resolved.wanted])
        if profile is not None and profile.body_shape is not None:
            shape = profile.body_shape.value
            flatter = table.per_article({a: w for (a, b), w in rules.body_shape.items() if b == shape})
            base = base + 0.1 * flatter
        base = _norm(base)
        sources: dict[str, int] = {}
        degraded: list[str] = []
        anchor_score = base.copy()
        if anchor_ids is not None:
            anchors = table.rows(anchor_ids)
            eligible = eligible.copy()
            eligible[anchors] = True
        else:
            anchor_mask = eligible & np.isin(table.slot, [SLOTS.index(Slot.ONE_PIECE), SLOTS.index(Slot.TOP)])
            complements = self._complements(user_id)
            if complements is None:
                degraded.append("graph")
            found = self._anchor_candidates(user_id, table, anchor_mask, base, history, complements or {})
            rows = list(found)
            for source in found.values():
                sources[source] = sources.get(source, 0) + 1
            ranked = self._rank(table, rows, resolved, profile, history, history_rows)
            bonus = np.array([SOURCE_BONUS[found[r]] for r in rows])
            blended = 0.6 * base[rows] + 0.1 * bonus + (0.3 * _norm(ranked) if ranked is not None else 0.0)
            anchor_score[rows] = blended
            anchors = [rows[i] for i in np.argsort(-blended, kind="stable")]
        size_check = self.size_checker(user_id, profile)
        composer = Composer(
            table,
            matrices,
            eligible,
            base,
            budget=resolved.budget_cny,
            cold=resolved.cold,
            size_check=size_check,
            compat=self.compat,
        )
        report = composer.compose(anchors, request.count)
        outfits = [
            self._outfit(table, matrices, rules, resolved, composed, profile) for composed in report.outfits
        ]
        shortfall = None
        if len(outfits) < request.count:
            shortfall = self._shortfall(stages, report.unfilled, resolved, len(outfits), request.count)
        return OutfitResult(
            outfits=outfits,
            applied=resolved.applied(),
            relaxed=list(resolved.relaxed),
            shortfall=shortfall,
            sources=sources,
            degraded=degraded,
            ranker=self.ranker_version,
            sizes_checked=size_check is not None,
            served_id=uuid4().hex,
        )

    def _shortfall(
        self,
        stages: list[tuple[str, int]],
        unfilled: dict[str, int],
        resolved: Resolved,
        got: int,
        wanted: int,
    ) -> Reason:
        emptied = next((name for name, n in stages if n == 0), None)
        if emptied is not None:
            return Reason(
                code=f"empty_{emptied}",
                en=f"No product in stock passes the {emptied.replace('_', ' ')} filter "
                f"({', '.join(f'{n} after {s}' for s, n in stages)}), "
                "so I have no outfit to show rather than a poor one",
                zh=f"按{_STAGE_ZH.get(emptied, emptied)}筛选后没有有货的商品，所以不勉强推荐",
            )
        slot = max(unfilled, key=lambda k: unfilled[k]) if unfilled else "anchor"
        budget = f" within ¥{resolved.budget_cny:g}" if resolved.budget_cny is not None else ""
        return Reason(
            code=f"short_{slot}",
            en=f"I found {got} of {wanted} outfits: the remaining ones lacked a matching "
            f"{slot.replace('_', ' ')}"
            f"{budget} in stock",
            zh=f"只找到{got}/{wanted}套：其余搭配缺少合适且有货的{SLOT_ZH.get(slot, slot)}"
            + (f"（预算¥{resolved.budget_cny:g}以内）" if resolved.budget_cny is not None else ""),
        )

    def _outfit(
        self,
        table: OutfitTable,
        matrices: RuleMatrices,
        rules: RuleTables,
        resolved: Resolved,
        composed: ComposedOutfit,
        profile: ProfileRead | None,
    ) -> Outfit:
        items = [self._item(table, p) for p in composed.picks]
        anchor = composed.picks[0].row
        reasons = []
        reasons.append(self._occasion_reason(table, rules, anchor, resolved.occasion))
        first, second = items[0], items[1] if len(items) > 1 else None
        if second is not None and first.colour and second.colour:
            rule = matrices.harmony_rule.get((first.colour, second.colour))
            if rule is None and first.colour == second.colour:
                rule = "monochrome"
            if rule is not None:
                reasons.append(
                    Reason(
                        code="colour",
                        en=f"{first.colour.lower()} with {second.colour.lower()}: {rule} colours",
                        zh=f"{self.colour_zh.get(first.colour, first.colour)}配"
                        f"{self.colour_zh.get(second.colour, second.colour)}：{_HARMONY_ZH.get(rule, rule)}",
                    )
                )
            goes = rules.goes_with.get((first.article_type, second.article_type))
            if goes:
                reasons.append(
                    Reason(
                        code="goes_with",
                        en=f"{first.article_type} and {second.article_type} are often worn together "
                        "in real outfits",
                        zh=f"{first.article_type}和{second.article_type}在真实穿搭中经常一起出现",
                    )
                )
        layered = resolved.cold and Slot.OUTERWEAR not in composed.missing
        reasons.append(
            Reason(
                code="season",
                en=f"wearable in {resolved.season.value}"
                + (" with an outer layer for the cold" if layered else ""),
                zh=f"适合{_SEASON_ZH[resolved.season]}" + ("，含外套保暖" if layered else ""),
            )
        )
        if Slot.OUTERWEAR in composed.missing:
            reasons.append(
                Reason(
                    code="bring_layer",
                    en="it will be cold: add a coat or jacket of your own, none in stock suits this outfit",
                    zh="天气较冷：请搭配一件自己的外套，目前没有适合这套的外套有货",
                )
            )
        if resolved.budget_cny is not None:
            reasons.append(
                Reason(
                    code="budget",
                    en=f"total ¥{composed.total:g} within your ¥{resolved.budget_cny:g} budget",
                    zh=f"合计¥{composed.total:g}，在¥{resolved.budget_cny:g}预算内",
                )
            )
        if profile is not None and profile.body_shape is not None:
            weight = rules.body_shape.get((first.article_type, profile.body_shape.value))
            if weight:
                reasons.append(
                    Reason(
                        code="body_shape",
                        en=f"{first.article_type.lower()} are a flattering choice for a "
                        f"{profile.body_shape.value.replace('_', ' ')} shape",
                        zh=f"{first.article_type}适合您的身形",
                    )
                )
        sized = [item for item in items if item.size]
        if sized:
            reasons.append(
                Reason(
                    code="size",
                    en="in stock in your size: " + ", ".join(f"{i.name} {i.size}" for i in sized),
                    zh="您的尺码有货：" + "，".join(f"{i.name} {i.size}" for i in sized),
                )
            )
        return Outfit(
            items=items,
            total_price=composed.total,
            currency=CATALOG_CURRENCY,
            score=round(composed.score, 4),
            reasons=reasons,
        )

    @staticmethod
    def _item(table: OutfitTable, pick: Pick) -> OutfitItem:
        return OutfitItem(
            product_id=table.ids[pick.row],
            name=table.names[pick.row],
            slot=pick.slot,
            article_type=table.article_types[pick.row],
            colour=table.colour_name(pick.row),
            price=round(float(table.price[pick.row]), 2),
            image_url=table.image_urls[pick.row],
            size=pick.size,
            generated=bool(table.generated[pick.row]),
        )

    def _occasion_reason(self, table: OutfitTable, rules: RuleTables, row: int, occasion: Occasion) -> Reason:
        """How well the anchor's style fits the occasion, in words that match the rule's weight."""
        usage = table.usage_of(row)
        usage_zh = _USAGE_ZH.get(usage, usage)
        fit = rules.style_occasion.get((usage, occasion.value), 0.0)
        if fit >= 0.99:
            return Reason(
                code="occasion",
                en=f"{usage} style is right for {occasion.value}",
                zh=f"{usage_zh}风格正适合{_OCCASION_ZH[occasion]}",
            )
        if fit >= 0.6:
            return Reason(
                code="occasion",
                en=f"{usage} style suits {occasion.value}",
                zh=f"{usage_zh}风格适合{_OCCASION_ZH[occasion]}",
            )
        dressier = STYLE_FORMALITY.get(usage, 1) > OCCASION_FORMALITY[occasion]
        way, way_zh = ("dressier", "正式") if dressier else ("more relaxed", "随意")
        return Reason(
            code="occasion",
            en=f"{usage} style is a little {way} than {occasion.value} usually calls for, and goes with it",
            zh=f"{usage_zh}风格比{_OCCASION_ZH[occasion]}通常的穿着{way_zh}一些，也可以搭配",
        )

    # --- similar items ---------------------------------------------------------------------------

    def similar(self, user_id: str, product_id: str, limit: int = 8) -> SimilarResult:
        """Products like this one, in stock and for the same department and slot: by MiniLM vectors
        when they are indexed, else by the graph (same category, harmonious colour, same style)."""
        table, matrices, _rules = self._state()
        row = self._outfit_row(table, product_id)
        mask = table.in_stock & gender_ok(table, row) & (table.slot == table.slot[row])
        mask[row] = False
        semantic = self.semantic()
        method: Literal["vector", "graph"] = "graph"
        scored: list[tuple[int, float]] = []
        if semantic is not None and semantic.ready:
            vector = semantic.vectors([product_id]).get(product_id)
            if vector is not None:
                hits = semantic.search_vector(vector, top_k=min(400, max(limit * 20, 50))).hits
                for hit in hits:
                    r = table.row_of.get(hit.id)
                    if r is not None and mask[r]:
                        scored.append((r, hit.score))
                method = "vector"
        if not scored:
            method = "graph"
            same = (table.article == table.article[row]) & mask
            colour = np.where(table.colour >= 0, table.colour, len(COLOUR_NAMES))
            harmony = matrices.harmony[colour[row], colour]
            score = 0.5 * same + 0.3 * np.clip(harmony, 0, 1) + 0.2 * (table.usage == table.usage[row])
            rows = np.flatnonzero(mask & same)
            if len(rows) == 0:
                rows = np.flatnonzero(mask)
            order = rows[np.argsort(-score[rows], kind="stable")][:limit]
            scored = [(int(r), float(score[r])) for r in order]
        items = [
            SimilarItem(
                product_id=table.ids[r],
                name=table.names[r],
                article_type=table.article_types[r],
                colour=table.colour_name(r),
                price=round(float(table.price[r]), 2),
                image_url=table.image_urls[r],
                score=round(s, 4),
                generated=bool(table.generated[r]),
            )
            for r, s in scored[:limit]
        ]
        result = SimilarResult(product_id=product_id, items=items, method=method)
        self._log(user_id, "similar", {"product_id": product_id, "limit": limit}, result)
        return result

    # --- logging ---------------------------------------------------------------------------------

    def _log(self, user_id: str, kind: str, request: Any, result: OutfitResult | SimilarResult) -> None:
        if isinstance(result, OutfitResult):
            served = [[item.product_id for item in outfit.items] for outfit in result.outfits]
            extra: dict[str, Any] = {
                "cached": result.cached,
                "sources": result.sources,
                "ranker": result.ranker,
            }
            served_id = result.served_id
        else:
            served = [[item.product_id] for item in result.items]
            extra = {"method": result.method}
            served_id = uuid4().hex
        with self.catalog.db.session() as session:
            add_event(
                session,
                topic=LOG_TOPIC,
                type=f"recommendation.{kind}",
                key=user_id,
                payload={
                    "served_id": served_id,
                    "user_id": user_id,
                    "request": request,
                    "served": served,
                    "at": self.clock().isoformat(),
                    **extra,
                },
            )
