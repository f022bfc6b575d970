"""Files a person sends before saying what they are for: a photo in chat, then "add this to my wardrobe".

An upload is checked as an image when it arrives (so a bad file is refused at once, not
turns later) and kept under the person's own prefix in the object store; a tool can only
read the uploads of the person it acts for, because the key is built from the context's
user id, never from the message.
"""

from __future__ import annotations

import re
import uuid

from storage.errors import ObjectNotFound
from storage.objects import ObjectStore
from tools.wardrobe.images import ImageLimits, LoadedImage, load_image

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UnknownUpload(LookupError):
    pass


class UploadStore:
    def __init__(self, objects: ObjectStore, limits: ImageLimits | None = None) -> None:
        self.objects = objects
        self.limits = limits or ImageLimits()

    @staticmethod
    def _key(user_id: str, upload_id: str) -> str:
        return f"uploads/{user_id}/{upload_id}.img"

    def save_image(self, user_id: str, data: bytes) -> tuple[str, LoadedImage]:
        """Check ``data`` is an acceptable photo (raises ``ImageRejected``) and keep it; returns its id."""
        image = load_image(data, self.limits)
        upload_id = uuid.uuid4().hex
        self.objects.put(self._key(user_id, upload_id), data, f"image/{image.format.lower()}")
        return upload_id, image

    def read(self, user_id: str, upload_id: str) -> bytes:
        if not UPLOAD_ID.fullmatch(upload_id):
            raise UnknownUpload(f"{upload_id!r} is not an upload id")
        try:
            return self.objects.get(self._key(user_id, upload_id))
        except ObjectNotFound as exc:
            raise UnknownUpload(f"no upload {upload_id!r}; send the photo again") from exc

    def read_with_type(self, user_id: str, upload_id: str) -> tuple[bytes, str]:
        """The photo's bytes and content type (the chat shows a sent photo again from this); the
        content type costs a second store call, so tools that only need the bytes use ``read``."""
        data = self.read(user_id, upload_id)
        try:
            content_type = self.objects.stat(self._key(user_id, upload_id)).content_type
        except ObjectNotFound as exc:  # deleted between the two calls
            raise UnknownUpload(f"no upload {upload_id!r}; send the photo again") from exc
        return data, content_type or "application/octet-stream"
