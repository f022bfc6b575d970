"""The try-on server and its client: the engine's picture over HTTP, refusals as refusals (not
errors worth retrying), a down server as an error the worker retries, and request batching."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from skimage import data as skdata

from model_servers.tryon.app import create_app
from model_servers.tryon.serving import TryOnServing
from tests.model_servers.serving import free_port, live_server
from tools.tryon.engine import TryOnRejected, TryOnRequest, TryOnResult
from tools.tryon.geometric import GeometricEngine
from tools.tryon.remote import HttpTryOnEngine
from tools.wardrobe.images import encode_png, load_image

ASTRONAUT: np.ndarray = skdata.astronaut()  # type: ignore[no-untyped-call]
COFFEE: np.ndarray = skdata.coffee()  # type: ignore[no-untyped-call]
TEE = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails" / "1529.jpg"


@pytest.fixture(scope="module")
def tryon_server() -> Iterator[str]:
    with live_server(create_app(GeometricEngine())) as url:
        yield url


def _request(person: np.ndarray) -> TryOnRequest:
    return TryOnRequest(person=person, garment=load_image(TEE.read_bytes()).rgb, kind="upper")


def test_the_client_gets_the_engines_picture(tryon_server: str) -> None:
    request = _request(ASTRONAUT)
    remote = HttpTryOnEngine(tryon_server, timeout_s=60).run(request)
    local = GeometricEngine().run(request)
    assert remote.engine == "geometric-cpu"
    assert remote.image.shape == ASTRONAUT.shape
    # PNG both ways: the server's picture is exactly the engine's.
    assert np.array_equal(remote.image, local.image)
    assert set(remote.timings_ms) == set(local.timings_ms)
    health = httpx.get(f"{tryon_server}/health").json()
    assert health == {"status": "ok", "engine": "geometric-cpu", "max_batch": 1}


def test_a_refusal_comes_back_as_a_refusal(tryon_server: str) -> None:
    with pytest.raises(TryOnRejected) as refused:
        HttpTryOnEngine(tryon_server, timeout_s=60).run(_request(COFFEE))
    assert refused.value.code == "no_person"
    assert refused.value.message


def test_a_down_server_is_an_error_worth_retrying() -> None:
    with pytest.raises(httpx.TransportError):
        HttpTryOnEngine(f"http://127.0.0.1:{free_port()}", timeout_s=2).run(_request(ASTRONAUT))


def test_bad_uploads_get_the_apis_codes() -> None:
    client = TestClient(create_app(GeometricEngine()))
    files = {
        "person": ("p.png", b"not a picture", "image/png"),
        "garment": ("g.png", encode_png(ASTRONAUT), "image/png"),
    }
    response = client.post("/v1/tryon", files=files, data={"kind": "upper"})
    assert response.status_code == 415
    assert response.json()["code"] == "not_an_image"
    files["person"] = ("p.png", encode_png(ASTRONAUT), "image/png")
    response = client.post("/v1/tryon", files=files, data={"kind": "shoes"})
    assert response.status_code == 422


#: The seed of a request the marking engine refuses.
REFUSED = 99


class MarkingBatchEngine:
    """Stamps each picture with its request's seed, so a mixed-up batch would show."""

    name = "marking"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, request: TryOnRequest) -> TryOnResult:
        return self.run_batch([request])[0]

    def run_batch(self, requests: list[TryOnRequest]) -> list[TryOnResult]:
        self.calls += 1
        if any(r.seed == REFUSED for r in requests):
            raise TryOnRejected("no_person", "No person in one of the photos.")
        time.sleep(0.05)  # a GPU step: requests arriving meanwhile queue up for the next batch
        return [
            TryOnResult(image=np.full((4, 4, 3), r.seed, dtype=np.uint8), engine=self.name) for r in requests
        ]


def test_requests_arriving_together_are_served_in_batches() -> None:
    engine = MarkingBatchEngine()
    serving = TryOnServing(engine, max_batch=4, max_wait_ms=30)
    results: dict[int, int] = {}

    def ask(seed: int) -> None:
        request = TryOnRequest(person=ASTRONAUT, garment=ASTRONAUT, kind="upper", seed=seed)
        results[seed] = int(serving.run(request).image[0, 0, 0])

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {seed: seed for seed in range(8)}
    assert sum(size * n for size, n in serving.batch_sizes.items()) == 8
    assert max(serving.batch_sizes) > 1
    assert engine.calls < 8


def test_an_engine_without_batches_is_served_one_at_a_time() -> None:
    serving = TryOnServing(GeometricEngine(), max_batch=8)
    assert serving.max_batch == 1


def test_one_refused_request_does_not_fail_the_rest_of_its_batch() -> None:
    serving = TryOnServing(MarkingBatchEngine(), max_batch=4, max_wait_ms=50)
    outcomes: dict[int, object] = {}

    def ask(seed: int) -> None:
        request = TryOnRequest(person=ASTRONAUT, garment=ASTRONAUT, kind="upper", seed=seed)
        try:
            outcomes[seed] = int(serving.run(request).image[0, 0, 0])
        except TryOnRejected as exc:
            outcomes[seed] = exc.code

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in (1, 2, REFUSED, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert outcomes == {1: 1, 2: 2, 3: 3, REFUSED: "no_person"}
