"""The index on disk: chunks, dense rows per encoder (FAISS + vectors), BM25, and a manifest.

Layout of ``index_dir``::

    manifest.json        format version, settings signature, document hashes, file sizes and checksums
    chunks.jsonl, chunk-*   the chunks, read lazily (see ``chunkstore``)
    rows.npy             dense rows, int64 (n, 3): chunk id, start, end (one sentence, or a whole chunk)
    row-keys.npy         each row's stable key (ascending): the vector store's ids
    dense-<name>.faiss   FAISS index over the rows, one per encoder (ids: row keys)
    dense-<name>.<k>.npy the same unit vectors in immutable segments, memory-mapped at load
                         (evidence scoring reads a few rows), with row-vectors-<name>.npy
                         mapping rows to them (see ``rowvectors``)
    bm25/                term counts per chunk (sparse matrix) and the term list
    terms/               the documents' words with their vectors in the first encoder's space
                         (a question word the documents never use is searched by its closest
                         document words: see ``terms``)

An update reads, chunks and embeds only the documents that are new or changed; the chunks,
rows and vectors of removed or changed ones are deleted in place (FAISS ``remove_ids``, BM25
rows), the others keep their vectors. Every update writes to a temporary sibling directory
and renames it into place, so an interrupted one never leaves a half-written index.
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
from typing import Callable, Iterator, Sequence

import numpy as np

from . import chunkstore, rowvectors
from .articles import read_articles, seed_files, seed_stats
from .chunking import chunk_article
from .errors import CorruptIndexError, IndexError_, RagError, SeedsError, StaleIndexError
from .fileutil import sha256_file
from .records import Chunk
from .settings import Settings
from .text import sentence_spans

FORMAT_VERSION = 8
log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class IndexData:
    """Everything retrieval needs, loaded once per process."""

    chunks: Sequence[Chunk]  # a ChunkStore: chunks are parsed when asked for
    rows: np.ndarray  # (n_rows, 3) int: chunk id, start, end
    dense: dict  # encoder name -> (VectorStore, memory-mapped unit vectors)
    bm25: object | None
    manifest: dict
    path: Path
    row_keys: np.ndarray | None = None  # stable key of each row (ascending): the vector store's ids
    terms: object | None = None  # terms.TermTable (lexical and dense retrieval both on), else None


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-80:]


_sha_file = sha256_file


def seed_hashes(seeds_dir: Path, known: dict | None = None) -> dict[str, dict]:
    """sha256, size and mtime of each document (unreadable ones included, so fixing one rebuilds).
    A file whose size and mtime match ``known`` keeps its recorded hash: a start does not re-read
    every document of a large collection."""
    out = {}
    for name, st in seed_stats(seeds_dir):
        before = (known or {}).get(name)
        if isinstance(before, dict) and before.get("bytes") == st.st_size and before.get("mtime_ns") == st.st_mtime_ns:
            out[name] = before
        else:
            out[name] = {"sha256": _sha_file(seeds_dir / name), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    return out


def context_of(chunk: Chunk) -> str:
    """The header without the title: section, speaker, interview question."""
    return chunk.header.removeprefix(chunk.title).lstrip(" |")


def dense_rows(chunks: list[Chunk], *, with_headers: bool, chunk_rows: bool = False) -> tuple[np.ndarray, list[str]]:
    """One row for each sentence of a chunk (a chunk of one sentence is one row), plus, with
    ``chunk_rows``, one for the whole chunk.

    A chunk's dense score is the best of its rows: a long passage still matches a question
    about one of its sentences, and the evidence sentence of an answer has its own vector.
    """
    rows, texts = [], []
    for c in chunks:
        ctx = context_of(c) if with_headers else ""
        sents = sentence_spans(c.text, c.start, min_chars=20)
        if chunk_rows or len(sents) < 2:
            rows.append((c.id, c.start, c.end))
            texts.append(c.indexed_text if with_headers else c.text)
        if len(sents) > 1:
            for s, e in sents:
                rows.append((c.id, s, e))
                body = c.text[s - c.start:e - c.start]
                texts.append(f"{ctx} : {body}" if ctx else body)
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3), texts


def build_index(settings: Settings, *, progress: Progress | None = None, full: bool = False) -> tuple[Path, list[str]]:
    """Bring the index up to date with the documents and swap it in: only new or changed
    documents are read, chunked and embedded (``full``: everything, from nothing). Returns
    (path, warnings)."""
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    target = settings.index_dir
    _refuse_foreign(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target):
        prev = None if full else _previous(settings, say)
        return _build(settings, prev, target=target, say=say, t0=t0, bar=progress is not None)


_INDEX_FILES = ("manifest.json", "chunks.jsonl", "rows.npy", "bm25")


def _refuse_foreign(target: Path) -> None:
    """A build replaces the whole index folder: never one that holds something else (a folder
    of documents, a project folder given as ``--index`` by mistake)."""
    if target.is_dir() and any(target.iterdir()) and not any((target / f).exists() for f in _INDEX_FILES):
        raise IndexError_(f"{target} is not an index folder (no manifest.json) and is not empty: building "
                          f"would replace what it holds; give a new or empty folder with --index")


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


def _previous(settings: Settings, say: Progress) -> IndexData | None:
    """The index being replaced, when it was built the same way (else None: full build)."""
    d = settings.index_dir
    if not (d / "manifest.json").exists():
        return None
    try:
        manifest = read_manifest(d)
        if manifest.get("format_version") != FORMAT_VERSION or manifest.get("signature") != settings.index_signature():
            return None
        if set(settings.retriever_list) - set(manifest.get("retrievers", [])):
            return None
        return _load(settings, d, manifest, verify=False)
    except RagError as err:
        say(f"previous index unusable ({err}): building from nothing")
        return None


@dataclass
class _Plan:
    """What an update keeps of the previous index."""

    keep_chunk: np.ndarray  # bool per previous chunk
    new_id: np.ndarray  # previous chunk id -> new id (-1: dropped)
    keep_row: np.ndarray  # bool per previous row
    n_kept: int
    articles: dict  # manifest entries of the kept documents


def _plan(prev: IndexData | None, keep_sources: set[str]) -> _Plan:
    if prev is None:
        return _Plan(np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), 0, {})
    keep_chunk = prev.chunks.keep_mask(keep_sources)
    new_id = np.full(len(keep_chunk), -1, dtype=np.int64)
    new_id[keep_chunk] = np.arange(int(keep_chunk.sum()))
    articles = {k: v for k, v in prev.manifest["articles"].items() if k in keep_sources}
    return _Plan(keep_chunk, new_id, keep_chunk[prev.rows[:, 0]], int(keep_chunk.sum()), articles)


def _build(settings: Settings, prev: IndexData | None, *, target: Path, say: Progress, t0: float,
           bar: bool) -> tuple[Path, list[str]]:
    seeds = seed_hashes(settings.seeds_dir, known=prev.manifest.get("seeds") if prev else None)
    before = prev.manifest["articles"] if prev else {}
    keep_sources = {src for src, meta in before.items() if seeds.get(src, {}).get("sha256") == meta.get("sha256")}
    articles, warnings = read_articles([p for p in seed_files(settings.seeds_dir) if p.name not in keep_sources])
    for w in warnings:
        say(w)
    if not articles and not keep_sources:
        raise SeedsError(f"no usable document in {settings.seeds_dir}: " + "; ".join(warnings))
    plan = _plan(prev, keep_sources)
    fresh: list[Chunk] = []
    for a in articles:
        fresh.extend(chunk_article(a, settings.chunking, first_id=plan.n_kept + len(fresh)))
    n_chunks = plan.n_kept + len(fresh)
    say(f"{len(keep_sources)} documents unchanged, {len(articles)} new or changed, "
        f"{len(before) - len(keep_sources)} removed or changed -> {n_chunks} chunks" if prev
        else f"{len(articles)} articles -> {n_chunks} chunks")

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        chunkstore.write(tmp, previous=prev.chunks if prev else None, keep=plan.keep_chunk, new=fresh)
        chunks = chunkstore.ChunkStore.open(tmp)
        rows, keys, new_texts = _write_rows(settings, tmp, prev, plan, fresh)
        bm25 = _write_bm25(settings, tmp, prev, plan, chunks, fresh)
        _write_terms(settings, tmp, prev, plan, fresh)
        kinds, qdrant_collection, vector_files, linked = {}, None, {}, set()
        counter = int(prev.manifest.get("segment_counter", 0)) + 1 if prev else 0
        for name in settings.embedder_list if settings.needs_dense else []:
            files, same = rowvectors.write(
                tmp, name=_safe_name(name), previous=prev.dense[name][1] if prev else None,
                previous_files=_vector_files(prev.manifest, name) if prev else [], previous_dir=prev and prev.path,
                keep=plan.keep_row, n_new=len(new_texts), counter=counter,
                new=_embed(new_texts, name, bar=bar, workers=settings.embed_workers))
            vector_files[name], linked = files, linked | set(same)
            vecs = rowvectors.RowVectors.open(tmp, files, f"row-vectors-{_safe_name(name)}.npy")
            if settings.vector_store != "qdrant":
                kinds[name] = _update_store(settings, tmp / f"dense-{_safe_name(name)}.faiss", prev, name,
                                            plan.keep_row, vecs, keys, keys[len(keys) - len(new_texts):], say)
            elif qdrant_collection is None:  # one hybrid collection (first encoder + lexical)
                qdrant_collection = _update_qdrant(settings, tmp, prev, plan, chunks, rows, keys, vecs,
                                                   avg_len=float(bm25.lengths.mean()))
        # Qdrant's own storage has its own integrity and lock files: not checksummed here; vector
        # segments linked from the previous index keep the checksums it recorded
        files = {rel: prev.manifest["files"][rel] if rel in linked else
                 {"sha256": _sha_file(tmp / rel), "bytes": (tmp / rel).stat().st_size}
                 for rel in sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
                 if not rel.startswith("qdrant/")}
        per_source = Counter(c.source for c in fresh)
        manifest = {
            "format_version": FORMAT_VERSION,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "signature": settings.index_signature(),
            "retrievers": settings.retriever_list,
            "qdrant_collection": qdrant_collection,
            "dense_kinds": kinds,
            "vectors": vector_files,
            "segment_counter": counter,
            "articles": {**plan.articles, **{
                a.source: {"sha256": seeds[a.source]["sha256"], "title": a.title, "date": a.date,
                           "chunks": per_source[a.source], "pages": len(a.pages) or None, "chars": len(a.raw)}
                for a in articles}},
            "seeds": seeds,
            "skipped": warnings,
            "n_chunks": n_chunks,
            "n_rows": int(len(rows)),
            "next_row_key": _next_key(prev) + len(new_texts),
            "files": files,
            "build_seconds": round(time.perf_counter() - t0, 2),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))  # one line: 18k docs in 0.1 s
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"index {'updated' if prev else 'built'} in {time.perf_counter() - t0:.1f} s: {target}")
    return target, warnings


def _next_key(prev: IndexData | None) -> int:
    """Row keys are never reused: a key the previous index gave out stays retired."""
    return int(prev.manifest.get("next_row_key", 0)) if prev else 0


def _lexical(settings: Settings, chunks) -> list[str]:
    return [c.indexed_text if settings.context_headers else c.text for c in chunks]


def _write_rows(settings: Settings, tmp: Path, prev: IndexData | None, plan: _Plan,
                fresh: list[Chunk]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The kept rows (chunk ids renumbered), then the new chunks' rows under new keys; returns
    (rows, keys, texts of the new rows)."""
    new_rows, new_texts = dense_rows(fresh, with_headers=settings.context_headers, chunk_rows=settings.chunk_rows)
    first = _next_key(prev)
    new_keys = np.arange(first, first + len(new_rows), dtype=np.int64)
    if prev:
        old_rows = prev.rows[plan.keep_row].copy()
        old_rows[:, 0] = plan.new_id[old_rows[:, 0]]
        rows = np.vstack([old_rows, new_rows]) if len(new_rows) else old_rows
        keys = np.concatenate([prev.row_keys[plan.keep_row], new_keys])
    else:
        rows, keys = new_rows, new_keys
    np.save(tmp / "rows.npy", rows)
    np.save(tmp / "row-keys.npy", keys)
    return rows, keys, new_texts


