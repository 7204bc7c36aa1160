"""Does the evidence support the answer? Pure functions; similarity comes from the caller.

Works across languages: an English answer about a French passage is checked by
- its facts: every number (normalised: "1,2 million" = "1 200 000" = 1.2 million) and every
  name in the answer must appear in the passage it cites (or in the question);
- its meaning: the answer sentence must be close, in the multilingual embedding space, to a
  sentence of the passage it cites (the caller passes a similarity function); optionally
  (off by default), for a claim in another language, its own words may match that sentence's
  words one by one instead (``word_coverage``: "choice" ~ "choix" by word vector).
An answer that is an instruction, a URL or a link that the passages do not hold is no answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .lexical import tokenize
from .text import canonical, entities, fold, sentence_spans

# --- numbers ---------------------------------------------------------------------------------

_SCALE = {"million": 1e6, "millions": 1e6, "milliard": 1e9, "milliards": 1e9, "billion": 1e9,
          "billions": 1e9, "mille": 1e3, "thousand": 1e3, "thousands": 1e3, "k": 1e3, "md": 1e9,
          "mds": 1e9, "m": 1e6}
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "hundred": 100,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30, "cent": 100,
    "half": 0.5, "moitie": 0.5, "demi": 0.5, "demie": 0.5, "dozen": 12, "douzaine": 12,
}
# "1 200 000", "1,200,000", "1.200.000", "3,5", "3.5", "50" ; then an optional scale word
_NUM = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?:\.\d{3}){2,}|\d+(?:[.,]\d+)?)"
                  r"(?:\s*(millions?|milliards?|billions?|mille|thousands?|k|mds?|m)\b)?", re.IGNORECASE)
_MARKERS = re.compile(r"\[\d{1,2}(?:\s*,\s*\d{1,2})*\]")
_PM = re.compile(r"\b(\d{1,2})\s*(?:p\.?m\.?)\b", re.IGNORECASE)


def _value(digits: str) -> float:
    d = re.sub(r"[ \u00a0\u202f]", "", digits)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", d):
        d = d.replace(",", "")  # English thousands separator
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", d):
        d = d.replace(".", "")
    return float(d.replace(",", "."))


def numbers(text: str) -> set[float]:
    """Every quantity in ``text`` as a float, scale words applied; number words 1-20 included.
    "8 pm" also counts as 20 (the French "20 heures")."""
    text = _MARKERS.sub(" ", canonical(text))
    out: set[float] = set()
    for m in _PM.finditer(text):
        out.add(float(int(m.group(1)) % 12 + 12))
    text = _PM.sub(" ", text)
    for m in _NUM.finditer(text):
        v = _value(m.group(1))
        scale = (m.group(2) or "").lower()
        out.add(round(v * _SCALE.get(scale, 1.0), 6))
    for w in fold(text).split():
        if w in _WORDS:
            out.add(float(_WORDS[w]))
    return out


def number_spans(text: str) -> list[tuple[int, int]]:
    """Where the quantities of ``text`` are (digits with their scale word, or number words)."""
    spans = [m.span() for m in _NUM.finditer(text)]
    spans += [m.span() for m in re.finditer(r"[^\W\d_]+", text) if fold(m.group()) in _WORDS]
    return sorted(spans)


def unsupported_numbers(claim: str, evidence: str, *, question: str = "") -> set[float]:
    """Numbers of the claim found neither in the evidence nor in the question."""
    allowed = numbers(evidence) | numbers(question)
    return {n for n in numbers(claim) if n not in allowed and not any(abs(n - a) < 1e-6 * max(1, a) for a in allowed)}


# --- names -----------------------------------------------------------------------------------

# Capitalised English words that are not names, or whose French form is what the text holds.
_COMMON = {
    "i", "the", "a", "an", "in", "on", "at", "he", "she", "they", "it", "his", "her", "their", "this",
    "that", "these", "those", "according", "yes", "no", "not", "and", "or", "but", "also", "we", "you",
    "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "il", "elle", "ils", "elles", "selon",
    "oui", "non", "en", "dans", "pour", "sur", "au", "aux", "ce", "cette", "ces", "son", "sa", "ses",
    "mr", "mrs", "ms", "dr", "m", "mme", "ceo", "pdg", "president", "state", "government", "etat",
    # English function words a capital can reach inside a sentence ("continue.Many", "For Presstalis", "I’ve")
    "for", "many", "some", "all", "with", "from", "by", "of", "to", "as", "if", "when", "there", "what",
    "which", "who", "how", "why", "more", "most", "much", "very", "so", "then", "now", "today", "ve", "ll",
    "re", "s", "t", "d", "my", "our", "your", "its", "one",
    # question words a name run can start with ("Combien Nespresso réclame-t-elle…")
    "combien", "quel", "quelle", "quels", "quelles", "qui", "que", "quoi", "pourquoi", "comment", "quand",
    "where", "does", "did", "do", "is", "are", "was", "were", "has", "have", "est",
    # French prepositions a question can start with ("D'après Flore Firino Martell, …", "Chez Webhelp, …")
    "apres", "avant", "depuis", "pendant", "chez", "par", "avec", "entre", "sans", "sous", "vers", "parmi",
}
# English names whose French form is what the articles hold (also: nationality words, not names).
NAME_TRANSLATIONS = {
    "english": ["anglais", "anglaise"], "french": ["francais", "francaise", "france"],
    "american": ["americain", "americaine", "amerique"], "america": ["amerique"],
    "morocco": ["maroc"], "moroccan": ["marocain", "marocaine", "maroc"], "italy": ["italie"],
    "hungary": ["hongrie"], "europe": ["europe"], "european": ["europe", "europeen"],
    "philippine": ["philippines"], "filipino": ["philippines"], "israeli": ["israelienne", "israel"],
    "swiss": ["suisse"], "brittany": ["bretagne"], "paris": ["paris"], "vatican": ["vatican"],
    "january": ["janvier"], "february": ["fevrier"], "march": ["mars"], "april": ["avril"], "may": ["mai"],
    "june": ["juin"], "july": ["juillet"], "august": ["aout"], "september": ["septembre"],
    "october": ["octobre"], "november": ["novembre"], "december": ["decembre"], "monday": ["lundi"],
    "tuesday": ["mardi"], "wednesday": ["mercredi"], "thursday": ["jeudi"], "friday": ["vendredi"],
    "saturday": ["samedi"], "sunday": ["dimanche"], "internet": ["internet", "web"],
    "ministry": ["ministre", "ministere"], "minister": ["ministre"], "label": ["label"],
    "us": ["etats", "americain", "amerique", "usa"], "usa": ["etats", "americain", "amerique"],
    "tunisia": ["tunisie"], "tunisian": ["tunisie", "tunisien"], "spain": ["espagne"], "spanish": ["espagne", "espagnol"],
    "germany": ["allemagne"], "german": ["allemagne", "allemand"], "belgium": ["belgique"], "india": ["inde"],
    "ai": ["ia", "intelligence"], "senegal": ["senegal"], "portugal": ["portugal"], "poland": ["pologne"],
    "romania": ["roumanie"], "madagascar": ["madagascar"], "mauritius": ["maurice"], "ireland": ["irlande"],
    "england": ["angleterre"], "london": ["londres"], "british": ["britannique", "royaume"],
}


def _name_tokens(text: str) -> set[str]:
    """The folded words of the names in ``text``; of a hyphenated name only its capitalised parts
    ("French-speaking" names "french", not "speaking"; "Chambon-sur-Lignon" "chambon", "lignon")."""
    toks = set()
    for e in entities(text):
        parts = []
        for w in e.split():
            pieces = re.split(r"[-‐]", w)
            parts += pieces if len(pieces) == 1 else [p for p in pieces if p[:1].isupper()]
        for t in fold(" ".join(parts)).split():
            if len(t) > 1 and not t.isdigit() and t not in _COMMON:
                toks.add(t)
    return toks


def _short_capitals(text: str) -> set[str]:
    """Words of two or three letters written in capitals ("AI", "TPE"), folded."""
    return {fold(w) for w in re.findall(r"\b[A-ZÀ-Ý]{2,3}\b", text)}


def unsupported_names(claim: str, evidence: str, *, question: str = "", cognates: bool = False) -> set[str]:
    """Name words (capitalised, not sentence-initial) of the claim absent from evidence and question.
    A word matches a longer word of the evidence by prefix (plural, feminine: "Teleperformance's");
    a short one in capitals ("AI", "TPE") only the same capitals;
    with ``cognates`` (a translation of the evidence), also a word of the evidence in another
    language's form ("Responsibility" for "Responsabilité", "Efficiency" for "efficacité": a word of
    five letters or more sharing its first five), or an acronym the evidence writes in small letters
    ("PDF" for "pdf"). A name one letter off is not the same name ("Visée" for "Viséo")."""
    have = set(fold(evidence).split()) | set(fold(question).split())
    stems = {h[:5] for h in fold(evidence).split() if len(h) >= 5} if cognates else set()
    # a name in capitals is found only in capitals: "AI" is not the "ai" of "j'ai"
    capitals, found_capitals = _short_capitals(claim), _short_capitals(evidence) | _short_capitals(question)
    strict = 3 if not cognates else 2  # in a translation, "PDF" may render "pdf"; "AI" never "ai"
    out = set()
    for t in _name_tokens(claim):
        in_capitals = t in capitals

        def present(f: str) -> bool:
            if in_capitals and len(f) <= strict:
                return f in found_capitals
            return f in have or (len(f) >= 4 and any(h.startswith(f) for h in have))

        if not any(present(f) for f in (t, *NAME_TRANSLATIONS.get(t, []), t.removesuffix("s"))) \
                and not (len(t) >= 5 and t[:5] in stems):
            out.add(t)
    return out


# --- instructions, links ---------------------------------------------------------------------

_INSTRUCTION = re.compile(
    r"\b(ignore[sz]?|ignorer|oublie[sz]?|forget|disregard|override)\b.{0,40}\b(instructions?|consignes?|"
    r"r[eè]gles|rules|prompt|above|pr[eé]c[eé]dent|previous|prior)\b"
    r"|\b(you are now|tu es d[eé]sormais|tu es maintenant|vous [eê]tes d[eé]sormais|act as|agis comme|"
    r"pretend to be|jailbreak|developer mode|mode d[eé]veloppeur)\b"
    r"|(^|[\s«\"(])(system|syst[eè]me|assistant|user|utilisateur)\s*:"
    r"|\b(reply|answer|respond|r[eé]ponds|r[eé]pondez|write|[eé]cris|say|dis)\b.{0,30}\b(only|uniquement|seulement|exactly|exactement)\b"
    r"|\b(new instructions?|nouvelles? instructions?|instruction prioritaire|priority instruction)\b"
    r"|\b(to the (ai|assistant|model|llm|chatbot)|(à|a) l'(ia|assistant)|au (mod[eè]le|chatbot))\b"
    r"|<\|?\s*(im_start|im_end|system|endoftext)|\[/?INST\]|<start_of_turn>"
    r"|\b(forget (everything|all)|oubliez? tout)\b"
    r"|\b(answer|reply|r[eé]ponse)s? (to|[aà]) (every|any|all|each|toute|chaque|tout) (question|demande)"
    r"|\b(the |l'|l’)?(assistant|chatbot|ai|ia|llm)\s+(must|should|shall|will|doit|devra|devrait)\b"
    r"|\b(visit|go to|click|visitez|visite|rendez-vous sur|allez sur|cliquez|renvoyer?.{0,25}vers)\b.{0,40}(https?://|www\.)",
    re.IGNORECASE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|io|ru|xyz|fr|info)(?:/\S*)?\b", re.IGNORECASE)


def looks_like_instruction(text: str) -> bool:
    """Text that addresses an AI model (injection) rather than a reader."""
    return bool(_INSTRUCTION.search(canonical(text)))


def urls(text: str) -> set[str]:
    return {m.group().rstrip(".,;)»").lower() for m in _URL.finditer(text)}


# --- words matched across languages ----------------------------------------------------------

_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W\d_]")
WordSimilarity = Callable[[list[str], list[str]], "Sequence[Sequence[float]]"]


def content_words(text: str) -> list[str]:
    """Words of three letters or more that are not stopwords, lower-cased, elision removed
    ("l’interdire" → "interdire"), in order, once each."""
    from .lexical import _stopwords

    out = []
    for w in _WORD.findall(_MARKERS.sub(" ", text)):
        w = w.lower().replace("’", "'").split("'")[-1]
        if len(w) >= 3 and fold(w) not in _stopwords():
            out.append(w)
    return list(dict.fromkeys(out))


def word_coverage(claim: str, evidence: str, *, question: str, word_similarity: WordSimilarity,
                  min_word_similarity: float) -> float:
    """Share of the claim's own content words (those the question does not hold, in any
    inflection: same stem or same first five letters) found in the
    evidence sentence: the same stem, or a word whose vector (multilingual, from
    ``word_similarity``) is at least ``min_word_similarity`` close ("wages" ~ "salaires").
    Only across languages (an English claim, a French sentence), and 0 for a claim with no word
    of its own."""
    from .prompt import detect_language
    from .wordvectors import same_form

    if detect_language(claim) == detect_language(evidence):
        return 0.0  # within one language the sentence encoder is reliable, and shared stems are cheap:
        # a small model's made-up French sentence reuses the French passage's words
    asked = content_words(question)
    own = [w for w in content_words(claim) if not any(same_form(w, a) for a in asked)]  # "proposed" is "propose"
    theirs = content_words(evidence)
    if not own or not theirs:
        return 0.0  # nothing of its own: a restated question
    stems = set(tokenize(evidence))
    sims = word_similarity(own, theirs)
    hits = [bool(set(tokenize(w)) & stems) or max(row) >= min_word_similarity for w, row in zip(own, sims)]
    return sum(hits) / len(hits)


# --- the check -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimCheck:
    """One answer sentence against the passage it cites."""

    text: str  # the sentence as written (markers included)
    passage: int | None  # the cited passage (1-based) the check used
    similarity: float  # best cosine with a sentence of that passage
    evidence: tuple[int, int] | None  # span of the supporting sentence (article offsets)
    coverage: float = 0.0  # best ``word_coverage`` of the claim by a sentence of that passage
    covered: tuple[int, int] | None = None  # span of that sentence
    missing_numbers: tuple[float, ...] = ()
    missing_names: tuple[str, ...] = ()
    instruction: bool = False
    foreign_url: bool = False
    unanchored: bool = False  # shares no word (stemmed) with the question or the passage
    echo: bool = False  # restates the question ("Le héros sert le thé dans un call center [1].") or asks one

    @property
    def problems(self) -> list[str]:
        out = []
        if self.missing_numbers:
            out.append("numbers not in the passage: " + ", ".join(f"{n:g}" for n in self.missing_numbers))
        if self.missing_names:
            out.append("names not in the passage: " + ", ".join(sorted(self.missing_names)))
        if self.instruction:
            out.append("reads as an instruction")
        if self.foreign_url:
            out.append("a link the passages do not hold")
        if self.unanchored:
            out.append("no word in common with the question or the passage")
        if self.echo:
            out.append("restates or asks a question instead of answering")
        return out


_SAYING = frozenset(tokenize(
    "say says said think thinks believe believes explain explains propose proposes proposed suggest suggests "
    "according view mention mentions dit dire pense pensent estime estiment explique expliquent propose "
    "proposent proposé suggère affirme déclare recommande selon avis"))
_YES_NO = re.compile(r"^(is|are|was|were|do|does|did|can|could|should|has|have|had|will|would|est-ce)\b", re.I)


def restates(claim: str, question: str) -> bool:
    """The claim adds no word to the question but verbs of saying: it repeats what was asked
    instead of answering (in three runs on eval/calibration.jsonl every such answer was wrong: 8 of 8). A
    yes/no question may be answered by restating it, so it is exempt."""
    if not question or _YES_NO.match(question.strip()):
        return False
    words = set(tokenize(re.sub(r"\[\d{1,2}(?:\s*,\s*\d{1,2})*\]", " ", claim)))
    return bool(words) and not (words - set(tokenize(question)) - _SAYING)


def claim_sentences(answer: str) -> list[str]:
    """The answer split into sentences, each keeping its trailing markers."""
    spans = sentence_spans(answer, min_chars=2)
    return [answer[s:e] for s, e in spans] or ([answer] if answer.strip() else [])


def check_claim(claim: str, *, cited: Sequence[int], passages: dict[int, "PassageView"], question: str,
                similarity: Callable[[str, list[str]], list[float]], strip: Callable[[str], str],
                coverage: Callable[[str, str], float] | None = None) -> ClaimCheck:
    """Check one sentence against each passage it cites; keep the best-supported one.
    ``similarity(text, candidates)`` returns cosines; ``coverage(claim, sentence)`` the share of
    the claim's words the sentence holds (``word_coverage``; None: not measured); ``strip``
    removes citation markers."""
    body = strip(claim)
    best: ClaimCheck | None = None
    for n in cited:
        view = passages.get(n)
        if view is None:
            continue
        sims = similarity(body, [t for _, _, t in view.sentences]) if view.sentences else []
        i = max(range(len(sims)), key=sims.__getitem__) if sims else None
        covs = [coverage(body, t) for _, _, t in view.sentences] if coverage and view.sentences else []
        j = max(range(len(covs)), key=covs.__getitem__) if covs else None
        check = ClaimCheck(
            text=claim, passage=n, similarity=float(sims[i]) if i is not None else 0.0,
            evidence=(view.sentences[i][0], view.sentences[i][1]) if i is not None else None,
            coverage=covs[j] if j is not None else 0.0,
            covered=(view.sentences[j][0], view.sentences[j][1]) if j is not None else None,
            missing_numbers=tuple(sorted(unsupported_numbers(body, view.text, question=question))),
            missing_names=tuple(sorted(unsupported_names(body, view.text, question=question))),
            instruction=looks_like_instruction(body),
            foreign_url=bool(urls(body) - urls(question) - urls(view.text)),
            unanchored=not set(tokenize(body)) & set(tokenize(f"{view.text} {question}")),
            echo=restates(body, question) or body.rstrip(" .»\"”").endswith("?"))
        if best is None or (len(check.problems), -check.similarity, -check.coverage) < \
                (len(best.problems), -best.similarity, -best.coverage):
            best = check
    if best is None:
        return ClaimCheck(text=claim, passage=None, similarity=0.0, evidence=None,
                          instruction=looks_like_instruction(body), foreign_url=bool(urls(body) - urls(question)))
    return best


@dataclass(frozen=True)
class PassageView:
    """What a claim is checked against: the passage as the model read it (context header and
    text, for names and numbers) and its sentences with their spans (for meaning)."""

    text: str
    sentences: tuple[tuple[int, int, str], ...]


def supported(check: ClaimCheck, *, min_similarity: float, min_coverage: float | None = None) -> bool:
    """No problem, and close enough in meaning, or (``min_coverage``) word for word."""
    return check.passage is not None and not check.problems and (
        check.similarity >= min_similarity or (min_coverage is not None and check.coverage >= min_coverage))


def support_span(check: ClaimCheck, *, min_similarity: float) -> tuple[int, int] | None:
    """The sentence that supports the claim: the closest in meaning, unless only the words
    matched (then the sentence that holds them)."""
    return check.evidence if check.similarity >= min_similarity or check.covered is None else check.covered
