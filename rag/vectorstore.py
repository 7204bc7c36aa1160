"""FAISS behind a tiny interface: build, search, save, load.

Inner product on unit vectors (= cosine); ids are row positions. Exact (flat) search for
small collections, HNSW past ``hnsw_threshold`` vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class VectorStore:
    def __init__(self, index):
        self._index = index

    @property
    def size(self) -> int:
        return self._index.ntotal

    @property
    def kind(self) -> str:
        return type(self._index).__name__

    @classmethod
    def build(cls, vectors: np.ndarray, *, hnsw_threshold: int = 20000) -> "VectorStore":
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
    def load(cls, path: Path) -> "VectorStore":
        import faiss

        return cls(faiss.read_index(str(path)))
