"""Build the try-on service, its engine and its worker once per process (API, worker CLI, evals)."""

from __future__ import annotations

from core.config import Settings
from storage.stores import Stores
from tools.catalog.service import CatalogService
from tools.tryon.engine import RGB, GarmentKind, TryOnEngine
from tools.tryon.remote import HttpTryOnEngine
from tools.tryon.service import TryOnService
from tools.tryon.worker import TryOnWorker
from tools.wardrobe.images import ImageLimits
from tools.wardrobe.service import WardrobeService


def check_person_for(rgb: RGB, kind: GarmentKind) -> None:
    """The submission check: one person, in view enough to wear a garment of ``kind``."""
    from tools.tryon.person import check_fit, check_person  # MediaPipe: loaded on first use

    check_fit(check_person(rgb), kind)


def build_engine(settings: Settings) -> TryOnEngine:
    config = settings.tryon
    if config.engine == "model_server":
        assert config.model_server_url is not None  # checked by TryOnSettings
        return HttpTryOnEngine(config.model_server_url, config.model_server_timeout_s)
    from tools.tryon.geometric import GeometricEngine

    return GeometricEngine()


def engine_name(settings: Settings) -> str:
    """The name ``build_engine`` gives its engine (part of every job id), without building it."""
    if settings.tryon.engine == "model_server":
        return HttpTryOnEngine.name
    from tools.tryon.geometric import GeometricEngine

    return GeometricEngine.name


def open_tryon(
    settings: Settings, stores: Stores, catalog: CatalogService, wardrobe: WardrobeService
) -> TryOnService:
    config = settings.tryon
    return TryOnService(
        stores.db,
        stores.objects,
        stores.cache,
        stores.events,
        catalog,
        wardrobe,
        settings.catalog_dir,
        check_person_for,
        engine_name=engine_name(settings),
        max_attempts=config.max_attempts,
        stale_after_s=config.stale_after_s,
        result_cache_ttl_s=config.result_cache_ttl_s,
        max_side=config.max_side,
        limits=ImageLimits(
            max_bytes=settings.wardrobe.max_upload_bytes, max_pixels=settings.wardrobe.max_pixels
        ),
    )


def open_worker(settings: Settings, stores: Stores, service: TryOnService) -> TryOnWorker:
    return TryOnWorker(service, build_engine(settings), stores.events, stores.cache)
