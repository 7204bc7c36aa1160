"""Follow-up questions → standalone questions, from the conversation history. Pure.

"And what did Laurent Uberti say?" after "What did Olivier Duha propose at the assises?"
becomes "What did Laurent Uberti say? (about: assises)": the new person replaces the old
one, the topic carries over. "Et combien d'appels ont-ils reçu ?" after a question on the
judicial administrators' hotline keeps that subject. A self-contained question is unchanged.
"""

from __future__ import annotations

import re

from .lexical import _stopwords
from .text import entities as _entities
from .text import fold

_LEADS = re.compile(
    r"^\s*(and|also|so|then|what about|how about|et|aussi|alors|puis|et pour|et sur|et quant à)\b[\s,]*",
    re.IGNORECASE,
)
_PRONOUNS = {"he", "she", "they", "it", "him", "her", "them", "his", "their", "its", "this", "that",
             "these", "those", "il", "elle", "ils", "elles", "lui", "leur", "leurs", "eux", "ce", "cela",
             "ca", "celui", "celle", "ceux", "celles", "son", "sa", "ses", "y", "en", "there", "same"}
_QWORDS = {"what", "which", "who", "why", "how", "when", "where", "did", "does", "do", "say", "said",
           "propose", "proposed", "tell", "quel", "quelle", "quels", "quelles", "qui", "que", "quoi",
           "pourquoi", "comment", "combien", "quand", "dit", "proposait", "pense", "many",
           "much", "and", "et"}
def entities(text: str) -> list[str]:
    return _entities(text, ignore=_QWORDS | _PRONOUNS)


def topic_terms(text: str, *, drop: list[str]) -> list[str]:
    dropped = {w for e in drop for w in fold(e).split()}
    words = [w for w in fold(text).split()
             if w not in _stopwords() and w not in _QWORDS and w not in dropped and len(w) > 2]
    return list(dict.fromkeys(words))


def is_followup(question: str) -> bool:
    words = fold(question).split()
    if _LEADS.match(question):
        return True
    if any(w in _PRONOUNS for w in words) and not entities(question):
        return True
    content = [w for w in words if w not in _stopwords() and w not in _QWORDS]
    return len(content) <= 1 and not entities(question)


def standalone_question(question: str, history: list[str]) -> str:
    """Rewrite ``question`` using the previous questions (most recent last)."""
    question = question.strip()
    if not history or not is_followup(question):
        return question
    prev = history[-1]
    body = _LEADS.sub("", question).strip()
    body = body[:1].upper() + body[1:]
    own = entities(body)
    prev_ents = entities(prev)
    context = ([] if own else prev_ents) + topic_terms(prev, drop=prev_ents)[:4]
    if not context:
        return body
    label = "à propos de :" if _looks_french(question) else "about:"
    return f"{body} ({label} {', '.join(context)})"


def _looks_french(text: str) -> bool:
    from .prompt import detect_language

    return detect_language(text) == "fr"
