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


# Pronouns that point back at someone or something named before ("what does he want?").
_STRONG = {"he", "she", "him", "her", "his", "hers", "they", "them", "their", "it", "its",
           "il", "elle", "ils", "elles", "lui", "eux", "leur", "leurs", "ca", "cela"}
# French subject inversion ("a-t-il", "pense-t-elle"): the subject may be named in the question.
_INVERSION = re.compile(r"\w-t-(il|elle|ils|elles)\b|\b\w+-(il|elle|ils|elles)\b", re.IGNORECASE)
# A definite noun phrase standing for a company, person or event named before ("le groupe").
_REFERENCE = re.compile(
    r"\b(the|this|that|these|those|le|la|l|ce|cet|cette|ces)\s+(group|company|firm|business|firms|companies|event|"
    r"study|man|woman|person|minister|start ?up|union|article|magazine|groupe|societe|entreprise|evenement|"
    r"etude|homme|femme|ministre|syndicat|start up|marque|brand)\b")


def _points_back(question: str) -> bool:
    """A pronoun or a definite reference that needs the previous turn to be understood."""
    folded = fold(_INVERSION.sub(" ", question) if entities(question) else question)
    return bool(set(folded.split()) & _STRONG) or bool(_REFERENCE.search(fold(question)))


def is_followup(question: str) -> bool:
    words = fold(question).split()
    if _LEADS.match(question) or _points_back(question):
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
    # "And what did Laurent Uberti say?": a newly named subject replaces the previous one; a
    # pronoun or "the group" keeps it ("Which minister is he working with?")
    keep_subject = not own or _points_back(body)
    context = [e for e in prev_ents if e not in own] * keep_subject + topic_terms(prev, drop=prev_ents)[:4]
    if not context:
        return body
    label = "à propos de :" if _looks_french(question) else "about:"
    return f"{body} ({label} {', '.join(context)})"


def _looks_french(text: str) -> bool:
    from .prompt import detect_language

    return detect_language(text) == "fr"
