"""Okapi BM25 over knowledge documents, and the word normalisation it shares with workout matching.

Dense embeddings miss exact exercise names ("Zottman curl") that a word index finds; the
retriever fuses both rankings. Written here (about 40 lines) rather than taken as a dependency.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from spotter.retrieval.knowledge_base import KnowledgeDocument

__all__ = ["STOP_WORDS", "LexicalIndex", "stem", "terms"]

STOP_WORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "don", "down", "during", "each", "few",
    "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off",
    "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same",
    "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while",
    "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves", "i'm", "i've", "what's", "how's", "it's", "get", "got", "best", "good", "way",
    "use", "using",
})

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_IRREGULAR = {
    "ran": "run", "running": "run", "swam": "swim", "rode": "ride", "did": "do", "legs": "leg",
    "calves": "calf", "lunges": "lunge", "lunging": "lunge", "presses": "press",
}  # fmt: skip


def stem(word: str) -> str:
    """A light suffix stripper: "squats", "squatted", "squatting" -> "squat"."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            if suffix == "es" and not word.endswith(("sses", "shes", "ches", "xes")):
                continue
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            root = word[: -len(suffix)]
            if len(root) > 3 and root[-1] == root[-2] and root[-1] not in "lsz":
                root = root[:-1]  # squatted -> squatt -> squat
            return root
    return word


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed words of `text` without stop words."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return [stem(w) for w in words if w not in STOP_WORDS]


@dataclass(frozen=True, slots=True)
class _Document:
    id: str
    counts: Counter[str]
    length: int


class LexicalIndex:
    """Okapi BM25 (k1=1.5, b=0.75) over `(id, text)` pairs, built in memory."""

    def __init__(self, documents: Sequence[tuple[str, str]], k1: float = 1.5, b: float = 0.75):
        tokenised = ((doc_id, terms(text)) for doc_id, text in documents)
        self._docs = [_Document(doc_id, Counter(t), len(t)) for doc_id, t in tokenised]
        self._k1, self._b = k1, b
        total = sum(d.length for d in self._docs)
        self._avg_length = total / len(self._docs) if self._docs else 0.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.counts.keys())
        n = len(self._docs)
        self._idf = {t: math.log((n - df + 0.5) / (df + 0.5) + 1.0) for t, df in frequency.items()}

    @classmethod
    def from_documents(cls, documents: Sequence[KnowledgeDocument]) -> LexicalIndex:
        """An index of knowledge entries: the title (counted twice), metadata words and body."""
        return cls([(doc.id, _indexed_text(doc)) for doc in documents])

    def __len__(self) -> int:
        return len(self._docs)

    def search(self, text: str, top_k: int) -> list[tuple[str, float]]:
        """The `top_k` best `(id, score)` pairs for `text`, best first; no zero scores."""
        query = set(terms(text))
        scored: list[tuple[str, float]] = []
        for doc in self._docs:
            norm = self._k1 * (1 - self._b + self._b * doc.length / (self._avg_length or 1.0))
            score = 0.0
            for term in query:
                tf = doc.counts.get(term, 0)
                if tf:
                    score += self._idf[term] * tf * (self._k1 + 1) / (tf + norm)
            if score > 0:
                scored.append((doc.id, score))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored[:top_k]


def _indexed_text(doc: KnowledgeDocument) -> str:
    extra = " ".join(
        " ".join(v) if isinstance(v, list) else str(v) for v in doc.metadata.values()
    )
    return f"{doc.title}\n{doc.title}\n{extra}\n{doc.text}"
