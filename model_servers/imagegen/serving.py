"""The serving class: turns wire requests into pipeline requests and runs them, batched when it can.

A diffusion model on a GPU makes several pictures faster together than one after another (one
denoising loop for the batch), but only pictures of one size, one number of steps and one
control kind can share a loop. So requests with the same ``GenerationRequest.batch_key``
arriving within ``max_wait_ms`` of each other are grouped, up to ``max_batch``; the rest wait
for a later batch. The pipeline runs under a lock, so a batch never overlaps another.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from model_servers.imagegen.pipeline import (
    Control,
    ControlUnavailable,
    GeneratedImage,
    GenerationRequest,
    TextToImage,
)
from model_servers.imagegen.protocol import MAX_CONTROL_BYTES, ImageRequest
from tools.wardrobe.images import ImageLimits, ImageRejected, load_image


@dataclass
class _Pending:
    request: GenerationRequest
    queued: float = field(default_factory=time.perf_counter)
    future: Future[GeneratedImage] = field(default_factory=Future)


class ImageGenServing:
    def __init__(self, pipeline: TextToImage, *, max_batch: int = 1, max_wait_ms: float = 10.0) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.pipeline = pipeline
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000
        self.limits = ImageLimits(max_bytes=MAX_CONTROL_BYTES, min_side=8)
        self._queue: list[_Pending] = []
        self._cond = threading.Condition()
        self._pipeline_lock = threading.Lock()
        #: How many batches of each size ran (for the benchmark and tests).
        self.batch_sizes: dict[int, int] = {}

    @property
    def name(self) -> str:
        return self.pipeline.name

    def request(self, body: ImageRequest) -> GenerationRequest:
        """Decode the control image; raises ``ImageRejected`` for one that is not a usable image
        and ``ControlUnavailable`` for a kind the model has no ControlNet for, before it queues."""
        control = None
        if body.control is not None:
            if body.control.kind not in self.pipeline.controlnets:
                raise ControlUnavailable(body.control.kind, self.pipeline.control_kinds)
            try:
                data = base64.b64decode(body.control.image, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ImageRejected("not_an_image", "The control image is not valid base64.") from exc
            image = load_image(data, self.limits).rgb
            control = Control(kind=body.control.kind, image=image, scale=body.control.scale)
        return GenerationRequest(
            prompt=body.prompt,
            negative_prompt=body.negative_prompt,
            width=body.width,
            height=body.height,
            seed=body.seed,
            steps=body.steps,
            guidance_scale=body.guidance_scale,
            control=control,
        )

    def run(self, request: GenerationRequest) -> GeneratedImage:
        """One picture; blocks until the batch holding the request is done."""
        pending = _Pending(request)
        key = request.batch_key
        with self._cond:
            self._queue.append(pending)
            self._cond.notify_all()
            # Give requests arriving together a moment to join the batch; stop early when the
            # batch is full or another waiter has already run this request.
            self._cond.wait_for(
                lambda: pending.future.done() or self._batch_ready(key), timeout=self.max_wait_s
            )
        self._drain(pending)
        return pending.future.result()

    def _batch_ready(self, key: tuple[int, int, int, str | None]) -> bool:
        return sum(p.request.batch_key == key for p in self._queue) >= self.max_batch

    def _drain(self, mine: _Pending) -> None:
        """The first waiter to get the pipeline runs the oldest request's batch; a waiter whose
        request was not in it goes round again."""
        while not mine.future.done():
            if not self._pipeline_lock.acquire(timeout=0.05):
                continue
            try:
                with self._cond:
                    if not self._queue:
                        continue
                    head = self._queue[0].request.batch_key
                    batch = [p for p in self._queue if p.request.batch_key == head][: self.max_batch]
                    self._queue = [p for p in self._queue if all(p is not b for b in batch)]
                self._run_batch(batch)
            finally:
                self._pipeline_lock.release()

    def _run_batch(self, batch: list[_Pending]) -> None:
        self.batch_sizes[len(batch)] = self.batch_sizes.get(len(batch), 0) + 1
        started = time.perf_counter()
        try:
            images = self.pipeline.generate([p.request for p in batch])
        except BaseException as exc:
            for p in batch:
                p.future.set_exception(exc)
            with self._cond:
                self._cond.notify_all()
            return
        for p, image in zip(batch, images, strict=True):
            timings = {
                "queue": round((started - p.queued) * 1000, 2),
                **image.timings_ms,
                "batch_size": float(len(batch)),
            }
            p.future.set_result(GeneratedImage(rgb=image.rgb, seed=image.seed, timings_ms=timings))
        with self._cond:
            self._cond.notify_all()
