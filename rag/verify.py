"""Answer sentences checked one at a time against the excerpts they cite.

A sentence is checked as soon as the model has finished it, so callers can stream only
verified text: each kept sentence (with its citation marker) is final the moment it is
returned, and the whole answer is exactly the kept sentences joined by spaces. When the
answer must hold something (a figure, for "how many?"), supported sentences are held back
until one holds it; if none does, none is shown.
"""

from __future__ import annotations

import re
from typing import Callable

from . import citations as cit
from . import compose, support
from .records import Citation
from .text import entities, fold

Similarity = Callable[[str, list[str]], list[float]]


class AnswerChecker:
    """Keeps the sentences their cited excerpt supports (a sentence citing nothing is checked
    against every excerpt); a sentence citing the wrong excerpt is re-cited to the one that
    supports it; each citation's evidence is the sentence that supports the claim."""

    def __init__(self, excerpts: list[compose.Excerpt], *, question: str, similarity: Similarity,
                 min_similarity: float, complete: Callable[[str], bool] | None = None,
                 anchors: frozenset[tuple[int, int, int]] | None = None,
                 coverage: Callable[[str, str], float] | None = None, min_coverage: float | None = None):
        self.excerpts = excerpts
        self.question = question
        self.similarity = similarity
        self.floor = min_similarity
        # a claim whose words the evidence sentence holds (across languages) is supported even when
        # the sentence encoder rates the pair low (``support.word_coverage``); None: meaning only
        self.coverage = coverage if min_coverage is not None else None
        self.min_coverage = min_coverage
        self.views = {e.n: support.PassageView(text=e.prompt_text, sentences=tuple(
            (x.start, x.end, x.text) for x in e.sentences)) for e in excerpts}
        self.complete = complete  # does the answer so far hold what the question asks for?
        # (excerpt, start, end) of the sentences that best match the question: the first sentence
        # shown must rest on one of them (None: any supporting sentence will do)
        self.anchors = anchors
        self.kept: list[str] = []  # released: final
        self.held: list[tuple[str, dict]] = []  # supported, waiting for a sentence that completes the answer
        self.dropped: list[str] = []
        self.checks: list[dict] = []
        self._cites: dict[int, Citation] = {}

    def check(self, claim: str) -> str | None:
        """What may now be shown: the sentence (markers fixed), preceded by any held-back ones
        it completes; None when it is dropped or held back."""
        claim = cit.drop_invalid_markers(claim, len(self.excerpts))
        cited = cit.markers(claim) or list(self.views)
        check = self._check(claim, cited)
        others = [n for n in self.views if n not in cited]
        if not self._supported(check) and others:
            # small models often cite the wrong excerpt: a claim another excerpt supports is
            # kept, citing that excerpt instead
            alt = self._check(claim, others)
            if self._supported(alt):
                check, claim = alt, append_marker(cit.strip_markers(claim), alt.passage)
        ok = bool(cit.strip_markers(claim).strip(" .")) and self._supported(check)
        problems = list(check.problems)
        span = support.support_span(check, min_similarity=self.floor)
        if ok and self.anchors is not None and not self.kept and not self.held and \
                (check.passage, *(span or (-1, -1))) not in self.anchors:
            ok = False
            problems.append("rests on a sentence that does not match the question")
        self.checks.append({"sentence": claim, "passage": check.passage, "similarity": round(check.similarity, 4),
                            **({"coverage": round(check.coverage, 4)} if self.coverage else {}),
                            "problems": problems, "kept": ok})
        if not ok:
            self.dropped.append(claim)
            return None
        if not cit.markers(claim):
            claim = append_marker(claim, check.passage)
        self.held.append((claim, self.checks[-1]))
        ex = self.excerpts[check.passage - 1]
        chunk = ex.hit.chunk
        span = span or (chunk.start, chunk.end)
        self._cites.setdefault(check.passage, Citation(
            n=check.passage, chunk=chunk, evidence=chunk.text[span[0] - chunk.start:span[1] - chunk.start],
            evidence_start=span[0], evidence_end=span[1]))
        if self.complete is not None and not self.complete(" ".join([*self.kept, *(c for c, _ in self.held)])):
            return None
        released, self.held = " ".join(c for c, _ in self.held), []
        self.kept.append(released)
        return released

    def finish(self) -> None:
        """The generation is over: sentences still held back never completed the answer."""
        for claim, record in self.held:
            self.dropped.append(claim)
            record.update(kept=False, problems=[*record["problems"], "does not give what the question asks for"])
        self.held = []

    def _check(self, claim: str, cited: list[int]) -> support.ClaimCheck:
        return support.check_claim(claim, cited=cited, passages=self.views, question=self.question,
                                   similarity=self.similarity, strip=cit.strip_markers, coverage=self.coverage)

    def _supported(self, check: support.ClaimCheck) -> bool:
        return support.supported(check, min_similarity=self.floor, min_coverage=self.min_coverage)

    @property
    def answer(self) -> str:
        return " ".join(self.kept)

    @property
    def citations(self) -> list[Citation]:
        return [self._cites[n] for n in cit.markers(self.answer) if n in self._cites]


