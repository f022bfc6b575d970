"""The text-to-image pipeline on tiny random weights: sizes, seeds, batching, ControlNet
conditioning, saving and loading, the hashing text encoder and the pose control image."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data as skdata

from model_servers.imagegen.pipeline import (
    HASHING_ENCODER_FILE,
    Control,
    ControlUnavailable,
    GenerationRequest,
    HashingTextEncoder,
    TextToImage,
    edges_control_image,
    pose_control_image,
)
from tools.wardrobe.segment import _MP

ASTRONAUT: np.ndarray = skdata.astronaut()  # type: ignore[no-untyped-call]
#: Two steps: DDIM's single step is at t=1, where the noise prediction barely counts.
#: A batch may differ from single runs by rounding in batched kernels; measured 1 level in 255.
BATCH_TOLERANCE = 2


@pytest.fixture(scope="module")
def pipe() -> TextToImage:
    return TextToImage.random("tiny", seed=0, device="cpu")


def _request(seed: int = 1, **kwargs: object) -> GenerationRequest:
    settings: dict[str, object] = {"width": 64, "height": 64, "steps": 2, "seed": seed}
    settings.update(kwargs)
    return GenerationRequest("a navy blazer over a white shirt", **settings)  # type: ignore[arg-type]


def _square_control(scale: float = 1.0) -> Control:
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[16:48, 24:40] = 255
    return Control("pose", image, scale)


def _diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def test_the_picture_has_the_requested_size(pipe: TextToImage) -> None:
    (image,) = pipe.generate([_request(width=48, height=64)])
    assert image.rgb.shape == (64, 48, 3)
    assert image.rgb.dtype == np.uint8
    assert set(image.timings_ms) == {"encode_text", "denoise", "decode"}


def test_a_seed_fixes_the_picture(pipe: TextToImage) -> None:
    first, again, other = (pipe.generate([_request(seed)])[0].rgb for seed in (7, 7, 8))
    assert np.array_equal(first, again)
    assert _diff(first, other) > 20


def test_a_batch_equals_separate_runs(pipe: TextToImage) -> None:
    requests = [
        _request(1),
        _request(2, guidance_scale=3.0, negative_prompt="blurry"),
        GenerationRequest("a red dress", width=64, height=64, steps=2, seed=3),
    ]
    batch = pipe.generate(requests)
    for request, image in zip(requests, batch, strict=True):
        assert image.seed == request.seed
        assert _diff(image.rgb, pipe.generate([request])[0].rgb) <= BATCH_TOLERANCE


def test_the_control_image_steers_and_scale_zero_turns_it_off(pipe: TextToImage) -> None:
    plain = pipe.generate([_request()])[0].rgb
    controlled = pipe.generate([_request(control=_square_control(1.0))])[0].rgb
    off = pipe.generate([_request(control=_square_control(0.0))])[0].rgb
    assert _diff(plain, controlled) > 20
    assert np.array_equal(plain, off)


def test_a_batch_must_share_its_key_and_a_missing_controlnet_is_refused() -> None:
    pose_only = TextToImage.random("tiny", controls=("pose",), device="cpu")
    with pytest.raises(ValueError, match="share"):
        pose_only.generate([_request(), _request(steps=3)])
    edges = Control("edges", np.zeros((64, 64, 3), dtype=np.uint8))
    with pytest.raises(ControlUnavailable, match="edges"):
        pose_only.generate([_request(control=edges)])


def test_saving_and_loading_round_trips(pipe: TextToImage, tmp_path: Path) -> None:
    pipe.save(tmp_path / "model")
    loaded = TextToImage.from_folder(tmp_path / "model", device="cpu")
    assert isinstance(loaded.text_encoder, HashingTextEncoder)
    assert loaded.name == pipe.name
    assert loaded.control_kinds == ["edges", "pose"]
    request = _request(5, control=_square_control(0.7))
    assert np.array_equal(pipe.generate([request])[0].rgb, loaded.generate([request])[0].rgb)

    (tmp_path / "model" / HASHING_ENCODER_FILE).unlink()
    if importlib.util.find_spec("transformers") is None:
        with pytest.raises(RuntimeError, match="transformers"):
            TextToImage.from_folder(tmp_path / "model", device="cpu")


def test_the_hashing_encoder_is_deterministic_and_tells_prompts_apart() -> None:
    encoder, same = HashingTextEncoder(32, seed=3), HashingTextEncoder(32, seed=3)
    states = encoder.encode(["a red dress", "a blue suit", "a red dress"])
    assert states.shape == (3, 77, 32)
    assert torch.equal(states, same.encode(["a red dress", "a blue suit", "a red dress"]))
    assert torch.equal(states[0], states[2])
    assert not torch.allclose(states[0], states[1])
    # CLIP's window: words past 75 are dropped, and case does not matter.
    long = " ".join(f"word{i}" for i in range(100))
    assert torch.equal(encoder.encode([long])[0], encoder.encode([long + " more"])[0])
    assert torch.equal(encoder.encode(["Red Dress"]), encoder.encode(["red dress"]))


def test_the_pose_control_image_is_a_skeleton_on_black() -> None:
    skeleton = pose_control_image(ASTRONAUT)
    assert skeleton.shape == ASTRONAUT.shape
    landmarks = _MP.landmarks(ASTRONAUT)
    assert landmarks is not None
    h, w = ASTRONAUT.shape[:2]
    for name in ("left_shoulder", "right_shoulder"):
        x, y, _ = landmarks[name]
        cx, cy = round(x * w), round(y * h)
        patch = skeleton[max(0, cy - 12) : cy + 12, max(0, cx - 12) : cx + 12]
        assert patch.any(), name
    assert (skeleton.max(axis=2) == 0).mean() > 0.8  # mostly black


def test_a_picture_without_a_person_gives_a_black_pose_image() -> None:
    flat = np.full((256, 256, 3), 128, dtype=np.uint8)
    skeleton = pose_control_image(flat)
    assert skeleton.shape == flat.shape
    assert not skeleton.any()


def test_the_edges_control_image_is_white_edges_on_black() -> None:
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[16:48, 16:48] = 255
    edges = edges_control_image(image)
    assert edges.shape == image.shape
    assert edges[14:18, 30].max() == 255
    assert not edges[0:10, 0:10].any()
    assert not edges[30, 30].any()
