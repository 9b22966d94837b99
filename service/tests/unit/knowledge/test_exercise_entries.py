"""Checks the exercise knowledge base files and their retrieval evaluation questions.

The entries are hand-written Markdown with YAML front matter; a malformed one would be loaded
with missing metadata or sections, or an evaluation question could name an entry that does not
exist. This test reads the files itself so it does not depend on the loader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

SERVICE_ROOT = Path(__file__).resolve().parents[3]
EXERCISES_DIR = SERVICE_ROOT / "spotter" / "knowledge" / "exercises"
EVAL_FILE = SERVICE_ROOT / "tests" / "data" / "retrieval_eval" / "exercise_questions.yaml"

REQUIRED_KEYS = ("id", "title", "kind", "muscles", "equipment", "level", "tags")
LIST_KEYS = ("muscles", "equipment", "tags")
LEVELS = {"beginner", "intermediate", "advanced"}
SECTIONS = (
    "How to do it",
    "Muscles worked",
    "Common mistakes",
    "Easier variations",
    "Harder variations",
    "Safety notes",
)
ID_PATTERN = re.compile(r"^ex-[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_WORDS, MAX_WORDS = 120, 400
MIN_ENTRIES = 120
MIN_QUESTIONS = 45

ENTRY_FILES = sorted(EXERCISES_DIR.glob("*.md"))


def split_entry(path: Path) -> tuple[dict[str, Any], str]:
    """Return the parsed front matter and the Markdown body of one entry file."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, flags=re.DOTALL)
    assert match is not None, f"{path.name}: no '---' delimited front matter at the top"
    front = yaml.safe_load(match.group(1))
    assert isinstance(front, dict), f"{path.name}: front matter is not a mapping"
    return front, match.group(2)


def load_questions() -> list[dict[str, Any]]:
    """Return the evaluation questions as parsed from YAML."""
    data = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, list), "evaluation file must be a YAML list"
    return data


def test_enough_entries_exist() -> None:
    assert len(ENTRY_FILES) >= MIN_ENTRIES, f"only {len(ENTRY_FILES)} exercise entries"


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_entry_front_matter(path: Path) -> None:
    front, _ = split_entry(path)
    missing = [key for key in REQUIRED_KEYS if key not in front]
    assert not missing, f"{path.name}: missing keys {missing}"
    assert front["id"] == path.stem, f"{path.name}: id {front['id']!r} differs from file stem"
    assert ID_PATTERN.match(front["id"]), f"{path.name}: id must be 'ex-' + lowercase-hyphenated"
    assert front["kind"] == "exercise"
    assert front["level"] in LEVELS, f"{path.name}: level {front['level']!r}"
    assert isinstance(front["title"], str)
    assert front["title"].strip(), f"{path.name}: empty title"
    for key in LIST_KEYS:
        value = front[key]
        assert isinstance(value, list), f"{path.name}: {key} must be a list"
        assert value, f"{path.name}: {key} is empty"
        assert all(isinstance(item, str) and item for item in value), f"{path.name}: {key}"


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_entry_body(path: Path) -> None:
    _, body = split_entry(path)
    headings = re.findall(r"^## (.+?)\s*$", body, flags=re.MULTILINE)
    assert tuple(headings) == SECTIONS, f"{path.name}: sections are {headings}"
    for section in re.split(r"^## .+$", body, flags=re.MULTILINE)[1:]:
        assert section.strip(), f"{path.name}: a section is empty"
    assert re.search(r"^1\. ", body, flags=re.MULTILINE), f"{path.name}: steps are not numbered"
    words = len(body.split())
    assert MIN_WORDS <= words <= MAX_WORDS, f"{path.name}: {words} words"


def test_entry_ids_are_unique() -> None:
    ids = [split_entry(path)[0]["id"] for path in ENTRY_FILES]
    duplicates = sorted({entry_id for entry_id in ids if ids.count(entry_id) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"


def test_evaluation_questions_name_existing_entries() -> None:
    known = {path.stem for path in ENTRY_FILES}
    questions = load_questions()
    assert len(questions) >= MIN_QUESTIONS, f"only {len(questions)} questions"
    texts = [item["question"] for item in questions]
    assert len(set(texts)) == len(texts), "duplicate questions"
    for item in questions:
        assert set(item) == {"question", "expected"}, item
        assert isinstance(item["question"], str)
        assert item["question"].strip(), item
        expected = item["expected"]
        assert isinstance(expected, list), item
        assert 1 <= len(expected) <= 3, item
        assert len(set(expected)) == len(expected), item
        unknown = [entry_id for entry_id in expected if entry_id not in known]
        assert not unknown, f"{item['question']!r} expects unknown ids {unknown}"
