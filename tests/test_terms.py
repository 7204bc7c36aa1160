"""Question words searched by their closest document words (rag/terms.py), without a model:
a dictionary encoder stands in for the multilingual one."""

import numpy as np
import pytest

from rag import terms
from rag.errors import CorruptIndexError
from rag.index import build_index, load_index
from rag.lexical import Bm25Index
from rag.retrieve import Bm25Retriever, searched

# words of one meaning share a direction; every other word gets its own
MEANINGS = {"schools": 0, "écoles": 0, "école": 0, "teach": 1, "apprennent": 1, "phone": 2, "téléphone": 2}


class DictionaryEncoder:
    dim = 32

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, MEANINGS.get(t, 3 + sum(map(ord, t)) % (self.dim - 3))] = 1.0
        return out


DOCS = ["Ces écoles leur apprennent à devenir des managers.", "Nous avons prospecté par téléphone la première année.",
        "Le salon se tient à Paris."]


def test_content_words_drop_stopwords_short_words_and_elisions():
    assert terms.content_words("L'entreprise a 3 écoles et d’autres, qu'il y a") == ["entreprise", "écoles", "autres"]


def test_table_is_updated_as_a_full_build_would_make_it_and_encodes_only_new_words():
    enc = DictionaryEncoder()
    first = terms.updated(None, removed=[], added=DOCS[:2], encode=enc.encode, max_words=100)
    assert first.knows("écoles") and not first.knows("salon")
    enc.seen.clear()
    second = terms.updated(first, removed=[DOCS[1]], added=[DOCS[2], DOCS[0]], encode=enc.encode, max_words=100)
    assert sorted(enc.seen) == ["paris", "salon", "tient"]  # words already in the table are not encoded again
    full = terms.updated(None, removed=[], added=[DOCS[0], DOCS[2], DOCS[0]], encode=enc.encode, max_words=100)
    assert second.words == full.words and second.counts.tolist() == full.counts.tolist()
    assert np.allclose(second.vectors, full.vectors)
    assert not second.knows("téléphone")  # its only document left
    assert second.counts[second.position["écoles"]] == 2


def test_the_most_frequent_words_are_kept():
    table = terms.updated(None, removed=[], added=["alpha beta", "alpha gamma", "alpha beta"],
                          encode=DictionaryEncoder().encode, max_words=2)
    assert table.words == ["alpha", "beta"]


def test_unknown_question_words_are_searched_by_their_closest_document_words():
    enc = DictionaryEncoder()
    table = terms.updated(None, removed=[], added=DOCS, encode=enc.encode, max_words=100)
    expand = terms.Expander(table, enc.encode, n=5, min_similarity=0.5)
    assert sorted(expand("What do the schools teach?")) == ["apprennent", "écoles"]
    assert expand("Le salon de Paris ?") == []  # the documents' own words: nothing to add
    assert terms.Expander(table, enc.encode, n=0, min_similarity=0.5)("schools?") == []
    assert terms.Expander(table, enc.encode, n=5, min_similarity=1.1)("schools?") == []


def test_an_english_question_finds_the_french_chunk_lexically():
    enc = DictionaryEncoder()
    table = terms.updated(None, removed=[], added=DOCS, encode=enc.encode, max_words=100)
    bm25 = Bm25Index.build(DOCS)
    expand = terms.Expander(table, enc.encode, n=5, min_similarity=0.5)
    assert Bm25Retriever(bm25).rank("What do schools teach?") == {}
    ranked = Bm25Retriever(bm25, expand=expand).rank("What do schools teach?")
    assert max(ranked, key=ranked.get) == 0
    assert searched("x?", None) == "x?"


def test_table_round_trips_and_a_damaged_one_is_reported(settings):
    build_index(settings)
    index = load_index(settings)
    assert index.terms is not None and index.terms.knows("téléphone")
    (settings.index_dir / "terms" / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(CorruptIndexError, match="rag index"):
        load_index(settings)
