"""Concurrent questions share forward passes and each caller still gets exactly its own vectors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.query_batching import QueryBatcher

QUESTIONS = [
    "how deep should I squat",
    "what is a good warm-up before heavy deadlifts on a cold morning",
    "knee pain when lunging",
    "how many rest days per week for a beginner who also runs twice a week",
    "protein",
    "should I do cardio before or after lifting weights",
    "my shoulder clicks during overhead press, is that a problem",
    "how to breathe when bracing",
]


class CountingEmbedder(Embedder):
    """The real model, recording the texts of every pass it is asked to run."""

    def __init__(self) -> None:
        super().__init__()
        self.passes: list[list[str]] = []
        self.fail_next = False

    async def embed_async(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        self.passes.append(list(texts))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the embedding thread failed")
        return await super().embed_async(texts, batch_size)


@pytest.fixture(scope="module")
def embedder() -> Iterator[CountingEmbedder]:
    model = CountingEmbedder()
    model.embed(["load the weights"])
    yield model
    model.close()


@pytest.fixture
def counting(embedder: CountingEmbedder) -> CountingEmbedder:
    embedder.passes.clear()
    embedder.fail_next = False
    return embedder


async def test_concurrent_callers_get_their_own_vectors_from_fewer_passes(counting: CountingEmbedder) -> None:
    batcher = QueryBatcher(counting)
    alone = counting.embed(QUESTIONS)
    results = await asyncio.gather(*(batcher.embed_async([q]) for q in QUESTIONS))
    for expected, got in zip(alone, results, strict=True):
        assert got.shape == (1, 384)
        assert float(expected @ got[0]) > 0.99999
    # All eight were waiting before the first pass began, so they share it.
    assert [len(p) for p in counting.passes] == [len(QUESTIONS)]


async def test_a_lone_question_is_embedded_at_once(counting: CountingEmbedder) -> None:
    batcher = QueryBatcher(counting)
    vector = await batcher.embed_async(["how deep should I squat"])
    assert counting.passes == [["how deep should I squat"]]
    assert float(vector[0] @ counting.embed(["how deep should I squat"])[0]) > 0.99999


async def test_a_pass_never_exceeds_max_rows_nor_splits_a_caller(counting: CountingEmbedder) -> None:
    batcher = QueryBatcher(counting, max_rows=3)
    calls = [QUESTIONS[:2], QUESTIONS[2:4], QUESTIONS[4:5], QUESTIONS[5:8], QUESTIONS[:1]]
    results = await asyncio.gather(*(batcher.embed_async(texts) for texts in calls))
    assert [r.shape[0] for r in results] == [len(c) for c in calls]
    assert all(len(p) <= 3 for p in counting.passes)
    flattened = [text for p in counting.passes for text in p]
    assert flattened == [text for c in calls for text in c]  # oldest first, each caller whole


async def test_a_failed_pass_fails_its_callers_and_the_next_question_works(counting: CountingEmbedder) -> None:
    batcher = QueryBatcher(counting)
    counting.fail_next = True
    with pytest.raises(RuntimeError, match="embedding thread failed"):
        await batcher.embed_async(["first"])
    vector = await batcher.embed_async(["second"])
    assert vector.shape == (1, 384)


async def test_a_cancelled_caller_is_left_out_and_the_others_still_answered(counting: CountingEmbedder) -> None:
    batcher = QueryBatcher(counting)
    first = asyncio.create_task(batcher.embed_async([QUESTIONS[0]]))
    await asyncio.sleep(0)  # the first pass is running now
    dropped = asyncio.create_task(batcher.embed_async(["never embedded"]))
    kept = asyncio.create_task(batcher.embed_async([QUESTIONS[1]]))
    await asyncio.sleep(0)
    dropped.cancel()
    assert (await first).shape == (1, 384)
    assert (await kept).shape == (1, 384)
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert all("never embedded" not in p for p in counting.passes)


async def test_no_texts_give_an_empty_matrix(counting: CountingEmbedder) -> None:
    assert (await QueryBatcher(counting).embed_async([])).shape == (0, 384)


def test_rejects_a_bare_string_and_a_zero_pass_size(counting: CountingEmbedder) -> None:
    with pytest.raises(ValueError, match="max_rows"):
        QueryBatcher(counting, max_rows=0)
    with pytest.raises(TypeError):
        asyncio.run(QueryBatcher(counting).embed_async("one string"))


async def test_the_callers_of_a_pass_resume_one_event_loop_pass_apart(counting: CountingEmbedder) -> None:
    batcher = QueryBatcher(counting)
    passes = 0

    async def tick() -> None:
        nonlocal passes
        while True:
            await asyncio.sleep(0)
            passes += 1

    async def ask(question: str) -> int:
        await batcher.embed_async([question])
        return passes

    ticker = asyncio.create_task(tick())
    try:
        resumed_at = await asyncio.gather(*(ask(q) for q in QUESTIONS))
    finally:
        ticker.cancel()
    assert len(counting.passes) == 1
    assert len(set(resumed_at)) == len(QUESTIONS)  # never two callers in the same loop pass
