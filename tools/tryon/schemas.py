"""What the try-on service hands out: a job as the person (and the API) sees it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.jobs import JobRead


class GarmentRef(BaseModel):
    """Exactly one garment: a catalogue product or one of the person's wardrobe items."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: str | None = Field(default=None, min_length=1, max_length=64)
    wardrobe_item_id: str | None = Field(default=None, min_length=1, max_length=36)

    @model_validator(mode="after")
    def _exactly_one(self) -> GarmentRef:
        if (self.product_id is None) == (self.wardrobe_item_id is None):
            raise ValueError("name exactly one garment: a product_id or a wardrobe_item_id")
        return self

    def key(self) -> str:
        return f"product:{self.product_id}" if self.product_id else f"wardrobe:{self.wardrobe_item_id}"


class TryOnJobRead(JobRead):
    kind: str
    engine: str
    garment: dict[str, Any]
