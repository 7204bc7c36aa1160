"""Baseline comparison, one run: what a user gets from a plain pipeline vs this project.

    .venv/bin/python scripts/baseline.py [--questions eval/questions.jsonl] [--limit N]

The baseline reproduces LlamaIndex's defaults with the same packaged models (LlamaIndex itself
cannot fetch models here): fixed ~1024-character chunks with 200 characters of overlap, one
dense English encoder (all-MiniLM-L6-v2) in a flat FAISS index, no BM25, no fusion, the top 2
chunks as context, LlamaIndex's default QA prompt, the same Gemma 3 270M, 256 tokens, no
refusal and no citation repair. Both are graded by the same code (rag.grading).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.articles import load_articles  # noqa: E402
from rag.embedders import get_embedder  # noqa: E402
from rag.eval import _row, run_eval  # noqa: E402
from rag.grading import grade, load_questions, summarize  # noqa: E402
from rag.llm import get_llm  # noqa: E402
from rag.models import resolve_llm  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.vectorstore import VectorStore  # noqa: E402

QA_TEMPLATE = ("Context information is below.\n---------------------\n{context}\n---------------------\n"
               "Given the context information and not prior knowledge, answer the query.\n"
               "Query: {query}\nAnswer: ")


def fixed_chunks(settings: Settings, size: int = 1024, overlap: int = 200):
    articles, _ = load_articles(settings.seeds_dir)
    out = []
    for a in articles:
        text = a.raw
        i = 0
        while i < len(text):
            out.append({"source": a.source, "title": a.title, "start": i, "end": min(len(text), i + size),
                        "text": text[i:i + size]})
            i += size - overlap
    return out


def run_baseline(settings: Settings, questions) -> dict:
    chunks = fixed_chunks(settings)
    enc = get_embedder("minilm")
    store = VectorStore.build(enc.encode([c["text"] for c in chunks]))
    path = resolve_llm("gemma3-270m", models_dir=settings.models_dir)
    llm = get_llm(str(path), name="gemma3-270m", n_ctx=2048, n_threads=settings.n_threads, seed=0,
                  temperature=0.0, verbose=False, chat=False)
    results = []
    for q in questions:
        t0 = time.perf_counter()
        scores, ids = store.search(enc.encode([q.question])[0], 5)
        t_ret = time.perf_counter()
        top = [chunks[i] for i in ids.tolist()]
        prompt = QA_TEMPLATE.format(context="\n\n".join(c["text"] for c in top[:2]), query=q.question)
        text, first = "", None
        for tok in llm.stream(prompt[-6000:], max_tokens=256, stop=[]):
            first = first or time.perf_counter()
            text += tok
        t_end = time.perf_counter()
        res = {"question": q.question, "answer": text.strip(), "refused": False,
               "citations": [{"n": i + 1, "source": c["source"], "text": c["text"], "evidence": ""}
                             for i, c in enumerate(top[:2])],
               "retrieved": [{"source": c["source"], "text": c["text"], "score": float(s)} for c, s in zip(top, scores)],
               "timings": {"retrieve_ms": (t_ret - t0) * 1000, "first_token_ms": ((first or t_end) - t0) * 1000,
                           "total_ms": (t_end - t0) * 1000}, "id": q.id}
        res["grading"] = grade(q, res)
        results.append(res)
    return {"summary": summarize(questions, results, [r["grading"] for r in results]), "results": results}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "baseline.json")
    args = ap.parse_args()
    qs = load_questions(args.questions)[: args.limit]
    s = Settings()
    reports = {"baseline (LlamaIndex defaults)": run_baseline(s, qs), "this project": run_eval(s, qs)}
    rows = {k: _row(v["summary"]) for k, v in reports.items()}
    metrics = list(next(iter(rows.values())))
    print("| system | " + " | ".join(metrics) + " |\n|---|" + "---|" * len(metrics))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(str(row[m]) for m in metrics) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({k: v["summary"] for k, v in reports.items()}, indent=1))


if __name__ == "__main__":
    main()
