"""Retrieval with and without searching question words by their closest document words
(settings ``expand_terms`` / ``expand_min``, ``rag/terms.py``): where the evidence passage ranks,
per question language. No LLM is loaded.

    .venv/bin/python scripts/term_expansion.py [--questions eval/calibration.jsonl] \\
        [--grid 0:0.5 3:0.5 5:0.5 8:0.5] [--out reports/term-expansion-calibration.json]

Choose the values on eval/calibration.jsonl; run the held-out file only to report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.grading import evidence_rank, load_questions  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "calibration.jsonl")
    ap.add_argument("--grid", nargs="+", default=["0:0.5", "3:0.5", "5:0.5", "8:0.5", "5:0.4", "5:0.6"],
                    help="expand_terms:expand_min pairs (0: no expansion)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    questions = [q for q in load_questions(args.questions) if q.answerable and q.evidence]
    base = Settings()
    pipe = Pipeline(base, llm=object())  # the index and encoders; no model is loaded
    rows = []
    for cell in args.grid:
        n, floor = cell.split(":")
        settings = base.model_copy(update={"expand_terms": int(n), "expand_min": float(floor)})
        pipe.settings, pipe._retrievers = settings, None
        retrievers = pipe.retrievers(pipe.index)
        per_lang: dict[str, list[int | None]] = {}
        for q in questions:
            hits = retrieve(retrievers, pipe.index.chunks, q.question, k=settings.k, rrf_k=settings.rrf_k).hits
            per_lang.setdefault(q.lang or "?", []).append(evidence_rank([h.chunk.text for h in hits], q.evidence))
        for lang, ranks in sorted(per_lang.items()):
            row = {"expand_terms": int(n), "expand_min": float(floor), "lang": lang, "questions": len(ranks),
                   "rank1": round(100 * sum(r == 1 for r in ranks) / len(ranks), 1),
                   "top5": round(100 * sum(r is not None for r in ranks) / len(ranks), 1)}
            rows.append(row)
            print(f"expand_terms={n:>2} expand_min={floor:<4} {lang}: {len(ranks)} questions, evidence passage "
                  f"first {row['rank1']} %, in the top {settings.k} {row['top5']} %")
    if args.out:
        args.out.write_text(json.dumps({"questions": str(args.questions), "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
