"""The serving class: decodes a photo within limits and runs one segmenter on it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from model_servers.vision.protocol import MAX_UPLOAD_BYTES
from tools.wardrobe.images import ImageLimits, load_image, working_copy
from tools.wardrobe.segment import WORKING_SIDE, Segmenter, mask_png


@dataclass(frozen=True)
class SegmentResult:
    mask_png: bytes
    person: bool
    method: str


class VisionServing:
    """One segmenter per process. Requests are served one at a time: the embedded segmenter's
    MediaPipe graphs are not thread-safe, and on CPU parallel requests would only share cores."""

    def __init__(self, segmenter: Segmenter, name: str) -> None:
        self.segmenter = segmenter
        self.name = name
        self.limits = ImageLimits(max_bytes=MAX_UPLOAD_BYTES)
        self._lock = threading.Lock()

    def segment(self, data: bytes) -> SegmentResult:
        """Raises ``ImageRejected`` for a bad photo or one without a garment."""
        image = load_image(data, self.limits)
        rgb = working_copy(image, WORKING_SIDE)
        with self._lock:
            segmentation = self.segmenter.segment(rgb)
        return SegmentResult(mask_png(segmentation.mask), segmentation.person, segmentation.method)
