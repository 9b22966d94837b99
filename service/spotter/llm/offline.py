"""A deterministic coach that answers from the retrieved documents alone, with no network.

It is the default backend (`SPOTTER_LLM=offline`), so Spotter runs, demos and tests without an
API key or model weights. Its answers are assembled, not generated: the stop-and-see-a-professional
rule first when the question reports a red flag, what the user said earlier in the conversation,
then the sentences of the retrieved documents that best match the question, cited `[n]` exactly
as the system prompt asks a real model to cite them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from spotter.llm.base import ChatMessage, Finished, LLMEvent, LLMRequest, TextDelta
from spotter.llm.prompt import is_red_flag
from spotter.retrieval.base import RetrievalHit

__all__ = ["OFFLINE_LABEL", "OfflineModel"]

OFFLINE_LABEL = "_Offline coach (no LLM configured): answer assembled from the knowledge base._"

_MAX_POINTS = 4  # sentences quoted in one answer
_MAX_POINTS_PER_DOCUMENT = 2
_MAX_FACTS = 3
_YIELD_EVERY = 8  # deltas between event-loop yields when there is no delay

_RED_FLAG_ANSWER = (
    "**Please stop training and get this checked first.** What you describe can be a warning "
    "sign that exercise should not push through. Stop the session, and see a doctor or a "
    "physiotherapist before you train again. If you have chest pain, have fainted, or are "
    "severely short of breath, call emergency services now. I can't diagnose what is causing "
    "it or advise on medication."
)
_GENERAL_GUIDANCE = (
    "- Warm up for 5-10 minutes and build up to your working sets.\n"
    "- Progress gradually: add a little load, a rep or about 10% volume per week, not all three.\n"
    "- Keep most sessions at an effort where you could still do 1-3 more reps.\n"
    "- Sleep, eat enough protein and take at least one rest day a week.\n"
    "- Stop if something hurts sharply, and see a professional if pain persists."
)


class OfflineModel:
    """The offline responder: same `LanguageModel` contract, answers built from `documents`."""

    def __init__(self, token_delay_seconds: float = 0.0) -> None:
        self._delay = token_delay_seconds

    @property
    def model_id(self) -> str:
        """Always `offline`."""
        return "offline"

    async def stream(self, request: LLMRequest) -> AsyncGenerator[LLMEvent, None]:
        """Stream the assembled answer word by word; stop at `max_tokens` words (`length`)."""
        answer = compose_answer(request.messages, request.documents)
        for count, match in enumerate(re.finditer(r"\S+\s*", answer)):
            if count >= request.max_tokens:
                yield Finished("length")
                return
            if self._delay > 0 and count:
                await asyncio.sleep(self._delay)
            elif count % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a point where cancellation and other streams get in
            yield TextDelta(match.group())
        yield Finished("stop")

    async def aclose(self) -> None:
        """Nothing to release: no connections are held."""


def compose_answer(messages: Sequence[ChatMessage], documents: Sequence[RetrievalHit]) -> str:
    """The full offline answer to the last user message of `messages`."""
    user_texts = [m.content for m in messages if m.role == "user"]
    question = user_texts[-1] if user_texts else ""
    facts = _earlier_facts(user_texts[:-1])
    sections = [OFFLINE_LABEL]
    red_flag = is_red_flag(question)
    if red_flag:
        sections.append(_RED_FLAG_ANSWER)
    if facts:
        quoted = "; ".join(f'"{fact}"' for fact in facts)
        sections.append(f"You mentioned earlier: {quoted}. Keep that in mind with what follows.")
    topic = _topic(question)
    points = _best_sentences(question, facts, documents)
    if points:
        intro = "What the sources say"
        if red_flag:
            intro = "Once you have been cleared, here is what the sources say"
        sections.append(f"{intro} about *{topic}*:")
        sections.append("\n".join(f"- {_cited(p.sentence, p.document + 1)}" for p in points))
        cited = sorted({p.document for p in points})
        sources = "; ".join(_source_label(d, documents[d]) for d in cited)
        sections.append(f"Sources: {sources}.")
    elif not red_flag:
        sections.append(
            f"I couldn't find anything about *{topic}* in the knowledge base or your workout "
            "log, so I can't give you a sourced answer. General guidance, not from your sources:"
        )
        sections.append(_GENERAL_GUIDANCE)
    return "\n\n".join(sections)


@dataclass(frozen=True, slots=True)
class _Point:
    score: float
    document: int  # 0-based position in the request's documents
    position: int  # sentence number inside the document
    sentence: str


def _best_sentences(
    question: str, facts: Sequence[str], documents: Sequence[RetrievalHit]
) -> list[_Point]:
    """Rank every sentence by overlap with the question (facts weigh half); best few win."""
    wanted = set(_terms(question))
    context = set(_terms(" ".join(facts))) - wanted
    candidates: list[_Point] = []
    for index, hit in enumerate(documents):
        title_terms = set(_terms(hit.title))
        title_bonus = 0.5 * len(wanted & title_terms)
        for position, sentence in enumerate(_sentences(hit.text)):
            terms = set(_terms(sentence))
            score = len(wanted & terms) + 0.5 * len(context & terms)
            if score:
                candidates.append(_Point(score + title_bonus, index, position, sentence))
    # Retrieval already ranked the documents: without any overlap, the top ones still lead.
    if not candidates:
        candidates = [
            _Point(0.0, index, 0, sentences[0])
            for index, hit in enumerate(documents[:2])
            if (sentences := _sentences(hit.text))
        ]
    candidates.sort(key=lambda p: (-p.score, p.document, p.position))
    chosen: list[_Point] = []
    per_document: dict[int, int] = {}
    for point in candidates:
        if per_document.get(point.document, 0) < _MAX_POINTS_PER_DOCUMENT:
            chosen.append(point)
            per_document[point.document] = per_document.get(point.document, 0) + 1
        if len(chosen) == _MAX_POINTS:
            break
    return chosen


def _cited(sentence: str, number: int) -> str:
    """`sentence` with its citation before the final punctuation: "Brace first [1]."."""
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!" else (sentence, ".")
    return f"{body} [{number}]{end}"


def _source_label(index: int, hit: RetrievalHit) -> str:
    where = "your workout log" if hit.source == "workout" else "knowledge base"
    return f"[{index + 1}] {_one_line(hit.title) or hit.id} ({where})"


# -- facts the user stated earlier ------------------------------------------------------------

_FACT = re.compile(
    r"\b(?:i\s+have|i've\s+got|i\s+had|i\s+am|i'm|i\s+train|i\s+run|i\s+lift|i\s+swim|i\s+cycle"
    r"|i\s+work\s+out|i\s+usually|i\s+can't|i\s+cannot|i\s+can\s+only|i\s+don't|i\s+do\s+not"
    r"|i\s+want|i'd\s+like|i\s+prefer|i\s+need|i\s+weigh|i\s+recently|i\s+used\s+to"
    r"|my\s+(?:\w+\s+){0,3}(?:is|are|was|has|hurts|feels))\b",
    re.IGNORECASE,
)
_NOT_A_FACT = re.compile(r"\b(?:question|wondering|curious)\b", re.IGNORECASE)


def _earlier_facts(user_texts: Sequence[str]) -> list[str]:
    """First-person statements from earlier user messages, oldest first, the latest few kept."""
    facts: dict[str, str] = {}  # lower-cased -> as written; dicts keep insertion order
    for text in user_texts:
        for sentence in _sentences(text.replace("\u2019", "'")):
            match = _FACT.search(sentence)
            if match is None or sentence.endswith("?") or _NOT_A_FACT.search(sentence):
                continue
            fact = sentence[match.start():].rstrip(".!").strip()
            if len(fact.split()) > 2 and len(fact) <= 160:
                facts.pop(fact.lower(), None)
                facts[fact.lower()] = fact
    return list(facts.values())[-_MAX_FACTS:]


# -- text ---------------------------------------------------------------------------------------

_STOPWORD_LIST = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    get got had has have having he her here hers him his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you
    your yours im ive dont cant whats hows much many also really want need like know tell best
    good way ok okay hi hello thanks please
"""
_STOPWORDS = frozenset(_STOPWORD_LIST.split())
_WORDS = re.compile(r"[a-z0-9]+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


def _sentences(text: str) -> list[str]:
    return [s for s in (_one_line(part) for part in _SENTENCE_BREAK.split(text)) if s]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _terms(text: str) -> list[str]:
    """Content words of `text`, lightly stemmed, in order of first appearance."""
    terms: dict[str, None] = {}
    for word in _WORDS.findall(text.lower().replace("'", "")):
        if word not in _STOPWORDS and _is_content(word):
            terms[_stem(word)] = None
    return list(terms)


def _is_content(word: str) -> bool:
    return len(word) > 2 or any(c.isdigit() for c in word)  # keeps "5k", "3x5", "10"


def _stem(word: str) -> str:
    """Fold the commonest English suffixes so "squats", "squatting" and "squat" match."""
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]  # running -> runn -> run
            return word
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _topic(question: str) -> str:
    """A few words naming what was asked, to open the answer."""
    words = [
        w for w in dict.fromkeys(_WORDS.findall(question.lower().replace("'", "")))
        if w not in _STOPWORDS and _is_content(w)
    ]
    if words:
        return " ".join(words[:6])
    return _one_line(question)[:60] or "your question"
