import pytest
import numpy as np

from rag.errors import RagError
from rag.vectorstore import FaissStore as VectorStore


def _data(n=300, d=16, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_below_threshold_and_round_trip(tmp_path):
    x = _data()
    store = VectorStore.build(x, ann_threshold=1000)
    assert store.kind == "IndexFlatIP" and store.size == 300
    scores, ids = store.search(x[42], 3)
    assert ids[0] == 42 and abs(scores[0] - 1.0) < 1e-5 and list(scores) == sorted(scores, reverse=True)
    store.save(tmp_path / "v.faiss")
    again = VectorStore.load(tmp_path / "v.faiss")
    assert again.search(x[7], 1)[1][0] == 7


def test_approximate_past_threshold_finds_the_same_neighbours():
    x = _data(n=2000)
    store = VectorStore.build(x, ann_threshold=100, nprobe=16)
    assert store.kind == "IndexIVFScalarQuantizer"
    hits = sum(store.search(x[i], 1)[1][0] == i for i in range(0, 2000, 20))
    assert hits >= 95  # approximate, but nearly always exact on its own points


@pytest.mark.parametrize("threshold", [10_000, 100])
def test_rows_are_removed_and_added_in_place_by_key(tmp_path, threshold):
    """Ids are stable row keys: removing some keys and adding new ones gives the same
    neighbours as a store built from the result."""
    x = _data(n=1000)
    keys = np.arange(500, 1500)
    store = VectorStore.build(x, keys, ann_threshold=threshold, nprobe=64)
    store.remove(keys[:100])
    store.add(x[:50], np.arange(5000, 5050))
    assert store.size == 950
    store.save(tmp_path / "v.faiss")
    store = VectorStore.load(tmp_path / "v.faiss")
    assert store.search(x[10], 1)[1][0] == 5010  # the re-added vector, under its new key
    assert store.search(x[200], 1)[1][0] == 700
    found = {int(i) for q in x[:100] for i in store.search(q, 5)[1]}
    assert not found & set(range(500, 600))  # removed keys are never returned


def test_backends_come_from_registries(settings):
    """A fake retriever and a fake vector store are registered, selected by settings, and the
    pipeline answers through them without knowing what they are."""
    import numpy as np

    from conftest import FakeLLM
    from rag import retrieve, vectorstore
    from rag.pipeline import Pipeline

    built = []

    class ListStore:
        kind = "list"

        def __init__(self, vectors):
            self.vectors = np.asarray(vectors)

        @property
        def size(self):
            return len(self.vectors)

        def search(self, query, k):
            scores = self.vectors @ query
            ids = np.argsort(-scores)[:k]
            return scores[ids], ids

        def add(self, vectors, ids):
            self.vectors = np.vstack([self.vectors, vectors])  # ids are positions for this fake

        def remove(self, ids):
            self.vectors = np.delete(self.vectors, ids, axis=0)

        def save(self, path):
            np.save(path.with_suffix(".npy.list"), self.vectors)
            path.write_bytes(b"list")

    class ListBackend:
        def build(self, vectors, ids=None, *, ann_threshold, nprobe):
            built.append(len(vectors))
            return ListStore(vectors)

        def load(self, path):
            return ListStore(np.load(path.with_suffix(".npy.list.npy")))

    class TitleRetriever:
        name = "title"

        def __init__(self, chunks):
            self.chunks = chunks

        def rank(self, question):
            return {c.id: 1.0 for c in self.chunks if "plateaux" in c.title.lower()}

    vectorstore.register_store("list", ListBackend())
    retrieve.register_retriever("title", lambda index, settings, encoders: [TitleRetriever(index.chunks)])
    try:
        s = settings.model_copy(update={"vector_store": "list", "retrievers": "bm25,dense,title"})
        pipe = Pipeline(s, llm=FakeLLM())
        assert built and [r.name for r in pipe.retrievers(pipe.index)] == ["bm25", "fake", "title"]
        answer = pipe.ask("Que propose Olivier Duha ?")
        assert answer.citations and "title" in answer.retrieved[0].ranks
    finally:
        vectorstore.STORES.pop("list")
        retrieve.RETRIEVERS.pop("title")
    with pytest.raises(RagError, match="unknown vector store"):
        Pipeline(settings.model_copy(update={"vector_store": "nope", "index_dir": settings.index_dir.parent / "x"}))
