"""Turning a written reply into speakable sentences, as it streams.

A reply is spoken sentence by sentence so the first one plays while the model is still writing
the rest; a synthesiser given half a sentence would put the pause in the wrong place. What reads
well on a screen (markdown, links, emoji, list bullets) is noise in the ear and is dropped.
"""

from __future__ import annotations

import re

from agent.prompts import Language

#: A sentence ends at one of these, followed by a space or the end (Chinese needs no space).
_END = re.compile(r"(?<=[.!?;:])(?<!\d\.)\s+|(?<=[。！？；：])|\n+")
#: Sentences shorter than this are joined to the next: "Sure." alone is a wasted synthesis call.
MIN_CHARS = 12
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MARKUP = re.compile(r"[*_`#>|~]+|\[(?P<label>[^\]]*)\]\([^)]*\)")
_BULLET = re.compile(r"^\s*(?:[-•·▸]|\d+[.)])\s+", re.MULTILINE)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\ufe0f]")
#: Asides in brackets ("(id 11803, ¥579)", "（演示数据）") are for reading, not for hearing.
_ASIDE = re.compile(r"\([^()]*\)|（[^（）]*）")


def speakable(text: str) -> str:
    text = _URL.sub(" ", text)
    text = _ASIDE.sub(" ", text)
    text = _MARKUP.sub(lambda m: m.group("label") or " ", text)
    text = _BULLET.sub("", text)
    text = _EMOJI.sub(" ", text)
    text = " ".join(text.split())
    return re.sub(r"\s+([,.;:!?，。；：！？])", r"\1", text)


def language_of(text: str, default: Language = "en") -> Language:
    """``zh`` when the sentence is mostly Chinese characters, so it is read with a Mandarin voice."""
    letters = sum(ch.isalpha() for ch in text)
    if not letters:
        return default
    return "zh" if len(_CJK.findall(text)) * 2 >= letters else "en"


class SentenceSplitter:
    """Collects streamed text and hands out whole sentences as soon as they are complete."""

    def __init__(self) -> None:
        self._buffer = ""

    def add(self, text: str) -> list[str]:
        self._buffer += text
        sentences: list[str] = []
        pending = ""
        start = 0
        for match in _END.finditer(self._buffer):
            piece = self._buffer[start : match.end()]
            start = match.end()
            pending += piece
            if len(pending.strip()) >= MIN_CHARS:
                sentences.append(pending)
                pending = ""
        self._buffer = pending + self._buffer[start:]
        return [s for s in (speakable(s) for s in sentences) if s]

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer, ""
        spoken = speakable(rest)
        return [spoken] if spoken else []

    def clear(self) -> None:
        self._buffer = ""


def sentences(text: str) -> list[str]:
    """A whole reply, split the way a streamed one would be."""
    splitter = SentenceSplitter()
    return splitter.add(text) + splitter.flush()
