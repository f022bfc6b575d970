"""The CatVTON-style diffusion engine on the CPU with tiny random weights: the code path, not the
quality. Its pictures are noise, so the tests check what must hold whatever the weights: the size,
the untouched pixels outside the agnostic region, seeds, batching, saving, and the server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as skdata

from evals import bench_tryon_gpu
from model_servers.tryon import __main__ as cli
from model_servers.tryon.app import create_app
from model_servers.tryon.diffusion import DiffusionTryOnEngine
from model_servers.tryon.protocol import ENGINE_HEADER, TIMINGS_HEADER, TRYON_PATH
from tools.tryon.engine import RGB, TryOnEngine, TryOnRequest, TryOnResult
from tools.wardrobe.images import encode_png, load_image


def _resize(rgb: RGB, width: int, height: int) -> RGB:
    return np.asarray(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA), dtype=np.uint8)


ASTRONAUT: np.ndarray = skdata.astronaut()  # type: ignore[no-untyped-call]
TEE = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails" / "1529.jpg"
#: A person photo whose aspect differs from the model's 64×48, so the letterbox is exercised.
PERSON = _resize(ASTRONAUT, 40, 56)
GARMENT = _resize(load_image(TEE.read_bytes()).rgb, 36, 48)
AGNOSTIC = np.zeros(PERSON.shape[:2], dtype=bool)
AGNOSTIC[24:52, 6:34] = True


def _request(seed: int, person: np.ndarray = PERSON, agnostic: np.ndarray | None = AGNOSTIC) -> TryOnRequest:
    return TryOnRequest(person=person, garment=GARMENT, kind="upper", agnostic=agnostic, seed=seed)


def _mask_png(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255, "L").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny convolutions on a shared machine: more threads only wait for each other (7× slower
    with two here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def engine() -> DiffusionTryOnEngine:
    return DiffusionTryOnEngine.random("tiny", seed=0, height=64, width=48, num_inference_steps=2)


@pytest.fixture(scope="module")
def singles(engine: DiffusionTryOnEngine) -> list[TryOnResult]:
    return [engine.run(_request(seed)) for seed in (1, 2, 3)]


def test_the_picture_is_the_photo_outside_the_region_and_new_inside(singles: list[TryOnResult]) -> None:
    result = singles[0]
    assert isinstance(result.image, np.ndarray)
    assert result.image.shape == PERSON.shape
    assert result.image.dtype == np.uint8
    assert np.array_equal(result.image[~AGNOSTIC], PERSON[~AGNOSTIC])
    assert (result.image[AGNOSTIC] != PERSON[AGNOSTIC]).any(axis=-1).mean() > 0.5
    assert result.engine == "catvton-style-diffusion"
    assert result.garment_region is not None
    assert np.array_equal(result.garment_region, AGNOSTIC)
    assert set(result.timings_ms) == {"encode", "denoise", "decode", "post"}


def test_it_is_a_try_on_engine(engine: DiffusionTryOnEngine) -> None:
    assert isinstance(engine, TryOnEngine)
    assert engine.device.type == "cpu"
    assert engine.dtype == torch.float32


def test_a_seed_gives_the_same_picture_and_another_seed_another(
    engine: DiffusionTryOnEngine, singles: list[TryOnResult]
) -> None:
    again = engine.run(_request(1))
    assert np.array_equal(again.image, singles[0].image)
    assert not np.array_equal(singles[0].image, singles[1].image)


def test_a_batch_gives_each_request_its_own_single_run(
    engine: DiffusionTryOnEngine, singles: list[TryOnResult]
) -> None:
    batch = engine.run_batch([_request(seed) for seed in (1, 2, 3)])
    assert len(batch) == 3
    for one, together in zip(singles, batch, strict=True):
        # fp32 convolutions pick other kernels for other batch sizes: a rounding step at most.
        diff = np.abs(one.image.astype(np.int16) - together.image.astype(np.int16))
        assert diff.max() <= 2
        assert np.array_equal(together.image[~AGNOSTIC], PERSON[~AGNOSTIC])
    assert engine.run_batch([]) == []


def test_the_unet_denoises_a_nine_channel_latent_twice_as_wide(engine: DiffusionTryOnEngine) -> None:
    assert engine.unet.config["in_channels"] == 9
    engine.run(_request(1))
    # Guidance doubles the batch; the latent is 64×48 / 2 (tiny VAE), the garment beside the person.
    assert engine.guidance_scale > 1
    assert engine.last_unet_input_shape == (2, 9, 32, 48)
    masked, garment, mask = (
        torch.ones(1, 4, 32, 24),
        torch.full((1, 4, 32, 24), 2.0),
        torch.ones(1, 1, 32, 24),
    )
    image, wide_mask = engine.concat_conditioning(masked, garment, mask)
    assert image.shape == (1, 4, 32, 48)
    assert wide_mask.shape == (1, 1, 32, 48)
    assert torch.equal(image[..., 24:], garment)
    assert not wide_mask[..., 24:].any()
    dropped, _ = engine.concat_conditioning(masked, garment, mask, drop_garment=True)
    assert not dropped[..., 24:].any()
    assert torch.equal(dropped[..., :24], masked)


def test_the_full_size_is_sd15_inpainting() -> None:
    # On the meta device: the architecture without the 3.4 GB of weights.
    from model_servers import sd15

    with torch.device("meta"):
        unet = UNet2DConditionModel(**sd15.unet_config("full", in_channels=9))
        vae = AutoencoderKL(**sd15.SD_VAE_CONFIG)
        out = unet(torch.empty(1, 9, 128, 192), 10, encoder_hidden_states=torch.empty(1, 1, 768)).sample
    assert round(sum(p.numel() for p in unet.parameters()) / 1e6, 1) == 859.5
    assert round(sum(p.numel() for p in vae.parameters()) / 1e6, 1) == 83.7
    # 1024×768 pixels: a 128×96 latent, twice as wide with the garment beside the person.
    assert out.shape == (1, 4, 128, 192)


def test_save_and_from_folder_round_trip(
    engine: DiffusionTryOnEngine, singles: list[TryOnResult], tmp_path: Path
) -> None:
    engine.save(tmp_path)
    for part in ("unet", "vae", "scheduler"):
        assert (tmp_path / part).is_dir()
    assert json.loads((tmp_path / "tryon_engine.json").read_text())["height"] == 64
    loaded = DiffusionTryOnEngine.from_folder(tmp_path, device="cpu")
    assert (loaded.height, loaded.width, loaded.num_inference_steps) == (64, 48, 2)
    assert np.array_equal(loaded.run(_request(1)).image, singles[0].image)
    with pytest.raises(FileNotFoundError):
        DiffusionTryOnEngine.from_folder(tmp_path / "missing")


def test_the_resolution_must_suit_the_model() -> None:
    with pytest.raises(ValueError, match="multiples of 4"):
        DiffusionTryOnEngine.random("tiny", height=66, width=48)


def test_without_a_mask_the_engine_finds_the_region_itself(engine: DiffusionTryOnEngine) -> None:
    person = _resize(ASTRONAUT, 256, 256)
    result = engine.run(_request(4, person=person, agnostic=None))
    assert result.garment_region is not None
    assert result.garment_region.any()
    assert result.image.shape == person.shape
    assert np.array_equal(result.image[~result.garment_region], person[~result.garment_region])


def test_the_server_batches_through_the_diffusion_engine(engine: DiffusionTryOnEngine) -> None:
    # The server refuses photos under 64 pixels a side.
    person = _resize(ASTRONAUT, 72, 96)
    garment = _resize(GARMENT, 72, 96)
    agnostic = np.zeros(person.shape[:2], dtype=bool)
    agnostic[40:90, 12:60] = True
    app = create_app(engine, max_batch=4, max_wait_ms=1.0)
    with TestClient(app) as client:
        assert client.get("/health").json()["max_batch"] == 4
        response = client.post(
            TRYON_PATH,
            files={
                "person": ("person.png", encode_png(person), "image/png"),
                "garment": ("garment.png", encode_png(garment), "image/png"),
                "agnostic": ("agnostic.png", _mask_png(agnostic), "image/png"),
            },
            data={"kind": "upper", "seed": "1"},
        )
    assert response.status_code == 200, response.text
    assert response.headers[ENGINE_HEADER] == "catvton-style-diffusion"
    assert set(json.loads(response.headers[TIMINGS_HEADER])) == {"encode", "denoise", "decode", "post"}
    with Image.open(io.BytesIO(response.content)) as img:
        assert img.format == "PNG"
        image = np.asarray(img.convert("RGB"))
    assert image.shape == person.shape
    assert np.array_equal(image[~agnostic], person[~agnostic])
    assert (image[agnostic] != person[agnostic]).any()


def test_the_cli_builds_a_diffusion_server_with_random_weights(caplog: pytest.LogCaptureFixture) -> None:
    args = cli.parser().parse_args(
        ["--engine", "diffusion", "--random-weights", "tiny", "--steps", "1", "--device", "cpu"]
    )
    with caplog.at_level("WARNING", logger="model_servers.tryon"):
        app = cli.build_app(args)
    assert "NOISE" in caplog.text
    assert app.state.serving.name == "catvton-style-diffusion"
    assert app.state.serving.max_batch == 4
    assert app.state.serving.engine.num_inference_steps == 1
    with pytest.raises(SystemExit):
        cli.main(["--engine", "diffusion"])
    default = cli.parser().parse_args([])
    assert (default.engine, default.port) == ("geometric", 8092)


def test_the_gpu_benchmark_smoke_runs_on_the_cpu() -> None:
    result = bench_tryon_gpu.run(
        size="tiny",
        device="cpu",
        steps=1,
        batch_sizes=(1, 2),
        height=64,
        width=48,
        repeats=1,
        guidance_scale=1.0,
    )
    assert result["device"] == "cpu"
    assert "skipped" not in result
    assert "note" in result
    assert [row["batch"] for row in result["batches"]] == [1, 2]
    for row in result["batches"]:
        assert row["latency_ms"]["p50"] > 0
        assert row["images_per_s"] > 0
    assert "batch  2" in bench_tryon_gpu.table(result)
    if not torch.cuda.is_available():
        skipped = bench_tryon_gpu.run(device="cuda")
        assert skipped["skipped"] == "no CUDA device on this machine"
        assert "skipped" in bench_tryon_gpu.table(skipped)
