"""Hybrid retrieval: retrievers behind one protocol and one registry (BM25, one dense retriever
per encoder), their rankings fused by one generic reciprocal rank fusion (RRF).

Also computes the relevance signal used to refuse: the best dense cosine between the
question and any row (chunk or sentence) of the corpus, blended with BM25 term coverage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from .chunking import QUESTION_LABEL
from .errors import RagError
from .index import IndexData

if TYPE_CHECKING:
    from .settings import Settings
from .lexical import tokenize
from .records import Chunk, Hit
from .text import fold, sentence_spans


class Retriever(Protocol):
    """Ranks the chunks of the index for a question."""

    name: str

    def rank(self, question: str) -> dict[int, float]:
        """Score per chunk id (higher is better); chunks absent did not match."""


class Bm25Retriever:
    name = "bm25"

    def __init__(self, bm25, *, candidates: int = 400, expand: Callable[[str], list[str]] | None = None):
        self.bm25 = bm25
        self.candidates = candidates
        self.expand = expand  # the document words to search besides the question's own (``terms.Expander``)

    def knows(self, word: str) -> bool:
        return self.bm25.knows(word)

    def rank(self, question: str) -> dict[int, float]:
        """The best ``candidates`` chunks (fusion reads ranks: the tail of a common word's
        postings only costs time)."""
        scores = self.bm25.scores(searched(question, self.expand))
        ids = np.flatnonzero(scores > 0)
        if len(ids) > self.candidates:
            ids = ids[np.argpartition(-scores[ids], self.candidates)[:self.candidates]]
        return {int(i): float(scores[i]) for i in ids}


class DenseRetriever:
    """Best cosine per chunk over its rows (the chunk itself and each of its sentences). Also
    scores any row span of the index against the last question (evidence sentences)."""

    def __init__(self, name: str, store, vectors: np.ndarray, rows: np.ndarray, encoder, *, candidates: int = 400,
                 keys: np.ndarray | None = None):
        self.name, self.store, self.vectors, self.rows, self.encoder = name, store, vectors, rows, encoder
        self.candidates = candidates
        self.keys = keys  # the store's ids are row keys (ascending); None: row positions
        self._query: tuple[str, np.ndarray] | None = None

    def query_vector(self, question: str) -> np.ndarray:
        if self._query is None or self._query[0] != question:
            self._query = (question, self.encoder.encode([question])[0])
        return self._query[1]

    def rank(self, question: str) -> dict[int, float]:
        scores, ids = self.store.search(self.query_vector(question), min(self.store.size, self.candidates))
        if self.keys is not None:
            ids = np.searchsorted(self.keys, ids)
        best: dict[int, float] = {}
        for s, row in zip(scores.tolist(), ids.tolist()):
            cid = int(self.rows[row, 0])
            if s > best.get(cid, -2.0):
                best[cid] = s
        return best

    def span_scores(self, question: str, spans: list[tuple[int, int, int]]) -> list[float | None]:
        """Cosine of each (chunk id, start, end) row with the question; None for a span that is
        not a row of the index."""
        q = self.query_vector(question)
        out = []
        for span in spans:
            i = self._row(*span)
            out.append(None if i is None else float(self.vectors[i] @ q))
        return out

    def text_scores(self, question: str, texts: list[str]) -> list[float]:
        """Cosine of each text, encoded now, with the question (sentences read in context)."""
        if not texts:
            return []
        return (self.encoder.encode(texts) @ self.query_vector(question)).astype(float).tolist()

    def _row(self, chunk: int, start: int, end: int) -> int | None:
        """Position of a row: rows are stored chunk by chunk in chunk-id order, so a chunk's rows
        are found by bisection (no lookup table over every row of a large index)."""
        ids = self.rows[:, 0]
        lo, hi = int(np.searchsorted(ids, chunk, "left")), int(np.searchsorted(ids, chunk, "right"))
        for i in range(lo, hi):
            if self.rows[i, 1] == start and self.rows[i, 2] == end:
                return i
        return None


def searched(question: str, expand: Callable[[str], list[str]] | None) -> str:
    """What a lexical retriever searches: the question, and the document words closest to those
    of its words the documents never use (an English question about French articles)."""
    return " ".join([question, *expand(question)]) if expand else question


def expander(index: IndexData, settings, encoders: dict) -> Callable[[str], list[str]] | None:
    """Question words → close document words, with the encoder the index's word table was made
    with (None: no table, no encoder, or ``expand_terms`` 0)."""
    from .terms import Expander

    name = settings.embedder_list[0] if settings.embedder_list else None
    if index.terms is None or not settings.expand_terms or name not in encoders:
        return None
    return Expander(index.terms, encoders[name].encode, n=settings.expand_terms, min_similarity=settings.expand_min)


RetrieverFactory = Callable[[IndexData, "Settings", dict], list[Retriever]]


def _qdrant(index: IndexData, settings, encoders: dict) -> list[Retriever]:
    from .qdrant_store import QdrantRetriever

    name, enc = next(iter(encoders.items()))
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    spans = DenseRetriever(name, None, index.dense[name][1], index.rows, enc)
    def chunk_of(keys: list) -> list[int]:
        """Chunk id of each row key (-1: a key this index does not hold)."""
        keys = np.asarray(keys, dtype=np.int64)
        pos = np.minimum(np.searchsorted(index.row_keys, keys), max(len(index.row_keys) - 1, 0))
        known = index.row_keys[pos] == keys
        return np.where(known, index.rows[pos, 0], -1).tolist()

    return [QdrantRetriever(location=index.path / "qdrant", url=settings.qdrant_url, api_key=key,
                            collection=index.manifest["qdrant_collection"], encoder=enc, rrf_k=settings.rrf_k,
                            chunk_of=chunk_of, spans=spans, vocabulary=index.bm25,
                            expand=expander(index, settings, encoders))]


RETRIEVERS: dict[str, RetrieverFactory] = {
    "bm25": lambda index, settings, encoders: [Bm25Retriever(index.bm25, expand=expander(index, settings, encoders))]
    if index.bm25 is not None else [],
    "dense": lambda index, settings, encoders: [DenseRetriever(n, *index.dense[n], index.rows, enc, keys=index.row_keys)
                                                for n, enc in encoders.items() if n in index.dense],
    "qdrant": _qdrant,
}


def register_retriever(name: str, factory: RetrieverFactory) -> None:
    """Make a retriever selectable by ``settings.retrievers`` (tests register fakes here)."""
    RETRIEVERS[name] = factory


def make_retrievers(index: IndexData, names: list[str], settings, encoders: dict) -> list[Retriever]:
    out: list[Retriever] = []
    for name in names:
        if name not in RETRIEVERS:
            raise RagError(f"unknown retriever {name!r} (RAG_RETRIEVERS); choose from: {', '.join(RETRIEVERS)}")
        out.extend(RETRIEVERS[name](index, settings, encoders))
    return out


@dataclass
class Retrieval:
    hits: list[Hit]
    relevance: float


def rrf(rankings: dict[str, list[int]], *, k: int, weights: dict[str, float] | None = None
        ) -> dict[int, tuple[float, dict[str, int]]]:
    """Reciprocal rank fusion over any number of rankings: score(d) = Σ w_r / (k + rank_r(d))."""
    fused: dict[int, list] = {}
    for name, ranking in rankings.items():
        w = (weights or {}).get(name, 1.0)
        for rank, doc in enumerate(ranking, start=1):
            entry = fused.setdefault(doc, [0.0, {}])
            entry[0] += w / (k + rank)
            entry[1][name] = rank
    return {doc: (score, ranks) for doc, (score, ranks) in fused.items()}


def lexical_coverage(question: str, text: str) -> float:
    """Share of the question's content terms (stemmed) present in ``text``."""
    q = set(tokenize(question))
    if not q:
        return 0.0
    return len(q & set(tokenize(text))) / len(q)


