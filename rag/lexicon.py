"""The zh/en → catalog-attribute lexicon and the tokeniser that reads queries with it.

The catalog is English and MiniLM is English-only, so a Chinese query is useful to both
engines only once "白色连衣裙" reads as colour White, article type Dresses. The phrases
live in ``lexicon_zh.tsv`` (data, reviewed like code) rather than in Python, so adding a
synonym needs no code change.

Segmentation is longest-match over the lexicon's phrases, on a token stream where each
Han character and each Latin word is one token. That needs no dictionary beyond the
lexicon (jieba's 20 MB dictionary would segment words the catalog cannot use anyway), and
what the lexicon does not know falls back to Han character bigrams, which the full-text
index also stores for any Chinese product text.

English tokens are compared in a light singular form on both sides ("dresses" and
"dress" meet as "dress"), so the TSV lists each English word once.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from rag.documents import FACET_FIELDS

logger = logging.getLogger(__name__)

LEXICON_PATH = Path(__file__).with_name("lexicon_zh.tsv")

#: Fields a lexicon row may name: the facet fields, plus English words and dropped words.
FIELDS: tuple[str, ...] = (*FACET_FIELDS, "term", "stop")
#: Longest phrase considered, in tokens (Han characters or words).
MAX_PHRASE_TOKENS = 8

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")
_TOKEN_RE = re.compile(f"[{_HAN}]|[a-z0-9]+")
_POSSESSIVE = re.compile(r"(?<=[a-z])['’]s\b")


def normalise(text: str) -> str:
    """NFKC, lower case, no control characters: full-width "ＴＥＥ" and "tee" read the same."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch if ch.isprintable() or ch in "\t\n" else " " for ch in text)
    return _POSSESSIVE.sub("", text)


def is_han(text: str) -> bool:
    return bool(_HAN_RE.search(text))


def singular(word: str) -> str:
    """A crude English singular, used only to compare words ("watches" ~ "watch"), never shown."""
    if not word.isascii() or len(word) <= 3 or not word.endswith("s") or word.endswith("ss"):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    return word[:-1]


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def han(self) -> bool:
        return bool(_HAN_RE.fullmatch(self.text))


def tokenize(text: str) -> list[Token]:
    """Han characters and Latin/digit words of already-normalised text, with their spans."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def _key(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(singular(t) for t in tokens)


@dataclass(frozen=True)
class Entry:
    field: str
    value: str


@dataclass(frozen=True)
class Segment:
    """A run of the query: a lexicon phrase (``entries`` non-empty) or one unknown token."""

    text: str
    start: int
    end: int
    entries: tuple[Entry, ...] = ()
    kind: Literal["phrase", "han", "word"] = "word"


@dataclass
class Lexicon:
    """Phrases (as token keys) to the catalog values they stand for."""

    phrases: dict[tuple[str, ...], list[Entry]] = field(default_factory=dict)
    #: Every catalog value each field's rows name (the spellings filters may use).
    values: dict[str, set[str]] = field(default_factory=dict)

    def add(self, phrase: str, entry: Entry) -> None:
        tokens = [t.text for t in tokenize(normalise(phrase.replace("-", " ")))]
        if not tokens or len(tokens) > MAX_PHRASE_TOKENS:
            raise ValueError(f"lexicon phrases are 1 to {MAX_PHRASE_TOKENS} tokens: {phrase!r}")
        entries = self.phrases.setdefault(_key(tokens), [])
        if entry not in entries:
            entries.append(entry)
        if entry.field in FACET_FIELDS:
            self.values.setdefault(entry.field, set()).add(entry.value)

    def lookup(self, phrase: str) -> list[Entry]:
        tokens = [t.text for t in tokenize(normalise(phrase))]
        return list(self.phrases.get(_key(tokens), []))

    def segment(self, text: str) -> list[Segment]:
        """Longest-match segmentation of normalised ``text``; unknown tokens come back one by one."""
        tokens = tokenize(text)
        keys = _key(t.text for t in tokens)
        out: list[Segment] = []
        i = 0
        while i < len(tokens):
            for length in range(min(MAX_PHRASE_TOKENS, len(tokens) - i), 0, -1):
                entries = self.phrases.get(keys[i : i + length])
                if entries:
                    first, last = tokens[i], tokens[i + length - 1]
                    out.append(
                        Segment(text[first.start : last.end], first.start, last.end, tuple(entries), "phrase")
                    )
                    i += length
                    break
            else:
                token = tokens[i]
                out.append(Segment(token.text, token.start, token.end, (), "han" if token.han else "word"))
                i += 1
        return out


def han_bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of each Han run (a lone character stays a unigram)."""
    grams: list[str] = []
    for run in re.findall(f"[{_HAN}]+", text):
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def english(entry: Entry) -> str:
    """The words an entry contributes to English text (for MiniLM and full-text)."""
    if entry.field == "stop":
        return ""
    return entry.value.lower()


def _auto_english(lexicon: Lexicon) -> None:
    """Each catalog value also matches its own spelling ("casual shoes", "navy blue")."""
    for field_name, values in list(lexicon.values.items()):
        for value in sorted(values):
            key = _key(t.text for t in tokenize(normalise(value)))
            if key and key not in lexicon.phrases:
                lexicon.add(value, Entry(field_name, value))


def parse_tsv(lines: Iterable[str], source: str = "<lexicon>") -> Lexicon:
    lexicon = Lexicon()
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"{source}:{number}: expected 'phrase<TAB>field<TAB>value', got {line!r}")
        phrase, field_name, value = (p.strip() for p in parts)
        if field_name not in FIELDS:
            raise ValueError(f"{source}:{number}: unknown field {field_name!r}; known: {FIELDS}")
        lexicon.add(phrase, Entry(field_name, value))
    _auto_english(lexicon)
    return lexicon


def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    with path.open(encoding="utf-8") as handle:
        lexicon = parse_tsv(handle, str(path))
    logger.debug("lexicon loaded", extra={"path": str(path), "phrases": len(lexicon.phrases)})
    return lexicon


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The shipped lexicon, read once per process."""
    return load_lexicon()


def fts_terms(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Words for a full-text match: English as typed, Chinese translated, unknown Han as bigrams.

    Used where an engine is handed raw text rather than a parsed query; stop words are dropped.
    """
    lexicon = lexicon or default_lexicon()
    terms: list[str] = []
    han_run: list[Segment] = []

    def flush() -> None:
        if han_run:
            terms.extend(han_bigrams("".join(s.text for s in han_run)))
            han_run.clear()

    for segment in lexicon.segment(normalise(text)):
        if segment.kind == "han":
            han_run.append(segment)
            continue
        flush()
        if segment.kind == "word":
            terms.append(segment.text)
        elif not any(e.field == "stop" for e in segment.entries):
            if is_han(segment.text):
                words = {english(e) for e in segment.entries}
                terms.extend(w for word in sorted(words) for w in word.split())
            else:
                terms.extend(segment.text.split())
    flush()
    return list(dict.fromkeys(t for t in terms if t))


def grouped(entries: Iterable[Entry]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        if entry.value not in out[entry.field]:
            out[entry.field].append(entry.value)
    return dict(out)
