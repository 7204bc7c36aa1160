"""Replay the recorded generations of a calibration run and grade the quote fallback's choice
of sentences, without a model (reported, never asserted).

    .venv/bin/python scripts/replay_quotes.py reports/calibration-balanced.json eval/calibration.jsonl

For each answerable question: retrieval and sentence selection run again, then the sentence the
quote fallback would pick is graded against the question's keywords, ranked by the question
alone ("base"), with the model's unsupported answer as a hint ("lex", what the pipeline does),
by its multilingual cosine with that answer ("dense"), or both ("mix"); "ext"/"ext_gen" grade
the fallback's two quotes as shown, without and with the hint.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import json, sys
from pathlib import Path
import numpy as np
from rag.settings import Settings
from rag.pipeline import Pipeline
from rag.retrieve import retrieve
from rag import compose, citations as cit
from rag.grading import keywords_match
s = Settings(); p = Pipeline(s, llm=object())
enc = next(iter(p.encoders.values()))
rows = json.load(open(sys.argv[1]))["rows"]
qs = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[2])}
res = {"base": 0, "lex": 0, "dense": 0, "mix": 0}; n = 0
for r in rows:
    q = qs[r["id"]]
    if not q.get("answerable", True) or not r.get("generated") or not q.get("keywords"): continue
    kw = tuple(tuple([g] if isinstance(g, str) else g) for g in q["keywords"])
    rs = p.retrievers(p.index)
    hits = retrieve(rs, p.index.chunks, q["question"], k=s.k, rrf_k=s.rrf_k).hits
    sents = p._sentences(rs, hits, q["question"])
    ex = compose.select(sents, hits, question=q["question"], budget_chars=int(s.tuned("context_chars")))
    shown = compose.shown_sentences(ex)
    if not shown: continue
    n += 1
    gen = cit.strip_markers(r["generated"])
    base = cit.ranked_sentences(shown, question=q["question"], answer="")[0]
    lex = cit.ranked_sentences(shown, question=q["question"], answer=gen)[0]
    v = enc.encode([gen] + [x.text for x in shown]); cos = v[1:] @ v[0]
    dense = shown[int(np.argmax(cos))]
    tot = [cit.score_sentence(x, question=q["question"], answer="") + cit.rank_prior(x) for x in shown]
    mix = shown[int(np.argmax(np.array(tot) + 0.5 * cos))]
    for k, x in (("base", base), ("lex", lex), ("dense", dense), ("mix", mix)):
        res[k] += keywords_match(x.text, kw)
    for k, a in (("ext", ""), ("ext_gen", gen)):
        ranked = cit.ranked_sentences(shown, question=q["question"], answer=a)
        b = ranked[0]
        def total(x): return cit.score_sentence(x, question=q["question"], answer=a) + cit.rank_prior(x)
        top = [b] + [x for x in ranked[1:] if x.passage == b.passage or total(x) >= 0.9 * total(b)][:1]
        res[k] = res.get(k, 0) + keywords_match(" ".join(x.text for x in top), kw)
print(n, {k: round(v / n, 3) for k, v in res.items()})
