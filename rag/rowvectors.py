"""The unit vectors of an index's rows, in immutable segment files.

An update never rewrites the vectors it keeps: the previous segments are hard-linked into the
new index folder (no copy; the previous index keeps its own links, so it stays usable until
the swap), the new rows' vectors go into one new segment, and ``row-vectors-<name>.npy`` maps
each row to its vector's position in the segments laid end to end. Vectors of removed rows stay
in their segment, unreferenced, until the segments are compacted into one: when they are more
than half of what is stored, or there are more than ``MAX_SEGMENTS`` segments.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np

MAX_SEGMENTS = 12


class RowVectors:
    """``vectors[i]`` is row i's unit vector (i: an int, a slice or an integer array)."""

    def __init__(self, segments: list[np.ndarray], positions: np.ndarray):
        self.segments = segments  # memory-mapped (n_k, dim) float32 arrays
        self.starts = np.cumsum([0] + [len(s) for s in segments])
        self.positions = positions  # row -> position in the segments laid end to end
        self.dim = segments[0].shape[1] if segments else 0

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.positions), self.dim

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def stored(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            p = int(self.positions[i])
            k = int(np.searchsorted(self.starts, p, side="right")) - 1
            return np.asarray(self.segments[k][p - self.starts[k]])
        pos = self.positions[i]
        out = np.empty((len(pos), self.dim), dtype=np.float32)
        seg = np.searchsorted(self.starts, pos, side="right") - 1
        for k in np.unique(seg).tolist():
            sel = seg == k
            out[sel] = self.segments[k][pos[sel] - self.starts[k]]
        return out

    def array(self) -> np.ndarray:
        """Every row's vector as one array: the memory-mapped segment itself when it holds exactly
        the rows in order (a fresh build: no copy of the vectors in memory), else a copy."""
        if (len(self.segments) == 1 and len(self.segments[0]) == len(self.positions)
                and np.array_equal(self.positions, np.arange(len(self.positions)))):
            return self.segments[0]
        return self[:]

    @classmethod
    def open(cls, directory: Path, files: list[str], positions_file: str) -> "RowVectors":
        segments = [np.load(directory / f, mmap_mode="r") for f in files]
        positions = np.load(directory / positions_file)
        if len(positions) and (positions.min() < 0 or positions.max() >= sum(len(s) for s in segments)):
            raise ValueError(f"{positions_file} points past its vector segments")
        return cls(segments, positions)


def write(directory: Path, *, name: str, previous: RowVectors | None, previous_files: list[str],
          previous_dir: Path | None, keep: np.ndarray, n_new: int, new: Iterator[np.ndarray],
          counter: int) -> tuple[list[str], list[str]]:
    """Write the vectors of the kept rows (``keep``: per previous row) then of ``n_new`` new
    rows (``new``: batches) into ``directory``. Returns (segment files, those linked unchanged
    from ``previous_dir``); ``counter`` numbers the new segment file."""
    kept = np.flatnonzero(keep) if previous is not None else np.zeros(0, dtype=np.int64)
    stored = previous.stored if previous is not None else 0
    compact = previous is not None and (len(previous_files) >= MAX_SEGMENTS or len(kept) < stored / 2)
    files, linked, positions = [], [], []
    if previous is not None and not compact:
        for f in previous_files:
            _link(previous_dir / f, directory / f)
        files, linked = list(previous_files), list(previous_files)
        positions.append(previous.positions[kept])
        at = stored
    else:
        at = 0
    first = next(new, None)
    dim = first.shape[1] if first is not None else (previous.dim if previous is not None else 0)
    n_seg = n_new + (len(kept) if compact else 0)
    if n_seg:
        seg = f"dense-{name}.{counter}.npy"
        out = np.lib.format.open_memmap(directory / seg, mode="w+", dtype=np.float32, shape=(n_seg, dim))
        i = 0
        if compact:
            for b in range(0, len(kept), 1 << 16):
                block = kept[b:b + (1 << 16)]
                out[i:i + len(block)] = previous[block]
                i += len(block)
        for batch in ([] if first is None else _chain(first, new)):
            out[i:i + len(batch)] = batch
            i += len(batch)
        out.flush()
        del out
        files.append(seg)
        positions.append(np.arange(at, at + n_seg, dtype=np.int64))
    np.save(directory / f"row-vectors-{name}.npy",
            np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64))
    return files, linked


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


def _link(src: Path, dst: Path) -> None:
    """A hard link (instant, no space); a copy where the file system has none."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