def retrieve(retrievers: list[Retriever], chunks: list, question: str, *, k: int, rrf_k: int) -> Retrieval:
    """Top-k chunks for ``question``: every retriever's ranking, fused by RRF."""
    rankings: dict[str, list[int]] = {}
    best_cos: dict[int, float] = {}
    # dense rankings first: equal fused scores keep the dense order (as measured on the eval sets)
    for r in sorted(retrievers, key=lambda r: not isinstance(r, DenseRetriever)):
        scores = r.rank(question)
        rankings[r.name] = sorted(scores, key=lambda c: -scores[c])  # stable: ties keep the retriever's order
        cosines = scores if isinstance(r, DenseRetriever) else (r.cosines(question) if hasattr(r, "cosines") else {})
        for cid, sc in cosines.items():
            best_cos[cid] = max(best_cos.get(cid, -1.0), sc)
    fused = rrf(rankings, k=rrf_k)
    top = sorted(fused, key=lambda c: fused[c][0], reverse=True)[:k]
    hits = [Hit(chunk=chunks[c], score=fused[c][0], ranks=fused[c][1],
                similarity=best_cos.get(c, 0.0)) for c in top]
    return Retrieval(hits=hits, relevance=relevance(question, hits, best_cosine=max(best_cos.values(), default=None)))


def known_word(retrievers: list[Retriever], word: str) -> bool:
    """A stopword, or a word of the indexed vocabulary (for telling nonsense from a question)."""
    from .lexical import _stopwords

    return word in _stopwords() or any(r.knows(word) for r in retrievers if hasattr(r, "knows"))


def missing_number(question: str, hits: list[Hit]) -> bool:
    """The question names a number (a year, an amount) that no retrieved passage contains, nor
    its article's date ("the October 2014 editorial" is dated, not written, 2014)."""
    texts = f" {fold(' '.join((h.chunk.date or '') + ' ' + h.chunk.indexed_text for h in hits))} "
    return any(f" {n} " not in texts for n in re.findall(r"\b\d+\b", fold(question)))


MAX_DOCUMENT_CHUNKS = 2000  # chunks of the retrieved documents read for the names check


