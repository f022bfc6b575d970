"""The check that keeps the LLM from stating facts no tool returned.

A reply may only contain numbers (sizes, prices, stock, measurements), letter sizes and
proper names (brands, product names) that appear in the turn's tool facts, the template
draft or the person's own message. The check is lexical and deliberately strict: a
paraphrase that fails it costs a template reply, an invented number costs trust.

It also runs on a stream: text is released word by word once each finished word passes,
so tokens reach the person while the model is still writing, and nothing unchecked does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\d])")
_ZH_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]{2,}")
_LETTER_SIZE = re.compile(r"(?<![A-Za-z])(?:XXS|XS|S|M|L|XL|XXL|XXXL|[2-6]XL)(?![A-Za-z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
#: Capitalised words that are not names (beyond sentence starts, which are always allowed).
_COMMON_CAPITALISED = frozenset(
    [
        "i",
        "i'm",
        "i'll",
        "i've",
        "i'd",
        "ok",
        "okay",
        "eu",
        "uk",
        "us",
        "cn",
        "cm",
        "kg",
        "lb",
        "in",
        "ft",
        "usd",
        "cny",
        "eur",
        "gbp",
        "jpy",
        "inr",
        "ai",
        "faq",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "spring",
        "summer",
        "autumn",
        "fall",
        "winter",
    ]
)
_SENTENCE_END = re.compile(r"[.!?。！？:：\n]\s*$")


def _canonical_number(text: str) -> str:
    value = text.replace(",", ".") if text.count(",") == 1 and len(text.split(",")[1]) != 3 else text
    value = value.replace(",", "")
    try:
        number = float(value)
    except ValueError:
        return text
    return f"{number:g}"


@dataclass(frozen=True)
class GroundingReport:
    ok: bool
    problems: tuple[str, ...] = ()


@dataclass
class Allowed:
    """What the reply may state, gathered once per turn."""

    numbers: set[str] = field(default_factory=set)
    sizes: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    zh_numbers: set[str] = field(default_factory=set)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Allowed:
        allowed = cls()
        for text in texts:
            allowed.numbers.update(_canonical_number(n) for n in _NUMBER.findall(text))
            allowed.sizes.update(_LETTER_SIZE.findall(text))
            allowed.words.update(w.lower() for w in _WORD.findall(text))
            allowed.zh_numbers.update(_ZH_NUMBER.findall(text))
        return allowed


def _claims(text: str, allowed: Allowed, *, sentence_start: bool) -> list[str]:
    problems: list[str] = []
    for number in _NUMBER.findall(text):
        if _canonical_number(number) not in allowed.numbers:
            problems.append(f"number {number} is in no tool result")
    for number in _ZH_NUMBER.findall(text):
        if number not in allowed.zh_numbers:
            problems.append(f"number {number} is in no tool result")
    for size in _LETTER_SIZE.findall(text):
        if size not in allowed.sizes:
            problems.append(f"size {size} is in no tool result")
    for match in _WORD.finditer(text):
        word = match.group()
        if not word[0].isupper() or word.lower() in _COMMON_CAPITALISED or _LETTER_SIZE.fullmatch(word):
            continue
        before = text[: match.start()]
        at_start = (sentence_start and not before.strip()) or bool(_SENTENCE_END.search(before))
        if at_start or word.lower() in allowed.words:
            continue
        problems.append(f"name {word!r} is in no tool result")
    return problems


def language_problem(text: str, language: str) -> str | None:
    """A reply in the wrong language is as unusable as a wrong fact (small models drift to English)."""
    han, latin = len(_HAN.findall(text)), len(_LATIN.findall(text))
    if language == "zh" and han < max(2, latin // 2):
        return "the reply is not in Chinese"
    if language == "en" and han > latin:
        return "the reply is not in English"
    return None


def coverage_problems(text: str, draft: str) -> list[str]:
    """What the rewrite dropped: every number of the draft, and its question if it asks one
    (a lost "Shall I save height 170 cm?" would leave the person unable to answer)."""
    problems = []
    said = {_canonical_number(n) for n in _NUMBER.findall(text)}
    for number in _NUMBER.findall(draft):
        if _canonical_number(number) not in said:
            problems.append(f"the reply drops {number}")
    if any(mark in draft for mark in "?？") and not any(mark in text for mark in "?？"):
        problems.append("the reply drops the question")
    return problems


def check_reply(text: str, allowed: Allowed, language: str, draft: str | None = None) -> GroundingReport:
    problems = _claims(text, allowed, sentence_start=True)
    if draft is not None:
        problems.extend(coverage_problems(text, draft))
    if not text.strip():
        problems.append("the reply is empty")
    wrong_language = language_problem(text, language)
    if wrong_language:
        problems.append(wrong_language)
    return GroundingReport(ok=not problems, problems=tuple(problems))


class Ungrounded(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class StreamingCheck:
    """Feed model deltas; get back the text that is safe to show now.

    Text is held until a word boundary (whitespace or CJK punctuation), so a number or
    name split across tokens is checked whole. The language, and that nothing the draft said
    was dropped, can only be checked at the end.
    """

    _BOUNDARY = re.compile(r"[\s，。！？；、]")

    def __init__(self, allowed: Allowed, language: str, draft: str | None = None) -> None:
        self._allowed = allowed
        self._language = language
        self._draft = draft
        self._buffer = ""
        self.released = ""

    def feed(self, delta: str) -> str:
        self._buffer += delta
        cut = max((m.end() for m in self._BOUNDARY.finditer(self._buffer)), default=0)
        if not cut:
            return ""
        return self._release(self._buffer[:cut])

    def finish(self, *, keep_rest: bool = True) -> str:
        """Release what is left (unless the caller cut the stream short) and check the whole."""
        rest = self._release(self._buffer) if self._buffer and keep_rest else ""
        self._buffer = ""
        report = check_reply(self.released, self._allowed, self._language, self._draft)
        if not report.ok:
            raise Ungrounded(list(report.problems))
        return rest

    def _release(self, chunk: str) -> str:
        sentence_start = not self.released.strip() or bool(_SENTENCE_END.search(self.released))
        problems = _claims(chunk, self._allowed, sentence_start=sentence_start)
        if problems:
            raise Ungrounded(problems)
        self._buffer = self._buffer[len(chunk) :]
        self.released += chunk
        return chunk
