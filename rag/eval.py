"""`rag eval`: run a question set through the pipeline, grade, report (JSON, Markdown, chart).

Each result is the ``rag ask --json`` object plus ``id`` and its grading flags.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

from .grading import Question, grade, load_questions, summarize
from .settings import Settings

# Named configurations for --compare: overrides of the settings given on the command line.
CONFIGS: dict[str, dict] = {
    "default": {},
    "fast": {"llm": "fast"},
    "balanced": {"llm": "balanced"},
    "quality": {"llm": "quality"},
    "balanced-llm-rewrite": {"llm": "balanced", "followup": "llm"},  # follow-ups rewritten by the model
    "quality-llm-rewrite": {"llm": "quality", "followup": "llm"},
    "baseline": {},  # the LlamaIndex-style plain pipeline (rag/baseline.py), not a settings override
    "hybrid": {},
    "bm25": {"retrievers": "bm25"},
    "dense": {"retrievers": "dense"},
    "dense-minilm": {"retrievers": "dense", "embedders": "minilm"},
    "hybrid-minilm": {"embedders": "use,minilm"},
    "headers": {"context_headers": True},
    "gemma": {"llm": "gemma3-270m"},
    "smollm2": {"llm": "smollm2-135m"},
}


def config_settings(base: Settings, name: str) -> Settings:
    """The base settings with a named configuration applied; its own index directory when the
    index it needs differs from the base one."""
    if name not in CONFIGS:
        raise_unknown(name)
    data = base.model_dump()
    data.update(CONFIGS[name])
    s = Settings(**data)
    if s.index_signature() != base.index_signature() or s.retriever_list != base.retriever_list:
        sig = hashlib.sha1(json.dumps([s.index_signature(), s.retriever_list], sort_keys=True).encode()).hexdigest()[:10]
        s = Settings(**{**data, "index_dir": base.index_dir.parent / f"eval-{sig}"})
    return s


def raise_unknown(name: str):
    from .errors import RagError

    raise RagError(f"unknown configuration {name!r}; choose from: {', '.join(CONFIGS)}")


def run_eval(settings: Settings, questions: list[Question], *, progress: Callable[[str], None] | None = None,
             pipeline=None, label: str = "") -> dict:
    """Answer every question, grade it, and summarise. Returns the report dict."""
    from tqdm import tqdm

    from .errors import RagError
    from .pipeline import Pipeline

    pipe = pipeline or Pipeline(settings, progress=progress)
    pipe.warm_up()
    results = []
    for q in tqdm(questions, desc=f"eval {label}".strip(), unit="q", disable=progress is None):
        try:
            res = pipe.ask(q.question, history=list(q.history)).to_json()
        except RagError as err:
            res = {"question": q.question, "answer": "", "refused": False, "citations": [], "retrieved": [],
                   "timings": {}, "models": pipe.models, "error": str(err)}
        res["id"] = q.id
        res["grading"] = grade(q, res)
        results.append(res)
    summary = summarize(questions, results, [r["grading"] for r in results])
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.model_dump().items()}
    return {"summary": summary, "config": config, "results": results}


def _row(summary: dict) -> dict:
    r, a, c, f, lat = (summary["retrieval"], summary["answers"], summary["citations"],
                       summary["refusals"], summary["latency_ms"])
    return {
        "hit@1": r["hit@1"], "hit@5": r["hit@5"], "MRR": r["mrr"],
        "correct": a["correct"], "correct+evidence": a["correct_with_evidence"],
        "cites evidence": c["cites_evidence"], "right article": summary.get("right_article"),
        "EN answered in EN": summary.get("english_in_english"), "language ok": summary.get("language_ok"),
        "refused unanswerable": f["refused_unanswerable"], "wrongly refused": f["wrongly_refused"],
        "quoted fallback": summary.get("fallback", {}).get("rate"),
        "fallback quote correct": summary.get("fallback", {}).get("first_quote_correct"),
        "hijacked": summary.get("hijacked"),
        "p50 total ms": lat["total_ms"]["p50"], "p95 total ms": lat["total_ms"]["p95"],
        "p50 first token ms": lat["first_token_ms"]["p50"], "p95 first token ms": lat["first_token_ms"]["p95"],
    }


def markdown_report(report: dict, questions: list[Question]) -> str:
    row = _row(report["summary"])
    s = report["summary"]
    lines = [f"# Evaluation: {s['n_questions']} questions ({s['n_answerable']} answerable, "
             f"{s['n_unanswerable']} unanswerable)", "",
             f"LLM `{report['config']['llm']}`, retrievers `{report['config']['retrievers']}`, "
             f"embedders `{report['config']['embedders']}`", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in row.items()]
    langs = s.get("by_language", {})
    if langs:
        ref = s["refusals"].get("by_language", {})
        lines += ["", "| language | n | hit@1 | hit@5 | correct | correct+evidence | refused unanswerable | wrongly refused |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {lang} | {v['n']} | {v['hit@1']} | {v['hit@5']} | {v['correct']} | {v['correct_with_evidence']} | "
                  f"{ref.get(lang, {}).get('refused_unanswerable')} | {ref.get(lang, {}).get('wrongly_refused')} |"
                  for lang, v in langs.items()]
    lines += ["", "## Failing questions", "", "| id | question | expected | got | cited sources |", "|---|---|---|---|---|"]
    by_id = {q.id: q for q in questions}
    for r in report["results"]:
        q, g = by_id[r["id"]], r["grading"]
        ok = (g["correct_with_evidence"] and (g["evidence_rank"] or 0) and g["evidence_rank"] <= 5) if q.answerable else g["refused"]
        if ok:
            continue
        expected = (q.answer or "") if q.answerable else "(refusal)"
        cited = ", ".join(f"[{c['n']}] {c['source']}" for c in r.get("citations", [])) or "-"
        cell = lambda x: " ".join(str(x).split()).replace("|", "\\|")[:160]
        lines.append(f"| {q.id} | {cell(q.question)} | {cell(expected)} | {cell(r.get('answer', ''))} | {cell(cited)} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(reports: dict[str, dict]) -> str:
    rows = {name: _row(rep["summary"]) for name, rep in reports.items()}
    metrics = list(next(iter(rows.values())))
    lines = ["| config | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(str(row[m]) for m in metrics) + " |")
    return "\n".join(lines) + "\n"


def comparison_chart(reports: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = ["hit@1", "correct", "correct+evidence", "cites evidence", "EN answered in EN",
               "refused unanswerable", "wrongly refused"]
    rows = {name: _row(rep["summary"]) for name, rep in reports.items()}
    x = np.arange(len(metrics))
    width = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for i, (name, row) in enumerate(rows.items()):
        p50 = row.get("p50 total ms")
        label = f"{name} (p50 {p50 / 1000:.1f} s)" if p50 else name
        ax.bar(x + i * width, [row[m] or 0 for m in metrics], width, label=label)
    ax.set_xticks(x + width * (len(rows) - 1) / 2, metrics)
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(ncol=min(len(rows), 4), fontsize=8)
    ax.set_title("rag eval: configurations compared")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run_eval_command(args, settings: Settings, *, progress) -> int:
    questions = load_questions(args.questions)
    if args.limit:
        questions = questions[: args.limit]
    t0 = time.perf_counter()
    if not args.compare:
        report = run_eval(settings, questions, progress=progress)
        _write(args.out, json.dumps(report, ensure_ascii=False, indent=1))
        md = markdown_report(report, questions)
        if args.md:
            _write(args.md, md)
        print(md.split("\n## Failing")[0])
        progress(f"report: {args.out} ({time.perf_counter() - t0:.0f} s)")
        return 0
    reports = {}
    for name in args.compare:
        if name == "baseline":
            from .baseline import run_baseline

            reports[name] = run_baseline(settings, questions)
            continue
        s = config_settings(settings, name)
        reports[name] = run_eval(s, questions, progress=progress, label=name)
    table = comparison_markdown(reports)
    _write(args.out, json.dumps({"comparison": {n: r["summary"] for n, r in reports.items()},
                                 "reports": reports}, ensure_ascii=False, indent=1))
    if args.md:
        _write(args.md, "# Comparison\n\n" + table)
    chart = args.chart or args.out.with_suffix(".png")
    comparison_chart(reports, chart)
    print(table)
    progress(f"report: {args.out}, chart: {chart} ({time.perf_counter() - t0:.0f} s)")
    return 0
