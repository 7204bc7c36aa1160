"""How often the gold evidence sentence reaches what the model reads, without a model
(reported, never asserted).

    .venv/bin/python scripts/selection.py eval/calibration.jsonl [eval/heldout.jsonl ...] [--budgets 400 600 900]

For each answerable question with an evidence sentence: retrieval and sentence scoring run as in
the pipeline; "ranked first"/"top 3" say where the evidence sentence ranks among the sentences
of the retrieved passages, "selected" whether it is among the sentences chosen for the prompt
at each character budget, "first quote" whether the quote fallback's best sentence (ranked by
the question alone) holds the answer's keywords.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag import citations as cit  # noqa: E402
from rag import compose  # noqa: E402
from rag.grading import keywords_match, load_questions  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.text import fold  # noqa: E402


def is_evidence(evidence: str, sent: cit.Sentence) -> bool:
    """The sentence is (or holds, or starts) the gold evidence: sentence splits differ a little."""
    e, t = fold(evidence), fold(sent.text)
    return e[:60] in t or (len(t) > 20 and t[:60] in e)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+", type=Path)
    ap.add_argument("--budgets", nargs="+", type=int, default=[400, 600, 900])
    args = ap.parse_args()
    s = Settings()
    pipe = Pipeline(s, llm=object())
    retrievers = pipe.retrievers(pipe.index)
    for path in args.questions:
        qs = [q for q in load_questions(path) if q.answerable and q.evidence]
        first = top3 = 0
        selected = dict.fromkeys(args.budgets, 0)
        quote = dict.fromkeys(args.budgets, 0)
        for q in qs:
            hits = retrieve(retrievers, pipe.index.chunks, q.question, k=s.k, rrf_k=s.rrf_k).hits
            sents = pipe._sentences(retrievers, hits, q.question)
            ranked = cit.ranked_sentences(sents, question=q.question, answer="")
            pos = next((i for i, x in enumerate(ranked) if is_evidence(q.evidence, x)), None)
            first += pos == 0
            top3 += pos is not None and pos < 3
            for b in args.budgets:
                shown = [x for e in compose.select(sents, hits, question=q.question, budget_chars=b) for x in e.sentences]
                selected[b] += any(is_evidence(q.evidence, x) for x in shown)
                best = cit.ranked_sentences(shown, question=q.question, answer="")
                quote[b] += bool(best) and keywords_match(best[0].text, q.keywords)
        n = len(qs)
        print(f"{path} ({n} answerable questions with evidence): ranked first {first / n:.3f}, top 3 {top3 / n:.3f}")
        for b in args.budgets:
            print(f"  budget {b}: selected {selected[b] / n:.3f}, first quote holds the answer {quote[b] / n:.3f}")


if __name__ == "__main__":
    main()
