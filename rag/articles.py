"""Seed files → Article records: header parsed, site boilerplate dropped, offsets kept."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from .errors import SeedsError
from .records import Article, Block
from .text import canonical

log = logging.getLogger(__name__)

MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
}
_PUBLISHED = re.compile(
    r"^Publi[ée] le (?P<day>\d{1,2})(?:er)? (?P<month>\w+) (?P<year>\d{4})"
    r"(?: à (?P<time>\d{1,2}[:h]\d{2}))?(?: par (?P<publisher>.+?))?\s*$",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^(a lire aussi|à lire aussi|profitez d.un accès illimité|abonnez-vous maintenant)",
    re.IGNORECASE,
)
_JUNK_LINE = re.compile(r"^[\s×\u00a0]*$")
_LINE = re.compile(r"[^\n]*")


def _lines(raw: str) -> list[tuple[int, int]]:
    """(start, end) of every line, stripped of surrounding whitespace; empty lines dropped."""
    out = []
    for m in _LINE.finditer(raw):
        s, e = m.start(), m.end()
        while s < e and raw[s].isspace():
            s += 1
        while e > s and raw[e - 1].isspace():
            e -= 1
        if e > s and not _JUNK_LINE.match(raw[s:e]):
            out.append((s, e))
    # finditer yields an empty match after each line; dedupe by span
    seen, uniq = set(), []
    for span in out:
        if span not in seen:
            seen.add(span)
            uniq.append(span)
    return uniq


def parse_date(line: str) -> tuple[str | None, str | None]:
    """"Publié le 28 octobre 2010 à 14:24 par X" → ("2010-10-28", "X")."""
    m = _PUBLISHED.match(canonical(line))
    if not m:
        return None, None
    month = MONTHS.get(m["month"].lower())
    if not month:
        return None, m["publisher"]
    return f"{int(m['year']):04d}-{month:02d}-{int(m['day']):02d}", m["publisher"]


_NAME_WORD = r"[A-ZÀ-Þ][\w’'.-]*"
# a person's name opening a line: two to four capitalised words, not an article's ("Le Figaro")
PERSON = (rf"(?!(?:Le|La|Les|Un|Une|Des|The|A|An)\s)"
          rf"{_NAME_WORD}(?:\s+(?:(?:de|du|des|van|von|di|da)\s+|d[’'])?{_NAME_WORD}){{1,3}}")
# a paragraph opened by who speaks, as interview transcripts print it: "Manuel Jacquinet : Précisément,
# …". The label is a name of two to four capitalised words (particles allowed: "Maxence d'Espeuilles"),
# so a sentence with a colon ("Mais la réalité a été plus compliquée : …") or a one-word label
# ("Archives : En-Contact n°55", "Contact : …") is not one; nor is an article ("Le Figaro : …").
_INLINE_SPEAKER = re.compile(rf"^({PERSON})\s?:\s+\S")


def inline_speaker(line: str) -> str | None:
    """The name a text paragraph opens with as its speaker label ("Manuel Jacquinet : …"), or None."""
    m = _INLINE_SPEAKER.match(canonical(line))
    return m.group(1) if m else None


def classify(line: str) -> str:
    """Block kind of one body line: heading, speaker, question or text."""
    s = canonical(line)
    if len(s) <= 160 and s.endswith(":") and not s.startswith(("«", '"')):
        return "speaker"
    if len(s) <= 400 and s.endswith("?") and not s.startswith(("«", '"')):
        return "question"
    if len(s) <= 70 and not re.search(r"[.!?»:\"…;,]$", s) and not s.startswith(("«", '"', "*")):
        return "heading"
    return "text"


def parse_article(source: str, raw: str, *, pages: tuple[int, ...] = ()) -> Article:
    """Parse one document's text. A text without the magazine header is plain text."""
    lines = _lines(raw)
    if not lines:
        raise SeedsError(f"{source}: the file is empty")
    sha = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    title, date, publisher, body_from = Path(source).stem, None, None, 0
    for i, (s, e) in enumerate(lines[:8]):
        d, pub = parse_date(raw[s:e])
        if d or pub:
            date, publisher = d, pub
            if i > 0:
                title = canonical(raw[lines[i - 1][0]:lines[i - 1][1]])
            body_from = i + 1
            if body_from < len(lines):
                ns, ne = lines[body_from]
                if canonical(raw[ns:ne]) == title:
                    body_from += 1
            break
    else:
        log.info("%s: no 'Publié le …' header found; read as plain text", source)
    blocks = []
    for s, e in lines[body_from:]:
        if _FOOTER.match(raw[s:e]):
            break
        blocks.append(Block(start=s, end=e, kind=classify(raw[s:e])))
    if not blocks:
        raise SeedsError(f"{source}: no body text after the header")
    return Article(source=source, title=title, date=date, publisher=publisher,
                   raw=raw, blocks=tuple(blocks), sha256=sha, pages=pages)


def seed_files(seeds_dir: Path) -> list[Path]:
    """The documents of the collection: every visible file (unsupported types are reported
    when loading, not silently ignored)."""
    return [seeds_dir / name for name, _ in seed_stats(seeds_dir)]


def seed_stats(seeds_dir: Path) -> list[tuple[str, os.stat_result]]:
    """Each document's name with its size and mtime, by name, in one pass over the folder."""
    if not seeds_dir.is_dir():
        raise SeedsError(f"documents folder not found: {seeds_dir} (set RAG_SEEDS_DIR or --seeds)")
    with os.scandir(seeds_dir) as it:
        entries = sorted((e for e in it if not e.name.startswith(".") and e.is_file()), key=lambda e: e.name)
    if not entries:
        raise SeedsError(f"no document in {seeds_dir}")
    return [(e.name, e.stat()) for e in entries]


def load_articles(seeds_dir: Path) -> tuple[list[Article], list[str]]:
    """Every readable document as an Article, plus one warning per file skipped (never raises
    for a single bad file; raises SeedsError when nothing at all is usable)."""
    articles, warnings = read_articles(seed_files(seeds_dir))
    if not articles:
        raise SeedsError(f"no usable document in {seeds_dir}: " + "; ".join(warnings))
    return articles, warnings


def read_articles(paths: list[Path]) -> tuple[list[Article], list[str]]:
    """The readable ones of ``paths`` as Articles, plus one warning per file skipped."""
    from .documents import read_document

    articles, warnings = [], []
    for path in paths:
        try:
            articles.append(read_document(path))
        except SeedsError as err:
            warnings.append(f"skipped {err}")
    return articles, warnings