def _write_bm25(settings: Settings, tmp: Path, prev: IndexData | None, plan: _Plan, chunks, fresh: list[Chunk]):
    """The previous BM25 with the dropped chunks' rows removed and the new ones added."""
    from .lexical import Bm25Index

    if not settings.needs_bm25:
        return None
    if prev is not None and prev.bm25 is not None:
        bm25 = prev.bm25.updated(plan.keep_chunk, _lexical(settings, fresh))
    else:
        bm25 = Bm25Index.build(_lexical(settings, chunks))
    bm25.save(tmp / "bm25")
    return bm25


def _write_terms(settings: Settings, tmp: Path, prev: IndexData | None, plan: _Plan, fresh: list[Chunk]) -> None:
    """The documents' words with their vectors (first encoder), updated: a removed chunk's words
    are discounted, only words new to the table are encoded. Only with lexical and dense
    retrieval both on (the words serve the lexical search, the vectors come from the encoder)."""
    from . import terms
    from .embedders import get_embedder

    if not (settings.needs_dense and settings.needs_bm25):
        return
    removed = [prev.chunks[int(i)].text for i in np.flatnonzero(~plan.keep_chunk)] if prev else []
    encoder = settings.embedder_list[0]
    table = terms.updated(prev.terms if prev else None, removed=removed, added=[c.text for c in fresh],
                          encode=lambda words: get_embedder(encoder).encode(words), max_words=terms.MAX_WORDS)
    table.save(tmp / "terms")


