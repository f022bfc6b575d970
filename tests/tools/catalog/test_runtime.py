"""Start-up: the full-text index is rebuilt only when the catalog changed since it was built."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from storage.stores import build_stores
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings
from tools.catalog.runtime import CatalogBackground, open_catalog
from tools.catalog.store import CatalogStore

pytestmark = pytest.mark.unit


def test_the_index_is_rebuilt_only_after_the_catalog_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(
        tmp_path, catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 100}
    )
    syncs: list[int] = []
    real_sync = CatalogStore.sync_all

    def counting_sync(self: CatalogStore) -> int:
        indexed = real_sync(self)
        syncs.append(indexed)
        return indexed

    monkeypatch.setattr(CatalogStore, "sync_all", counting_sync)
    stores = build_stores(settings)
    try:
        first = open_catalog(settings, stores)
        assert syncs == [100]
        product_id = first.search_service.search("", limit=1, mode="fulltext").hits[0].doc.id

        second = open_catalog(settings, stores)
        assert syncs == [100], "nothing changed, so nothing was re-indexed"
        assert second.search_service.fulltext.count() == 100

        second.catalog.set_price(product_id, None, 1234.0, source="test")
        third = open_catalog(settings, stores)
        assert syncs == [100, 100]
        assert third.doc(product_id) is not None
        assert third.doc(product_id).price == 1234.0  # type: ignore[union-attr]
    finally:
        stores.close()


def test_vectors_are_built_in_the_background_and_search_says_until_when(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 60},
        search={"semantic": True, "embedding_cache_dir": tmp_path / "embeddings"},
    )
    stores = build_stores(settings)
    try:
        store = open_catalog(settings, stores)
        early = store.search("shirt for the office", mode="hybrid", limit=3)
        assert early.mode == "fulltext"
        assert any("still indexing" in note for note in early.notes)
        background = CatalogBackground(store, stores, settings)
        background.start()
        deadline = time.monotonic() + 120
        while not store.vectors_complete and time.monotonic() < deadline:
            time.sleep(0.2)
        background.stop()
        assert store.vectors_complete
        later = store.search("shirt for the office", mode="hybrid", limit=3)
        assert later.mode == "hybrid"
        assert later.hits
    finally:
        stores.close()
