"""The fitness vocabulary that bridges how people talk and how exercise catalogues are written.

People ask about "the back of my thighs" and "hand weights"; the public catalogue says
"hamstrings" and "dumbbell". `spotter/knowledge/vocabulary.yaml` maps such everyday phrases to
catalogue words: searches add those words to the question, and ingestion writes catalogue terms
out in plain words. It is general domain language, documented in the file and in
docs/retrieval.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from spotter.retrieval.knowledge_base import KNOWLEDGE_DIR, KnowledgeFormatError, read_yaml_lists
from spotter.retrieval.lexical import stem, terms

__all__ = ["VOCABULARY_FILE", "Vocabulary", "default_vocabulary"]

VOCABULARY_FILE = KNOWLEDGE_DIR / "vocabulary.yaml"

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Phrases match with or without these, so "back of my thighs" also finds "back of the thigh".
_FILLERS = frozenset({"my", "the", "your", "a", "an", "his", "her", "their", "our"})


def _phrase_words(text: str) -> tuple[str, ...]:
    words = _WORD.findall(text.lower().replace("\u2019", "'").replace("-", " "))
    return tuple(stem(w) for w in words if w not in _FILLERS)


@dataclass(frozen=True, slots=True)
class _Rule:
    phrase: tuple[str, ...]
    means: tuple[str, ...]


class Vocabulary:
    """Everyday phrases -> catalogue search terms, and catalogue terms -> plain words."""

    def __init__(self, groups: Mapping[str, Sequence[Mapping[str, object]]]) -> None:
        rules: list[_Rule] = []
        plain: dict[str, str] = {}
        for entries in groups.values():
            for entry in entries:
                means = _strings(entry.get("means"))
                says = _strings(entry.get("says"))
                words = tuple(t for m in means for t in terms(m.replace("-", " ")))
                for phrase in {_phrase_words(s) for s in (*says, *means)}:
                    if phrase:
                        rules.append(_Rule(phrase, words))
                described = entry.get("plain")
                if isinstance(described, str) and means:
                    plain[means[0]] = described
        # Longest phrase first sets the order of the terms found; the rules are also looked up by
        # their first word, so a question is matched in one pass over its words, not per rule.
        self._rules = tuple(sorted(rules, key=lambda r: (-len(r.phrase), r.phrase)))
        by_first: dict[str, list[int]] = {}
        for rank, rule in enumerate(self._rules):
            by_first.setdefault(rule.phrase[0], []).append(rank)
        self._by_first = {word: tuple(ranks) for word, ranks in by_first.items()}
        self._plain = plain

    @classmethod
    def from_file(cls, path: Path) -> Vocabulary:
        """Parse a vocabulary file; raises KnowledgeFormatError when it is malformed."""
        groups: dict[str, list[dict[str, object]]] = {}
        for group, entries in read_yaml_lists(path, "vocabulary").items():
            if not all(isinstance(e, dict) for e in entries):
                raise KnowledgeFormatError(f"{path}: every vocabulary entry must be a mapping")
            groups[group] = [e for e in entries if isinstance(e, dict)]
        return cls(groups)

    def expansion(self, text: str) -> list[str]:
        """Catalogue terms (stemmed, in first-match order, no repeats) that `text` implies."""
        words = _phrase_words(text)
        matched: set[int] = set()
        for i, word in enumerate(words):
            for rank in self._by_first.get(word, ()):
                phrase = self._rules[rank].phrase
                if words[i : i + len(phrase)] == phrase:
                    matched.add(rank)
        found: dict[str, None] = {}
        for rank in sorted(matched):
            found.update(dict.fromkeys(self._rules[rank].means))
        return list(found)

    def expanded_question(self, text: str, expansion: Sequence[str] | None = None) -> str:
        """`text` followed by the catalogue terms it implies, in brackets: what is embedded.

        Pass `expansion` when `self.expansion(text)` is already at hand, to skip matching again.
        """
        extra = self.expansion(text) if expansion is None else expansion
        return f"{text} ({', '.join(extra)})" if extra else text

    def plain(self, term: str) -> str | None:
        """How a catalogue term ("hamstrings") is said in everyday words, if the file says."""
        return self._plain.get(term)


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


@functools.cache
def default_vocabulary() -> Vocabulary:
    """The shipped vocabulary, read once per process on first use."""
    return Vocabulary.from_file(VOCABULARY_FILE)
