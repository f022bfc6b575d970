"""Outfit recommendation on a hand-made catalogue, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from graphs.base import GraphStore, GraphUnavailable
from graphs.embedded import KuzuGraphStore
from graphs.rules import colour_harmony
from graphs.vocabulary import Occasion, Season, Slot
from storage.errors import StoreUnavailable
from storage.sql import Database
from storage.sql.models import OutboxEvent
from tools.recommend import service as service_module
from tools.recommend.behaviour import InteractionKind
from tools.recommend.schemas import OutfitRequest, OutfitResult
from tools.recommend.service import RecommendError, RecommendService


def _ids(result: OutfitResult) -> list[list[str]]:
    return [[item.product_id for item in outfit.items] for outfit in result.outfits]


def _check_outfit_rules(result: OutfitResult) -> None:
    """Every outfit: a one-piece or a top with a bottom, then shoes; one department; no clashing colours."""
    for outfit in result.outfits:
        slots = [item.slot for item in outfit.items]
        assert (Slot.ONE_PIECE in slots) != (Slot.TOP in slots and Slot.BOTTOM in slots)
        assert Slot.SHOES in slots
        assert len(set(slots)) == len(slots)
        colours = [item.colour for item in outfit.items if item.colour]
        for i, a in enumerate(colours):
            for b in colours[i + 1 :]:
                assert a == b or colour_harmony(a, b) is not None, (a, b)
        assert outfit.total_price == pytest.approx(sum(item.price for item in outfit.items))


def test_a_wedding_gets_formal_complete_outfits_in_stock(recommender: RecommendService, user_id: str) -> None:
    result = recommender.recommend_outfits(
        user_id, OutfitRequest(occasion=Occasion.WEDDING, season=Season.FALL, department="women", count=2)
    )
    assert result.outfits, result.shortfall
    _check_outfit_rules(result)
    served = {pid for outfit in _ids(result) for pid in outfit}
    assert "d4" not in served  # sold out
    assert not served & {"m1", "m2", "m3", "m4", "x1"}  # men's pieces and lotion never join a women's outfit
    anchors = [outfit[0] for outfit in _ids(result)]
    assert anchors[0] in {"d1", "t2"}  # the formal pieces lead for a wedding
    assert not {"d3", "t1"} & set(anchors)  # casual day pieces do not suit a wedding
    codes = {reason.code for reason in result.outfits[0].reasons}
    assert {"occasion", "season"} <= codes
    assert result.applied["occasion"] == "wedding"
    assert result.sources.get("rules", 0) >= 1


def test_outfits_are_diverse_and_the_budget_holds(recommender: RecommendService, user_id: str) -> None:
    result = recommender.recommend_outfits(
        user_id, OutfitRequest(occasion=Occasion.EVERYDAY, season=Season.SUMMER, budget_max=800, count=3)
    )
    _check_outfit_rules(result)
    assert len(result.outfits) >= 2
    assert all(outfit.total_price <= 800 for outfit in result.outfits)
    served = [pid for outfit in _ids(result) for pid in outfit]
    assert len(served) == len(set(served))  # no piece in two outfits
    assert any(reason.code == "budget" for reason in result.outfits[0].reasons)


def test_a_budget_in_another_currency_is_converted(recommender: RecommendService, user_id: str) -> None:
    result = recommender.recommend_outfits(
        user_id, OutfitRequest(season=Season.SUMMER, budget_max=100, currency="USD", count=1)
    )
    assert result.applied["budget_max"] == pytest.approx(720.0)
    assert all(outfit.total_price <= 720 for outfit in result.outfits)


def test_cold_weather_adds_an_outer_layer(recommender: RecommendService, user_id: str) -> None:
    result = recommender.recommend_outfits(
        user_id, OutfitRequest(season=Season.FALL, temperature_c=8, department="women", count=1)
    )
    assert result.outfits
    assert Slot.OUTERWEAR in [item.slot for item in result.outfits[0].items]
    assert result.applied["outerwear"] is True


def test_contradictory_colours_are_explained_and_the_nearest_alternative_shown(
    recommender: RecommendService, user_id: str
) -> None:
    request = OutfitRequest(
        season=Season.FALL, colours=["black", "white"], only_colours=True, avoid_colours=["black", "white"]
    )
    result = recommender.recommend_outfits(user_id, request)
    assert [reason.code for reason in result.relaxed] == ["contradictory_colours"]
    assert "no colour at all" in result.relaxed[0].en
    assert result.outfits  # the avoid list wins and other colours are shown instead of nothing
    colours = {item.colour for outfit in result.outfits for item in outfit.items}
    assert not colours & {"Black", "White"}


def test_only_these_colours_means_only_these(recommender: RecommendService, user_id: str) -> None:
    result = recommender.recommend_outfits(
        user_id, OutfitRequest(season=Season.FALL, colours=["black"], only_colours=True, department="women")
    )
    assert result.outfits
    assert {item.colour for outfit in result.outfits for item in outfit.items} == {"Black"}


def test_an_empty_slice_says_which_filter_emptied_it(recommender: RecommendService, user_id: str) -> None:
    result = recommender.recommend_outfits(user_id, OutfitRequest(season=Season.FALL, budget_max=10))
    assert result.outfits == []
    assert result.shortfall is not None
    assert result.shortfall.code == "empty_budget"
    assert "budget" in result.shortfall.en
    assert "按预算筛选后" in result.shortfall.zh


def test_unknown_colours_are_reported_not_guessed(recommender: RecommendService, user_id: str) -> None:
    result = recommender.recommend_outfits(user_id, OutfitRequest(season=Season.FALL, colours=["plaid-ish"]))
    assert [reason.code for reason in result.relaxed] == ["unknown_colour"]


def test_results_are_cached_until_the_person_reacts(recommender: RecommendService, user_id: str) -> None:
    request = OutfitRequest(season=Season.FALL, department="women", count=2)
    first = recommender.recommend_outfits(user_id, request)
    again = recommender.recommend_outfits(user_id, request)
    assert not first.cached
    assert again.cached
    assert _ids(again) == _ids(first)
    recorded = recommender.record(user_id, "b3", InteractionKind.LIKE)
    assert recorded.generation == 1
    after = recommender.recommend_outfits(user_id, request)
    assert not after.cached


def test_likes_change_the_next_recommendation(recommender: RecommendService, user_id: str) -> None:
    request = OutfitRequest(season=Season.SUMMER, department="women", count=1)
    before = recommender.recommend_outfits(user_id, request)
    liked = "t3"
    assert liked not in _ids(before)[0]
    for kind in (InteractionKind.LIKE, InteractionKind.ADD_TO_CART, InteractionKind.TRY_ON):
        recommender.record(user_id, liked, kind)
    after = recommender.recommend_outfits(user_id, request)
    assert not after.cached
    assert after.outfits[0].items[0].colour == "Green"  # their taste for green now leads
    assert recommender.graph.query(
        "MATCH (:User {id: $u})-[:LIKED]->(p:Product) RETURN p.id AS id", {"u": user_id}
    ) == [{"id": liked}]


def test_purchases_become_graph_neighbours(recommender: RecommendService, user_id: str) -> None:
    recommender.record(user_id, "b2", InteractionKind.PURCHASE)  # jeans: tops go with them
    result = recommender.recommend_outfits(user_id, OutfitRequest(season=Season.SUMMER, department="women"))
    assert result.sources.get("graph", 0) >= 1
    owned = recommender.graph.query(
        "MATCH (:User {id: $u})-[:OWNS]->(p:Product) RETURN p.id AS id", {"u": user_id}
    )
    assert owned == [{"id": "b2"}]


def test_every_served_list_is_logged(recommender: RecommendService, user_id: str, database: Database) -> None:
    request = OutfitRequest(season=Season.FALL, count=1)
    recommender.recommend_outfits(user_id, request)
    recommender.recommend_outfits(user_id, request)  # a cache hit is served, so it is logged too
    with database.session() as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "recommendation-logs")).all()
        payloads = [row.payload for row in rows]
    assert len(payloads) == 2
    assert [p["cached"] for p in payloads] == [False, True]
    assert payloads[0]["user_id"] == user_id
    assert payloads[0]["served"]


def test_complete_the_look_builds_around_the_given_piece(recommender: RecommendService, user_id: str) -> None:
    result = recommender.complete_the_look(user_id, "b3", OutfitRequest(season=Season.SUMMER, count=1))
    assert result.outfits
    items = result.outfits[0].items
    assert items[0].product_id == "b3"
    assert {Slot.TOP, Slot.SHOES} <= {item.slot for item in items}


def test_similar_pieces_share_the_slot_and_department(recommender: RecommendService, user_id: str) -> None:
    result = recommender.similar(user_id, "d1", limit=5)
    assert result.method == "graph"  # no vectors indexed in this test
    assert result.items
    assert {item.article_type for item in result.items} == {"Dresses"}
    assert "d4" not in {item.product_id for item in result.items}  # sold out


def test_unknown_and_unsuitable_products_are_refused(recommender: RecommendService, user_id: str) -> None:
    with pytest.raises(RecommendError) as unknown:
        recommender.similar(user_id, "nope")
    assert unknown.value.code == "unknown_product"
    with pytest.raises(RecommendError) as lotion:
        recommender.complete_the_look(user_id, "x1", OutfitRequest())
    assert lotion.value.code == "not_outfit_item"
    with pytest.raises(RecommendError) as interaction:
        recommender.record(user_id, "nope", InteractionKind.LIKE)
    assert interaction.value.code == "unknown_product"


def test_a_restart_reuses_a_current_graph(
    recommender: RecommendService, user_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def service_on(folder: Path) -> RecommendService:
        return RecommendService(
            catalog=recommender.catalog,
            graph=KuzuGraphStore(folder),
            behaviour=recommender.behaviour,
            namespaces=recommender.namespaces,
            goes_with=recommender.goes_with,
        )

    first = service_on(tmp_path / "graph.kuzu")
    first.graph.migrate()
    first.refresh()
    first.record(user_id, "d1", InteractionKind.LIKE)
    first.close()

    def no_rebuild(*_args: object, **_kwargs: object) -> dict[str, int]:
        raise AssertionError("a current graph must not be rebuilt")

    monkeypatch.setattr("tools.recommend.service.rebuild", no_rebuild)
    second = service_on(tmp_path / "graph.kuzu")
    try:
        second.refresh()
        liked = second.graph.query(
            "MATCH (:User {id: $u})-[:LIKED]->(p:Product) RETURN p.id AS id", {"u": user_id}
        )
        assert liked == [{"id": "d1"}]
    finally:
        second.close()


def test_rebuild_graph_reports_what_the_graph_holds(recommender: RecommendService, user_id: str) -> None:
    recommender.record(user_id, "d2", InteractionKind.PURCHASE)
    counts = recommender.rebuild_graph()
    assert counts["Product"] == len(recommender.refresh())  # the 21 outfit pieces, not the lotion
    assert counts["Product"] == 21
    assert counts["OWNS"] == counts["BOUGHT"] == 1  # rebuilt from the interactions table
    assert counts["COLOUR_HARMONY"] > 0


class _Outage:
    """Stands in for the graph store's server going away: every call fails as Neo4j's adapter does."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if not callable(attribute) or name == "close":
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                if name == "ping":
                    return False
                raise GraphUnavailable("the graph server is down")
            return attribute(*args, **kwargs)

        return call


