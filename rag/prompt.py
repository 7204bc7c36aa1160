"""Prompt building: pure functions, tested without a model.

Small models need a short leash: numbered passages trimmed to their best sentences, a
few-shot completion format for base models (Gemma 270M never stops under a plain prompt),
stop sequences and a token cap.
"""

from __future__ import annotations

import re

from .text import fold

_FR_HINTS = {"le", "la", "les", "des", "du", "une", "est", "quel", "quelle", "quels", "quelles",
             "qui", "que", "quoi", "pourquoi", "comment", "combien", "ou", "dans", "pour", "selon",
             "et", "il", "elle", "ont", "sont", "au", "aux", "l", "d", "qu", "ce", "cette"}
_EN_HINTS = {"the", "what", "which", "who", "why", "how", "many", "much", "did", "does", "is", "are",
             "was", "were", "of", "in", "to", "and", "according", "about", "say", "said", "for"}

STOP = ["\n\n", "\nQuestion", "\nPassages", "Question :", "Question:", "\n[", "<end_of_turn>", "<|im_end|>"]

# One instruction text for both languages: the prompt's prefix (instructions + examples) is then
# identical for every question, and llama.cpp reuses its cached evaluation.
INSTRUCTIONS = ("Answer the question in one short sentence, in the language of the question, using only "
                "the passages. Cite the passage number in brackets, like [1].")
LABELS = {"en": ("Passages", "Question", "Answer"), "fr": ("Passages", "Question", "Réponse")}

REFUSAL = {
    "en": "The articles do not say. I found no passage that answers this question.",
    "fr": "Les articles ne le disent pas. Je n'ai trouvé aucun passage qui réponde à cette question.",
}

# Fictional examples (not from the corpus), one per language, same shape as the real task.
FEWSHOT = [
    ("en",
     ["Le journal du rail | Marie Dubois, directrice de Railcom : « Nous avons ouvert 12 agences en 2015, toutes en Bretagne. »",
      "Le journal du rail : Le chiffre d'affaires a baissé de 3 % l'an dernier."],
     "How many agencies did Marie Dubois open?",
     "Marie Dubois opened 12 agencies in 2015, all in Brittany [1]."),
    ("fr",
     ["La lettre du client : Le standard a reçu 4 500 appels en mars.",
      "La lettre du client | Paul Martin, fondateur de Vocalis : « Il faut former les conseillers à l'écoute, c'est la clé. »"],
     "Que propose Paul Martin ?",
     "Paul Martin propose de former les conseillers à l'écoute [2]."),
]


def detect_language(text: str) -> str:
    """'fr' or 'en' from function words and accents; French wins ties (the corpus language)."""
    words = fold(text).split()
    fr = sum(w in _FR_HINTS for w in words) + 2 * len(re.findall(r"[éèêàùçôî]", text.lower()))
    en = sum(w in _EN_HINTS for w in words)
    return "en" if en > fr else "fr"


def _block(passages: list[str], question: str, lang: str, answer: str | None) -> str:
    p, q, a = LABELS[lang]
    lines = [f"{p}:"] + [f"[{i}] {t}" for i, t in enumerate(passages, start=1)]
    lines.append(f"{q}: {question}")
    lines.append(f"{a}:" + (f" {answer}" if answer is not None else ""))
    return "\n".join(lines)


def fewshot_prompt(question: str, passages: list[str], *, lang: str) -> str:
    """Completion prompt for base models: instructions, two solved examples, the task."""
    parts = [INSTRUCTIONS]
    for ex_lang, ex_passages, ex_q, ex_a in FEWSHOT:
        parts.append(_block(ex_passages, ex_q, ex_lang, ex_a))
    parts.append(_block(passages, question, lang, None))
    return "\n\n".join(parts)


def chat_messages(question: str, passages: list[str], *, lang: str) -> list[dict]:
    """Chat prompt for instruction-tuned models, with one solved example as a prior turn."""
    _, ex_passages, ex_q, ex_a = FEWSHOT[0]
    p, q, _ = LABELS[lang]

    def user(ps, qq):
        return f"{p}:\n" + "\n".join(f"[{i}] {t}" for i, t in enumerate(ps, 1)) + f"\n\n{q}: {qq}"

    return [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": user(ex_passages, ex_q)},
        {"role": "assistant", "content": ex_a},
        {"role": "user", "content": user(passages, question)},
    ]


def clean_generation(text: str, *, question: str = "") -> str:
    """Trim what a small model adds: an echo of the question before its answer, a new
    example or a dangling label after it."""
    text = text.strip()
    if question and text.lower().startswith(question.strip().lower()):
        text = text[len(question.strip()):].strip()
    for marker in ("Question:", "Question :", "Passages:", "Answer:", "Réponse:", "Réponse :"):
        i = text.find(marker)
        if i > 0:
            text = text[:i]
    return text.strip()
