"""Retrieval parity of the vector-store backends (reported, never asserted).

    .venv/bin/python scripts/compare_stores.py [--sets eval/heldout.jsonl eval/calibration.jsonl]

Builds the index of the seeds with each backend (FAISS: BM25 and dense fused by rag's RRF;
Qdrant local mode: dense multivector + sparse lexical vector fused by Qdrant's RRF) and reports
hit@1, hit@5 and MRR of the gold evidence over the answerable questions, plus retrieval time.
No LLM is loaded. Writes reports/compare-stores.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.grading import evidence_rank  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="+", type=Path,
                    default=[ROOT / "eval" / "heldout.jsonl", ROOT / "eval" / "calibration.jsonl"])
    ap.add_argument("--stores", nargs="+", default=["faiss", "qdrant"])
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "compare-stores.json")
    args = ap.parse_args()
    report = {}
    work = Path(tempfile.mkdtemp(prefix="stores-"))
    for store in args.stores:
        s = Settings(vector_store=store, index_dir=work / store)
        t0 = time.perf_counter()
        pipe = Pipeline(s, llm=object())
        build_s = time.perf_counter() - t0
        retrievers = pipe.retrievers(pipe.index)
        per_set = {}
        for qs_path in args.sets:
            qs = [json.loads(x) for x in qs_path.read_text(encoding="utf-8").splitlines() if x.strip()]
            qs = [q for q in qs if q.get("answerable", True) and q.get("evidence")]
            ranks, times = [], []
            for q in qs:
                t = time.perf_counter()
                r = retrieve(retrievers, pipe.index.chunks, q["question"], k=5, rrf_k=s.rrf_k)
                times.append((time.perf_counter() - t) * 1000)
                ranks.append(evidence_rank([h.chunk.text for h in r.hits], q["evidence"]))
            n = len(ranks)
            per_set[qs_path.stem] = {
                "n": n, "hit@1": round(sum(r == 1 for r in ranks) / n, 3),
                "hit@5": round(sum(r is not None for r in ranks) / n, 3),
                "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
                "retrieval_p50_ms": round(statistics.median(times), 1)}
        report[store] = {"build_s": round(build_s, 1), "retrievers": [r.name for r in retrievers], **per_set}
        print(store, json.dumps(report[store]), flush=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
