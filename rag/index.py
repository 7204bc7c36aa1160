"""The index on disk: chunks, dense rows per encoder (FAISS + vectors), BM25, and a manifest.

Layout of ``index_dir``::

    manifest.json        format version, settings signature, document hashes, file sizes and checksums
    chunks.jsonl         one Chunk per line
    rows.npy             dense rows, int64 (n, 3): chunk id, start, end (a whole chunk or one sentence)
    dense-<name>.faiss   FAISS index over the rows, one per encoder
    dense-<name>.npy     the same unit vectors, memory-mapped at load (evidence scoring reads a few rows)
    bm25/                bm25s index over chunks

A build writes to a temporary sibling directory and renames it into place, so an interrupted
build never leaves a half-written index.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .articles import load_articles, seed_files
from .chunking import chunk_articles
from .errors import CorruptIndexError, RagError, SeedsError, StaleIndexError
from .fileutil import sha256_file
from .records import Chunk
from .settings import Settings
from .text import sentence_spans

FORMAT_VERSION = 5
log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class IndexData:
    """Everything retrieval needs, loaded once per process."""

    chunks: list[Chunk]
    rows: np.ndarray  # (n_rows, 3) int: chunk id, start, end
    dense: dict  # encoder name -> (VectorStore, memory-mapped unit vectors)
    bm25: object | None
    manifest: dict
    path: Path


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-80:]


_sha_file = sha256_file


def seed_hashes(seeds_dir: Path, known: dict | None = None) -> dict[str, dict]:
    """sha256, size and mtime of each document (unreadable ones included, so fixing one rebuilds).
    A file whose size and mtime match ``known`` keeps its recorded hash: a start does not re-read
    every document of a large collection."""
    out = {}
    for p in seed_files(seeds_dir):
        st = p.stat()
        before = (known or {}).get(p.name)
        if isinstance(before, dict) and before.get("bytes") == st.st_size and before.get("mtime_ns") == st.st_mtime_ns:
            out[p.name] = before
        else:
            out[p.name] = {"sha256": _sha_file(p), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    return out


def context_of(chunk: Chunk) -> str:
    """The header without the title: section, speaker, interview question."""
    return chunk.header.removeprefix(chunk.title).lstrip(" |")


def dense_rows(chunks: list[Chunk], *, with_headers: bool) -> tuple[np.ndarray, list[str]]:
    """One row for each chunk (header + text) and one for each of its sentences.

    A chunk's dense score is the best of its rows: a long passage still matches a
    question about one of its sentences.
    """
    rows, texts = [], []
    for c in chunks:
        ctx = context_of(c) if with_headers else ""
        rows.append((c.id, c.start, c.end))
        texts.append(c.indexed_text if with_headers else c.text)
        sents = sentence_spans(c.text, c.start, min_chars=20)
        if len(sents) > 1:
            for s, e in sents:
                rows.append((c.id, s, e))
                body = c.text[s - c.start:e - c.start]
                texts.append(f"{ctx} : {body}" if ctx else body)
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3), texts


def build_index(settings: Settings, *, progress: Progress | None = None) -> tuple[Path, list[str]]:
    """Build the index into a temp dir and swap it in (rows of unchanged documents keep their
    vectors from the index it replaces). Returns (path, warnings)."""
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    articles, warnings = load_articles(settings.seeds_dir)
    for w in warnings:
        say(w)
    chunks = chunk_articles(articles, settings.chunking)
    say(f"{len(articles)} articles -> {len(chunks)} chunks")
    target = settings.index_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target):
        return _build(settings, articles, chunks, warnings, target=target, say=say, t0=t0,
                      bar=progress is not None)


@contextlib.contextmanager
def _build_lock(target: Path):
    """One build of an index at a time; under the lock, build directories left by a killed
    build are removed."""
    import fcntl

    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for left in target.parent.glob(f".{target.name}.building-*"):
            shutil.rmtree(left, ignore_errors=True)
        for left in target.parent.glob(f".{target.name}.old-*"):
            shutil.rmtree(left, ignore_errors=True)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(settings: Settings, articles: list, chunks: list[Chunk], warnings: list[str], *, target: Path,
           say: Progress, t0: float, bar: bool) -> tuple[Path, list[str]]:
    from .lexical import Bm25Index
    from .vectorstore import get_store

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        rows, texts = dense_rows(chunks, with_headers=settings.context_headers)
        np.save(tmp / "rows.npy", rows)
        lexical = [c.indexed_text if settings.context_headers else c.text for c in chunks]
        if settings.needs_bm25:
            Bm25Index.build(lexical).save(tmp / "bm25")
        qdrant_collection = None
        if settings.needs_dense:
            before = _previous_texts(settings)  # read once, whatever the number of encoders
            for name in settings.embedder_list:
                vecs = _embed(texts, name, reuse=_previous_vectors(settings, before, name), say=say, bar=bar)
                np.save(tmp / f"dense-{_safe_name(name)}.npy", vecs)
                if settings.vector_store == "qdrant":  # one hybrid collection (first encoder + lexical)
                    if qdrant_collection is None:
                        qdrant_collection = _build_qdrant(settings, tmp, chunks, rows, vecs, lexical)
                else:
                    get_store(settings.vector_store).build(vecs, hnsw_threshold=settings.hnsw_threshold).save(
                        tmp / f"dense-{_safe_name(name)}.faiss")
        # Qdrant's own storage has its own integrity and lock files: not checksummed here
        files = {str(p.relative_to(tmp)): {"sha256": _sha_file(p), "bytes": p.stat().st_size}
                 for p in sorted(tmp.rglob("*")) if p.is_file() and p.relative_to(tmp).parts[0] != "qdrant"}
        seeds = seed_hashes(settings.seeds_dir)
        per_source = Counter(c.source for c in chunks)
        manifest = {
            "format_version": FORMAT_VERSION,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "signature": settings.index_signature(),
            "retrievers": settings.retriever_list,
            "qdrant_collection": qdrant_collection,
            "articles": {a.source: {"sha256": seeds[a.source]["sha256"], "title": a.title,
                                    "date": a.date, "chunks": per_source[a.source],
                                    "pages": len(a.pages) or None, "chars": len(a.raw)} for a in articles},
            "seeds": seeds,
            "skipped": warnings,
            "n_chunks": len(chunks),
            "n_rows": int(len(rows)),
            "files": files,
            "build_seconds": round(time.perf_counter() - t0, 2),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"index built in {time.perf_counter() - t0:.1f} s: {target}")
    return target, warnings


def _build_qdrant(settings: Settings, tmp: Path, chunks: list[Chunk], rows: np.ndarray, vecs: np.ndarray,
                  lexical: list[str]) -> str:
    from . import qdrant_store

    name = qdrant_store.collection_name(settings.index_signature(), settings.qdrant_url)
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    qdrant_store.build(location=tmp / "qdrant", url=settings.qdrant_url, api_key=key, name=name, chunks=chunks,
                       rows=rows, vectors=vecs, texts=lexical)
    return name


def _previous_texts(settings: Settings) -> list[str] | None:
    """Row texts of the index being replaced, when it was built the same way (else None): with
    its vectors, only new or changed documents are embedded again."""
    d = settings.index_dir
    try:
        manifest = read_manifest(d)
        if manifest.get("format_version") != FORMAT_VERSION or manifest.get("signature") != settings.index_signature():
            return None
        chunks = [Chunk.from_dict(json.loads(line)) for line in
                  (d / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        return dense_rows(chunks, with_headers=settings.context_headers)[1]
    except (RagError, OSError, ValueError, KeyError, TypeError):
        return None


def _previous_vectors(settings: Settings, texts: list[str] | None, name: str) -> dict[str, np.ndarray]:
    """Text → vector of one encoder in the index being replaced ({} when unusable)."""
    if texts is None:
        return {}
    try:
        vecs = np.load(settings.index_dir / f"dense-{_safe_name(name)}.npy", mmap_mode="r")
    except (OSError, ValueError):
        return {}
    return dict(zip(texts, vecs)) if len(vecs) == len(texts) else {}


def _embed(texts: list[str], name: str, *, reuse: dict, say: Progress, bar: bool) -> np.ndarray:
    from tqdm import tqdm

    from .embedders import get_embedder

    todo = list(dict.fromkeys(t for t in texts if t not in reuse))
    if reuse:
        say(f"{name}: {len(texts) - len(todo)} rows reused from the previous index, {len(todo)} to embed")
    new: dict[str, np.ndarray] = {}
    if todo:
        enc = get_embedder(name)
        batches = [todo[i:i + 64] for i in range(0, len(todo), 64)]
        for b in tqdm(batches, desc=f"embedding ({name})", unit="batch", disable=not bar):
            new.update(zip(b, enc.encode(b)))
    return np.vstack([np.asarray(new[t] if t in new else reuse[t], dtype=np.float32) for t in texts])


def _swap_into_place(tmp: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(index_dir: Path) -> dict:
    path = index_dir / "manifest.json"
    if not path.exists():
        raise CorruptIndexError(f"no index at {index_dir} (manifest.json missing): run `rag index`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CorruptIndexError(f"index manifest {path} is unreadable ({err}): "
                                "run `rag index --rebuild`") from None


def staleness(settings: Settings, manifest: dict) -> str | None:
    """Why the index no longer matches the seeds or the settings, or None if it does."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"index format {manifest.get('format_version')} != {FORMAT_VERSION}"
    if manifest.get("signature") != settings.index_signature():
        return "chunking or embedder settings changed"
    if set(settings.retriever_list) - set(manifest.get("retrievers", [])):
        return "retrievers changed"
    before = manifest.get("seeds", {})
    try:
        now = seed_hashes(settings.seeds_dir, known=before)
    except SeedsError:
        return None  # no seeds here: use the index as built
    added, removed = set(now) - set(before), set(before) - set(now)
    changed = {k for k in set(now) & set(before) if now[k]["sha256"] != before[k].get("sha256")}
    if added or removed or changed:
        parts = [f"{label}: {', '.join(sorted(s))}" for label, s in
                 (("new", added), ("removed", removed), ("changed", changed)) if s]
        return "seeds changed (" + "; ".join(parts) + ")"
    return None