def _vector_files(manifest: dict, name: str) -> list[str]:
    """An encoder's vector segments (an index written before segments has one file)."""
    return (manifest.get("vectors") or {}).get(name) or [f"dense-{_safe_name(name)}.npy"]


def _update_store(settings: Settings, path: Path, prev: IndexData | None, name: str, keep_row: np.ndarray,
                  vecs: np.ndarray, keys: np.ndarray, new_keys: np.ndarray, say: Progress) -> dict:
    """The previous store with the dropped rows removed and the new ones added, in place; built
    anew when there is none, when the collection crosses ``ann_threshold``, or when an
    approximate index has grown to four times what it was trained on."""
    from .vectorstore import get_store

    backend = get_store(settings.vector_store)
    kind = "approximate" if len(vecs) > settings.ann_threshold else "exact"
    before = (prev.manifest.get("dense_kinds") or {}).get(name) if prev is not None else None
    store = prev.dense[name][0] if prev is not None else None
    fits = (store is not None and before and before.get("kind") == kind
            and (kind == "exact" or len(vecs) <= 4 * before.get("trained_on", 0)))
    if fits:
        store.remove(prev.row_keys[~keep_row])
        store.add(vecs[len(vecs) - len(new_keys):], new_keys)
        trained_on = before.get("trained_on", len(vecs))
    else:
        if store is not None:
            say(f"{name}: {kind} vector index built anew for {len(vecs)} rows")
        store = backend.build(vecs.array(), keys, ann_threshold=settings.ann_threshold, nprobe=settings.ann_nprobe)
        trained_on = len(vecs)
    store.save(path)
    return {"kind": kind, "trained_on": trained_on}


