"""Vector stores behind one small protocol and one registry (settings ``vector_store``).

``faiss`` (default, embedded): inner product on unit vectors (= cosine). Ids are stable row
keys, so one document's rows are removed and a new document's rows added in place:
- up to ``ann_threshold`` vectors, exact search (``IndexIDMap2`` over ``IndexFlatIP``);
- past it, an inverted file over 8-bit scalar-quantised vectors (``IndexIVFScalarQuantizer``):
  a quarter of the memory of float vectors, updatable in place (HNSW cannot delete), with
  ``nprobe`` lists searched per query (recall measured by ``scripts/bench_scale.py``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import RagError


class VectorStore(Protocol):
    """Nearest rows of a query among unit vectors; ids are the rows' stable keys."""

    kind: str

    @property
    def size(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of the k nearest rows, best first."""

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def save(self, path: Path) -> None: ...


class StoreBackend(Protocol):
    def build(self, vectors: np.ndarray, ids: np.ndarray | None = None, *, ann_threshold: int,
              nprobe: int) -> VectorStore: ...

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
        import faiss

        inner = faiss.downcast_index(self._index.index) if hasattr(self._index, "id_map") else self._index
        return type(inner).__name__

    @staticmethod
    def n_lists(n: int) -> int:
        """Inverted lists for n vectors: about 2 sqrt(n), at least 16."""
        return max(16, int(2 * math.sqrt(n)))

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray | None = None, *, ann_threshold: int = 20000,
              nprobe: int = 32) -> "FaissStore":
        import faiss

        ids = np.arange(len(vectors), dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        dim = vectors.shape[1]
        if len(vectors) > ann_threshold:
            nlist = cls.n_lists(len(vectors))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                  faiss.METRIC_INNER_PRODUCT)
            index.cp.niter = 12
            index.cp.min_points_per_centroid = 1  # a sample of 40 per list is enough (no warning)
            sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist),
                                                             replace=False)]
            index.train(np.ascontiguousarray(sample, dtype=np.float32))
            index.nprobe = nprobe
            index.quantizer_trains_alone = 0
            index.own_fields = True
            quantizer.this.disown()
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        # block by block: memory-mapped vectors are never copied whole into memory
        for i in range(0, len(vectors), 65536):
            index.add_with_ids(np.ascontiguousarray(vectors[i:i + 65536], dtype=np.float32), ids[i:i + 65536])
        return cls(index)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def set_nprobe(self, nprobe: int) -> None:
        if hasattr(self._index, "nprobe"):
            self._index.nprobe = nprobe

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row keys) of the k nearest rows, best first; missing results are dropped."""
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, max(1, min(k, self.size)))
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
