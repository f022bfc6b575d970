"""Build the recommendation service once per process, the same way for the API, the CLI and evals.

Both models are trained from research-only data and live outside the repository; without
them recommendation still works on the graph's rules, popularity and the person's own
history, and says which ranker (if any) scored a list (``OutfitResult.ranker``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.config import Settings
from graphs import GraphStore, build_graph_store
from graphs.polyvore import load_goes_with
from storage.cache.base import Namespaces
from storage.stores import Stores
from tools.artifacts import load_configured
from tools.catalog.store import CatalogStore
from tools.profile.schemas import ProfileRead
from tools.profile.service import NotFound, ProfileService
from tools.recommend.behaviour import Behaviour
from tools.recommend.compat import CompatModel, load_compat_model
from tools.recommend.compose import CompatScore, SizeCheck, SizeQuery
from tools.recommend.ranker import Ranker, load_ranker
from tools.recommend.service import RecommendService
from tools.recommend.table import Floats
from tools.sizing.chartbook import brand_key
from tools.sizing.service import Body, SizingError, SizingService

logger = logging.getLogger(__name__)


def _load_ranker(settings: Settings) -> Ranker | None:
    config = settings.recommend
    return load_configured(
        load_ranker,
        config.ranker_dir,
        config.ranker_version,
        what="ranker",
        without="recommendations use rules, popularity and history",
        train="python -m tools.recommend train-ranker",
    )


def _load_compat(settings: Settings) -> CompatModel | None:
    config = settings.recommend
    return load_configured(
        load_compat_model,
        config.compat_dir,
        config.compat_version,
        what="compatibility model",
        without="outfit slots are ranked by the rules alone",
        train="python -m tools.recommend train-compat",
    )


@dataclass
class SizeChecks:
    """The person's size per product, when their profile allows the sizing service to answer."""

    catalog: CatalogStore
    sizing: SizingService

    def for_user(self, user_id: str, profile: ProfileRead | None) -> SizeCheck | None:
        """A check for one request. The sizing service answers once per brand, garment type and
        department (its chart lookup and fit model are the same for all of them, bar a product's own
        fit feedback), and stock is read from the in-memory table, so a request costs a few
        sizing calls instead of one database round trip per piece considered."""
        if profile is None:
            return None
        body = Body.from_profile(profile)
        if not body.values:
            return None
        sizes: dict[tuple[str, str, str | None], str | None] = {}
        own_charts = self.sizing.charts.brands_with_charts()

        def check(query: SizeQuery) -> tuple[bool, str | None]:
            brand = brand_key(query.brand)
            key = (brand if brand in own_charts else "", query.article_type, query.gender)
            if key not in sizes:
                sizes[key] = self._advise(user_id, query.product_id, body)
            size = sizes[key]
            if size is None:
                return True, None  # one size, no chart or no fitting measurement: nothing to check
            return (True, size) if size in query.sizes_in_stock else (False, None)

        return check

    def _advise(self, user_id: str, product_id: str, body: Body) -> str | None:
        detail = self.catalog.catalog.get_product(product_id)
        if detail is None:
            return None
        try:
            return self.sizing.recommend(user_id, detail, body).recommended.size
        except SizingError:
            return None


def _compat_scorer(model: CompatModel, store: CatalogStore) -> CompatScore:
    """Learned compatibility of an anchor with candidates, from their MiniLM vectors once indexed."""

    def score(anchor_id: str, ids: Sequence[str]) -> Floats | None:
        semantic = store.search_service.semantic
        if semantic is None or not semantic.ready:
            return None
        vectors = semantic.vectors([anchor_id, *ids])
        anchor = vectors.get(anchor_id)
        if anchor is None:
            return None
        known = [i for i, pid in enumerate(ids) if pid in vectors]
        out = np.full(len(ids), 0.5)
        if known:
            matrix = np.stack([vectors[ids[i]] for i in known])
            out[known] = model.pair_scores(anchor[None, :], matrix)[0]
        return out

    return score


def open_recommender(
    settings: Settings,
    stores: Stores,
    catalog: CatalogStore,
    profiles: ProfileService,
    sizing: SizingService | None,
    graph: GraphStore | None = None,
) -> RecommendService:
    """The service, with the graph opened (or the given one) and the models that are available."""
    namespaces = Namespaces.create(stores.cache, settings.cache.ttl)
    compat = _load_compat(settings)

    def profile_of(user_id: str) -> ProfileRead | None:
        try:
            return profiles.get(user_id)
        except NotFound:
            return None

    checks = SizeChecks(catalog, sizing) if sizing is not None else None
    return RecommendService(
        catalog=catalog.catalog,
        graph=graph if graph is not None else build_graph_store(settings),
        behaviour=Behaviour(stores.db, namespaces),
        namespaces=namespaces,
        goes_with=load_goes_with(settings.recommend.goes_with_path),
        semantic=lambda: catalog.search_service.semantic,
        ranker=_load_ranker(settings),
        profile_of=profile_of,
        size_checker=checks.for_user if checks is not None else (lambda _user, _profile: None),
        compat=_compat_scorer(compat, catalog) if compat is not None else None,
    )
