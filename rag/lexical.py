"""BM25 over chunks (own sparse-matrix index, scored as bm25s scores), with accent folding, French+English stopwords and French stemming.

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
    """BM25 (the Lucene variant, scored as bm25s scores it) over a sparse term-count matrix kept
    on disk: documents are added and removed without re-reading the others, and the IDF and
    average length are computed at query time from the counts, so they stay exact after any
    number of updates."""

    EMPTY = "\u2205"  # the token of a document with no indexable word (it still has length 1)

    def __init__(self, terms: list[str], counts, lengths: np.ndarray):
        self.terms = terms  # column j counts term terms[j]; columns of deleted documents stay (df 0)
        self.vocab = {t: j for j, t in enumerate(terms)}
        self.counts = counts  # scipy CSC matrix, documents x terms, term counts
        self.lengths = lengths  # tokens per document, float32

    @property
    def size(self) -> int:
        return int(self.counts.shape[0])

    @classmethod
    def build(cls, texts: list[str]) -> "Bm25Index":
        return cls([], None, np.zeros(0, dtype=np.float32)).updated(np.zeros(0, dtype=bool), texts)

    def updated(self, keep: np.ndarray, texts: list[str]) -> "Bm25Index":
        """A new index: the documents where ``keep`` is true (in order), then ``texts``."""
        import scipy.sparse as sp

        terms, vocab = list(self.terms), dict(self.vocab)
        rows, cols = [], []
        lengths = []
        for i, text in enumerate(texts):
            toks = tokenize(text) or [self.EMPTY]
            lengths.append(len(toks))
            for t in toks:
                j = vocab.get(t)
                if j is None:
                    j = vocab[t] = len(terms)
                    terms.append(t)
                rows.append(i)
                cols.append(j)
        new = sp.csc_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                            shape=(len(texts), len(terms)), dtype=np.float32)
        new.sum_duplicates()
        if self.counts is not None and self.size:
            old = self.counts[np.flatnonzero(keep)] if not keep.all() else self.counts
            old = sp.csc_matrix((old.data, old.indices, np.concatenate(
                [old.indptr, np.full(len(terms) - old.shape[1], old.indptr[-1])])), shape=(old.shape[0], len(terms)))
            counts = sp.vstack([old, new], format="csc")
            lens = np.concatenate([self.lengths[keep], np.asarray(lengths, dtype=np.float32)])
        else:
            counts, lens = new, np.asarray(lengths, dtype=np.float32)
        return Bm25Index(terms, counts.astype(np.float32), lens.astype(np.float32))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (a repeated query word counts twice)."""
        n = self.size
        out = np.zeros(n, dtype=np.float32)
        if not n:
            return out
        c, avg = self.counts, float(self.lengths.mean())
        for t in tokenize(query):
            j = self.vocab.get(t)
            if j is None:
                continue
            lo, hi = c.indptr[j], c.indptr[j + 1]
            docs, tf = c.indices[lo:hi], c.data[lo:hi]
            if not len(docs):
                continue
            idf = np.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            out[docs] += idf * tf / (K1 * ((1 - B) + B * self.lengths[docs] / avg) + tf)
        return out

    def knows(self, word: str) -> bool:
        """The (folded) word, stemmed, is in some document of the collection."""
        stems = _stemmer().stemWords([word])
        j = self.vocab.get(stems[0]) if stems else None
        return j is not None and self.counts.indptr[j + 1] > self.counts.indptr[j]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        c = self.counts
        np.savez(directory / "counts.npz", data=c.data, indices=c.indices, indptr=c.indptr,
                 shape=np.asarray(c.shape), lengths=self.lengths)
        (directory / "terms.txt").write_text("\n".join(self.terms), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "Bm25Index":
        import scipy.sparse as sp

        with np.load(directory / "counts.npz") as z:
            counts = sp.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            lengths = z["lengths"]
        text = (directory / "terms.txt").read_text(encoding="utf-8")
        terms = text.split("\n") if text else []
        if len(terms) != counts.shape[1] or len(lengths) != counts.shape[0]:
            raise ValueError(f"BM25 files in {directory} disagree (terms {len(terms)}, matrix {counts.shape})")
        return cls(terms, counts, lengths)
