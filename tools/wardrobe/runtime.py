"""Build the wardrobe service once per process, the same way for the API, the CLI and evals.

The category model is trained here from the shipped catalogue thumbnails
(``python -m tools.wardrobe train-classifier``, seconds); without it the category comes
from the person's caption alone, and the item says so (``auto_tags.category`` is empty)
instead of guessing.
"""

from __future__ import annotations

from core.config import Settings
from storage.stores import Stores
from tools.artifacts import load_configured
from tools.uploads import UploadStore
from tools.wardrobe.classify import CategoryModel, default_caption_classifier
from tools.wardrobe.images import ImageLimits
from tools.wardrobe.segment import FallbackSegmenter, HttpSegmenter, Segmenter, default_segmenter
from tools.wardrobe.service import WardrobeService
from tools.wardrobe.tagging import Tagger


def build_segmenter(settings: Settings) -> Segmenter:
    config = settings.wardrobe
    if config.segmenter == "model_server":
        assert config.segmenter_url is not None  # checked by WardrobeSettings
        return FallbackSegmenter(HttpSegmenter(config.segmenter_url), default_segmenter())
    return default_segmenter()


def open_wardrobe(settings: Settings, stores: Stores) -> tuple[WardrobeService, UploadStore]:
    config = settings.wardrobe
    model = load_configured(
        CategoryModel.load,
        config.classifier_dir,
        config.classifier_version,
        what="wardrobe category model",
        without="categories come from captions only",
        train="python -m tools.wardrobe train-classifier",
    )
    limits = ImageLimits(max_bytes=config.max_upload_bytes, max_pixels=config.max_pixels)
    tagger = Tagger(build_segmenter(settings), model, default_caption_classifier())
    service = WardrobeService(stores.db, stores.objects, tagger, limits=limits, max_items=config.max_items)
    return service, UploadStore(stores.objects, limits)
