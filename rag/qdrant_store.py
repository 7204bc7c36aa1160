"""Qdrant backend: hybrid search done by the engine.

One point per chunk, holding
- a dense multivector: the unit vectors of the chunk and of each of its sentences, compared
  with MAX_SIM, so a chunk scores as its best row (as the FAISS index does with its rows);
- a sparse lexical vector: term frequencies of the same analyzer as BM25 (accent folding,
  French/English stopwords, Snowball stemming), computed here; Qdrant applies the IDF
  (``Modifier.IDF``);
- a payload: source, chunk id, span.
A point's id is the stable key of its chunk's first row, so an update deletes the points of a
removed or changed document (by its ``source``) and upserts the new ones, in place.
A question is one Query API call: a dense and a sparse prefetch fused by Qdrant's RRF.

Local mode (``qdrant-client``'s embedded engine, on disk inside the index folder) is the
default; ``RAG_QDRANT_URL`` points the same code at a Qdrant server or cluster, where the
collection is named after the index signature and deletes go by source.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from .errors import RagError
from .lexical import B, K1  # the BM25 index's own parameters

COLLECTION = "chunks"




def term_ids(tokens: list[str], *, avg_len: float | None = None) -> tuple[list[int], list[float]]:
    """Sparse vector of analyzed tokens: stable 31-bit term ids (crc32); values are BM25's
    saturated, length-normalised term frequencies when ``avg_len`` is given (documents), raw
    counts otherwise (queries). Qdrant multiplies by the IDF it keeps (``Modifier.IDF``)."""
    counts = Counter(zlib.crc32(t.encode("utf-8")) & 0x7FFFFFFF for t in tokens)
    ids = sorted(counts)
    if avg_len is None:
        return ids, [float(counts[i]) for i in ids]
    norm = K1 * (1 - B + B * len(tokens) / max(avg_len, 1e-9))
    return ids, [counts[i] * (K1 + 1) / (counts[i] + norm) for i in ids]


def _client(location: Path | None, url: str | None, api_key: str | None):
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise RagError("the qdrant backend needs qdrant-client: pip install qdrant-client") from None
    if url:
        return QdrantClient(url=url, api_key=api_key, timeout=30, check_compatibility=False)
    location.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(location))


@contextlib.contextmanager
def reachable(url: str | None):
    """A Qdrant server that is down or refuses us: one clear error."""
    try:
        yield
    except RagError:
        raise
    except Exception as err:  # qdrant-client raises transport-specific types
        if not url:
            raise
        raise RagError(f"cannot use the Qdrant server at {url} ({type(err).__name__}: {err}); start it, "
                       "or fix RAG_QDRANT_URL / RAG_QDRANT_API_KEY") from None


def collection_name(signature: dict, url: str | None) -> str:
    """Local mode: one collection in the index's own folder. Server: named after what built it."""
    if not url:
        return COLLECTION
    digest = hashlib.sha256(json.dumps(signature, sort_keys=True).encode()).hexdigest()[:12]
    return f"rag_{digest}"


def open_collection(*, location: Path, url: str | None, api_key: str | None, name: str, dim: int,
                    fresh: bool):
    """A client on the collection, created (``fresh``: recreated) when needed."""
    from qdrant_client import models

    client = _client(location, url, api_key)
    with reachable(url):
        exists = client.collection_exists(name)
    if exists and not fresh:
        return client
    if exists:
        client.delete_collection(name)
    client.create_collection(
        name,
        vectors_config={"dense": models.VectorParams(
            size=dim, distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM))},
        sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    if url:
        client.create_payload_index(name, "source", models.PayloadSchemaType.KEYWORD)
    return client


