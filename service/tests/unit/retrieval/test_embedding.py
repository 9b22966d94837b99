"""The NumPy all-MiniLM-L6-v2 runtime reproduces sentence-transformers + torch.

`tests/data/golden_embeddings/golden.json` was made by torch (see `make_golden.py` there); the
runtime under test never imports torch.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spotter.retrieval.embedding import (
    EMBEDDING_DIMENSION,
    Embedder,
    default_model_dir,
    limit_blas_threads,
)

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden_embeddings" / "golden.json"


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    model = Embedder()
    yield model
    model.close()


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(GOLDEN.read_text("utf-8"))["items"]
    return items


def _long_text(golden: list[dict[str, Any]]) -> str:
    """A text of 200-256 tokens: near the limit, so padding in a batch is substantial."""
    return str(next(item["text"] for item in golden if 200 < item["untruncated_tokens"] <= 256))


def test_vectors_match_the_torch_reference(embedder: Embedder,
                                           golden: list[dict[str, Any]]) -> None:
    reference = np.array([item["vector"] for item in golden], dtype=np.float32)
    ours = embedder.embed([item["text"] for item in golden], batch_size=8)
    cosines = (ours * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, (golden[worst]["text"][:60], float(cosines[worst]))
    # The golden set covers what it claims: over-long input, unicode and near-empty text.
    assert any(item["untruncated_tokens"] > embedder.max_seq_length for item in golden)
    assert {"", "   ", "?"} <= {item["text"] for item in golden}


def test_vectors_are_unit_length_float32_rows_in_input_order(embedder: Embedder) -> None:
    texts = ["deadlift form", "rest days", "deadlift form"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, EMBEDDING_DIMENSION)
    assert vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)
    assert np.allclose(vectors[0], vectors[2], atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])
    assert embedder.embed([]).shape == (0, EMBEDDING_DIMENSION)


def test_batching_and_padding_do_not_change_vectors(embedder: Embedder,
                                                    golden: list[dict[str, Any]]) -> None:
    texts = [item["text"] for item in golden[:6]] + [_long_text(golden), ""]
    one_by_one = np.stack([embedder.embed([text])[0] for text in texts])
    assert np.allclose(embedder.embed(texts, batch_size=32), one_by_one, atol=1e-5)
    assert np.allclose(embedder.embed(texts, batch_size=3), one_by_one, atol=1e-5)
    reversed_rows = embedder.embed(texts[::-1], batch_size=4)[::-1]
    assert np.allclose(reversed_rows, one_by_one, atol=1e-5)


def test_text_past_the_token_limit_is_truncated(embedder: Embedder,
                                                golden: list[dict[str, Any]]) -> None:
    long_text = max((item["text"] for item in golden), key=len)
    same = embedder.embed([long_text, long_text + " Also stretch your calves afterwards."])
    assert np.allclose(same[0], same[1], atol=1e-6)
    different = embedder.embed(["Squat", "Squat and also stretch your calves afterwards."])
    assert not np.allclose(different[0], different[1], atol=1e-3)


def test_similar_questions_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    question, paraphrase, unrelated = embedder.embed([
        "How many sets of squats should I do?",
        "What is a good number of squat sets per workout?",
        "Which protein powder tastes best?",
    ])
    assert float(question @ paraphrase) > float(question @ unrelated) + 0.2


async def test_embed_async_matches_embed_and_keeps_the_loop_free(embedder: Embedder,
                                                                 golden: list[dict[str, Any]]
                                                                 ) -> None:
    texts = [_long_text(golden)] * 4
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    ticking = asyncio.create_task(ticker())
    try:
        vectors = await embedder.embed_async(texts)
    finally:
        done.set()
        await ticking
    assert np.allclose(vectors, embedder.embed(texts), atol=1e-6)
    assert ticks >= 5  # the loop kept running while four 220-token texts were embedded


def test_a_single_string_is_refused(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("one string")


def test_fingerprint_identifies_the_weights(embedder: Embedder, tmp_path: Path) -> None:
    assert embedder.fingerprint == Embedder().fingerprint
    assert embedder.fingerprint.startswith("minilm-l6-v2:")
    other = tmp_path / "model"
    other.mkdir()
    for name in ("sentence_bert_config.json", "config.json", "tokenizer.json"):
        shutil.copy(default_model_dir() / name, other / name)
    (other / "model.safetensors").write_bytes(b"\0" * 1024)
    assert Embedder(other).fingerprint != embedder.fingerprint


def test_the_runtime_does_not_import_torch(embedder: Embedder) -> None:
    embedder.embed(["bench press"])
    assert "torch" not in sys.modules


def test_numpy_blas_can_be_held_to_one_thread() -> None:
    # Embedder relies on this to keep a core for the event loop; a NumPy wheel that stops
    # bundling scipy-openblas would silently bring back spin-waiting BLAS threads.
    assert limit_blas_threads(1) is True
