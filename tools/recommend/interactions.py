"""RentTheRunway rentals as ranking examples in the shared feature space of ``tools.recommend.ranker``.

The data (Misra, Wan, McAuley, RecSys 2018; see ``PROVENANCE.md`` next to the file) is
research-only: it is read from ``research_data_dir`` and nothing derived from single records is
written into the repository. Our catalogue shares no item ids with RTR, so every example is
described only by what the runtime also knows: the request (occasion, season), the person's
profile and own history, and the candidate's kind and own history of counts.

**Time split** (by ``review_date``, the only date RTR gives): *train* before 2017-07-01,
*validation* 2017-07-01 .. 2017-09-30, *test* 2017-10-01 .. 2018-01 (the end of the data). On the
full file that is 154,033 / 16,220 / 22,291 rentals. Test is read only by
``evals.recommend_ranker``.

**No leakage.** Every feature of a rental is counted from rentals on *strictly earlier days*
(same-day rentals never see each other), whatever split the rental is in: a validation or test
rental sees train and earlier validation/test rentals, exactly as a deployed ranker sees all the
history before the request. Training examples are the train rentals from ``EXAMPLES_START``
(2016-01-01) on; earlier ones only feed the counts.

**Candidates.** A rental's candidate set is the rented item plus ``n_negatives`` other items drawn
uniformly, without replacement, from the items someone rented in the same calendar month: those
were in the shop then, so "never available" cannot separate the true item from the negatives.

**Cold start.** A test rental is *cold-start* when its person has no rental before the test period
(none in train or validation); for such people the ranker sees only profile, occasion and the
item's own counts.

**Season** is taken from the review month (northern hemisphere); the event itself was some days
earlier, so it is an approximation.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from tools.recommend.ranker import BODY_TYPES, KINDS, OCCASIONS, SEASONS, FeatureColumns
from tools.recommend.schemas import ItemKind, Occasion, Season
from tools.sizing.rtr import INCH_CM, LB_KG, file_sha256

Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]

SEED = 20180
TRAIN_END = date(2017, 7, 1)  # first day not in train
VALIDATION_END = date(2017, 10, 1)  # first day of test
#: Train rentals before this day only feed counts, they are not examples: on 2 shared cores the
#: numpy network trains within its budget only on the recent ~80k rentals, the ones most like test.
EXAMPLES_START = date(2016, 1, 1)
N_EVAL_NEGATIVES = 99
N_TRAIN_NEGATIVES = 4
_EPOCH = date(1970, 1, 1)
_COLUMNS = (
    "user",
    "item",
    "day",
    "month",
    "kind",
    "occasion",
    "season",
    "liked",
    "body",
    "age",
    "height",
    "weight",
)

#: RTR categories (the last word of the product name) to our kinds; anything else is ``OTHER``.
_CATEGORY_WORDS: dict[ItemKind, str] = {
    ItemKind.DRESS: "dress sheath shift maxi mini midi shirtdress sundress frock kaftan caftan",
    ItemKind.GOWN: "gown ballgown",
    ItemKind.JUMPSUIT: "jumpsuit romper overalls combo",
    ItemKind.TOP: "top blouse shirt tank tunic cami tee t-shirt blouson henley buttondown",
    ItemKind.KNIT: "sweater cardigan sweatshirt sweatershirt pullover knit turtleneck hoodie crewneck",
    ItemKind.BOTTOM: (
        "skirt skirts skort pants pant culottes culotte leggings legging trouser trousers tight jogger"
        " jeans sweatpants"
    ),
    ItemKind.OUTERWEAR: (
        "jacket coat blazer down vest bomber cape poncho peacoat trench parka kimono duster overcoat"
    ),
    ItemKind.SUIT: "suit",
}
CATEGORY_KIND: dict[str, ItemKind] = {
    word: kind for kind, words in _CATEGORY_WORDS.items() for word in words.split()
}

#: RTR's "rented for" answers (after the parquet folded "party: cocktail" into "party").
RENTED_FOR_OCCASION: dict[str, Occasion] = {
    "wedding": Occasion.WEDDING,
    "formal affair": Occasion.FORMAL,
    "party": Occasion.PARTY,
    "party: cocktail": Occasion.PARTY,
    "work": Occasion.WORK,
    "date": Occasion.DATE,
    "everyday": Occasion.EVERYDAY,
    "vacation": Occasion.VACATION,
    "other": Occasion.OTHER,
}

_SEASON_OF_MONTH: dict[int, Season] = {
    **dict.fromkeys((12, 1, 2), Season.WINTER),
    **dict.fromkeys((3, 4, 5), Season.SPRING),
    **dict.fromkeys((6, 7, 8), Season.SUMMER),
    **dict.fromkeys((9, 10, 11), Season.FALL),
}


def category_kind(category: str | None) -> ItemKind:
    return CATEGORY_KIND.get((category or "").strip().lower(), ItemKind.OTHER)


def occasion_of(rented_for: str | None) -> Occasion | None:
    return RENTED_FOR_OCCASION.get((rented_for or "").strip().lower())


def season_of(day: date) -> Season:
    return _SEASON_OF_MONTH[day.month]


def day_number(day: date) -> int:
    return (day - _EPOCH).days


@dataclass(frozen=True)
class Interactions:
    """Rentals as columns, sorted by day (stable, so file order breaks ties).

    Codes index ``OCCASIONS``, ``SEASONS``, ``KINDS``, ``BODY_TYPES``; -1 is "unknown".
    ``liked`` is 1 for rating 10, 0 for a lower rating, -1 when unrated.
    """

    user: Ints
    item: Ints
    day: Ints  # days since 1970-01-01
    month: Ints  # year * 12 + month - 1
    kind: Ints
    occasion: Ints
    season: Ints
    liked: Ints
    body: Ints
    age: Floats
    height_cm: Floats
    weight_kg: Floats
    item_kind: Ints  # per item: the kind of its first record
    n_users: int
    sha256: str

    def __len__(self) -> int:
        return len(self.user)


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def load_interactions(path: Path, limit: int | None = None) -> Interactions:
    """Read the first ``limit`` records (all when None) of the RTR JSON Lines file."""
    if not path.exists():
        raise FileNotFoundError(f"RentTheRunway data not found at {path} (see settings.research_data_dir)")
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    item_kind: list[int] = []
    cols: dict[str, list[Any]] = {k: [] for k in _COLUMNS}
    kind_code = {k: i for i, k in enumerate(KINDS)}
    occasion_code = {o: i for i, o in enumerate(OCCASIONS)}
    season_code = {s: i for i, s in enumerate(SEASONS)}
    body_code = {b: i for i, b in enumerate(BODY_TYPES)}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(cols["user"]) >= limit:
                break
            row = json.loads(line)
            when = date.fromisoformat(str(row["review_date"])[:10])
            item = items.setdefault(str(row["item_id"]), len(items))
            kind = kind_code[category_kind(row.get("category"))]
            if item == len(item_kind):
                item_kind.append(kind)
            occasion = occasion_of(row.get("rented_for"))
            rating = row.get("rating")
            cols["user"].append(users.setdefault(str(row["user_id"]), len(users)))
            cols["item"].append(item)
            cols["day"].append(day_number(when))
            cols["month"].append(when.year * 12 + when.month - 1)
            cols["kind"].append(item_kind[item])
            cols["occasion"].append(-1 if occasion is None else occasion_code[occasion])
            cols["season"].append(season_code[season_of(when)])
            cols["liked"].append(-1 if not isinstance(rating, int | float) else int(rating >= 10))
            cols["body"].append(body_code.get(row.get("body_type"), -1))
            cols["age"].append(_float(row.get("age")))
            cols["height"].append(_float(row.get("height_in")) * INCH_CM)
            cols["weight"].append(_float(row.get("weight_lbs")) * LB_KG)
    order = np.argsort(np.asarray(cols["day"], np.int64), kind="stable")

    def ints(name: str) -> Ints:
        return np.asarray(cols[name], np.int64)[order]

    def floats(name: str) -> Floats:
        return np.asarray(cols[name], np.float64)[order]

    return Interactions(
        user=ints("user"),
        item=ints("item"),
        day=ints("day"),
        month=ints("month"),
        kind=ints("kind"),
        occasion=ints("occasion"),
        season=ints("season"),
        liked=ints("liked"),
        body=ints("body"),
        age=floats("age"),
        height_cm=floats("height"),
        weight_kg=floats("weight"),
        item_kind=np.asarray(item_kind, np.int64),
        n_users=len(users),
        sha256=file_sha256(path),
    )


@dataclass(frozen=True)
class TimeSplit:
    """Row indices (into the day-sorted ``Interactions``) of each period."""

    train: Ints
    validation: Ints
    test: Ints
    train_end: date
    validation_end: date

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}

    def describe(self) -> dict[str, Any]:
        return {
            "train": f"< {self.train_end.isoformat()}",
            "validation": f"{self.train_end.isoformat()} .. < {self.validation_end.isoformat()}",
            "test": f">= {self.validation_end.isoformat()}",
            "counts": self.sizes(),
        }


def time_split(
    data: Interactions, train_end: date = TRAIN_END, validation_end: date = VALIDATION_END
) -> TimeSplit:
    if not train_end < validation_end:
        raise ValueError("train_end must come before validation_end")
    t, v = day_number(train_end), day_number(validation_end)
    rows = np.arange(len(data), dtype=np.int64)
    return TimeSplit(
        train=rows[data.day < t],
        validation=rows[(data.day >= t) & (data.day < v)],
        test=rows[data.day >= v],
        train_end=train_end,
        validation_end=validation_end,
    )


def sample_candidates(data: Interactions, events: Ints, n_negatives: int, seed: int = SEED) -> Ints:
    """``(len(events), 1 + n_negatives)`` item ids: the rented item, then distinct other items
    rented by anyone in the same calendar month (fewer in a month with fewer items: padded by
    repeating the rented item's month-mates with replacement, which only happens on tiny data)."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(events), 1 + n_negatives), np.int64)
    out[:, 0] = data.item[events]
    months = data.month[events]
    for month in np.unique(months):
        pool = np.unique(data.item[data.month == month])
        rows = np.flatnonzero(months == month)
        position = np.searchsorted(pool, out[rows, 0])
        others = len(pool) - 1
        for row, pos in zip(rows, position, strict=True):
            if others <= 0:
                out[row, 1:] = out[row, 0]
                continue
            draw = rng.choice(others, size=n_negatives, replace=others < n_negatives)
            draw = draw + (draw >= pos)  # skip the rented item
            out[row, 1:] = pool[draw]
    return out


def history_columns(data: Interactions, events: Ints, candidates: Ints) -> FeatureColumns:
    """Ranker features of every (event, candidate) pair, row-major, from strictly earlier days.

    One pass over the days: before a day's events are counted, the pairs of that day read the
    running item and person counts.
    """
    n_occ, n_kind = len(OCCASIONS), len(KINDS)
    n_items = len(data.item_kind)
    width = candidates.shape[1]
    n = len(events) * width
    item_n = np.zeros(n_items)
    item_rated = np.zeros(n_items)
    item_likes = np.zeros(n_items)
    item_occ = np.zeros((n_items, n_occ))
    person_n = np.zeros(data.n_users)
    person_rated = np.zeros(data.n_users)
    person_likes = np.zeros(data.n_users)
    person_kind = np.zeros((data.n_users, n_kind))
    person_occ = np.zeros((data.n_users, n_occ))
    out: dict[str, Floats] = {
        name: np.zeros(n) for name in ("item_n", "item_rated", "item_likes", "person_n", "person_rated")
    }
    out["person_likes"] = np.zeros(n)
    out["person_kind_n"] = np.zeros(n)
    out_item_occ = np.zeros((n, n_occ))
    out_person_occ = np.zeros((n, n_occ))
    flat_items = candidates.reshape(-1)
    flat_kind = data.item_kind[flat_items]
    flat_user = np.repeat(data.user[events], width)
    flat_day = np.repeat(data.day[events], width)
    if n:
        order = np.argsort(flat_day, kind="stable")
        day_starts = np.searchsorted(flat_day[order], np.unique(flat_day), side="left")
        bounds = [*day_starts.tolist(), n]
        wanted_days = np.unique(flat_day)
    else:
        order = np.zeros(0, np.int64)
        bounds = [0]
        wanted_days = np.zeros(0, np.int64)
    data_bounds = np.searchsorted(data.day, wanted_days, side="left")
    done = 0  # rows of ``data`` already counted
    for k in range(len(wanted_days)):
        stop = int(data_bounds[k])
        if stop > done:
            new = slice(done, stop)
            liked, occ = data.liked[new], data.occasion[new]
            _tally(data.item[new], liked, occ, item_n, item_rated, item_likes, item_occ)
            _tally(data.user[new], liked, occ, person_n, person_rated, person_likes, person_occ)
            np.add.at(person_kind, (data.user[new], data.kind[new]), 1.0)
            done = stop
        rows = order[bounds[k] : bounds[k + 1]]
        it, us = flat_items[rows], flat_user[rows]
        out["item_n"][rows] = item_n[it]
        out["item_rated"][rows] = item_rated[it]
        out["item_likes"][rows] = item_likes[it]
        out_item_occ[rows] = item_occ[it]
        out["person_n"][rows] = person_n[us]
        out["person_rated"][rows] = person_rated[us]
        out["person_likes"][rows] = person_likes[us]
        out["person_kind_n"][rows] = person_kind[us, flat_kind[rows]]
        out_person_occ[rows] = person_occ[us]

    def per_event(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.repeat(values[events], width)

    return FeatureColumns(
        occasion=per_event(data.occasion).astype(np.int64),
        season=per_event(data.season).astype(np.int64),
        body=per_event(data.body).astype(np.int64),
        age=per_event(data.age).astype(np.float64),
        height_cm=per_event(data.height_cm).astype(np.float64),
        weight_kg=per_event(data.weight_kg).astype(np.float64),
        kind=flat_kind,
        item_n=out["item_n"],
        item_rated=out["item_rated"],
        item_likes=out["item_likes"],
        item_occasion_counts=out_item_occ,
        person_n=out["person_n"],
        person_rated=out["person_rated"],
        person_likes=out["person_likes"],
        person_kind_n=out["person_kind_n"],
        person_occasion_counts=out_person_occ,
    )


def _tally(
    keys: Ints, liked: Ints, occ: Ints, n: Floats, rated: Floats, likes: Floats, occ_counts: Floats
) -> None:
    """Interactions, rated ones, likes and occasions per key (an item or a person), added in place."""
    np.add.at(n, keys, 1.0)
    np.add.at(rated, keys, (liked >= 0).astype(np.float64))
    np.add.at(likes, keys, (liked == 1).astype(np.float64))
    known = occ >= 0
    np.add.at(occ_counts, (keys[known], occ[known]), 1.0)


@dataclass(frozen=True)
class CandidateSets:
    """Ranking examples of some rentals: candidates ``(n, 1 + K)`` (column 0 is the rented item)
    and their features flattened row-major, so row ``i * (1 + K) + j`` is event i, candidate j."""

    events: Ints
    items: Ints
    columns: FeatureColumns
    liked: Ints  # per event: 1 / 0 / -1 unrated
    cold: Bools  # per event: the person has no rental before ``history_start``

    @property
    def width(self) -> int:
        return int(self.items.shape[1])

    def rent_labels(self) -> Floats:
        labels = np.zeros(self.items.shape)
        labels[:, 0] = 1.0
        return labels.reshape(-1)

    def like_labels(self) -> tuple[Floats, Bools]:
        """Per row: the like label, and whether it counts (rented rows with a rating only)."""
        labels = np.zeros(self.items.shape)
        mask = np.zeros(self.items.shape, bool)
        labels[:, 0] = (self.liked == 1).astype(np.float64)
        mask[:, 0] = self.liked >= 0
        return labels.reshape(-1), mask.reshape(-1)

    def first_columns(self, n_negatives: int) -> CandidateSets:
        """The same events with only their first ``n_negatives`` negatives."""
        keep = 1 + n_negatives
        rows = (np.arange(len(self.events))[:, None] * self.width + np.arange(keep)[None, :]).reshape(-1)
        return CandidateSets(
            events=self.events,
            items=self.items[:, :keep],
            columns=self.columns.take(rows),
            liked=self.liked,
            cold=self.cold,
        )


def candidate_sets(
    data: Interactions, events: Ints, n_negatives: int, history_start: date, seed: int = SEED
) -> CandidateSets:
    items = sample_candidates(data, events, n_negatives, seed)
    seen_before = np.zeros(data.n_users, bool)
    seen_before[data.user[data.day < day_number(history_start)]] = True
    return CandidateSets(
        events=events,
        items=items,
        columns=history_columns(data, events, items),
        liked=data.liked[events],
        cold=~seen_before[data.user[events]],
    )
