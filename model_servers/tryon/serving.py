"""The serving class: decodes the inputs and runs them through the engine, batched when it can.

A diffusion engine on a GPU serves several people faster together than one after another
(one denoising loop for the batch), so requests arriving within ``max_wait_ms`` of each other
are grouped up to ``max_batch`` and handed to the engine's ``run_batch``. An engine without
``run_batch`` (the CPU engine) gets its requests one at a time, which is also what keeps a
non-thread-safe engine safe.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from model_servers.tryon.protocol import MAX_UPLOAD_BYTES
from tools.tryon.engine import GarmentKind, Mask, TryOnEngine, TryOnRejected, TryOnRequest, TryOnResult
from tools.wardrobe.images import ImageLimits, load_image


@runtime_checkable
class BatchEngine(Protocol):
    def run_batch(self, requests: list[TryOnRequest]) -> list[TryOnResult]: ...


@dataclass
class _Pending:
    request: TryOnRequest
    future: Future[TryOnResult] = field(default_factory=Future)


def _mask(data: bytes | None, size: tuple[int, int]) -> Mask | None:
    if not data:
        return None
    with Image.open(io.BytesIO(data)) as img:
        mask = img.convert("L")
        if mask.size != size:
            mask = mask.resize(size, Image.Resampling.NEAREST)
        return np.asarray(mask) > 127


class TryOnServing:
    def __init__(self, engine: TryOnEngine, *, max_batch: int = 1, max_wait_ms: float = 10.0) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.engine = engine
        self.max_batch = max_batch if isinstance(engine, BatchEngine) else 1
        self.max_wait_s = max_wait_ms / 1000
        self.limits = ImageLimits(max_bytes=MAX_UPLOAD_BYTES)
        self._queue: list[_Pending] = []
        self._cond = threading.Condition()
        self._engine_lock = threading.Lock()
        #: How many batches of each size ran (for the benchmark and tests).
        self.batch_sizes: dict[int, int] = {}

    @property
    def name(self) -> str:
        return self.engine.name

    def request(
        self,
        person: bytes,
        garment: bytes,
        kind: GarmentKind,
        *,
        garment_mask: bytes | None = None,
        agnostic: bytes | None = None,
        seed: int = 0,
    ) -> TryOnRequest:
        """Decode the fields; raises ``ImageRejected`` for a file that is not a usable photo."""
        person_rgb = load_image(person, self.limits).rgb
        garment_rgb = load_image(garment, self.limits).rgb
        return TryOnRequest(
            person=person_rgb,
            garment=garment_rgb,
            kind=kind,
            garment_mask=_mask(garment_mask, (garment_rgb.shape[1], garment_rgb.shape[0])),
            agnostic=_mask(agnostic, (person_rgb.shape[1], person_rgb.shape[0])),
            seed=seed,
        )

    def run(self, request: TryOnRequest) -> TryOnResult:
        """Dress one person; blocks until the batch holding the request is done."""
        if self.max_batch == 1:
            with self._engine_lock:
                return self.engine.run(request)
        pending = _Pending(request)
        with self._cond:
            self._queue.append(pending)
            self._cond.notify_all()
        self._drain(pending)
        return pending.future.result()

    def _drain(self, mine: _Pending) -> None:
        """The first waiter to get the engine runs whatever has queued up, its own request included."""
        deadline = None
        while not mine.future.done():
            with self._cond:
                if deadline is None:
                    deadline = self.max_wait_s
                    # Give requests arriving together a moment to join the batch.
                    self._cond.wait_for(lambda: len(self._queue) >= self.max_batch, timeout=deadline)
            if not self._engine_lock.acquire(timeout=0.05):
                continue
            try:
                with self._cond:
                    batch = self._queue[: self.max_batch]
                    del self._queue[: len(batch)]
                if not batch:
                    continue
                self.batch_sizes[len(batch)] = self.batch_sizes.get(len(batch), 0) + 1
                assert isinstance(self.engine, BatchEngine)
                try:
                    results = self.engine.run_batch([p.request for p in batch])
                except TryOnRejected as exc:
                    if len(batch) == 1:
                        batch[0].future.set_exception(exc)
                    else:
                        # One person the engine cannot dress must not fail the others: run each alone.
                        for p in batch:
                            self._run_alone(p)
                except BaseException as exc:
                    for p in batch:
                        p.future.set_exception(exc)
                else:
                    for p, result in zip(batch, results, strict=True):
                        p.future.set_result(result)
            finally:
                self._engine_lock.release()

    def _run_alone(self, pending: _Pending) -> None:
        try:
            pending.future.set_result(self.engine.run(pending.request))
        except BaseException as exc:
            pending.future.set_exception(exc)
