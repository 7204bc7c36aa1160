"""Scale benchmark (reported, never asserted).

    .venv/bin/python scripts/bench_scale.py --articles 600 [--store faiss|qdrant] [--out reports/bench-scale.json]

Makes a synthetic collection from the seed paragraphs (each article: a magazine header and
paragraphs drawn at random from the five seeds, fixed seed), indexes it and measures, like the
table of issue 8: chunks, dense rows, build time and chunks/s, index size on disk, load time
(new process), retrieval p50/p95 over the held-out questions, peak memory of a process that
loads the index and retrieves (no LLM), and the time to add then delete one article.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.index import build_index, read_manifest  # noqa: E402
from rag.settings import Settings  # noqa: E402

PROBE = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
from rag.settings import Settings
from rag.pipeline import Pipeline
from rag.retrieve import retrieve
s = Settings(seeds_dir=sys.argv[2], index_dir=sys.argv[3], vector_store=sys.argv[4])
pipe = Pipeline(s, llm=object())
retrievers = pipe.retrievers(pipe.index)
load_s = time.perf_counter() - t0
qs = [json.loads(x)["question"] for x in open(sys.argv[5], encoding="utf-8") if x.strip()]
retrieve(retrievers, pipe.index.chunks, qs[0], k=5, rrf_k=s.rrf_k)
times = []
for q in qs:
    t = time.perf_counter()
    retrieve(retrievers, pipe.index.chunks, q, k=5, rrf_k=s.rrf_k)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({"load_s": round(load_s, 2), "retrieval_p50_ms": round(statistics.median(times), 1),
                  "retrieval_p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def synthetic(folder: Path, n: int, *, seed: int = 0) -> None:
    paras = []
    for p in sorted((ROOT / "seeds").glob("*.txt")):
        lines = [x.strip() for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
        paras += [x for x in lines[6:] if len(x) > 120 and not x.lower().startswith(("a lire", "à lire"))]
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for i in range(n):
        body = rng.sample(paras, k=min(len(paras), rng.randint(6, 14)))
        day, month, year = rng.randint(1, 28), rng.choice(["janvier", "mars", "juin", "octobre"]), rng.randint(2010, 2020)
        text = (f"Article synthétique {i}\nPublié le {day} {month} {year} à 10:00 par Magazine En-Contact\n"
                + "\n\n".join(body) + "\n")
        (folder / f"{i:06d}.txt").write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--store", default="faiss")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-scale.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        seeds, index = work / "seeds", work / "index"
        synthetic(seeds, args.articles)
        s = Settings(seeds_dir=seeds, index_dir=index, vector_store=args.store)
        t0 = time.perf_counter()
        build_index(s)
        build_s = time.perf_counter() - t0
        build_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        m = read_manifest(index)
        disk = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
        probe = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), str(seeds), str(index), args.store,
                                str(args.questions)], capture_output=True, text=True, check=True)
        measured = json.loads(probe.stdout.strip().splitlines()[-1])
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
        report = {"store": args.store, "articles": args.articles, "chunks": m["n_chunks"], "dense_rows": m["n_rows"],
                  "build_s": round(build_s, 1), "chunks_per_s": round(m["n_chunks"] / build_s, 1),
                  "index_mb": round(disk / 1e6, 1), **measured, "build_peak_rss_mb": round(build_rss),
                  "add_one_article_s": round(add_s, 1), "delete_one_article_s": round(delete_s, 1)}
        print(json.dumps(report, indent=2))
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