class SentenceFeed:
    """Splits a growing generation into finished sentences: a sentence is finished once the
    next one has begun, or when the generation ends."""

    def __init__(self):
        self.done = 0

    def finished(self, text: str, *, final: bool = False) -> list[str]:
        claims = support.claim_sentences(text)
        upto = len(claims) if final else max(len(claims) - 1, 0)
        new = claims[self.done:upto]
        self.done = max(self.done, upto)
        return new


def append_marker(claim: str, n: int) -> str:
    body = claim.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    return f"{body[:-1].rstrip() if end else body} [{n}]{end}"


_SPACED_THOUSANDS = re.compile(r"\b(\d{1,3}), (\d{3})\b")


def close_thousands(translation: str, original: str) -> str:
    """The translation with "100, 000 euros" written "100,000 euros" where the original holds
    100 000 (a small model spaces the separator it writes for the French space)."""
    theirs = support.numbers(original)
    return _SPACED_THOUSANDS.sub(lambda m: f"{m.group(1)},{m.group(2)}" if float(m.group(1) + m.group(2)) in theirs
                                 else m.group(0), translation)


def full_names(text: str) -> set[str]:
    """The folded words of the names of two capitalised words or more ("Jacques Henri Eyraud",
    "Paris Turf"; not "Label de Responsabilité Sociale", nor a lone "Mandataires")."""
    runs = [e.split() for e in entities(text)]
    return {t for words in runs if len(words) >= 2 and all(w[:1].isupper() for w in words)
            for t in fold(" ".join(words)).split()}


def _untranslated(names: set[str], words: list[str], word_similarity: support.WordSimilarity | None,
                  min_similarity: float) -> set[str]:
    """The ``names`` that no word of ``words`` translates (none at least ``min_similarity`` close in
    the multilingual word space; without word vectors, all of them)."""
    if not names or not words or word_similarity is None:
        return names
    ordered = sorted(names)
    return {n for n, row in zip(ordered, word_similarity(ordered, words)) if max(row) < min_similarity}


def translation_problems(translation: str, original: str, *, question: str, similarity: Similarity,
                         min_similarity: float, word_similarity: support.WordSimilarity | None = None,
                         min_word_similarity: float = 0.7) -> list[str]:
    """Why a machine translation of a quoted sentence may not stand in for it (empty: it may):
    it must keep the original's meaning (multilingual cosine), add no number, name or link, leave
    out none of the original's full names, and not read as an instruction. A thousands separator
    the model wrote with a space ("100, 000 euros" for "100 000 euros") is the original's number;
    with ``word_similarity`` (multilingual word vectors), a capitalised word close to a common
    (small-letter) word of the original translates it ("Council" for "conseil", "Centers" for
    "centres") rather than naming something new."""
    if not translation.strip(" .…"):
        return ["empty"]
    out = []
    sim = similarity(translation, [original])[0]
    if sim < min_similarity:
        out.append(f"meaning differs (cosine {sim:.2f} < {min_similarity:.2f})")
    if missing := support.unsupported_numbers(close_thousands(translation, original), original, question=question):
        out.append("numbers not in the original: " + ", ".join(f"{n:g}" for n in sorted(missing)))
    # only against the original's common words: a name is not translated, and one spelt close to
    # another ("Visée" for "Viséo") is a different name
    common = support.content_words(" ".join(w for w in original.split() if w.lstrip("«“\"'([")[:1].islower()))
    missing = _untranslated(support.unsupported_names(translation, original, question=question, cognates=True),
                            common, word_similarity, min_word_similarity)
    if missing:
        out.append("names not in the original: " + ", ".join(sorted(missing)))
    # nor drop a full name: "Paris Turf (dont l'actionnaire majoritaire, Jacques Henri Eyraud dirige
    # l'OM)" is not "Paris Turf (which has its own major majority)". A single capitalised word is
    # often a common noun the magazine capitalises ("des Administrateurs et Mandataires judiciaires":
    # "Administrators and Judges"), and a capitalised common word of a full name may be translated
    # ("Relation Client": "customer relationship")
    dropped = _untranslated(support.unsupported_names(original, translation, question=question, cognates=True)
                            & full_names(original), support.content_words(translation), word_similarity,
                            min_word_similarity)
    if dropped:
        out.append("names of the original left out: " + ", ".join(sorted(dropped)))
    if support.looks_like_instruction(translation):
        out.append("reads as an instruction")
    if support.urls(translation) - support.urls(original):
        out.append("a link the original does not hold")
    return out
