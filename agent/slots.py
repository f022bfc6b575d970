"""Deterministic slot extraction from one chat message in Chinese, English or a mix.

The router and the tools need the concrete facts in a message (a height, a budget, the
occasion, "the second one") before any model is asked anything: rules are instant, free,
reproducible and testable, and they never invent a number. Everything here is
conservative on purpose. A number becomes a measurement only next to a cue word or a
unit, a budget only next to a currency or a budget phrase, and a value outside the
plausible ranges of ``tools.profile.schemas`` is dropped rather than guessed at; the agent
can always ask, but it cannot un-store a wrong height.

The message is read as NFKC-normalised lower-case text (full-width ``１７０ＣＭ`` reads as
``170cm``), capped at ``MAX_CHARS``; the spans reported point back into the original text.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tools.profile.schemas import RANGE_KG, RANGE_SHOE_EU, RANGES_CM, Currency, FitPreference, Style
from tools.profile.units import LengthUnit, ShoeSizeSystem, WeightUnit, shoe_to_eu, to_cm, to_kg
from tools.sizing.schemas import FitLabel as FitFeedback

logger = logging.getLogger(__name__)

#: Only this much of a message is read: slots live in what a person types, not in pasted essays,
#: and the cap bounds the work on hostile input.
MAX_CHARS = 2000
#: The profile schema's budget ceiling; larger amounts are typos or not budgets at all.
MAX_AMOUNT = 1_000_000.0
#: Nobody is shown more results than this, so a larger "ordinal" is something else.
MAX_ORDINAL = 50
JIN_KG = 0.5

T = TypeVar("T")
V = TypeVar("V")


# --- slot types ------------------------------------------------------------------------------


class Occasion(StrEnum):
    wedding = "wedding"
    work = "work"
    interview = "interview"
    date = "date"
    party = "party"
    casual = "casual"
    travel = "travel"
    sport = "sport"
    formal_event = "formal_event"
    funeral = "funeral"
    graduation = "graduation"
    beach = "beach"


class Season(StrEnum):
    spring = "spring"
    summer = "summer"
    autumn = "autumn"
    winter = "winter"


class Weather(StrEnum):
    hot = "hot"
    cold = "cold"
    rainy = "rainy"
    windy = "windy"
    snowy = "snowy"


#: The unit a measurement was given in: the stored value is always cm, kg or EU.
SourceUnit = Literal["cm", "m", "in", "ft_in", "kg", "lb", "jin", "EU", "UK", "US_men", "US_women", "CN"]


class _Slot(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measurement(_Slot):
    """A value in cm, kg or EU shoe size, with what was typed so the agent can echo it back."""

    value: float
    unit: SourceUnit
    text: str


class Measurements(_Slot):
    """Named like ``MeasurementsIn`` so a confirmed slot maps onto a profile update field by field."""

    height: Measurement | None = None
    weight: Measurement | None = None
    chest: Measurement | None = None
    waist: Measurement | None = None
    hips: Measurement | None = None
    inseam: Measurement | None = None
    shoulder: Measurement | None = None
    shoe_size: Measurement | None = None


class BudgetRange(_Slot):
    min: float | None = None
    max: float | None = None
    #: ``None`` when the message names no currency: the caller falls back to the profile's.
    currency: Currency | None = None
    text: str = ""


class PriceThreshold(_Slot):
    value: float
    currency: Currency | None = None
    text: str = ""


class Reference(_Slot):
    """A pointer at earlier results: ``index`` counts from 1, or from the end when negative."""

    kind: Literal["ordinal", "deictic"]
    index: int | None = None
    text: str = ""


class Slots(_Slot):
    """Everything found in one message; empty fields mean "not mentioned", never "no"."""

    measurements: Measurements = Field(default_factory=Measurements)
    budget: BudgetRange | None = None
    price_threshold: PriceThreshold | None = None
    occasion: Occasion | None = None
    season: Season | None = None
    weather: list[Weather] = Field(default_factory=list)
    colours: list[str] = Field(default_factory=list)
    #: Colours the person rules out ("不要黑色", "no beige"), kept apart so they are never searched for.
    avoided_colours: list[str] = Field(default_factory=list)
    #: Colours wanted exclusively ("black and white only", "只要黑白"), as said, even where the same
    #: message also rules them out: the recommender explains that contradiction instead of guessing.
    only_colours: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    sizes: list[str] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    fit_preference: FitPreference | None = None
    styles: list[Style] = Field(default_factory=list)
    #: How a size turned out ("the M was too tight" -> small), for fit feedback.
    fit_feedback: FitFeedback | None = None
    #: Catalog product ids named in the message ("product 15970", "编号15970").
    product_ids: list[str] = Field(default_factory=list)


# --- lexicons --------------------------------------------------------------------------------
# Keys are lower-case; ``None`` marks a phrase that contains a cue but means something else
# ("明白" is not white, "shoe size" is not a request for shoes). Matching is longest first.

COLOURS: dict[str, str | None] = {
    # English
    "black": "black", "white": "white", "off white": "cream", "ivory": "cream", "cream": "cream",
    "grey": "grey", "gray": "grey", "charcoal": "grey", "navy": "navy", "navy blue": "navy",
    "dark blue": "navy", "blue": "blue", "royal blue": "blue", "light blue": "light blue",
    "sky blue": "light blue", "baby blue": "light blue", "red": "red", "burgundy": "burgundy",
    "maroon": "burgundy", "wine red": "burgundy", "pink": "pink", "hot pink": "pink", "blush": "pink",
    "green": "green", "dark green": "green", "mint": "green", "olive": "olive", "olive green": "olive",
    "army green": "olive", "khaki": "khaki", "beige": "beige", "nude": "beige", "tan": "camel",
    "camel": "camel", "brown": "brown", "chocolate": "brown", "yellow": "yellow", "mustard": "yellow",
    "purple": "purple", "lavender": "purple", "lilac": "purple", "violet": "purple", "orange": "orange",
    "gold": "gold", "golden": "gold", "silver": "silver", "teal": "teal", "turquoise": "teal",
    "black friday": None, "black tie": None, "white collar": None,
    # Chinese
    "黑色": "black", "纯黑": "black", "白色": "white", "纯白": "white", "米白": "cream", "奶白": "cream",
    "象牙白": "cream", "奶油色": "cream", "灰色": "grey", "浅灰": "grey", "深灰": "grey", "炭灰": "grey",
    "藏青色": "navy", "藏青": "navy", "藏蓝色": "navy", "藏蓝": "navy", "海军蓝": "navy", "深蓝色": "navy",
    "深蓝": "navy", "蓝色": "blue", "宝蓝": "blue", "浅蓝": "light blue", "天蓝": "light blue",
    "红色": "red", "大红": "red", "酒红色": "burgundy", "酒红": "burgundy", "勃艮第": "burgundy",
    "枣红": "burgundy", "粉色": "pink", "粉红色": "pink", "粉红": "pink", "绿色": "green", "墨绿": "green",
    "橄榄绿": "olive", "橄榄色": "olive", "军绿色": "olive", "军绿": "olive", "卡其色": "khaki",
    "卡其": "khaki", "米色": "beige", "杏色": "beige", "裸色": "beige", "驼色": "camel", "棕色": "brown",
    "咖啡色": "brown", "咖色": "brown", "褐色": "brown", "巧克力色": "brown", "黄色": "yellow",
    "姜黄": "yellow", "芥末黄": "yellow", "紫色": "purple", "橙色": "orange", "橘色": "orange",
    "橘红": "orange", "金色": "gold", "银色": "silver",
}  # fmt: skip

#: One-character colours ("黑裤子", "白衬衫") count only right before a garment word.
ZH_SINGLE_COLOURS: dict[str, str] = {
    "黑": "black", "白": "white", "灰": "grey", "蓝": "blue", "红": "red", "绿": "green",
    "粉": "pink", "黄": "yellow", "紫": "purple", "棕": "brown", "橙": "orange",
}  # fmt: skip

CATEGORIES: dict[str, str | None] = {
    # English (plurals are matched automatically)
    "dress": "dress", "gown": "dress", "skirt": "skirt", "miniskirt": "skirt", "shirt": "shirt",
    "button down": "shirt", "dress shirt": "shirt", "t-shirt": "t-shirt", "tshirt": "t-shirt",
    "tee": "t-shirt", "blouse": "blouse", "polo": "polo", "top": "top", "tank top": "top",
    "crop top": "top", "blazer": "blazer", "sport coat": "blazer", "sports coat": "blazer",
    "suit jacket": "blazer", "suit": "suit", "tuxedo": "suit", "jacket": "jacket",
    "denim jacket": "jacket", "leather jacket": "jacket", "bomber": "jacket", "coat": "coat",
    "overcoat": "coat", "trench coat": "coat", "trench": "coat", "parka": "coat", "puffer": "coat",
    "down jacket": "coat", "jeans": "jeans", "trousers": "trousers", "pants": "trousers",
    "dress pants": "trousers", "chinos": "trousers", "slacks": "trousers", "joggers": "trousers",
    "sweatpants": "trousers", "leggings": "leggings", "shorts": "shorts", "jumpsuit": "jumpsuit",
    "shoe": "shoes", "dress shoes": "shoes", "oxfords": "shoes", "sneaker": "sneakers",
    "trainers": "sneakers", "running shoes": "sneakers", "boot": "boots", "ankle boots": "boots",
    "heels": "heels", "high heels": "heels", "pumps": "heels", "stilettos": "heels",
    "sandal": "sandals", "flip flops": "sandals", "loafer": "loafers", "sweater": "sweater",
    "jumper": "sweater", "pullover": "sweater", "knitwear": "sweater", "cardigan": "cardigan",
    "hoodie": "hoodie", "sweatshirt": "hoodie", "bag": "bag", "handbag": "bag", "purse": "bag",
    "tote": "bag", "backpack": "bag", "clutch": "bag", "wallet": "bag", "hat": "hat", "cap": "hat",
    "beanie": "hat", "scarf": "scarf", "scarves": "scarf", "belt": "belt", "tie": "tie",
    "bow tie": "tie", "vest": "vest", "waistcoat": "vest", "gilet": "vest", "swimsuit": "swimwear",
    "swimwear": "swimwear", "bikini": "swimwear", "pajamas": "pyjamas", "pyjamas": "pyjamas",
    "socks": "socks", "tracksuit": "sportswear", "sportswear": "sportswear",
    "activewear": "sportswear", "sunglasses": "sunglasses", "necklace": "jewellery",
    "earrings": "jewellery", "bracelet": "jewellery", "jewelry": "jewellery", "jewellery": "jewellery",
    "shoe size": None, "dress code": None, "dress up": None, "black tie": None, "black-tie": None,
    "suit me": None, "suits me": None, "suit you": None, "suits you": None, "suit my": None,
    "suits my": None, "suit her": None, "suit him": None, "on top": None, "top rated": None,
    "top notch": None, "top quality": None, "top pick": None, "top 3": None, "top 5": None,
    "top 10": None, "top three": None, "top five": None, "top ten": None, "tie in": None,
    # Chinese
    "连衣裙": "dress", "裙子": "dress", "长裙": "dress", "礼服": "dress", "晚礼服": "dress",
    "半身裙": "skirt", "短裙": "skirt", "百褶裙": "skirt", "a字裙": "skirt", "包臀裙": "skirt",
    "铅笔裙": "skirt", "衬衫": "shirt", "衬衣": "shirt", "t恤": "t-shirt", "短袖": "t-shirt",
    "polo衫": "polo", "上衣": "top", "吊带": "top", "西装外套": "blazer", "西服外套": "blazer",
    "西装": "suit", "西服": "suit", "燕尾服": "suit", "夹克": "jacket", "外套": "jacket",
    "皮衣": "jacket", "牛仔外套": "jacket", "大衣": "coat", "风衣": "coat", "毛呢大衣": "coat",
    "羽绒服": "coat", "牛仔裤": "jeans", "裤子": "trousers", "长裤": "trousers", "西裤": "trousers",
    "休闲裤": "trousers", "卡其裤": "trousers", "阔腿裤": "trousers", "直筒裤": "trousers",
    "运动裤": "trousers", "打底裤": "leggings", "短裤": "shorts", "连体裤": "jumpsuit", "鞋": "shoes",
    "鞋子": "shoes", "皮鞋": "shoes", "运动鞋": "sneakers", "球鞋": "sneakers", "跑鞋": "sneakers",
    "板鞋": "sneakers", "帆布鞋": "sneakers", "小白鞋": "sneakers", "靴子": "boots", "靴": "boots",
    "短靴": "boots", "长靴": "boots", "马丁靴": "boots", "高跟鞋": "heels", "凉鞋": "sandals",
    "乐福鞋": "loafers", "毛衣": "sweater", "针织衫": "sweater", "羊毛衫": "sweater",
    "羊绒衫": "sweater", "开衫": "cardigan", "卫衣": "hoodie", "连帽衫": "hoodie", "包": "bag",
    "包包": "bag", "手提包": "bag", "背包": "bag", "双肩包": "bag", "斜挎包": "bag", "单肩包": "bag",
    "托特包": "bag", "手拿包": "bag", "钱包": "bag", "帽子": "hat", "棒球帽": "hat", "渔夫帽": "hat",
    "围巾": "scarf", "丝巾": "scarf", "腰带": "belt", "皮带": "belt", "领带": "tie", "领结": "tie",
    "背心": "vest", "马甲": "vest", "泳衣": "swimwear", "泳装": "swimwear", "比基尼": "swimwear",
    "泳裤": "swimwear", "睡衣": "pyjamas", "袜子": "socks", "运动服": "sportswear",
    "运动套装": "sportswear", "墨镜": "sunglasses", "太阳镜": "sunglasses", "项链": "jewellery",
    "耳环": "jewellery", "手链": "jewellery", "旗袍": "qipao", "汉服": "hanfu",
    "鞋码": None, "鞋号": None, "包括": None, "包含": None, "包邮": None, "包装": None, "面包": None,
    "红包": None, "包容": None, "包退": None, "包换": None,
}  # fmt: skip

OCCASIONS: dict[str, Occasion | None] = {
    "wedding": Occasion.wedding, "bridesmaid": Occasion.wedding, "groomsman": Occasion.wedding,
    "婚礼": Occasion.wedding, "婚宴": Occasion.wedding, "喜酒": Occasion.wedding,
    "伴娘": Occasion.wedding, "伴郎": Occasion.wedding, "订婚": Occasion.wedding,
    "结婚": Occasion.wedding,
    "office": Occasion.work, "workplace": Occasion.work, "workwear": Occasion.work,
    "for work": Occasion.work, "to work": Occasion.work, "at work": Occasion.work,
    "work outfit": Occasion.work, "commute": Occasion.work, "commuting": Occasion.work,
    "business meeting": Occasion.work, "client meeting": Occasion.work, "上班": Occasion.work,
    "通勤": Occasion.work, "职场": Occasion.work, "办公室": Occasion.work, "工作": Occasion.work,
    "开会": Occasion.work,
    "interview": Occasion.interview, "job interview": Occasion.interview,
    "面试": Occasion.interview, "工作面试": Occasion.interview, "求职": Occasion.interview,
    "date night": Occasion.date, "first date": Occasion.date, "a date": Occasion.date,
    "dinner date": Occasion.date, "date outfit": Occasion.date, "约会": Occasion.date,
    "相亲": Occasion.date,
    "party": Occasion.party, "parties": Occasion.party, "clubbing": Occasion.party,
    "night out": Occasion.party, "birthday": Occasion.party, "cocktail party": Occasion.party,
    "holiday party": Occasion.party, "third party": None, "派对": Occasion.party,
    "聚会": Occasion.party, "聚餐": Occasion.party, "生日会": Occasion.party, "蹦迪": Occasion.party,
    "夜店": Occasion.party, "同学会": Occasion.party, "年会": Occasion.party,
    "daily": Occasion.casual, "everyday": Occasion.casual, "every day": Occasion.casual,
    "day to day": Occasion.casual, "weekend": Occasion.casual, "errands": Occasion.casual,
    "hanging out": Occasion.casual, "日常": Occasion.casual, "平时": Occasion.casual,
    "平常": Occasion.casual, "逛街": Occasion.casual, "周末": Occasion.casual, "居家": Occasion.casual,
    "travel": Occasion.travel, "travelling": Occasion.travel, "traveling": Occasion.travel,
    "trip": Occasion.travel, "business trip": Occasion.travel, "flight": Occasion.travel,
    "旅行": Occasion.travel, "旅游": Occasion.travel, "出差": Occasion.travel, "出游": Occasion.travel,
    "gym": Occasion.sport, "workout": Occasion.sport, "working out": Occasion.sport,
    "exercise": Occasion.sport, "running": Occasion.sport, "jogging": Occasion.sport,
    "yoga": Occasion.sport, "hiking": Occasion.sport, "pilates": Occasion.sport,
    "cycling": Occasion.sport, "running errands": Occasion.casual, "健身": Occasion.sport,
    "健身房": Occasion.sport, "跑步": Occasion.sport, "瑜伽": Occasion.sport, "锻炼": Occasion.sport,
    "徒步": Occasion.sport, "爬山": Occasion.sport, "登山": Occasion.sport, "骑行": Occasion.sport,
    "gala": Occasion.formal_event, "black tie": Occasion.formal_event,
    "black-tie": Occasion.formal_event, "banquet": Occasion.formal_event,
    "formal event": Occasion.formal_event, "formal dinner": Occasion.formal_event,
    "prom": Occasion.formal_event, "ceremony": Occasion.formal_event,
    "award ceremony": Occasion.formal_event, "晚宴": Occasion.formal_event,
    "晚会": Occasion.formal_event, "宴会": Occasion.formal_event, "酒会": Occasion.formal_event,
    "典礼": Occasion.formal_event, "颁奖": Occasion.formal_event, "舞会": Occasion.formal_event,
    "正式场合": Occasion.formal_event,
    "funeral": Occasion.funeral, "memorial service": Occasion.funeral, "葬礼": Occasion.funeral,
    "丧礼": Occasion.funeral, "追悼会": Occasion.funeral, "告别仪式": Occasion.funeral,
    "白事": Occasion.funeral, "吊唁": Occasion.funeral,
    "graduation": Occasion.graduation, "commencement": Occasion.graduation,
    "convocation": Occasion.graduation, "毕业典礼": Occasion.graduation,
    "毕业": Occasion.graduation, "毕业照": Occasion.graduation,
    "beach": Occasion.beach, "seaside": Occasion.beach, "vacation": Occasion.beach,
    "holiday": Occasion.beach, "holidays": Occasion.beach, "resort": Occasion.beach,
    "海边": Occasion.beach, "沙滩": Occasion.beach, "海滩": Occasion.beach, "度假": Occasion.beach,
    "海岛": Occasion.beach, "泳池": Occasion.beach,
}  # fmt: skip

SEASONS: dict[str, Season | None] = {
    "spring": Season.spring, "springtime": Season.spring, "summer": Season.summer,
    "summertime": Season.summer, "autumn": Season.autumn, "fall": Season.autumn,
    "winter": Season.winter, "wintertime": Season.winter,
    "fall below": None, "fall under": None, "fall to": None, "fall off": None, "fall apart": None,
    "fall in": None, "fall for": None,
    "春天": Season.spring, "春季": Season.spring, "春装": Season.spring, "春款": Season.spring,
    "春日": Season.spring, "春秋": Season.spring, "春夏": Season.spring, "初春": Season.spring,
    "夏天": Season.summer, "夏季": Season.summer, "夏装": Season.summer, "夏款": Season.summer,
    "夏日": Season.summer, "盛夏": Season.summer, "初夏": Season.summer,
    "秋天": Season.autumn, "秋季": Season.autumn, "秋装": Season.autumn, "秋款": Season.autumn,
    "秋日": Season.autumn, "秋冬": Season.autumn, "初秋": Season.autumn,
    "冬天": Season.winter, "冬季": Season.winter, "冬装": Season.winter, "冬款": Season.winter,
    "冬日": Season.winter, "寒冬": Season.winter,
}  # fmt: skip

WEATHER: dict[str, Weather | None] = {
    "hot": Weather.hot, "heat": Weather.hot, "heatwave": Weather.hot, "heat wave": Weather.hot,
    "hot pink": None, "hot sale": None, "hot deal": None, "hot deals": None, "hot trend": None,
    "天热": Weather.hot, "很热": Weather.hot, "好热": Weather.hot, "太热": Weather.hot,
    "炎热": Weather.hot, "闷热": Weather.hot, "酷热": Weather.hot, "热天": Weather.hot,
    "怕热": Weather.hot, "高温": Weather.hot,
    "cold": Weather.cold, "freezing": Weather.cold, "chilly": Weather.cold, "frosty": Weather.cold,
    "天冷": Weather.cold, "很冷": Weather.cold, "好冷": Weather.cold, "太冷": Weather.cold,
    "寒冷": Weather.cold, "冷天": Weather.cold, "怕冷": Weather.cold, "降温": Weather.cold,
    "零下": Weather.cold, "保暖": Weather.cold,
    "rain": Weather.rainy, "rains": Weather.rainy, "rainy": Weather.rainy, "raining": Weather.rainy,
    "drizzle": Weather.rainy, "monsoon": Weather.rainy, "下雨": Weather.rainy, "雨天": Weather.rainy,
    "雨季": Weather.rainy, "梅雨": Weather.rainy, "阴雨": Weather.rainy, "小雨": Weather.rainy,
    "大雨": Weather.rainy, "暴雨": Weather.rainy,
    "wind": Weather.windy, "windy": Weather.windy, "gusty": Weather.windy, "typhoon": Weather.windy,
    "刮风": Weather.windy, "大风": Weather.windy, "风大": Weather.windy, "有风": Weather.windy,
    "台风": Weather.windy,
    "snow": Weather.snowy, "snowy": Weather.snowy, "snowing": Weather.snowy,
    "blizzard": Weather.snowy, "下雪": Weather.snowy, "雪天": Weather.snowy, "大雪": Weather.snowy,
    "小雪": Weather.snowy, "暴雪": Weather.snowy,
}  # fmt: skip

STYLES: dict[str, Style | None] = {
    "casual": Style.casual, "休闲": Style.casual, "休闲风": Style.casual,
    "smart casual": Style.smart_casual, "business casual": Style.smart_casual,
    "商务休闲": Style.smart_casual, "轻商务": Style.smart_casual,
    "business": Style.business, "professional": Style.business, "corporate": Style.business,
    "business trip": None, "商务": Style.business, "职业装": Style.business,
    "formal": Style.formal, "正式": Style.formal, "正装": Style.formal, "隆重": Style.formal,
    "sporty": Style.sporty, "athletic": Style.sporty, "athleisure": Style.sporty,
    "运动": Style.sporty, "运动风": Style.sporty, "运动鞋": None, "运动会": None,
    "streetwear": Style.streetwear, "street style": Style.streetwear, "街头": Style.streetwear,
    "潮牌": Style.streetwear, "嘻哈": Style.streetwear,
    "minimalist": Style.minimalist, "minimal": Style.minimalist, "minimalism": Style.minimalist,
    "简约": Style.minimalist, "极简": Style.minimalist, "简洁": Style.minimalist,
    "classic": Style.classic, "timeless": Style.classic, "经典": Style.classic,
    "boho": Style.bohemian, "bohemian": Style.bohemian, "波西米亚": Style.bohemian,
    "波希米亚": Style.bohemian,
    "romantic": Style.romantic, "feminine": Style.romantic, "浪漫": Style.romantic,
    "甜美": Style.romantic,
    "vintage": Style.vintage, "retro": Style.vintage, "复古": Style.vintage,
    "edgy": Style.edgy, "punk": Style.edgy, "grunge": Style.edgy, "朋克": Style.edgy,
    "暗黑": Style.edgy,
    "preppy": Style.preppy, "学院风": Style.preppy, "学院": Style.preppy,
    "ethnic": Style.ethnic, "民族风": Style.ethnic, "国风": Style.ethnic, "中式": Style.ethnic,
    "clubwear": Style.party, "派对风": Style.party, "夜店风": Style.party,
}  # fmt: skip

FITS: dict[str, FitPreference | None] = {
    "slim fit": FitPreference.slim, "slim-fit": FitPreference.slim, "slim cut": FitPreference.slim,
    "skinny": FitPreference.slim, "fitted": FitPreference.slim, "tight fit": FitPreference.slim,
    "tight-fitting": FitPreference.slim, "tailored": FitPreference.slim,
    "修身": FitPreference.slim, "紧身": FitPreference.slim, "贴身": FitPreference.slim,
    "regular fit": FitPreference.regular, "regular-fit": FitPreference.regular,
    "classic fit": FitPreference.regular, "standard fit": FitPreference.regular,
    "straight fit": FitPreference.regular, "合身": FitPreference.regular,
    "正常版型": FitPreference.regular, "标准版型": FitPreference.regular,
    "常规版型": FitPreference.regular,
    "loose": FitPreference.loose, "loose fit": FitPreference.loose, "relaxed": FitPreference.loose,
    "relaxed fit": FitPreference.loose, "oversized": FitPreference.loose,
    "oversize": FitPreference.loose, "baggy": FitPreference.loose, "roomy": FitPreference.loose,
    "宽松": FitPreference.loose, "宽大": FitPreference.loose, "宽版": FitPreference.loose,
    "阔腿": FitPreference.loose,
}  # fmt: skip

FIT_FEEDBACK: dict[str, FitFeedback | None] = {
    "too small": "small", "too tight": "small", "too short": "small", "too snug": "small",
    "a bit tight": "small", "a little tight": "small", "was tight": "small", "were tight": "small",
    "was small": "small", "ran small": "small", "runs small": "small", "couldn't zip": "small",
    "太小": "small", "偏小": "small", "小了": "small", "太紧": "small", "紧了": "small", "有点紧": "small",
    "穿不上": "small", "太短": "small", "偏紧": "small", "有点小": "small", "紧身了": "small",
    "too big": "large", "too large": "large", "too loose": "large", "too long": "large",
    "too baggy": "large", "was loose": "large", "was big": "large", "ran large": "large",
    "runs large": "large", "ran big": "large", "runs big": "large",
    "太大": "large", "偏大": "large", "大了": "large", "太松": "large", "松了": "large", "太长": "large",
    "有点松": "large", "偏松": "large", "有点大": "large", "偏长": "large", "长大了": None,
    "fit well": "fit", "fits well": "fit", "fitted well": "fit", "fit perfectly": "fit",
    "fits perfectly": "fit", "fit great": "fit", "fit fine": "fit", "true to size": "fit",
    "很合身": "fit", "挺合身": "fit", "正合适": "fit", "刚刚好": "fit", "刚好合适": "fit", "大小合适": "fit",
    "尺码合适": "fit",
}  # fmt: skip

CURRENCIES: dict[str, Currency] = {
    "¥": "CNY", "元": "CNY", "块": "CNY", "块钱": "CNY", "人民币": "CNY", "rmb": "CNY", "cny": "CNY",
    "yuan": "CNY",
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
    "刀": "USD", "美元": "USD", "美金": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "欧元": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "英镑": "GBP",
    "jpy": "JPY", "yen": "JPY", "日元": "JPY", "円": "JPY",
    "₹": "INR", "inr": "INR", "rupee": "INR", "rupees": "INR", "卢比": "INR",
}  # fmt: skip


# --- normalisation ---------------------------------------------------------------------------

_CHAR_FIXES = {
    "\u2018": "'", "\u2019": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u2033": '"', "\u3000": " ", "\u00a0": " ",
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u301c": "~", "\u3001": "、",
}  # fmt: skip


class _Text:
    """The message as the rules read it, with a map from each read character back to the original."""

    def __init__(self, original: str) -> None:
        self.original = original
        pieces: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(original):
            if ch.isascii():
                out = ch.lower()
            elif "\ud800" <= ch <= "\udfff":
                out = "\ufffd"  # a lone surrogate would make the slots unserialisable
            else:
                normal = unicodedata.normalize("NFKC", ch)
                out = "".join(_CHAR_FIXES.get(c, c) for c in normal).lower()
            pieces.append(out)
            origin.extend([i] * len(out))
        self.norm = "".join(pieces)
        self._origin = origin
        self.taken: list[tuple[int, int]] = []

    def span(self, start: int, end: int) -> str:
        if end <= start:
            return ""
        return self.original[self._origin[start] : self._origin[end - 1] + 1].strip()

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.taken)

    def take(self, start: int, end: int) -> None:
        self.taken.append((start, end))


# --- numbers ---------------------------------------------------------------------------------

_ZH_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3,
    "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_NUM = "零〇一二两三四五六七八九十百千万"


def _zh_int(text: str) -> int | None:
    """Read a Chinese numeral; a trailing digit counts in the next unit down ("两千五" is 2500)."""
    total = section = 0
    number: int | None = None
    last_unit = 1
    for ch in text:
        if ch in "零〇":
            number, last_unit = None, 10
        elif ch in _ZH_DIGITS:
            if number is not None:
                return None  # digit strings ("六五") are not counts
            number = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            section += (1 if number is None else number) * _ZH_UNITS[ch]
            number, last_unit = None, _ZH_UNITS[ch]
        elif ch == "万":
            total += (section + (number or 0) or 1) * 10_000
            section, number, last_unit = 0, None, 10_000
        else:
            return None
    if number is not None:
        section += number * max(last_unit // 10, 1)
    return total + section


def _number(text: str) -> float | None:
    text = text.replace(",", "").strip()
    if not text:
        return None
    if text[0] in _ZH_NUM:
        value = _zh_int(text)
        return None if value is None else float(value)
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# ``(?![0-9]|\.[0-9])`` after a number stops a backtracking regex from reading "1.70" as "1".
_NUM = r"(?<![0-9.,])[0-9]{1,4}(?:\.[0-9]{1,3})?(?![0-9]|\.[0-9])"
_EN_END = r"(?![a-z])"


# --- measurements ----------------------------------------------------------------------------

_PRE_CUES: dict[str, str] = {
    "height": r"净身高|身高|个子|个头|(?<![a-z])height",
    "weight": r"体重|(?<![a-z])(?:weight|weighs|weighing|weigh)",
    "chest": r"胸围|上围|胸|(?<![a-z])(?:bust|chest)",
    "waist": r"腰围|腰|(?<![a-z])waist",
    "hips": r"臀围|下围|臀|(?<![a-z])(?:hips|hip)",
    "inseam": r"内侧腿长|裤内长|内裆长|内长|腿长|(?<![a-z])(?:inseam|inside[\s-]leg|inner leg|leg length)",
    "shoulder": r"肩宽|肩膀|肩|(?<![a-z])(?:shoulder width|shoulders|shoulder)",
}
_CONNECTOR = (
    r"(?:[:：=~]|是|为|有|大概|大约|约|差不多|(?<![a-z])(?:is|are|was|of|about|around|approx|approximately"
    r"|roughly|size|measurement|measures|measure|measuring|circumference|width|length)(?![a-z]))"
)
_PRE_CUE = re.compile(
    "(?:" + "|".join(f"(?P<{name}>{cue})" for name, cue in _PRE_CUES.items()) + rf")(?:\s*{_CONNECTOR})*\s*$"
)
_POST_CUE = re.compile(
    r"\s*(?:of\s+|的\s*)?(?:"
    + "|".join(f"(?P<{name}>{cue})" for name, cue in {**_PRE_CUES, "height": r"tall|身高"}.items())
    + rf"){_EN_END}"
)
#: An unlabelled length is a height only if nothing says it is a garment's length or width.
_NOT_BODY_BEFORE = re.compile(r"(?:长|宽|length|long|wide|width|heel|高跟|长度)\s*(?:[:：=]|is|of)?\s*$")
_NOT_BODY_AFTER = re.compile(r"\s*(?:长|宽|long|length|wide)")
_MONEY_BEFORE = re.compile(
    r"(?:under|below|over|above|less than|more than|than|budget|cost|costs|spend|price|up to|max|between"
    r"|around|about|for|£)\s*$"
)

_UNIT_GROUPS = (
    ("cm", r"cms?(?![a-z])|厘米|公分|centimet(?:er|re)s?(?![a-z])"),
    ("m", r"met(?:er|re)s?(?![a-z])|米(?![色白黄灰咖])|m(?![a-z])"),
    ("in", r"inch(?:es)?(?![a-z])|''|\"|in(?![a-z])"),
    ("kg", r"kgs?(?![a-z])|公斤|千克|kilo(?:gram)?s?(?![a-z])"),
    ("lb", r"lbs?(?![a-z])|pounds?(?![a-z])|磅"),
    ("jin", r"斤"),
)
_QUANTITY = re.compile(
    rf"(?:(?P<num>{_NUM})|(?P<zh>[{_ZH_NUM}]{{1,6}})(?=\s*(?:斤|公斤|千克|厘米|公分)))"
    r"(?:\s*(?:" + "|".join(f"(?P<u_{name}>{pattern})" for name, pattern in _UNIT_GROUPS) + "))?"
)
#: "5'7", 5'7", "5 ft 7 in", "5ft7", "5 feet 7 inches"; a bare 5' is too often something else.
_FEET_INCHES = re.compile(
    r"(?<![0-9.a-z])(?P<ft>[3-8])\s*(?:(?P<mark>')|ft\.?|feet|foot)\s*"
    r"(?:(?P<inch>1[01]|[0-9])(?P<half>\.5)?(?![0-9])\s*(?:\"|''|inch(?:es)?(?![a-z])|in(?![a-z])\.?)?)?"
)
#: "1米7", "1米75", "一米六五": the digits after 米 are decimals of a metre.
_ZH_METRES = re.compile(
    r"(?<![0-9.])(?P<m>[12一两二])\s*米(?![色白黄灰咖])\s*(?P<d>[0-9]{1,2}(?![0-9.])|[零〇一二三四五六七八九]{1,2})?"
)
#: Bust-waist-hips in one go: "三围88/70/92", "measurements 34-26-36".
_TRIPLE = re.compile(
    r"(?:三围|measurements|measures|vital stats|bwh)\s*(?:[:：=]|是|为|is|are)?\s*"
    r"(?P<a>[0-9]{2,3}(?:\.[0-9])?)\s*[-/,、\s]\s*(?P<b>[0-9]{2,3}(?:\.[0-9])?)\s*[-/,、\s]\s*"
    r"(?P<c>[0-9]{2,3}(?:\.[0-9])?)(?![0-9])\s*(?P<unit>cm|厘米|公分|inch(?:es)?|in(?![a-z])|\")?"
)

_SHOE_SYSTEMS = r"eu|euro|european|欧码|uk|英码|us|美码|cn|中国码|国内码|国码"
_GENDERS = (
    r"women'?s?|womens|woman|ladies|lady|female|女款|女码|女士|女|(?<!wo)men'?s?|(?<!wo)mens|(?<!wo)man"
    r"|(?<!fe)male|男款|男码|男士|男"
)
_SHOE_SPEC = (
    rf"(?:(?P<sys1>{_SHOE_SYSTEMS}){_EN_END}\s*)?(?:(?P<g1>{_GENDERS}){_EN_END}\s*)?"
    rf"(?P<n>(?<![0-9.])[0-9]{{1,3}}(?:\.5)?(?![0-9]|\.[0-9]))"
    rf"(?:\s*(?P<sys2>{_SHOE_SYSTEMS}){_EN_END})?(?:\s*(?P<g2>{_GENDERS}){_EN_END})?"
)
_SHOE_WORDS = (
    r"shoes?|sneakers?|trainers?|boots?|heels|sandals?|loafers?|pumps"
    r"|鞋子|鞋|运动鞋|球鞋|靴子|靴|高跟鞋|凉鞋|皮鞋"
)
_SHOE_PATTERNS = (
    re.compile(
        r"(?:shoe\s*size|shoes\s+size|鞋码|鞋子?尺码|鞋子?的?码数|鞋号)\s*(?:[:：=]|is|are|of|是|为|穿)?\s*"
        rf"{_SHOE_SPEC}(?:\s*码)?"
    ),
    re.compile(rf"(?P<size>size\s*)?{_SHOE_SPEC}\s*(?P<ma>[码号])?\s*(?:的\s*)?(?:{_SHOE_WORDS}){_EN_END}"),
    re.compile(r"鞋子?\s*(?:穿|要|是|的)?\s*(?P<n>(?<![0-9.])[0-9]{2,3}(?:\.5)?)\s*[码号]"),
)
_SHOE_CONTEXT = re.compile(rf"(?<![a-z])(?:{_SHOE_WORDS})(?![a-z])|鞋|靴")
_BARE_SHOE = re.compile(r"(?<![0-9.])(?P<n>[0-9]{2}(?:\.5)?)\s*码")
_SYSTEM_NAMES = {
    "eu": "EU", "euro": "EU", "european": "EU", "欧码": "EU", "uk": "UK", "英码": "UK", "us": "US",
    "美码": "US", "cn": "CN", "中国码": "CN", "国内码": "CN", "国码": "CN",
}  # fmt: skip
_FEMALE = re.compile(r"(?<![a-z])(?:women'?s?|womens|ladies|lady|female|her|she)(?![a-z])|女")
_MALE = re.compile(r"(?<![a-z])(?:(?<!wo)men'?s?|(?<!wo)mens|man|male|his|he)(?![a-z])|男")


@dataclass
class _Found:
    measurements: dict[str, Measurement] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    budget: BudgetRange | None = None
    threshold: PriceThreshold | None = None


def _in_range(name: str, value: float) -> bool:
    if name == "weight":
        low, high = RANGE_KG
    elif name == "shoe_size":
        low, high = RANGE_SHOE_EU
    else:
        low, high = RANGES_CM[name]
    return math.isfinite(value) and low <= value <= high


def _store(found: _Found, name: str, value: float, unit: SourceUnit, text: str, at: int) -> None:
    """Keep the first mention in the text, whichever rule found it first."""
    previous = found.positions.get(name)
    if _in_range(name, value) and (previous is None or at < previous):
        found.measurements[name] = Measurement(value=round(value, 2), unit=unit, text=text)
        found.positions[name] = at


def _unlabelled_height(t: _Text, start: int, end: int, cm: float) -> bool:
    # Below 120 cm an unlabelled length is more likely a garment (a 100 cm scarf) than a person.
    return (
        cm >= 120
        and _NOT_BODY_BEFORE.search(t.norm, max(0, start - 12), start) is None
        and _NOT_BODY_AFTER.match(t.norm, end) is None
    )


def _pre_cue(t: _Text, start: int, used: set[int]) -> tuple[str, int] | None:
    """The measurement named just before ``start``, and where its cue word begins."""
    match = _PRE_CUE.search(t.norm, max(0, start - 24), start)
    if match is None or match.start() in used:
        return None
    name = next(name for name, value in match.groupdict().items() if value is not None)
    return name, match.start()


def _extract_triples(t: _Text, found: _Found) -> None:
    for match in _TRIPLE.finditer(t.norm):
        values = [float(match.group(g)) for g in "abc"]
        unit_text = match.group("unit") or ""
        # Without a unit, three numbers under 60 are the inch convention ("34-26-36"): no body is 34 cm.
        inches = unit_text.startswith("in") or unit_text == '"' or (not unit_text and max(values) < 60)
        text = t.span(match.start(), match.end())
        for name, value in zip(("chest", "waist", "hips"), values, strict=True):
            cm = to_cm(value, LengthUnit.inch if inches else LengthUnit.cm)
            _store(found, name, cm, "in" if inches else "cm", text, match.start())
        t.take(match.start(), match.end())


def _extract_feet_inches(t: _Text, found: _Found) -> None:
    for match in _FEET_INCHES.finditer(t.norm):
        if match.group("mark") and match.group("inch") is None:
            continue
        if not t.free(match.start(), match.end()):
            continue
        cue = _pre_cue(t, match.start(), set())
        if cue is not None and cue[0] != "height":
            continue
        text_start = match.start() if cue is None else cue[1]
        inches = (
            int(match.group("ft")) * 12 + int(match.group("inch") or 0) + (0.5 if match.group("half") else 0)
        )
        cm = to_cm(inches, LengthUnit.inch)
        t.take(match.start(), match.end())
        if cue is not None or _unlabelled_height(t, match.start(), match.end(), cm):
            _store(found, "height", cm, "ft_in", t.span(text_start, match.end()), text_start)


def _extract_zh_metres(t: _Text, found: _Found) -> None:
    for match in _ZH_METRES.finditer(t.norm):
        if not t.free(match.start(), match.end()):
            continue
        cue = _pre_cue(t, match.start(), set())
        if cue is not None and cue[0] != "height":
            continue
        text_start = match.start() if cue is None else cue[1]
        whole = _ZH_DIGITS.get(match.group("m")) or int(match.group("m"))
        decimals = "".join(str(_ZH_DIGITS.get(c, c)) for c in match.group("d") or "")
        metres = float(f"{whole}.{decimals or 0}")
        cm = metres * 100
        t.take(match.start(), match.end())
        if cue is not None or _unlabelled_height(t, match.start(), match.end(), cm):
            _store(found, "height", cm, "m", t.span(text_start, match.end()), text_start)


def _us_system(t: _Text, gender: str | None) -> ShoeSizeSystem | None:
    # US women's sizes run about one above men's; without a gender the system is unknown, so no guess.
    text = gender if gender is not None else t.norm
    female = _FEMALE.search(text) is not None
    male = _MALE.search(text) is not None
    if female and not male:
        return ShoeSizeSystem.us_women
    if male and not female:
        return ShoeSizeSystem.us_men
    return None


def _shoe_system(t: _Text, match: re.Match[str], value: float) -> ShoeSizeSystem | None:
    groups = match.groupdict()
    name = _SYSTEM_NAMES.get(groups.get("sys1") or groups.get("sys2") or "")
    if name == "US":
        return _us_system(t, groups.get("g1") or groups.get("g2"))
    if name is not None:
        return ShoeSizeSystem(name)
    if value >= 100:
        return ShoeSizeSystem.cn  # Mondopoint in millimetres, as Chinese size charts give it
    return ShoeSizeSystem.eu if value >= RANGE_SHOE_EU[0] else None


_SHOE_UNITS: dict[ShoeSizeSystem, SourceUnit] = {
    ShoeSizeSystem.eu: "EU",
    ShoeSizeSystem.uk: "UK",
    ShoeSizeSystem.us_men: "US_men",
    ShoeSizeSystem.us_women: "US_women",
    ShoeSizeSystem.cn: "CN",
}


def _extract_shoes(t: _Text, found: _Found) -> None:
    candidates: list[re.Match[str]] = []
    for pattern in _SHOE_PATTERNS:
        candidates.extend(pattern.finditer(t.norm))
    if _SHOE_CONTEXT.search(t.norm):
        candidates.extend(_BARE_SHOE.finditer(t.norm))
    for match in sorted(candidates, key=lambda m: m.start()):
        groups = match.groupdict()
        is_second = match.re is _SHOE_PATTERNS[1]
        if is_second and not (
            groups.get("sys1") or groups.get("sys2") or groups.get("size") or groups.get("ma")
        ):
            continue  # "2 shoes" is a count, not a size
        value = _number(match.group("n"))
        if value is None or not t.free(match.start("n"), match.end("n")):
            continue
        system = _shoe_system(t, match, value)
        if system is None:
            continue
        eu = shoe_to_eu(value, system)
        if _in_range("shoe_size", eu) and "shoe_size" not in found.measurements:
            _store(
                found, "shoe_size", eu, _SHOE_UNITS[system], t.span(match.start(), match.end()), match.start()
            )
            t.take(match.start(), match.end())


_SPACED_IN_OK = re.compile(r"\s*(?:$|[.,;!?)]|and|waist|chest|bust|hip|inseam|shoulder|tall)")
_DIMENSIONS = {"cm": "length", "m": "length", "in": "length", "kg": "weight", "lb": "weight", "jin": "weight"}


def _spaced_in_is_a_preposition(t: _Text, match: re.Match[str]) -> bool:
    """ "28 in" is inches only when nothing but punctuation or a body word follows ("28 in black" is not)."""
    return (
        match.group("u_in") == "in"
        and match.group("num") is not None
        and t.norm[match.start("u_in") - 1].isspace()
        and _SPACED_IN_OK.match(t.norm, match.end()) is None
    )


def _quantity_unit(match: re.Match[str]) -> str | None:
    return next((name for name, _ in _UNIT_GROUPS if match.group(f"u_{name}")), None)


def _extract_quantities(t: _Text, found: _Found) -> None:
    used_cues: set[int] = set()
    for match in _QUANTITY.finditer(t.norm):
        start, end = match.start(), match.end()
        if not t.free(start, end):
            continue
        unit = _quantity_unit(match)
        if _spaced_in_is_a_preposition(t, match):
            end, unit = match.end("num"), None
        if start > 0 and t.norm[start - 1] in "$¥€£₹":
            continue
        number = _number(match.group("num") or match.group("zh"))
        if number is None:
            continue
        dimension = _DIMENSIONS.get(unit or "")
        cue = _pre_cue(t, start, used_cues)
        label = None if cue is None else cue[0]
        text_start, text_end = (start, end) if cue is None else (cue[1], end)
        if label is not None and dimension is not None and (label == "weight") != (dimension == "weight"):
            label, text_start = None, start
        if label is None and unit is not None:
            post = _POST_CUE.match(t.norm, end, min(len(t.norm), end + 24))
            if post is not None:
                name = next(n for n, v in post.groupdict().items() if v is not None)
                if (name == "weight") == (dimension == "weight"):
                    label, text_end = name, post.end()
                    used_cues.add(post.start(name))
        if label is None and dimension == "weight":
            pounds = (match.group("u_lb") or "").startswith("pound")
            if pounds and _MONEY_BEFORE.search(t.norm, max(0, start - 16), start):
                continue  # "under 50 pounds" is a price
            label = "weight"
        text = t.span(text_start, text_end)
        if label == "weight":
            weight_unit: SourceUnit = "lb" if unit == "lb" else "jin" if unit == "jin" else "kg"
            kg = (
                to_kg(number, WeightUnit.lb)
                if unit == "lb"
                else number * JIN_KG
                if unit == "jin"
                else to_kg(number, WeightUnit.kg)
            )
            t.take(start, end)
            _store(found, "weight", kg, weight_unit, text, text_start)
            continue
        if dimension != "length" and label is None:
            continue
        length_unit: SourceUnit
        if unit == "in":
            length_unit, cm = "in", to_cm(number, LengthUnit.inch)
        elif unit == "m" or (unit is None and label == "height" and number <= 2.5):
            length_unit, cm = "m", number * 100
        else:
            length_unit, cm = "cm", to_cm(number, LengthUnit.cm)
        if label is None:
            if unit == "in" or not _unlabelled_height(t, start, end, cm):
                continue
            label = "height"
        t.take(start, end)
        _store(found, label, cm, length_unit, text, text_start)


def _extract_measurements(t: _Text, found: _Found) -> None:
    _extract_triples(t, found)
    _extract_feet_inches(t, found)
    _extract_zh_metres(t, found)
    _extract_shoes(t, found)
    _extract_quantities(t, found)


# --- money -----------------------------------------------------------------------------------

_CUR_PRE = r"(?:us\$|\$|¥|€|£|₹|(?<![a-z])(?:rmb|cny|usd|eur|gbp|jpy|inr)(?![a-z]))"
_CUR_POST = (
    r"(?:块钱|块|元|人民币|刀|美元|美金|欧元|英镑|日元|円|卢比|\$|€|(?:rmb|cny|yuan|usd|dollars?|bucks|eur"
    r"|euros?|gbp|pounds?|quid|yen|jpy|rupees?|inr)(?![a-z]))"
)
_AMOUNT = (
    # Not inside "1,300" or "2.50"; a comma after a word ("牛仔裤，300元以下" normalised) is punctuation.
    r"(?<![0-9.])(?<![0-9],)(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,7})(?:\.[0-9]{1,2})?(?![0-9]|\.[0-9]|,[0-9]{3})"
    r"(?:\s*(?:k(?![a-z])|千|万|w(?![a-z])))?"
)
_ZH_AMOUNT = rf"[{_ZH_NUM}]{{1,8}}(?=\s*(?:块|元|人民币|刀|美元|美金|欧元|英镑|日元))"
#: What must not follow an amount for it to be money: units, sizes, counts, ages, dates.
_NOT_MONEY = (
    r"(?:cm|厘米|公分|米(?!色)|m(?![a-z])|inch|in(?![a-z])|\"|'|kg|公斤|千克|斤|lbs?(?![a-z])|码|号|岁|年|月"
    r"|日|天|周|个|件|条|套|双|款|次|张|位|%|度|℃|°|ft(?![a-z])|feet|foot)"
)
_MONEY = rf"(?:{_CUR_PRE}\s*)?(?:{_AMOUNT}|{_ZH_AMOUNT})(?:\s*{_CUR_POST})?(?!\s*{_NOT_MONEY})"
_MONEY_PARTS = re.compile(
    rf"(?P<pre>{_CUR_PRE})?\s*(?P<amount>[0-9][0-9,]*(?:\.[0-9]+)?|[{_ZH_NUM}]+)\s*"
    r"(?P<mult>k|千|万|w)?\s*(?P<post>.*)$"
)
#: After a bare amount (no currency) these words still leave it a price; any other word makes it
#: a count ("less than 5 items").
_BARE_OK_WORDS = {
    "for", "please", "pls", "and", "or", "each", "total", "budget", "tops", "max", "only", "if", "when",
    "at", "with", "is", "per",
}  # fmt: skip

_NEXT_WORD = re.compile(r"\s*([a-z]+)")

_BUDGET_CUE = (
    r"(?:预算|价位|价格|价钱|花费|能花|可以花"
    r"|(?<![a-z])(?:budget|price range|price|spend|spending|cost|costs)(?![a-z]))"
)
_BUDGET_CONNECTOR = (
    r"(?:[:：=~]|是|为|在|大概|大约|约|控制在|差不多|(?<![a-z])(?:is|of|around|about|approx|roughly"
    r"|like)(?![a-z]))"
)
_MAX_CUE = (
    r"(?:不超过|不要超过|别超过|不高于|低于|少于|最多|最高|顶多|<=|<|≤"
    r"|(?<![a-z])(?:under|below|less than|lower than|cheaper than|no more than|not more than|not over|up to"
    r"|upto|max|maximum|at most|within)(?![a-z]))"
)
_MIN_CUE = r"(?:不低于|至少|最少|起码|(?<![a-z])(?:over|above|more than|at least|from)(?![a-z])|>=|>|≥)"

_R_RANGE = re.compile(
    rf"(?P<lead>(?<![a-z])between\s+|(?<![a-z])from\s+|在\s*)?(?P<a>{_MONEY})\s*"
    rf"(?P<sep>-|~|(?<![a-z])(?:to|and)(?![a-z])|到|至)\s*(?P<b>{_MONEY})(?P<tail>\s*(?:之间|以内|左右))?"
)
_R_MAX_PRE = re.compile(rf"{_MAX_CUE}\s*(?P<a>{_MONEY})")
_R_MAX_POST = re.compile(
    rf"(?P<a>{_MONEY})\s*(?:以内|以下|之内|内(?![衣裤搭])|封顶"
    r"|(?<![a-z])(?:or less|or under|at most|max|tops)(?![a-z]))"
)
_R_MIN_PRE = re.compile(rf"{_MIN_CUE}\s*(?P<a>{_MONEY})")
_R_MIN_POST = re.compile(rf"(?P<a>{_MONEY})\s*(?:以上|起|(?<![a-z])(?:or more|plus)(?![a-z])|\+)")
#: After a budget cue a Chinese numeral needs no currency ("预算两千五"), if it has a unit character.
_ZH_BARE_AMOUNT = rf"(?=[{_ZH_NUM}]*[十百千万])[{_ZH_NUM}]{{2,8}}"
_R_CUE_SINGLE = re.compile(
    rf"{_BUDGET_CUE}\s*(?:{_BUDGET_CONNECTOR}\s*)*(?P<a>{_MONEY}|{_ZH_BARE_AMOUNT})"
    rf"|(?P<b>{_MONEY})\s*(?:的\s*)?(?:预算|budget(?![a-z]))"
)
_R_CURRENCY = re.compile(rf"(?P<a>{_MONEY})")
_DROP = (
    r"(?:(?<![a-z])(?:drops?|dropped|dropping|falls?|falling|fell|goes down|go down|gets|get|comes down"
    r"|come down|is reduced|reduced|discounted|marked down)\s+(?:down\s+)?"
    r"(?:to|under|below|beneath|less than)(?![a-z])"
    r"|降价到|降价至|降到|降至|降低到|降低至|跌到|跌至|跌破|掉到|掉价到|便宜到|打折到|减到)"
)
_R_DROP = re.compile(rf"{_DROP}\s*(?P<a>{_MONEY})")


@dataclass
class _Money:
    value: float
    currency: Currency | None
    start: int
    end: int
    #: Only the word "pound(s)" marked it as money, which a weight can also be.
    pound_word: bool


def _money(t: _Text, match: re.Match[str], group: str = "a", check_follow: bool = True) -> _Money | None:
    if match.group(group) is None:
        return None
    start, end = match.start(group), match.end(group)
    parts = _MONEY_PARTS.match(t.norm[start:end])
    if parts is None:
        return None
    value = _number(parts.group("amount"))
    if value is None:
        return None
    value *= {"k": 1000, "千": 1000, "万": 10_000, "w": 10_000}.get(parts.group("mult") or "", 1)
    pre = parts.group("pre")
    post = parts.group("post").strip()
    currency = CURRENCIES.get(pre or "") or CURRENCIES.get(post)
    if currency is None and check_follow:
        after = _NEXT_WORD.match(t.norm, end)
        if after is not None and after.group(1) not in _BARE_OK_WORDS:
            return None
    if not 0 < value <= MAX_AMOUNT or not t.free(start, end):
        return None
    return _Money(value, currency, start, end, pound_word=pre is None and post.startswith("pound"))


def _budget_cue_near(t: _Text, start: int) -> bool:
    return re.search(_BUDGET_CUE, t.norm[max(0, start - 30) : start]) is not None


def _first(pattern: re.Pattern[str], t: _Text, needs_context: bool) -> tuple[_Money, re.Match[str]] | None:
    for match in pattern.finditer(t.norm):
        money = _money(t, match, "b" if match.groupdict().get("b") else "a")
        if money is None:
            continue
        if (
            needs_context
            and (money.currency is None or money.pound_word)
            and not _budget_cue_near(t, match.start())
        ):
            continue
        return money, match
    return None


def _extract_threshold_drop(t: _Text, found: _Found) -> None:
    hit = _first(_R_DROP, t, needs_context=False)
    if hit is not None:
        money, match = hit
        found.threshold = PriceThreshold(
            value=money.value, currency=money.currency, text=t.span(match.start(), match.end())
        )
        t.take(match.start(), match.end())


def _extract_range(t: _Text) -> BudgetRange | None:
    for match in _R_RANGE.finditer(t.norm):
        low, high = _money(t, match, "a", check_follow=False), _money(t, match, "b")
        if low is None or high is None:
            continue
        lead = (match.group("lead") or "").strip()
        if match.group("sep") == "and" and lead != "between":
            continue
        currency = low.currency or high.currency
        if not (currency or lead or match.group("tail") or _budget_cue_near(t, match.start())):
            continue
        t.take(match.start(), match.end())
        return BudgetRange(
            min=min(low.value, high.value),
            max=max(low.value, high.value),
            currency=currency,
            text=t.span(match.start(), match.end()),
        )
    return None


def _extract_bounds(t: _Text, found: _Found) -> BudgetRange | None:
    highs = [h for h in (_first(_R_MAX_PRE, t, False), _first(_R_MAX_POST, t, False)) if h is not None]
    lows = [h for h in (_first(_R_MIN_PRE, t, True), _first(_R_MIN_POST, t, True)) if h is not None]
    high = min(highs, key=lambda h: h[1].start()) if highs else None
    low = min(lows, key=lambda h: h[1].start()) if lows else None
    if high is not None and high[1].re is _R_MAX_PRE and found.threshold is None:
        # "below 600" reads as a budget and as an alert threshold; the intent decides which is used.
        found.threshold = PriceThreshold(
            value=high[0].value, currency=high[0].currency, text=t.span(high[1].start(), high[1].end())
        )
    if high is None and low is None:
        high = _first(_R_CUE_SINGLE, t, False) or _first_with_currency(t)
    if high is not None and low is not None and low[0].value > high[0].value:
        low = None
    hits = [h for h in (low, high) if h is not None]
    if not hits:
        return None
    for _, match in hits:
        t.take(match.start(), match.end())
    return BudgetRange(
        min=low[0].value if low else None,
        max=high[0].value if high else None,
        currency=next((h[0].currency for h in hits if h[0].currency), None),
        text=t.span(min(h[1].start() for h in hits), max(h[1].end() for h in hits)),
    )


def _first_with_currency(t: _Text) -> tuple[_Money, re.Match[str]] | None:
    # A lone price ("¥300") is the most a person has in mind; "50 pounds" alone may be a weight.
    for match in _R_CURRENCY.finditer(t.norm):
        money = _money(t, match)
        if money is not None and money.currency is not None and not money.pound_word:
            return money, match
    return None


def _extract_budget(t: _Text, found: _Found) -> None:
    found.budget = _extract_range(t) or _extract_bounds(t, found)


# --- sizes -----------------------------------------------------------------------------------

_LETTER = r"(?:xxxl|xxl|xl|[2-6]xl|xxs|xs|s|m|l)"
_SIZE_WORDS = {
    "extra small": "XS", "x-small": "XS", "small": "S", "medium": "M", "large": "L",
    "extra large": "XL", "x-large": "XL", "xx-large": "XXL",
}  # fmt: skip
_SIZE_WORD = r"(?:extra small|x-small|small|medium|large|extra large|x-large|xx-large)"
_SIZE_PATTERNS = (
    re.compile(rf"(?<![a-z0-9])(?P<s>{_LETTER})\s*[码号]"),
    re.compile(
        r"(?:(?<![a-z])size|尺码|码数|尺寸|穿)\s*(?:[:：=]|(?<![a-z])(?:is|was|of|a|an)(?![a-z])|是|为|要)?\s*"
        rf"(?P<s>{_LETTER}|{_SIZE_WORD})(?![a-z0-9])"
    ),
    re.compile(
        r"(?<![a-z])(?:i wear|i'm|i am|im)\s+(?:a|an)\s+(?:size\s+)?"
        rf"(?P<s>{_LETTER}|{_SIZE_WORD})(?![a-z0-9])"
    ),
    re.compile(r"(?<![a-z0-9])(?P<s>xxxl|xxl|xl|[2-6]xl|xxs|xs)(?![a-z0-9])"),
    # "the M was too tight", "it fit perfectly in S": a bare letter only where nothing else reads
    re.compile(
        r"(?<![a-z])(?:the|in|an?)\s+(?P<s>s|m|l)"
        r"(?=\s+(?:was|were|is|fit|fits|fitted|felt|ran|runs|of|in)(?![a-z])|\s*[.,!?;]|\s*$)"
    ),
    re.compile(
        r"(?:(?<![a-z])size|尺码|码数)\s*(?:[:：=]|(?<![a-z])is(?![a-z])|是)?\s*"
        r"(?P<n>(?<![0-9.])[0-9]{1,2}(?:\.5)?)(?![0-9]|\.[0-9])"
    ),
    re.compile(r"(?P<n>(?<![0-9.])[0-9]{1,2})\s*码"),
    re.compile(r"(?<![a-z0-9])w\s*(?P<w>[2-4][0-9])\s*[/x]?\s*l\s*(?P<l>[2-3][0-9])(?![0-9])"),
    re.compile(r"(?P<one>均码|(?<![a-z])(?:one size|one-size|free size)(?![a-z]))"),
    re.compile(r"(?<![0-9])(?P<h>1[0-9]{2})/(?P<c>[4-9][0-9]|1[0-3][0-9])(?P<t>[abcy])?(?![a-z0-9])"),
)


def _size_label(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("s"):
        letters = groups["s"]
        if letters in _SIZE_WORDS:
            return _SIZE_WORDS[letters]
        return {"2xl": "XXL", "3xl": "XXXL"}.get(letters, letters.upper())
    if groups.get("n"):
        return groups["n"]
    if groups.get("w"):
        return f"W{groups['w']} L{groups['l']}"
    if groups.get("one"):
        return "one size"
    if groups.get("h"):
        return f"{groups['h']}/{groups['c']}{(groups.get('t') or '').upper()}"
    return None


def _extract_sizes(t: _Text) -> list[str]:
    hits: list[tuple[int, int, str]] = []
    for pattern in _SIZE_PATTERNS:
        for match in pattern.finditer(t.norm):
            label = _size_label(match)
            if label is not None:
                hits.append((match.start(), match.end(), label))
    hits.sort(key=lambda hit: (hit[0], -hit[1]))
    sizes: list[str] = []
    for start, end, label in hits:
        if t.free(start, end):
            t.take(start, end)
            if label not in sizes:
                sizes.append(label)
    return sizes


# --- references ------------------------------------------------------------------------------

_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1,
}  # fmt: skip
_ORDINAL_NOUNS = {
    "one", "ones", "item", "option", "pick", "look", "outfit", "suggestion", "result", "recommendation",
    "choice", "pair",
}  # fmt: skip
_NOT_REFERENCE_NOUNS = {
    "time", "times", "date", "day", "week", "month", "year", "thing", "things", "place", "impression",
    "half", "round", "step", "floor", "minute", "night",
}  # fmt: skip
_EN_ORDINAL = re.compile(
    r"(?<![a-z0-9])(?P<the>the\s+)?(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
    r"|last|[0-9]{1,2}(?:st|nd|rd|th))(?![a-z0-9])(?:\s+(?P<next>[a-z-]+))?"
)
_NUMBERED = re.compile(
    r"(?<![a-z0-9])(?:#|no\.|number|option|item|choice|pick)\s*(?P<n>(?<![0-9])[0-9]{1,2})(?![0-9])"
)
_ZH_CLASSIFIER = r"(?:个|件|条|款|双|套|张|项|种|只|顶|副|身|位)"
_ZH_ORDINAL_NUM = r"(?<![0-9])[0-9]{1,2}(?![0-9])|[一二两三四五六七八九十]{1,3}"
_ZH_FROM_END = re.compile(rf"倒数\s*第\s*(?P<n>{_ZH_ORDINAL_NUM})(?:\s*{_ZH_CLASSIFIER})?")
_ZH_ORDINAL = re.compile(
    rf"第\s*(?P<n>{_ZH_ORDINAL_NUM})(?!\s*[次天年月周名届季期章节集场轮])(?:\s*{_ZH_CLASSIFIER})?"
)
_ZH_LAST = re.compile(rf"最后(?:一|那)?\s*{_ZH_CLASSIFIER}")
_ZH_DEICTIC = re.compile(
    r"(?:[这那]一?(?:件|条|款|双|套|顶|只|副|身|种|些|个|款式)(?![周月季年天次里样么]|星期|礼拜|时候|问题|人|地方)|它)"
)
_DEICTIC_FOLLOW = (
    r"(?=\s*(?:[.,!?;:)]|$)"
    r"|\s+(?:in|for|with|on|come|comes|cost|costs|look|looks|fit|fits|run|runs)(?![a-z]))"
)
_EN_BARE_DEICTIC = re.compile(rf"(?<![a-z'])(?:this|that|these|those|it){_DEICTIC_FOLLOW}")


def _english_category_words() -> str:
    words = {k for k, v in CATEGORIES.items() if v is not None and k.isascii()}
    return "|".join(sorted((re.escape(w) + "(?:e?s)?" for w in words), key=len, reverse=True))


_EN_DEICTIC_NOUN = re.compile(
    r"(?<![a-z])(?:this|that|these|those)\s+(?:[a-z-]+\s+)?"
    rf"(?:one|ones|item|items|look|looks|outfit|outfits|pair|style|colou?r|size|option|piece|"
    rf"{_english_category_words()})(?![a-z])"
)


def _ordinal_index(text: str) -> int | None:
    value = int(text) if text.isdigit() else _zh_int(text)
    return value if value is not None and 1 <= value <= MAX_ORDINAL else None


def _extract_references(t: _Text) -> list[Reference]:
    hits: list[tuple[int, Reference]] = []

    def add(match: re.Match[str], kind: Literal["ordinal", "deictic"], index: int | None = None) -> None:
        if t.free(match.start(), match.end()):
            t.take(match.start(), match.end())
            hits.append(
                (match.start(), Reference(kind=kind, index=index, text=t.span(match.start(), match.end())))
            )

    for match in _ZH_FROM_END.finditer(t.norm):
        index = _ordinal_index(match.group("n"))
        if index is not None:
            add(match, "ordinal", -index)
    for match in _ZH_ORDINAL.finditer(t.norm):
        index = _ordinal_index(match.group("n"))
        if index is not None:
            add(match, "ordinal", index)
    for match in _ZH_LAST.finditer(t.norm):
        add(match, "ordinal", -1)
    for match in _EN_ORDINAL.finditer(t.norm):
        word, following = match.group("ord"), match.group("next")
        if following in _NOT_REFERENCE_NOUNS:
            continue
        if word in _ORDINAL_WORDS:
            if not match.group("the") and following not in _ORDINAL_NOUNS:
                continue
            index = _ORDINAL_WORDS[word]
        else:
            index = _ordinal_index(word[:-2]) or 0
        if index:
            add(match, "ordinal", index)
    for match in _NUMBERED.finditer(t.norm):
        index = _ordinal_index(match.group("n"))
        if index is not None:
            add(match, "ordinal", index)
    for pattern in (_EN_DEICTIC_NOUN, _EN_BARE_DEICTIC, _ZH_DEICTIC):
        for match in pattern.finditer(t.norm):
            add(match, "deictic")
    hits.sort(key=lambda hit: hit[0])
    seen: set[tuple[str, int | None]] = set()
    references: list[Reference] = []
    for _, reference in hits:
        key = (reference.kind, reference.index)
        if key not in seen:
            seen.add(key)
            references.append(reference)
    return references


# --- lexicon matching ------------------------------------------------------------------------


def _compact(text: str) -> str:
    return re.sub(r"[\s\-]+", "", text)


class _Lexicon(Generic[V]):
    """Longest-first matching of a phrase dictionary, with word boundaries for Latin words."""

    def __init__(self, entries: Mapping[str, V | None], plurals: bool = False) -> None:
        self.lookup: dict[str, V | None] = {_compact(k): v for k, v in entries.items()}
        parts = []
        for key in sorted(entries, key=lambda k: (-len(k), k)):
            part = r"[\s\-]*".join(re.escape(piece) for piece in re.split(r"[\s\-]+", key))
            if key[0].isascii() and key[0].isalnum():
                part = r"(?<![a-z0-9])" + part
            if key[-1].isascii() and key[-1].isalnum():
                part += (r"(?:e?s)?" if plurals and key[-1].isalpha() else "") + r"(?![a-z0-9])"
            parts.append(part)
        self.pattern = re.compile("|".join(parts))
        self.plurals = plurals

    def value(self, matched: str) -> V | None:
        key = _compact(matched)
        if key in self.lookup:
            return self.lookup[key]
        if self.plurals:
            for suffix in ("es", "s"):
                if key.endswith(suffix) and key[: -len(suffix)] in self.lookup:
                    return self.lookup[key[: -len(suffix)]]
        return None

    def scan(self, text: str) -> list[tuple[int, int, V]]:
        return [
            (m.start(), m.end(), v)
            for m in self.pattern.finditer(text)
            if (v := self.value(m.group())) is not None
        ]


_ZH_GARMENTS = "|".join(
    sorted(
        (re.escape(k) for k, v in CATEGORIES.items() if v is not None and not k.isascii()),
        key=len,
        reverse=True,
    )
)
#: Single-character colours are colours only right before a garment ("白衬衫"), never inside words ("明白").
_ZH_GARMENT_AFTER = re.compile(rf"的?(?:{_ZH_GARMENTS})")
_COLOUR_LEXICON = _Lexicon({**COLOURS, **ZH_SINGLE_COLOURS})
_CATEGORY_LEXICON = _Lexicon(CATEGORIES, plurals=True)
_OCCASION_LEXICON = _Lexicon(OCCASIONS)
_SEASON_LEXICON = _Lexicon(SEASONS)
_WEATHER_LEXICON = _Lexicon(WEATHER)
_STYLE_LEXICON = _Lexicon(STYLES)
_FIT_LEXICON = _Lexicon(FITS)
_FIT_FEEDBACK_LEXICON = _Lexicon(FIT_FEEDBACK)
#: "product 15970", "id: 15970", "编号15970", "商品 15970": catalog ids are 3-10 digits.
_PRODUCT_ID = re.compile(
    r"(?:(?<![a-z])(?:product|item|id|sku)(?:\s*(?:id|no\.?|number))?|编号|商品号|商品|货号)"
    r"\s*[:：#]?\s*(?P<id>(?<![0-9])[0-9]{3,10})(?![0-9])"
)

_NEGATION = re.compile(
    r"(?:不要|不想要|不想|不喜欢|不穿|别|讨厌|避开|除了|排除|拒绝"
    r"|(?<![a-z])(?:no|not|don't|dont|do not|never|avoid|avoiding|except|without|hate|dislike|anything but"
    r"|nothing)(?![a-z']))"
)
#: Words that may stand between a negation and what it negates ("I don't want any black").
_NEGATION_GAP = re.compile(
    r"(?:\s|[,、/]|太|穿|用|选|要|买|任何|什么|的|一些|和|或者|或|跟|与|(?<![a-z])(?:any|a|an|the|too|wear|wearing"
    r"|want|like|in|something|anything|really|very|so|or|and|nor|color|colour|colors|colours)(?![a-z]))*"
)
_JOINER = re.compile(r"(?:\s|[,、/]|和|或者|或|跟|与|及|(?<![a-z])(?:or|and|nor)(?![a-z]))*")


def _with_negation(text: str, hits: Iterable[tuple[int, int, T]]) -> list[tuple[T, bool]]:
    """Mark each hit negated when a negation precedes it closely, or it joins a negated list."""
    out: list[tuple[T, bool]] = []
    previous_end, previous_negated = -1, False
    for start, end, value in hits:
        negated = False
        if previous_negated and _JOINER.fullmatch(text, previous_end, start):
            negated = True
        else:
            window_start = max(0, start - 30)
            for neg in _NEGATION.finditer(text, window_start, start):
                if _NEGATION_GAP.fullmatch(text, neg.end(), start):
                    negated = True
                    break
        out.append((value, negated))
        previous_end, previous_negated = end, negated
    return out


def _unique(values: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(values))


#: Chinese pairs of single-character colours said as one word ("黑白" is black and white).
_ZH_COLOUR_PAIRS = re.compile(r"(黑白|蓝白|红白|黑红|黑灰)(?:两色|配色|色)?")


def _colour_hits(text: str) -> list[tuple[int, int, str]]:
    hits: list[tuple[int, int, str]] = []
    pairs = [(m.start(), m.end(), m.group(1)) for m in _ZH_COLOUR_PAIRS.finditer(text)]
    for start, end, pair in pairs:
        hits.extend((start, end, ZH_SINGLE_COLOURS[char]) for char in pair)
    for start, end, colour in _COLOUR_LEXICON.scan(text):
        if any(a <= start < b for a, b, _ in pairs):
            continue
        if end - start == 1 and text[start] in ZH_SINGLE_COLOURS and not _ZH_GARMENT_AFTER.match(text, end):
            continue
        hits.append((start, end, colour))
    return hits


# --- entry point -----------------------------------------------------------------------------


def _extract_product_ids(t: _Text) -> list[str]:
    ids: list[str] = []
    for match in _PRODUCT_ID.finditer(t.norm):
        if t.free(match.start(), match.end()):
            t.take(match.start(), match.end())
            ids.append(match.group("id"))
    return _unique(ids)


def _extract(text: str) -> Slots:
    t = _Text(text[:MAX_CHARS])
    found = _Found()
    product_ids = _extract_product_ids(t)
    _extract_measurements(t, found)
    _extract_threshold_drop(t, found)
    _extract_budget(t, found)
    sizes = _extract_sizes(t)
    references = _extract_references(t)
    norm = t.norm

    colours = _with_negation(norm, _colour_hits(norm))
    feedback_hits = _FIT_FEEDBACK_LEXICON.scan(norm)
    feedback = [v for _, _, v in feedback_hits]
    # "was too loose" reports how a size fitted; it is not a wish for a loose fit.
    fit_hits = [
        hit
        for hit in _FIT_LEXICON.scan(norm)
        if not any(a < hit[1] and hit[0] < b for a, b, _ in feedback_hits)
    ]
    fits = [v for v, negated in _with_negation(norm, fit_hits) if not negated]
    styles = [v for v, negated in _with_negation(norm, _STYLE_LEXICON.scan(norm)) if not negated]
    # "Weekend" or "daily" is background; a specific occasion in the same message is what matters.
    occasions = sorted(_OCCASION_LEXICON.scan(norm), key=lambda hit: hit[2] == Occasion.casual)
    seasons = _SEASON_LEXICON.scan(norm)
    avoided = _unique(c for c, negated in colours if negated)
    wanted = _unique(c for c, negated in colours if not negated)
    return Slots(
        measurements=Measurements(**found.measurements),
        budget=found.budget,
        price_threshold=found.threshold,
        occasion=occasions[0][2] if occasions else None,
        season=seasons[0][2] if seasons else None,
        weather=_unique(v for _, _, v in _WEATHER_LEXICON.scan(norm)),
        colours=_unique(c for c, negated in colours if not negated and c not in avoided),
        avoided_colours=avoided,
        only_colours=wanted if wanted and _ONLY.search(norm) else [],
        categories=_unique(v for _, _, v in _CATEGORY_LEXICON.scan(norm)),
        sizes=sizes,
        references=references,
        fit_preference=fits[0] if fits else None,
        styles=_unique(styles),
        fit_feedback=feedback[0] if feedback else None,
        product_ids=product_ids,
    )


#: Words that make the colours named exclusive.
_ONLY = re.compile(r"\b(?:only|nothing but|exclusively)\b|只要|只穿|只想要|只能是|只选|仅限")


def extract_slots(text: str) -> Slots:
    """Never raises: a message the rules cannot read must still reach the agent, just without slots."""
    if not isinstance(text, str) or not text:
        return Slots()
    try:
        return _extract(text)
    except Exception:  # a rule bug must not break a chat turn; the log makes it visible
        logger.exception("slot extraction failed; continuing without slots")
        return Slots()
