"""Outfit boards over the API: made from the real photos of the pieces, kept per person, honest
about not being generated."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.conftest import API, BACKPACK, RED_TEE, Session, add_products_with_photos
from tests.api.test_wardrobe import new_shopper  # noqa: F401  (fixture)


@pytest.fixture(scope="module", autouse=True)
def _photos(shop: TestClient) -> None:
    add_products_with_photos(shop.app)


def test_a_board_is_made_from_the_pieces_photos_and_read_back(shop: TestClient, shopper: Session) -> None:
    response = shop.post(
        f"{API}/images/outfit-board",
        json={"product_ids": [RED_TEE, BACKPACK], "title": "Weekend"},
        headers=shopper.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["generative"] is False
    assert body["pieces"] == ["Ferrari Tee", "Puma Big Cat Backpack"]
    png = shop.get(body["url"], headers=shopper.headers)
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(png.content)) as img:
        board = np.asarray(img.convert("RGB")).astype(int)
    assert board.shape == (1024, 1024, 3)
    # The red tee is on the board: a good share of strongly red pixels.
    red = (board[..., 0] > 150) & (board[..., 1] < 90) & (board[..., 2] < 90)
    assert red.mean() > 0.01


def test_a_board_is_private(shop: TestClient, shopper: Session, new_shopper: Session) -> None:  # noqa: F811
    url = shop.post(
        f"{API}/images/outfit-board", json={"product_ids": [RED_TEE]}, headers=shopper.headers
    ).json()["url"]
    assert shop.get(url, headers=new_shopper.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"product_ids": []}, 422),
        ({"product_ids": ["no-such-product"]}, 404),
        ({"product_ids": [str(i) for i in range(9)]}, 422),
        ({"product_ids": [RED_TEE], "colour": "red"}, 422),
    ],
)
def test_bad_boards_are_refused(
    shop: TestClient, shopper: Session, body: dict[str, object], status: int
) -> None:
    response = shop.post(f"{API}/images/outfit-board", json=body, headers=shopper.headers)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_generated_pictures_are_unavailable_without_a_model(shop: TestClient, shopper: Session) -> None:
    response = shop.post(f"{API}/images/generate", json={"product_ids": [RED_TEE]}, headers=shopper.headers)
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    job = shop.get(f"{API}/images/jobs/00000000-0000-0000-0000-000000000000", headers=shopper.headers)
    assert job.status_code == 503
