"""Scale benchmark (reported, never asserted).

    .venv/bin/python scripts/bench_scale.py --articles 1000 [--store faiss|qdrant] [--cold-ask] [--out FILE]
        [--keep | --existing FOLDER]

Makes a synthetic collection from the seed paragraphs (each article: a magazine header and
paragraphs drawn at random from the five seeds, fixed seed, each sentence tagged with its
article's number so that no text is embedded once for many articles), indexes it and measures, like the
table of issue 8: chunks, dense rows, build time and chunks/s, index size on disk, load time
(new process), retrieval p50/p95 over the held-out questions, recall@10 of the approximate
vector index against exact search (rows, and chunks as retrieval ranks them), peak memory of a
process that loads the index and retrieves (no LLM; its memory before loading the index is
given apart), the time to add then delete one article (incremental update, the way a user
triggers it), and, with ``--cold-ask``, the wall time of a cold ``rag ask`` (default model)
on this collection and on the five seed articles.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.embedders import get_embedder  # noqa: E402
from rag.index import build_index, read_manifest  # noqa: E402
from rag.settings import Settings  # noqa: E402

PROBE = r"""
import json, resource, statistics, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
from rag.settings import Settings
from rag.pipeline import Pipeline
from rag.retrieve import retrieve
from rag.embedders import get_embedder
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
s = Settings(seeds_dir=sys.argv[2], index_dir=sys.argv[3], vector_store=sys.argv[4])
encoders = {n: get_embedder(n) for n in s.embedder_list}
for enc in encoders.values():
    enc.encode(["warm up"])
before_index_mb = rss_mb()
t1 = time.perf_counter()
pipe = Pipeline(s, llm=object(), encoders=encoders)
retrievers = pipe.retrievers(pipe.index)
load_s = time.perf_counter() - t1
index_mb = rss_mb() - before_index_mb
qs = [json.loads(x)["question"] for x in open(sys.argv[5], encoding="utf-8") if x.strip()]
retrieve(retrievers, pipe.index.chunks, qs[0], k=5, rrf_k=s.rrf_k)
times = []
for q in qs:
    t = time.perf_counter()
    retrieve(retrievers, pipe.index.chunks, q, k=5, rrf_k=s.rrf_k)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
after_queries_mb = rss_mb() - before_index_mb
out = {"load_index_s": round(load_s, 2), "retrieval_p50_ms": round(statistics.median(times), 1),
       "retrieval_p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
       # VmHWM: this process's own peak (ru_maxrss would carry the parent's across exec)
       "peak_rss_mb": round(int(next(x for x in open("/proc/self/status") if x.startswith("VmHWM")).split()[1]) / 1024),
       "rss_before_index_mb": round(before_index_mb), "index_rss_after_load_mb": round(index_mb),
       "index_rss_after_queries_mb": round(after_queries_mb)}  # before the recall check reads every vector
dense = [r for r in retrievers if getattr(r, "store", None) is not None]
if dense:  # recall of the vector index against exact search over the same unit vectors
    r = dense[0]
    idx = pipe.index
    rows_hit = chunks_hit = 0
    # tie-aware (the synthetic collection repeats paragraphs): a result counts when its exact
    # score reaches the 10th best exact score
    for q in qs:
        qv = r.query_vector(q)
        exact = np.empty(len(r.vectors), dtype=np.float32)
        for i in range(0, len(r.vectors), 1 << 16):
            exact[i:i + (1 << 16)] = r.vectors[i:i + (1 << 16)] @ qv
        order = np.argsort(-exact)
        tenth = exact[order[9]] - 1e-5
        got_rows = np.searchsorted(idx.row_keys, r.store.search(qv, 10)[1])
        rows_hit += int((exact[got_rows] >= tenth).sum())
        best = {}
        for row in order[:r.candidates]:
            best.setdefault(int(idx.rows[row, 0]), float(exact[row]))
        tenth_chunk = sorted(best.values(), reverse=True)[9] - 1e-5
        got = r.rank(q)
        chunk_best = np.full(len(idx.chunks), -2.0, dtype=np.float32)
        np.maximum.at(chunk_best, idx.rows[:, 0], exact)
        chunks_hit += int(sum(chunk_best[c] >= tenth_chunk for c in sorted(got, key=got.get, reverse=True)[:10]))
    out.update(vector_index=r.store.kind, nprobe=s.ann_nprobe, recall_at_10_rows=round(rows_hit / (10 * len(qs)), 3),
               recall_at_10_chunks=round(chunks_hit / (10 * len(qs)), 3))
