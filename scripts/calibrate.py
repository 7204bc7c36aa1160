"""Calibrate the refusal and support thresholds of one model on the calibration questions.

Runs every question once with all gates open (nothing refused, nothing dropped), records the
signals (retrieval relevance, P("NOT FOUND"), each answer sentence's support), then replays
the decision rules offline over a grid of thresholds and keeps the setting that answers most
questions right while refusing at most --max-false-refusal of the answerable ones.

    .venv/bin/python scripts/calibrate.py --llm balanced [--questions eval/calibration.jsonl]

After a change to retrieval alone, the recorded rows are replayed without running the model:
``--rows reports/calibration-<llm>.json --refresh-relevance --vary refuse_below --out …`` recomputes each
question's relevance with the current code and re-chooses only ``refuse_below``, the other
thresholds staying at the model's current values (rag/models.py).

Writes reports/calibration-<llm>.json; the chosen values go into rag/models.py (CALIBRATED).
Never run it on the held-out questions: their figures would then mean nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.grading import keywords_match, load_questions  # noqa: E402
from rag.refusal import asks_for, gives  # noqa: E402
from rag.settings import Settings  # noqa: E402


class _Silent:
    """A generator whose every sentence fails the support check: the pipeline then answers with
    its quote fallback, which is what a user would read instead of a dropped answer."""

    name, chat = "quote", False

    def warm(self, prefix, *, cache_dir=None):
        pass

    def stream(self, prompt, *, max_tokens, stop, probe=None, temperature=None):
        yield "—"


def collect(settings: Settings, questions) -> list[dict]:
    from tqdm import tqdm

    from rag.pipeline import Pipeline

    pipe = Pipeline(settings)
    pipe.warm_up()
    quoter = Pipeline(settings.model_copy(update={"support_min": 1.0}), index=pipe.index, llm=_Silent(),
                      encoders=pipe.encoders)
    rows = []
    for q in tqdm(questions, desc="calibration", unit="q"):
        a = pipe.ask(q.question)
        quote = quoter.ask(q.question).answer
        rows.append({
            "id": q.id, "question": q.question, "answerable": q.answerable, "lang": q.lang, "relevance": a.relevance,
            "refused_before": a.refused, "reason": a.refusal_reason, "not_found": a.not_found,
            "support": a.support, "generated": a.generated, "answer": a.answer, "quote": quote,
            "keywords": [list(g) for g in q.keywords],
        })
    return rows


def replay(rows: list[dict], *, refuse_below: float, not_found_max: float, not_found_unsupported: float,
           support_min: float) -> dict:
    """The pipeline's decisions under these thresholds, from the recorded signals."""
    ok = refused_ans = refused_una = fallback = 0
    n_ans = sum(r["answerable"] for r in rows)
    n_una = len(rows) - n_ans
    for r in rows:
        p = r["not_found"]
        # the model wrote NOT FOUND: a refusal when its judgement is used, else the quote fallback
        said_not_found = r["refused_before"] and r["reason"] == "the model found no answer"
        refuse = (r["refused_before"] and "relevance" not in r["reason"] and not said_not_found) \
            or (said_not_found and not_found_max < 1.0) or r["relevance"] < refuse_below \
            or (p is not None and p >= not_found_max)
        kept = [] if said_not_found else [
            c for c in r["support"] if not c["problems"] and c["similarity"] >= support_min and c["passage"]]
        kind = asks_for(r["question"])  # the answer must hold the figure or date asked for
        if not gives(kind, " ".join(c["sentence"] for c in kept), question=r["question"]):
            kept = []
        if not refuse and not kept and p is not None and p >= not_found_unsupported:
            refuse = True
        if not refuse and not kept and not gives(kind, r.get("quote", ""), question=r["question"]):
            refuse = True
        if refuse:
            refused_ans += r["answerable"]
            refused_una += not r["answerable"]
            continue
        if not kept:
            fallback += 1
        text = " ".join(c["sentence"] for c in kept) if kept else r.get("quote", "")
        ok += bool(r["answerable"] and keywords_match(text, r["keywords"]))
    return {"correct": ok / max(n_ans, 1), "false_refusal": refused_ans / max(n_ans, 1),
            "refused_unanswerable": refused_una / max(n_una, 1), "fallback": fallback / len(rows)}


