"""Citation markers and evidence-sentence selection: pure functions, no model.

A small model's prose is weak, so every answer carries its proof: for each cited passage
the sentence that best supports the answer (and the question) is the ``evidence``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import tokenize
from .text import entities, sentence_spans

_MARKER = re.compile(r"\s*\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")


@dataclass(frozen=True)
class Sentence:
    """A candidate evidence sentence: its span in the article and its dense score (or 0)."""

    passage: int  # 1-based passage number
    start: int
    end: int
    text: str
    dense: float = 0.0
    about: str = ""  # the whole passage with its context header: what the passage is about


def markers(answer: str) -> list[int]:
    """Passage numbers cited in the answer, in order of first appearance."""
    seen: list[int] = []
    for m in _MARKER.finditer(answer):
        for n in re.split(r"\s*,\s*", m.group(1)):
            if int(n) not in seen:
                seen.append(int(n))
    return seen


def drop_invalid_markers(answer: str, n_passages: int) -> str:
    """Remove markers that point at no passage; keep the valid numbers of a group."""
    def fix(m):
        ok = [n for n in re.split(r"\s*,\s*", m.group(1)) if 1 <= int(n) <= n_passages]
        return f" [{', '.join(ok)}]" if ok else ""
    return _MARKER.sub(fix, answer).strip()


def strip_markers(answer: str) -> str:
    return _MARKER.sub("", answer).strip()


def candidate_sentences(passages: list[tuple]) -> list[Sentence]:
    """Sentences of each passage, given as (start, end, text[, context header]) in the article."""
    out = []
    for n, (start, _end, text, *ctx) in enumerate(passages, start=1):
        about = " ".join([*ctx, text])
        spans = sentence_spans(text, start, min_chars=12)
        # a speaker line ("Olivier Duha, coprésident de Webhelp :") says who speaks, never
        # what was said: not evidence when anything else is there
        body = [(s, e) for s, e in spans if not text[s - start:e - start].rstrip().endswith(":")]
        for s, e in body or spans:
            out.append(Sentence(passage=n, start=s, end=e, text=text[s - start:e - start], about=about))
    return out


def overlap(a_terms: set[str], text: str) -> float:
    if not a_terms:
        return 0.0
    return len(a_terms & set(tokenize(text))) / len(a_terms)


def question_terms(question: str) -> tuple[set[str], set[str]]:
    """(topic terms, fact terms): names in the question say what it is about (retrieval has
    used them already); the other content words say which fact is wanted."""
    topic = {t for e in entities(question) for t in tokenize(e)}
    return topic, set(tokenize(question)) - topic


def score_sentence(sent: Sentence, *, question: str, answer: str) -> float:
    """Support for the (question, answer) pair. The question's names select the passage (is it
    about Olivier Duha, in its text or its speaker line?); its fact terms, the answer's own
    terms and dense similarity select the sentence."""
    topic, fact = question_terms(question)
    a_terms = set(tokenize(strip_markers(answer))) - topic - fact
    return (0.3 * overlap(fact or topic, sent.text) + 0.15 * overlap(topic, sent.about or sent.text)
            + 0.25 * overlap(a_terms, sent.text) + 0.35 * max(sent.dense, 0.0))


def rank_prior(sent: Sentence) -> float:
    """Retrieval ranked the passages: the first holds the answer most often."""
    return 0.2 / sent.passage


def ranked_sentences(sents: list[Sentence], *, question: str, answer: str) -> list[Sentence]:
    return sorted(sents, key=lambda s: (score_sentence(s, question=question, answer=answer) + rank_prior(s),
                                        -s.passage, -s.start), reverse=True)


def best_sentence(sents: list[Sentence], *, question: str, answer: str, passage: int | None = None) -> Sentence | None:
    pool = [s for s in sents if passage is None or s.passage == passage]
    ranked = ranked_sentences(pool, question=question, answer=answer)
    return ranked[0] if ranked else None


def extractive_answer(sents: list[Sentence], *, question: str, lead: str, n: int = 2, hint: str = "") -> str | None:
    """The n best supporting sentences, quoted in document order, each with its marker.
    ``hint``: the model's own (unsupported) answer, whose words point at the sentence it read."""
    ranked = ranked_sentences(sents, question=question, answer=hint)
    if not ranked:
        return None

    def total(x):
        return score_sentence(x, question=question, answer=hint) + rank_prior(x)
    best = ranked[0]
    # more quotes only from the same passage, or from another one nearly as strong
    top = [best] + [x for x in ranked[1:] if x.passage == best.passage or total(x) >= 0.9 * total(best)][: n - 1]
    quotes = [f"« {' '.join(s.text.strip(' «»').removeprefix('(…)').split())} » [{s.passage}]"
              for s in sorted(top, key=lambda s: (s.passage, s.start))]
    return f"{lead} " + " ".join(quotes)
