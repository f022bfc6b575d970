"""The guard: what is refused before a message reaches the router, the tools or an LLM.

Rules, not a model, so the decision is instant and the same every time: empty,
oversized or binary messages; scripts the assistant does not serve (it speaks
Chinese and English); attempts to override its instructions or to reach someone
else's data; abuse. Each refusal names its ``kind`` for the logs and the
evaluations and carries a polite reply in the person's language. Refused text is
never logged, only its kind, length and a short hash.

Latin-script languages other than English (French, Spanish, ...) are not detected
here; the router sends them to ``out_of_scope`` or a clarifying question.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from typing import Literal

from pydantic import BaseModel

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4_000

RefusalKind = Literal[
    "empty", "too_long", "binary", "unsupported_language", "injection", "other_user_data", "abuse"
]

_INJECTION = re.compile(
    r"ignore\s+(?:all\s+|any\s+|your\s+|the\s+|my\s+)?(?:previous\s+|prior\s+|above\s+|earlier\s+)?"
    r"(?:instructions|rules|prompts?|guidelines)"
    r"|disregard\s+(?:all\s+|your\s+|the\s+)?(?:previous\s+|prior\s+|above\s+)?(?:instructions|rules)"
    r"|(?:reveal|show|print|repeat|tell me)\s+(?:me\s+)?(?:your\s+|the\s+)?(?:system|hidden|initial)\s+prompt"
    r"|system prompt|developer mode|jailbreak|\bdan mode\b|you are no longer"
    r"|pretend (?:that )?you have no rules"
    r"|忽略(?:之前|以上|前面|你的|所有|全部)*(?:的)?(?:指令|指示|规则|设定|提示)"
    r"|无视(?:之前|以上|你的|所有)*(?:的)?(?:指令|指示|规则|设定)"
    r"|系统提示词?|越狱|开发者模式",
    re.IGNORECASE,
)

_OTHER_PERSON = re.compile(
    r"\buser\s*#?\s*\d+\b|\bother (?:users?|customers?|people)'?s?\b|\b(?:someone|somebody) else'?s\b"
    r"|\banother (?:user|customer|person)'?s?\b|\ball users\b|\bevery user\b"
    r"|用户\s*\d+|其他(?:用户|客户|人)|别的(?:用户|客户|人)|别人的|所有用户"
    # someone named by email, possessively: "bob@example.com's height", "bob@example.com 的身高"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?:'s|’s|\s*的)",
    re.IGNORECASE,
)
_PERSONAL_DATA = re.compile(
    r"measurements?|profile|address|phone|e-?mail|password|data|orders?|wardrobe|photos?|size|weight|height"
    r"|尺寸|身材|数据|资料|信息|地址|电话|密码|订单|衣橱|衣柜|照片|身高|体重|三围|尺码",
    re.IGNORECASE,
)

_ABUSE = re.compile(
    r"\b(?:fuck(?:ing)?|f\*+k|shit(?:ty)?|bitch|bastard|asshole|cunt|retard(?:ed)?|idiot|stupid bot)\b"
    r"|傻逼|傻b|煞笔|操你|草泥马|他妈的|去死|滚蛋|白痴|脑残|废物",
    re.IGNORECASE,
)

_REPLIES: dict[RefusalKind, tuple[str, str]] = {
    "empty": ("I didn't get a message. What would you like help with?", "我没有收到内容，想问些什么呢？"),
    "too_long": (
        f"That message is too long for me (over {MAX_MESSAGE_CHARS} characters). "
        "Could you send a shorter one?",
        f"这条消息太长了（超过 {MAX_MESSAGE_CHARS} 字）。可以发短一点吗？",
    ),
    "binary": (
        "I couldn't read that message. Could you type it again?",
        "这条消息我读不出来，可以重新输入一下吗？",
    ),
    "unsupported_language": (
        "Sorry, I can only chat in Chinese or English for now.",
        "抱歉，我目前只能用中文或英文交流。",
    ),
    "injection": (
        "I can't change how I work, but I'm happy to help with outfits, sizes, your wardrobe or shopping.",
        "我不能更改自己的工作方式，不过很乐意帮你搭配、选尺码、管理衣橱或购物。",
    ),
    "other_user_data": (
        "I can only see and use your own information, never anyone else's.",
        "我只能查看和使用你本人的信息，不能查看其他任何人的。",
    ),
    "abuse": (
        "Let's keep it friendly. I'm here to help with your style whenever you're ready.",
        "我们友好地聊吧。需要穿搭帮助时随时告诉我。",
    ),
}


class GuardVerdict(BaseModel):
    allowed: bool
    kind: RefusalKind | None = None
    #: The polite reply to send instead of answering (None when allowed).
    reply: str | None = None
    language: Literal["zh", "en"]


def language_of(text: str) -> Literal["zh", "en"] | None:
    """Chinese or English by letters; None when the text has neither ("170/60")."""
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if han and han >= latin / 4:
        return "zh"
    return "en" if latin else None


def _unreadable(text: str) -> bool:
    """Mostly control, private-use, unassigned or replacement characters: not something a person typed."""
    bad = sum(
        1
        for ch in text
        if ch == "\ufffd" or (unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} and ch not in "\n\r\t")
    )
    return bad > 0 and bad >= 0.3 * len(text)


def _unsupported_script(text: str) -> bool:
    """Most letters are in a script other than Han or Latin (Cyrillic, Arabic, Hangul, Kana, Thai, ...)."""
    supported = other = 0
    for ch in text:
        if not ch.isalpha():
            continue
        if (
            ch.isascii()
            or "\u4e00" <= ch <= "\u9fff"
            or "\u3400" <= ch <= "\u4dbf"
            or "\u00c0" <= ch <= "\u024f"
        ):
            supported += 1
        else:
            other += 1
    return other >= 3 and other > supported


def check_message(text: str) -> GuardVerdict:
    """Allow the message, or say why not and what to reply."""
    kind = _classify(text)
    language = language_of(text[:MAX_MESSAGE_CHARS]) or "en"
    if kind is None:
        return GuardVerdict(allowed=True, language=language)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    logger.warning("guard refused a message", extra={"kind": kind, "chars": len(text), "sha256_12": digest})
    english, chinese = _REPLIES[kind]
    return GuardVerdict(
        allowed=False, kind=kind, reply=chinese if language == "zh" else english, language=language
    )


def _classify(text: str) -> RefusalKind | None:
    if not text.strip():
        return "empty"
    if len(text) > MAX_MESSAGE_CHARS:
        return "too_long"
    if _unreadable(text):
        return "binary"
    normalised = unicodedata.normalize("NFKC", text)
    if _INJECTION.search(normalised):
        return "injection"
    if _OTHER_PERSON.search(normalised) and _PERSONAL_DATA.search(normalised):
        return "other_user_data"
    if _ABUSE.search(normalised):
        return "abuse"
    if _unsupported_script(normalised):
        return "unsupported_language"
    return None
