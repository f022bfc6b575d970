"""The wardrobe API on the embedded stack with the 300-product shop: photos in, tags, outfits from
one's own clothes with gaps filled from the shop, the wear log, and every kind of bad photo."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zlib
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.conftest import API, Session, sign_in

THUMBNAILS = Path(__file__).resolve().parents[2] / "data" / "catalog" / "thumbnails"


@cache
def _index() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (THUMBNAILS / "index.jsonl").read_text().splitlines()]


@pytest.fixture
def new_shopper(shop: TestClient, shopper: Session, shop_admin: Session) -> Session:
    """A second customer, to check one person never reaches another's wardrobe."""
    email = f"other-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "password-123", "role": "user"}
    assert shop.post(f"{API}/users", json=body, headers=shop_admin.headers).status_code == 201
    return sign_in(shop, email, "password-123")


def photo(article_type: str, nth: int = 0) -> bytes:
    rows = [r for r in _index() if r["articleType"] == article_type]
    return (THUMBNAILS / f"{rows[nth]['id']}.jpg").read_bytes()


def add(client: TestClient, user: Session, data: bytes, caption: str | None = None, **form: Any) -> Any:
    fields = {k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()}
    if caption is not None:
        fields["caption"] = caption
    return client.post(
        f"{API}/wardrobe/items",
        files={"photo": ("p.jpg", data, "image/jpeg")},
        data=fields,
        headers=user.headers,
    )


def count(client: TestClient, user: Session) -> int:
    response = client.get(f"{API}/wardrobe/items", headers=user.headers)
    assert response.status_code == 200
    return len(response.json())


def test_a_photo_is_tagged_stored_and_served_back(shop: TestClient, shopper: Session) -> None:
    response = add(shop, shopper, photo("Sports Shoes"), caption="my running shoes")
    assert response.status_code == 201, response.text
    body = response.json()
    item = body["item"]
    assert item["category"] == "Sports Shoes"
    assert item["kind"] == "shoes"
    assert item["colour"] is not None
    assert item["colours"][0]["share"] > 0
    assert item["pattern"] in {"solid", "striped", "checked", "dotted", "floral", "printed"}
    assert item["has_photo"] is True
    assert item["name"] == "my running shoes"
    assert set(body["timings_ms"]) >= {"segment", "colours"}

    stored = shop.get(f"{API}/wardrobe/items/{item['id']}/photo", headers=shopper.headers)
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(stored.content)).format == "JPEG"
    cutout = shop.get(f"{API}/wardrobe/items/{item['id']}/photo?variant=cutout", headers=shopper.headers)
    image = Image.open(io.BytesIO(cutout.content))
    assert image.mode == "RGBA"
    alpha = image.getchannel("A")
    assert alpha.getextrema() == (0, 255)  # background removed, garment kept


def test_a_duplicate_photo_is_refused_unless_allowed(shop: TestClient, shopper: Session) -> None:
    first = add(shop, shopper, photo("Backpacks"))
    assert first.status_code == 201
    again = add(shop, shopper, photo("Backpacks"))
    assert again.status_code == 409
    assert again.json()["item_id"] == first.json()["item"]["id"]
    assert count(shop, shopper) == 1
    allowed = add(shop, shopper, photo("Backpacks"), allow_duplicate=True)
    assert allowed.status_code == 201
    assert count(shop, shopper) == 2


