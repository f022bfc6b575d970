#!/usr/bin/env python3
"""Validate the intent dataset in this folder.

Checks: every line parses; fields/labels/langs are valid; per-intent minimums
(train >= 45, dev >= 15, multi >= 40 turns with >= 2 intents); no exact duplicates
after normalisation (case, whitespace, punctuation, emoji) within or across files;
no near-duplicates (character 3-gram Jaccard > 0.8) within train, within dev, or
between dev and train. Prints the counts tables used in README.md.
Exit code 1 on any failure.
"""

import json
import re
import sys
import unicodedata
from collections import Counter
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = [
    "outfit_advice",
    "product_search",
    "inventory",
    "price_alert",
    "size_advice",
    "virtual_tryon",
    "image_generation",
    "wardrobe_add",
    "wardrobe_query",
    "wardrobe_outfit",
    "profile_update",
    "handoff_human",
    "smalltalk",
    "out_of_scope",
]
LANGS = {"zh", "en", "mixed"}
MIN = {"train": 45, "dev": 15}
JACCARD_MAX = 0.8
errors = []


def norm(t):
    t = unicodedata.normalize("NFKC", t).lower()
    t = "".join(c for c in t if not unicodedata.category(c).startswith(("P", "S", "Z")))
    return re.sub(r"\s+", "", t)


def grams(t):
    n = norm(t)
    return {n[i : i + 3] for i in range(max(1, len(n) - 2))}


def jac(a, b):
    return len(a & b) / len(a | b) if a | b else 1.0


def load(name, multi=False):
    rows = []
    for i, line in enumerate((HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        try:
            r = json.loads(line)
        except Exception as e:
            errors.append(f"{name}:{i} does not parse: {e}")
            continue
        keys = {"text", "intents", "lang"} if multi else {"text", "intent", "lang"}
        if set(r) != keys:
            errors.append(f"{name}:{i} keys {sorted(r)} != {sorted(keys)}")
        if not isinstance(r.get("text"), str) or not r["text"].strip():
            errors.append(f"{name}:{i} empty text")
        if r.get("lang") not in LANGS:
            errors.append(f"{name}:{i} bad lang {r.get('lang')!r}")
        labs = r.get("intents") if multi else [r.get("intent")]
        if not isinstance(labs, list) or any(l not in LABELS for l in labs):
            errors.append(f"{name}:{i} bad label(s) {labs!r}")
        if multi and (len(labs) < 2 or len(set(labs)) != len(labs)):
            errors.append(f"{name}:{i} multi turn needs >=2 distinct intents: {labs!r}")
        r["_where"] = f"{name}:{i}"
        rows.append(r)
    return rows


train, dev, multi = load("train"), load("dev"), load("multi", multi=True)


# counts
def table(rows):
    c = Counter((r["intent"], r["lang"]) for r in rows)
    return c


ct, cd = table(train), table(dev)
print("| intent | train | train zh/en/mixed | dev | dev zh/en/mixed |")
print("|---|---:|---|---:|---|")
for l in LABELS:
    t = [ct[(l, g)] for g in ("zh", "en", "mixed")]
    d = [cd[(l, g)] for g in ("zh", "en", "mixed")]
    print(f"| {l} | {sum(t)} | {'/'.join(map(str, t))} | {sum(d)} | {'/'.join(map(str, d))} |")
    if sum(t) < MIN["train"]:
        errors.append(f"train: {l} has {sum(t)} < {MIN['train']}")
    if sum(d) < MIN["dev"]:
        errors.append(f"dev: {l} has {sum(d)} < {MIN['dev']}")
for name, rows in (("train", train), ("dev", dev), ("multi", multi)):
    lc = Counter(r["lang"] for r in rows)
    n = len(rows)
    print(
        f"{name}: {n} lines; "
        + ", ".join(f"{g} {lc[g]} ({100 * lc[g] / n:.0f}%)" for g in ("zh", "en", "mixed"))
    )
allrows = train + dev
lc = Counter(r["lang"] for r in allrows)
n = len(allrows)
print(
    f"train+dev: {n} lines; "
    + ", ".join(f"{g} {lc[g]} ({100 * lc[g] / n:.0f}%)" for g in ("zh", "en", "mixed"))
)
mc = Counter(len(r["intents"]) for r in multi)
print("multi: turns by number of intents:", dict(sorted(mc.items())))
if len(multi) < 40:
    errors.append(f"multi has {len(multi)} < 40 turns")

# exact duplicates after normalisation (within and across all three files)
seen = {}
exact = 0
for r in train + dev + multi:
    k = norm(r["text"])
    if k in seen:
        exact += 1
        errors.append(f"exact dup: {r['_where']} == {seen[k]}: {r['text']!r}")
    else:
        seen[k] = r["_where"]
print(f"exact duplicates after normalisation (train+dev+multi): {exact}")

# near duplicates: char 3-gram Jaccard
G = {id(r): grams(r["text"]) for r in train + dev + multi}


def near(pairs, tag):
    hits, best = 0, (0.0, None, None)
    for a, b in pairs:
        j = jac(G[id(a)], G[id(b)])
        if j > best[0]:
            best = (j, a, b)
        if j > JACCARD_MAX:
            hits += 1
            errors.append(
                f"near dup ({tag}) J={j:.2f}: {a['_where']} {a['text']!r} ~ {b['_where']} {b['text']!r}"
            )
    j, a, b = best
    print(
        f"near-dup check {tag}: {hits} pairs with J>{JACCARD_MAX}; max J={j:.2f}"
        + (f" ({a['text']!r} ~ {b['text']!r})" if a else "")
    )


near(((d, t) for d in dev for t in train), "dev x train")
near(combinations(train, 2), "train x train")
near(combinations(dev, 2), "dev x dev")
near(((m, r) for m in multi for r in train + dev), "multi x train+dev")

if errors:
    print(f"\nFAILED with {len(errors)} problem(s):")
    for e in errors:
        print(" -", e)
    sys.exit(1)
print("\nOK: all checks passed")
