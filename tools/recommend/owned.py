"""The person's own clothes as outfit-table rows, so the composer can mix them with the catalogue.

Owned pieces cost nothing, are always "in stock" and carry the seasons the person (or the
tagger) gave them instead of the catalogue's season column; their style for the
occasion rules comes from the occasions they are tagged with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphs.vocabulary import Occasion
from rag.documents import ProductDoc
from tools.recommend.schemas import OwnedPiece
from tools.recommend.table import SEASONS, Floats, OutfitTable

#: Prefix of an owned piece's row id, so it can never collide with a product id.
OWNED_PREFIX = "wardrobe:"
#: The catalogue usage an occasion tag implies, most formal first (the first match wins).
_USAGE_OF: tuple[tuple[Occasion, str], ...] = (
    (Occasion.WEDDING, "Formal"),
    (Occasion.FORMAL, "Formal"),
    (Occasion.WORK, "Smart Casual"),
    (Occasion.PARTY, "Party"),
    (Occasion.SPORT, "Sports"),
    (Occasion.VACATION, "Travel"),
)
#: Days after which a piece counts as fully "resting" for the rotation bonus.
REST_DAYS = 60


def usage_of(piece: OwnedPiece) -> str:
    for occasion, usage in _USAGE_OF:
        if occasion in piece.occasions:
            return usage
    return "Casual"


def owned_table(pieces: Sequence[OwnedPiece]) -> OutfitTable:
    docs = [
        ProductDoc(
            id=f"{OWNED_PREFIX}{p.id}",
            name=p.name,
            article_type=p.article_type,
            colour=p.colour,
            usage=usage_of(p),
            price=0.0,
            in_stock=True,
        )
        for p in pieces
    ]
    table = OutfitTable.build(docs)
    by_id = {f"{OWNED_PREFIX}{p.id}": p for p in pieces}
    for row, row_id in enumerate(table.ids):
        seasons = by_id[row_id].seasons
        if seasons:
            table.seasons[row] = sum(1 << SEASONS.index(s) for s in set(seasons))
    return table


def rotation(pieces_by_row: Sequence[OwnedPiece | None]) -> Floats:
    """1 for pieces never worn or resting for ``REST_DAYS``, less for those worn lately, so
    suggestions bring out what hangs unworn instead of repeating yesterday's outfit."""
    out = np.zeros(len(pieces_by_row))
    for row, piece in enumerate(pieces_by_row):
        if piece is None:
            continue
        days = piece.days_since_worn
        out[row] = 1.0 if days is None else min(days, REST_DAYS) / REST_DAYS
    return out
