"""Splits knowledge documents into the passages that are embedded, one vector each.

The embedding model reads at most 256 tokens (about 180 words), so a whole guide would be
truncated to its first paragraphs. Each "## " section therefore becomes a passage (small
sections are merged, long ones split at paragraph or list-item boundaries), and every passage
starts with the entry's title so it stays meaningful alone. Search ranks entries by their best
passage and shows that passage to the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.vector_store import MetadataValue

__all__ = [
    "DEFAULT_MAX_WORDS",
    "LEAD_WORDS",
    "PASSAGE_SCHEME",
    "Passage",
    "passage_id",
    "passages",
]

#: About 160 tokens: fits the model's window with room for the title line.
DEFAULT_MAX_WORDS = 120
#: How many words after its opening paragraph `lead_only` embeds of a catalogue record.
#: Embedding whole free-exercise-db records cost twice as much and moved hit@4 by about one
#: question in 65 (docs/retrieval.md).
LEAD_WORDS = 60
#: Changes whenever the splitting rules change, so stored vectors are recognised as stale.
PASSAGE_SCHEME = f"sections-{DEFAULT_MAX_WORDS}/lead-{LEAD_WORDS}/2"

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BLOCK_SPLIT = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.)\s)")


@dataclass(frozen=True, slots=True)
class Passage:
    """One embedded piece of an entry: the model reads `embed_text`; `text` is what is shown."""

    id: str
    doc_id: str
    index: int
    embed_text: str
    text: str


def passage_id(doc_id: str, index: int) -> str:
    """The stable vector id of an entry's `index`-th passage."""
    return f"{doc_id}#{index}"


def passages(
    doc: KnowledgeDocument,
    *,
    max_words: int = DEFAULT_MAX_WORDS,
    lead_only: bool = False,
    lead_words: int = LEAD_WORDS,
) -> list[Passage]:
    """The entry's passages in order.

    `lead_only` embeds only the start of the entry (title, opening paragraph and the first
    `lead_words` words after it) and shows the whole entry: right for short catalogue records,
    whose opening names the muscles in plain words and the equipment
    (`free_exercise_db.document_from_record`), while later steps add cost but little meaning.
    """
    if lead_only:
        opening, _, rest = _strip_headings(doc.text).strip().partition("\n\n")
        embed = _join(doc.title, opening.strip(), _first_words(rest, lead_words))
        return [Passage(passage_id(doc.id, 0), doc.id, 0, embed, doc.text)]
    facts = _facts_line(doc.metadata)
    chunks = _chunks(doc.text, max_words)
    result: list[Passage] = []
    for index, (heading, body) in enumerate(chunks):
        title = f"{doc.title}: {heading}" if heading and heading != doc.title else doc.title
        embed = _join(title, facts if index == 0 else "", body)
        shown = f"{heading}\n{body}" if heading else body
        result.append(Passage(passage_id(doc.id, index), doc.id, index, embed, shown))
    return result


def _chunks(text: str, max_words: int) -> list[tuple[str, str]]:
    """(heading, body) pieces of at most about `max_words` words, in document order."""
    pieces: list[tuple[str, str]] = []
    for heading, body in _sections(text):
        for block in _split_long(body, max_words):
            if pieces and _words(pieces[-1][1]) + _words(block) <= max_words // 2 and (
                pieces[-1][0] == heading or _words(pieces[-1][1]) < max_words // 4
            ):
                prev_heading, prev_body = pieces[-1]
                joined = block if prev_heading == heading else f"{heading}\n{block}"
                pieces[-1] = (prev_heading, f"{prev_body}\n\n{joined}")
            else:
                pieces.append((heading, block))
    return pieces or [("", text.strip())]


def _sections(text: str) -> list[tuple[str, str]]:
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m and line.startswith("##"):
            sections.append((m.group(1).strip(), []))
        elif m:  # a top-level "# Title" line only repeats the title
            continue
        else:
            sections[-1][1].append(line)
    return [(h, "\n".join(lines).strip()) for h, lines in sections if "\n".join(lines).strip()]


def _split_long(body: str, max_words: int) -> list[str]:
    if _words(body) <= max_words:
        return [body]
    blocks, current = [], ""
    for block in (b.strip() for b in _BLOCK_SPLIT.split(body)):
        if not block:
            continue
        if current and _words(current) + _words(block) > max_words:
            blocks.append(current)
            current = block
        else:
            current = f"{current}\n{block}" if current else block
    if current:
        blocks.append(current)
    return blocks


def _facts_line(metadata: Mapping[str, MetadataValue]) -> str:
    parts = []
    for name, label in (("muscles", "Muscles"), ("equipment", "Equipment"), ("tags", "Tags")):
        value = metadata.get(name)
        if isinstance(value, list) and value:
            parts.append(f"{label}: {', '.join(value)}.")
    level = metadata.get("level")
    if isinstance(level, str):
        parts.append(f"Level: {level}.")
    return " ".join(parts)


def _strip_headings(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not _HEADING.match(line))


def _first_words(text: str, count: int) -> str:
    words = text.split()
    return " ".join(words[:count])


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def _words(text: str) -> int:
    return len(text.split())
