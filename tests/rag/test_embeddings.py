"""The numpy MiniLM encoder against vectors computed by sentence-transformers itself.

``data/minilm_reference.json`` was made once with sentence-transformers and torch
(its ``generator`` field says which versions); the product does not install them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.embeddings import default_encoder

pytestmark = pytest.mark.unit

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text(encoding="utf-8"))


def test_embeddings_match_sentence_transformers() -> None:
    ours = default_encoder().encode(REFERENCE["texts"])
    theirs = np.asarray(REFERENCE["embeddings"], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(REFERENCE["texts"]), 384)
    assert np.abs(ours - theirs).max() < 1e-4
    assert np.allclose((ours * theirs).sum(axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_vectors() -> None:
    texts = REFERENCE["texts"]
    one_by_one = np.vstack([default_encoder().encode([t]) for t in texts])
    batched = default_encoder().encode(list(reversed(texts)), batch_size=2)[::-1]
    assert np.abs(one_by_one - batched).max() < 1e-5


def test_similar_meanings_are_closer_than_unrelated_ones() -> None:
    blazer, jacket, recipe = default_encoder().encode(
        ["navy blazer for work", "dark blue suit jacket for the office", "how do I bake sourdough bread"]
    )
    assert float(blazer @ jacket) > float(blazer @ recipe) + 0.2


def test_no_texts_gives_an_empty_matrix() -> None:
    assert default_encoder().encode([]).shape == (0, 384)
