"""The person's wardrobe: items added by photo or by hand, their tags, and what was worn when.

A photo goes through one pipeline whatever the caller (API upload, bulk import, a photo
sent in chat): decode within limits, tag (background removal, colours, pattern,
category), refuse a duplicate of an item already owned, store the photo and the
cut-out, then the row. Objects are written before the row and removed again if the row
cannot be written, so a failure at any step leaves nothing behind.

Stores hold no rules; the rules are here. Wardrobe changes go to ``user-behavior-events``
through the outbox, in the same transaction as the rows.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from graphs.rules import COLOURS
from graphs.vocabulary import Occasion, Slot, article_kind, kind_slot
from storage.events import Topic
from storage.objects import ObjectStore
from storage.sql import Database
from storage.sql.models import WardrobeItem, WearLog
from storage.sql.outbox import add_event
from tools.recommend.schemas import OwnedPiece
from tools.wardrobe.colours import COLOUR_NAMES_ZH, colour_name_zh
from tools.wardrobe.images import (
    DUPLICATE_DISTANCE,
    ImageLimits,
    ImageRejected,
    encode_cutout_png,
    encode_jpeg,
    hamming,
    load_image,
    perceptual_hash,
    working_copy,
)
from tools.wardrobe.schemas import (
    AddedItem,
    CalendarDay,
    ColourTag,
    ItemCreate,
    ItemUpdate,
    ItemUsage,
    WardrobeFilter,
    WardrobeInsights,
    WardrobeItemRead,
    WearEntry,
)
from tools.wardrobe.segment import Segmentation
from tools.wardrobe.tagging import Tags, decide

logger = logging.getLogger(__name__)

#: A wardrobe this large is a shop, not a person's; the cap keeps one account from filling the store.
MAX_ITEMS = 2000
#: Photos are analysed at this size; the stored photo keeps up to ``STORED_SIDE`` pixels a side.
ANALYSIS_SIDE = 512
STORED_SIDE = 1600
#: Wear can be logged this far back (a calendar filled in after a holiday) and never in the future.
MAX_BACKFILL_DAYS = 366
OUTFIT_SLOTS: tuple[Slot, ...] = (Slot.TOP, Slot.BOTTOM, Slot.ONE_PIECE, Slot.SHOES, Slot.OUTERWEAR)


#: Colour words of a typed description, longest first so "navy blue" wins over "blue".
_COLOUR_WORDS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [
            *((name.lower(), name) for name in COLOURS),
            *((zh, name) for name, zh in COLOUR_NAMES_ZH.items()),
            *((zh.removesuffix("色"), name) for name, zh in COLOUR_NAMES_ZH.items() if len(zh) > 2),
            ("navy", "Navy Blue"),
            ("gray", "Grey"),
            ("藏蓝", "Navy Blue"),
            ("深蓝", "Navy Blue"),
        ],
        key=lambda pair: -len(pair[0]),
    )
)


#: Things named in the plural even one at a time ("a pair of shoes").
_PAIRS = ("shoes", "jeans", "shorts", "trousers", "pants", "capris", "flats", "heels", "sandals", "flops",
          "leggings", "jeggings", "sunglasses", "socks", "tracksuits")  # fmt: skip


class WardrobeError(Exception):
    """A refusal the caller can explain: ``code`` maps to an HTTP status, ``message`` says why."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class Tagging(Protocol):
    def tag(self, rgb: Any, caption: str | None = None) -> tuple[Segmentation, Tags]: ...


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str


def _kind(category: str | None) -> str | None:
    if category is None:
        return None
    slot = kind_slot(article_kind(category))
    return slot.value if slot is not None else None


def _read(row: WardrobeItem) -> WardrobeItemRead:
    return WardrobeItemRead(
        id=row.id,
        name=row.name,
        caption=row.caption,
        category=row.category,
        kind=_kind(row.category),
        colour=row.colour,
        colours=[ColourTag(**c) for c in row.colours],
        pattern=row.pattern,
        seasons=row.seasons,
        occasions=row.occasions,
        tags=row.tags,
        source=row.source,
        has_photo=row.image_key is not None,
        price=row.price,
        currency=row.currency,
        created_at=row.created_at,
        updated_at=row.updated_at,
        auto_tags=row.auto_tags,
    )


