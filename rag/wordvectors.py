"""Words compared across languages: the same word in any inflection, or a word whose vector in
the dense encoder's multilingual space is close ("choice" ~ "choix" 0.95, "calls" ~ "appels"
0.75). Sentence vectors rate a correct English paraphrase of a long French sentence low; word
vectors of the same space still pair its words (``support.word_coverage``,
``refusal.counted_numbers``).
"""

from __future__ import annotations

from .lexical import tokenize
from .text import fold


def same_form(a: str, b: str) -> bool:
    """The same word up to accents, inflection (one stem) or ending (the first five letters of
    two words of five or more: "appel"/"appels", "created"/"création")."""
    a, b = fold(a), fold(b)
    return a == b or (min(len(a), len(b)) >= 5 and a[:5] == b[:5]) or set(tokenize(a)) == set(tokenize(b)) != set()


class WordVectors:
    """Word vectors from an encoder (anything with ``encode(texts) -> unit vectors``), each word
    encoded once: the same words come back question after question."""

    def __init__(self, encoder, *, max_words: int = 200_000):
        self.encoder = encoder
        self.max_words = max_words
        self._cache: dict[str, object] = {}

    def similarity(self, words: list[str], others: list[str]) -> list[list[float]]:
        """Cosine of each of ``words`` with each of ``others``."""
        import numpy as np

        new = [w for w in dict.fromkeys([*words, *others]) if w not in self._cache]
        if new:
            if len(self._cache) + len(new) > self.max_words:
                self._cache.clear()
            self._cache.update(zip(new, self.encoder.encode(new)))
        return (np.array([self._cache[w] for w in words]) @ np.array([self._cache[w] for w in others]).T).tolist()

    def same(self, word: str, other: str, *, min_similarity: float) -> bool:
        """The same word (``same_form``), or one at least ``min_similarity`` close."""
        return same_form(word, other) or self.similarity([word], [other])[0][0] >= min_similarity
