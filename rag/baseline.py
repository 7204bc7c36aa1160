"""The plain baseline this project is measured against (``rag eval --compare baseline …``).

It reproduces LlamaIndex's defaults with the same packaged models (LlamaIndex itself
cannot fetch models here): fixed ~1024-character chunks with 200 characters of overlap, one
dense English encoder (all-MiniLM-L6-v2) in a flat FAISS index, no BM25, no fusion, the top 2
chunks as context, LlamaIndex's default QA prompt, the same Gemma 3 270M, 256 tokens, no
refusal and no citation repair. Both are graded by the same code (rag.grading).
"""

from __future__ import annotations

import time

from .articles import load_articles
from .grading import grade, summarize
from .settings import Settings

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
    from .embedders import get_embedder
    from .llm import get_generator
    from .vectorstore import get_store

    chunks = fixed_chunks(settings)
    enc = get_embedder("minilm")
    store = get_store("faiss").build(enc.encode([c["text"] for c in chunks]),
                                                   ann_threshold=settings.ann_threshold)
    llm = get_generator(settings.model_copy(update=dict(
        llm_backend="llama.cpp", llm="gemma3-270m", n_ctx=2048, seed=0, temperature=0.0, verbose=False,
        prompt_style="fewshot")))
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
        res = {"question": q.question, "answer": text.strip(), "refused": False, "extractive": False,
               "citations": [{"n": i + 1, "source": c["source"], "text": c["text"], "evidence": ""}
                             for i, c in enumerate(top[:2])],
               "retrieved": [{"source": c["source"], "text": c["text"], "score": float(s)} for c, s in zip(top, scores)],
               "timings": {"retrieve_ms": (t_ret - t0) * 1000, "first_token_ms": ((first or t_end) - t0) * 1000,
                           "total_ms": (t_end - t0) * 1000}, "id": q.id}
        res["grading"] = grade(q, res)
        results.append(res)
    config = {"llm": "gemma3-270m", "retrievers": "dense", "embedders": "minilm", "baseline": "LlamaIndex defaults"}
    return {"summary": summarize(questions, results, [r["grading"] for r in results]), "config": config,
            "results": results}
