"""Document files → Article records: one reader per format, chosen by extension through one
registry, after the file's bytes are checked to be what the extension says.

Every reader returns plain text with one paragraph per line (what the source card shows and
what citation spans index into), plus the title, date and page offsets the format carries.
The text then goes through the same header parsing and block classification as a ``.txt``
article, so a seed converted to PDF or DOCX gives the same chunks.

Libraries (all permissive licences): pypdf (BSD, pure Python, reads the text layer with
positions, so paragraphs are rebuilt from line spacing), python-docx (MIT), BeautifulSoup
(MIT, with the standard library's HTML parser). Markdown is read with a few regular
expressions: its syntax is stripped, its text is kept.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .articles import parse_article
from .errors import DocumentError
from .records import Article

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Extracted:
    """A document's text, one paragraph per line, with what its format says about it."""

    text: str
    title: str | None = None
    date: str | None = None  # ISO date
    pages: tuple[int, ...] = ()  # offset in ``text`` where each page starts


Reader = Callable[[bytes, str], Extracted]
_READERS: dict[str, Reader] = {}
_KIND: dict[str, str] = {}  # extension -> what its bytes must look like


def register_reader(*extensions: str, kind: str) -> Callable[[Reader], Reader]:
    def add(fn: Reader) -> Reader:
        for ext in extensions:
            _READERS[ext] = fn
            _KIND[ext] = kind
        return fn
    return add


def supported_extensions() -> tuple[str, ...]:
    return tuple(sorted(_READERS))


