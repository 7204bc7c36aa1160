"""Follow-up questions → standalone questions, from the conversation history. Pure.

Two ways, both only for a question that needs the conversation (``is_followup``), so a
standalone question pays nothing: the rules below (``standalone_question``, the default), or an
instruction-tuned model (``rewrite_messages``, its output checked by ``accept_rewrite``, the
rules again when it is rejected).

"And what did Laurent Uberti say?" after "What did Olivier Duha propose at the assises?"
becomes "What did Laurent Uberti say? (about: assises)": the new person replaces the old
one, the topic carries over. "Et combien d'appels ont-ils reçu ?" after a question on the
judicial administrators' hotline keeps that subject. A self-contained question is unchanged.
"""

from __future__ import annotations

import re

from .lexical import _stopwords, tokenize
from .support import NAME_TRANSLATIONS, unsupported_names
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
# A definite noun phrase standing for a company, person or event named before ("le groupe").
_REFERENCE = re.compile(
    r"\b(the|this|that|these|those|le|la|l|ce|cet|cette|ces)\s+(group|company|firm|business|firms|companies|event|"
    r"study|man|woman|person|minister|start ?up|union|groupe|societe|entreprise|evenement|"
    r"etude|homme|femme|ministre|syndicat|start up|marque|brand)\b")


# A name before a pronoun is what it stands for ("Why did Maxence d'Espeuilles get rid of the
# landline at his home?"), but not a pronoun that ends the question ("according to him", "selon
# elle", "Has France tried it?"), and not a nationality ("Which Moroccan minister is he…").
_OBJECTS = {"him", "her", "them", "it", "lui", "elle", "elles", "eux"}
# French inversion after a subject the question names with a determiner ("Combien d'appels le
# numéro vert a-t-il reçus ?", "Dans quels pays des détenus ont-ils travaillé ?")
_INVERSION = re.compile(r"\w-(?:t-)?(?:il|elle|ils|elles)\b", re.IGNORECASE)
_DETERMINERS = {"le", "la", "les", "l", "des", "du", "un", "une", "ce", "cet", "cette", "ces"}


def _names(question: str) -> list[str]:
    """The question's names, without question words and nationalities."""
    out = []
    for e in entities(question):
        words = [w for w in e.split() if fold(w) not in _QWORDS]  # "Which Moroccan" → "Moroccan"
        if words and fold(" ".join(words)) not in NAME_TRANSLATIONS:
            out.append(" ".join(words))
    return out


def _unresolved(question: str, pronouns: set[str], *, noun_phrases: bool = False) -> bool:
    """A word of ``pronouns`` the question itself does not explain: no name before it (with
    ``noun_phrases``, no determiner either: "en moyenne", "son service" after "l'assureur")."""
    for inv in reversed(list(_INVERSION.finditer(question))):
        before = question[: inv.start()]
        if _names(before) or _DETERMINERS & set(fold(before).split()[1:]):
            question = question[: inv.start() + 1] + " " + question[inv.end():]
    words = fold(question).split()
    names = [len(fold(question[: question.find(e)]).split()) for e in _names(question)]
    if noun_phrases:
        names += [i for i, w in enumerate(words) if w in _DETERMINERS and i > 0]
    first = min(names, default=len(words))
    return any(w in pronouns and (i < first or (w in _OBJECTS and i == len(words) - 1)) for i, w in enumerate(words))


def _points_back(question: str) -> bool:
    """A pronoun or a definite reference that needs the previous turn to be understood."""
    return _unresolved(question, _STRONG) or (not entities(question) and bool(_REFERENCE.search(fold(question))))


def is_followup(question: str) -> bool:
    words = fold(question).split()
    if _LEADS.match(question) or _points_back(question):
        return True
    if _unresolved(question, _PRONOUNS, noun_phrases=True) and not entities(question):
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


# --- rewriting by the model ----------------------------------------------------------------

REWRITE_SYSTEM = (
    "You rewrite the last question of a conversation so that it can be understood alone: replace "
    "pronouns and vague references (he, she, it, the group, that, il, elle, le groupe, ça) by the "
    "names they stand for in the earlier questions, and complete a question that only makes sense "
    "after the previous one. Keep the language and the meaning of the last question; do not answer "
    "it. Reply with the rewritten question only, on one line.")
# Fictional examples (not from the corpus): a pronoun, an ellipsis in French, a new subject.
REWRITE_EXAMPLES = [
    (["Who founded Railcom?"], "What does he think of remote work?",
     "What does the founder of Railcom think of remote work?"),
    (["Que pense Marie Dubois des horaires de nuit ?"], "Et des week-ends ?",
     "Que pense Marie Dubois des week-ends ?"),
    (["Combien d'agents emploie Vocalis ?", "Qui dirige le groupe ?"], "Where is its head office?",
     "Where is the head office of Vocalis?"),
]


def _rewrite_turn(question: str, history: list[str]) -> str:
    earlier = "\n".join(f"- {q}" for q in history[-3:])
    return f"Earlier questions:\n{earlier}\nLast question: {question}"


def rewrite_messages(question: str, history: list[str]) -> list[dict]:
    """The chat prompt that asks the model for a standalone question: rules, examples, task.
    Everything before the task is the same for every question (its evaluation is cached)."""
    msgs = [{"role": "system", "content": REWRITE_SYSTEM}]
    for ex_history, ex_q, ex_a in REWRITE_EXAMPLES:
        msgs += [{"role": "user", "content": _rewrite_turn(ex_q, ex_history)}, {"role": "assistant", "content": ex_a}]
    return [*msgs, {"role": "user", "content": _rewrite_turn(question.strip(), history)}]


def accept_rewrite(rewrite: str, question: str, history: list[str]) -> str | None:
    """The model's rewrite, cleaned, or None when it is not a faithful standalone question: empty,
    several lines or questions, far longer than the question and its context, an answer rather
    than a question, the question unchanged or still pointing back, a name found neither in the
    question nor in the conversation, one of the question's names lost, or fewer than half of the
    question's own terms (stemmed)."""
    text = rewrite.strip().strip('"«»“” ').removeprefix("Rewritten question:").strip()
    if not text or "\n" in text or len(text) > 2 * len(question) + max(map(len, history or [""])) + 20:
        return None
    if not text.endswith("?") and question.strip().endswith("?"):
        return None
    if text.count("?") > 1 or fold(text) == fold(question) or is_followup(text):
        return None  # two questions, the question unchanged, or still a pronoun to resolve
    context = " ".join([question, *history])
    if unsupported_names(text, context) or unsupported_names(question, text):
        return None  # a name from nowhere, or one of the question's own names lost
    own = set(tokenize(question))
    if 2 * len(own & set(tokenize(text))) < len(own):  # keeps at least half of the question's terms
        return None
    return text
