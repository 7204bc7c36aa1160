"""Text normalisation for matching, and sentence splitting that keeps offsets.

Matching never rewrites the original text: spans always index the file as read.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_QUOTES = str.maketrans(
    {
        "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"', "\u201e": '"',
        "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2010": "-",
        "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200b": "",
        "\u0153": "oe", "\u0152": "OE", "\u00e6": "ae",
    }
)

_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}\b)")


@functools.lru_cache(maxsize=1)
def _combining() -> dict[int, None]:
    """Every combining mark (all lie below U+20000), as a str.translate table that deletes them."""
    return dict.fromkeys(c for c in range(0x20000) if unicodedata.combining(chr(c)))


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining())


def canonical(text: str) -> str:
    """Typographic variants folded (quotes, dashes, exotic spaces), whitespace collapsed."""
    return _WS.sub(" ", text.translate(_QUOTES)).strip()


def fold(text: str) -> str:
    """Case-, accent-, punctuation- and whitespace-insensitive form used for matching.

    "1 200 000" (with non-breaking spaces) and "1200000" fold to the same string.
    """
    text = strip_accents(canonical(text)).lower()
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    text = _WS.sub(" ", text).strip()
    return _DIGIT_GROUP.sub("", text)


def contains_folded(haystack: str, needle: str) -> bool:
    """True when ``needle`` occurs in ``haystack`` after folding, on word boundaries."""
    n = fold(needle)
    if not n:
        return False
    return f" {n} " in f" {fold(haystack)} "


# A sentence ends at . ! ? … or a closing guillemet followed by space + capital / opening mark,
# or at a line break. Abbreviations like "M." or "Dr." are not sentence ends.
_SENT_END = re.compile(r"(?<=[.!?…»])\s+(?=[«\"A-ZÀ-ÖØ-Þ0-9(])|\n+")
_ABBREV = re.compile(r"(?:\b(?:M|Mme|Dr|St|Me|cf|etc|ex|n°|No|p)\.|\b[A-Z]\.)$")


def sentence_spans(text: str, offset: int = 0, *, min_chars: int = 2) -> list[tuple[int, int]]:
    """Split ``text`` into sentences; return (start, end) spans shifted by ``offset``."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END.finditer(text):
        piece = text[start:m.start()]
        if m.group().strip() == "" and "\n" not in m.group() and _ABBREV.search(piece):
            continue
        _push(spans, text, start, m.start(), offset, min_chars)
        start = m.end()
    _push(spans, text, start, len(text), offset, min_chars)
    return spans


def _push(spans, text, start, end, offset, min_chars):
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= min_chars:
        spans.append((start + offset, end + offset))


_ENTITY = re.compile(r"\b[A-ZÀ-Ý][\w'’-]*(?:\s+(?:d[eu']\s*|de la\s+)?[A-ZÀ-Ý][\w'’-]*)*")


def entities(text: str, *, ignore: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Capitalised word runs (names, brands, places). A lone capitalised first word is just the
    sentence start; runs whose folded form is in ``ignore`` (question words) are skipped."""
    out = []
    lead = len(text) - len(text.lstrip())
    for m in _ENTITY.finditer(text):
        span = m.group().strip()
        if (m.start() == lead and " " not in span) or fold(span) in ignore:
            continue
        out.append(span)
    return out
