"""Hybrid retrieval: BM25 and dense rankings fused by reciprocal rank fusion (RRF).

Also computes the relevance signal used to refuse: the best dense cosine between the
question and any row (chunk or sentence) of the corpus, blended with BM25 term coverage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .index import IndexData
from .lexical import tokenize
from .records import Hit
from .text import fold


@dataclass
class Retrieval:
    hits: list[Hit]
    relevance: float
    query_vectors: dict  # encoder name -> unit query vector (reused for evidence)


def rrf(rankings: dict[str, list[int]], *, k: int) -> dict[int, tuple[float, dict[str, int]]]:
    """Reciprocal rank fusion: score(d) = Σ 1 / (k + rank_r(d)), ranks from 1."""
    fused: dict[int, list] = {}
    for name, ranking in rankings.items():
        for rank, doc in enumerate(ranking, start=1):
            entry = fused.setdefault(doc, [0.0, {}])
            entry[0] += 1.0 / (k + rank)
            entry[1][name] = rank
    return {doc: (score, ranks) for doc, (score, ranks) in fused.items()}


def dense_chunk_scores(index: IndexData, name: str, qvec: np.ndarray) -> dict[int, float]:
    """Best cosine per chunk over its rows (the chunk itself and each of its sentences)."""
    store, _ = index.dense[name]
    scores, ids = store.search(qvec, min(store.size, 400))
    best: dict[int, float] = {}
    for s, row in zip(scores.tolist(), ids.tolist()):
        cid = int(index.rows[row, 0])
        if s > best.get(cid, -2.0):
            best[cid] = s
    return best


def lexical_coverage(question: str, text: str) -> float:
    """Share of the question's content terms (stemmed) present in ``text``."""
    q = set(tokenize(question))
    if not q:
        return 0.0
    return len(q & set(tokenize(text))) / len(q)


def retrieve(index: IndexData, question: str, *, k: int, rrf_k: int, encoders: dict) -> Retrieval:
    """Top-k chunks for ``question``. ``encoders`` maps encoder name → Embedder."""
    rankings: dict[str, list[int]] = {}
    qvecs: dict[str, np.ndarray] = {}
    best_cos: dict[int, float] = {}
    for name, enc in encoders.items():
        qvec = enc.encode([question])[0]
        qvecs[name] = qvec
        scores = dense_chunk_scores(index, name, qvec)
        rankings[name] = sorted(scores, key=scores.get, reverse=True)
        for cid, s in scores.items():
            best_cos[cid] = max(best_cos.get(cid, -1.0), s)
    bm25_scores = None
    if index.bm25 is not None:
        bm25_scores = index.bm25.scores(question)
        order = np.argsort(-bm25_scores, kind="stable")
        rankings["bm25"] = [int(i) for i in order if bm25_scores[i] > 0]
    fused = rrf(rankings, k=rrf_k)
    top = sorted(fused, key=lambda c: fused[c][0], reverse=True)[:k]
    hits = [Hit(chunk=index.chunks[c], score=fused[c][0], ranks=fused[c][1],
                similarity=best_cos.get(c, 0.0)) for c in top]
    return Retrieval(hits=hits, relevance=relevance(question, hits), query_vectors=qvecs)


def missing_number(question: str, hits: list[Hit]) -> bool:
    """The question names a number (a year, an amount) that no retrieved passage contains."""
    texts = f" {fold(' '.join(h.chunk.indexed_text for h in hits))} "
    return any(f" {n} " not in texts for n in re.findall(r"\b\d+\b", fold(question)))


def relevance(question: str, hits: list[Hit]) -> float:
    """How likely the top passages are about the question, in [0, 1].

    0.8 × the best dense cosine (carries cross-lingual questions) + 0.2 × the best term
    coverage (carries names), over the top 3 hits; 0.5 × coverage when retrieval is BM25 only.
    Compared with ``refuse_below`` (calibrated on eval/calibration.jsonl).
    """
    if not hits:
        return 0.0
    cov = max(lexical_coverage(question, h.chunk.indexed_text) for h in hits[:3])
    if not any(h.ranks.keys() - {"bm25"} for h in hits):  # lexical only: coverage is all we have
        return float(0.5 * cov)
    sim = max(max(h.similarity, 0.0) for h in hits[:3])
    return float(0.8 * sim + 0.2 * cov)
