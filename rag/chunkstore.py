"""The chunks of an index on disk, read lazily.

    chunks.jsonl         one chunk per line, as JSON (no id: a chunk's id is its line number)
    chunk-offsets.npy    int64 (n + 1,): byte offset of each line, and the file's length
    chunk-sources.npy    int32 (n,): each chunk's document, as an index into chunk-sources.json
    chunk-sources.json   the documents' names

Opening maps the file and loads the two arrays, nothing else: a chunk is parsed when it is
asked for (an answer asks for a handful), so a million chunks open in milliseconds and cost no
memory until read. An update copies the lines of the chunks it keeps byte for byte and appends
the new ones: their ids become their new line numbers, with nothing to rewrite.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .records import Chunk

FILES = ("chunks.jsonl", "chunk-offsets.npy", "chunk-sources.npy", "chunk-sources.json")


class ChunkStore(Sequence):
    """A read-only sequence of Chunks (``store[i].id == i``) backed by the files above."""

    def __init__(self, data: bytes | mmap.mmap, offsets: np.ndarray, source_ids: np.ndarray, sources: list[str]):
        self._data = data
        self.offsets = offsets
        self.source_ids = source_ids
        self.sources = sources
        self._cache: dict[int, Chunk] = {}

    @classmethod
    def open(cls, directory: Path) -> "ChunkStore":
        """Raises OSError/ValueError when a file is missing, unreadable or inconsistent."""
        offsets = np.load(directory / "chunk-offsets.npy")
        source_ids = np.load(directory / "chunk-sources.npy")
        sources = json.loads((directory / "chunk-sources.json").read_text(encoding="utf-8"))
        path = directory / "chunks.jsonl"
        size = path.stat().st_size
        if len(offsets) != len(source_ids) + 1 or (len(offsets) and offsets[-1] != size) or \
                (len(source_ids) and int(source_ids.max()) >= len(sources)):
            raise ValueError(f"chunk files in {directory} disagree")
        if size:
            with path.open("rb") as f:
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        else:
            data = b""
        return cls(data, offsets, source_ids, sources)

    def __len__(self) -> int:
        return len(self.source_ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"chunk {i} out of range")
        chunk = self._cache.get(i)
        if chunk is None:
            d = json.loads(self._data[self.offsets[i]:self.offsets[i + 1]])
            chunk = Chunk.from_dict({**d, "id": i})
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[i] = chunk
        return chunk

    def source(self, i: int) -> str:
        return self.sources[self.source_ids[i]]

    def keep_mask(self, sources: set[str]) -> np.ndarray:
        """Per chunk: is its document in ``sources``?"""
        wanted = np.array([s in sources for s in self.sources], dtype=bool)
        return wanted[self.source_ids] if len(self.sources) else np.zeros(len(self), dtype=bool)

    def raw(self, start: int, stop: int) -> bytes:
        """The lines of chunks start..stop-1, as stored."""
        return bytes(self._data[self.offsets[start]:self.offsets[stop]])


def write(directory: Path, *, previous: ChunkStore | None, keep: np.ndarray | None, new: list[Chunk]) -> None:
    """The kept chunks of ``previous`` (in order, copied as stored), then ``new``."""
    offsets, source_ids, sources, index_of = [0], [], [], {}

    def source_id(name: str) -> int:
        if name not in index_of:
            index_of[name] = len(sources)
            sources.append(name)
        return index_of[name]

    with (directory / "chunks.jsonl").open("wb") as f:
        if previous is not None and keep is not None and keep.any():
            kept = np.flatnonzero(keep)
            lengths = previous.offsets[kept + 1] - previous.offsets[kept]
            # contiguous runs of kept chunks are copied in one slice each
            breaks = np.flatnonzero(np.diff(kept) != 1) + 1
            for run in np.split(kept, breaks):
                f.write(previous.raw(int(run[0]), int(run[-1]) + 1))
            offsets.extend(np.cumsum(lengths).tolist())
            remap = np.zeros(len(previous.sources), dtype=np.int32)
            for old in np.unique(previous.source_ids[kept]).tolist():
                remap[old] = source_id(previous.sources[old])
            source_ids.extend(remap[previous.source_ids[kept]].tolist())
        for c in new:
            d = c.to_dict()
            del d["id"]
            line = (json.dumps(d, ensure_ascii=False) + "\n").encode("utf-8")
            f.write(line)
            offsets.append(offsets[-1] + len(line))
            source_ids.append(source_id(c.source))
    np.save(directory / "chunk-offsets.npy", np.asarray(offsets, dtype=np.int64))
    np.save(directory / "chunk-sources.npy", np.asarray(source_ids, dtype=np.int32))
    (directory / "chunk-sources.json").write_text(json.dumps(sources, ensure_ascii=False), encoding="utf-8")
