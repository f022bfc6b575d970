"""The wardrobe service on SQLite and PostgreSQL: what a photo leaves behind (or, refused, does
not), the wear log's one-row-per-day rule, deletion, and the person's boundaries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from storage.objects.local import LocalObjectStore
from storage.sql import Database
from storage.sql.models import OutboxEvent, WearLog
from tools.profile.service import AccountService
from tools.wardrobe.classify import default_caption_classifier
from tools.wardrobe.images import ImageRejected
from tools.wardrobe.schemas import ItemCreate, ItemUpdate, WardrobeFilter
from tools.wardrobe.segment import default_segmenter
from tools.wardrobe.service import WardrobeError, WardrobeService
from tools.wardrobe.tagging import Tagger

THUMBNAILS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"
TODAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(default_segmenter(), None, default_caption_classifier())


@pytest.fixture
def people(database: Database) -> tuple[str, str]:
    accounts = AccountService(database)
    ann = accounts.create_user(email="ann@example.com", password="a-long-password-1")
    bob = accounts.create_user(email="bob@example.com", password="a-long-password-2")
    return ann.id, bob.id


@pytest.fixture
def wardrobe(database: Database, tmp_path: Path, tagger: Tagger) -> WardrobeService:
    return WardrobeService(database, LocalObjectStore(tmp_path / "objects"), tagger, today=lambda: TODAY)


def _thumb(name: str) -> bytes:
    return (THUMBNAILS / name).read_bytes()


def _objects(service: WardrobeService) -> list[str]:
    return [info.key for info in service.objects.list("wardrobe/")]


def test_a_photo_leaves_a_row_two_objects_and_an_event(wardrobe, people, database) -> None:
    ann, _ = people
    added = wardrobe.add_photo(ann, _thumb("10002.jpg"), caption="my blue cricket jersey")
    item = added.item
    assert item.category == "Tshirts"
    assert sorted(_objects(wardrobe)) == [
        f"wardrobe/{ann}/{item.id}/cutout.png",
        f"wardrobe/{ann}/{item.id}/photo.jpg",
    ]
    with database.session() as session:
        events = [e for e in session.query(OutboxEvent).all() if e.type == "wardrobe.item_added"]
    assert [e.payload["item_id"] for e in events] == [item.id]


def test_a_refused_photo_stores_nothing(wardrobe, people) -> None:
    ann, _ = people
    with pytest.raises(ImageRejected) as refused:
        wardrobe.add_photo(ann, b"GIF89a not really")
    assert refused.value.code in {"not_an_image", "unsupported_format"}
    assert _objects(wardrobe) == []
    assert wardrobe.count(ann) == 0


def test_a_failed_row_write_removes_the_stored_objects(wardrobe, people) -> None:
    ann, _ = people
    wardrobe.add_photo(ann, _thumb("10002.jpg"))
    # No such account: the photo is tagged and stored, then the row breaks the foreign key.
    with pytest.raises(IntegrityError):
        wardrobe.add_photo("00000000-0000-0000-0000-000000000000", _thumb("10005.jpg"))
    assert len(_objects(wardrobe)) == 2  # the first item's photo and cut-out only


def test_the_wardrobe_cap_refuses_more_items(database, tmp_path, tagger, people) -> None:
    ann, _ = people
    small = WardrobeService(database, LocalObjectStore(tmp_path / "o"), tagger, max_items=1)
    small.add_manual(ann, ItemCreate(name="white tee"))
    with pytest.raises(WardrobeError) as full:
        small.add_photo(ann, _thumb("10002.jpg"))
    assert full.value.code == "wardrobe_full"
    assert [info.key for info in small.objects.list("wardrobe/")] == []


def test_described_items_are_filed_like_photos(wardrobe, people) -> None:
    ann, _ = people
    blazer = wardrobe.add_manual(ann, ItemCreate(name="my navy blazer"))
    sneakers = wardrobe.add_manual(ann, ItemCreate(name="白色运动鞋"))
    tank = wardrobe.add_manual(ann, ItemCreate(name="old tank top"))
    assert (blazer.category, blazer.colour, blazer.kind) == ("Blazers", "Navy Blue", "outerwear")
    assert (sneakers.category, sneakers.colour) == ("Sports Shoes", "White")
    assert tank.colour is None  # "tank" is not "tan"


def test_wear_is_one_row_per_item_and_day(wardrobe, people, database) -> None:
    ann, _ = people
    tee = wardrobe.add_manual(ann, ItemCreate(name="white tee", category="Tshirts", price=90, currency="CNY"))
    first = wardrobe.log_wear(ann, [tee.id], TODAY)
    again = wardrobe.log_wear(ann, [tee.id, tee.id], TODAY)
    assert [e.created for e in first] == [True]
    assert [e.created for e in again] == [False]
    with database.session() as session:
        assert session.query(WearLog).count() == 1
    wardrobe.log_wear(ann, [tee.id], TODAY - timedelta(days=1))
    insights = wardrobe.insights(ann)
    assert [(u.wears, u.cost_per_wear) for u in insights.most_worn] == [(2, 45.0)]
    assert wardrobe.unlog_wear(ann, tee.id, TODAY) is True
    assert wardrobe.unlog_wear(ann, tee.id, TODAY) is False
    with pytest.raises(WardrobeError):
        wardrobe.log_wear(ann, [tee.id], TODAY + timedelta(days=1))
    with pytest.raises(WardrobeError):
        wardrobe.log_wear(ann, [tee.id], TODAY - timedelta(days=400))


def test_idle_and_never_worn_items(wardrobe, people) -> None:
    ann, _ = people
    worn = wardrobe.add_manual(ann, ItemCreate(name="white tee", category="Tshirts"))
    resting = wardrobe.add_manual(ann, ItemCreate(name="linen shirt", category="Shirts"))
    never = wardrobe.add_manual(ann, ItemCreate(name="something from the market"))
    wardrobe.log_wear(ann, [worn.id], TODAY - timedelta(days=3))
    wardrobe.log_wear(ann, [resting.id], TODAY - timedelta(days=200))
    idle = wardrobe.items(ann, WardrobeFilter(idle_months=3))
    assert {i.id for i in idle} == {resting.id, never.id}
    insights = wardrobe.insights(ann, idle_months=3)
    assert [u.item_id for u in insights.idle] == [resting.id]
    assert [u.item_id for u in insights.never_worn] == [never.id]
    pieces = {p.id: p.days_since_worn for p in wardrobe.owned_pieces(ann)}
    assert pieces == {worn.id: 3, resting.id: 200}  # the last has no category, so outfits cannot use it


def test_one_person_never_reaches_anothers_items(wardrobe, people):
    ann, bob = people
    tee = wardrobe.add_manual(ann, ItemCreate(name="white tee", tags=["gym"]))
    attempts: list[Callable[[], object]] = [
        lambda: wardrobe.get(bob, tee.id),
        lambda: wardrobe.update(bob, tee.id, ItemUpdate(name="mine")),
        lambda: wardrobe.delete(bob, tee.id),
        lambda: wardrobe.log_wear(bob, [tee.id]),
        lambda: wardrobe.merge_tags(bob, ["gym"], "sport"),
    ]
    for attempt in attempts:
        with pytest.raises(WardrobeError) as refused:
            attempt()
        assert refused.value.code == "not_found"
    assert wardrobe.get(ann, tee.id).tags == ["gym"]


def test_deleting_an_item_removes_its_photos_and_wear(wardrobe, people, database) -> None:
    ann, _ = people
    item = wardrobe.add_photo(ann, _thumb("10005.jpg")).item
    wardrobe.log_wear(ann, [item.id], TODAY)
    wardrobe.delete(ann, item.id)
    assert _objects(wardrobe) == []
    with database.session() as session:
        assert session.query(WearLog).count() == 0
    with pytest.raises(WardrobeError):
        wardrobe.get(ann, item.id)