SMALL_FILE = 4 << 20  # files under 4 MB are hashed at every load; larger ones by `rag index --verify`


def verify_files(index_dir: Path, manifest: dict, *, full: bool) -> None:
    """Every file of the manifest exists with its size; small files (or all, ``full``) also match
    their sha256. Raises CorruptIndexError naming the file and the fix."""
    fix = "run `rag index --rebuild`"
    for rel, meta in manifest.get("files", {}).items():
        p = index_dir / rel
        if not p.is_file():
            raise CorruptIndexError(f"index file missing: {p}; {fix}")
        if p.stat().st_size != meta.get("bytes"):
            raise CorruptIndexError(f"index file corrupt (size mismatch): {p}; {fix}")
        if (full or meta["bytes"] < SMALL_FILE) and _sha_file(p) != meta.get("sha256"):
            raise CorruptIndexError(f"index file corrupt (checksum mismatch): {p}; {fix}")


def load_index(settings: Settings, *, verify: bool = False) -> IndexData:
    """Load the index: sizes of every file and checksums of the small ones are checked (``verify``:
    every checksum). Vectors are memory-mapped, not copied: FAISS holds the searchable copy."""
    from .lexical import Bm25Index
    from .vectorstore import get_store

    d = settings.index_dir
    manifest = read_manifest(d)
    why = staleness(settings, manifest)
    if why:
        raise StaleIndexError(f"index at {d} is stale: {why}; run `rag index`")
    fix = "run `rag index --rebuild`"
    verify_files(d, manifest, full=verify)
    try:
        chunks = [Chunk.from_dict(json.loads(line)) for line in
                  (d / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = np.load(d / "rows.npy").reshape(-1, 3)
        dense = {}
        if settings.needs_dense:
            for name in settings.embedder_list:
                stem = d / f"dense-{_safe_name(name)}"
                store = (None if settings.vector_store == "qdrant"  # searched through the qdrant retriever
                         else get_store(settings.vector_store).load(stem.with_suffix(".faiss")))
                dense[name] = (store, np.load(stem.with_suffix(".npy"), mmap_mode="r"))
        bm25 = Bm25Index.load(d / "bm25") if settings.needs_bm25 else None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise CorruptIndexError(f"index at {d} is unreadable ({type(err).__name__}: {err}); {fix}") from None
    if len(chunks) != manifest.get("n_chunks") or len(rows) != manifest.get("n_rows"):
        raise CorruptIndexError(f"index at {d} does not match its manifest; {fix}")
    return IndexData(chunks=chunks, rows=rows, dense=dense, bm25=bm25, manifest=manifest, path=d)


def ensure_index(settings: Settings, *, progress: Progress | None = None) -> IndexData:
    """Load the index, building it first when missing or stale (saying why)."""
    say = progress or (lambda msg: None)
    manifest_path = settings.index_dir / "manifest.json"
    if not manifest_path.exists():
        say(f"no index at {settings.index_dir}: building it")
        build_index(settings, progress=progress)
    else:
        why = staleness(settings, read_manifest(settings.index_dir))
        if why:
            say(f"rebuilding the index: {why}")
            build_index(settings, progress=progress)
    return load_index(settings)

