"""The shipped knowledge base loads and validates; broken files are refused with their name."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotter.retrieval.knowledge_base import (
    KNOWLEDGE_DIR,
    KnowledgeFormatError,
    knowledge_files,
    knowledge_fingerprint,
    load_knowledge,
    parse_knowledge_file,
)

ENTRY = """---
id: {id}
title: {title}
kind: {kind}
muscles: [quadriceps, glutes]
equipment: barbell
level: beginner
tags: [legs]
---
## How to do it
Stand up straight.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def entry(doc_id: str, *, title: str = "Test entry", kind: str = "exercise") -> str:
    return ENTRY.format(id=doc_id, title=title, kind=kind)


def test_the_shipped_knowledge_base_loads_with_unique_ids_matching_file_names() -> None:
    documents = load_knowledge()
    files = knowledge_files()
    assert len(documents) == len(files) >= 60
    assert len({d.id for d in documents}) == len(documents)
    assert [d.id for d in documents] == [p.stem for p in files]
    assert {d.kind for d in documents} == {"exercise", "guide"}
    assert all(d.title and d.text for d in documents)
    assert KNOWLEDGE_DIR.is_dir()
    assert all(KNOWLEDGE_DIR in p.parents for p in files)


def test_front_matter_becomes_typed_metadata(tmp_path: Path) -> None:
    doc = parse_knowledge_file(write(tmp_path, "ex-test.md", entry("ex-test")))
    assert (doc.id, doc.title, doc.kind) == ("ex-test", "Test entry", "exercise")
    assert doc.text == "## How to do it\nStand up straight."
    assert doc.metadata == {
        "muscles": ["quadriceps", "glutes"],
        "equipment": ["barbell"],
        "tags": ["legs"],
        "level": "beginner",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter\n", "must start with"),
        ("---\nid: ex-bad\ntitle: T\nkind: exercise\nbody\n", "not closed"),
        (entry("ex-other"), "must equal the file name"),
        (entry("ex-bad", kind="recipe"), "kind must be one of"),
        (entry("ex-bad", title="''"), "title must be"),
        ("---\nid: ex-bad\ntitle: T\nkind: exercise\n---\n\n", "no body"),
        ("---\n[unclosed\n---\nbody\n", "not valid YAML"),
        ("---\n- a list\n---\nbody\n", "must be a YAML mapping"),
        ("---\nid: ex-bad\ntitle: T\nkind: exercise\nmuscles: {a: 1}\n---\nbody\n", "muscles"),
    ],
)
def test_broken_entries_are_refused_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "ex-bad.md", text)
    with pytest.raises(KnowledgeFormatError, match=message) as caught:
        parse_knowledge_file(path)
    assert "ex-bad.md" in str(caught.value) or "ex-bad" in str(caught.value)


def test_duplicate_ids_across_folders_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "exercises/ex-same.md", entry("ex-same"))
    write(tmp_path, "guides/ex-same.md", entry("ex-same", kind="guide"))
    with pytest.raises(KnowledgeFormatError, match="duplicate knowledge id 'ex-same'"):
        load_knowledge(tmp_path)


def test_readme_is_not_an_entry_and_a_single_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# The format\n")
    single = write(tmp_path, "guides/guide-one.md", entry("guide-one", kind="guide"))
    assert [d.id for d in load_knowledge(tmp_path)] == ["guide-one"]
    assert [d.id for d in load_knowledge(single)] == ["guide-one"]


def test_fingerprint_follows_names_and_contents(tmp_path: Path) -> None:
    first = write(tmp_path, "ex-a.md", entry("ex-a"))
    write(tmp_path, "ex-b.md", entry("ex-b"))
    original = knowledge_fingerprint(tmp_path)
    assert knowledge_fingerprint(tmp_path) == original
    first.write_text(entry("ex-a", title="Changed"), encoding="utf-8")
    changed = knowledge_fingerprint(tmp_path)
    assert changed != original
    first.rename(tmp_path / "ex-c.md")
    assert knowledge_fingerprint(tmp_path) not in {original, changed}
    assert len(knowledge_fingerprint()) == 64


def test_content_hash_changes_with_text_and_metadata(tmp_path: Path) -> None:
    a = parse_knowledge_file(write(tmp_path, "one/ex-a.md", entry("ex-a")))
    same = parse_knowledge_file(write(tmp_path, "two/ex-a.md", entry("ex-a")))
    other = parse_knowledge_file(write(tmp_path, "three/ex-a.md", entry("ex-a", title="New")))
    assert a.content_hash == same.content_hash != other.content_hash
