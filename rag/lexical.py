"""BM25 over chunks (bm25s), with accent folding, French+English stopwords and French stemming.

The same ``tokenize`` serves documents and questions, so an English question still matches
names, numbers and cognates in the French articles.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .text import fold


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    extra = {"a", "y", "d", "l", "s", "n", "c", "j", "qu", "m", "t", "ete", "etre", "avoir", "fait",
             "dit", "what", "which", "who", "whom", "did", "does", "do", "how", "why", "when",
             "where", "quel", "quelle", "quels", "quelles", "qui", "quoi", "comment", "pourquoi",
             "selon", "according", "article", "articles"}
    return frozenset(fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN, *extra))


STEMMER = "french"
K1, B = 1.2, 0.75


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer(STEMMER)


def analyzer_params() -> dict:
    """What BM25 (and Qdrant's sparse vectors) depend on; part of the index signature, so a
    changed stemmer, stopword list or BM25 parameter rebuilds the index by itself."""
    import hashlib

    words = "\n".join(sorted(_stopwords())).encode("utf-8")
    return {"stemmer": STEMMER, "stopwords_sha256": hashlib.sha256(words).hexdigest()[:16],
            "folding": "nfkd-lower", "k1": K1, "b": B}


def tokenize(text: str) -> list[str]:
    words = [w for w in fold(text).split() if w not in _stopwords() and (len(w) > 1 or w.isdigit())]
    return _stemmer().stemWords(words)


class Bm25Index:
    """Thin wrapper over bm25s: build from texts, score a query against every document."""

    def __init__(self, retriever):
        self._r = retriever

    @classmethod
    def build(cls, texts: list[str]) -> "Bm25Index":
        import bm25s

        r = bm25s.BM25(k1=K1, b=B)
        r.index([tokenize(t) or ["\u2205"] for t in texts], show_progress=False)
        return cls(r)

    def scores(self, query: str) -> np.ndarray:
        vocab = self._r.vocab_dict
        ids = [vocab[t] for t in tokenize(query) if t in vocab]
        n = self._r.scores["num_docs"]
        if not ids:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._r.get_scores_from_ids(ids), dtype=np.float32)

    def knows(self, word: str) -> bool:
        """The (folded) word, stemmed, is in the corpus vocabulary."""
        stems = _stemmer().stemWords([word])
        return bool(stems) and stems[0] in self._r.vocab_dict

    def save(self, directory: Path) -> None:
        self._r.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> "Bm25Index":
        import bm25s

        return cls(bm25s.BM25.load(str(directory), show_progress=False, verbosity=0))