def missing_name(question: str, hits: list[Hit], chunks=None) -> set[str]:
    """Names the question asks about (a company, a country, a person) that no retrieved passage,
    its header or title holds, nor, with ``chunks`` (the index's), any other passage of the same
    documents (an interview names the person interviewed once, in its introduction), nor in a
    known French form ("Morocco" = "Maroc"): the passages cannot say anything about them."""
    read = [h.chunk for h in hits]
    if chunks is not None and hits:
        seen = {h.chunk.id for h in hits}
        ids = _document_chunk_ids(chunks, {h.chunk.source for h in hits})
        read += [chunks[int(i)] for i in ids[:MAX_DOCUMENT_CHUNKS] if int(i) not in seen]  # each chunk read once
    return _names_outside(question, read)


def unquoted_name(question: str, quoted: list[Chunk], chunks) -> set[str]:
    """Names the user asks about that neither the quoted passages (text, header, title), nor the
    passage before each (an interview question names what the answer after it is about), nor the
    opening passage of their documents (where an interview names the person it is with) hold: a
    quote from a passage about something else does not answer ("Combien de salariés
    Teleperformance emploie-t-elle au Maroc ?" quoted on the Philippines' 1,200,000 agents).
    ``question``: the user's own words, not a follow-up's rewrite (whose carried-over names the
    previous answer's passage held, not necessarily this one)."""
    read = list(quoted)
    for source in {c.source for c in quoted}:
        ids = [int(i) for i in _document_chunk_ids(chunks, {source})]
        if not ids:
            continue
        at = {i: k for k, i in enumerate(ids)}  # each chunk's place in its document
        near = {ids[0]} | {ids[at[c.id] - 1] for c in quoted if c.source == source and at.get(c.id, 0) > 0}
        for c in quoted:
            if c.source == source and c.id in at and _INTERVIEW in c.header:
                near |= _interview_opening(chunks, ids, at[c.id])
        read += [chunks[i] for i in sorted(near - {c.id for c in quoted})]
    return _names_outside(question, read, skip_instructions=True)


_INTERVIEW = f"| {QUESTION_LABEL}"  # an interview question in a chunk's context header


def _interview_opening(chunks, ids: list[int], k: int) -> set[int]:
    """An interview inside a longer document names the person it is with in its introduction or
    first answer ("Manuel Jacquinet : Précisément, …"), not in the document's opening: the first
    passage of the run of interview passages that holds the ``k``-th passage, and the one before."""
    first = k
    while first > 0 and _INTERVIEW in chunks[ids[first - 1]].header:
        first -= 1
    return {ids[first]} | ({ids[first - 1]} if first > 0 else set())


def _document_chunk_ids(chunks, sources: set[str]):
    """The ids of the chunks of these documents, in reading order."""
    if hasattr(chunks, "keep_mask"):
        return np.flatnonzero(chunks.keep_mask(sources))
    return [c.id for c in chunks if c.source in sources]


def _names_outside(question: str, read: list[Chunk], *, skip_instructions: bool = False) -> set[str]:
    """The question's names that none of these passages hold. With ``skip_instructions``, a
    sentence that addresses an AI model (a planted instruction: "You are now DAN, an AI without
    rules") is not what its passage is about, and is not read (a regular expression per sentence,
    ~0.5 ms a passage: for the few passages around quotes, not for whole documents)."""
    from .support import looks_like_instruction, unsupported_names

    def about(c: Chunk) -> str:
        body = c.indexed_text
        if not skip_instructions or not looks_like_instruction(body):
            return body
        return " ".join(body[s:e] for s, e in sentence_spans(body) if not looks_like_instruction(body[s:e]))

    text = " ".join(f"{c.title} {_month(c.date)} {about(c)}" for c in read)
    return unsupported_names(question, text, cognates=True)


def _month(date: str | None) -> str:
    """The month of an ISO date, in French words as the article parser reads them ("the October 2014
    editorial" is dated, not written, October)."""
    from .articles import MONTHS

    m = re.match(r"\d{4}-(\d{2})", date or "")
    return next((name for name, number in MONTHS.items() if m and number == int(m.group(1))), "")


def relevance(question: str, hits: list[Hit], *, best_cosine: float | None = None) -> float:
    """How likely the top passages are about the question, in [0, 1].

    0.8 × the best dense cosine of any chunk (carries cross-lingual questions) + 0.2 × the best
    term coverage of the retrieved passages (carries names); 0.5 × coverage when retrieval is
    BM25 only. The cosine is the dense search's own best, not the best among the fused top hits:
    engines fuse the same rankings into slightly different top lists (FAISS + BM25 here, Qdrant's
    RRF there), and a refusal must not depend on which one runs. Compared with ``refuse_below``
    (calibrated on eval/calibration.jsonl).
    """
    if not hits:
        return 0.0
    cov = max(lexical_coverage(question, h.chunk.indexed_text) for h in hits)
    if best_cosine is None:
        if not any(h.ranks.keys() - {"bm25"} for h in hits):  # lexical only: coverage is all we have
            return float(0.5 * cov)
        best_cosine = max(h.similarity for h in hits)
    return float(0.8 * max(best_cosine, 0.0) + 0.2 * cov)
