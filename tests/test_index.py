import numpy as np
import pytest

from rag.errors import CorruptIndexError, IndexError_, StaleIndexError
from rag.index import build_index, ensure_index, load_index, read_manifest, staleness


def test_build_and_load_round_trip(settings):
    path, warnings = build_index(settings)
    assert warnings == []
    m = read_manifest(path)
    assert m["format_version"] and [e["name"] for e in m["signature"]["embedders"]] == ["fake"]
    assert set(m["articles"]) == {p.name for p in settings.seeds_dir.iterdir()}
    idx = load_index(settings)
    assert len(idx.chunks) == m["n_chunks"] > 20
    assert idx.dense["fake"][1].shape[0] == len(idx.rows)
    assert staleness(settings, m) is None


def test_new_or_changed_seed_makes_index_stale_and_ensure_rebuilds(settings):
    build_index(settings)
    (settings.seeds_dir / "999_new.txt").write_text("Un article ajouté.\nAvec du texte en plus.\n", encoding="utf-8")
    why = staleness(settings, read_manifest(settings.index_dir))
    assert "new: 999_new.txt" in why
    with pytest.raises(StaleIndexError):
        load_index(settings)
    messages = []
    idx = ensure_index(settings, progress=messages.append)
    assert any("updating the index" in m for m in messages)
    assert any(c.source == "999_new.txt" for c in idx.chunks)


def test_settings_change_makes_index_stale(settings):
    build_index(settings)
    other = settings.model_copy(update={"chunk_max_chars": 500})
    assert "settings changed" in staleness(other, read_manifest(settings.index_dir))


def test_corrupt_file_is_detected(settings):
    build_index(settings)
    (settings.index_dir / "chunks.jsonl").write_text("garbage", encoding="utf-8")
    with pytest.raises(CorruptIndexError, match="mismatch.*rag index --rebuild"):
        load_index(settings)
    (settings.index_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptIndexError, match="unreadable"):
        load_index(settings)


def test_interrupted_build_leaves_previous_index_intact(settings, monkeypatch):
    build_index(settings)
    before = (settings.index_dir / "manifest.json").read_text()
    import rag.index as ix

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(ix, "_swap_into_place", boom)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings)
    assert (settings.index_dir / "manifest.json").read_text() == before
    leftovers = [p for p in settings.index_dir.parent.iterdir() if ".building-" in p.name]
    assert leftovers == []
    load_index(settings)


