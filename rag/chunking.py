"""Articles → Chunks that keep meaning together.

An interview question stays with its answer; a quote stays with the person who said it
(the speaker line "Olivier Duha, coprésident de Webhelp :", or an answer opened by its
speaker's name, "Manuel Jacquinet : Précisément, …", heads every paragraph below it until the
next speaker or heading). Both go into the chunk's ``header``, which is indexed
but never quoted. Each chunk is one contiguous span of the original file.
"""

from __future__ import annotations

from dataclasses import dataclass

from .articles import inline_speaker
from .records import Article, Chunk
from .text import canonical, sentence_spans

# what ``Settings.index_signature`` records of the chunker's own logic: a change rebuilds the index
# (2: headings in a row all kept in the header; 3: and the span starts at them; 4: a paragraph's
# inline speaker label, "Manuel Jacquinet : …", sets the speaker; 5: only right after a question)
VERSION = 5
# how an interview question is labelled in a chunk's context header ("Titre | Q : Pourquoi ?")
QUESTION_LABEL = "Q : "


@dataclass(frozen=True)
class ChunkingConfig:
    max_chars: int = 1200
    min_chars: int = 250
    overlap_sentences: int = 1


@dataclass
class _Unit:
    start: int
    end: int
    section: str
    speaker: str
    question: str


def _units(article: Article) -> list[_Unit]:
    """Group blocks into units: a text block with the context it belongs to.

    Headings, a speaker or question line are glued to the block that follows them, so the first
    paragraph's span begins at them (the span stays contiguous, and a heading can be quoted:
    "Jean-François Guillot, PDG de Teleperformance France" says who the interview is with).
    Headings in a row all head what follows ("Archives : En-Contact n°55", "ENTRETIEN DU MOIS",
    "Jean-François Guillot, PDG…"); headings with nothing after them are a unit of their own
    ("Édito rédigé en octobre 2014").
    """
    units: list[_Unit] = []
    section = speaker = question = ""
    lead: int | None = None  # start of the pending heading, speaker or question lines
    heading = False  # the previous block was a heading
    asked = False  # the previous block was an interview question
    for block in article.blocks:
        line = canonical(article.text(block.start, block.end))
        if block.kind == "heading":
            section = f"{section} | {line}" if heading else line
            speaker, question = "", ""
            lead, heading = (lead if heading else block.start), True
            continue
        if block.kind == "speaker":
            speaker, question = line.rstrip(" :"), ""
            lead, heading = (lead if heading else block.start), False
            continue
        if block.kind == "question":
            question = line
            lead, heading, asked = (lead if heading else block.start), False, True
            continue
        # an answer opened by its speaker's name right after a question ("En-Contact : Pourquoi… ?" /
        # "Manuel Jacquinet : Précisément, …") makes that person the speaker of it and of what
        # follows, as a speaker line does; elsewhere "Note Importante : …" is not a speaker
        speaker = (inline_speaker(line) if asked else None) or speaker
        start = lead if lead is not None else block.start
        lead, heading, asked = None, False, False
        units.append(_Unit(start, block.end, section, speaker, question))
    if lead is not None:  # trailing heading, question or speaker lines with nothing after them
        units.append(_Unit(lead, article.blocks[-1].end, section, speaker, question))
    return units


def _header(article: Article, unit: _Unit) -> str:
    parts = [article.title]
    if unit.section:
        parts.append(unit.section)
    if unit.speaker:
        parts.append(f"{unit.speaker} :")
    if unit.question:
        parts.append(f"{QUESTION_LABEL}{unit.question}")
    return " | ".join(parts)


def _split_long(article: Article, start: int, end: int, cfg: ChunkingConfig) -> list[tuple[int, int]]:
    """Windows of whole sentences no longer than max_chars, overlapping by N sentences."""
    sents = sentence_spans(article.raw[start:end], start)
    if not sents:
        return [(start, end)]
    windows, i = [], 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1][1] - sents[i][0] <= cfg.max_chars:
            j += 1
        windows.append((sents[i][0], sents[j][1]))
        if j + 1 >= len(sents):
            break
        i = max(j + 1 - cfg.overlap_sentences, i + 1)
    return windows


def chunk_article(article: Article, cfg: ChunkingConfig, *, first_id: int = 0) -> list[Chunk]:
    spans: list[tuple[int, int, str]] = []
    cur: list[_Unit] = []

    def flush():
        if not cur:
            return
        s, e = cur[0].start, cur[-1].end
        header = _header(article, cur[0])
        if e - s <= cfg.max_chars:
            spans.append((s, e, header))
        else:
            spans.extend((ws, we, header) for ws, we in _split_long(article, s, e, cfg))
        cur.clear()

    for unit in _units(article):
        same_context = cur and (cur[0].section, cur[0].speaker, cur[0].question) == (
            unit.section, unit.speaker, unit.question)
        if cur and (not same_context or unit.end - cur[0].start > cfg.max_chars):
            # keep packing short pieces of one context; otherwise start a new chunk
            if not (same_context and cur[-1].end - cur[0].start < cfg.min_chars):
                flush()
        cur.append(unit)
    flush()
    return [
        Chunk(id=first_id + i, source=article.source, title=article.title, date=article.date,
              start=s, end=e, text=article.raw[s:e], header=h, **_pages(article, s, e))
        for i, (s, e, h) in enumerate(spans)
    ]


def _pages(article: Article, start: int, end: int) -> dict:
    """Page of a span's start and the page breaks inside it (formats with pages only)."""
    if not article.pages:
        return {}
    page = sum(1 for p in article.pages if p <= start) or 1
    return {"page": page, "page_starts": tuple(p for p in article.pages if start < p < end)}


def chunk_articles(articles: list[Article], cfg: ChunkingConfig) -> list[Chunk]:
    chunks: list[Chunk] = []
    for article in articles:
        chunks.extend(chunk_article(article, cfg, first_id=len(chunks)))
    return chunks
