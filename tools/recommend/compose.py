"""Outfit composition: from ranked anchor pieces to complete outfits that go together.

An outfit is a one-piece (dress, gown, jumpsuit, ethnic set) or a top with a bottom, then
shoes, an outer layer when it is cold, and a bag or accessory. The anchor comes ranked
from the service; every other slot is filled greedily, best first, by a score over the
whole eligible catalogue slice (numpy, so thousands of shoes cost microseconds):

* **goes-with**: how often the two categories share real outfits (Polyvore, ``GOES_WITH``);
* **colour harmony** with every piece already chosen (``COLOUR_HARMONY``; a clash is excluded);
* **formality** close to the anchor's, so trainers do not meet a ball gown;
* the piece's own **ranking score** (occasion, personal taste, popularity);
* optionally **learned compatibility** of the two pieces' text embeddings.

Budget is kept by reserving, for each slot still to fill, the cheapest eligible price, so
the greedy choice never makes the outfit impossible. Diversity comes from refusing pieces
already used in an earlier outfit and anchors that repeat an earlier anchor's category and
colour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphs.queries import RuleTables
from graphs.rules import COLOURS
from graphs.vocabulary import Slot
from tools.recommend.table import (
    COLOUR_NAMES,
    DEPARTMENT_GENDERS,
    GENDER_DEPARTMENT,
    GENDERS,
    SLOTS,
    Bools,
    Floats,
    OutfitTable,
)

#: Weights of the complement score; they sum to 1 without the optional learned term.
W_GOES_WITH = 0.3
W_HARMONY = 0.35
W_FORMALITY = 0.2
W_RANK = 0.15
W_COMPAT = 0.25
#: A complement that repeats an earlier outfit's category and colour in the same slot loses this much.
REPEAT_PENALTY = 0.2
#: Candidates per slot the learned compatibility model re-ranks.
COMPAT_SHORTLIST = 40
#: Pieces checked per slot when the person's size turns out to be sold out.
SIZE_TRIES = 6
#: Anchors tried per outfit asked for before the shortfall is reported instead of searching on.
MAX_ANCHORS_PER_OUTFIT = 8
#: Packs (article, colour) into one integer for vectorised look comparisons.
_LOOK = 1000


@dataclass(frozen=True)
class SizeQuery:
    """What a size check needs to know of a piece, read from the table instead of the database."""

    product_id: str
    brand: str | None
    article_type: str
    gender: str | None
    sizes_in_stock: tuple[str, ...]


#: ``(ok, size)``: ``ok`` is False when the person's size is sold out; ``size`` is their size if known.
SizeCheck = Callable[[SizeQuery], tuple[bool, str | None]]
CompatScore = Callable[[str, Sequence[str]], Floats | None]


@dataclass
class Pick:
    row: int
    slot: Slot
    size: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class ComposedOutfit:
    picks: list[Pick]
    score: float
    total: float
    #: Slots the weather asked for that nothing in stock could fill (the person is told to bring their own).
    missing: list[Slot] = field(default_factory=list)


@dataclass
class CompositionReport:
    outfits: list[ComposedOutfit]
    anchors_tried: int = 0
    #: Why anchors were given up, by slot that could not be filled.
    unfilled: dict[str, int] = field(default_factory=dict)


class RuleMatrices:
    """The graph's rule tables as dense arrays indexed like the table's columns."""

    def __init__(self, rules: RuleTables, articles: Sequence[str]) -> None:
        self.articles = list(articles)
        self.article_index = {name: i for i, name in enumerate(self.articles)}
        n = len(self.articles)
        self.goes_with = np.zeros((n, n), dtype=np.float64)
        for (a, b), weight in rules.goes_with.items():
            if a in self.article_index and b in self.article_index:
                self.goes_with[self.article_index[a], self.article_index[b]] = weight
        top = self.goes_with.max() if self.goes_with.size else 0.0
        if top > 0:
            self.goes_with /= top
        m = len(COLOUR_NAMES)
        #: -1 marks a clash; unknown colours (index -1 in the table) use the last row/column.
        self.harmony = np.full((m + 1, m + 1), 0.5, dtype=np.float64)
        self.harmony[:m, :m] = -1.0
        for (a, b), (weight, _rule) in rules.harmony.items():
            if a in COLOUR_NAMES and b in COLOUR_NAMES:
                self.harmony[COLOUR_NAMES.index(a), COLOUR_NAMES.index(b)] = weight
        for i, name in enumerate(COLOUR_NAMES):
            self.harmony[i, i] = 0.9 if COLOURS[name].neutral else 0.6
        self.harmony_rule = {pair: rule for pair, (_w, rule) in rules.harmony.items()}


def gender_ok(table: OutfitTable, anchor_row: int) -> Bools:
    """Rows that may share an outfit with the anchor: same department, or unisex for adults."""
    gender = table.gender_name(anchor_row)
    if gender is None:
        return np.ones(len(table), dtype=bool)
    codes = [GENDERS.index(g) for g in DEPARTMENT_GENDERS[GENDER_DEPARTMENT[gender]]]
    return np.isin(table.gender, codes)


def template(anchor_slot: Slot, cold: bool) -> list[tuple[Slot, bool]]:
    """The slots to fill after the anchor, each with whether it is required.

    A one-piece needs only shoes; anything else is worn with a top and a bottom. The
    anchor's own slot is already filled, whichever it is (complete-the-look may start
    from a skirt or a pair of shoes).
    """
    body = [] if anchor_slot == Slot.ONE_PIECE else [(Slot.TOP, True), (Slot.BOTTOM, True)]
    plan = [*body, (Slot.SHOES, True)]
    if cold:
        plan.append((Slot.OUTERWEAR, True))
    plan += [(Slot.BAG, False), (Slot.ACCESSORY, False)]
    return [(slot, required) for slot, required in plan if slot != anchor_slot]


class Composer:
    def __init__(
        self,
        table: OutfitTable,
        matrices: RuleMatrices,
        eligible: Bools,
        rank_score: Floats,
        *,
        budget: float | None,
        cold: bool,
        size_check: SizeCheck | None = None,
        compat: CompatScore | None = None,
        owned: Bools | None = None,
    ) -> None:
        self.table = table
        self.m = matrices
        self.eligible = eligible
        self.rank_score = rank_score
        self.budget = budget
        self.cold = cold
        self.size_check = size_check
        self.compat = compat
        #: Rows the person already owns: tried first for every slot, never size-checked, free.
        self.owned = owned
        self.article = table.article
        self.colour = np.where(table.colour >= 0, table.colour, len(COLOUR_NAMES))
        self.used: set[int] = set()
        self.seen_looks: set[tuple[int, int, int]] = set()

    def _size(self, row: int) -> tuple[bool, str | None]:
        if self.size_check is None or (self.owned is not None and self.owned[row]):
            return True, None
        t = self.table
        query = SizeQuery(t.ids[row], t.brands[row], t.article_types[row], t.gender_name(row), t.sizes[row])
        return self.size_check(query)

    def _slot_mask(self, slot: Slot) -> Bools:
        mask: Bools = self.eligible & (self.table.slot == SLOTS.index(slot))
        return mask

    def cheapest(self, slot: Slot, allowed: Bools) -> float:
        mask = self._slot_mask(slot) & allowed
        return float(self.table.price[mask].min()) if mask.any() else float("inf")

    def _floor(self, slots: Sequence[Slot], allowed: Bools) -> dict[Slot, float]:
        """The least each slot can cost. A coat nothing in stock can provide costs nothing: the
        person is told to bring their own instead of losing the whole outfit."""
        floor = {slot: self.cheapest(slot, allowed) for slot in slots}
        if not np.isfinite(floor.get(Slot.OUTERWEAR, 0.0)):
            del floor[Slot.OUTERWEAR]
        return floor

    def _complement_scores(self, rows: np.ndarray[Any, np.dtype[np.int64]], chosen: list[Pick]) -> Floats:
        anchor = chosen[0].row
        goes = self.m.goes_with[self.article[anchor], self.article[rows]]
        harmony = np.ones(len(rows))
        for pick in chosen:
            harmony = np.minimum(harmony, self.m.harmony[self.colour[pick.row], self.colour[rows]])
        formality = 1.0 - np.abs(self.table.formality[rows] - self.table.formality[anchor]) / 4.0
        score: Floats = (
            W_GOES_WITH * goes
            + W_HARMONY * harmony
            + W_FORMALITY * formality
            + W_RANK * self.rank_score[rows]
        )
        clashes: Floats = np.where(harmony < 0, -np.inf, score)
        return clashes

    def _ranked(
        self, slot: Slot, chosen: list[Pick], allowed: Bools, cap: float
    ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Floats, np.ndarray[Any, np.dtype[np.int64]]]:
        """The slot's candidate rows, their scores and the order to try them in (best first)."""
        mask = self._slot_mask(slot) & allowed & (self.table.price <= cap)
        if self.used:
            mask[list(self.used)] = False
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return rows, np.zeros(0), rows
        scores = self._complement_scores(rows, chosen)
        repeated = [a * _LOOK + c for s, a, c in self.seen_looks if s == SLOTS.index(slot)]
        if repeated:
            scores = scores - REPEAT_PENALTY * np.isin(
                self.article[rows] * _LOOK + self.colour[rows], repeated
            )
        order = np.argsort(-scores, kind="stable")
        if self.compat is not None:
            # The learned model re-ranks the rules' shortlist: scoring the whole slot would cost
            # a forward pass per candidate, and the rules already removed the clashes.
            shortlist = order[:COMPAT_SHORTLIST]
            learned = self.compat(self.table.ids[chosen[0].row], [self.table.ids[rows[i]] for i in shortlist])
            if learned is not None:
                boosted = scores[shortlist] + W_COMPAT * learned
                order = shortlist[np.argsort(-boosted, kind="stable")]
        return rows, scores, order

    def _first_fit(
        self, slot: Slot, chosen: list[Pick], allowed: Bools, cap: float, n: int = 1
    ) -> list[Pick]:
        """Up to ``n`` best pieces for the slot that are sold in the person's size."""
        rows, scores, order = self._ranked(slot, chosen, allowed, cap)
        picks: list[Pick] = []
        for i in order[: SIZE_TRIES * n]:
            if not np.isfinite(scores[i]) or len(picks) == n:
                break
            row = int(rows[i])
            ok, size = self._size(row)
            if ok:
                picks.append(Pick(row=row, slot=slot, size=size))
        return picks

    def _fill(self, slot: Slot, chosen: list[Pick], allowed: Bools, cap: float) -> Pick | None:
        if self.owned is not None:
            own = self._first_fit(slot, chosen, allowed & self.owned, cap)
            if own:
                return own[0]
            allowed = allowed & ~self.owned
        found = self._first_fit(slot, chosen, allowed, cap)
        return found[0] if found else None

    def alternatives(self, outfit: ComposedOutfit, position: int, n: int) -> list[Pick]:
        """Other pieces that could take the place of pick ``position`` (for "these three would work"),
        best first, the pick itself included; the person's own clothes are left out."""
        picks = outfit.picks
        pick = picks[position]
        allowed = gender_ok(self.table, picks[0].row)
        if self.owned is not None:
            allowed = allowed & ~self.owned
        others = [p for i, p in enumerate(picks) if i != position]
        spent = sum(float(self.table.price[p.row]) for p in others)
        cap = (self.budget - spent) if self.budget is not None else float("inf")
        # Scored as when the pick was made (against the pieces chosen before it), without the
        # penalty its own look earned once it was chosen.
        look = (SLOTS.index(pick.slot), int(self.article[pick.row]), int(self.colour[pick.row]))
        saved = self.used, self.seen_looks
        self.used = {p.row for p in others} | (self.used - {pick.row})
        self.seen_looks = self.seen_looks - {look}
        try:
            found = self._first_fit(pick.slot, picks[:position], allowed, cap, n=n)
        finally:
            self.used, self.seen_looks = saved
        return found

    def outfit(self, anchor: int) -> tuple[ComposedOutfit | None, str | None]:
        """An outfit around ``anchor``, or ``None`` and the slot that could not be filled."""
        anchor_slot = self.table.slot_of(anchor)
        ok, size = self._size(anchor)
        if not ok:
            return None, "anchor_size"
        chosen = [Pick(row=anchor, slot=anchor_slot, size=size)]
        allowed = gender_ok(self.table, anchor)
        plan = template(anchor_slot, self.cold)
        spent = float(self.table.price[anchor])
        # What each required slot costs at least; it does not change while the outfit is built.
        floor = self._floor([s for s, req in plan if req], allowed) if self.budget is not None else {}
        # The cheapest way to fill every required slot already over budget: name the dearest slot
        # as the one that could not be filled, instead of whichever came first.
        if self.budget is not None and spent + sum(floor.values()) > self.budget + 1e-6:
            return None, (max(floor, key=floor.__getitem__).value if floor else "budget")
        total_score = float(self.rank_score[anchor])
        accessory_done = False
        missing: list[Slot] = []
        for position, (slot, required) in enumerate(plan):
            if slot in (Slot.BAG, Slot.ACCESSORY) and accessory_done:
                continue
            if self.budget is not None:
                reserve = sum(floor.get(s, 0.0) for s, req in plan[position + 1 :] if req)
                cap = self.budget - spent - reserve
            else:
                cap = float("inf")
            pick = self._fill(slot, chosen, allowed, cap)
            if pick is None:
                if slot == Slot.OUTERWEAR:
                    # A coat from the person's own wardrobe beats no outfit at all.
                    missing.append(slot)
                    continue
                if required:
                    return None, slot.value
                continue
            chosen.append(pick)
            spent += float(self.table.price[pick.row])
            total_score += float(self._complement_scores(np.array([pick.row]), chosen[:-1])[0])
            accessory_done = accessory_done or slot in (Slot.BAG, Slot.ACCESSORY)
        if self.budget is not None and spent > self.budget + 1e-6:
            return None, "budget"
        outfit = ComposedOutfit(
            picks=chosen, score=total_score / len(chosen), total=round(spent, 2), missing=missing
        )
        return outfit, None

    def compose(self, anchors: Sequence[int], count: int) -> CompositionReport:
        report = CompositionReport(outfits=[])
        anchor_looks: set[tuple[int, int]] = set()
        for anchor in anchors:
            if len(report.outfits) >= count or report.anchors_tried >= MAX_ANCHORS_PER_OUTFIT * count:
                break
            look = (int(self.article[anchor]), int(self.colour[anchor]))
            if anchor in self.used or look in anchor_looks:
                continue
            report.anchors_tried += 1
            outfit, missing = self.outfit(anchor)
            if outfit is None:
                key = missing or "unknown"
                report.unfilled[key] = report.unfilled.get(key, 0) + 1
                continue
            anchor_looks.add(look)
            for pick in outfit.picks:
                self.used.add(pick.row)
                self.seen_looks.add(
                    (SLOTS.index(pick.slot), int(self.article[pick.row]), int(self.colour[pick.row]))
                )
            report.outfits.append(outfit)
        return report
