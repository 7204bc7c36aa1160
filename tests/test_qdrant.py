"""The Qdrant backend in local mode (embedded, on disk): hybrid search inside the engine, the
same pipeline on top, documents added and removed."""

from __future__ import annotations

import pytest

pytest.importorskip("qdrant_client")

import docgen  # noqa: E402
from conftest import FakeLLM  # noqa: E402
from rag import collection  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.qdrant_store import term_ids  # noqa: E402


@pytest.fixture
def qsettings(settings):
    return settings.model_copy(update={"vector_store": "qdrant"})


def test_bm25_and_dense_become_one_engine_side_retriever(qsettings):
    assert qsettings.retriever_list == ["qdrant"] and qsettings.needs_bm25 and qsettings.needs_dense
    pipe = Pipeline(qsettings, llm=FakeLLM())
    assert [r.name for r in pipe.retrievers(pipe.index)] == ["qdrant"]
    assert (qsettings.index_dir / "qdrant").is_dir() and not list(qsettings.index_dir.glob("*.faiss"))
    answer = pipe.ask("Que propose Olivier Duha ?")
    assert answer.citations[0].chunk.source == "002_4baedb1a5da3def7.txt"
    assert answer.retrieved[0].ranks == {"qdrant": 1} and answer.retrieved[0].similarity > 0


def test_same_top_passage_as_faiss_on_seed_questions(settings, qsettings):
    faiss = Pipeline(settings, llm=FakeLLM())
    qdrant = Pipeline(qsettings, llm=FakeLLM())
    questions = ["Que propose Olivier Duha ?", "Combien d'appels le numéro vert a-t-il reçus ?",
                 "Combien de salariés comptent les centres d'appels aux Philippines ?"]
    for q in questions:
        a, b = faiss.ask(q), qdrant.ask(q)
        assert a.retrieved[0].chunk.id == b.retrieved[0].chunk.id, q


def test_nonsense_is_still_refused(qsettings):
    assert Pipeline(qsettings, llm=FakeLLM()).ask("asdf qwer zxcv").refused


def test_documents_added_and_removed(qsettings):
    pipe = Pipeline(qsettings, llm=FakeLLM("Zorglub emploie 321 conseillers à Tulle [1]."))
    pdf = docgen.pdf_bytes(["La société Zorglub emploie 321 conseillers à Tulle depuis 2017."], title="Zorglub")
    assert collection.add_documents(qsettings, [("zorglub.pdf", pdf)]).added == ["zorglub.pdf"]
    pipe.reload_index()
    q = "Combien de conseillers Zorglub emploie-t-elle à Tulle ?"
    assert pipe.ask(q).retrieved[0].chunk.source == "zorglub.pdf"
    collection.remove_document(qsettings, "zorglub.pdf")
    pipe.reload_index()
    assert all(h.chunk.source != "zorglub.pdf" for h in pipe.ask(q).retrieved)


def test_unreachable_server_is_one_clear_error(settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = settings.model_copy(update={"vector_store": "qdrant", "qdrant_url": f"http://127.0.0.1:{port}"})
    with pytest.raises(RagError, match="cannot use the Qdrant server"):
        Pipeline(down, llm=FakeLLM())


def test_sparse_vectors_saturate_and_normalise_like_bm25():
    ids, raw = term_ids(["a", "b", "a"])
    assert sorted(raw) == [1.0, 2.0]
    a = ids[raw.index(2.0)]
    i_short, short = term_ids(["a", "b", "a"], avg_len=10)
    i_long, long = term_ids(["a", "b", "a"] + ["c"] * 20, avg_len=10)
    a_short, a_long = short[i_short.index(a)], long[i_long.index(a)]
    assert 1.0 < a_short < 2.0 and a_long < a_short  # saturated, and lower in a longer chunk


def test_an_update_deletes_by_source_and_upserts_only_new_chunks(qsettings, monkeypatch):
    from rag import qdrant_store
    from rag.index import build_index, load_index

    build_index(qsettings)
    written = []
    real = qdrant_store.upsert
    monkeypatch.setattr(qdrant_store, "upsert", lambda client, name, **kw: written.extend(kw["chunks"])
                        or real(client, name, **kw))
    (qsettings.seeds_dir / "002_4baedb1a5da3def7.txt").unlink()
    (qsettings.seeds_dir / "999_new.txt").write_text("Zorglub à Tulle\nLa société Zorglub emploie 321 "
                                                     "conseillers à Tulle depuis 2017.\n", encoding="utf-8")
    build_index(qsettings)
    assert {c.source for c in written} == {"999_new.txt"}
    index = load_index(qsettings)
    client = qdrant_store._client(index.path / "qdrant", None, None)
    try:
        assert qdrant_store.count(client, index.manifest["qdrant_collection"]) == len(index.chunks)
    finally:
        client.close()
    pipe = Pipeline(qsettings, llm=FakeLLM())
    assert pipe.ask("Combien de conseillers Zorglub emploie-t-elle à Tulle ?").retrieved[0].chunk.source == "999_new.txt"
    assert all(h.chunk.source != "002_4baedb1a5da3def7.txt" for h in pipe.ask("Que propose Olivier Duha ?").retrieved)
