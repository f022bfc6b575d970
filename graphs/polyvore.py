"""GOES_WITH weights between catalogue article types, counted from real Polyvore outfits.

People assembled Polyvore outfits by hand, so two kinds of garment that appear together more
often than their popularity predicts are a fair prior for "these go together". Polyvore's
categories are mapped *into* our catalogue's article types (``MARYLAND_CATEGORY`` and
``VASILEVA_FINE`` below; unmapped categories are dropped and counted), co-occurrence is counted
per outfit (presence, not multiplicity) over the training-side outfits only, and each pair of
article types of *different* slots gets a shrunk positive PMI:

    weight = max(0, log((n_ab + k) / (n_a * n_b / N + k)))

The ``+ k`` on both sides pulls pairs seen a handful of times towards 0 (no association), so a
rare pair cannot top the list on two lucky outfits. Test, fill-in-the-blank and compatibility
files are never read here: they are kept for ``evals.polyvore``.

``python -m graphs.polyvore`` writes the aggregate ``graphs/data/polyvore_goes_with.json``; only
counts and weights go there, never single records (the data is research-only).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import logging
import math
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from graphs.vocabulary import ARTICLE_KIND, Slot, article_kind, kind_slot

log = logging.getLogger(__name__)

MARYLAND = "polyvore_maryland"
VASILEVA = "polyvore_outfits_vasileva_partial"
#: Training-side files only; the test, FITB and compatibility files belong to the evaluation.
MARYLAND_OUTFITS = "valid_no_dup.json.gz"
MCN_OUTFITS = "mcn_valid_no_dup_with_category_3more_name.json.gz"
VASILEVA_OUTFITS = "nondisjoint_valid.json.gz"
SHRINKAGE = 5.0
MIN_SUPPORT = 5

#: Maryland ``category_id.txt`` names -> catalogue article type. Generic parents ("Clothing",
#: "Shoes", "Accessories", "Jewelry") are left out on purpose: they say nothing about the garment.
#: Boots have no article type of their own in the outfit vocabulary; they wear like casual shoes.
MARYLAND_CATEGORY: dict[str, str] = {
    **dict.fromkeys(
        ["Dresses", "Day Dresses", "Cocktail Dresses", "Gowns", "Wedding Dresses", "Maternity"], "Dresses"
    ),
    **dict.fromkeys(["Skirts", "Mini Skirts", "Knee Length Skirts", "Long Skirts"], "Skirts"),
    **dict.fromkeys(
        ["Tops", "Blouses", "Tank Tops", "Men's Tank Tops", "Activewear Tank Tops", "Camisoles"], "Tops"
    ),
    "Tunics": "Tunics",
    **dict.fromkeys(["Cardigans", "Sweaters", "Men's Sweaters"], "Sweaters"),
    **dict.fromkeys(["T-Shirts", "Men's T-Shirts", "Men's Polos"], "Tshirts"),
    **dict.fromkeys(["Men's Shirts", "Men's Casual Shirts", "Men's Dress Shirts"], "Shirts"),
    **dict.fromkeys(["Sweatshirts", "Hoodies", "Men's Sweatshirts", "Men's Hoodies"], "Sweatshirts"),
    **dict.fromkeys(
        [
            "Outerwear",
            "Coats",
            "Jackets",
            "Activewear Jackets",
            "Men's Outerwear",
            "Men's Coats",
            "Men's Jackets",
        ],
        "Jackets",
    ),
    **dict.fromkeys(["Blazers", "Men's Sportcoats & Blazers"], "Blazers"),
    **dict.fromkeys(["Vests", "Men's Vests"], "Waistcoat"),
    **dict.fromkeys(
        [
            "Jeans",
            "Skinny Jeans",
            "Bootcut Jeans",
            "Wide Leg Jeans",
            "Boyfriend Jeans",
            "Straight Leg Jeans",
            "Flared Jeans",
            "Men's Jeans",
        ],
        "Jeans",
    ),
    **dict.fromkeys(
        ["Pants", "Men's Pants", "Men's Casual Pants", "Men's Dress Pants"],
        "Trousers",
    ),
    "Capri & Cropped Pants": "Capris",
    **dict.fromkeys(["Shorts", "Men's Shorts", "Activewear Shorts"], "Shorts"),
    "Leggings": "Leggings",
    **dict.fromkeys(["Activewear Pants", "Men's Activewear Pants"], "Track Pants"),
    **dict.fromkeys(["Suits", "Men's Suits"], "Suits"),
    "Jumpsuits": "Jumpsuit",
    "Rompers": "Rompers",
    **dict.fromkeys(["Bags", "Tote Bags", "Shoulder Bags", "Handbags", "Men's Bags"], "Handbags"),
    "Clutches": "Clutches",
    **dict.fromkeys(["Backpacks", "Men's Backpacks"], "Backpacks"),
    **dict.fromkeys(["Messenger Bags", "Men's Messenger Bags"], "Messenger Bag"),
    "Pumps": "Heels",
    **dict.fromkeys(["Sandals", "Men's Sandals"], "Sandals"),
    "Flats": "Flats",
    **dict.fromkeys(["Flip Flops", "Men's Flip Flops"], "Flip Flops"),
    **dict.fromkeys(
        [
            "Sneakers",
            "Men's Sneakers",
            "Boots",
            "Ankle Booties",
            "Mid Calf Boots",
            "Knee High Boots",
            "Over-The-Knee Boots",
            "Men's Boots",
            "Loafers & Moccasins",
            "Men's Loafers & Moccasins",
            "Clogs",
        ],
        "Casual Shoes",
    ),
    **dict.fromkeys(["Athletic Shoes", "Men's Athletic Shoes"], "Sports Shoes"),
    **dict.fromkeys(["Oxfords", "Men's Dress Shoes", "Men's Oxfords"], "Formal Shoes"),
    **dict.fromkeys(["Belts", "Men's Belts"], "Belts"),
    **dict.fromkeys(["Gloves", "Men's Gloves"], "Gloves"),
    **dict.fromkeys(["Hats", "Men's Hats"], "Hat"),
    **dict.fromkeys(["Ties", "Bow Ties"], "Ties"),
    **dict.fromkeys(["Sunglasses", "Men's Sunglasses"], "Sunglasses"),
    **dict.fromkeys(["Watches", "Men's Watches"], "Watches"),
    **dict.fromkeys(["Necklaces", "Men's Necklaces"], "Necklace and Chains"),
    "Earrings": "Earrings",
    **dict.fromkeys(["Rings", "Men's Rings"], "Ring"),
    **dict.fromkeys(["Bracelets & Bangles", "Men's Bracelets"], "Bracelet"),
    "Charms & Pendants": "Pendant",
    **dict.fromkeys(["Scarves", "Men's Scarves"], "Scarves"),
    "Cuff Links": "Cufflinks",
}

#: Vasileva ``categories.csv`` fine-grained names -> catalogue article type. One Polyvore category
#: id can carry several fine names there (id 11: "sweater", "shirt", "top"...); an id whose names
#: disagree falls back on ``MARYLAND_CATEGORY`` (the ids are Polyvore's own, shared by both sets).
VASILEVA_FINE: dict[str, str] = {
    **dict.fromkeys(["dress"], "Dresses"),
    **dict.fromkeys(["gown"], "Dresses"),
    **dict.fromkeys(["skirt", "long skirt", "tennis skirt"], "Skirts"),
    **dict.fromkeys(["top", "sleeveless top", "blouse", "tank", "tank top"], "Tops"),
    "shirt": "Shirts",
    **dict.fromkeys(["long-sleeve shirt", "male shirt"], "Shirts"),
    "tunic": "Tunics",
    **dict.fromkeys(["sweater", "turtleneck sweater", "male sweater", "cardigan"], "Sweaters"),
    **dict.fromkeys(["tshirt", "male T-shirt", "male polos"], "Tshirts"),
    **dict.fromkeys(["sweathirt", "hoodie"], "Sweatshirts"),
    **dict.fromkeys(
        [
            "jacket/coat",
            "trench coat",
            "coat",
            "jacket",
            "parka",
            "male jacket",
            "male formal jacket",
            "track jacket",
            "male track jacket",
        ],
        "Jackets",
    ),
    **dict.fromkeys(["blazer", "male suit jacket"], "Blazers"),
    **dict.fromkeys(["vest", "male vest"], "Waistcoat"),
    **dict.fromkeys(["jeans", "male jeans"], "Jeans"),
    **dict.fromkeys(["pants", "pant", "male pants", "male suit pants"], "Trousers"),
    **dict.fromkeys(["shorts", "male knee-length shorts", "male sports shorts"], "Shorts"),
    **dict.fromkeys(["sweatpants", "male sweatpants", "male track pants"], "Track Pants"),
    **dict.fromkeys(["set/suit", "male suit"], "Suits"),
    "jumpsuit": "Jumpsuit",
    "romper": "Rompers",
    **dict.fromkeys(["purse", "handbag", "bag", "tote", "satchel", "basket bag"], "Handbags"),
    "clutch": "Clutches",
    "backpack": "Backpacks",
    "messenger bag": "Messenger Bag",
    "laptop bag": "Laptop Bag",
    "travel bag": "Duffel Bag",
    **dict.fromkeys(["heels", "pump", "heeled boots"], "Heels"),
    **dict.fromkeys(["sandals", "flat sandals"], "Sandals"),
    **dict.fromkeys(["flats"], "Flats"),
    **dict.fromkeys(["flip-flops", "male flip-flops"], "Flip Flops"),
    **dict.fromkeys(
        [
            "sneakers",
            "male sneakers",
            "boots",
            "flat boots",
            "booties",
            "over-the-knee boots",
            "closed shoes",
            "platform shoes",
            "male shoes",
            "male loafers",
        ],
        "Casual Shoes",
    ),
    "male formal shoes": "Formal Shoes",
    **dict.fromkeys(["belt", "male belt"], "Belts"),
    **dict.fromkeys(["gloves", "male gloves"], "Gloves"),
    **dict.fromkeys(["straw hat", "beanie", "hat", "winter hat"], "Hat"),
    **dict.fromkeys(["baseball cap", "male baseball caps"], "Caps"),
    **dict.fromkeys(["tie", "bowtie"], "Ties"),
    **dict.fromkeys(["sunglasses", "male sunglasses"], "Sunglasses"),
    **dict.fromkeys(["watch", "male watch"], "Watches"),
    "necklace": "Necklace and Chains",
    "earrings": "Earrings",
    "ring": "Ring",
    "bracelet": "Bracelet",
    "pendant": "Pendant",
    **dict.fromkeys(["scarf", "male scarves"], "Scarves"),
    "cufflings": "Cufflinks",
}


@dataclass(frozen=True)
class GoesWith:
    """Two catalogue article types (``a < b``) that real outfits pair more often than chance."""

    a: str
    b: str
    weight: float
    support: int


@dataclass(frozen=True)
class PairStat:
    a: str
    b: str
    support: int
    expected: float
    lift: float
    weight: float


def article_slot(article_type: str) -> Slot | None:
    return kind_slot(article_kind(article_type))


def default_data_dir() -> Path:
    """The research datasets folder (``IK_RESEARCH_DATA_DIR``; the Makefile sets it)."""
    from core.training import TrainingPaths

    return TrainingPaths().research_data_dir


def _check_tables() -> None:
    unknown = {t for t in (*MARYLAND_CATEGORY.values(), *VASILEVA_FINE.values()) if t not in ARTICLE_KIND}
    if unknown:  # a typo here would silently drop a category
        raise ValueError(f"mapping tables name article types outside ARTICLE_KIND: {sorted(unknown)}")


def read_maryland_categories(path: Path) -> dict[int, str]:
    """``category_id.txt``: one ``<id> <name>`` per line."""
    names: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            key, _, name = line.strip().partition(" ")
            names[int(key)] = name.strip()
    return names


def maryland_article_types(names: Mapping[int, str]) -> dict[int, str]:
    """Maryland category id -> article type, for the ids whose name is mapped."""
    _check_tables()
    return {cid: MARYLAND_CATEGORY[name] for cid, name in names.items() if name in MARYLAND_CATEGORY}


def vasileva_article_types(rows: Iterable[Sequence[str]], maryland: Mapping[int, str]) -> dict[str, str]:
    """Vasileva category id -> article type, from ``categories.csv`` rows ``id, fine, semantic``.

    An id whose fine names map to one article type gets it; otherwise (names disagree, or none is
    mapped) the Maryland name of the same id decides, and failing that the id is dropped.
    """
    _check_tables()
    fine: dict[str, set[str]] = {}
    for row in rows:
        if len(row) >= 2 and row[0].strip():
            fine.setdefault(row[0].strip(), set()).add(row[1].strip())
    out: dict[str, str] = {}
    for cid, fines in fine.items():
        types = {VASILEVA_FINE[f] for f in fines if f in VASILEVA_FINE}
        if len(types) == 1 and all(f in VASILEVA_FINE for f in fines):
            out[cid] = types.pop()
        elif cid.isdigit() and int(cid) in maryland:
            out[cid] = maryland[int(cid)]
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_json_gz(path: Path) -> Any:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@dataclass
class Outfits:
    """Article-type sets per outfit plus the bookkeeping the provenance header reports."""

    outfits: dict[str, set[str]]
    items: Counter[str]
    dropped: Counter[str]


def maryland_outfits(data_dir: Path) -> Outfits:
    """Maryland valid outfits, plus any MCN valid outfit (a subset, same set ids) not already read."""
    root = data_dir / MARYLAND
    names = read_maryland_categories(root / "category_id.txt")
    types = maryland_article_types(names)
    outfits: dict[str, set[str]] = {}
    items: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for outfit in _read_json_gz(root / MARYLAND_OUTFITS):
        found: set[str] = set()
        for item in outfit["items"]:
            items["maryland"] += 1
            article = types.get(int(item["categoryid"]))
            if article is None:
                dropped[f"maryland:{names.get(int(item['categoryid']), item['categoryid'])}"] += 1
            else:
                found.add(article)
        outfits[f"m{outfit['set_id']}"] = found
    mcn = _read_json_gz(root / MCN_OUTFITS)
    items["mcn_outfits_already_counted"] = sum(1 for set_id in mcn if f"m{set_id}" in outfits)
    items["mcn_outfits_without_fine_category"] = sum(1 for set_id in mcn if f"m{set_id}" not in outfits)
    return Outfits(outfits, items, dropped)


def vasileva_outfits(data_dir: Path, maryland_types: Mapping[int, str], skip: set[str]) -> Outfits:
    """Vasileva nondisjoint valid outfits, minus set ids already read from Maryland."""
    root = data_dir / VASILEVA
    with (root / "categories.csv").open(encoding="utf-8", newline="") as handle:
        types = vasileva_article_types(csv.reader(handle), maryland_types)
    item_category: dict[str, str] = _read_json_gz(root / "item_category_id_map.json.gz")
    outfits: dict[str, set[str]] = {}
    items: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for outfit in _read_json_gz(root / VASILEVA_OUTFITS):
        if f"m{outfit['set_id']}" in skip:
            items["vasileva_outfits_also_in_maryland"] += 1
            continue
        found: set[str] = set()
        for item in outfit["items"]:
            items["vasileva"] += 1
            cid = item_category.get(str(item["item_id"]))
            if cid is None:
                dropped["vasileva:<no category>"] += 1
                continue
            article = types.get(str(cid))
            if article is None:
                dropped[f"vasileva:{cid}"] += 1
            else:
                found.add(article)
        outfits[f"v{outfit['set_id']}"] = found
    return Outfits(outfits, items, dropped)


def cooccurrence(outfits: Iterable[set[str]]) -> tuple[int, Counter[str], Counter[tuple[str, str]]]:
    """Outfit count, per-type outfit counts and cross-slot pair counts, over outfits with 2+ types."""
    n = 0
    single: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for types in outfits:
        if len(types) < 2:
            continue
        n += 1
        single.update(types)
        for a, b in combinations(sorted(types), 2):
            slot_a, slot_b = article_slot(a), article_slot(b)
            if slot_a is not None and slot_b is not None and slot_a != slot_b:
                pairs[(a, b)] += 1
    return n, single, pairs


def pair_stats(
    n: int,
    single: Mapping[str, int],
    pairs: Mapping[tuple[str, str], int],
    *,
    shrinkage: float = SHRINKAGE,
    min_support: int = MIN_SUPPORT,
) -> list[PairStat]:
    """Shrunk PPMI per pair with at least ``min_support`` outfits, strongest first."""
    out: list[PairStat] = []
    for (a, b), support in pairs.items():
        if support < min_support:
            continue
        expected = single[a] * single[b] / n
        lift = support / expected
        weight = max(0.0, math.log((support + shrinkage) / (expected + shrinkage)))
        out.append(PairStat(a, b, support, expected, lift, weight))
    out.sort(key=lambda s: (-s.weight, -s.support, s.a, s.b))
    return out


def build(data_dir: Path, *, shrinkage: float = SHRINKAGE, min_support: int = MIN_SUPPORT) -> dict[str, Any]:
    """The JSON document ``python -m graphs.polyvore`` writes (pairs with a positive weight)."""
    maryland_root = data_dir / MARYLAND
    maryland_types = maryland_article_types(read_maryland_categories(maryland_root / "category_id.txt"))
    first = maryland_outfits(data_dir)
    second = vasileva_outfits(data_dir, maryland_types, set(first.outfits))
    all_outfits = {**first.outfits, **second.outfits}
    n, single, pairs = cooccurrence(all_outfits.values())
    stats = [
        s for s in pair_stats(n, single, pairs, shrinkage=shrinkage, min_support=min_support) if s.weight > 0
    ]
    dropped = first.dropped + second.dropped
    sources = [
        maryland_root / "category_id.txt",
        maryland_root / MARYLAND_OUTFITS,
        maryland_root / MCN_OUTFITS,
        data_dir / VASILEVA / "categories.csv",
        data_dir / VASILEVA / "item_category_id_map.json.gz",
        data_dir / VASILEVA / VASILEVA_OUTFITS,
    ]
    return {
        "header": {
            "what": "GOES_WITH between catalogue article types of different slots, from Polyvore outfits",
            "weight": f"max(0, log((n_ab + {shrinkage}) / (n_a * n_b / N + {shrinkage})))",
            "counts_are": "outfits containing the article type(s) (presence, not multiplicity)",
            "min_support": min_support,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "sources": [
                {"file": f"{p.parent.name}/{p.name}", "sha256": _sha256(p), "bytes": p.stat().st_size}
                for p in sources
            ],
            "terms": "research/evaluation data; only aggregate counts are stored here",
            "counts": {
                "outfits_read": len(all_outfits),
                "outfits_used": n,
                "items": dict(first.items + second.items),
                "items_dropped": sum(dropped.values()),
                "top_dropped_categories": dict(dropped.most_common(25)),
                "article_types": len(single),
                "cross_slot_pairs_seen": len(pairs),
                "pairs_written": len(stats),
            },
            "article_type_outfits": dict(single.most_common()),
        },
        "pairs": [
            {
                "a": s.a,
                "b": s.b,
                "weight": round(s.weight, 4),
                "support": s.support,
                "lift": round(s.lift, 3),
            }
            for s in stats
        ],
    }


def default_output() -> Path:
    """Where the table goes (``IK_RECOMMEND__GOES_WITH_PATH``): outside the repository, because it is
    derived from research-only data, like the trained models."""
    from core.training import TrainingPaths

    return TrainingPaths().recommend.goes_with_path


def load_goes_with(path: Path) -> list[GoesWith]:
    """The pairs of the table, strongest first; empty when the table was never built."""
    if not path.is_file():
        log.warning("no Polyvore GOES_WITH table at %s; run python -m tools.recommend train", path)
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    return [
        GoesWith(a=str(p["a"]), b=str(p["b"]), weight=float(p["weight"]), support=int(p["support"]))
        for p in document["pairs"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphs.polyvore", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None, help="research datasets folder")
    parser.add_argument("--output", type=Path, default=None, help="default: IK_RECOMMEND__GOES_WITH_PATH")
    parser.add_argument("--shrinkage", type=float, default=SHRINKAGE)
    parser.add_argument("--min-support", type=int, default=MIN_SUPPORT)
    args = parser.parse_args(argv)
    document = build(
        args.data_dir or default_data_dir(), shrinkage=args.shrinkage, min_support=args.min_support
    )
    args.output = args.output or default_output()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = {
        "output": str(args.output),
        **document["header"]["counts"],
        "top": [f"{p['a']} + {p['b']}: {p['weight']} ({p['support']})" for p in document["pairs"][:10]],
    }
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    raise SystemExit(main())
