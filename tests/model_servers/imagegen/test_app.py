"""The text-to-image server: PNGs of the asked size, refusals as ``{code, detail}``, and
concurrent requests of one shape generated in one batch."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from model_servers.imagegen.__main__ import build_app, parser
from model_servers.imagegen.app import create_app
from model_servers.imagegen.pipeline import TextToImage
from model_servers.imagegen.protocol import IMAGES_PATH, MODEL_HEADER, TIMINGS_HEADER, ImageRequest
from model_servers.imagegen.serving import ImageGenServing
from tools.imagegen.prompt import PromptPiece, outfit_prompt
from tools.wardrobe.images import encode_png


@pytest.fixture(scope="module")
def pipe() -> TextToImage:
    return TextToImage.random("tiny", seed=0, controls=("pose",), device="cpu")


@pytest.fixture(scope="module")
def client(pipe: TextToImage) -> Iterator[TestClient]:
    with TestClient(create_app(pipe, max_batch=1)) as c:
        yield c


def _body(**kwargs: object) -> dict[str, object]:
    body: dict[str, object] = {"prompt": "a camel coat", "width": 256, "height": 264, "steps": 1, "seed": 3}
    body.update(kwargs)
    return body


def _wire(**kwargs: object) -> ImageRequest:
    return ImageRequest.model_validate(_body(**kwargs))


def _png(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def test_a_prompt_gives_a_png_of_the_asked_size(client: TestClient) -> None:
    response = client.post(IMAGES_PATH, json=_body())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers[MODEL_HEADER] == "random-tiny"
    timings = json.loads(response.headers[TIMINGS_HEADER])
    assert {"denoise", "decode", "batch_size"} <= set(timings)
    assert _png(response.content).shape == (264, 256, 3)
    health = client.get("/health").json()
    assert health == {"status": "ok", "model": "random-tiny", "max_batch": 1, "controls": ["pose"]}


def test_a_pose_control_image_is_accepted(client: TestClient) -> None:
    skeleton = np.zeros((128, 128, 3), dtype=np.uint8)
    skeleton[20:100, 60:68] = (255, 85, 0)
    control = {"kind": "pose", "image": base64.b64encode(encode_png(skeleton)).decode(), "scale": 1.5}
    response = client.post(IMAGES_PATH, json=_body(control=control))
    assert response.status_code == 200, response.text
    assert _png(response.content).shape == (264, 256, 3)


@pytest.mark.parametrize(
    "change",
    [{"width": 250}, {"width": 128}, {"height": 2048}, {"steps": 0}, {"steps": 101}, {"prompt": None}],
)
def test_bad_fields_are_422_with_a_code(client: TestClient, change: dict[str, object]) -> None:
    response = client.post(IMAGES_PATH, json=_body(**change))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    assert next(iter(change)) in body["detail"]


def test_an_unusable_control_is_refused_with_a_code(client: TestClient) -> None:
    not_base64 = {"kind": "pose", "image": "***"}
    not_image = {"kind": "pose", "image": base64.b64encode(b"hello").decode()}
    no_controlnet = {"kind": "edges", "image": base64.b64encode(b"hello").decode()}
    answers = [
        client.post(IMAGES_PATH, json=_body(control=c)) for c in (not_base64, not_image, no_controlnet)
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (415, "not_an_image"),
        (415, "not_an_image"),
        (422, "control_unavailable"),
    ]


def test_concurrent_requests_of_one_shape_share_a_batch(pipe: TextToImage) -> None:
    app = create_app(pipe, max_batch=3, max_wait_ms=5000)
    serving: ImageGenServing = app.state.serving
    # Guidance 1 (no unconditional branch) halves the CPU time; batching does not depend on it.
    bodies = [_body(seed=s, guidance_scale=1.0) for s in (1, 2, 3)]
    with TestClient(app) as c, ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda b: c.post(IMAGES_PATH, json=b), bodies))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert serving.batch_sizes == {3: 1}
    assert all(json.loads(r.headers[TIMINGS_HEADER])["batch_size"] == 3 for r in responses)
    images = [_png(r.content) for r in responses]
    assert not np.array_equal(images[0], images[1])
    (single,) = pipe.generate([serving.request(_wire(seed=2, guidance_scale=1.0))])
    assert int(np.abs(single.rgb.astype(np.int16) - images[1].astype(np.int16)).max()) <= 2


def test_requests_of_different_shapes_run_in_separate_batches(pipe: TextToImage) -> None:
    serving = ImageGenServing(pipe, max_batch=4, max_wait_ms=300)
    requests = [serving.request(_wire(seed=1)), serving.request(_wire(seed=2, steps=2))]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(serving.run, requests))
    assert [r.rgb.shape for r in results] == [(264, 256, 3)] * 2
    assert serving.batch_sizes == {1: 2}


def test_an_outfit_prompt_is_a_request_body(client: TestClient) -> None:
    prompt = outfit_prompt(
        [PromptPiece("blazer", "navy", "Blazers")],
        occasion="work",
        style=None,
        gender=None,
        seed=2**32 - 1,
        width=256,
        height=320,
    )
    body = ImageRequest.from_prompt(prompt, steps=1, guidance_scale=1.0)
    response = client.post(IMAGES_PATH, json=body.model_dump())
    assert response.status_code == 200, response.text
    assert _png(response.content).shape == (320, 256, 3)


def test_the_command_line_needs_weights_and_builds_a_random_server() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args([])
    with pytest.raises(SystemExit):
        parser().parse_args(["--weights", "/nowhere", "--random-weights", "tiny"])
    args = parser().parse_args(["--random-weights", "tiny", "--device", "cpu", "--max-batch", "2"])
    assert args.port == 8093
    with TestClient(build_app(args)) as c:
        health = c.get("/health").json()
    assert health["model"] == "random-tiny"
    assert health["max_batch"] == 2
