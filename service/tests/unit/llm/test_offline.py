"""The offline responder: grounded, cited, deterministic answers streamed word by word."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence

import pytest

from spotter.llm.base import ChatMessage, Finished, LLMEvent, LLMRequest, TextDelta
from spotter.llm.factory import build_language_model
from spotter.llm.offline import OFFLINE_LABEL, OfflineModel
from spotter.retrieval.base import RetrievalHit
from spotter.settings import Settings

DOCUMENTS = (
    RetrievalHit(
        id="kb-squat", title="Squat technique", source="knowledge", score=0.9,
        text="Keep your heels down and brace before you descend. Squat to a depth you can "
             "control with a neutral spine. Box squats let you control depth when a knee is "
             "sensitive.",
    ),
    RetrievalHit(
        id="kb-5k", title="Couch to 5k", source="knowledge", score=0.8,
        text="Build up running with walk-run intervals three days a week. Increase weekly "
             "running time by about 10 percent. Most runs should be at a conversational pace.",
    ),
    RetrievalHit(
        id="w-17", title="Workout 2026-11-20", source="workout", score=0.7,
        text="Back squat 3x5 at 80 kg. Easy run 25 minutes.",
    ),
)


def request(
    *texts: str, documents: Sequence[RetrievalHit] = DOCUMENTS, max_tokens: int = 1000
) -> LLMRequest:
    """Alternating user/assistant messages ending with the user's question."""
    messages = [ChatMessage("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)]
    return LLMRequest(system="ignored offline", messages=messages, max_tokens=max_tokens,
                      documents=documents)


async def answer(req: LLMRequest, model: OfflineModel | None = None) -> tuple[str, list[LLMEvent]]:
    events = [event async for event in (model or OfflineModel()).stream(req)]
    return "".join(e.text for e in events if isinstance(e, TextDelta)), events


async def test_the_first_line_labels_the_answer_and_it_ends_with_stop() -> None:
    text, events = await answer(request("How deep should I squat?"))
    assert text.splitlines()[0] == OFFLINE_LABEL
    assert events[-1] == Finished("stop")
    assert all(isinstance(e, TextDelta) and e.text for e in events[:-1])
    assert len(events) > 20  # streamed in word-sized pieces, not one block
    assert OfflineModel().model_id == "offline"


async def test_answers_are_deterministic() -> None:
    req = request("I have a bad left knee.", "Noted.", "How deep should I squat?")
    first, first_events = await answer(req)
    second, second_events = await answer(req)
    assert first == second
    assert first_events == second_events


async def test_different_questions_get_different_grounded_answers() -> None:
    squat, _ = await answer(request("How deep should I squat?"))
    running, _ = await answer(request("How do I build up my running for a 5k?"))
    assert squat != running
    assert "Squat to a depth you can control with a neutral spine [1]." in squat
    assert "Build up running with walk-run intervals three days a week [2]." in running
    assert "walk-run" not in squat


async def test_citations_point_at_document_positions() -> None:
    text, _ = await answer(request("How much did I squat, and what depth is right?"))
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert cited
    assert cited <= {1, 2, 3}
    assert "Back squat 3x5 at 80 kg [3]." in text
    assert "[3] Workout 2026-11-20 (your workout log)" in text


async def test_a_fact_stated_two_turns_earlier_is_surfaced_and_used() -> None:
    squat_cues = RetrievalHit(
        id="kb-cues", title="Cues", source="knowledge", score=0.9,
        text="Squat with your heels down. Squat with a neutral spine. Squat to a box when a "
             "knee is sensitive.",
    )
    earlier = ("Hi! I have a bad left knee. Anyway, what should I eat after training?",
               "Protein and carbohydrates within a few hours.",
               "Thanks, and how often should I run?",
               "Three days a week works for most beginners.")
    with_fact, _ = await answer(request(*earlier, "How should I squat?", documents=[squat_cues]))
    without, _ = await answer(request("How should I squat?", documents=[squat_cues]))
    assert 'You mentioned earlier: "I have a bad left knee"' in with_fact
    assert "You mentioned earlier" not in without
    # The remembered knee lifts the knee-friendly sentence into the answer.
    assert "Squat to a box when a knee is sensitive [1]." in with_fact
    assert "Squat to a box" not in without


async def test_questions_are_not_mistaken_for_facts() -> None:
    text, _ = await answer(request("Can I have a rest day?", "Yes.", "How deep should I squat?"))
    assert "You mentioned earlier" not in text


async def test_a_red_flag_answer_says_stop_and_see_a_professional_first() -> None:
    text, _ = await answer(request("I felt a sharp pain in my knee during squats, what now?"))
    body = text.split("\n\n")
    assert body[0] == OFFLINE_LABEL
    assert "stop training" in body[1].lower()
    assert "doctor" in body[1]
    assert "physiotherapist" in body[1]
    assert text.index("doctor") < text.index("[1]")


async def test_without_documents_it_says_so_and_gives_general_guidance() -> None:
    text, events = await answer(request("What protein intake do I need?", documents=()))
    assert "couldn't find anything about *protein intake" in text
    assert "General guidance, not from your sources" in text
    assert not re.search(r"\[\d+\]", text)
    assert events[-1] == Finished("stop")


async def test_max_tokens_cuts_the_answer_with_length() -> None:
    _, events = await answer(request("How deep should I squat?", max_tokens=5))
    assert len(events) == 6
    assert all(isinstance(e, TextDelta) for e in events[:5])
    assert events[-1] == Finished("length")


async def test_the_configured_delay_paces_the_deltas() -> None:
    model = OfflineModel(token_delay_seconds=0.02)
    started = time.monotonic()
    _, events = await answer(request("How deep should I squat?", max_tokens=6), model)
    assert time.monotonic() - started >= 5 * 0.02
    assert events[-1] == Finished("length")


async def test_a_consumer_can_be_cancelled_while_it_streams() -> None:
    received: list[LLMEvent] = []

    async def consume() -> None:
        async for event in OfflineModel(token_delay_seconds=0.05).stream(request("Squat depth?")):
            received.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 1 <= len(received) <= 4
    assert not any(isinstance(e, Finished) for e in received)


async def test_the_factory_builds_the_offline_model_by_default() -> None:
    model = build_language_model(Settings(offline_token_delay_seconds=0.0))
    assert isinstance(model, OfflineModel)
    assert model.model_id == "offline"
    text, _ = await answer(request("How deep should I squat?"), model)
    await model.aclose()
    assert text.startswith(OFFLINE_LABEL)