def test_a_graph_outage_degrades_and_the_graph_catches_up_from_sql(
    recommender: RecommendService, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = _Outage(recommender.graph)
    recommender.graph = outage
    request = OutfitRequest(season=Season.SUMMER, department="women", count=1)
    assert recommender.recommend_outfits(user_id, request).degraded == []
    recommender.record(user_id, "t1", InteractionKind.LIKE)
    outage.down = True
    # Served without the graph, flagged, and not cached (the full answer returns with the graph).
    down = recommender.recommend_outfits(user_id, request)
    assert down.degraded == ["graph"]
    assert down.outfits
    assert not recommender.recommend_outfits(user_id, request).cached
    # Acknowledged from SQL while the graph cannot take them.
    recommender.record(user_id, "t1", InteractionKind.UNLIKE)
    recommender.record(user_id, "b2", InteractionKind.PURCHASE)
    outage.down = False
    monkeypatch.setattr(service_module, "REFRESH_EVERY_S", 0.0)
    back = recommender.recommend_outfits(user_id, request)
    assert back.degraded == []
    assert back.sources.get("graph", 0) >= 1  # the purchase made while it was down counts now
    for rel, wanted in (("LIKED", []), ("BOUGHT", [{"id": "b2"}]), ("OWNS", [{"id": "b2"}])):
        query = f"MATCH (:User {{id: $u}})-[:{rel}]->(p:Product) RETURN p.id AS id"
        assert recommender.graph.query(query, {"u": user_id}) == wanted, rel


def test_a_first_start_without_the_graph_is_a_store_outage(
    recommender: RecommendService, user_id: str
) -> None:
    outage = _Outage(recommender.graph)
    outage.down = True
    recommender.graph = outage
    with pytest.raises(StoreUnavailable):
        recommender.recommend_outfits(user_id, OutfitRequest(season=Season.SUMMER, department="women"))
