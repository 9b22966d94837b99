"""BM25F over knowledge documents, and the word normalisation it shares with workout matching.

Dense embeddings miss exact exercise names ("Zottman curl") that a word index finds; the
retriever fuses both rankings. Fields (title, muscles, equipment, tags, body) are weighted, so
a word in an exercise's name or muscle list outweighs one in its instructions. Written here
(about 80 lines) rather than taken as a dependency.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from spotter.retrieval.knowledge_base import KnowledgeDocument

__all__ = ["EXPANSION_WEIGHT", "FIELD_WEIGHTS", "STOP_WORDS", "LexicalIndex", "stem", "terms"]

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


#: BM25F field weights: a word in the title counts three times one in the body, the muscles
#: half again (measured on the evaluation sets; docs/retrieval.md).
FIELD_WEIGHTS: Mapping[str, float] = {
    "title": 3.0, "muscles": 1.5, "equipment": 1.0, "tags": 0.5, "body": 1.0,
}  # fmt: skip
#: Weight of a word the vocabulary added to a question, against 1.0 for the user's own words.
EXPANSION_WEIGHT = 0.5


class LexicalIndex:
    """BM25F (k1=1.2, b=0.75 per field) over `(id, fields)` pairs, built in memory.

    A plain string is indexed as the `body` field. Each word's weighted, length-normalised
    frequency over the fields is computed once, so a search only walks the postings of the
    question's words.
    """

    def __init__(
        self,
        documents: Sequence[tuple[str, str | Mapping[str, str]]],
        k1: float = 1.2,
        b: float = 0.75,
    ):
        fielded = [(i, {"body": f} if isinstance(f, str) else f) for i, f in documents]
        counts = [{name: Counter(terms(text)) for name, text in f.items()} for _, f in fielded]
        totals: Counter[str] = Counter()
        for per_field in counts:
            totals.update({name: sum(c.values()) for name, c in per_field.items()})
        average = {name: total / len(counts) or 1.0 for name, total in totals.items()}
        self._ids = [doc_id for doc_id, _ in fielded]
        self._k1 = k1
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for row, per_field in enumerate(counts):
            pseudo: dict[str, float] = {}
            for name, found in per_field.items():
                weight = FIELD_WEIGHTS.get(name, 1.0)
                length = sum(found.values())
                norm = 1 - b + b * length / average[name]
                for term, tf in found.items():
                    pseudo[term] = pseudo.get(term, 0.0) + weight * tf / norm
            for term, value in pseudo.items():
                self._postings.setdefault(term, []).append((row, value))
        n = len(self._ids)
        self._idf = {
            t: math.log((n - len(p) + 0.5) / (len(p) + 0.5) + 1.0) for t, p in self._postings.items()
        }

    @classmethod
    def from_documents(cls, documents: Sequence[KnowledgeDocument]) -> LexicalIndex:
        """An index of knowledge entries with fields title, muscles, equipment, tags and body."""
        return cls([(doc.id, _fields(doc)) for doc in documents])

    def __len__(self) -> int:
        return len(self._ids)

    def search(
        self, text: str, top_k: int, expansion: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """The `top_k` best `(id, score)` pairs for `text`, best first; no zero scores.

        `expansion` are extra (already normalised) terms, e.g. from the fitness vocabulary,
        weighted `EXPANSION_WEIGHT` unless the question has them itself.
        """
        query = dict.fromkeys(terms(text), 1.0)
        for term in expansion:
            query.setdefault(term, EXPANSION_WEIGHT)
        scores: dict[int, float] = {}
        k1 = self._k1
        for term, weight in query.items():
            idf = self._idf.get(term)
            if idf is None:
                continue
            for row, pseudo in self._postings[term]:
                gain = weight * idf * pseudo * (k1 + 1) / (pseudo + k1)
                scores[row] = scores.get(row, 0.0) + gain
        ranked = sorted(
            ((self._ids[row], score) for row, score in scores.items() if score > 0),
            key=lambda pair: (-pair[1], pair[0]),
        )
        return ranked[:top_k]


def _fields(doc: KnowledgeDocument) -> dict[str, str]:
    def joined(name: str) -> str:
        value = doc.metadata.get(name)
        return " ".join(value) if isinstance(value, list) else str(value or "")

    return {
        "title": doc.title,
        "muscles": joined("muscles"),
        "equipment": joined("equipment"),
        "tags": f"{joined('tags')} {joined('level')}",
        "body": doc.text,
    }
