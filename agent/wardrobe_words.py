"""Cues in the person's words that the intent router's labels do not separate well: "I wore…"
(log it), "add … to my wardrobe" said as "I have…", "which of my clothes should I wear", and
questions about what is never worn. The router picks the wardrobe; these pick what to do in it.
"""

from __future__ import annotations

import re

#: "I wore…", "今天穿了…": a statement for the wear log (a question about it is not).
_WORE = re.compile(
    r"\b(?:log (?:that )?|record (?:that )?)?i (?:wore|was wearing|have worn|put on|had on)\b|\bwore\b"
    r"|\b(?:as )?worn (?:today|yesterday)\b|\bi'?m wearing\b|(?:今天|昨天|前天)?穿(?:了|的是|的|过)",
    re.IGNORECASE,
)
_ASKS = re.compile(r"[?？]|haven'?t|have not|never|what|which|how|多久|哪些|什么|没穿", re.IGNORECASE)
_DAYS_AGO = (
    (re.compile(r"\bday before yesterday\b|前天", re.IGNORECASE), 2),
    (re.compile(r"\byesterday\b|昨天", re.IGNORECASE), 1),
)
_FILLER = re.compile(
    r"\b(?:today|yesterday|this morning|tonight|last night|day before|to (?:work|the office|a party|dinner)"
    r"|note (?:that|it) down|log it|please|for me)\b"
    r"|今天|昨天|前天|去上班|上班|帮我|记(?:录)?一下|记到.*$|我",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s*(?:,|，|、|;|；|\band\b|\bwith\b|和|跟|还有|配)\s*", re.IGNORECASE)
_IDLE = re.compile(
    r"(?:haven'?t|have not|never|not|didn'?t)\s+(?:i\s+|been\s+|ever\s+)?(?:worn|wear)"
    r"|don'?t wear|cost per wear|没穿|很久没|闲置|穿得少",
    re.IGNORECASE,
)
_ADD = re.compile(
    r"\b(?:add|put|save|store)\b.*\b(?:wardrobe|closet)\b|加(?:进|到|入)|(?:衣橱|衣柜)里?加|添加|放(?:进|到)",
    re.IGNORECASE,
)
_WHAT_TO_WEAR = re.compile(
    r"\bshould i wear\b|\bwhat to wear\b|\bwhat can i wear\b|\boutfit\b|穿什么|怎么搭|搭配|搭一套",
    re.IGNORECASE,
)


_ADD_WORDS = re.compile(
    r"\b(?:please|can you|could you|add|put|save|store|to|into|in|my|wardrobe|closet)\b"
    r"|把|帮我|请|添加(?:到|进)?|加(?:进|到|入)?|放(?:进|到)|衣橱里?|衣柜里?|我有|我的|一(?:双|件|条|个|顶|副)|里",
    re.IGNORECASE,
)


_ARTICLE = re.compile(r"^(?:a|an|the|some|one)\s+", re.IGNORECASE)


def _without_add_words(text: str) -> str:
    name = re.sub(r"\s+", " ", _ADD_WORDS.sub(" ", text)).strip(" ,，。.!！")
    # "a navy blazer" is stored as "navy blazer", as "my navy blazer" is.
    return _ARTICLE.sub("", name)


def described_item(text: str) -> str:
    """The item in "add my navy blazer to my wardrobe" / "把白色运动鞋加到衣橱": its name when stored."""
    return _without_add_words(text) or text.strip()


#: What is left of "add this to my wardrobe" / "把这件加到衣橱": pointing at the photo, naming nothing.
_DEICTIC = re.compile(
    r"^(?:(?:this|these|that|those|it|them)(?:\s+(?:one|ones|item|items|piece|pieces|photo|picture))?"
    r"|这(?:个|件|条|双|顶|些|张)?|那(?:个|件|条|双|些)?|它|它们)$",
    re.IGNORECASE,
)


def photo_caption(text: str) -> str | None:
    """The person's words about a photo worth keeping as its caption (and so its name): ``None``
    when they only point at it ("add this to my wardrobe"), so the item is named from its tags
    ("Red T-shirt") instead of "this"."""
    name = _without_add_words(text)
    return None if not name or _DEICTIC.match(name) else name


def is_wear_statement(text: str) -> bool:
    return bool(_WORE.search(text)) and not _ASKS.search(text)


def worn_pieces(text: str) -> tuple[list[str], int]:
    """The pieces a wear statement names, one phrase each, and how many days ago it was."""
    days = next((n for pattern, n in _DAYS_AGO if pattern.search(text)), 0)
    rest = _FILLER.sub(" ", _WORE.sub(" ", text))
    pieces = [m.strip(" .。!！") for m in _SEPARATORS.split(rest) if m.strip(" .。!！")]
    return pieces, days


def asks_about_idle(text: str) -> bool:
    return bool(_IDLE.search(text))


def asks_to_add(text: str) -> bool:
    return bool(_ADD.search(text))


def asks_what_to_wear(text: str) -> bool:
    return bool(_WHAT_TO_WEAR.search(text))