def test_large_files_are_size_checked_at_load_and_hashed_by_verify(settings, monkeypatch):
    import rag.index as ix

    build_index(settings)
    vec = settings.index_dir / "dense-fake.0.npy"
    data = bytearray(vec.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes
    vec.write_bytes(bytes(data))
    monkeypatch.setattr(ix, "SMALL_FILE", 1)  # as if every file were large
    load_index(settings)  # a start does not hash large files
    with pytest.raises(CorruptIndexError, match="checksum mismatch"):
        load_index(settings, verify=True)


def test_unchanged_documents_are_not_re_read_at_start(settings, monkeypatch):
    import rag.index as ix

    build_index(settings)
    m = read_manifest(settings.index_dir)
    hashed = []
    monkeypatch.setattr(ix, "_sha_file", lambda p: hashed.append(p.name) or "x")
    (settings.seeds_dir / "004_824c6bbdb88472a5.txt").write_text("Un autre texte.\nEt encore du texte.\n",
                                                                  encoding="utf-8")
    why = staleness(settings, m)
    assert hashed == ["004_824c6bbdb88472a5.txt"] and "changed: 004_824c6bbdb88472a5.txt" in why


def test_a_changed_analyzer_rebuilds_by_itself(settings, monkeypatch):
    import rag.lexical as lx

    build_index(settings)
    m = read_manifest(settings.index_dir)
    assert m["signature"]["analyzer"]["stemmer"] == "french"
    monkeypatch.setattr(lx, "K1", 1.5)
    assert "settings changed" in staleness(settings, m)


def _signature_of(idx):
    """Everything retrieval sees, keyed by content (ids and row order may differ)."""

    vec = idx.dense["fake"][1]
    rows = {(idx.chunks[c].source, int(s), int(e)): vec[i].round(5).tobytes()
            for i, (c, s, e) in enumerate(idx.rows.tolist())}
    chunks = {(c.source, c.start, c.end, c.text) for c in idx.chunks}
    return rows, chunks


@pytest.mark.parametrize("threshold", [100_000, 50])  # exact store, and the approximate one past its threshold
def test_update_equals_a_full_build_and_embeds_only_what_changed(settings, tmp_path, monkeypatch, threshold):
    """A new, a changed and a removed document: the in-place update gives the chunks, rows,
    vectors, BM25 scores and answers of a build from nothing, and embeds only the new and
    changed documents' rows."""
    import rag.embedders as emb
    from conftest import FakeEmbedder
    from rag.retrieve import make_retrievers, retrieve

    settings = settings.model_copy(update={"ann_threshold": threshold, "ann_nprobe": 4096})
    build_index(settings)
    seeds = settings.seeds_dir
    (seeds / "999_new.txt").write_text("Un article ajouté\nLe centre de Brest emploie 42 conseillers "
                                       "spécialisés dans la fibre optique.\n", encoding="utf-8")
    changed = seeds / "004_824c6bbdb88472a5.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("Webhelp", "Webaide"), encoding="utf-8")
    (seeds / "003_e5224338ae456596.txt").unlink()
    embedded = []

    class Counting(FakeEmbedder):
        def encode(self, texts):
            embedded.extend(texts)
            return super().encode(texts)

    monkeypatch.setattr(emb, "get_embedder", lambda name: Counting())
    messages = []
    build_index(settings, progress=messages.append)
    assert any("3 documents unchanged, 2 new or changed" in m for m in messages)
    updated = load_index(settings)
    sources = {c.source for c in updated.chunks}
    assert "999_new.txt" in sources and "003_e5224338ae456596.txt" not in sources
    new_rows = [i for i, (c, _, _) in enumerate(updated.rows.tolist())
                if updated.chunks[c].source in ("999_new.txt", changed.name)]
    rows_embedded = [t for t in embedded if " " in t]  # the rest are words new to the word table
    assert 0 < len(rows_embedded) <= len(new_rows) < len(updated.rows)
    assert {t for t in embedded if " " not in t} <= {"ajouté", "brest", "fibre", "optique", "spécialisés", "webaide"}
    assert list(updated.row_keys) == sorted(updated.row_keys)
    assert (np.diff(updated.rows[:, 0]) >= 0).all()  # rows stay in chunk order (span lookup bisects)

    full = settings.model_copy(update={"index_dir": tmp_path / "full" / "current"})
    build_index(full, full=True)
    scratch = load_index(full)
    assert _signature_of(updated) == _signature_of(scratch)
    assert updated.terms.words == scratch.terms.words and "webaide" in updated.terms.words
    assert updated.terms.counts.tolist() == scratch.terms.counts.tolist()
    assert np.allclose(updated.terms.vectors, scratch.terms.vectors, atol=1e-3)
    for q in ("Que propose Olivier Duha ?", "Combien de conseillers à Brest ?", "Webaide", "fibre optique"):
        a = updated.bm25.scores(q)
        b = scratch.bm25.scores(q)
        by_a = {(c.source, c.start): round(float(a[c.id]), 4) for c in updated.chunks}
        by_b = {(c.source, c.start): round(float(b[c.id]), 4) for c in scratch.chunks}
        assert by_a == by_b
        enc = {"fake": FakeEmbedder()}
        hits = [[(h.chunk.source, h.chunk.start) for h in
                 retrieve(make_retrievers(ix, ["bm25", "dense"], settings, enc), ix.chunks, q, k=5, rrf_k=5).hits]
                for ix in (updated, scratch)]
        if threshold > 1000:
            assert hits[0] == hits[1]
        else:  # quantised vectors: the updated store keeps the ranges it was trained with
            assert hits[0][0] == hits[1][0] and len(set(hits[0]) & set(hits[1])) >= 4


def test_removing_a_document_deletes_its_rows_from_the_vector_store(settings):
    build_index(settings)
    before = load_index(settings)
    gone = settings.seeds_dir / "002_4baedb1a5da3def7.txt"
    gone_keys = {int(k) for k, (c, _, _) in zip(before.row_keys, before.rows.tolist())
                 if before.chunks[c].source == gone.name}
    gone.unlink()
    build_index(settings)
    after = load_index(settings)
    store = after.dense["fake"][0]
    assert store.size == len(after.rows) == len(before.rows) - len(gone_keys)
    found = {int(k) for q in ("Olivier Duha", "première classe", "assises") for k in store.search(
        __import__("conftest").FakeEmbedder().encode([q])[0], 50)[1]}
    assert found and not found & gone_keys


def test_an_upgraded_encoder_package_re_embeds_by_itself(settings, monkeypatch):
    from importlib import metadata

    build_index(settings)
    m = read_manifest(settings.index_dir)
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda dist: "99.0" if dist == "sentence-transformers" else real(dist))
    assert "settings changed" in staleness(settings, m)


def test_build_refuses_a_folder_that_is_not_an_index(settings):
    folder = settings.index_dir
    folder.mkdir(parents=True)
    (folder / "notes.md").write_text("mine", encoding="utf-8")
    with pytest.raises(IndexError_, match="not an index folder"):
        build_index(settings)
    assert (folder / "notes.md").read_text(encoding="utf-8") == "mine"
    (folder / "notes.md").unlink()
    build_index(settings)  # an empty folder is fine
    build_index(settings, full=True)  # and so is an index being rebuilt