print(json.dumps(out))
"""


def cold_ask(seeds: Path, index: Path, store: str) -> float:
    """Wall time of a new `rag ask` process (default model) over this collection."""
    env = {**os.environ, "RAG_SEEDS_DIR": str(seeds), "RAG_INDEX_DIR": str(index), "RAG_VECTOR_STORE": store}
    t = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "rag"), "ask", "--json", "Que propose Olivier Duha ?"],
                   env=env, capture_output=True, check=True)
    return round(time.perf_counter() - t, 1)


def synthetic(folder: Path, n: int, *, seed: int = 0) -> None:
    paras = []
    for p in sorted((ROOT / "seeds").glob("*.txt")):
        lines = [x.strip() for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
        paras += [x for x in lines[6:] if len(x) > 120 and not x.lower().startswith(("a lire", "à lire"))]
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for i in range(n):
        # every sentence made unique to its article ("(dossier 17)"), so that nothing is embedded
        # once for many articles: the embedding cost is that of a real collection
        body = [re.sub(r"([.!?…])(\s|$)", rf" (dossier {i})\1\2", p)
                for p in rng.sample(paras, k=min(len(paras), rng.randint(6, 14)))]
        day, month, year = rng.randint(1, 28), rng.choice(["janvier", "mars", "juin", "octobre"]), rng.randint(2010, 2020)
        text = (f"Article synthétique {i}\nPublié le {day} {month} {year} à 10:00 par Magazine En-Contact\n"
                + "\n\n".join(body) + "\n")
        (folder / f"{i:06d}.txt").write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--store", default="faiss")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    ap.add_argument("--keep", action="store_true", help="keep the collection and its index (path printed)")
    ap.add_argument("--cold-ask", action="store_true", help="also time a cold `rag ask` (loads the default LLM)")
    ap.add_argument("--out", type=Path, default=None, help="default: reports/bench-scale-<articles>.json")
    ap.add_argument("--existing", type=Path, default=None,
                    help="a folder kept by --keep: measure everything but the build again (the build figures "
                         "already in --out are kept)")
    args = ap.parse_args()
    out = args.out or ROOT / "reports" / f"bench-scale-{args.articles}.json"
    work = args.existing or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        seeds, index = work / "seeds", work / "index"
        s = Settings(seeds_dir=seeds, index_dir=index, vector_store=args.store)
        if args.existing:
            before = json.loads(out.read_text(encoding="utf-8"))
            build = {k: before[k] for k in ("build_s", "chunks_per_s", "build_peak_rss_mb")}
            build["build_measured_at_commit"] = before.get("build_measured_at_commit") or "4c364a2"
            if (seeds / "zz-new.txt").exists():  # left by an earlier measurement
                (seeds / "zz-new.txt").unlink()
            build_index(s)
            for name in s.embedder_list:  # as in the process that built the index: encoder loaded
                get_embedder(name).encode(["warm up"])
        else:
            synthetic(seeds, args.articles)
            t0 = time.perf_counter()
            build_index(s, progress=lambda m: print(f"[bench] {m}", file=sys.stderr, flush=True))
            build_s = time.perf_counter() - t0
            build = {"build_s": round(build_s, 1), "chunks_per_s": round(read_manifest(index)["n_chunks"] / build_s, 1),
                     "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        m = read_manifest(index)
        disk = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
        probe = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), str(seeds), str(index), args.store,
                                str(args.questions)], capture_output=True, text=True, check=True)
        measured = json.loads(probe.stdout.strip().splitlines()[-1])
        if args.cold_ask:
            small = work / "small-index"
            measured.update(cold_ask_s=cold_ask(seeds, index, args.store),
                            cold_ask_five_seeds_s=cold_ask(ROOT / "seeds", small, args.store) and
                            cold_ask(ROOT / "seeds", small, args.store))  # second run: index already built
        # one article added, then deleted: the incremental update as a user triggers it
        shutil.copy(seeds / "000000.txt", seeds / "zz-new.txt")
        (seeds / "zz-new.txt").write_text((seeds / "zz-new.txt").read_text(encoding="utf-8") + "\nUn ajout.\n",
                                          encoding="utf-8")
        t = time.perf_counter()
        build_index(s)
        add_s = time.perf_counter() - t
        (seeds / "zz-new.txt").unlink()
        t = time.perf_counter()
        build_index(s)
        delete_s = time.perf_counter() - t
        report = {"store": args.store, "articles": len(m["articles"]), "chunks": m["n_chunks"],
                  "dense_rows": m["n_rows"], **build, "index_mb": round(disk / 1e6, 1), **measured,
                  "add_one_article_s": round(add_s, 1), "delete_one_article_s": round(delete_s, 1)}
        print(json.dumps(report, indent=2))
        out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        if args.keep or args.existing:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
