"""Should the question be refused? Pure: the signals are computed elsewhere.

A question is refused when the passages do not hold what it asks for. Retrieval similarity
alone cannot tell (on-topic questions the articles do not answer retrieve on-topic passages),
so the decision combines:
- nonsense input (no word of either language, nor of the corpus);
- a number asked about that no retrieved passage contains;
- retrieval relevance under a floor (clearly off-topic);
- the model's own judgement: the probability that its answer starts with "NOT FOUND".
Thresholds are settings, calibrated on eval/calibration.jsonl (scripts/calibrate.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .text import fold


@dataclass(frozen=True)
class Signals:
    relevance: float  # retrieval relevance in [0, 1]
    missing_number: bool  # the question asks about a number no passage holds
    nonsense: bool
    not_found: float | None = None  # the model's P("NOT FOUND") as its first token; None: not read


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
    if signals.relevance < relevance_min:
        return Decision(True, f"relevance {signals.relevance:.2f} < {relevance_min:.2f}")
    if signals.not_found is not None and signals.not_found >= not_found_max:
        return Decision(True, f"the model finds no answer in the passages (P(NOT FOUND)={signals.not_found:.2f})")
    return Decision(False)
