"""The vision server over real HTTP, and the wardrobe using it (and surviving its absence)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from model_servers.vision.app import create_app
from tests.conftest import make_settings
from tests.model_servers.serving import free_port, live_server
from tools.wardrobe.images import ImageRejected, load_image
from tools.wardrobe.runtime import build_segmenter
from tools.wardrobe.segment import ClassicalSegmenter, FallbackSegmenter, HttpSegmenter

THUMBS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"


def _rgb(item_id: int) -> np.ndarray:
    return load_image((THUMBS / f"{item_id}.jpg").read_bytes()).rgb


@pytest.fixture(scope="module")
def vision_server() -> Iterator[str]:
    with live_server(create_app(ClassicalSegmenter(), "grabcut")) as url:
        yield url


def test_the_http_segmenter_gets_the_servers_mask(vision_server: str) -> None:
    rgb = _rgb(1592)
    remote = HttpSegmenter(vision_server).segment(rgb)
    local = ClassicalSegmenter().segment(rgb)
    assert remote.method == "model-server"
    assert remote.person is False
    assert remote.mask.shape == rgb.shape[:2]
    assert (remote.mask == local.mask).mean() > 0.99


def test_no_garment_on_the_server_is_a_refusal_not_an_error(vision_server: str) -> None:
    flat = np.full((120, 120, 3), 90, dtype=np.uint8)
    with pytest.raises(ImageRejected) as refused:
        HttpSegmenter(vision_server).segment(flat)
    assert refused.value.code == "no_garment"


def test_a_down_server_falls_back_to_the_embedded_segmenter() -> None:
    rgb = _rgb(1592)
    fallback = FallbackSegmenter(
        HttpSegmenter(f"http://127.0.0.1:{free_port()}", timeout_s=2), ClassicalSegmenter()
    )
    assert fallback.segment(rgb).method == "grabcut"


def test_settings_choose_the_server(tmp_path: Path, vision_server: str) -> None:
    settings = make_settings(tmp_path, wardrobe={"segmenter": "model_server", "segmenter_url": vision_server})
    assert build_segmenter(settings).segment(_rgb(1592)).method == "model-server"
    with pytest.raises(ValueError, match="SEGMENTER_URL"):
        make_settings(tmp_path, wardrobe={"segmenter": "model_server"})


def test_bad_uploads_get_the_apis_codes() -> None:
    with TestClient(create_app(ClassicalSegmenter(), "grabcut")) as client:
        assert client.get("/health").json() == {"status": "ok", "segmenter": "grabcut"}
        text = client.post("/v1/segment", files={"image": ("a.txt", b"hello there", "text/plain")})
        assert text.status_code == 415
        assert text.json()["code"] == "not_an_image"
        photo = (THUMBS / "1592.jpg").read_bytes()
        ok = client.post("/v1/segment", files={"image": ("p.jpg", photo, "image/jpeg")})
        assert ok.status_code == 200
        assert ok.headers["content-type"] == "image/png"
        assert ok.headers["X-Segment-Method"] == "grabcut"
