import numpy as np

from rag.vectorstore import VectorStore


def _data(n=300, d=16, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_below_threshold_and_round_trip(tmp_path):
    x = _data()
    store = VectorStore.build(x, hnsw_threshold=1000)
    assert store.kind == "IndexFlatIP" and store.size == 300
    scores, ids = store.search(x[42], 3)
    assert ids[0] == 42 and abs(scores[0] - 1.0) < 1e-5 and list(scores) == sorted(scores, reverse=True)
    store.save(tmp_path / "v.faiss")
    again = VectorStore.load(tmp_path / "v.faiss")
    assert again.search(x[7], 1)[1][0] == 7


def test_hnsw_past_threshold_finds_the_same_neighbours():
    x = _data()
    store = VectorStore.build(x, hnsw_threshold=100)
    assert store.kind == "IndexHNSWFlat"
    hits = sum(store.search(x[i], 1)[1][0] == i for i in range(0, 300, 10))
    assert hits >= 28  # approximate, but nearly always exact on its own points
