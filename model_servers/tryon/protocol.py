"""The try-on protocol both sides share (``tools.tryon.remote.HttpTryOnEngine`` is the client).

``POST /v1/tryon`` takes multipart fields ``person`` and ``garment`` (PNG or JPEG), an optional
``garment_mask`` and ``agnostic`` (8-bit PNG masks, white = inside; a maskless engine ignores
``agnostic``), and form fields ``kind`` (``upper``, ``lower`` or ``dress``) and ``seed``. The
answer is the dressed person photo as PNG, the size of ``person``; ``X-TryOn-Engine`` names the
engine and ``X-TryOn-Timings`` carries its stage timings as JSON. An input the engine cannot use is
a 422 whose JSON ``code`` is a ``TryOnRejected`` code, so the API can tell it apart from a failure
worth retrying (5xx, timeouts).
"""

from __future__ import annotations

from pydantic import BaseModel

TRYON_PATH = "/v1/tryon"
ENGINE_HEADER = "X-TryOn-Engine"
TIMINGS_HEADER = "X-TryOn-Timings"
#: The largest image field the server reads.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class Health(BaseModel):
    status: str
    engine: str
    max_batch: int