def refresh_relevance(rows: list[dict], settings: Settings) -> None:
    """Each row's relevance as the current retrieval code computes it (no model is loaded)."""
    from rag.pipeline import Pipeline
    from rag.retrieve import retrieve

    pipe = Pipeline(settings, llm=object())
    retrievers = pipe.retrievers(pipe.index)
    for r in rows:
        r["relevance_recorded"] = r.get("relevance_recorded", r["relevance"])
        r["relevance"] = retrieve(retrievers, pipe.index.chunks, r["question"], k=settings.k,
                                  rrf_k=settings.rrf_k).relevance


GRID = {"refuse_below": [0.0, 0.1, 0.15, 0.2, 0.25], "not_found_max": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        "not_found_unsupported": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0],
        "support_min": [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]}
NAMES = ["refuse_below", "not_found_max", "not_found_unsupported", "support_min"]
FINE = {"refuse_below": [round(0.0125 * i, 4) for i in range(41)]}  # when it alone varies


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llm", default="balanced")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "calibration.jsonl")
    ap.add_argument("--max-false-refusal", type=float, default=0.05)
    ap.add_argument("--out", type=Path, help="where to write (default reports/calibration-<llm>.json)")
    ap.add_argument("--rows", type=Path, help="reuse recorded signals instead of running the model")
    ap.add_argument("--refresh-relevance", action="store_true",
                    help="with --rows: recompute each question's relevance with the current retrieval code")
    ap.add_argument("--vary", nargs="+", choices=sorted(GRID), default=sorted(GRID),
                    help="thresholds to choose; the others keep the model's current values")
    args = ap.parse_args()
    if args.refresh_relevance and not args.rows:
        ap.error("--refresh-relevance replays recorded rows: give --rows")
    out = args.out or ROOT / "reports" / f"calibration-{args.llm}.json"
    current, recorded = Settings(llm=args.llm), None
    if args.rows:
        rows = json.loads(args.rows.read_text())["rows"]
        texts = {q.id: q.question for q in load_questions(args.questions)}
        for r in rows:
            r.setdefault("question", texts[r["id"]])
        if args.refresh_relevance:
            recorded = replay(rows, **{n: current.tuned(n) for n in NAMES})
            refresh_relevance(rows, current)
    else:
        settings = Settings(llm=args.llm, refuse_below=0.0, not_found_max=1.0, not_found_unsupported=1.0,
                            support_min=0.0)
        rows = collect(settings, load_questions(args.questions))
    values = [(FINE.get(n, GRID[n]) if args.vary == [n] else GRID[n]) if n in args.vary else [current.tuned(n)]
              for n in NAMES]
    before = replay(rows, **{n: current.tuned(n) for n in NAMES})
    best = None
    for rb, nf, nfu, sm in itertools.product(*values):
        if nfu > nf:
            continue
        m = replay(rows, refuse_below=rb, not_found_max=nf, not_found_unsupported=nfu, support_min=sm)
        if m["false_refusal"] > args.max_false_refusal:
            continue
        # what a user reads (the model's supported sentences, else the quote) holds the answer;
        # refusals of unanswerable questions count half; a quote instead of prose costs a little
        score = m["correct"] + m["refused_unanswerable"] * 0.5 - m["fallback"] * 0.05
        if best is None or score > best[0]:
            best = (score, dict(refuse_below=rb, not_found_max=nf, not_found_unsupported=nfu, support_min=sm), m)
    result = {"llm": args.llm, "questions": str(args.questions), "varied": args.vary, "chosen": best and best[1],
              "metrics": best and best[2], "current_settings_metrics": before,
              "recorded_relevance_metrics": recorded, "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(json.dumps({"chosen": result["chosen"], "metrics": result["metrics"],
                      "current_settings_metrics": before, "recorded_relevance_metrics": recorded}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
