"""The segmentation protocol both sides share (``tools.wardrobe.segment.HttpSegmenter`` is the client).

``POST /v1/segment`` takes the photo as the multipart field ``image`` (PNG or JPEG) and answers
with an 8-bit PNG mask of the same size, white where the garment is. ``X-Segment-Person: 1`` says
the garment is worn by a person; ``X-Segment-Method`` names the model that cut it. A photo with no
garment is a 422 whose JSON ``code`` is ``no_garment``; a file that is not a usable photo is 4xx
with the reason, as the API itself would answer.
"""

from __future__ import annotations

from pydantic import BaseModel

SEGMENT_PATH = "/v1/segment"
PERSON_HEADER = "X-Segment-Person"
METHOD_HEADER = "X-Segment-Method"
#: The largest upload the server reads; the client sends at most 512 px a side.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class Health(BaseModel):
    status: str
    segmenter: str