def upsert(client, name: str, *, chunks: list, rows: np.ndarray, keys: np.ndarray, vectors: np.ndarray,
           texts: list[str], avg_len: float, batch: int = 256) -> None:
    """Write ``chunks`` as points: their rows are those of ``rows`` whose chunk id is theirs
    (``vectors``/``keys`` aligned with ``rows``); ``texts`` aligned with ``chunks``."""
    from qdrant_client import models

    from .lexical import tokenize

    by_chunk: dict[int, list[int]] = {}
    for i, cid in enumerate(rows[:, 0].tolist()):
        by_chunk.setdefault(int(cid), []).append(i)
    points = []
    for c, text in zip(chunks, texts):
        ids, tf = term_ids(tokenize(text), avg_len=avg_len)
        mine = by_chunk[c.id]
        points.append(models.PointStruct(
            id=int(keys[mine[0]]), vector={"dense": np.asarray(vectors[mine], dtype=np.float32).tolist(),
                                           "sparse": models.SparseVector(indices=ids, values=tf)},
            payload={"source": c.source, "start": c.start, "end": c.end}))
        if len(points) >= batch:
            client.upsert(name, points=points)
            points = []
    if points:
        client.upsert(name, points=points)


def count(client, name: str) -> int:
    return client.count(name, exact=True).count


def delete_source(client, name: str, source: str) -> None:
    """Remove every point of one document (server mode keeps one collection across updates)."""
    from qdrant_client import models

    client.delete(name, points_selector=models.FilterSelector(filter=models.Filter(
        must=[models.FieldCondition(key="source", match=models.MatchValue(value=source))])))


class QdrantRetriever:
    """Dense + sparse prefetches fused by Qdrant's RRF, in one call."""

    name = "qdrant"

    def __init__(self, *, location: Path, url: str | None, api_key: str | None, collection: str, encoder,
                 rrf_k: int, chunk_of, spans=None, vocabulary=None, candidates: int = 100, expand=None):
        self.client = _client(location, url, api_key)
        self.chunk_of = chunk_of  # point ids (row keys) -> chunk ids
        self.url, self.spans, self.vocabulary = url, spans, vocabulary
        self.expand = expand  # document words searched besides the question's own (``terms.Expander``)
        self.collection, self.encoder = collection, encoder
        self.rrf_k, self.candidates = rrf_k, candidates
        self._query: tuple[str, np.ndarray] | None = None
        self._cos: tuple[str, dict] | None = None

    def _qvec(self, question: str) -> np.ndarray:
        if self._query is None or self._query[0] != question:
            self._query = (question, self.encoder.encode([question])[0])
        return self._query[1]

    def rank(self, question: str) -> dict[int, float]:
        from qdrant_client import models

        from .lexical import tokenize
        from .retrieve import searched

        qvec = [self._qvec(question).tolist()]
        prefetch = [models.Prefetch(query=qvec, using="dense", limit=self.candidates)]
        ids, _ = term_ids(tokenize(searched(question, self.expand)))
        if ids:
            prefetch.append(models.Prefetch(query=models.SparseVector(indices=ids, values=[1.0] * len(ids)),
                                            using="sparse", limit=self.candidates))
        with reachable(self.url):
            res = self.client.query_points(self.collection, prefetch=prefetch,
                                           query=models.RrfQuery(rrf=models.Rrf(k=self.rrf_k)),
                                           limit=self.candidates, with_payload=False)
        return self._by_chunk(res.points)

    def _by_chunk(self, points) -> dict[int, float]:
        """Scores by chunk id; points this index does not know (written by an update that has
        not landed yet) are ignored."""
        ids = self.chunk_of([p.id for p in points])
        return {c: float(p.score) for c, p in zip(ids, points) if c >= 0}

    def knows(self, word: str) -> bool:
        return self.vocabulary is not None and self.vocabulary.knows(word)

    def span_scores(self, question: str, spans: list[tuple[int, int, int]]) -> list[float | None]:
        """Evidence sentences are scored from the index's memory-mapped row vectors."""
        return self.spans.span_scores(question, spans) if self.spans else [None] * len(spans)

    def text_scores(self, question: str, texts: list[str]) -> list[float]:
        """Cosine of each text, encoded now, with the question (sentences read in context)."""
        if not texts:
            return []
        return (self.encoder.encode(texts) @ self._qvec(question)).astype(float).tolist()

    def cosines(self, question: str) -> dict[int, float]:
        """Best cosine per chunk (its best row), for the relevance signal."""
        if self._cos is None or self._cos[0] != question:
            with reachable(self.url):
                res = self.client.query_points(self.collection, query=[self._qvec(question).tolist()],
                                               using="dense", limit=self.candidates, with_payload=False)
            self._cos = (question, self._by_chunk(res.points))
        return self._cos[1]
