"""The lazy chunk store: ids are line numbers, kept lines are copied as stored."""

import numpy as np
import pytest

from rag import chunkstore
from rag.records import Chunk


def _chunk(i, source, text="Un texte."):
    return Chunk(id=i, source=source, title=f"Titre {source}", date=None, start=10 * i, end=10 * i + len(text),
                 text=text, header="", page=1 if source.endswith(".pdf") else None,
                 page_starts=(3,) if source.endswith(".pdf") else ())


def test_round_trip_and_lazy_reads(tmp_path):
    chunks = [_chunk(0, "a.txt", "Élan « cité »."), _chunk(1, "b.pdf"), _chunk(2, "a.txt")]
    chunkstore.write(tmp_path, previous=None, keep=None, new=chunks)
    store = chunkstore.ChunkStore.open(tmp_path)
    assert len(store) == 3 and list(store) == chunks and store[-1] == chunks[2]
    assert store[1].page_starts == (3,) and store.source(2) == "a.txt"
    assert list(store.keep_mask({"a.txt"})) == [True, False, True]
    with pytest.raises(IndexError):
        store[3]


def test_an_update_keeps_lines_byte_for_byte_and_renumbers_by_position(tmp_path):
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir(), new_dir.mkdir()
    chunks = [_chunk(i, f"{'abc'[i % 3]}.txt", f"Texte {i}.") for i in range(9)]
    chunkstore.write(old_dir, previous=None, keep=None, new=chunks)
    old = chunkstore.ChunkStore.open(old_dir)
    keep = old.keep_mask({"a.txt", "c.txt"})
    chunkstore.write(new_dir, previous=old, keep=keep, new=[_chunk(99, "d.txt", "Nouveau.")])
    new = chunkstore.ChunkStore.open(new_dir)
    kept = [c for c, k in zip(chunks, keep) if k]
    assert [(c.source, c.text) for c in new] == [(c.source, c.text) for c in kept] + [("d.txt", "Nouveau.")]
    assert [c.id for c in new] == list(range(len(new)))
    assert new.raw(0, len(kept)) == b"".join(old.raw(i, i + 1) for i in np.flatnonzero(keep))
    assert new.sources == ["a.txt", "c.txt", "d.txt"]  # removed documents leave no name behind


def test_inconsistent_files_are_refused(tmp_path):
    chunkstore.write(tmp_path, previous=None, keep=None, new=[_chunk(0, "a.txt")])
    np.save(tmp_path / "chunk-offsets.npy", np.array([0, 5], dtype=np.int64))
    with pytest.raises(ValueError, match="disagree"):
        chunkstore.ChunkStore.open(tmp_path)
