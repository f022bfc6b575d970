"""A trigram language model in ARPA format, built from the product's own sentences.

Built for PocketSphinx (``IK_SPEECH__ASR_LM=domain``): it decodes twice as fast as the general
English model, but on held-out questions it heard worse (``python -m evals voice``: WER 0.230 vs
0.156 on flite voices), so it is not the default. Probabilities are interpolated absolute
discounting, written as a back-off model (each context's back-off weight makes its distribution sum
to one), which is what ARPA readers expect.

``spoken_words`` is also how evaluation normalises reference transcripts, so a reference and a
recogniser's output are compared in the same words ("$150" is "one hundred fifty dollars").
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
#: Absolute discount; 0.7 is near the Kneser–Ney estimate D = n1 / (n1 + 2 n2) for small corpora.
DISCOUNT = 0.7
ORDER = 3
#: Share of unigram mass spread evenly over the vocabulary, so no known word is impossible.
_UNIFORM = 0.01


def number_words(value: int) -> str:
    if value < 20:
        return _ONES[value]
    if value < 100:
        return _TENS[value // 10] + ("" if value % 10 == 0 else " " + _ONES[value % 10])
    if value < 1000:
        rest = value % 100
        return _ONES[value // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    if value < 1_000_000:
        rest = value % 1000
        return number_words(value // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))
    return " ".join(_ONES[int(digit)] for digit in str(value))


def spoken_words(text: str) -> list[str]:
    """Lower-case words as they would be said: digits and prices spelled out, punctuation gone."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"\$\s*(\d+)", lambda m: f" {number_words(int(m.group(1)))} dollars ", text)
    text = re.sub(r"(\d+)\s*%", lambda m: f" {number_words(int(m.group(1)))} percent ", text)
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group(0)))} ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    return [word.strip("'") for word in text.split() if word.strip("'")]


def in_vocabulary_runs(words: Sequence[str], vocabulary: set[str] | frozenset[str]) -> list[list[str]]:
    """The sentence cut at words the dictionary cannot pronounce (a brand name, a typo)."""
    runs: list[list[str]] = []
    current: list[str] = []
    for word in words:
        if word in vocabulary:
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def build_arpa(sentences: Iterable[Sequence[str]]) -> str:
    counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(ORDER + 1)]
    for sentence in sentences:
        padded = ["<s>", *sentence, "</s>"]
        for n in range(1, ORDER + 1):
            for i in range(len(padded) - n + 1):
                counts[n][tuple(padded[i : i + n])] += 1
    if not counts[1]:
        raise ValueError("no sentences to build a language model from")

    vocabulary = len(counts[1])
    total = sum(c for (word,), c in counts[1].items() if word != "<s>")
    prob: dict[tuple[str, ...], float] = {}
    for gram, count in counts[1].items():
        seen = 0 if gram == ("<s>",) else count / total
        prob[gram] = seen * (1 - _UNIFORM) + _UNIFORM / vocabulary
    # <s> is never predicted; ARPA writes it with a log probability of -99.
    prob[("<s>",)] = 0.0

    context_total: list[dict[tuple[str, ...], int]] = [defaultdict(int) for _ in range(ORDER + 1)]
    context_types: list[dict[tuple[str, ...], int]] = [defaultdict(int) for _ in range(ORDER + 1)]
    for n in range(2, ORDER + 1):
        for gram, count in counts[n].items():
            context_total[n][gram[:-1]] += count
            context_types[n][gram[:-1]] += 1

    def interpolated(gram: tuple[str, ...]) -> float:
        n = len(gram)
        if n == 1:
            return prob.get(gram, _UNIFORM / vocabulary)
        if gram in prob:
            return prob[gram]
        history = gram[:-1]
        total_after = context_total[n].get(history, 0)
        if total_after == 0:
            return interpolated(gram[1:])
        seen = max(counts[n].get(gram, 0) - DISCOUNT, 0.0) / total_after
        left = DISCOUNT * context_types[n][history] / total_after
        return seen + left * interpolated(gram[1:])

    for n in range(2, ORDER + 1):
        for gram in counts[n]:
            prob[gram] = interpolated(gram)

    backoff: dict[tuple[str, ...], float] = {}
    followers: dict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
    for n in range(2, ORDER + 1):
        for gram in counts[n]:
            followers[gram[:-1]].append(gram)
    for history, grams in followers.items():
        kept = 1.0 - sum(prob[g] for g in grams)
        lower = 1.0 - sum(interpolated(g[1:]) for g in grams)
        backoff[history] = max(kept, 1e-12) / max(lower, 1e-12)

    lines = ["\\data\\", *(f"ngram {n}={len(counts[n])}" for n in range(1, ORDER + 1))]
    for n in range(1, ORDER + 1):
        lines += ["", f"\\{n}-grams:"]
        for gram in sorted(counts[n]):
            p = prob[gram]
            line = f"{math.log10(p) if p > 0 else -99.0:.5f}\t{' '.join(gram)}"
            if n < ORDER and gram in backoff:
                line += f"\t{math.log10(backoff[gram]):.5f}"
            lines.append(line)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
