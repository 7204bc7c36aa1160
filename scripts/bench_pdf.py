"""PDF ingestion benchmark (reported, never asserted).

    .venv/bin/python scripts/bench_pdf.py [--llm balanced] [--n 20]

Makes a PDF of 20 pages from the five seed articles (each starting on a new page, long
paragraphs wrapped as a word processor would), then:
- times reading it (text layer, paragraph rebuilding, header parsing) and chunking: the
  ingestion cost without embedding;
- indexes a collection holding only that PDF and asks the held-out questions about it: an
  answer is on the right page when its citation's page is the page of the gold evidence.
Writes reports/bench-pdf.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import docgen  # noqa: E402

from rag.chunking import chunk_articles  # noqa: E402
from rag.documents import read_document  # noqa: E402
from rag.settings import Settings  # noqa: E402


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


FOOTER = re.compile(r"^(a lire aussi|à lire aussi|profitez d.un accès illimité|abonnez-vous)", re.I)


def make_pdf(path: Path) -> list[str]:
    """All five seeds in one PDF, each article on new pages; returns its paragraphs."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate
    from xml.sax.saxutils import escape

    style = getSampleStyleSheet()["BodyText"]
    style.fontSize, style.leading = 12, 17
    flow, paras = [], []
    for i, seed in enumerate(sorted((ROOT / "seeds").glob("*.txt"))):
        if i:
            flow.append(PageBreak())
        for p in docgen.paragraphs(seed.read_text(encoding="utf-8")):
            if FOOTER.match(p):  # the web page's "read also" links and paywall end each article
                break
            flow.append(Paragraph(escape(p), style))
            paras.append(p)
    SimpleDocTemplate(str(path), pagesize=A4, title="En-Contact: five articles").build(flow)
    return paras


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", default="balanced")
    ap.add_argument("--n", type=int, default=20, help="held-out questions to ask of the PDF")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-pdf.json")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    try:
        docs = work / "docs"
        docs.mkdir()
        pdf = docs / "en-contact.pdf"
        make_pdf(pdf)
        reads = []
        for _ in range(3):
            t0 = time.perf_counter()
            article = read_document(pdf)
            t1 = time.perf_counter()
            chunks = chunk_articles([article], Settings().chunking)
            reads.append((t1 - t0, time.perf_counter() - t1))
        read_s, chunk_s = min(r[0] for r in reads), min(r[1] for r in reads)
        n_pages = len(article.pages)
        print(f"{pdf.name}: {pdf.stat().st_size // 1024} KB, {n_pages} pages, {len(article.raw)} characters, "
              f"{len(chunks)} chunks; read {read_s:.2f} s + chunk {chunk_s:.3f} s", flush=True)

        def page_of(offset: int) -> int:
            return sum(1 for p in article.pages if p <= offset)

        norm_raw = _norm(article.raw)
        qs = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
        qs = [q for q in qs if q.get("answerable", True) and q.get("evidence")
              and _norm(q["evidence"])[:60] in norm_raw][:args.n]

        from rag.pipeline import Pipeline

        settings = Settings(seeds_dir=docs, index_dir=work / "index", llm=args.llm)
        t0 = time.perf_counter()
        pipe = Pipeline(settings)
        index_s = time.perf_counter() - t0
        pipe.warm_up()
        import pypdf

        page_text = [_norm(p.extract_text()) for p in pypdf.PdfReader(str(pdf)).pages]
        rows, right, cited, on_page, n_cites = [], 0, 0, 0, 0
        for q in qs:
            # the gold evidence's page, found in the extracted text (whitespace-insensitive)
            key = _norm(q["evidence"])[:60]
            pos = _find(article.raw, key)
            gold_page = page_of(pos) if pos is not None else None
            a = pipe.ask(q["question"])
            pages = [c.chunk.page_at(c.evidence_start) for c in a.citations]
            for c, pg in zip(a.citations, pages):  # is the cited evidence really printed on that page?
                n_cites += 1
                on_page += _norm(c.evidence)[:40] in page_text[pg - 1]
            ok = bool(pages) and gold_page in pages
            cited += bool(pages)
            right += ok
            rows.append({"id": q["id"], "gold_page": gold_page, "cited_pages": pages, "right_page": ok,
                         "refused": a.refused})
        # the same questions over the five .txt articles: does the answer cite the passage holding
        # the gold evidence? (PDF ingestion should cost nothing here)
        txt = Pipeline(settings.model_copy(update={"seeds_dir": ROOT / "seeds", "index_dir": work / "index-txt"}),
                       llm=pipe.llm, encoders=pipe.encoders)
        txt_right = txt_cited = pdf_passage = 0
        for q, row in zip(qs, rows):
            key = _norm(q["evidence"])[:60]
            a = txt.ask(q["question"])
            txt_cited += bool(a.citations)
            txt_right += any(key in _norm(c.chunk.text) for c in a.citations)
        for q in qs:
            key = _norm(q["evidence"])[:60]
            a = pipe.ask(q["question"])
            pdf_passage += any(key in _norm(c.chunk.text) for c in a.citations)
        report = {"pdf_pages": n_pages, "pdf_kb": pdf.stat().st_size // 1024, "characters": len(article.raw),
                  "chunks": len(chunks), "read_s": round(read_s, 3), "chunk_s": round(chunk_s, 4),
                  "ingest_without_embedding_s": round(read_s + chunk_s, 3),
                  "index_build_s_with_embedding": round(index_s, 1), "llm": args.llm,
                  "questions": len(qs), "answers_with_citations": cited, "cited_the_gold_page": right,
                  "citations": n_cites, "citation_evidence_printed_on_its_page": on_page,
                  "pdf_cited_the_gold_passage": pdf_passage, "txt_answers_with_citations": txt_cited,
                  "txt_cited_the_gold_passage": txt_right,
                  "rows": rows}
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _find(raw: str, key: str) -> int | None:
    """Offset in ``raw`` of ``key`` matched with any run of whitespace."""
    pattern = r"\s+".join(re.escape(w) for w in key.split())
    m = re.search(pattern, raw.replace("\u00a0", " ").replace("\u202f", " "))
    return m.start() if m else None


if __name__ == "__main__":
    main()
