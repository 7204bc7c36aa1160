"""What the model reads: the few sentences of the retrieved passages that answer. Pure.

Every retrieved passage competes (not only the first three); the best sentence comes with its
neighbours (a reason often follows the sentence that names the person), then the next best
sentences fill a character budget, which is the prompt-time budget on a CPU. Each excerpt
keeps the context a reader needs (article, speaker, interview question), and sentences that
address an AI model (planted instructions) are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import citations as cit
from .chunking import QUESTION_LABEL
from .records import Hit
from .support import looks_like_instruction


@dataclass(frozen=True)
class Excerpt:
    """A numbered passage as the model sees it: context line plus selected sentences."""

    n: int  # number shown to the model, 1-based
    hit: Hit
    context: str
    sentences: tuple[cit.Sentence, ...]  # in document order

    @property
    def prompt_text(self) -> str:
        """How the model reads it: context, then the quoted sentences."""
        return f"{self.context} — «{self.body.strip(' «»')}»"

    @property
    def body(self) -> str:
        parts, prev_end = [], None
        for s in self.sentences:
            if prev_end is not None and s.start > prev_end + 2:
                parts.append("(…)")
            parts.append(" ".join(s.text.split()))
            prev_end = s.end
        return " ".join(parts)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + "…"


def context_line(hit: Hit, *, title_chars: int = 60, question_chars: int = 110) -> str:
    """Article title, then speaker and interview question when there are: who says it, to what."""
    chunk = hit.chunk
    parts = [_clip(chunk.title, title_chars)]
    for part in chunk.header.split(" | ")[1:]:
        part = part.strip()
        if part.startswith(QUESTION_LABEL):
            part = "Q: " + _clip(part[len(QUESTION_LABEL):], question_chars)
        parts.append(part.rstrip(" :"))
    return " — ".join(p for p in parts if p)


def select(sents: list[cit.Sentence], hits: list[Hit], *, question: str, budget_chars: int,
           before: int = 2, after: int = 1, must: cit.Sentence | None = None) -> list[Excerpt]:
    """Choose sentences for the prompt within ``budget_chars`` and group them into excerpts
    numbered by retrieval rank. ``sents`` carry 1-based passage numbers into ``hits``; ``must``
    (one of them, a model's pick) is chosen whatever the budget."""
    pool = [s for s in sents if not looks_like_instruction(s.text)]
    ranked = cit.ranked_sentences(pool, question=question, answer="")
    if not ranked:
        return []
    by_passage: dict[int, list[cit.Sentence]] = {}
    for s in pool:
        by_passage.setdefault(s.passage, []).append(s)
    for v in by_passage.values():
        v.sort(key=lambda s: s.start)
    chosen: dict[tuple[int, int], cit.Sentence] = {}
    used = 0

    def take(s: cit.Sentence, limit: float) -> bool:
        nonlocal used
        key = (s.passage, s.start)
        if key in chosen:
            return True
        cost = len(s.text) + 8
        if chosen and used + cost > limit:
            return False
        chosen[key] = s
        used += cost
        return True

    # the best sentence and its neighbours come whole, up to 1.5 × the budget: an answer often
    # spans a long quoted sentence and the short one after it
    best = ranked[0]
    take(best, budget_chars)
    if must is not None:
        take(must, float("inf"))
    siblings = by_passage[best.passage]
    i = siblings.index(best)
    for j in (*range(i - 1, i - 1 - before, -1), *range(i + 1, i + 1 + after)):
        if 0 <= j < len(siblings):
            take(siblings[j], 1.5 * budget_chars)
    for s in ranked[1:]:
        if used >= budget_chars:
            break
        take(s, budget_chars)
    out, n = [], 0
    for p in sorted({k[0] for k in chosen}):
        n += 1
        picked = tuple(sorted((s for (q, _), s in chosen.items() if q == p), key=lambda s: s.start))
        out.append(Excerpt(n=n, hit=hits[p - 1], context=context_line(hits[p - 1]), sentences=picked))
    return out


def shown_sentences(excerpts: list[Excerpt]) -> list[cit.Sentence]:
    """The sentences as the model read them, each numbered as its excerpt."""
    return [replace(x, passage=e.n) for e in excerpts for x in e.sentences]


def anchors(excerpts: list[Excerpt], *, question: str, n: int) -> frozenset[tuple[int, int, int]]:
    """(excerpt number, start, end) of the ``n`` shown sentences that best match the question,
    ranked as the sentences were chosen (``cit.ranked_sentences``, no answer yet)."""
    ranked = cit.ranked_sentences(shown_sentences(excerpts), question=question, answer="")
    return frozenset((x.passage, x.start, x.end) for x in ranked[:n])
