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
        before = c.text.split("«")[0]  # the speaker line (and its section's heading) glued to the first quote
        assert "Olivier Duha" not in before or before.rstrip().endswith("Olivier Duha, coprésident de Webhelp\xa0:")


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


def test_headings_in_a_row_all_head_what_follows_and_are_in_its_span():
    from rag.articles import parse_article

    raw = ("Le magazine.\n\nTitre\n\nPublié le 23 août 2010 à 12:57 par Magazine En-Contact\nTitre\n\n"
           "Une introduction assez longue pour être du texte.\n\nArchives : En-Contact n°55\n\nENTRETIEN DU MOIS\n\n"
           "Jean Dupont, PDG de Dupont SA\n\nLa réponse de Jean Dupont, en une phrase complète.\n\n"
           "Édito rédigé en octobre 2014\n")
    chunks = chunk_articles([parse_article("a.txt", raw)], ChunkingConfig(min_chars=0))
    answer = next(c for c in chunks if "La réponse" in c.text)
    assert answer.text.startswith("Archives : En-Contact n°55\n\nENTRETIEN DU MOIS")  # quotable headings
    assert answer.header == "Titre | Archives : En-Contact n°55 | ENTRETIEN DU MOIS | Jean Dupont, PDG de Dupont SA"
    last = chunks[-1]  # a heading with nothing after it is indexed and quotable, as text
    assert last.text == "Édito rédigé en octobre 2014"
    assert all(raw[c.start:c.end] == c.text for c in chunks)


def test_an_answer_opened_by_its_speakers_name_makes_them_the_speaker_of_what_follows():
    from rag.articles import inline_speaker, parse_article

    raw = ("Le magazine.\n\nTitre\n\nPublié le 23 août 2010 à 12:57 par Magazine En-Contact\nTitre\n\n"
           "En-Contact : Pourquoi parlez-vous du SEPA ?\n\nJean Dupont : Précisément, parce que l’on en parle beaucoup.\n\n"
           "A ce point là ?\n\nOui, les centres d’appels entendent tout, et parfois des choses incroyables.\n\n"
           "Mais la réalité a été plus compliquée : personne ne voulait de centres d’appels.\n\n"
           "Note Importante : ce paragraphe ne suit pas une question.\n")
    chunks = chunk_articles([parse_article("a.txt", raw)], ChunkingConfig(min_chars=0))
    later = next(c for c in chunks if "entendent tout" in c.text)
    assert later.header == "Titre | Jean Dupont : | Q : A ce point là ?"  # an unlabelled answer further on
    note = next(c for c in chunks if "Note Importante" in c.text)
    assert "Note Importante" not in note.header  # a label only after an interview question
    assert all(raw[c.start:c.end] == c.text for c in chunks)
    # a label is a person's name (two to four capitalised words), not a sentence with a colon
    assert inline_speaker("Maxence d’Espeuilles : Oui.") == "Maxence d'Espeuilles"
    for line in ("Mais la réalité a été plus compliquée : tandis que", "Archives : En-Contact n°55",
                 "Contact : redaction@en-contact.fr", "Le Figaro : un quotidien", "Photo couverture : Le directeur"):
        assert inline_speaker(line) is None, line


def test_a_change_of_the_chunker_changes_the_index_signature(monkeypatch):
    import rag.settings
    from rag.settings import Settings

    before = Settings().index_signature()
    monkeypatch.setattr(rag.settings, "CHUNKER_VERSION", rag.settings.CHUNKER_VERSION + 1)
    assert Settings().index_signature() != before
