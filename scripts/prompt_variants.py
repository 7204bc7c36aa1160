"""Does the model's own answer hold the answer, with N solved examples in the prompt? No
support check, no fallback: the raw answer (first token "NOT FOUND" or "[" banned, as in the pipeline),
per question language, on the calibration questions (never the held-out ones).

    .venv/bin/python scripts/prompt_variants.py --llm balanced --examples 3 0

Prints, per variant and language, the share of answers holding the gold keywords and the share
of English questions answered in English; writes reports/prompt-variants-<llm>.json.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import compose  # noqa: E402
from rag.grading import keywords_match, load_questions  # noqa: E402
from rag.llm import FirstTokenProbe  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.prompt import NEVER_FIRST, NOT_FOUND_SPELLINGS, STOP, chat_messages, clean_generation, detect_language  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llm", default="balanced")
    ap.add_argument("--examples", nargs="+", type=int, default=[3, 0])
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "calibration.jsonl")
    args = ap.parse_args()
    s = Settings(llm=args.llm)
    pipe = Pipeline(s)
    llm, retrievers = pipe.llm, pipe.retrievers(pipe.index)
    rows = {n: [] for n in args.examples}
    for q in (q for q in load_questions(args.questions) if q.answerable):
        lang = detect_language(q.question)
        hits = retrieve(retrievers, pipe.index.chunks, q.question, k=s.k, rrf_k=s.rrf_k).hits
        excerpts = compose.select(pipe._sentences(retrievers, hits, q.question), hits, question=q.question,
                                  budget_chars=int(s.tuned("context_chars")))
        texts = [e.prompt_text for e in excerpts]
        for n in args.examples:
            prompt = llm.render(chat_messages(q.question, texts, lang=lang, examples=n))
            out = "".join(llm.stream(prompt, max_tokens=s.max_tokens, stop=STOP, temperature=0.0,
                                     probe=FirstTokenProbe(NOT_FOUND_SPELLINGS, never_first=NEVER_FIRST)))
            out = clean_generation(out, question=q.question)
            rows[n].append({"id": q.id, "lang": q.lang, "answer": out, "holds_answer": keywords_match(out, q.keywords),
                            "answer_language": detect_language(out)})
    summary = {}
    for n, rr in rows.items():
        for lang in ("fr", "en"):
            part = [r for r in rr if r["lang"] == lang]
            summary[f"examples={n} {lang}"] = {
                "questions": len(part), "holds_answer": round(sum(r["holds_answer"] for r in part) / len(part), 3),
                "answered_in_question_language": round(sum(r["answer_language"] == lang for r in part) / len(part), 3)}
    print(json.dumps(summary, indent=1))
    out = ROOT / "reports" / f"prompt-variants-{args.llm}.json"
    out.write_text(json.dumps({"llm": args.llm, "questions": str(args.questions), "summary": summary, "rows": rows},
                              ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
