"""The wardrobe cues the router's labels leave to the handlers, on English and Chinese wordings."""

from __future__ import annotations

import pytest

from agent.wardrobe_words import (
    asks_about_idle,
    asks_to_add,
    asks_what_to_wear,
    described_item,
    is_wear_statement,
    photo_caption,
    worn_pieces,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "pieces", "days"),
    [
        ("I wore my white tee and blue jeans yesterday", ["my white tee", "blue jeans"], 1),
        (
            "today I'm wearing my beige trench and white sneakers, note that down",
            ["my beige trench", "white sneakers"],
            0,
        ),
        ("今天穿了白T恤和牛仔裤", ["白T恤", "牛仔裤"], 0),
        ("记录一下我今天穿的米色风衣和小白鞋", ["米色风衣", "小白鞋"], 0),
        ("前天穿了那件橄榄色夹克", ["那件橄榄色夹克"], 2),
    ],
)
def test_wear_statements_name_their_pieces(text: str, pieces: list[str], days: int) -> None:
    assert is_wear_statement(text)
    assert worn_pieces(text) == (pieces, days)


@pytest.mark.parametrize(
    "text",
    [
        "what have I worn this month?",
        "我有哪些衣服很久没穿了",
        "what should I wear tomorrow?",
        "add my blazer",
    ],
)
def test_questions_are_not_wear_statements(text: str) -> None:
    assert not is_wear_statement(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("add my navy blazer to my wardrobe", "navy blazer"),
        ("please add a navy blazer to my closet", "navy blazer"),
        ("save the Grey Hoodie in my wardrobe", "Grey Hoodie"),
        ("add some linen trousers to my wardrobe", "linen trousers"),
        ("把我的白色运动鞋加到衣橱里", "白色运动鞋"),
        ("我有一双白色运动鞋，帮我加进衣橱", "白色运动鞋"),
        ("帮我把白色运动鞋添加到衣橱", "白色运动鞋"),
    ],
)
def test_add_requests_are_recognised_and_named(text: str, name: str) -> None:
    assert asks_to_add(text)
    assert described_item(text) == name


def test_idle_and_what_to_wear_questions() -> None:
    assert asks_about_idle("what haven't I worn lately?")
    assert asks_about_idle("which clothes have I never worn?")
    assert asks_about_idle("我有哪些衣服很久没穿了")
    assert not asks_about_idle("what's in my wardrobe?")
    assert asks_what_to_wear("which of my clothes should I wear this summer?")
    assert asks_what_to_wear("我衣橱里的衣服夏天怎么搭？")
    assert not asks_what_to_wear("how many jackets do I have?")


@pytest.mark.parametrize(
    ("text", "caption"),
    [
        ("add this to my wardrobe", None),
        ("please save these to my closet", None),
        ("把这件加到衣橱", None),
        ("帮我把这个添加到衣柜", None),
        ("add my favourite linen shirt to my wardrobe", "favourite linen shirt"),
        ("把我的白色运动鞋加到衣橱里", "白色运动鞋"),
    ],
)
def test_a_photo_caption_keeps_what_names_the_item_and_drops_pointing(text: str, caption: str | None) -> None:
    assert photo_caption(text) == caption
