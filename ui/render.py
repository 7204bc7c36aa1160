"""HTML/Markdown for the chat: answers with linked [n] markers, source cards with the
evidence highlighted. Pure functions of Answer records, tested without a browser."""

from __future__ import annotations

import html
import re

from rag.records import Answer, Chunk

REFUSAL_BADGE = {"en": "⛔ **Not covered by the articles.**", "fr": "⛔ **Les articles n'en parlent pas.**"}


def link_markers(text: str, turn: int) -> str:
    """[1] → a link to source card 1 of this turn."""
    return re.sub(r"\[(\d{1,2})\]", lambda m: f"[[{m.group(1)}]](#src-{turn}-{m.group(1)})", text)


def answer_markdown(answer: Answer, turn: int, lang: str) -> str:
    if answer.refused:
        return f"{REFUSAL_BADGE.get(lang, REFUSAL_BADGE['en'])}\n\n{answer.answer}"
    body = link_markers(answer.answer, turn)
    if answer.citations:
        srcs = "; ".join(f"[{c.n}] {c.chunk.title} ({c.chunk.date or 'n.d.'})" for c in answer.citations)
        body += f"\n\n<sub>Sources: {html.escape(srcs)}</sub>"
        # the evidence stays with its answer in the history, whatever is asked next
        for c in answer.citations:
            page = c.chunk.page_at(c.evidence_start)
            where = f"{c.chunk.source}" + (f", p. {page}" if page else "")
            quote = " ".join(c.evidence.split())
            body += f"\n\n> **[{c.n}]** {_md_escape(quote)} — `{where.replace('`', '')}`"
    return body


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)


def documents_rows(docs) -> list[list]:
    """The documents table of the chat page: one row per indexed document."""
    return [[d.source, d.title, d.date or "", d.chunks, d.pages or ""] for d in docs]


def _passage_html(chunk: Chunk, ev_start: int | None, ev_end: int | None) -> str:
    text = chunk.text
    if ev_start is not None and chunk.start <= ev_start < ev_end <= chunk.end:
        a, b = ev_start - chunk.start, ev_end - chunk.start
        return (html.escape(text[:a]) + f"<mark class='evidence'>{html.escape(text[a:b])}</mark>"
                + html.escape(text[b:])).replace("\n", "<br>")
    return html.escape(text).replace("\n", "<br>")


def sources_html(answer: Answer | None, turn: int) -> str:
    if answer is None:
        return "<div class='sources empty'>Sources of the latest answer appear here.</div>"
    if answer.refused or not answer.citations:
        return "<div class='sources empty'>No passage of the articles answers this question.</div>"
    cards = []
    for c in answer.citations:
        ch = c.chunk
        cards.append(
            f"<div class='source-card' id='src-{turn}-{c.n}'>"
            f"<div class='source-head'><b>[{c.n}] {html.escape(ch.title)}</b> · {html.escape(ch.date or 'undated')}"
            f" · <code>{html.escape(ch.source)}</code>{_page(ch, c.evidence_start)} · chars {ch.start}-{ch.end}</div>"
            f"<div class='source-text'>{_passage_html(ch, c.evidence_start, c.evidence_end)}</div></div>")
    return "<div class='sources'><h4>Sources</h4>" + "".join(cards) + "</div>"


def _page(chunk: Chunk, offset: int) -> str:
    page = chunk.page_at(offset)
    return f" · page {page}" if page else ""


def history_html(cards: list[str]) -> str:
    """Source cards of every answer so far, newest first: a marker of an earlier answer still
    leads to its own passage."""
    if not cards:
        return sources_html(None, 0)
    return cards[-1] + ("<details class='earlier'><summary>Sources of earlier answers</summary>"
                        + "".join(reversed(cards[:-1])) + "</details>" if len(cards) > 1 else "")


def retrieved_html(answer: Answer | None) -> str:
    if answer is None or not answer.retrieved:
        return ""
    cited = {c.chunk.id for c in answer.citations}
    rows = []
    for i, h in enumerate(answer.retrieved, start=1):
        mark = " (cited)" if h.chunk.id in cited else ""
        rows.append(f"<div class='retrieved'><b>{i}. {html.escape(h.chunk.title)}</b>{mark} · "
                    f"<code>{html.escape(h.chunk.source)}</code> · score {h.score:.3f}"
                    f"<div class='source-text'>{_passage_html(h.chunk, None, None)}</div></div>")
    return "".join(rows)


CSS = """
.source-card, .retrieved { border: 1px solid #ddd; border-radius: 8px; padding: 8px 10px; margin: 6px 0; }
.source-head { font-size: 0.9em; margin-bottom: 4px; }
.source-text { font-size: 0.9em; line-height: 1.4; }
mark.evidence { background: #ffe58a; padding: 0 2px; }
.sources.empty { color: #777; font-style: italic; }
"""
