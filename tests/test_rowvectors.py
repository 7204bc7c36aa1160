"""Vector segments: kept vectors are linked, not copied; garbage is compacted away."""

import numpy as np

from rag import rowvectors


def _unit(n, d=8, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _write(directory, previous, files, keep, new, counter, prev_dir=None):
    directory.mkdir(parents=True, exist_ok=True)
    out, linked = rowvectors.write(directory, name="t", previous=previous, previous_files=files,
                                   previous_dir=prev_dir, keep=keep, n_new=len(new),
                                   new=iter([new[i:i + 3] for i in range(0, len(new), 3)]), counter=counter)
    return rowvectors.RowVectors.open(directory, out, "row-vectors-t.npy"), out, linked


def test_an_update_links_the_kept_segments_and_appends_one(tmp_path):
    a, b = _unit(10), _unit(4, seed=1)
    v0, files0, _ = _write(tmp_path / "v0", None, [], np.zeros(0, bool), a, 0)
    keep = np.ones(10, bool)
    keep[[2, 3]] = False
    v1, files1, linked = _write(tmp_path / "v1", v0, files0, keep, b, 1, prev_dir=tmp_path / "v0")
    assert linked == files0 and files1 == files0 + ["dense-t.1.npy"]
    assert (tmp_path / "v1" / files0[0]).stat().st_ino == (tmp_path / "v0" / files0[0]).stat().st_ino
    expected = np.vstack([a[keep], b])
    assert v1.shape == expected.shape and np.allclose(v1[:], expected)
    assert np.allclose(v1[9], b[1]) and np.allclose(v1[np.array([0, 8])], expected[[0, 8]])
    assert np.allclose(v0[:], a)  # the previous index still reads its own vectors


def test_segments_are_compacted_once_most_of_what_they_hold_is_removed(tmp_path):
    a = _unit(10)
    v0, files0, _ = _write(tmp_path / "v0", None, [], np.zeros(0, bool), a, 0)
    keep = np.zeros(10, bool)
    keep[[1, 7]] = True
    v1, files1, linked = _write(tmp_path / "v1", v0, files0, keep, _unit(1, seed=2), 1, prev_dir=tmp_path / "v0")
    assert linked == [] and files1 == ["dense-t.1.npy"] and v1.stored == 3
    assert np.allclose(v1[:2], a[[1, 7]])


def test_a_fresh_build_hands_its_mapped_vectors_over_without_a_copy(tmp_path):
    a, b = _unit(10), _unit(4, seed=1)
    v0, files0, _ = _write(tmp_path / "v0", None, [], np.zeros(0, bool), a, 0)
    whole = v0.array()
    assert isinstance(whole, np.memmap) and np.allclose(whole, a)
    keep = np.ones(10, bool)
    keep[4] = False
    v1, _, _ = _write(tmp_path / "v1", v0, files0, keep, b, 1, prev_dir=tmp_path / "v0")
    copied = v1.array()  # two segments, one row dropped: gathered into one array
    assert not isinstance(copied, np.memmap) and np.allclose(copied, np.vstack([a[keep], b]))
