"""A search box's text read into filters, ranking preferences and the words left over.

"白色连衣裙 夏天 500元以内" becomes colour White, article type Dresses, price ≤ 500 and a
preference for Summer; "navy slim chinos under $60" becomes colour Navy Blue, article type
Trousers, price ≤ 432 CNY and the free word "slim".

Which attributes filter and which only rank:

* **Hard filters**: gender, master/sub category, article type, colour and price. A person
  who says "white dress" or "under 500" does not want a blue dress or a 900 yuan one, and
  these fields are reliable in the catalog.
* **Preferences** (rank first, never exclude): season and usage. The catalog's season is
  a merchandising label (half of it is "Summer"; a Fall t-shirt is fine in summer) and its
  usage is "Casual" for 77% of products, so filtering on them hides good matches.
* Men and Women also admit Unisex products: "men's sunglasses" should show unisex ones.

Reading never raises: any text (empty, emoji, SQL or FTS syntax, NUL, 10k characters) gives
a ``ParsedQuery``, at worst an empty one.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

from pydantic import BaseModel, Field

from rag.documents import FACET_FIELDS, SearchFilters
from rag.lexicon import Lexicon, Segment, default_lexicon, english, grouped, han_bigrams, is_han, normalise
from rag.money import parse_price

logger = logging.getLogger(__name__)

#: Only this much of a query is read: search boxes hold phrases, and the cap bounds the work.
MAX_QUERY_CHARS = 500
#: At most this many free words reach the engines.
MAX_TERMS = 32
HARD_FIELDS: tuple[str, ...] = ("gender", "master_category", "sub_category", "article_type", "colour")
SOFT_FIELDS: tuple[str, ...] = ("season", "usage")

_UNISEX_WITH = {"Men", "Women"}
_NUMBER = re.compile(r"\d+")


class ParsedQuery(BaseModel):
    """What a query says, split into what filters, what ranks and what is left for text matching."""

    text: str = ""
    language: Literal["zh", "en"] = "en"
    #: Hard filters read from the text.
    filters: SearchFilters = Field(default_factory=SearchFilters)
    #: Values that rank matching products first without excluding others (season, usage).
    prefer: SearchFilters = Field(default_factory=SearchFilters)
    #: Free English words the lexicon did not turn into filters (for full-text).
    terms: list[str] = Field(default_factory=list)
    #: Bigrams of Chinese the lexicon does not know (for full-text over Chinese product text).
    han_terms: list[str] = Field(default_factory=list)
    #: English text for the (English-only) embedding model: the query with Chinese translated.
    semantic_text: str = ""
    #: Human-readable notes on what was read ("colour: White (白色)").
    understood: list[str] = Field(default_factory=list)

    @property
    def fulltext_terms(self) -> list[str]:
        return [*self.terms, *self.han_terms]


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def parse_query(text: str, *, lexicon: Lexicon | None = None) -> ParsedQuery:
    """Read ``text``; never raises (a failure is logged and gives an empty reading)."""
    try:
        return _parse(text if isinstance(text, str) else "", lexicon or default_lexicon())
    except Exception:  # a search box must answer whatever is typed into it
        logger.exception("query parsing failed; searching with no understanding")
        return ParsedQuery(text=str(text)[:MAX_QUERY_CHARS])


def _parse(raw: str, lexicon: Lexicon) -> ParsedQuery:
    original = raw[:MAX_QUERY_CHARS]
    text = normalise(original)
    language: Literal["zh", "en"] = "zh" if is_han(text) else "en"
    understood: list[str] = []

    price = parse_price(text)
    price_min = price_max = None
    if price is not None:
        price_min, price_max = price.min, price.max
        understood.append(f"price {price.describe()} ({price.source.strip()})")
        text = text[: price.start] + " " * (price.end - price.start) + text[price.end :]

    hard: dict[str, list[str]] = {}
    soft: dict[str, list[str]] = {}
    terms: list[str] = []
    han_unknown: list[str] = []
    semantic: list[str] = []
    han_run: list[Segment] = []

    def flush_han() -> None:
        if han_run:
            han_unknown.append("".join(s.text for s in han_run))
            han_run.clear()

    for segment in lexicon.segment(text):
        if segment.kind == "han":
            han_run.append(segment)
            continue
        flush_han()
        if segment.kind == "word":
            terms.append(segment.text)
            semantic.append(segment.text)
            continue
        fields = grouped(segment.entries)
        if "stop" in fields:
            continue
        for field, values in fields.items():
            if field == "term":
                words = [w for v in values for w in v.split()]
                terms.extend(words)
                semantic.extend(words)
                understood.append(f"{' '.join(values)} ({segment.text})")
                continue
            target = hard if field in HARD_FIELDS else soft
            target.setdefault(field, []).extend(values)
            understood.append(f"{field}: {', '.join(values)} ({segment.text})")
        # MiniLM reads the English a person would have typed: the original words or the translation.
        if is_han(segment.text):
            semantic.extend(english(e) for e in segment.entries if e.field != "term")
        elif not all(f == "term" for f in fields):
            semantic.append(segment.text)
    flush_han()

    if "article_type" in hard:
        # The article type is the narrowest category; a broader one next to it ("鞋 衬衫") would
        # only contradict it, and the catalog's own hierarchy is implied by the article type.
        hard.pop("master_category", None)
        hard.pop("sub_category", None)
    elif "sub_category" in hard:
        hard.pop("master_category", None)
    if "gender" in hard and _UNISEX_WITH & set(hard["gender"]):
        hard["gender"].append("Unisex")

    filters = SearchFilters(
        **{field: _dedupe(values) for field, values in hard.items() if field in FACET_FIELDS},
        price_min=price_min,
        price_max=price_max,
    )
    prefer = SearchFilters(**{field: _dedupe(values) for field, values in soft.items()})
    free = _dedupe([t for t in terms if not _NUMBER.fullmatch(t) or len(t) <= 6])[:MAX_TERMS]
    han_terms = _dedupe([g for run in han_unknown for g in han_bigrams(run)])[:MAX_TERMS]
    if han_unknown:
        understood.append(f"unrecognised Chinese: {' '.join(han_unknown)}")
    return ParsedQuery(
        text=original,
        language=language,
        filters=filters,
        prefer=prefer,
        terms=free,
        han_terms=han_terms,
        semantic_text=" ".join(_dedupe([w for w in semantic if w])),
        understood=understood,
    )