def _update_qdrant(settings: Settings, tmp: Path, prev: IndexData | None, plan: _Plan, chunks: Sequence[Chunk],
                   rows: np.ndarray, keys: np.ndarray, vecs: np.ndarray, *, avg_len: float) -> str:
    """Bring the Qdrant collection up to date: the points of removed or changed documents are
    deleted by source and the new chunks upserted (point id: the key of the chunk's first row,
    so a retried update writes the same points). Local mode updates a copy of the previous
    collection inside the new index folder; a server's collection is updated in place."""
    from . import qdrant_store

    url = settings.qdrant_url
    name = qdrant_store.collection_name(settings.index_signature(), url)
    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    incremental = prev is not None and prev.manifest.get("qdrant_collection") == name
    if incremental and not url:
        incremental = (prev.path / "qdrant").is_dir()
        if incremental:
            shutil.copytree(prev.path / "qdrant", tmp / "qdrant", ignore=shutil.ignore_patterns(".lock"))
    client = qdrant_store.open_collection(location=tmp / "qdrant", url=url, api_key=api_key, name=name,
                                          dim=int(vecs.shape[1]), fresh=not incremental)
    first = plan.n_kept if incremental else 0
    try:
        with qdrant_store.reachable(url):
            if incremental:
                for source in sorted(set(prev.manifest["articles"]) - set(plan.articles)):
                    qdrant_store.delete_source(client, name, source)
            todo = chunks[first:]
            qdrant_store.upsert(client, name, chunks=todo, rows=rows, keys=keys, vectors=vecs,
                                texts=_lexical(settings, todo), avg_len=avg_len)
            n = qdrant_store.count(client, name)
    finally:
        client.close()
    if n != len(chunks):
        raise CorruptIndexError(f"the Qdrant collection {name} holds {n} points for {len(chunks)} chunks; "
                                "run `rag index --rebuild`")
    return name


