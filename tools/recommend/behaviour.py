"""What people do with products: the interactions that personalise and rank recommendations.

Each interaction is a SQL row plus an outbox event on ``user-behavior-events`` in the same
transaction, so the stream and the table never disagree. At the same moment the person's
recommendation generation is bumped (their cached lists stop matching) and the live
popularity board is updated, which is how a like changes the next recommendation within
the same second rather than after a batch job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select

from graphs.builder import UserEdge
from graphs.schema import RelType
from graphs.vocabulary import Occasion
from storage.cache.base import Namespaces, or_when_down
from storage.events import Topic
from storage.sql import Database
from storage.sql.models import Interaction, Product
from storage.sql.outbox import add_event

BEHAVIOUR_TOPIC = Topic.USER_BEHAVIOR_EVENTS
POPULAR_BOARD = "popular-products"


class InteractionKind(StrEnum):
    VIEW = "view"
    LIKE = "like"
    UNLIKE = "unlike"
    DISLIKE = "dislike"
    ADD_TO_CART = "add_to_cart"
    TRY_ON = "try_on"
    PURCHASE = "purchase"


#: How much each interaction adds to a product's popularity (a purchase says more than a view).
POPULARITY_WEIGHT: dict[InteractionKind, float] = {
    InteractionKind.VIEW: 1.0,
    InteractionKind.LIKE: 3.0,
    InteractionKind.UNLIKE: -3.0,
    InteractionKind.DISLIKE: -1.0,
    InteractionKind.ADD_TO_CART: 4.0,
    InteractionKind.TRY_ON: 3.0,
    InteractionKind.PURCHASE: 6.0,
}
#: Interactions that count as a positive reaction (the ranker's "rent" signal).
ENGAGED = frozenset(
    {InteractionKind.LIKE, InteractionKind.ADD_TO_CART, InteractionKind.TRY_ON, InteractionKind.PURCHASE}
)


class UnknownProduct(LookupError):
    pass


@dataclass(frozen=True)
class Recorded:
    id: str
    user_id: str
    product_id: str
    kind: InteractionKind
    occasion: Occasion | None
    at: datetime
    generation: int


@dataclass(frozen=True)
class HistoryItem:
    product_id: str
    kind: InteractionKind
    occasion: Occasion | None
    at: datetime


@dataclass
class ItemCounts:
    n: int = 0
    likes: int = 0
    dislikes: int = 0
    occasions: Counter[Occasion] = field(default_factory=Counter)


def _occasion(value: str | None) -> Occasion | None:
    try:
        return Occasion(value) if value else None
    except ValueError:
        return None


class Behaviour:
    def __init__(self, db: Database, namespaces: Namespaces) -> None:
        self.db = db
        self.namespaces = namespaces

    def generation(self, user_id: str) -> int:
        """Bumped on every interaction of the person: part of their cache keys."""
        cache, key = self.namespaces.recommendations.cache, self._generation_key(user_id)
        raw = or_when_down(lambda: cache.get(key), None, "reading a recommendations generation")
        return int(raw) if raw is not None else 0

    def bump(self, user_id: str) -> int:
        """The interaction is already stored; a cache that is down only keeps its lists until their TTL."""
        cache, key = self.namespaces.recommendations.cache, self._generation_key(user_id)
        return or_when_down(lambda: cache.incr(key), 0, "bumping a recommendations generation")

    @staticmethod
    def _generation_key(user_id: str) -> str:
        # Outside the recommendations namespace's TTL: a generation must outlive the lists it invalidates.
        return f"recommendations-generation:{user_id}"

    def record(
        self, user_id: str, product_id: str, kind: InteractionKind, occasion: Occasion | None = None
    ) -> Recorded:
        with self.db.session() as session:
            if session.get(Product, product_id) is None:
                raise UnknownProduct(product_id)
            row = Interaction(
                user_id=user_id,
                product_id=product_id,
                kind=kind.value,
                occasion=occasion.value if occasion else None,
            )
            session.add(row)
            session.flush()
            add_event(
                session,
                topic=BEHAVIOUR_TOPIC,
                type=f"interaction.{kind.value}",
                key=user_id,
                payload={
                    "interaction_id": row.id,
                    "user_id": user_id,
                    "product_id": product_id,
                    "kind": kind.value,
                    "occasion": row.occasion,
                    "at": row.created_at.isoformat(),
                },
            )
            recorded_at = row.created_at
            row_id = row.id
        self.namespaces.leaderboards.zincrby(POPULAR_BOARD, product_id, POPULARITY_WEIGHT[kind])
        generation = self.bump(user_id)
        return Recorded(row_id, user_id, product_id, kind, occasion, recorded_at, generation)

    def history(self, user_id: str, limit: int = 200) -> list[HistoryItem]:
        """The person's latest interactions, newest first."""
        with self.db.session() as session:
            rows = session.execute(
                select(Interaction.product_id, Interaction.kind, Interaction.occasion, Interaction.created_at)
                .where(Interaction.user_id == user_id)
                .order_by(Interaction.created_at.desc(), Interaction.id.desc())
                .limit(limit)
            ).all()
        return [
            HistoryItem(r.product_id, InteractionKind(r.kind), _occasion(r.occasion), r.created_at)
            for r in rows
        ]

    def item_counts(self, product_ids: Sequence[str]) -> dict[str, ItemCounts]:
        """Engagements, likes and occasions per product, over everyone."""
        counts: dict[str, ItemCounts] = {}
        wanted = list(dict.fromkeys(product_ids))
        with self.db.session() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = session.execute(
                    select(Interaction.product_id, Interaction.kind, Interaction.occasion, func.count())
                    .where(Interaction.product_id.in_(chunk))
                    .group_by(Interaction.product_id, Interaction.kind, Interaction.occasion)
                ).all()
                for product_id, kind, occasion, n in rows:
                    item = counts.setdefault(product_id, ItemCounts())
                    if InteractionKind(kind) in ENGAGED:
                        item.n += n
                        known = _occasion(occasion)
                        if known is not None:
                            item.occasions[known] += n
                    if kind == InteractionKind.LIKE:
                        item.likes += n
                    elif kind in (InteractionKind.DISLIKE, InteractionKind.UNLIKE):
                        item.dislikes += n
        return counts

    def popular(self, n: int) -> list[tuple[str, float]]:
        return [
            (pid, score) for pid, score in self.namespaces.leaderboards.ztop(POPULAR_BOARD, n) if score > 0
        ]

    def user_edges(self, batch: int = 5000) -> Iterator[UserEdge]:
        """Current likes, purchases and ownership, for rebuilding the graph: a like undone by
        a later unlike is gone; a purchase means both BOUGHT and OWNS."""
        last: tuple[datetime, str] | None = None
        liked: dict[tuple[str, str], str | None] = {}
        bought: dict[tuple[str, str], str] = {}
        kinds = [InteractionKind.LIKE.value, InteractionKind.UNLIKE.value, InteractionKind.PURCHASE.value]
        while True:
            with self.db.session() as session:
                query = (
                    select(
                        Interaction.id,
                        Interaction.user_id,
                        Interaction.product_id,
                        Interaction.kind,
                        Interaction.created_at,
                    )
                    .where(Interaction.kind.in_(kinds))
                    .order_by(Interaction.created_at, Interaction.id)
                    .limit(batch)
                )
                if last is not None:
                    query = query.where(
                        (Interaction.created_at > last[0])
                        | ((Interaction.created_at == last[0]) & (Interaction.id > last[1]))
                    )
                rows = session.execute(query).all()
            if not rows:
                break
            for row in rows:
                key = (row.user_id, row.product_id)
                if row.kind == InteractionKind.LIKE:
                    liked[key] = row.created_at.isoformat()
                elif row.kind == InteractionKind.UNLIKE:
                    liked.pop(key, None)
                else:
                    bought[key] = row.created_at.isoformat()
            last = (rows[-1].created_at, rows[-1].id)
        for (user, product), at in liked.items():
            yield UserEdge(RelType.LIKED, user, product, at)
        for (user, product), at in bought.items():
            yield UserEdge(RelType.BOUGHT, user, product, at)
            yield UserEdge(RelType.OWNS, user, product, at)
