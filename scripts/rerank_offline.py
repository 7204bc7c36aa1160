"""How often the gold evidence sentence would be quoted first, with and without the query-likelihood
rerank, for questions in another language than the passages (reported, never asserted).

    .venv/bin/python scripts/rerank_offline.py eval/calibration.jsonl eval/fresh.jsonl eval/fresh3.jsonl \
        [--llm balanced] [--k 4] [--lang en]

For each answerable question with an evidence sentence: retrieval and sentence scoring run as in
the pipeline, the scorer's best ``k`` sentences (``citations.pick_candidates``) are read by the
model (``Pipeline._likelihoods``, as the pipeline's rerank reads them), and the table
says, per question set, how often the sentence ranked first is the evidence: by the scorer alone,
by the likelihood alone, and by scorer + weight × likelihood, for the first 3 candidates and the
scorer's margin under a gate (as ``rerank_margin``).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rag import citations as cit  # noqa: E402
from rag.grading import load_questions  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.prompt import detect_language  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402
from selection import is_evidence  # noqa: E402

WEIGHTS = (0.2, 0.5, 1.0)
GATES = (0.05, 0.1, 0.2, float("inf"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+", type=Path)
    ap.add_argument("--llm", default="balanced")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--lang", default="en", help="only questions in this language")
    args = ap.parse_args()
    s = Settings(llm=args.llm)
    pipe = Pipeline(s)
    retrievers = pipe.retrievers(pipe.index)
    for path in args.questions:
        rows = []
        for q in load_questions(path):
            if not (q.answerable and q.evidence) or detect_language(q.question) != args.lang:
                continue
            hits = retrieve(retrievers, pipe.index.chunks, q.question, k=s.k, rrf_k=s.rrf_k).hits
            sents = pipe._sentences(retrievers, hits, q.question)
            cands, margin = cit.pick_candidates(sents, question=q.question, n=args.k)
            if not cands:
                continue
            likely = pipe._likelihoods(cands, q.question)
            rows.append((cands, likely, margin, q))
        n = len(rows)

        def first(pick) -> int:
            return sum(is_evidence(q.evidence, pick(cands, likely, margin, q)) for cands, likely, margin, q in rows)

        within = sum(any(is_evidence(q.evidence, x) for x in cands) for cands, _, _, q in rows)
        print(f"{path} ({n} questions): evidence among the scorer's best {args.k} {within}, scorer first "
              f"{first(lambda c, lk, m, q: c[0])}, likelihood first "
              f"{first(lambda c, lk, m, q: c[max(range(len(c)), key=lambda i: lk[i])])}")
        for w in WEIGHTS:
            cells = []
            for gate in GATES:
                def pick(c, lk, m, q, w=w, gate=gate):
                    if m >= gate:
                        return c[0]
                    return cit.rerank(c[:3], lk[:3], question=q.question, weight=w)[0]
                cells.append(f"gate {gate}: {first(pick)}")
            print(f"  weight {w}, best 3: " + ", ".join(cells))


if __name__ == "__main__":
    main()
