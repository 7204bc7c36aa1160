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

from .support import numbers
from .text import fold


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

_ASKS_NUMBER = re.compile(
    r"\b(how many|how much|combien|what percentage|quel pourcentage|what share|what proportion|quelle part|"
    r"quelle proportion|phone number|numero de telephone|the number of|le nombre de|revenues?|chiffre d'affaires)\b"
    r"|\b(what|quel|quelle)( is| was| are| were| est| etait| sont)?( the| le| la| l'| les)? "
    r"(revenue|turnover|salary|salaries|wages?|price|cost|rate|amount|budget|chiffre d'affaires|salaire|prix|cout|"
    r"taux|montant)\b")
# "when" as the question word (not "what did he say when…"), or an explicit year or date
_ASKS_DATE = re.compile(r"^(and |et )?(when|quand)\b|\b(in what year|what year|en quelle annee|quelle annee|"
                        r"depuis quand|since when|what date|quelle date|a quelle date)\b")
_MONTHS = re.compile(r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
                     r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
                     r"spring|summer|autumn|fall|winter|printemps|ete|automne|hiver)\b")


def asks_for(question: str) -> str | None:
    """'number' (how many, a price, a rate…), 'date' (when, what year) or None (anything else)."""
    q = fold(question)
    if _ASKS_NUMBER.search(q):
        return "number"
    if _ASKS_DATE.search(q):
        return "date"
    return None


def gives(kind: str | None, answer: str, *, question: str) -> bool:
    """Whether ``answer`` holds what a question of ``kind`` asks for: a figure that is not
    already in the question (a date may also be a month or a season)."""
    if kind is None:
        return True
    text = re.sub(r"\[\d{1,2}(?:\s*,\s*\d{1,2})*\]", " ", answer)
    if numbers(text) - numbers(question):
        return True
    return kind == "date" and bool(_MONTHS.search(fold(text)))
