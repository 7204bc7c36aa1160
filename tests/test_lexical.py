"""The incremental BM25 scores exactly as bm25s does, and an update equals a rebuild."""

import numpy as np
import pytest

from rag.lexical import B, K1, Bm25Index, tokenize

TEXTS = ["Olivier Duha propose une première et une seconde classe, comme dans le train.",
         "Webhelp emploie des conseillers au Maroc et au Portugal.",
         "Le numéro vert a reçu 4 500 appels en mars.",
         "",  # a chunk with no indexable word
         "Les conseillers de Webhelp répondent aux appels des clients de SFR.",
         "Teleperformance lance l'offre Platinum en France."]
QUERIES = ["Que propose Olivier Duha ?", "conseillers Webhelp Webhelp", "appels", "zzz", "le la les"]


def test_scores_equal_bm25s():
    bm25s = pytest.importorskip("bm25s")
    ref = bm25s.BM25(k1=K1, b=B)
    ref.index([tokenize(t) or [Bm25Index.EMPTY] for t in TEXTS], show_progress=False)
    ours = Bm25Index.build(TEXTS)
    for q in QUERIES:
        ids = [ref.vocab_dict[t] for t in tokenize(q) if t in ref.vocab_dict]
        expected = np.asarray(ref.get_scores_from_ids(ids)) if ids else np.zeros(len(TEXTS))
        assert np.allclose(ours.scores(q), expected, atol=1e-5), q


def test_an_update_equals_a_rebuild_and_survives_a_round_trip(tmp_path):
    keep = np.array([True, False, True, True, False, True])
    added = ["Un nouveau centre d'appels ouvre à Brest.", "Webhelp recrute à Brest."]
    updated = Bm25Index.build(TEXTS).updated(keep, added)
    rebuilt = Bm25Index.build([t for t, k in zip(TEXTS, keep) if k] + added)
    updated.save(tmp_path / "bm25")
    loaded = Bm25Index.load(tmp_path / "bm25")
    for q in QUERIES + ["Brest"]:
        assert np.allclose(updated.scores(q), rebuilt.scores(q), atol=1e-6), q
        assert np.allclose(loaded.scores(q), rebuilt.scores(q), atol=1e-6), q
    assert loaded.knows("brest") and not loaded.knows("maroc")  # its only document was removed
