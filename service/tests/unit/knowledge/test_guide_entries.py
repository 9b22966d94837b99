"""Checks the coaching guides under `spotter/knowledge/guides/` and the two retrieval eval sets.

The guides are hand-written content, so these tests guard their format (front matter, id rules,
length) and keep the evaluation questions honest: every expected id must exist, either as a guide
or as a record in the public free-exercise-db file that lives outside the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from spotter.retrieval.knowledge_base import load_knowledge
from tests.support.index_cache import FREE_EXERCISE_DB
from tests.unit.retrieval.test_evaluation import QUESTION_SETS

REPO_ROOT = Path(__file__).resolve().parents[4]
GUIDES_DIR = REPO_ROOT / "service" / "spotter" / "knowledge" / "guides"
EVAL_DIR = REPO_ROOT / "service" / "tests" / "data" / "retrieval_eval"
GUIDE_QUESTIONS = EVAL_DIR / "guide_questions.yaml"
EXERCISE_QUESTIONS = EVAL_DIR / "free_exercise_db_questions.yaml"

REQUIRED_KEYS = {"id", "title", "kind", "tags"}
ID_PATTERN = re.compile(r"^guide-[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_WORDS, MAX_WORDS = 250, 800
MIN_GUIDES = 30
MIN_GUIDE_QUESTIONS = 30
MIN_EXERCISE_QUESTIONS = 35

# Words too common to count as "repeating the title" in a casual question.
_STOPWORDS = frozenset(
    {"a", "an", "and", "are", "after", "at", "during", "for", "in", "is", "it", "main", "of"}
    | {"on", "or", "the", "to", "what", "when", "with", "you", "your"}
)

GUIDE_PATHS = sorted(GUIDES_DIR.glob("*.md"))


def _split(path: Path) -> tuple[dict[str, Any], str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines, f"{path.name}: empty file"
    assert lines[0] == "---", f"{path.name}: must open with a '---' front matter line"
    end = lines.index("---", 1)
    front = yaml.safe_load("\n".join(lines[1:end]))
    assert isinstance(front, dict), f"{path.name}: front matter must be a mapping"
    return front, "\n".join(lines[end + 1 :])


def _load_questions(path: Path) -> list[dict[str, Any]]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(items, list), f"{path.name}: must be a YAML list"
    for item in items:
        assert isinstance(item, dict), f"{path.name}: every item must be a mapping"
        # `set` marks questions written after tuning, reported apart (QUESTION_SETS).
        assert set(item) - {"set"} == {"question", "expected"}, f"{path.name}: bad keys in {item}"
        assert item.get("set", "new") in QUESTION_SETS, f"{path.name}: unknown set in {item}"
        assert isinstance(item["question"], str), f"{path.name}: question must be a string"
        assert item["question"].strip(), f"{path.name}: empty question"
        expected = item["expected"]
        assert isinstance(expected, list), f"{path.name}: expected must be a list: {item}"
        assert 1 <= len(expected) <= 3, f"{path.name}: expected needs 1-3 ids: {item}"
        assert len(set(expected)) == len(expected), f"{path.name}: repeated id in {item}"
    questions = [item["question"].strip().lower() for item in items]
    assert len(set(questions)) == len(questions), f"{path.name}: duplicate questions"
    return items


def _free_exercise_records() -> list[dict[str, Any]]:
    assert FREE_EXERCISE_DB.is_file(), f"free-exercise-db data not found at {FREE_EXERCISE_DB}"
    records = json.loads(FREE_EXERCISE_DB.read_text(encoding="utf-8"))
    assert isinstance(records, list)
    return records


def _guide_titles() -> dict[str, str]:
    return {str(front["id"]): str(front["title"]) for front, _ in map(_split, GUIDE_PATHS)}


def _content_words(text: str) -> set[str]:
    # Five-letter prefixes catch simple inflections ("pregnant" vs "pregnancy").
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w[:5] for w in words if len(w) > 1 and w not in _STOPWORDS}


def test_there_are_enough_guides() -> None:
    assert len(GUIDE_PATHS) >= MIN_GUIDES


@pytest.mark.parametrize("path", GUIDE_PATHS, ids=lambda p: p.stem)
def test_guide_front_matter_and_length(path: Path) -> None:
    front, body = _split(path)
    assert set(front) >= REQUIRED_KEYS, f"missing keys: {REQUIRED_KEYS - set(front)}"
    assert front["id"] == path.stem
    assert ID_PATTERN.match(front["id"]), f"id {front['id']!r} is not guide-lowercase-hyphenated"
    assert front["kind"] == "guide"
    assert isinstance(front["title"], str)
    assert front["title"].strip()
    tags = front["tags"]
    assert isinstance(tags, list)
    assert tags
    assert all(isinstance(tag, str) and tag.strip() for tag in tags)
    words = len(body.split())
    assert MIN_WORDS <= words <= MAX_WORDS, f"{words} words, want {MIN_WORDS}-{MAX_WORDS}"
    assert re.search(r"^## \S", body, re.MULTILINE), "guide needs '## ' subheadings"


def test_guide_ids_are_unique() -> None:
    ids = [str(_split(path)[0]["id"]) for path in GUIDE_PATHS]
    assert len(set(ids)) == len(ids)


def test_the_knowledge_loader_accepts_every_guide() -> None:
    documents = load_knowledge(GUIDES_DIR)
    assert {doc.id for doc in documents} == {path.stem for path in GUIDE_PATHS}
    assert {doc.kind for doc in documents} == {"guide"}


def test_guide_questions_point_at_existing_guides() -> None:
    items = _load_questions(GUIDE_QUESTIONS)
    assert len(items) >= MIN_GUIDE_QUESTIONS
    known = set(_guide_titles())
    missing = {gid for item in items for gid in item["expected"]} - known
    assert not missing, f"unknown guide ids: {sorted(missing)}"


def test_guide_questions_do_not_repeat_their_guides_titles() -> None:
    titles = _guide_titles()
    offenders = []
    for item in _load_questions(GUIDE_QUESTIONS):
        for gid in item["expected"]:
            shared = _content_words(item["question"]) & _content_words(titles.get(gid, ""))
            if shared:
                offenders.append((item["question"], gid, sorted(shared)))
    assert not offenders


def test_exercise_questions_point_at_free_exercise_db_records() -> None:
    known = {record["id"] for record in _free_exercise_records()}
    items = _load_questions(EXERCISE_QUESTIONS)
    assert len(items) >= MIN_EXERCISE_QUESTIONS
    missing = {rid for item in items for rid in item["expected"]} - known
    assert not missing, f"unknown free-exercise-db ids: {sorted(missing)}"


def test_exercise_questions_paraphrase_rather_than_copy_names() -> None:
    names = {record["id"]: str(record["name"]).lower() for record in _free_exercise_records()}
    copied = [
        item["question"]
        for item in _load_questions(EXERCISE_QUESTIONS)
        if any(names[rid] in item["question"].lower() for rid in item["expected"])
    ]
    assert not copied
