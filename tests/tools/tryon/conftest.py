"""Photos the try-on tests share: the astronaut (in the package) and the VITON-HD sample when present."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from core.training import TrainingPaths
from tools.tryon.engine import RGB

VITON = TrainingPaths().research_data_dir / "viton_hd_sample"


def viton() -> Path:
    if not (VITON / "test" / "image").is_dir():
        pytest.skip(
            f"VITON-HD sample not found at {VITON}; set IK_RESEARCH_DATA_DIR to the folder that holds it"
        )
    return VITON


def load_rgb(path: Path) -> RGB:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def load_mask(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(np.asarray(img.convert("L")) > 127)


@pytest.fixture(scope="session")
def astronaut() -> RGB:
    return np.ascontiguousarray(skimage.data.astronaut())  # type: ignore[no-untyped-call]


def draw_tshirt(colour: tuple[int, int, int] = (30, 60, 200), size: tuple[int, int] = (400, 480)) -> RGB:
    """A flat-lay T-shirt silhouette (torso and two short sleeves) on white."""
    w, h = size
    canvas = np.full((h, w, 3), 255, dtype=np.uint8)
    shirt = np.array(
        [[160, 40], [200, 60], [240, 40], [300, 55], [370, 150], [320, 185], [300, 160], [300, 440],
         [100, 440], [100, 160], [80, 185], [30, 150], [100, 55]],
        dtype=np.int32,
    )  # fmt: skip
    cv2.fillPoly(canvas, [shirt], colour)
    return canvas


@pytest.fixture(scope="session")
def tshirt() -> RGB:
    return draw_tshirt()
