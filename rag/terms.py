"""Search words across languages: the words of the indexed documents, each with its vector in
the first dense encoder's multilingual space. A question word the documents never use
("schools", "prospecting") is searched by the document words closest to it ("écoles",
"prospection"), so the lexical ranking reads an English question about French articles.

Measured on eval/calibration.jsonl (`scripts/term_expansion.py`): English questions, evidence
passage ranked first 70 → 78 %, in the top 5 95 → 97 %; French questions unchanged (their words
are the documents' own). Chosen there: 5 neighbours per word, cosine ≥ 0.5, every document word
(the rare ones carry the answers: keeping only the words of two chunks or more lost 11 points).

The table lives in the index (``terms/``), updated with it: a removed document's words leave,
only new words are encoded.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .lexical import _stopwords
from .text import fold

MAX_WORDS = 50_000  # most frequent document words kept: at 512 dimensions, 51 MB on disk (float16), 102 MB loaded
BATCH = 1024  # words encoded at once
WORD = re.compile(r"[^\W\d_][\w’'-]*[^\W\d_]")
Encode = Callable[[list[str]], np.ndarray]


def content_words(text: str) -> list[str]:
    """Lower-cased words of three letters or more that are not stopwords, elisions cut
    ("l'entreprise" → "entreprise"), in order, repeated as in the text."""
    out = []
    for w in WORD.findall(text):
        w = re.split(r"[’']", w.lower())[-1]
        if len(w) >= 3 and fold(w) not in _stopwords():
            out.append(w)
    return out


@dataclass
class TermTable:
    """Document words, the number of chunks holding each, and their unit vectors (float32)."""

    words: list[str]
    counts: np.ndarray  # chunks holding the word
    vectors: np.ndarray  # (len(words), dim)
    position: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self):
        self.position = {w: i for i, w in enumerate(self.words)}

    def knows(self, word: str) -> bool:
        return word in self.position

    def neighbours(self, vectors: np.ndarray, *, n: int, min_similarity: float) -> list[list[str]]:
        """For each unit vector, the ``n`` closest document words at least ``min_similarity``
        close, closest first."""
        if not len(self.words) or not len(vectors):
            return [[] for _ in range(len(vectors))]
        sims = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        out = []
        for row in sims:
            top = np.argsort(-row)[:n]
            out.append([self.words[i] for i in top if row[i] >= min_similarity])
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "words.json").write_text(json.dumps({"words": self.words, "counts": self.counts.tolist()},
                                                      ensure_ascii=False), encoding="utf-8")
        np.save(folder / "vectors.npy", self.vectors.astype(np.float16))

    @classmethod
    def load(cls, folder: Path) -> "TermTable":
        data = json.loads((folder / "words.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy").astype(np.float32)
        if len(vectors) != len(data["words"]) or len(data["counts"]) != len(data["words"]):
            raise ValueError(f"{folder}: words and vectors differ in number")
        return cls(list(data["words"]), np.asarray(data["counts"], dtype=np.int64), vectors)


def updated(previous: TermTable | None, *, removed: Iterable[str], added: Iterable[str], encode: Encode,
            max_words: int) -> TermTable:
    """The table after chunks were removed and added (texts): counts adjusted, words no chunk
    holds dropped, the ``max_words`` most frequent kept, and only words new to the table encoded."""
    counts = Counter(dict(zip(previous.words, previous.counts.tolist()))) if previous else Counter()
    counts.subtract(w for text in removed for w in set(content_words(text)))
    counts.update(w for text in added for w in set(content_words(text)))
    kept = sorted((w for w, c in counts.items() if c > 0), key=lambda w: (-counts[w], w))[:max_words]
    kept.sort()
    new = [w for w in kept if previous is None or not previous.knows(w)]
    fresh = {w: v for i in range(0, len(new), BATCH) for w, v in zip(new[i:i + BATCH], encode(new[i:i + BATCH]))}
    dim = previous.vectors.shape[1] if previous is not None and len(previous.words) else (
        len(next(iter(fresh.values()))) if fresh else 0)
    vectors = np.zeros((len(kept), dim), dtype=np.float32)
    for i, w in enumerate(kept):
        vectors[i] = fresh[w] if w in fresh else previous.vectors[previous.position[w]]
    return TermTable(kept, np.asarray([counts[w] for w in kept], dtype=np.int64), vectors)


class Expander:
    """The document words to search besides a question's own: for each question word the
    documents do not hold, its closest document words (a document word close to two question
    words is searched twice, as measured)."""

    def __init__(self, table: TermTable, encode: Encode, *, n: int, min_similarity: float):
        self.table, self.encode, self.n, self.min_similarity = table, encode, n, min_similarity
        self._last: tuple[str, list[str]] | None = None

    def __call__(self, question: str) -> list[str]:
        if self._last is not None and self._last[0] == question:
            return self._last[1]
        unknown = [w for w in dict.fromkeys(content_words(question)) if not self.table.knows(w)]
        words = [w for near in self.near(unknown) for w in near]
        self._last = (question, words)
        return words

    def near(self, words: list[str]) -> list[list[str]]:
        """For each word, its closest document words (closest first)."""
        if not words or not self.n:
            return [[] for _ in words]
        return self.table.neighbours(self.encode(words), n=self.n, min_similarity=self.min_similarity)
