"""Entries split into titled passages that fit the model's window; catalogue records stay whole."""

from __future__ import annotations

from spotter.retrieval.knowledge_base import KnowledgeDocument, load_knowledge
from spotter.retrieval.passages import DEFAULT_MAX_WORDS, passage_id, passages

GUIDE = KnowledgeDocument(
    id="guide-test",
    title="Test guide",
    kind="guide",
    text="Intro paragraph.\n\n## Long section\n"
    + "\n\n".join(" ".join(["word"] * 50) for _ in range(4))
    + "\n\n## Short one\nTiny.\n\n## Another short\nAlso tiny.",
    metadata={"tags": ["testing"]},
)


def test_sections_become_titled_passages_under_the_word_budget() -> None:
    pieces = passages(GUIDE)
    assert [p.id for p in pieces] == [passage_id("guide-test", i) for i in range(len(pieces))]
    assert all(p.doc_id == "guide-test" for p in pieces)
    assert all(p.embed_text.startswith("Test guide") for p in pieces)
    assert "Tags: testing." in pieces[0].embed_text
    assert all("Tags:" not in p.embed_text for p in pieces[1:])
    assert any(p.embed_text.startswith("Test guide: Long section") for p in pieces)
    assert all(len(p.text.split()) <= DEFAULT_MAX_WORDS + 5 for p in pieces)
    # Every word of the entry is in some passage, in order.
    joined = " ".join(p.text for p in pieces)
    assert joined.count("word") == 200
    assert joined.index("Intro") < joined.index("Tiny") < joined.index("Also tiny")


def test_lead_only_embeds_the_start_but_shows_the_whole_record() -> None:
    text = "# X\nWorks the calves (lower legs).\n\n" + " ".join(["step"] * 300)
    record = KnowledgeDocument("fedb-x", "X", "exercise", text)
    (piece,) = passages(record, lead_only=True, lead_words=40)
    assert piece.id == "fedb-x#0"
    assert piece.text == record.text
    assert piece.embed_text.split("\n")[:2] == ["X", "Works the calves (lower legs)."]
    assert piece.embed_text.split("\n")[2] == " ".join(["step"] * 40)


def test_every_shipped_entry_yields_passages_within_the_budget() -> None:
    for doc in load_knowledge():
        pieces = passages(doc)
        assert pieces, doc.id
        assert all(len(p.text.split()) <= 2 * DEFAULT_MAX_WORDS for p in pieces), doc.id
