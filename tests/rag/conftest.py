"""Small real catalog subsets for the retrieval tests, with made-up but explicit availability."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from rag.documents import ProductDoc

CATALOG = Path(__file__).resolve().parents[2] / "data" / "catalog" / "styles_clean.jsonl.gz"
#: Article types the sample draws from, so every test can rely on a few of each.
TYPES = ("Tshirts", "Shirts", "Dresses", "Trousers", "Casual Shoes", "Sports Shoes", "Handbags", "Watches")


def _clean(value: object) -> str | None:
    return None if value in (None, "", "NA") else str(value)


def sample_docs(per_type: int = 25) -> list[ProductDoc]:
    """``per_type`` products of each of ``TYPES``: price 100 + 10 x its index, every third out of stock."""
    taken: dict[str, int] = dict.fromkeys(TYPES, 0)
    docs: list[ProductDoc] = []
    with gzip.open(CATALOG, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            kind = row.get("articleType")
            if kind not in taken or taken[kind] >= per_type:
                continue
            taken[kind] += 1
            i = len(docs)
            in_stock = i % 3 != 0
            docs.append(
                ProductDoc(
                    id=str(row["id"]),
                    name=row["productDisplayName"] or "unnamed",
                    gender=_clean(row.get("gender")),
                    master_category=_clean(row.get("masterCategory")),
                    sub_category=_clean(row.get("subCategory")),
                    article_type=kind,
                    colour=_clean(row.get("baseColour")),
                    season=_clean(row.get("season")),
                    year=row.get("year"),
                    usage=_clean(row.get("usage")),
                    price=100.0 + 10 * i,
                    in_stock=in_stock,
                    sizes_available=(["M", "L"] if i % 2 else ["S"]) if in_stock else [],
                )
            )
            if all(n >= per_type for n in taken.values()):
                break
    return docs


@pytest.fixture(scope="session")
def docs() -> list[ProductDoc]:
    return sample_docs()


@pytest.fixture(scope="session")
def small_docs() -> list[ProductDoc]:
    """Few enough to encode in seconds (MiniLM runs ~10-80 texts/s on 2 cores)."""
    return sample_docs(per_type=8)


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session, so the second module to index the same docs encodes nothing."""
    return tmp_path_factory.mktemp("embeddings")
