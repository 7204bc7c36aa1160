"""Should the question be refused? Pure: the signals are computed elsewhere.

A question is refused when the passages do not hold what it asks for. Retrieval similarity
alone cannot tell (on-topic questions the articles do not answer retrieve on-topic passages),
so the decision combines:
- nonsense input (no word of either language, nor of the corpus);
- a number asked about that no retrieved passage contains, or a name (a company, a country);
- retrieval relevance under a floor (clearly off-topic);
- the model's own judgement: the probability that its answer starts with "NOT FOUND";
- after generation, the answer's type: a question that asks for a figure ("how many", "combien",
  a price, a rate, a year) is not answered by text that holds no figure (``asks_for``/``gives``).
Thresholds are settings, calibrated on eval/calibration.jsonl (scripts/calibrate.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .support import numbers, number_spans
from .text import entities, fold


@dataclass(frozen=True)
class Signals:
    relevance: float  # retrieval relevance in [0, 1]
    missing_number: bool  # the question asks about a number no passage holds
    nonsense: bool
    not_found: float | None = None  # the model's P("NOT FOUND") as its first token; None: not read
    missing_names: tuple[str, ...] = ()  # names the question asks about that no passage holds


@dataclass(frozen=True)
class Decision:
    refused: bool
    reason: str = ""


def is_nonsense(question: str, *, known: Callable[[str], bool]) -> bool:
    """No word of two letters or more that is a word of French, English or the corpus."""
    words = [w for w in fold(question).split() if re.fullmatch(r"[a-z][a-z'-]+", w)]
    return not words or not any(known(w) for w in words)


def decide(signals: Signals, *, relevance_min: float, not_found_max: float) -> Decision:
    if signals.nonsense:
        return Decision(True, "not a question about the articles")
    if signals.missing_number:
        return Decision(True, "the number asked about is in no passage")
    if signals.missing_names:
        return Decision(True, f"no passage mentions {', '.join(signals.missing_names)}")
    if signals.relevance < relevance_min:
        return Decision(True, f"relevance {signals.relevance:.2f} < {relevance_min:.2f}")
    if signals.not_found is not None and signals.not_found >= not_found_max:
        return Decision(True, f"the model finds no answer in the passages (P(NOT FOUND)={signals.not_found:.2f})")
    return Decision(False)


# --- what kind of answer the question asks for ---------------------------------------------

# matched against ``fold``ed text: no accents, no apostrophes ("l'" is "l ")
_WHAT_IS = r"\b(what|quel|quelle|quels|quelles)( is| was| are| were| est| etait| sont| etaient)?( the| le| la| l| les)? ?"
# a share of something: answered by a percentage or a fraction, not by any figure
_ASKS_PERCENT = re.compile(r"\b(what percentage|quel pourcentage|what share|what proportion|what portion|quelle part|"
                           r"quelle proportion|what fraction|quelle fraction)\b|"
                           + _WHAT_IS + r"(rate|taux|pourcentage|percentage|proportion|share|part)\b")
# a sum of money: answered by an amount in a currency
# (a revenue too: "chiffre d'affaires" is a sum of money; "turnover" may be staff turnover)
_ASKS_MONEY = re.compile(r"\b(how much money|combien d argent|(what|which) sum|quelle somme|"
                         r"how much (does|did|do|will|would) .* (cost|pay|earn|claim|"
                         r"charge|spend|raise|invest|owe)|combien coute|revenues?|"
                         r"chiffre d affaires)\b|" + _WHAT_IS +
                         r"(average |mean |moyen |moyenne )?(salary|salaries|wages?|price|cost|budget|amount|salaire|"
                         r"salaires|prix|cout|montant)\b")
# a phone number: answered by one (ten digits, an international or a directory number), not by any figure
_ASKS_PHONE = re.compile(r"\b(phone number|telephone number|numero de telephone|numero de tel|"
                         r"(what|which) number (should|do|can|to) (\w+ )*(call|dial|ring)|"
                         r"quel numero (faut il )?(appeler|composer))\b")
_PHONE = re.compile(r"(?<![\d,.])(?:\+\d{1,3}[\s.-]?)?\d(?:[\s.-]?\d){7,}(?![\d,.]*\s*(%|€|\$|euros?|dollars?))"
                    r"|\b118[\s.]?\d{3}\b")
# a duration: answered by a length of time ("15 minutes", "deux ans"), not by any figure
_ASKS_DURATION = re.compile(r"\b(how long|how much time|combien de temps|quelle (est |etait |a ete )?(la )?duree|"
                            r"what (is |was )?the (average |mean )?(duration|length of time))\b")
_DURATION_GIVEN = re.compile(
    r"\b(\d+(?:[.,]\d+)?|une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quinze|vingt|trente|quarante|"
    r"cinquante|cent|quelques|plusieurs|an?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|"
    r"thirty|forty|fifty|hundred|a few|several)\s*(secondes?|minutes?|mn|min|heures?|jours?|semaines?|mois|ans|"
    r"annees?|decennies?|siecles?|seconds?|hours?|days?|weeks?|months?|years?|decades?|centuries)\b"
    r"|\b(quart d heure|demi heure|half an hour|quarter of an hour)\b")
# an age: answered by a number of years ("45 ans", "aged 45", "a 45-year-old"), not by any figure
_ASKS_AGE = re.compile(r"\b(quel age|how old|what age|(at|by) what age|a quel age|age moyen)\b|"
                       + _WHAT_IS + r"(average |mean )?age\b")
_AGE_GIVEN = re.compile(r"\b\d{1,3}\s*(ans|years?|year old)\b|\b(age|agee|aged) de \d|\baged \d|\b\d{1,3} year old\b|"
                        r"\b(vingt|trente|quarante|cinquante|soixante|twenty|thirty|forty|fifty|sixty)\w* (ans|years?)\b|"
                        r"\b(trentenaire|quadragenaire|quadra|quinquagenaire|quinqua|sexagenaire|(la )?(trentaine|quarantaine|cinquantaine)|"
                        r"(twenty|thirty|forty|fifty|sixty)[ -]?something|in (his|her) (twenties|thirties|forties|fifties|sixties))\b")
_ASKS_NUMBER = re.compile(
    r"\b(how many|how much|combien|the number of|le nombre de)\b|"
    + _WHAT_IS + r"turnover\b")
# matched against the lower-cased text (``fold`` drops the symbols)
_PERCENT = re.compile(r"%|\b(pour ?cent|per ?cent|moiti[ée]|tiers|quart|half|third|quarter)\b")
_ARTICLE = re.compile(r"\b(un|une|one)\b", re.IGNORECASE)
_CURRENCY = re.compile(r"[€$£]|\b(euros?|dollars?|francs?|dirhams?|livres sterling|pounds?)\b")
# "when" as the question word (not "what did he say when…"), or an explicit year or date
_ASKS_DATE = re.compile(r"^(and |et )?(when|quand)\b|\b(in what year|what year|which year|en quelle annee|quelle annee|"
                        r"depuis quand|since when|from when|until when|till when|by when|a partir de quand|"
                        r"a compter de quand|jusqu a quand|what date|quelle date|a quelle date)\b")
_MONTHS = re.compile(r"\b(january|february|march|april|\d+ may|may \d+|june|july|august|september|october|november|december|"
                     r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
                     r"spring|summer|autumn|fall|winter|printemps|(?:en|l|cet) ete|automne|hiver)\b")  # "en été", not "a été"

# a name: "What is the name of the blog…?", "Comment s'appelle le salon…?" (not "what nickname",
# which may be any words): answered by a name the question does not hold
_ASKS_NAME = re.compile(r"\b(what|which) (is|was|are|were) (the |its |his |her |their )?(full |first |last )?names? of\b|"
                        r"\bwhat s the name of\b|\bcomment s appel\w*\b|"
                        r"\b(quel|quels) (est|etait|sont|etaient) (le |les |son |leur |leurs )?noms?\b")
# an answer's lead before its quotes ("D'après les articles : « …", "The articles say (…from French): “…")
_LEAD = re.compile(r"^[^«“]{0,80}:\s*(?=[«“])")

# "when" (not "what year") is also answered by a time told in words: "la première année", "l'an
# dernier", "il y a deux ans", "at the start"; matched against the folded text
_ASKS_WHEN = re.compile(r"^(and |et )?(when|quand)\b")
_RELATIVE_TIME = re.compile(
    r"\b(premiere|deuxieme|seconde|derniere|meme|cette) annee\b|\bl an (dernier|passe|prochain)\b|"
    r"\bil y a (quelques|plusieurs|\w+) (ans|annees|mois|semaines)\b|\b(au|des le|des ses) (debut|debuts|depart)\b|"
    r"\b(first|second|last|next|this|that|same) year\b|\b(years?|months?|weeks?) ago\b|"
    r"\bat (the|its) (start|beginning|outset)\b|\bin (its|the) early days\b")


def asks_for(question: str) -> str | None:
    """'percent' (a rate, a share), 'money' (a price, a salary), 'phone' (a phone number), 'age' (how
    old), 'duration' (how long), 'number' (how many…), 'name' (what is the name of…), 'date' (when,
    what year) or None (anything else)."""
    q = fold(question)
    for kind, pattern in (("percent", _ASKS_PERCENT), ("money", _ASKS_MONEY), ("phone", _ASKS_PHONE),
                          ("age", _ASKS_AGE), ("duration", _ASKS_DURATION), ("number", _ASKS_NUMBER)):
        if pattern.search(q):
            # "how many calls, and how long did they last?": the count, and its quote
            return "number" if kind == "duration" and _ASKS_NUMBER.search(_ASKS_DURATION.sub(" ", q)) else kind
    if _ASKS_NAME.search(q):
        return "name"
    if _ASKS_DATE.search(q):
        return "date"
    return None


def gives_name(text: str, *, question: str) -> bool:
    """The text names something the question does not (a capitalised word run that does not open
    a sentence; an answer's lead, "The articles say (machine-translated from French):", is not read)."""
    asked = {fold(e) for e in entities(question)} | set(fold(question).split())
    body = re.sub(r"[«»“”\"]", " ", _LEAD.sub("", text))
    return any(fold(e) not in asked for sentence in re.split(r"(?<=[.!?;:])\s+", body)
               for e in entities(sentence.strip(" \t\n'(…-–—")))


# a role whose holder is asked for ("who is the CEO of Deafi?", "qui a fondé OpenAccess ?"): the
# quote that answers names the role, in either language; matched against ``fold``ed text
ROLES = {
    "head": (r"\b(ceo|chief executive|pdg|head|boss|patron|patronne|directeur|directrice|director|dirigeant|"
             r"dirigeante|president|presidente|copresident|chairman|chairwoman|who (runs|leads|heads|manages|directs)|"
             r"qui dirige)\b",
             r"\b(ceo|chief|pdg|p dg|head|heads|headed|boss|patron|patronne|dirig\w*|directeur|directrice|"
             r"presid\w*|copresid\w*|runs|run by|leads|led by|manages|managed|directs|directed)\b"),
    "founder": (r"\b(founder|co-?founder|fondateur|fondatrice|who (founded|created|set up|started)|"
                r"qui a (fonde|cree|lance|monte))\b",
                r"\b(fond\w*|cre[ea]\w*|founded|founder|founders|created|creator|set up|started|launched|lance\w*)\b"),
    "editor": (r"\b(editor|redacteur|redactrice)\b", r"\b(editor|redacteur|redactrice)\b"),
    "shareholder": (r"\b(shareholder|actionnaire|owner|proprietaire)\b",
                    r"\b(shareholder|actionnaire|owner|owns|proprietaire|detient)\b"),
    "minister": (r"\b(minister|ministre)\b", r"\b(minister|ministre|secretaire d etat|secretary of state)\b"),
}


def role_asked(question: str) -> str | None:
    """The role whose holder a "who" question asks for ('head', 'founder', 'editor',
    'shareholder', 'minister'), or None."""
    q = fold(question)
    if not re.search(r"^(and |et )?(who|qui)\b", q):
        return None
    return next((role for role, (asked, _) in ROLES.items() if re.search(asked, q)), None)


def names_role(role: str, text: str) -> bool:
    """The text names the role (any form, either language): a quote that answers "who is the
    CEO of X?" says who heads X."""
    return bool(re.search(ROLES[role][1], fold(text)))


def gives(kind: str | None, answer: str, *, question: str) -> bool:
    """Whether ``answer`` holds what a question of ``kind`` asks for: a figure that is not
    already in the question (a date may also be a month or a season, and a "when" may be
    answered by a time told in words, "la première année"); for a share, a percentage
    or a fraction ("la moitié"); for a sum of money, a figure with its currency; for a phone
    number, a number of eight digits or more (or a "118" directory number); for "how long", a
    length of time ("15 minutes", "deux ans"); for "how old", an age ("45 ans", "aged 45"); for a
    name, a name the question does not hold (``gives_name``)."""
    if kind is None:
        return True
    text = re.sub(r"\[\d{1,2}(?:\s*,\s*\d{1,2})*\]", " ", answer)
    lower = text.lower()
    if kind == "percent":
        return bool(_PERCENT.search(lower))
    if kind == "phone":
        return any(numbers(m.group()) - numbers(question) for m in _PHONE.finditer(text))
    if kind == "duration":
        return bool(_DURATION_GIVEN.search(fold(text)))
    if kind == "age":
        return bool(_AGE_GIVEN.search(fold(text)))
    if kind == "name":
        return gives_name(text, question=question)
    # "un", "une", "one" are mostly articles ("une chose"), not a figure; a date is written in digits
    figures = _ARTICLE.sub(" ", text) if kind != "date" else " ".join(re.findall(r"\d[\d\s.,]*", text))
    new = bool(numbers(figures) - numbers(question))
    if kind == "money":
        return new and bool(_CURRENCY.search(lower))
    if new or kind != "date":
        return new
    folded = fold(text)
    return bool(_MONTHS.search(folded)) or bool(_ASKS_WHEN.search(fold(question)) and _RELATIVE_TIME.search(folded))


# --- what a "how many" question counts --------------------------------------------------------

_W = r"([^\W\d_][\w-]*)"
_COUNTED_EN = re.compile(r"\b(?:how many|(?:the )?number of)\s+" + _W + r"(?:\s+" + _W + ")?")
_COUNTED_FR = re.compile(r"\b(?:combien d(?:e |es |')|(?:le )?nombre d(?:e |es |'))\s*" + _W)
# the words of a number's neighbourhood that may name what it counts: "1 200 000 salariés",
# "270 milliards d'appels", "neuf standardistes bonnes sœurs", "salariés : 1 200"
_AFTER, _BEFORE = 3, 2


def counted(question: str) -> tuple[str, ...]:
    """What a "how many" question counts: its noun ("combien de détenus" → ("détenus",)), in
    English the two words that may form it ("how many call centres" → ("call", "centres"));
    () when it names nothing counted ("combien Nespresso réclame-t-elle", "how many of the calls")."""
    from .lexical import _stopwords

    q = re.sub(r"\bcombien de temps\b", " ", question.lower().replace("’", "'"))  # how long, not a count of "temps"
    m = _COUNTED_FR.search(q) or _COUNTED_EN.search(q)
    if not m:
        return ()
    words = [w for w in m.groups() if w]
    if fold(words[0]) in _stopwords():  # "how many of the calls": a part of something named elsewhere
        return ()
    out = [words[0]]
    if len(words) > 1 and fold(words[1]) not in _stopwords() and m.re is _COUNTED_EN:
        out.append(words[1])
    return tuple(out)


# what "what share of X?" is a share of: "quelle part des appels" → ("appels",), "turnover rate" →
# ("turnover",), "what share of Teleperformance France's professional contracts" → ("professional",
# "contracts"): the first two words after "of" that are neither names nor stopwords
_SHARE_FR = re.compile(r"\b(?:part|proportion|pourcentage|fraction|taux)\s+(?:de la |de l'|des |du |de |d')\s*"
                       r"([^\W\d_][\w-]*)", re.IGNORECASE)
_RATE_EN = re.compile(r"\b([^\W\d_][\w-]*)\s+rate\b", re.IGNORECASE)
_SHARE_EN = re.compile(r"\b(?:percentage|share|proportion|portion|fraction|rate)\s+of\s+(.{1,80})", re.IGNORECASE)
# a share as the text gives it: a percentage, or a fraction in words ("deux tiers des 930 chirurgiens")
_SHARE_GIVEN = re.compile(r"\d[\d\s,.]*?\s?(?:%|pour ?cent\b|per ?cent\b)|\b(?:deux|trois|two|three|un|one)\s+"
                          r"(?:tiers|quarts?|thirds?|quarters?)\b", re.IGNORECASE)


def shared(question: str) -> tuple[str, ...]:
    """What a "what share / quelle part / what rate" question is a share of (() when it names
    nothing: "quelle part revient à l'État ?")."""
    from .lexical import _stopwords

    q = question.replace("’", "'")
    for pattern in (_SHARE_FR, _RATE_EN):
        m = pattern.search(q)
        if m and fold(m.group(1)) not in _stopwords():
            return (m.group(1).lower(),)
    m = _SHARE_EN.search(q)
    if not m:
        return ()
    names = {fold(w) for e in entities(question) for w in e.split()}
    out: list[str] = []
    for w in re.findall(r"[^\W\d_][\w-]*", m.group(1)):
        if w[:1].isupper() or fold(w) in names or fold(w) in _stopwords() or w.lower() == "s":
            continue
        out.append(w.lower())
        if len(out) == 2:
            break
    return tuple(out)


# what follows a share that is said to be a share of something: "80 % des contrats", "38 % de la population"
# (not "50 % d'entre eux", "half of them": a share of what was named before)
_OF_NEXT = re.compile(r"\s*(?:des\b|du\b|de\b|d'|d’|of\b)(?!\s*(?:entre|eux|elles|them|those|these)\b)", re.IGNORECASE)


def share_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` gives a share: "84 %", "50% ", "deux tiers"."""
    return [m.span() for m in _SHARE_GIVEN.finditer(text)]


def shares_of(text: str, units: tuple[str, ...], *, same: Callable[[str, str], bool]) -> set[float]:
    """The shares ``text`` gives of what ``units`` name: a percentage or fraction next to one of
    them (as ``counted_numbers``), or one not said to be a share of anything ("Parmi eux, 40 %
    portaient sur la paie."), but not a share of something else ("80 % des contrats" for a rate of
    absenteeism)."""
    spans = share_spans(text)
    bare = {n for a, b in spans if not _OF_NEXT.match(text, b) for n in numbers(text[a:b])}
    return counted_numbers(text, units, same=same, spans=spans) | bare


def counted_numbers(text: str, units: tuple[str, ...], *, same: Callable[[str, str], bool],
                    spans: list[tuple[int, int]] | None = None) -> set[float]:
    """The numbers of ``text`` that count one of ``units`` (or, with ``spans``, the quantities at
    those spans that do: a share of them): a word within three after the number or two before it
    is the same word (``same``: by stem, prefix or word vector, across languages)."""
    words = [(m.start(), m.group().lower()) for m in re.finditer(r"[^\W\d_][\w-]*", text.replace("’", "'"))]
    out: set[float] = set()
    for start, end in number_spans(text) if spans is None else spans:
        after = [w for s, w in words if s >= end][:_AFTER]
        before = [w for s, w in words if s < start][-_BEFORE:]
        if any(same(w, u) for w in (*after, *before) for u in units):
            out |= numbers(text[start:end])
    return out
