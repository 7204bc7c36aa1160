"""Small test documents of every supported format, generated from text (a seed article or
made-up paragraphs): PDF (reportlab), DOCX (python-docx), HTML and Markdown."""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def pdf_bytes(paras: list[str], *, title: str | None = None, page_break_every: int = 0,
              encrypt_password: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    style = getSampleStyleSheet()["BodyText"]
    buf = io.BytesIO()
    kw = {}
    if encrypt_password:
        from reportlab.lib import pdfencrypt

        kw["encrypt"] = pdfencrypt.StandardEncryption(encrypt_password, canPrint=0)
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title or "", author="tests", **kw)
    flow = []
    for i, p in enumerate(paras):
        if page_break_every and i and i % page_break_every == 0:
            flow.append(PageBreak())
        flow.append(Paragraph(escape(p), style))
    doc.build(flow)
    return buf.getvalue()


def image_only_pdf() -> bytes:
    """A page with a drawing and no text layer (what a scan looks like to a text extractor)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def docx_bytes(paras: list[str], *, title: str | None = None) -> bytes:
    import docx

    d = docx.Document()
    if title:
        d.core_properties.title = title
    for p in paras:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def html_bytes(paras: list[str], *, title: str, date: str | None = None) -> bytes:
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paras)
    return (f"<!doctype html><html><head><title>{escape(title)}</title>{meta}"
            "<script>var tracking = 'do not index me';</script></head><body>"
            "<nav><a href='/'>Accueil</a> | <a href='/abo'>Abonnez-vous</a></nav>"
            f"<article><h1>{escape(title)}</h1>\n{body}</article>"
            "<footer>© Mentions légales - cookies</footer></body></html>").encode("utf-8")


def md_bytes(paras: list[str], *, title: str, date: str | None = None) -> bytes:
    front = f"---\ntitle: {title}\ndate: {date}\n---\n" if date else ""
    return (front + f"# {title}\n\n" + "\n\n".join(paras) + "\n").encode("utf-8")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
