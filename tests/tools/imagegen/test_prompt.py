"""Outfit prompts are English, ordered, de-duplicated and inside CLIP's window."""

from __future__ import annotations

import pytest

from tools.imagegen.prompt import (
    LEXICON,
    MAX_TOKENS,
    NEGATIVE_PROMPT,
    PromptPiece,
    count_tokens,
    outfit_prompt,
    to_english,
)


def has_cjk(text: str) -> bool:
    return any(ord(char) >= 0x2E80 for char in text)


PIECES = [
    PromptPiece("Shirt", "Navy Blue", "Shirts"),
    PromptPiece("Chinos", "Beige", "Trousers"),
    PromptPiece("Loafers", "Brown", "Formal Shoes"),
]


def test_every_piece_appears_with_its_colour() -> None:
    prompt = outfit_prompt(PIECES, occasion="office", style="smart casual", gender="Men").prompt
    for phrase in ("navy blue shirt", "beige chinos", "brown loafers"):
        assert phrase in prompt
    assert prompt.startswith("full body fashion photo of a man, wearing navy blue shirt")


def test_parts_come_in_order_of_importance() -> None:
    prompt = outfit_prompt(
        PIECES, occasion="wedding", style="elegant", gender="Women", setting="garden"
    ).prompt
    order = [
        prompt.index(part) for part in ("woman", "navy blue shirt", "wedding", "elegant", "garden", "sharp")
    ]
    assert order == sorted(order)


def test_chinese_occasion_colour_and_name_are_translated() -> None:
    pieces = [PromptPiece("西装外套", "藏青色", None), PromptPiece("连衣裙", "米色", None)]
    prompt = outfit_prompt(pieces, occasion="婚礼", style="优雅", gender="女", setting="花园").prompt
    assert not has_cjk(prompt)
    for phrase in ("navy blue blazer", "beige dress", "wedding outfit", "elegant style", "garden", "woman"):
        assert phrase in prompt


def test_unknown_chinese_is_dropped_not_passed_through() -> None:
    prompt = outfit_prompt(PIECES, occasion="婚礼", style="赛博朋克", gender=None, setting="量子空间").prompt
    assert not has_cjk(prompt)
    assert "style" not in prompt
    assert "background" not in prompt
    assert "wedding" in prompt
    assert to_english("藏青色赛博") == "navy blue"


def test_prompt_is_capped_dropping_setting_and_style_words_first() -> None:
    pieces = [
        PromptPiece("Turtle Check Slim Fit Casual Shirt", "Navy Blue", "Shirts"),
        PromptPiece("Peter England Tapered Stretch Chinos", "Beige", "Trousers"),
        PromptPiece("Hush Puppies Leather Penny Loafers", "Brown", "Formal Shoes"),
        PromptPiece("Fastrack Leather Strap Analog Watch", "Silver", "Watches"),
        PromptPiece("Wildcraft Canvas Laptop Backpack", "Olive", "Backpacks"),
        PromptPiece("Ray Ban Aviator Sunglasses", "Gold", None),
        PromptPiece("Van Heusen Silk Tie", "Maroon", None),
        PromptPiece("Jockey Cotton Ankle Socks", "Charcoal", "Socks"),
    ]
    result = outfit_prompt(
        pieces,
        occasion="business meeting",
        style="smart casual",
        gender="Men",
        setting="modern glass office lobby",
    )
    assert count_tokens(result.prompt) <= MAX_TOKENS
    assert "lobby" not in result.prompt  # the setting goes first
    assert "85mm" not in result.prompt  # then photographic style words
    assert "business meeting outfit" in result.prompt  # the occasion outlives them
    for piece in pieces:
        assert f"{piece.colour} {piece.name}".lower() in result.prompt  # garments stay


def test_tiny_cap_still_keeps_subject_and_first_garment() -> None:
    result = outfit_prompt(PIECES, occasion="wedding", style="elegant", gender="Men", max_tokens=16)
    assert count_tokens(result.prompt) <= 16
    assert "navy blue shirt" in result.prompt
    assert "wedding" not in result.prompt


def test_duplicates_and_doubled_colours_are_removed() -> None:
    pieces = [
        PromptPiece("Navy Blue Shirt", "Navy Blue", "Shirts"),
        PromptPiece("navy blue shirt", "navy blue", None),
    ]
    prompt = outfit_prompt(pieces, occasion=None, style=None, gender=None).prompt
    assert prompt.count("navy blue") == 1
    assert "person" in prompt


def test_article_type_names_a_vague_piece() -> None:
    prompt = outfit_prompt(
        [PromptPiece("Turtle Check", "Red", "Shirts")], occasion=None, style=None, gender="Men"
    )
    assert "red turtle check shirt" in prompt.prompt


def test_prompt_syntax_in_names_is_neutralised() -> None:
    pieces = [PromptPiece("(shirt:1.8) [nsfw|cat]", "White", None)]
    prompt = outfit_prompt(pieces, occasion=None, style=None, gender=None).prompt
    assert not set("()[]:|") & set(prompt)


def test_size_seed_and_negative_prompt_are_passed_through() -> None:
    result = outfit_prompt(PIECES, occasion=None, style=None, gender=None, seed=42, width=512, height=768)
    assert (result.width, result.height, result.seed) == (512, 768, 42)
    assert result.negative_prompt == NEGATIVE_PROMPT
    assert "blurry" in result.negative_prompt
    assert "extra fingers" in result.negative_prompt


@pytest.mark.parametrize(("kwargs", "message"), [({"width": 500}, "multiples of 8"), ({"seed": -1}, "seed")])
def test_bad_size_or_seed_is_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        outfit_prompt(PIECES, occasion=None, style=None, gender=None, **kwargs)  # type: ignore[arg-type]


def test_no_pieces_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one piece"):
        outfit_prompt([], occasion=None, style=None, gender=None)


def test_lexicon_is_english_and_big_enough() -> None:
    assert len(LEXICON) >= 40
    assert all(not has_cjk(english) for english in LEXICON.values())
