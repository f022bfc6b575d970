"""The try-on API on the embedded stack (in-process worker, geometric CPU engine) with the
300-product shop: a photo in, a job out at once, its progress as Server-Sent Events, the picture
at the end, and every request that must be refused before a job exists."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as skdata

from tests.api.conftest import API, BACKPACK, RED_TEE, Session, add_products_with_photos
from tests.api.test_wardrobe import new_shopper  # noqa: F401  (fixture)
from tools.wardrobe.images import encode_jpeg

#: Real photos shipped with scikit-image: one person from the waist up, and a cup of coffee.
ASTRONAUT: np.ndarray = skdata.astronaut()  # type: ignore[no-untyped-call]
COFFEE: np.ndarray = skdata.coffee()  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module", autouse=True)
def _photos(shop: TestClient) -> None:
    add_products_with_photos(shop.app)


@pytest.fixture(scope="module")
def me() -> bytes:
    return encode_jpeg(ASTRONAUT, quality=95)


def submit(client: TestClient, user: Session, photo: bytes | None = None, **form: str) -> Any:
    files = {"photo": ("me.jpg", photo, "image/jpeg")} if photo is not None else None
    return client.post(f"{API}/tryon/jobs", files=files, data=form, headers=user.headers)


def follow(client: TestClient, user: Session, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event of the job's stream, until it ends."""
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("GET", f"{API}/tryon/jobs/{job_id}/events", headers=user.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and name is not None:
                events.append((name, json.loads(line.split(":", 1)[1])))
    return events


def test_a_try_on_is_queued_followed_and_its_picture_served(
    shop: TestClient, shopper: Session, me: bytes
) -> None:
    response = submit(shop, shopper, me, product_id=RED_TEE)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in {"queued", "running", "succeeded"}
    assert job["garment"] == {"product_id": RED_TEE, "name": job["garment"]["name"]}
    events = follow(shop, shopper, job["id"])
    assert events[-1][0] == "done"
    done = events[-1][1]
    assert done["status"] == "succeeded", done
    assert done["engine"] == "geometric-cpu"
    assert done["has_result"] is True
    assert all(name == "progress" for name, _ in events[:-1])
    picture = shop.get(f"{API}/tryon/jobs/{job['id']}/result", headers=shopper.headers)
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(picture.content)) as img:
        result = np.asarray(img.convert("RGB")).astype(int)
    assert result.shape == ASTRONAUT.shape
    # The picture is the person's photo, changed where the garment went and kept elsewhere.
    original = ASTRONAUT.astype(int)
    changed = np.abs(result - original).sum(axis=2) > 60
    assert 0.03 < changed.mean() < 0.6
    # The same request again is the same job, not a second one.
    again = submit(shop, shopper, me, product_id=RED_TEE)
    assert again.status_code == 200
    assert again.json()["id"] == job["id"]
    listed = shop.get(f"{API}/tryon/jobs", headers=shopper.headers).json()
    assert [j["id"] for j in listed] == [job["id"]]
    # A finished job cannot be cancelled.
    cancel = shop.post(f"{API}/tryon/jobs/{job['id']}/cancel", headers=shopper.headers)
    assert cancel.status_code == 409
    assert cancel.json()["code"] == "not_cancellable"


def test_a_photo_sent_earlier_can_be_tried_on(shop: TestClient, shopper: Session, me: bytes) -> None:
    upload = shop.post(
        f"{API}/uploads", files={"file": ("me.jpg", me, "image/jpeg")}, headers=shopper.headers
    )
    assert upload.status_code == 201
    response = submit(shop, shopper, upload_id=upload.json()["upload_id"], product_id=RED_TEE)
    assert response.status_code == 202, response.text
    assert follow(shop, shopper, response.json()["id"])[-1][1]["status"] == "succeeded"


def test_nobody_else_sees_a_job(shop: TestClient, shopper: Session, new_shopper: Session, me: bytes) -> None:  # noqa: F811
    job = submit(shop, shopper, me, product_id=RED_TEE).json()
    for method, path in (
        ("GET", f"/tryon/jobs/{job['id']}"),
        ("GET", f"/tryon/jobs/{job['id']}/result"),
        ("GET", f"/tryon/jobs/{job['id']}/events"),
        ("POST", f"/tryon/jobs/{job['id']}/cancel"),
    ):
        response = shop.request(method, f"{API}{path}", headers=new_shopper.headers)
        assert response.status_code == 404, (path, response.text)
    assert shop.get(f"{API}/tryon/jobs", headers=new_shopper.headers).json() == []


def _two_people(photo: bytes) -> bytes:
    with Image.open(io.BytesIO(photo)) as img:
        rgb = np.asarray(img.convert("RGB"))
    return encode_jpeg(np.concatenate([rgb, rgb[:, ::-1]], axis=1))


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("no person", 422, "no_person"),
        ("two people", 422, "several_people"),
        ("a backpack", 422, "wrong_garment_type"),
        ("no such product", 404, "not_found"),
        ("not a photo", 415, "not_an_image"),
        ("a broken photo", 422, "corrupt"),
        ("too big", 413, None),
    ],
)
def test_a_request_that_cannot_work_is_refused_and_leaves_no_job(
    shop: TestClient, shopper: Session, me: bytes, case: str, status: int, code: str | None
) -> None:
    photo, product = {
        "no person": (encode_jpeg(COFFEE), RED_TEE),
        "two people": (_two_people(me), RED_TEE),
        "a backpack": (me, BACKPACK),
        "no such product": (me, "no-such-product"),
        "not a photo": (b"just some text, not a photo", RED_TEE),
        "a broken photo": (me[: len(me) // 2], RED_TEE),
        "too big": (me + b"\0" * (11 * 1024 * 1024), RED_TEE),
    }[case]
    response = submit(shop, shopper, photo, product_id=product)
    assert response.status_code == status, response.text
    body = response.json()
    if code is not None:
        assert body["code"] == code
    assert body["detail"]
    assert shop.get(f"{API}/tryon/jobs", headers=shopper.headers).json() == []


@pytest.mark.parametrize(
    "form",
    [
        {"product_id": RED_TEE, "wardrobe_item_id": "00000000-0000-0000-0000-000000000000"},
        {},
    ],
)
def test_exactly_one_garment_must_be_named(
    shop: TestClient, shopper: Session, me: bytes, form: dict[str, str]
) -> None:
    response = submit(shop, shopper, me, **form)
    assert response.status_code == 422
    assert "exactly one garment" in response.json()["detail"]


def test_a_photo_must_be_sent_one_way(shop: TestClient, shopper: Session) -> None:
    response = submit(shop, shopper, None, product_id=RED_TEE)
    assert response.status_code == 422
    assert "photo or upload_id" in response.json()["detail"]
