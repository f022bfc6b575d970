"""Prompts for a text-to-image server, used only when a diffusion server is configured.

SD-1.5-class models read English through CLIP, which sees 77 tokens (75 after its start and end
markers) and silently drops the rest. So the prompt is English, built in order of importance
(who, what they wear, for what, in which style, where, how it is photographed) and cut from the
least important end to stay inside the window, rather than letting CLIP cut the garments.

Chinese input is translated with a small fashion lexicon; a Chinese word the lexicon does not
know is dropped: passed through, it would become noise tokens the model cannot read.
Characters that are prompt syntax for common servers (weights, alternations) are removed, so a
product name cannot re-weight the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: CLIP's 77-token window less its start and end markers.
MAX_TOKENS = 75

NEGATIVE_PROMPT = (
    "lowres, blurry, jpeg artifacts, deformed, disfigured, bad anatomy, bad hands, extra limbs, "
    "extra fingers, missing fingers, distorted face, cropped, out of frame, watermark, text, logo, "
    "signature, duplicate, mannequin, oversaturated"
)

# Photographic words, most useful first: the cap drops them from the end.
_PHOTO_WORDS = ("editorial fashion photography", "soft natural light", "sharp focus", "high detail", "85mm")

#: Chinese fashion, colour, occasion and style words to English; longest match wins.
LEXICON: dict[str, str] = {
    # colours
    "黑色": "black",
    "白色": "white",
    "红色": "red",
    "酒红色": "burgundy",
    "蓝色": "blue",
    "藏青色": "navy blue",
    "藏青": "navy blue",
    "海军蓝": "navy blue",
    "天蓝色": "sky blue",
    "绿色": "green",
    "橄榄绿": "olive green",
    "墨绿色": "dark green",
    "黄色": "yellow",
    "橙色": "orange",
    "紫色": "purple",
    "粉色": "pink",
    "粉红色": "pink",
    "灰色": "grey",
    "棕色": "brown",
    "咖啡色": "brown",
    "米色": "beige",
    "米白色": "off-white",
    "卡其色": "khaki",
    "驼色": "camel",
    "金色": "gold",
    "银色": "silver",
    "奶油色": "cream",
    "黑": "black",
    "白": "white",
    "红": "red",
    "蓝": "blue",
    "绿": "green",
    "灰": "grey",
    # garments
    "衬衫": "shirt",
    "t恤": "t-shirt",
    "上衣": "top",
    "外套": "jacket",
    "夹克": "jacket",
    "西装": "suit",
    "西装外套": "blazer",
    "大衣": "coat",
    "风衣": "trench coat",
    "毛衣": "sweater",
    "针织衫": "knit cardigan",
    "卫衣": "sweatshirt",
    "连衣裙": "dress",
    "裙子": "skirt",
    "半身裙": "skirt",
    "裤子": "trousers",
    "长裤": "trousers",
    "西裤": "tailored trousers",
    "牛仔裤": "jeans",
    "短裤": "shorts",
    "鞋子": "shoes",
    "运动鞋": "sneakers",
    "高跟鞋": "high heels",
    "皮鞋": "leather shoes",
    "靴子": "boots",
    "凉鞋": "sandals",
    "平底鞋": "flats",
    "包": "bag",
    "手提包": "handbag",
    "双肩包": "backpack",
    "背包": "backpack",
    "围巾": "scarf",
    "帽子": "hat",
    "腰带": "belt",
    "皮带": "belt",
    "领带": "tie",
    "手表": "watch",
    "项链": "necklace",
    "耳环": "earrings",
    "墨镜": "sunglasses",
    "太阳镜": "sunglasses",
    "旗袍": "qipao dress",
    # materials
    "丝绸": "silk",
    "棉": "cotton",
    "亚麻": "linen",
    "羊毛": "wool",
    "皮革": "leather",
    "牛仔": "denim",
    # occasions
    "婚礼": "wedding",
    "面试": "job interview",
    "上班": "office",
    "通勤": "office commute",
    "办公室": "office",
    "约会": "date night",
    "派对": "party",
    "聚会": "party",
    "晚宴": "dinner party",
    "旅行": "travel",
    "旅游": "travel",
    "度假": "vacation",
    "海滩": "beach",
    "运动": "sport",
    "健身": "gym",
    "休闲": "casual",
    "正式": "formal",
    "商务": "business",
    "毕业典礼": "graduation ceremony",
    "春节": "Chinese New Year",
    # styles
    "简约": "minimalist",
    "极简": "minimalist",
    "复古": "vintage",
    "街头": "streetwear",
    "优雅": "elegant",
    "甜美": "sweet",
    "韩系": "Korean",
    "日系": "Japanese",
    "法式": "French chic",
    "商务休闲": "smart casual",
    "学院风": "preppy",
    "运动风": "sporty",
    # settings and seasons
    "城市街道": "city street",
    "街道": "street",
    "公园": "park",
    "咖啡馆": "cafe",
    "海边": "seaside",
    "花园": "garden",
    "春季": "spring",
    "夏季": "summer",
    "秋季": "autumn",
    "冬季": "winter",
    # people
    "男士": "man",
    "男性": "man",
    "男": "man",
    "女士": "woman",
    "女性": "woman",
    "女": "woman",
}
_LONGEST_KEY = max(len(key) for key in LEXICON)

_GENDERS = {
    "men": "man",
    "man": "man",
    "male": "man",
    "women": "woman",
    "woman": "woman",
    "female": "woman",
    "boys": "boy",
    "boy": "boy",
    "girls": "girl",
    "girl": "girl",
}

# Catalogue article types that read oddly as a phrase, in the singular the prompt wants.
_ARTICLE_TYPES = {
    "tshirts": "t-shirt",
    "shirts": "shirt",
    "tops": "top",
    "sweaters": "sweater",
    "sweatshirts": "sweatshirt",
    "jackets": "jacket",
    "blazers": "blazer",
    "dresses": "dress",
    "skirts": "skirt",
    "kurtas": "kurta",
    "trousers": "trousers",
    "track pants": "track pants",
    "casual shoes": "casual shoes",
    "sports shoes": "sneakers",
    "formal shoes": "formal shoes",
    "handbags": "handbag",
    "backpacks": "backpack",
    "watches": "watch",
    "belts": "belt",
    "caps": "cap",
}

_SYNTAX = re.compile(r"[()\[\]{}<>:|\\\"*#;=_~`^]")
_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")


@dataclass(frozen=True)
class PromptPiece:
    """One garment as the prompt names it; colour and type as the catalogue gives them."""

    name: str
    colour: str | None = None
    article_type: str | None = None


@dataclass(frozen=True)
class ImagePrompt:
    """Everything a diffusion server needs for one image; the seed makes it reproducible."""

    prompt: str
    negative_prompt: str
    width: int
    height: int
    seed: int


def _is_cjk(char: str) -> bool:
    return ord(char) >= 0x2E80


def to_english(text: str | None) -> str:
    """Translate the Chinese words the lexicon knows, drop the ones it does not, keep the rest."""
    if not text:
        return ""
    out: list[str] = []
    i = 0
    lowered = text.lower()
    while i < len(text):
        for length in range(min(_LONGEST_KEY, len(text) - i), 0, -1):
            english = LEXICON.get(lowered[i : i + length])
            if english is not None:
                out.append(f" {english} ")
                i += length
                break
        else:
            out.append(" " if _is_cjk(text[i]) else text[i])
            i += 1
    cleaned = _SYNTAX.sub(" ", "".join(out)).replace(",", " ")
    return " ".join(cleaned.split())


def count_tokens(text: str) -> int:
    """CLIP tokens, approximated: one per word or punctuation mark (long words may take more)."""
    return len(_TOKEN.findall(text))


def _article(article_type: str | None) -> str:
    english = to_english(article_type).lower()
    return _ARTICLE_TYPES.get(english, english)


def _garment(piece: PromptPiece) -> str:
    """Colour, then the name, then the article type when the name does not already say it."""
    name = _squeeze(to_english(piece.name).lower())
    colour = to_english(piece.colour).lower()
    article = _article(piece.article_type)
    if not name:
        name = article
    elif article and not _names_article(name, article):
        name = f"{name} {article}"
    if colour and colour not in name:
        name = f"{colour} {name}"
    return name.strip()


def _squeeze(text: str) -> str:
    """Collapse a word repeated back to back ("bag bag"), which lexicon lookups can produce."""
    words: list[str] = []
    for word in text.split():
        if not words or words[-1] != word:
            words.append(word)
    return " ".join(words)


def _stem(word: str) -> str:
    return word.rstrip("s") if len(word) > 3 else word


# Words that already say what kind of piece a name is; singular, as _stem leaves them.
_GARMENT_WORDS = (
    "shirt tee t-shirt top blouse sweater jumper cardigan hoodie sweatshirt jacket blazer coat "
    "dress skirt trouser pant jean chino short legging jogger shoe sneaker trainer loafer heel "
    "boot sandal flat slipper bag handbag backpack tote clutch wallet watch belt cap hat scarf "
    "stole tie sunglass kurta saree suit jumpsuit"
)
_GARMENT_NOUNS = frozenset(_GARMENT_WORDS.split())


def _names_article(name: str, article: str) -> bool:
    """Whether the name already says what kind of piece it is ("chinos", "bag" for a handbag)."""
    if _stem(article) in name:
        return True
    return any(
        _stem(word) in _GARMENT_NOUNS or (len(_stem(word)) >= 3 and _stem(word) in article)
        for word in name.split()
    )


def _subject(gender: str | None) -> str:
    english = to_english(gender).lower()
    person = _GENDERS.get(english, "person")
    return f"full body fashion photo of a {person}"


def _dedupe(phrases: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for phrase in phrases:
        key = phrase.lower()
        if phrase and key not in seen:
            seen.add(key)
            kept.append(phrase)
    return kept


def outfit_prompt(
    pieces: Sequence[PromptPiece],
    *,
    occasion: str | None,
    style: str | None,
    gender: str | None,
    setting: str | None = None,
    seed: int = 0,
    width: int = 768,
    height: int = 1024,
    max_tokens: int = MAX_TOKENS,
) -> ImagePrompt:
    """Build the prompt for a picture of one person wearing the outfit."""
    if not pieces:
        raise ValueError("an outfit prompt needs at least one piece")
    for side in (width, height):
        if not 256 <= side <= 2048 or side % 8:
            raise ValueError(f"width and height must be multiples of 8 between 256 and 2048, got {side}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")

    garments = _dedupe([_garment(piece) for piece in pieces])
    occasion_en = to_english(occasion)
    style_en = to_english(style)
    setting_en = to_english(setting)
    occasion_part = f"{occasion_en} outfit" if occasion_en else ""
    style_part = style_en if not style_en or "style" in style_en.lower() else f"{style_en} style"
    setting_part = f"{setting_en} background" if setting_en else ""

    photo = list(_PHOTO_WORDS)
    optional: dict[str, str] = {"occasion": occasion_part, "style": style_part, "setting": setting_part}

    def build() -> str:
        parts = [_subject(gender)]
        if garments:
            parts.append("wearing " + garments[0])
            parts.extend(garments[1:])
        parts.extend(optional[key] for key in ("occasion", "style", "setting"))
        parts.extend(photo)
        return ", ".join(_dedupe([part for part in parts if part]))

    prompt = build()
    # Least important first: where, then how it is photographed, then style, occasion, garments.
    while count_tokens(prompt) > max_tokens:
        if optional["setting"]:
            optional["setting"] = ""
        elif photo:
            photo.pop()
        elif optional["style"]:
            optional["style"] = ""
        elif optional["occasion"]:
            optional["occasion"] = ""
        elif len(garments) > 1:
            garments.pop()
        else:
            words = prompt.split(" ")
            prompt = " ".join(words[:-1]).rstrip(", ")
            continue
        prompt = build()
    return ImagePrompt(prompt, NEGATIVE_PROMPT, width, height, seed)