def _embed(texts: list[str], name: str, *, bar: bool, workers: int, batch: int = 128) -> Iterator[np.ndarray]:
    """The texts' unit vectors, batch by batch (the encoder is loaded only when there is
    something to embed; a large job is shared by worker processes)."""
    from tqdm import tqdm

    from .embedders import bulk_workers, encode_batches

    if not texts:
        return
    n = bulk_workers(name, len(texts), workers)
    batches = (texts[i:i + batch] for i in range(0, len(texts), batch))
    yield from tqdm(encode_batches(name, batches, workers=n), total=-(-len(texts) // batch),
                    desc=f"embedding ({name})", unit="batch", disable=not bar)


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
    d = settings.index_dir
    manifest = read_manifest(d)
    why = staleness(settings, manifest)
    if why:
        raise StaleIndexError(f"index at {d} is stale: {why}; run `rag index`")
    return _load(settings, d, manifest, verify=verify)


def _load(settings: Settings, d: Path, manifest: dict, *, verify: bool) -> IndexData:
    from .lexical import Bm25Index
    from .terms import TermTable
    from .vectorstore import get_store

    fix = "run `rag index --rebuild`"
    verify_files(d, manifest, full=verify)
    try:
        chunks = chunkstore.ChunkStore.open(d)
        rows = np.load(d / "rows.npy").reshape(-1, 3)
        keys = np.load(d / "row-keys.npy")
        dense = {}
        if settings.needs_dense:
            for name in settings.embedder_list:
                stem = d / f"dense-{_safe_name(name)}"
                store = (None if settings.vector_store == "qdrant"  # searched through the qdrant retriever
                         else get_store(settings.vector_store).load(stem.with_suffix(".faiss")))
                if store is not None and hasattr(store, "set_nprobe"):
                    store.set_nprobe(settings.ann_nprobe)
                files = _vector_files(manifest, name)
                if (d / f"row-vectors-{_safe_name(name)}.npy").exists():
                    vectors = rowvectors.RowVectors.open(d, files, f"row-vectors-{_safe_name(name)}.npy")
                else:  # one segment, rows in order
                    seg = np.load(d / files[0], mmap_mode="r")
                    vectors = rowvectors.RowVectors([seg], np.arange(len(seg), dtype=np.int64))
                dense[name] = (store, vectors)
        bm25 = Bm25Index.load(d / "bm25") if settings.needs_bm25 else None
        table = TermTable.load(d / "terms") if (d / "terms" / "words.json").exists() else None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise CorruptIndexError(f"index at {d} is unreadable ({type(err).__name__}: {err}); {fix}") from None
    if len(chunks) != manifest.get("n_chunks") or len(rows) != manifest.get("n_rows") or len(keys) != len(rows):
        raise CorruptIndexError(f"index at {d} does not match its manifest; {fix}")
    return IndexData(chunks=chunks, rows=rows, dense=dense, bm25=bm25, manifest=manifest, path=d, row_keys=keys,
                     terms=table)


def ensure_index(settings: Settings, *, progress: Progress | None = None) -> IndexData:
    """Load the index, building or updating it first when missing or stale (saying why)."""
    say = progress or (lambda msg: None)
    d = settings.index_dir
    if not (d / "manifest.json").exists():
        say(f"no index at {d}: building it")
        build_index(settings, progress=progress)
    else:
        manifest = read_manifest(d)
        why = staleness(settings, manifest)
        if not why:
            return _load(settings, d, manifest, verify=False)
        say(f"updating the index: {why}")
        build_index(settings, progress=progress)
    return load_index(settings)