def _bomb_png() -> bytes:
    """A valid 1x1 PNG whose header claims 30000 x 30000 pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data[12:29]
    patched = ihdr[:4] + struct.pack(">II", 30000, 30000) + ihdr[12:]
    data[12:29] = patched
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(patched)) & 0xFFFFFFFF)
    return bytes(data)


def _flat_grey() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (128, 128, 128)).save(buffer, "JPEG")
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), "red").save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda: b"this is not a photo at all", 415, "not_an_image"),
        (_gif, 415, "unsupported_format"),
        (lambda: photo("Tshirts")[:2000], 422, "corrupt"),
        (_bomb_png, 422, "too_many_pixels"),
        (_flat_grey, 422, "no_garment"),
        (lambda: b"", 422, "empty"),
    ],
    ids=["text", "gif", "truncated", "bomb", "no-garment", "empty"],
)
def test_bad_photos_are_refused_with_a_reason_and_nothing_is_stored(
    shop: TestClient, shopper: Session, make: Any, status: int, code: str
) -> None:
    response = add(shop, shopper, make())
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert count(shop, shopper) == 0


def test_a_photo_over_the_size_limit_is_413(shop: TestClient, shopper: Session) -> None:
    huge = photo("Tshirts") + b"\0" * (11 * 1024 * 1024)
    response = add(shop, shopper, huge)
    assert response.status_code == 413
    assert "MB" in response.json()["detail"]
    assert count(shop, shopper) == 0


def test_a_50_mb_upload_is_refused_before_it_is_read_whole(shop: TestClient, shopper: Session) -> None:
    response = add(shop, shopper, b"\xff" * (52 * 1024 * 1024))
    assert response.status_code == 413
    assert count(shop, shopper) == 0


def test_bulk_import_reports_progress_per_photo_and_skips_bad_ones(
    shop: TestClient, shopper: Session
) -> None:
    files = [
        ("photos", ("tee.jpg", photo("Tshirts", 3), "image/jpeg")),
        ("photos", ("junk.txt", b"not an image", "text/plain")),
        ("photos", ("shorts.jpg", photo("Shorts"), "image/jpeg")),
    ]
    response = shop.post(f"{API}/wardrobe/items/bulk", files=files, headers=shopper.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(r["file"], r["done"], r["total"], r["ok"]) for r in lines[:3]] == [
        ("tee.jpg", 1, 3, True),
        ("junk.txt", 2, 3, False),
        ("shorts.jpg", 3, 3, True),
    ]
    assert lines[1]["code"] == "not_an_image"
    assert lines[3] == {"summary": True, "added": 2, "refused": 1}
    assert count(shop, shopper) == 2


def test_tags_are_editable_and_can_be_renamed_and_merged(shop: TestClient, shopper: Session) -> None:
    item = add(shop, shopper, photo("Tshirts", 5)).json()["item"]
    edited = shop.patch(
        f"{API}/wardrobe/items/{item['id']}",
        json={"category": "Shirts", "colour": "Navy Blue", "tags": ["gym", "gift"], "seasons": ["summer"]},
        headers=shopper.headers,
    )
    assert edited.status_code == 200
    body = edited.json()
    assert (body["category"], body["colour"], body["tags"], body["seasons"]) == (
        "Shirts",
        "Navy Blue",
        ["gym", "gift"],
        ["summer"],
    )
    assert body["auto_tags"]["colour"] == item["colour"]  # the tagger's guess is kept beside the edit
    other = shop.post(
        f"{API}/wardrobe/items/manual",
        json={"name": "old joggers", "tags": ["workout"]},
        headers=shopper.headers,
    ).json()
    merged = shop.post(
        f"{API}/wardrobe/tags/merge",
        json={"sources": ["gym", "workout"], "target": "sport"},
        headers=shopper.headers,
    )
    assert merged.json() == {"items_changed": 2}
    assert shop.get(f"{API}/wardrobe/tags", headers=shopper.headers).json() == {"gift": 1, "sport": 2}
    assert shop.get(f"{API}/wardrobe/items/{other['id']}", headers=shopper.headers).json()["tags"] == [
        "sport"
    ]
    bad = shop.patch(
        f"{API}/wardrobe/items/{item['id']}", json={"category": "Spaceships"}, headers=shopper.headers
    )
    assert bad.status_code == 422


def test_someone_elses_item_reads_as_missing(
    shop: TestClient, shopper: Session, new_shopper: Session
) -> None:
    item = add(shop, shopper, photo("Handbags")).json()["item"]
    for method, path in (
        ("get", f"/wardrobe/items/{item['id']}"),
        ("get", f"/wardrobe/items/{item['id']}/photo"),
        ("patch", f"/wardrobe/items/{item['id']}"),
        ("delete", f"/wardrobe/items/{item['id']}"),
    ):
        kwargs: dict[str, Any] = {"json": {"name": "mine now"}} if method == "patch" else {}
        response = getattr(shop, method)(f"{API}{path}", headers=new_shopper.headers, **kwargs)
        assert response.status_code == 404, (method, path)
    assert count(shop, shopper) == 1


def test_wear_log_calendar_and_cost_per_wear(shop: TestClient, shopper: Session) -> None:
    tee = shop.post(
        f"{API}/wardrobe/items/manual",
        json={"name": "white tee", "category": "Tshirts", "colour": "White", "price": 120, "currency": "CNY"},
        headers=shopper.headers,
    ).json()
    jeans = shop.post(
        f"{API}/wardrobe/items/manual",
        json={"name": "blue jeans", "category": "Jeans", "colour": "Blue", "price": 400, "currency": "CNY"},
        headers=shopper.headers,
    ).json()
    coat = shop.post(
        f"{API}/wardrobe/items/manual",
        json={"name": "wool coat", "category": "Jackets"},
        headers=shopper.headers,
    ).json()
    today = date.today()
    for days_ago in (1, 2, 3):
        logged = shop.post(
            f"{API}/wardrobe/wear",
            json={
                "item_ids": [tee["id"], jeans["id"]],
                "worn_on": (today - timedelta(days=days_ago)).isoformat(),
            },
            headers=shopper.headers,
        )
        assert logged.status_code == 201
        assert all(e["created"] for e in logged.json())
    again = shop.post(
        f"{API}/wardrobe/wear",
        json={"item_ids": [tee["id"]], "worn_on": (today - timedelta(days=1)).isoformat()},
        headers=shopper.headers,
    )
    assert [e["created"] for e in again.json()] == [False]
    future = shop.post(
        f"{API}/wardrobe/wear",
        json={"item_ids": [tee["id"]], "worn_on": (today + timedelta(days=2)).isoformat()},
        headers=shopper.headers,
    )
    assert future.status_code == 422

    calendar = shop.get(
        f"{API}/wardrobe/calendar",
        params={"start": (today - timedelta(days=7)).isoformat(), "end": today.isoformat()},
        headers=shopper.headers,
    ).json()
    assert len(calendar) == 3
    assert all(sorted(day["outfits"][0]) == sorted([tee["id"], jeans["id"]]) for day in calendar)

    insights = shop.get(f"{API}/wardrobe/insights", headers=shopper.headers).json()
    usage = {u["item_id"]: u for u in insights["most_worn"]}
    assert usage[tee["id"]]["wears"] == 3
    assert usage[tee["id"]]["cost_per_wear"] == 40.0
    assert usage[jeans["id"]]["cost_per_wear"] == pytest.approx(133.33)
    assert [u["item_id"] for u in insights["never_worn"]] == [coat["id"]]
    assert "shoes" in insights["empty_slots"]

    idle = shop.get(f"{API}/wardrobe/items", params={"idle_months": 1}, headers=shopper.headers).json()
    assert [i["id"] for i in idle] == [coat["id"]]


def test_outfits_from_the_wardrobe_fill_gaps_from_the_shop(shop: TestClient, shopper: Session) -> None:
    for body in (
        {"name": "white tee", "category": "Tshirts", "colour": "White", "seasons": ["summer"]},
        {"name": "black shorts", "category": "Shorts", "colour": "Black", "seasons": ["summer"]},
    ):
        assert (
            shop.post(f"{API}/wardrobe/items/manual", json=body, headers=shopper.headers).status_code == 201
        )
    response = shop.post(
        f"{API}/wardrobe/outfits",
        json={"occasion": "everyday", "season": "summer", "count": 1},
        headers=shopper.headers,
    )
    assert response.status_code == 200, response.text
    outfit = response.json()["outfits"][0]
    owned = [i for i in outfit["items"] if i["owned"]]
    bought = [i for i in outfit["items"] if not i["owned"]]
    assert {i["name"] for i in owned} == {"white tee", "black shorts"}
    assert all(i["price"] == 0 for i in owned)
    assert any(i["slot"] == "shoes" for i in bought)
    shoes_gap = next(g for g in outfit["gaps"] if g["slot"] == "shoes")
    assert 1 <= len(shoes_gap["options"]) <= 3
    assert all(not o["owned"] and o["price"] > 0 for o in shoes_gap["options"])
    assert outfit["total_price"] == pytest.approx(sum(i["price"] for i in bought))


def test_outfits_from_an_empty_wardrobe_say_why(shop: TestClient, shopper: Session) -> None:
    response = shop.post(f"{API}/wardrobe/outfits", json={"occasion": "work"}, headers=shopper.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "empty_wardrobe"


def test_a_photo_sent_in_chat_is_added_to_the_wardrobe(shop: TestClient, shopper: Session) -> None:
    upload = shop.post(
        f"{API}/uploads",
        files={"file": ("tee.jpg", photo("Tshirts", 7), "image/jpeg")},
        headers=shopper.headers,
    )
    assert upload.status_code == 201, upload.text
    upload_id = upload.json()["upload_id"]
    turn = shop.post(
        f"{API}/chat",
        json={"message": "", "attachments": [upload_id], "locale": "en"},
        headers=shopper.headers,
    )
    assert turn.status_code == 200, turn.text
    reply = turn.json()["messages"][-1]["text"]
    assert "Added to your wardrobe" in reply
    items = shop.get(f"{API}/wardrobe/items", headers=shopper.headers).json()
    assert len(items) == 1
    assert items[0]["has_photo"] is True


def test_someone_elses_upload_cannot_be_used(
    shop: TestClient, shopper: Session, new_shopper: Session
) -> None:
    upload_id = shop.post(
        f"{API}/uploads",
        files={"file": ("tee.jpg", photo("Tshirts", 8), "image/jpeg")},
        headers=shopper.headers,
    ).json()["upload_id"]
    turn = shop.post(
        f"{API}/chat",
        json={"message": "add this to my wardrobe", "attachments": [upload_id], "locale": "en"},
        headers=new_shopper.headers,
    )
    assert turn.status_code == 200
    assert "could not add" in turn.json()["messages"][-1]["text"]
    assert count(shop, new_shopper) == 0


def test_a_sent_photo_can_be_shown_again_to_its_owner_only(
    shop: TestClient, shopper: Session, new_shopper: Session
) -> None:
    data = photo("Tshirts", 9)
    upload_id = shop.post(
        f"{API}/uploads", files={"file": ("tee.jpg", data, "image/jpeg")}, headers=shopper.headers
    ).json()["upload_id"]
    shown = shop.get(f"{API}/uploads/{upload_id}", headers=shopper.headers)
    assert shown.status_code == 200
    assert shown.content == data
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["cache-control"] == "private, max-age=86400"
    for who, upload in ((new_shopper, upload_id), (shopper, "0" * 32), (shopper, "not-an-id")):
        refused = shop.get(f"{API}/uploads/{upload}", headers=who.headers)
        assert refused.status_code == 404, refused.text
        assert refused.json()["code"] == "unknown_upload"
    assert shop.get(f"{API}/uploads/{upload_id}").status_code == 401
