"""Citation markers and evidence-sentence selection: pure functions, no model.

A small model's prose is weak, so every answer carries its proof: for each cited passage
the sentence that best supports the answer (and the question) is the ``evidence``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import Callable

from .articles import PERSON, classify
from .lexical import tokenize
from .prompt import detect_language
from .refusal import ROLES, asks_for, gives, names_role, role_asked
from .support import content_words
from .text import entities, fold, sentence_spans
from .wordvectors import same_form

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
    header: str = ""  # the passage's context header alone (article, section, speaker, interview question)
    # the question's cosine with the sentence read in context (0 without a dense encoder): an
    # answer often follows the sentence that matches the question (an interview question, the
    # line that names the speaker), so a sentence inherits some of its neighbours' relevance
    lead: float = 0.0  # the previous sentence's own cosine
    before: float = 0.0  # cosine of (previous sentence + this one)
    after: float = 0.0  # cosine of (this one + next sentence)
    # a question that ends its paragraph: an interviewer's, answered by what follows (not a
    # rhetorical question closing a statement, "J'ai été étonné par X : à quoi a-t-elle servi ?")
    asks: bool = False
    # holds exactly what the question asks for: a number of what a "how many" question counts
    # ("230 000 agents"), a length of time for "how long" ("15 minutes")
    counts: bool = False
    # share of the question's fact terms the sentence holds across languages (in any form, or as
    # one of their closest document words: ``across_languages``, set by the caller for a sentence in
    # another language than the question); None: counted by shared stems
    fact: float | None = None


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


_ASKS_IDENTITY = re.compile(
    r"^(and |et )?(who is|who was|who's|qui est|qui etait|c'est qui)\b"
    r"|\b(job|role|position|title|function|poste|fonction|metier)( exactly)? (of|de|d')\b"
    r"|^what (does|did) (\S+ ){1,4}do\W*$|^que (fait|faisait) (\S+ ?){1,3}\W*$")


def asks_identity(question: str) -> bool:
    """"Who is X?", "what is X's role?": answered by the line that introduces X."""
    return bool(_ASKS_IDENTITY.search(fold(question)))


# the publishing site's call to action ("Pour tout savoir sur les call centers…, cliquez ici."):
# never evidence; matched against ``fold``ed text
_CALL_TO_ACTION = re.compile(r"\b(cliquez ici|cliquez sur ce lien|click here|lire la suite|read more|abonnez vous|"
                             r"subscribe now)\b")
# a sentence that introduces a person by a role ("Manuel Jacquinet est Rédacteur en chef du
# magazine En-Contact.", "Laurent Uberti, président du Syndicat…"): the name, then "est"/"is" or a comma
_INTRODUCES = re.compile(rf"^\W*{PERSON}\s*(,|\b(est|is|was|etait|était)\b)")
INTRO_MAX_WORDS = 16


def introduces(line: str) -> bool:
    """A short sentence that says who a person is by their role: like a speaker line, it answers
    who that person is or who holds the role, not what they said or did."""
    return (len(re.findall(r"\w+", line)) <= INTRO_MAX_WORDS and bool(_INTRODUCES.match(line.strip()))
            and any(names_role(role, line) for role in ROLES))


def candidate_sentences(passages: list[tuple], *, question: str = "") -> list[Sentence]:
    """Sentences of each passage, given as (start, end, text[, context header]) in the article.
    A speaker line ("Olivier Duha, coprésident de Webhelp :") says who speaks, never what was
    said, and a heading ("Archives : En-Contact n°55") names a section: each is evidence only for
    a question asking who a person it names is, or who holds a role it names ("Who heads the
    association…?": "Fabrice André, président de l'Association… :"); so is a short sentence that
    introduces a person by role (``introduces``: "Manuel Jacquinet est Rédacteur en chef du
    magazine En-Contact."). The site's calls to action ("…, cliquez ici.") are never evidence.
    On the development sets (eval/calibration.jsonl, fresh, fresh3, fresh5) the evidence is
    ranked first for 4 more questions of 190 with both, none fewer (``scripts/selection.py``)."""
    names = [set(tokenize(e)) for e in entities(question)] if question and asks_identity(question) else []
    role = role_asked(question) if question else None
    out = []
    for n, (start, _end, text, *ctx) in enumerate(passages, start=1):
        about = " ".join([*ctx, text])
        spans = sentence_spans(text, start, min_chars=12)

        def usable(s: int, e: int) -> bool:
            line = text[s - start:e - start]
            if _CALL_TO_ACTION.search(fold(line)):
                return False
            return ((classify(line) not in ("speaker", "heading") and not introduces(line))
                    or any(name <= set(tokenize(line)) for name in names if name)
                    or (role is not None and names_role(role, line)))
        body = [(s, e) for s, e in spans if usable(s, e)]
        for s, e in body or spans:
            line, rest = text[s - start:e - start], text[e - start:]
            out.append(Sentence(passage=n, start=s, end=e, text=line, about=about, header=" ".join(ctx),
                                asks=is_question(line) and not rest.split("\n", 1)[0].strip()))
    return out


def neighbours(sents: list[Sentence]) -> dict[int, tuple[int | None, int | None]]:
    """Index of each sentence's previous and next sentence in the same passage (or None)."""
    out: dict[int, tuple[int | None, int | None]] = {}
    by_passage: dict[int, list[int]] = {}
    for i, s in enumerate(sents):
        by_passage.setdefault(s.passage, []).append(i)
    for idx in by_passage.values():
        idx.sort(key=lambda i: sents[i].start)
        for k, i in enumerate(idx):
            out[i] = (idx[k - 1] if k else None, idx[k + 1] if k + 1 < len(idx) else None)
    return out


def in_context(sents: list[Sentence], cosines: Callable[[list[str]], list[float]]) -> list[Sentence]:
    """The sentences with their in-context scores; ``cosines`` gives the question's cosine with
    each text (one batch: about two texts a sentence)."""
    near = neighbours(sents)
    windows = []
    for i, s in enumerate(sents):
        prev, nxt = near[i]
        windows.append(" ".join([sents[prev].text, s.text]) if prev is not None else s.text)
        windows.append(" ".join([s.text, sents[nxt].text]) if nxt is not None else s.text)
    scores = cosines(windows) if sents else []
    return [replace(s, lead=sents[near[i][0]].dense if near[i][0] is not None else 0.0,
                    before=scores[2 * i], after=scores[2 * i + 1]) for i, s in enumerate(sents)]


_ASKS_WHO = re.compile(r"^(and |et )?(who|whom|qui)\b|\b(by whom|with whom|par qui|avec qui|which (person|company|firm)|"
                       r"quelle (societe|entreprise))\b")


@functools.lru_cache(maxsize=512)
def _asked(question: str) -> tuple[str | None, frozenset[str] | None]:
    """What the question asks for (a kind of ``refusal.asks_for`` or None), and for "who" the names it holds."""
    who = frozenset(entities(question)) if _ASKS_WHO.search(fold(question)) else None
    return asks_for(question), who


def gives_type(sent: Sentence, *, question: str, kind: str | None) -> bool:
    """The sentence holds the kind of thing asked for: a figure for a number or a date, a
    percentage for a share, an amount of money for a price, a phone number for one, a length of
    time for "how long", a name the question does not hold for "who"."""
    if kind in ("number", "date"):
        return bool(re.search(r"\d", sent.text))
    if kind is not None:  # any other kind ``refusal.asks_for`` names: as ``refusal.gives`` reads it
        return gives(kind, sent.text, question=question)
    named = _asked(question)[1]
    return named is not None and bool(entities(sent.text, ignore={fold(n) for n in named}))


def overlap(a_terms: set[str], text: str) -> float:
    if not a_terms:
        return 0.0
    return len(a_terms & set(tokenize(text))) / len(a_terms)


@functools.lru_cache(maxsize=512)
def question_terms(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """(topic terms, fact terms): names in the question say what it is about (retrieval has
    used them already); the other content words say which fact is wanted. Cached: every
    sentence of every passage is scored against the same question."""
    topic = frozenset(t for e in entities(question) for t in tokenize(e))
    return topic, frozenset(tokenize(question)) - topic


def score_sentence(sent: Sentence, *, question: str, answer: str) -> float:
    """Support for the (question, answer) pair. The question's names select the passage (is it
    about Olivier Duha, in its text or its speaker line?); its fact terms, the answer's own
    terms, dense similarity alone and in context select the sentence; a sentence that is itself
    a question rarely answers, one that holds the kind of thing asked for (a figure, a name) often
    does, and what a person said is in the passages where that person speaks (the context header
    names the speaker), not in those that only mention them. Weights from eval/calibration.jsonl
    (evidence sentence ranked first 59 → 66 %, in the top 3 71 → 77 %; on the held-out questions
    54 → 56 % and 63 → 72 %: scripts/selection.py). A sentence that counts what a "how many"
    question counts (``counts``, set by the caller) reaches the prompt: the evidence of 11 of the
    11 such calibration questions is shown, against 9 without."""
    topic, fact = question_terms(question)
    a_terms = set(tokenize(strip_markers(answer))) - topic - fact
    facts = overlap(fact or topic, sent.text) if sent.fact is None else sent.fact
    return (0.3 * facts + 0.15 * overlap(topic, sent.about or sent.text)
            + 0.25 * overlap(a_terms, sent.text) + 0.35 * max(sent.dense, 0.0)
            + 0.35 * max(sent.lead, 0.0) + 0.6 * max(sent.before, 0.0) + 0.35 * max(sent.after, 0.0)
            - 0.2 * is_question(sent.text) + 0.1 * gives_type(sent, question=question, kind=_asked(question)[0])
            + 0.2 * overlap(topic, sent.header) + 0.3 * sent.counts)


def is_question(text: str) -> bool:
    """The sentence asks (an interviewer's question, a rhetorical one)."""
    return text.rstrip(" »\"").endswith("?")


def fact_words(question: str) -> list[str]:
    """The question's content words that are not part of a name: the words that say which fact is
    wanted ("Why did Maxence d'Espeuilles get rid of his landline?": "get", "rid", "his",
    "landline"), as written (for word vectors)."""
    names = {fold(w) for e in entities(question) for w in content_words(e)}
    return [w for w in content_words(question) if fold(w) not in names]


def across_languages(sents: list[Sentence], *, question: str,
                     near: Callable[[list[str]], list[list[str]]]) -> list[Sentence]:
    """The sentences in another language than the question with their ``fact`` share: each fact
    word of the question counts when the sentence holds it, or one of the document words ``near``
    gives for it (its closest in the multilingual space: "banning" → "interdire", "interdit"), in
    any form (``wordvectors.same_form``). Shared stems say nothing across languages: an English
    question's fact terms are in no French sentence. `rag eval eval/calibration.jsonl` (balanced):
    correct 72.8 → 74.8 % (English 59.7 → 62.9 %: 3 answers gained, 1 lost), French unchanged;
    held-out (checked once): correct 75.4 % both (1 gained, 1 lost), answer or evidence 75.4 → 77.2 %,
    unanswerable refused 60.9 → 65.2 %, answerable refused 10.5 → 8.8 %. Word vectors compared
    directly at cosine 0.5 instead paired "think" with "avisé" and lost as many answers as they gained."""
    asked = fact_words(question)
    lang = detect_language(question)
    foreign = [i for i, x in enumerate(sents) if detect_language(x.text) != lang]
    if not asked or not foreign:
        return sents
    forms = [[a, *n] for a, n in zip(asked, near(asked))]
    out = list(sents)
    for i in foreign:
        theirs = content_words(sents[i].text)
        hit = [any(same_form(w, f) for f in fs for w in theirs) for fs in forms]
        out[i] = replace(sents[i], fact=sum(hit) / len(asked))
    return out


def rank_prior(sent: Sentence) -> float:
    """Retrieval ranked the passages: the first holds the answer most often."""
    return 0.2 / sent.passage


def ranked_score(sent: Sentence, *, question: str, answer: str) -> float:
    """What sentences are ranked by: their support for the (question, answer) and retrieval's prior."""
    return score_sentence(sent, question=question, answer=answer) + rank_prior(sent)


def ranked_sentences(sents: list[Sentence], *, question: str, answer: str) -> list[Sentence]:
    return sorted(sents, key=lambda s: (ranked_score(s, question=question, answer=answer), -s.passage, -s.start),
                  reverse=True)


def best_sentence(sents: list[Sentence], *, question: str, answer: str, passage: int | None = None) -> Sentence | None:
    pool = [s for s in sents if passage is None or s.passage == passage]
    ranked = ranked_sentences(pool, question=question, answer=answer)
    return ranked[0] if ranked else None


SHORT_REPLY = 5  # words: a sentence this short is a reply that the next one explains


def pick_candidates(sents: list[Sentence], *, question: str, n: int = 4) -> tuple[list[Sentence], float]:
    """The ranker's ``n`` best sentences (each text once) for a model to choose from, and the
    ranker's own margin between its first two: a small margin is a guess (on the English
    questions of eval/calibration.jsonl, the model's choice gained where it was under 0.11)."""
    best: list[Sentence] = []
    for x in ranked_sentences(sents, question=question, answer=""):
        if all(quote_text(x) != quote_text(y) for y in best):
            best.append(x)
        if len(best) == n:
            break
    scores = [ranked_score(x, question=question, answer="") for x in best[:2]]
    return best, (scores[0] - scores[1]) if len(scores) == 2 else float("inf")


def rerank(cands: list[Sentence], likelihoods: list[float], *, question: str, weight: float) -> list[Sentence]:
    """The candidates by the ranker's score plus ``weight`` times the question's likelihood after
    each (``prompt.question_likelihood_prefix``: mean log-probability per token)."""
    def total(i: int) -> float:
        return ranked_score(cands[i], question=question, answer="") + weight * likelihoods[i]
    return [cands[i] for i in sorted(range(len(cands)), key=lambda i: (-total(i), i))]


def quote_sentences(sents: list[Sentence], *, question: str, n: int = 2, hint: str = "",
                    first: Sentence | None = None) -> list[Sentence]:
    """The n best supporting sentences to quote, in reading order; a bare reply ranked first
    comes with the sentence after it (on eval/calibration.jsonl: +1 question right of 73).
    ``hint``: the model's own (unsupported) answer, whose words point at the sentence it read.
    ``first``: the sentence a model picked as the answer (one of ``sents``): quoted first, with
    the ranker's best after it when that is another sentence."""
    ranked = ranked_sentences(sents, question=question, answer=hint)
    if not ranked:
        return []
    if first is not None and quote_text(first) != quote_text(ranked[0]):
        return [first, ranked[0]][:n]

    def total(x):
        return ranked_score(x, question=question, answer=hint)
    best = ranked[0]
    follow = neighbours(sents)[sents.index(best)][1]
    if n >= 2 and follow is not None and len(re.findall(r"\w+", best.text)) <= SHORT_REPLY:
        # a bare reply ("Oui sans aucun doute.", "Pour l'acquisition, non.") says what it means in
        # the sentence after it
        return [best, sents[follow]]
    # more quotes only from the same passage, or from another one nearly as strong, and only
    # sentences that say something (not a byline such as "***Manuel Jacquinet"), and not an
    # interviewer's question unless it holds what is asked (it asks, the answer after it tells:
    # on eval/calibration.jsonl the quotes hold the answer for 2 more questions of 103, none fewer)
    kind = _asked(question)[0]
    # (overlapping chunks hold the same sentence twice: it is quoted once)
    top = [best] + [x for x in ranked[1:] if (x.passage == best.passage or total(x) >= 0.9 * total(best))
                    and len(re.findall(r"\w+", x.text)) >= 4 and quote_text(x) != quote_text(best)
                    and not (x.asks and not gives_type(x, question=question, kind=kind))][: n - 1]
    # the best quote first (a reader reads the first); two sentences that follow each other in
    # one passage keep their order, as they read together
    if len(top) == 2 and top[0].passage == top[1].passage and _adjacent(sents, top[1], top[0]):
        top = top[::-1]
    return top


def quote_text(sent: Sentence) -> str:
    """A sentence as quoted: without its own guillemets or leading ellipsis, spaces normalised."""
    return " ".join(sent.text.strip(" «»").removeprefix("(…)").split())


def quoted_evidence(quoted: list[Sentence], passage: int) -> tuple[int, int] | None:
    """The span (start, end) of the sentences quoted from one passage as one piece of evidence, when
    there are several and they follow each other in the document, so that the sources show the
    original of every quote ("Laissons le choix aux entreprises. Les gens qui veulent…"); else None."""
    mine = sorted((x for x in quoted if x.passage == passage), key=lambda x: x.start)
    if len(mine) < 2 or any(b.start - a.end > 3 for a, b in zip(mine, mine[1:])):
        return None
    return mine[0].start, mine[-1].end


def quoted_answer(quotes: list[tuple[str, int, bool]], *, lead: str) -> str:
    """Quotes rendered for the reader: (text, passage, machine-translated?) triples, each with its
    marker; an original between « », a translation between “ ”."""
    return f"{lead} " + " ".join(f"“{t}” [{n}]" if tr else f"« {t} » [{n}]" for t, n, tr in quotes)


def _adjacent(sents: list[Sentence], first: Sentence, second: Sentence) -> bool:
    """``second`` is the sentence right after ``first`` in their passage."""
    return neighbours(sents)[sents.index(first)][1] == sents.index(second)
