
import pytest

from rag.errors import CorruptIndexError, StaleIndexError
from rag.index import build_index, ensure_index, load_index, read_manifest, staleness


def test_build_and_load_round_trip(settings):
    path, warnings = build_index(settings)
    assert warnings == []
    m = read_manifest(path)
    assert m["format_version"] and m["signature"]["embedders"] == ["fake"]
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
    assert any("rebuilding" in m for m in messages)
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
    vec = settings.index_dir / "dense-fake.npy"
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