def sniff(data: bytes) -> str:
    """What the bytes are: 'pdf', 'zip' (DOCX is a zip), 'binary' or 'text'."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if b"\x00" in data[:8192]:
        return "binary"
    return "text"


def read_document(path: Path, *, data: bytes | None = None) -> Article:
    """Parse one file into an Article, or raise DocumentError naming the file and the fix."""
    name = path.name
    ext = path.suffix.lower()
    if ext not in _READERS:
        raise DocumentError(f"{name}: unsupported file type {ext or '(none)'}; "
                            f"supported: {', '.join(supported_extensions())}")
    if data is None:
        data = path.read_bytes()
    if not data.strip():
        raise DocumentError(f"{name}: the file is empty")
    found, wanted = sniff(data), _KIND[ext]
    if found != wanted:
        looks = {"pdf": "a PDF", "zip": "a ZIP/Office file", "binary": "binary data", "text": "text"}[found]
        raise DocumentError(f"{name}: the extension says {ext} but the content is {looks}; "
                            "rename it with the right extension or re-export it")
    try:
        doc = _READERS[ext](data, name)
    except DocumentError:
        raise
    except Exception as err:  # third-party parsers raise many types for a damaged file
        raise DocumentError(f"{name}: cannot read this {ext} file ({type(err).__name__}: {err}); "
                            "it may be corrupt: re-export it") from None
    if len(doc.text.strip()) < 20:
        raise DocumentError(f"{name}: no text found" + (
            " (a scanned PDF without a text layer? run OCR on it first, e.g. ocrmypdf)" if ext == ".pdf" else ""))
    article = parse_article(name, doc.text, pages=doc.pages)
    if article.date is None and (doc.title or doc.date):
        from dataclasses import replace

        article = replace(article, title=doc.title or article.title, date=doc.date)
    return article


# -- plain text and Markdown --

def decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentError(
            f"{name}: not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "re-save it as UTF-8 to index it") from None


@register_reader(".txt", kind="text")
def read_txt(data: bytes, name: str) -> Extracted:
    return Extracted(text=decode_text(data, name))


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_MD_RULES = [
    (re.compile(r"^```.*$|^~~~.*$", re.M), ""),                   # code fences (their text stays)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),               # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),                # links -> their text
    (re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M), r"\1"),  # headings
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),                      # block quotes
    (re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M), ""),          # list bullets
    (re.compile(r"(\*\*|__)(\S(?:.*?\S)?)\1"), r"\2"),            # bold
    (re.compile(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),                            # inline code
    (re.compile(r"<[^>\n]+>"), ""),                               # inline HTML tags
    (re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.M), ""),        # horizontal rules
]


@register_reader(".md", ".markdown", kind="text")
def read_markdown(data: bytes, name: str) -> Extracted:
    text = decode_text(data, name)
    title = date = None
    front = _FRONT.match(text)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            value = value.strip().strip("'\"")
            if key.strip().lower() == "title" and value:
                title = value
            elif key.strip().lower() == "date" and value:
                date = _iso_date(value)
        text = text[front.end():]
    heading = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, re.M)
    if title is None and heading:
        title = heading.group(1).strip()
    for rule, repl in _MD_RULES:
        text = rule.sub(repl, text)
    return Extracted(text=text, title=title, date=date)


# -- HTML --

_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dt", "dd",
           "figcaption", "caption")
_BOILERPLATE = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template",
                "svg", "iframe", "button", "select")


@register_reader(".html", ".htm", kind="text")
def read_html(data: bytes, name: str) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data, name), "html.parser")
    title = _meta(soup, "og:title") or (soup.title.get_text(" ", strip=True) if soup.title else None)
    date = _iso_date(_meta(soup, "article:published_time") or _meta(soup, "date") or _meta(soup, "dc.date")
                     or (soup.find("time") or {}).get("datetime") or "")
    for tag in soup(_BOILERPLATE):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    if h1 and not title:
        title = h1.get_text(" ", strip=True)
    paragraphs = []
    for el in root.find_all(_BLOCKS):
        if el.find(_BLOCKS):  # the innermost block holds the text
            continue
        text = " ".join(el.get_text(" ", strip=True).split())
        if text:
            paragraphs.append(text)
    if not paragraphs:  # no block markup: the visible text, line by line
        paragraphs = [" ".join(line.split()) for line in root.get_text("\n").splitlines() if line.strip()]
    return Extracted(text="\n\n".join(paragraphs), title=title, date=date)


def _meta(soup, key: str) -> str | None:
    tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
    value = tag.get("content") if tag else None
    return value.strip() if value and value.strip() else None


# -- DOCX --

@register_reader(".docx", kind="zip")
def read_docx(data: bytes, name: str) -> Extracted:
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        raise DocumentError(f"{name}: not a valid .docx file ({err}); re-save it from Word or LibreOffice") from None
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                paragraphs.append(" | ".join(dict.fromkeys(cells)))
    props = document.core_properties
    created = props.created.date().isoformat() if isinstance(props.created, dt.datetime) else None
    return Extracted(text="\n\n".join(paragraphs), title=(props.title or "").strip() or None, date=created)


# -- PDF --

@register_reader(".pdf", kind="pdf")
def read_pdf(data: bytes, name: str) -> Extracted:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (DependencyError, NotImplementedError):
                ok = 0
            if not ok:
                raise DocumentError(f"{name}: the PDF is encrypted; save an unprotected copy to index it")
        pages, parts, offset = [], [], 0
        for page in reader.pages:
            text = "\n".join(_pdf_paragraphs(page))
            pages.append(offset)
            parts.append(text)
            offset += len(text) + 2
        meta = reader.metadata or {}
    except (PdfReadError, FileNotDecryptedError) as err:
        raise DocumentError(f"{name}: corrupt or unreadable PDF ({err}); re-export it") from None
    title = str(meta.get("/Title") or "").strip() or None
    return Extracted(text="\n\n".join(parts), title=title, date=_pdf_date(str(meta.get("/CreationDate") or "")),
                     pages=tuple(pages))


def _pdf_paragraphs(page) -> list[str]:
    """A page's text layer as paragraphs: lines are joined unless the space above the next line
    is clearly larger than the usual line spacing (or the text moves up: a new column)."""
    lines: list[list] = []  # [y, size, text]
    fresh = True

    def visit(text, cm, tm, font, size):
        nonlocal fresh
        if not text:
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        for i, piece in enumerate(text.split("\n")):
            if i > 0:
                fresh = True
            if piece.strip():
                if fresh or not lines:
                    lines.append([y, size, piece])
                    fresh = False
                else:
                    lines[-1][2] += piece
        if text.endswith("\n"):
            fresh = True

    page.extract_text(visitor_text=visit)
    lines = [ln for ln in lines if ln[2].strip()]
    if not lines:
        return []
    # line spacing inside a paragraph: the low quartile of the gaps (pages of one-line
    # paragraphs have more paragraph gaps than line gaps); sub/superscripts are ignored
    gaps = sorted(a[0] - b[0] for a, b in zip(lines, lines[1:]) if a[0] - b[0] > a[1] * 0.5)
    usual = gaps[len(gaps) // 4] if gaps else 0.0
    # a line inside a paragraph runs to the right margin: a clearly shorter one ends its paragraph
    # (this also splits pages whose paragraphs are all one line long, where gaps cannot tell)
    full = max(len(ln[2].strip()) for ln in lines)
    paragraphs, cur = [], []
    for i, (y, size, text) in enumerate(lines):
        if cur:
            gap = lines[i - 1][0] - y
            short = len(lines[i - 1][2].strip()) < 0.7 * full
            new = (gap <= 0 or (usual and gap > usual * 1.3) or abs(size - lines[i - 1][1]) > 0.5
                   or short)
            if new:
                paragraphs.append(_join(cur))
                cur = []
        cur.append(text.strip())
    paragraphs.append(_join(cur))
    return [p for p in paragraphs if p]


def _join(lines: list[str]) -> str:
    out = ""
    for line in lines:
        if out.endswith("-") and line[:1].islower() and len(out) > 1 and out[-2].isalpha():
            out += line  # a line broken at a hyphen: "peut-" + "être" (French keeps the hyphen)
        else:
            out = f"{out} {line}" if out else line
    return " ".join(out.split())


def _pdf_date(value: str) -> str | None:
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", value)
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


def _iso_date(value: str) -> str | None:
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", value)
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}"
    from .articles import parse_date

    return parse_date(f"Publié le {value}")[0]
