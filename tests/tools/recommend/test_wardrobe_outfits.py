"""Outfits from the person's own clothes on the hand-made catalogue: owned pieces first, the shop
only for slots the wardrobe cannot fill, each gap with its options; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from graphs.vocabulary import Occasion, Season, Slot
from tools.recommend.owned import owned_table, rotation
from tools.recommend.schemas import OutfitRequest, OwnedPiece
from tools.recommend.service import RecommendError, RecommendService
from tools.recommend.table import SEASONS, OutfitTable

TOP = OwnedPiece(
    id="w-top", name="my white tee", article_type="Tops", colour="White", seasons=[Season.SUMMER]
)
JEANS = OwnedPiece(id="w-jeans", name="my blue jeans", article_type="Jeans", colour="Blue")
SUMMER = OutfitRequest(occasion=Occasion.EVERYDAY, season=Season.SUMMER, department="women", count=1)


def test_owned_pieces_come_first_and_the_shop_fills_the_gap(
    recommender: RecommendService, user_id: str
) -> None:
    result = recommender.wardrobe_outfits(user_id, SUMMER, [TOP, JEANS])
    assert len(result.outfits) == 1
    outfit = result.outfits[0]
    by_slot = {item.slot: item for item in outfit.items}
    assert (by_slot[Slot.TOP].product_id, by_slot[Slot.TOP].owned) == ("w-top", True)
    assert (by_slot[Slot.BOTTOM].product_id, by_slot[Slot.BOTTOM].owned) == ("w-jeans", True)
    shoes = by_slot[Slot.SHOES]
    assert not shoes.owned
    assert shoes.product_id in {"s1", "s2", "s3", "s4"}  # women's shoes from the shop
    gap = next(g for g in outfit.gaps if g.slot == Slot.SHOES)
    options = [o.product_id for o in gap.options]
    assert options[0] == shoes.product_id
    assert 1 <= len(options) <= 3
    assert len(set(options)) == len(options)
    assert outfit.total_price == pytest.approx(sum(i.price for i in outfit.items if not i.owned))
    assert all(i.price == 0 for i in outfit.items if i.owned)


def test_the_budget_applies_to_what_must_be_bought(recommender: RecommendService, user_id: str) -> None:
    cheap = SUMMER.model_copy(update={"budget_max": 150.0})
    result = recommender.wardrobe_outfits(user_id, cheap, [TOP, JEANS])
    assert result.outfits == []  # the cheapest shoes cost 200
    assert result.shortfall is not None
    assert result.shortfall.code in {"short_shoes", "empty_budget"}


def test_out_of_season_pieces_are_left_out(recommender: RecommendService, user_id: str) -> None:
    coat_only = OwnedPiece(
        id="w-coat", name="wool coat", article_type="Tops", colour="Grey", seasons=[Season.WINTER]
    )
    result = recommender.wardrobe_outfits(user_id, SUMMER, [coat_only, JEANS])
    tops = [i for o in result.outfits for i in o.items if i.slot == Slot.TOP]
    assert "w-coat" not in {i.product_id for i in tops}


def test_pieces_not_worn_lately_lead(recommender: RecommendService, user_id: str) -> None:
    worn = TOP.model_copy(update={"id": "w-worn", "name": "worn yesterday", "days_since_worn": 1})
    resting = TOP.model_copy(update={"id": "w-rest", "name": "never worn", "days_since_worn": None})
    result = recommender.wardrobe_outfits(
        user_id, SUMMER.model_copy(update={"count": 2}), [worn, resting, JEANS]
    )
    assert result.outfits[0].items[0].product_id == "w-rest"


def test_a_wardrobe_without_tops_bottoms_or_dresses_is_refused(
    recommender: RecommendService, user_id: str
) -> None:
    bag = OwnedPiece(id="w-bag", name="my tote", article_type="Handbags", colour="Brown")
    with pytest.raises(RecommendError) as refused:
        recommender.wardrobe_outfits(user_id, SUMMER, [bag])
    assert refused.value.code == "empty_wardrobe"


def test_owned_rows_carry_their_own_seasons_and_rest() -> None:
    table = owned_table([TOP, JEANS.model_copy(update={"days_since_worn": 30})])
    assert table.ids == ["wardrobe:w-top", "wardrobe:w-jeans"]
    assert table.seasons[0] == 1 << SEASONS.index(Season.SUMMER)
    assert table.price.tolist() == [0.0, 0.0]
    assert rotation([TOP, JEANS.model_copy(update={"days_since_worn": 30}), None]).tolist() == [1.0, 0.5, 0.0]
    both = OutfitTable.concat(table, table)
    assert len(both) == 4
    assert both.row_of["wardrobe:w-jeans"] == 3  # the later row wins a repeated id
