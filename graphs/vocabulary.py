"""The closed vocabularies the knowledge graph and recommendation speak: occasions, seasons,
item kinds and outfit slots.

They are shared by three data sources that name things differently (our catalogue's
article types, RentTheRunway's categories and "rented for" answers, Polyvore's
categories), so every source maps *into* these sets and models never see a source's
own labels. They live with the graph, the lowest package that needs them;
``tools.recommend.schemas`` re-exports them.
"""

from __future__ import annotations

from enum import StrEnum


class Occasion(StrEnum):
    """What the outfit is for; RentTheRunway's "rented for" answers map one-to-one except ``sport``."""

    WEDDING = "wedding"
    FORMAL = "formal"
    PARTY = "party"
    WORK = "work"
    DATE = "date"
    EVERYDAY = "everyday"
    VACATION = "vacation"
    SPORT = "sport"
    OTHER = "other"


class Season(StrEnum):
    SPRING = "spring"
    SUMMER = "summer"
    FALL = "fall"
    WINTER = "winter"


class ItemKind(StrEnum):
    """What a garment is, coarse enough that RentTheRunway's and our catalogue's labels agree."""

    DRESS = "dress"
    GOWN = "gown"
    JUMPSUIT = "jumpsuit"
    TOP = "top"
    KNIT = "knit"
    BOTTOM = "bottom"
    OUTERWEAR = "outerwear"
    SUIT = "suit"
    ETHNIC = "ethnic"
    SHOES = "shoes"
    BAG = "bag"
    ACCESSORY = "accessory"
    OTHER = "other"


class Slot(StrEnum):
    """A place in an outfit: top + bottom, or a one-piece, then shoes and optional extras."""

    TOP = "top"
    BOTTOM = "bottom"
    ONE_PIECE = "one_piece"
    OUTERWEAR = "outerwear"
    SHOES = "shoes"
    BAG = "bag"
    ACCESSORY = "accessory"


#: The kinds that fill each slot.
KIND_SLOT: dict[ItemKind, Slot | None] = {
    ItemKind.DRESS: Slot.ONE_PIECE,
    ItemKind.GOWN: Slot.ONE_PIECE,
    ItemKind.JUMPSUIT: Slot.ONE_PIECE,
    ItemKind.SUIT: Slot.ONE_PIECE,
    ItemKind.ETHNIC: Slot.ONE_PIECE,
    ItemKind.TOP: Slot.TOP,
    ItemKind.KNIT: Slot.TOP,
    ItemKind.BOTTOM: Slot.BOTTOM,
    ItemKind.OUTERWEAR: Slot.OUTERWEAR,
    ItemKind.SHOES: Slot.SHOES,
    ItemKind.BAG: Slot.BAG,
    ItemKind.ACCESSORY: Slot.ACCESSORY,
    ItemKind.OTHER: None,
}

#: Catalogue article types (the Fashion Product Images ``articleType``) by kind. Innerwear,
#: nightwear, socks and personal care have no kind: they are never part of an outfit.
ARTICLE_KIND: dict[str, ItemKind] = {
    **dict.fromkeys(["Dresses", "Nightdress"], ItemKind.DRESS),
    **dict.fromkeys(["Jumpsuit", "Rompers", "Clothing Set"], ItemKind.JUMPSUIT),
    **dict.fromkeys(["Suits"], ItemKind.SUIT),
    **dict.fromkeys(["Sarees", "Kurta Sets", "Lehenga Choli", "Salwar and Dupatta"], ItemKind.ETHNIC),
    **dict.fromkeys(
        ["Tshirts", "Shirts", "Tops", "Tunics", "Kurtas", "Kurtis", "Lounge Tshirts"], ItemKind.TOP
    ),
    **dict.fromkeys(["Sweaters", "Sweatshirts", "Shrug"], ItemKind.KNIT),
    **dict.fromkeys(
        [
            "Jeans",
            "Trousers",
            "Shorts",
            "Skirts",
            "Capris",
            "Track Pants",
            "Leggings",
            "Jeggings",
            "Churidar",
            "Salwar",
            "Patiala",
            "Rain Trousers",
            "Tracksuits",
            "Lounge Pants",
        ],
        ItemKind.BOTTOM,
    ),
    **dict.fromkeys(
        ["Jackets", "Blazers", "Nehru Jackets", "Rain Jacket", "Waistcoat"],
        ItemKind.OUTERWEAR,
    ),
    **dict.fromkeys(
        [
            "Casual Shoes",
            "Sports Shoes",
            "Formal Shoes",
            "Heels",
            "Flats",
            "Sandals",
            "Sports Sandals",
            "Flip Flops",
        ],
        ItemKind.SHOES,
    ),
    **dict.fromkeys(
        [
            "Handbags",
            "Clutches",
            "Backpacks",
            "Messenger Bag",
            "Laptop Bag",
            "Duffel Bag",
            "Rucksacks",
            "Waist Pouch",
        ],
        ItemKind.BAG,
    ),
    **dict.fromkeys(
        [
            "Watches",
            "Belts",
            "Sunglasses",
            "Ties",
            "Cufflinks",
            "Scarves",
            "Stoles",
            "Mufflers",
            "Dupatta",
            "Caps",
            "Hat",
            "Earrings",
            "Necklace and Chains",
            "Pendant",
            "Bracelet",
            "Bangle",
            "Ring",
            "Jewellery Set",
            "Gloves",
        ],
        ItemKind.ACCESSORY,
    ),
}


def article_kind(article_type: str | None) -> ItemKind:
    """The kind of a catalogue article type; ``OTHER`` for anything that is not worn in an outfit."""
    if not article_type:
        return ItemKind.OTHER
    return ARTICLE_KIND.get(article_type.strip(), ItemKind.OTHER)


def kind_slot(kind: ItemKind) -> Slot | None:
    return KIND_SLOT[kind]
