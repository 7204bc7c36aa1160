"""Vector stores behind one small protocol and one registry (settings ``vector_store``).

``faiss`` (default, embedded): inner product on unit vectors (= cosine); ids are row positions.
Exact (flat) search for small collections, HNSW past ``hnsw_threshold`` vectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import RagError


class VectorStore(Protocol):
    """Nearest rows of a query among unit vectors; ids are row positions in the index."""

    kind: str

    @property
    def size(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of the k nearest rows, best first."""

    def save(self, path: Path) -> None: ...


class StoreBackend(Protocol):
    def build(self, vectors: np.ndarray, *, hnsw_threshold: int) -> VectorStore: ...

    def load(self, path: Path) -> VectorStore: ...


STORES: dict[str, StoreBackend] = {}


def register_store(name: str, backend: StoreBackend) -> None:
    """Make a store selectable by ``settings.vector_store`` (tests register fakes here)."""
    STORES[name] = backend


def get_store(name: str) -> StoreBackend:
    try:
        return STORES[name]
    except KeyError:
        raise RagError(f"unknown vector store {name!r} (RAG_VECTOR_STORE); choose from: {', '.join(STORES)}") from None


class FaissStore:
    def __init__(self, index):
        self._index = index

    @property
    def size(self) -> int:
        return self._index.ntotal

    @property
    def kind(self) -> str:
        return type(self._index).__name__

    @classmethod
    def build(cls, vectors: np.ndarray, *, hnsw_threshold: int = 20000) -> "FaissStore":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) > hnsw_threshold:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 64
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return cls(index)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of the k nearest rows, best first; rows absent are dropped."""
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, self.size))
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> "FaissStore":
        import faiss

        return cls(faiss.read_index(str(path)))


register_store("faiss", FaissStore)
