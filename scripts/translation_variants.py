"""Does a translation prompt with solved examples keep more answers than the plain one?

Replays the French quotes that the fast tier showed for the English calibration questions
(`reports/calibration-runs/fast-quote.json`: the quotes the default also picks) through the
default model's translation, with the plain prompt (rag/prompt.py), with three solved
examples before it, and told the reader's question (for its words); counts the questions
whose translated quotes still hold the answer's keywords, the mean multilingual cosine to the
originals, and the time.

    .venv/bin/python scripts/translation_variants.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.embedders import get_embedder  # noqa: E402
from rag.grading import keywords_match, load_questions  # noqa: E402
from rag.llm import get_generator  # noqa: E402
from rag.prompt import STOP, clean_translation, translation_messages  # noqa: E402
from rag.settings import Settings  # noqa: E402

# written for this test, from no article
EXAMPLES = [("Nos clients nous appellent et nous posent des questions : pourquoi ne pas ouvrir une ligne dédiée ?",
             "Our customers call us and ask us questions: why not open a dedicated line?"),
            ("Oui, sans hésiter.", "Yes, without hesitation."),
            ("Le chiffre d’affaires a progressé de 12 % en 2015, porté par la hausse des commandes.",
             "Revenue grew by 12% in 2015, driven by the rise in orders.")]


def with_examples(text: str) -> list[dict]:
    system, user = translation_messages(text, source="fr", target="en")
    shots = [m for fr, en in EXAMPLES for m in ({"role": "user", "content": f"« {fr} »"},
                                                 {"role": "assistant", "content": en})]
    return [system, *shots, user]


def with_question(question: str):
    """The plain prompt, told what the reader asked (for the words of the same things)."""
    def messages(text: str) -> list[dict]:
        system, user = translation_messages(text, source="fr", target="en")
        system = {**system, "content": system["content"] + f" The reader had asked: \"{question}\"; use the "
                  "reader's words for the things the question names."}
        return [system, user]
    return messages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, default=ROOT / "reports" / "calibration-runs" / "fast-quote.json")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "calibration.jsonl")
    ap.add_argument("--llm", default="balanced")
    args = ap.parse_args()
    questions = {q.id: q for q in load_questions(args.questions)}
    llm, enc = get_generator(Settings(llm=args.llm)), get_embedder("use")
    variants = {"plain": lambda t: translation_messages(t, source="fr", target="en"), "examples": with_examples,
                "question": None}
    totals = {k: {"kept": 0, "n": 0, "cos": [], "s": 0.0} for k in variants}
    for r in json.loads(args.run.read_text(encoding="utf-8"))["results"]:
        q = questions[r["id"]]
        originals = re.findall(r"« (.*?) » \[\d+\]", r["answer"])
        if q.lang != "en" or not q.answerable or r["refused"] or not originals:
            continue
        for name, messages in variants.items():
            messages = messages or with_question(q.question)
            t0 = time.perf_counter()
            out = [clean_translation("".join(llm.stream(llm.render(messages(o)), max_tokens=min(200, len(o) // 2 + 24),
                                                        stop=["\n", *STOP], temperature=0.0))) for o in originals]
            tot = totals[name]
            tot["s"] += time.perf_counter() - t0
            v = enc.encode(originals + out)
            tot["cos"] += [float(v[i] @ v[len(originals) + i]) for i in range(len(originals))]
            tot["kept"] += keywords_match(" ".join(out), q.keywords)
            tot["n"] += 1
    for name, t in totals.items():
        print(f"{name}: answer kept {t['kept']}/{t['n']}, mean cosine to the original "
              f"{sum(t['cos']) / max(1, len(t['cos'])):.3f}, {t['s']:.1f} s for {len(t['cos'])} quotes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