def _describe(tags: Tags) -> str:
    """A name for an item the person did not name: "Navy Blue Tshirts" reads badly, so the colour
    and the category in the singular are joined plainly ("navy blue t-shirt", "black sports shoes")."""
    category = (tags.category or "item").lower()
    if category == "tshirts":
        category = "t-shirt"
    elif not category.endswith(_PAIRS):
        category = category[:-2] if category.endswith(("ses", "ches", "shes")) else category.removesuffix("s")
    colour = (tags.colour or "").lower()
    return f"{colour} {category}".strip()


class WardrobeService:
    def __init__(
        self,
        db: Database,
        objects: ObjectStore,
        tagger: Tagging,
        *,
        limits: ImageLimits | None = None,
        max_items: int = MAX_ITEMS,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.db = db
        self.objects = objects
        self.tagger = tagger
        self.limits = limits or ImageLimits()
        self.max_items = max_items
        self.today = today

    # --- adding -----------------------------------------------------------------------------------

    def add_photo(
        self,
        user_id: str,
        data: bytes,
        *,
        caption: str | None = None,
        extra: ItemCreate | None = None,
        allow_duplicate: bool = False,
    ) -> AddedItem:
        """Tag and store one photo; raises ``ImageRejected`` (bad file, no garment) or
        ``WardrobeError`` (duplicate, wardrobe full) and then stores nothing."""
        caption = (caption or "").strip()[:300] or None
        self._check_room(user_id)
        image = load_image(data, self.limits)
        rgb = working_copy(image, ANALYSIS_SIDE)
        segmentation, tags = self.tagger.tag(rgb, caption)
        phash = f"{perceptual_hash(rgb):016x}"
        if not allow_duplicate:
            twin = self._duplicate_of(user_id, int(phash, 16))
            if twin is not None:
                twin_id, twin_name = twin
                raise WardrobeError(
                    "duplicate",
                    f"This photo looks like '{twin_name}', already in the wardrobe; "
                    "send allow_duplicate to add it anyway (a second identical item).",
                    item_id=twin_id,
                )
        item_id = str(uuid.uuid4())
        prefix = f"wardrobe/{user_id}/{item_id}"
        stored = working_copy(image, STORED_SIDE)
        keys = [f"{prefix}/photo.jpg", f"{prefix}/cutout.png"]
        try:
            self.objects.put(keys[0], encode_jpeg(stored), "image/jpeg")
            self.objects.put(keys[1], encode_cutout_png(rgb, segmentation.mask), "image/png")
            fields = extra or ItemCreate(name=(caption or _describe(tags))[:120])
            row = WardrobeItem(
                id=item_id,
                user_id=user_id,
                name=fields.name,
                caption=caption,
                category=fields.category or tags.category,
                colour=fields.colour or tags.colour,
                colours=[
                    {"name": c.name, "name_zh": c.name_zh, "share": round(c.share, 3)} for c in tags.colours
                ],
                pattern=fields.pattern or tags.pattern.name,
                seasons=[str(s) for s in (fields.seasons or tags.seasons)],
                occasions=[str(o) for o in (fields.occasions or tags.occasions)],
                tags=list(dict.fromkeys(fields.tags)),
                source="photo",
                image_key=keys[0],
                cutout_key=keys[1],
                phash=phash,
                price=fields.price,
                currency=fields.currency,
                auto_tags={
                    "category": tags.category,
                    "category_confidence": round(tags.category_confidence, 3),
                    "colour": tags.colour,
                    "pattern": tags.pattern.name,
                    "pattern_confidence": round(tags.pattern.confidence, 3),
                    "seasons": [str(s) for s in tags.seasons],
                    "occasions": [str(o) for o in tags.occasions],
                    "segmentation": segmentation.method,
                    "worn_by_person": segmentation.person,
                    "coverage": round(segmentation.coverage, 3),
                },
            )
            with self.db.session() as session:
                session.add(row)
                session.flush()
                self._event(session, user_id, "wardrobe.item_added", row)
                read = _read(row)
        except Exception:
            for key in keys:
                self.objects.delete(key)
            raise
        return AddedItem(
            item=read,
            timings_ms={k: round(v, 1) for k, v in tags.timings_ms.items()},
            segmentation=segmentation.method,
            worn_by_person=segmentation.person,
        )

    def add_many(
        self, user_id: str, photos: Iterable[tuple[str, bytes]], *, allow_duplicate: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Add photos one by one, yielding a progress record per file (name, done, total, outcome).

        One bad file is reported and skipped; the others are still added. Duplicates within
        the batch are caught too, since each stored photo is visible to the next check.
        """
        batch = list(photos)
        for done, (name, data) in enumerate(batch, start=1):
            record: dict[str, Any] = {"file": name, "done": done, "total": len(batch)}
            try:
                added = self.add_photo(user_id, data, allow_duplicate=allow_duplicate)
            except ImageRejected as exc:
                record |= {"ok": False, "code": exc.code, "error": exc.message}
            except WardrobeError as exc:
                record |= {"ok": False, "code": exc.code, "error": exc.message, **exc.details}
            else:
                record |= {"ok": True, "item": added.item.model_dump(mode="json")}
            yield record

    def read_caption(self, text: str) -> tuple[str | None, str | None]:
        """(category, colour) a description names ("my navy blazer", "白色运动鞋"), each None when
        it names none: an item typed in is filed the way a tagged photo would be."""
        category = None
        classifier = getattr(self.tagger, "caption_classifier", None)
        if classifier is not None:
            probs = classifier.scores(text)
            if probs:
                category, _kind, _confidence = decide(sorted(probs.items(), key=lambda cp: -cp[1]), probs)
        lowered = text.lower()
        colour = next(
            (
                name
                for word, name in _COLOUR_WORDS
                if (re.search(rf"\b{re.escape(word)}\b", lowered) if word.isascii() else word in lowered)
            ),
            None,
        )
        return category, colour

    def find(self, items: Sequence[WardrobeItemRead], description: str) -> list[WardrobeItemRead]:
        """The ``items`` a description points at ("my white tee", "蓝色牛仔裤"), best first.

        An item's own name in the text wins outright; otherwise the category and colour the
        description names must both match where named. Several matches come back for the
        caller to ask which. The caller reads the wardrobe once for all the pieces it resolves.
        """
        text = description.strip().lower()
        named = [i for i in items if i.name.lower() in text or text in i.name.lower()]
        if named and text:
            return sorted(named, key=lambda i: -len(i.name))
        category, colour = self.read_caption(description)
        if category is None and colour is None:
            return []
        kind = _kind(category)
        return [
            i
            for i in items
            if (category is None or i.category == category or (kind is not None and i.kind == kind))
            and (colour is None or i.colour == colour)
        ]

    def add_manual(self, user_id: str, fields: ItemCreate) -> WardrobeItemRead:
        self._check_room(user_id)
        if fields.category is None or fields.colour is None:
            category, colour = self.read_caption(fields.name)
            fields = fields.model_copy(
                update={"category": fields.category or category, "colour": fields.colour or colour}
            )
        row = WardrobeItem(
            user_id=user_id,
            name=fields.name,
            category=fields.category,
            colour=fields.colour,
            colours=(
                [{"name": fields.colour, "name_zh": colour_name_zh(fields.colour), "share": 1.0}]
                if fields.colour
                else []
            ),
            pattern=fields.pattern,
            seasons=[str(s) for s in fields.seasons],
            occasions=[str(o) for o in fields.occasions],
            tags=list(dict.fromkeys(fields.tags)),
            source="manual",
            price=fields.price,
            currency=fields.currency,
            auto_tags={},
        )
        with self.db.session() as session:
            session.add(row)
            session.flush()
            self._event(session, user_id, "wardrobe.item_added", row)
            return _read(row)

    def _check_room(self, user_id: str) -> None:
        if self.count(user_id) >= self.max_items:
            raise WardrobeError(
                "wardrobe_full",
                f"The wardrobe holds {self.max_items} items, the most it may; remove some first.",
            )

    def _duplicate_of(self, user_id: str, phash: int) -> tuple[str, str] | None:
        """(id, name) of an owned item whose photo is within ``DUPLICATE_DISTANCE`` bits of this one."""
        with self.db.session() as session:
            rows = session.execute(
                select(WardrobeItem.id, WardrobeItem.name, WardrobeItem.phash).where(
                    WardrobeItem.user_id == user_id, WardrobeItem.phash.is_not(None)
                )
            ).all()
        for row in rows:
            if hamming(phash, int(row.phash, 16)) <= DUPLICATE_DISTANCE:
                return row.id, row.name
        return None

    @staticmethod
    def _event(session: Session, user_id: str, type_: str, row: WardrobeItem) -> None:
        add_event(
            session,
            topic=Topic.USER_BEHAVIOR_EVENTS,
            type=type_,
            key=user_id,
            payload={
                "user_id": user_id,
                "item_id": row.id,
                "category": row.category,
                "colour": row.colour,
                "source": row.source,
            },
        )

    # --- reading and editing ----------------------------------------------------------------------

    def count(self, user_id: str) -> int:
        with self.db.session() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(WardrobeItem).where(WardrobeItem.user_id == user_id)
                )
                or 0
            )

    def _row(self, session: Session, user_id: str, item_id: str) -> WardrobeItem:
        row = session.get(WardrobeItem, item_id)
        if row is None or row.user_id != user_id:
            # Someone else's item reads exactly like a missing one.
            raise WardrobeError("not_found", f"No wardrobe item {item_id!r}.")
        return row

    def get(self, user_id: str, item_id: str) -> WardrobeItemRead:
        with self.db.session() as session:
            return _read(self._row(session, user_id, item_id))

    def all_items(self, user_id: str) -> list[WardrobeItemRead]:
        """Every item, newest first (a wardrobe holds at most ``max_items``)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(WardrobeItem)
                .where(WardrobeItem.user_id == user_id)
                .order_by(WardrobeItem.created_at.desc(), WardrobeItem.id)
            ).all()
            return [_read(r) for r in rows]

    def items(self, user_id: str, wanted: WardrobeFilter | None = None) -> list[WardrobeItemRead]:
        """The items ``wanted`` describes, newest first, at most ``wanted.limit``."""
        wanted = wanted or WardrobeFilter()
        items = self.all_items(user_id)
        last = self._last_worn(user_id) if wanted.idle_months else {}
        cutoff = self.today() - timedelta(days=30 * (wanted.idle_months or 0))

        def keep(item: WardrobeItemRead) -> bool:
            return (
                (wanted.kind is None or item.kind == wanted.kind)
                and (wanted.category is None or item.category == wanted.category)
                and (wanted.colour is None or item.colour == wanted.colour)
                and (wanted.season is None or wanted.season in item.seasons)
                and (wanted.occasion is None or wanted.occasion in item.occasions)
                and (wanted.tag is None or wanted.tag in item.tags)
                and (not wanted.idle_months or last.get(item.id, date.min) < cutoff)
            )

        return [item for item in items if keep(item)][: wanted.limit]

    def update(self, user_id: str, item_id: str, changes: ItemUpdate) -> WardrobeItemRead:
        fields = changes.model_dump(exclude_unset=True, mode="json")
        with self.db.session() as session:
            row = self._row(session, user_id, item_id)
            for name, value in fields.items():
                if name == "tags" and value is not None:
                    value = list(dict.fromkeys(value))
                if name in ("seasons", "occasions", "tags") and value is None:
                    value = []
                if name == "name" and value is None:
                    raise WardrobeError("invalid", "An item needs a name; send a new one instead of null.")
                setattr(row, name, value)
            if "colour" in fields:
                colour = fields["colour"]
                row.colours = (
                    [{"name": colour, "name_zh": colour_name_zh(colour), "share": 1.0}] if colour else []
                )
            session.flush()
            return _read(row)

    def delete(self, user_id: str, item_id: str) -> None:
        with self.db.session() as session:
            row = self._row(session, user_id, item_id)
            keys = [k for k in (row.image_key, row.cutout_key) if k]
            session.delete(row)
            self._event(session, user_id, "wardrobe.item_removed", row)
        for key in keys:
            self.objects.delete(key)

    def photo(self, user_id: str, item_id: str, variant: str = "photo") -> Photo:
        with self.db.session() as session:
            row = self._row(session, user_id, item_id)
            key = row.cutout_key if variant == "cutout" else row.image_key
        if key is None:
            raise WardrobeError("not_found", f"Wardrobe item {item_id!r} has no photo.")
        return Photo(self.objects.get(key), "image/png" if key.endswith(".png") else "image/jpeg")

    def tag_names(self, user_id: str) -> dict[str, int]:
        """Each of the person's own tags with how many items carry it."""
        counts: dict[str, int] = defaultdict(int)
        for item in self.all_items(user_id):
            for tag in item.tags:
                counts[tag] += 1
        return dict(sorted(counts.items()))

    def merge_tags(self, user_id: str, sources: Sequence[str], target: str) -> int:
        """Replace every tag in ``sources`` by ``target`` (a rename is a merge of one); returns the
        number of items changed."""
        target = target.strip()
        if not target or len(target) > 40:
            raise WardrobeError("invalid", "A tag is 1 to 40 characters.")
        wanted = {s.strip() for s in sources if s.strip()}
        if not wanted:
            raise WardrobeError("invalid", "Name at least one tag to rename or merge.")
        changed = 0
        with self.db.session() as session:
            for row in session.scalars(select(WardrobeItem).where(WardrobeItem.user_id == user_id)):
                if wanted & set(row.tags):
                    row.tags = list(dict.fromkeys(target if t in wanted else t for t in row.tags))
                    changed += 1
        if changed == 0:
            raise WardrobeError("not_found", f"No item carries the tag(s) {', '.join(sorted(wanted))}.")
        return changed

    # --- wear log ---------------------------------------------------------------------------------

    def log_wear(
        self,
        user_id: str,
        item_ids: Sequence[str],
        worn_on: date | None = None,
        occasion: Occasion | None = None,
    ) -> list[WearEntry]:
        """Record that these items were worn together on ``worn_on`` (today by default)."""
        day = worn_on or self.today()
        today = self.today()
        if day > today:
            raise WardrobeError(
                "invalid", f"{day.isoformat()} is in the future; log what was worn, not plans."
            )
        if (today - day).days > MAX_BACKFILL_DAYS:
            raise WardrobeError("invalid", f"Wear can be logged up to {MAX_BACKFILL_DAYS} days back.")
        ids = list(dict.fromkeys(item_ids))
        if not ids:
            raise WardrobeError("invalid", "Name at least one wardrobe item that was worn.")
        outfit_id = str(uuid.uuid4()) if len(ids) > 1 else None
        entries: list[WearEntry] = []
        with self.db.session() as session:
            for item_id in ids:
                self._row(session, user_id, item_id)
                existing = session.scalars(
                    select(WearLog).where(WearLog.item_id == item_id, WearLog.worn_on == day)
                ).first()
                if existing is not None:
                    entries.append(
                        WearEntry(
                            item_id=item_id,
                            worn_on=day,
                            outfit_id=existing.outfit_id,
                            occasion=Occasion(existing.occasion) if existing.occasion else None,
                            created=False,
                        )
                    )
                    continue
                session.add(
                    WearLog(
                        user_id=user_id,
                        item_id=item_id,
                        worn_on=day,
                        outfit_id=outfit_id,
                        occasion=occasion.value if occasion else None,
                    )
                )
                entries.append(
                    WearEntry(
                        item_id=item_id, worn_on=day, outfit_id=outfit_id, occasion=occasion, created=True
                    )
                )
            session.flush()
            add_event(
                session,
                topic=Topic.USER_BEHAVIOR_EVENTS,
                type="wardrobe.worn",
                key=user_id,
                payload={"user_id": user_id, "item_ids": ids, "day": day.isoformat()},
            )
        return entries

    def unlog_wear(self, user_id: str, item_id: str, worn_on: date) -> bool:
        with self.db.session() as session:
            self._row(session, user_id, item_id)
            result = session.execute(
                delete(WearLog).where(WearLog.item_id == item_id, WearLog.worn_on == worn_on)
            )
            return bool(getattr(result, "rowcount", 0))

    def calendar(self, user_id: str, start: date, end: date) -> list[CalendarDay]:
        if end < start or (end - start).days > 400:
            raise WardrobeError("invalid", "Ask for a calendar range of at most 400 days, start before end.")
        with self.db.session() as session:
            rows = session.execute(
                select(WearLog.worn_on, WearLog.item_id, WearLog.outfit_id)
                .where(WearLog.user_id == user_id, WearLog.worn_on >= start, WearLog.worn_on <= end)
                .order_by(WearLog.worn_on, WearLog.created_at)
            ).all()
        days: dict[date, dict[str, list[str]]] = defaultdict(dict)
        for worn_on, item_id, outfit_id in rows:
            days[worn_on].setdefault(outfit_id or item_id, []).append(item_id)
        return [CalendarDay(day=day, outfits=list(groups.values())) for day, groups in sorted(days.items())]

    def _wears(self, user_id: str) -> dict[str, list[date]]:
        with self.db.session() as session:
            rows = session.execute(
                select(WearLog.item_id, WearLog.worn_on).where(WearLog.user_id == user_id)
            ).all()
        wears: dict[str, list[date]] = defaultdict(list)
        for item_id, worn_on in rows:
            wears[item_id].append(worn_on)
        return wears

    def _last_worn(self, user_id: str) -> dict[str, date]:
        return {item: max(days) for item, days in self._wears(user_id).items()}

    def owned_pieces(self, user_id: str) -> list[OwnedPiece]:
        """The items outfit composition can use: those with a category, with how long they have rested."""
        last = self._last_worn(user_id)
        today = self.today()
        return [
            OwnedPiece(
                id=item.id,
                name=item.name,
                article_type=item.category,
                colour=item.colour,
                seasons=item.seasons,
                occasions=item.occasions,
                days_since_worn=(today - last[item.id]).days if item.id in last else None,
            )
            for item in self.all_items(user_id)
            if item.category is not None
        ]

    def insights(self, user_id: str, idle_months: int = 3) -> WardrobeInsights:
        """Cost per wear, never-worn and idle items, and the outfit slots the wardrobe lacks."""
        if not 1 <= idle_months <= 120:
            raise WardrobeError("invalid", "idle_months is between 1 and 120.")
        items = self.all_items(user_id)
        wears = self._wears(user_id)
        cutoff = self.today() - timedelta(days=30 * idle_months)
        usage: list[ItemUsage] = []
        for item in items:
            days = wears.get(item.id, [])
            cost = None
            if item.price is not None:
                cost = round(item.price / max(len(days), 1), 2)
            usage.append(
                ItemUsage(
                    item_id=item.id,
                    name=item.name,
                    category=item.category,
                    wears=len(days),
                    last_worn=max(days) if days else None,
                    cost_per_wear=cost,
                    currency=item.currency,
                )
            )
        kinds = {item.kind for item in items}
        empty = [slot.value for slot in OUTFIT_SLOTS if slot.value not in kinds]
        if Slot.ONE_PIECE.value in empty and {Slot.TOP.value, Slot.BOTTOM.value} <= kinds:
            empty.remove(Slot.ONE_PIECE.value)  # separates make a one-piece optional
        return WardrobeInsights(
            items=len(items),
            worn_items=sum(1 for u in usage if u.wears),
            never_worn=[u for u in usage if u.wears == 0],
            idle=[u for u in usage if u.last_worn is not None and u.last_worn < cutoff],
            idle_months=idle_months,
            most_worn=sorted((u for u in usage if u.wears), key=lambda u: (-u.wears, u.name))[:10],
            empty_slots=empty,
        )
