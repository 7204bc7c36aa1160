from rag.articles import load_articles
from rag.chunking import ChunkingConfig, chunk_articles

from conftest import SEEDS


def _chunks(**kw):
    articles, _ = load_articles(SEEDS)
    return articles, chunk_articles(articles, ChunkingConfig(**kw))


def test_chunks_are_exact_spans_of_the_original_file():
    articles, chunks = _chunks()
    raw = {a.source: a.raw for a in articles}
    for c in chunks:
        assert raw[c.source][c.start:c.end] == c.text
        assert len(c.text) <= 1200 or "\n" not in c.text


def test_quote_two_paragraphs_below_speaker_keeps_the_speaker():
    _, chunks = _chunks()
    train = [c for c in chunks if "vous prenez le train" in c.text]
    assert train, "the train-class proposal must be in a chunk"
    for c in train:
        assert c.source == "002_4baedb1a5da3def7.txt"
        assert "Olivier Duha, coprésident de Webhelp" in c.header
        assert "Olivier Duha" not in c.text.split("«")[0] or c.text.startswith("Olivier Duha")


def test_interview_question_stays_with_its_answer():
    _, chunks = _chunks()
    c = next(c for c in chunks if "salaires bas et langue anglaise" in c.text)
    assert "Les centres d’appels comptent aux Philippines" in c.text  # the question is in the span
    c = next(c for c in chunks if "Ce film m’a fait marrer" in c.text)
    assert "Merci Patron" in c.text or "Merci Patron" in c.header


def test_long_blocks_are_split_with_overlap():
    _, chunks = _chunks(max_chars=300, min_chars=0, overlap_sentences=1)
    assert max(len(c.text) for c in chunks) <= 1300  # a single sentence may exceed the cap
    pieces = [c for c in chunks if c.source.startswith("002") and "Wauquiez" in c.header]
    assert len(pieces) >= 2
    assert any(a.end > b.start for a, b in zip(pieces, pieces[1:]))  # windows overlap
