
import pytest

from rag.articles import load_articles, parse_date
from rag.errors import SeedsError
from rag.text import contains_folded, fold, sentence_spans

from conftest import SEEDS


def test_fold_ignores_case_accents_punctuation_and_nbsp_digit_groups():
    assert fold("Élu  Service-Client, l’Année !") == "elu service client l annee"
    assert fold("1\u00a0200\u00a0000 salariés") == fold("1200000 salaries")
    assert contains_folded("plus de 1 200 000 salariés", "1\u202f200\u202f000")
    assert not contains_folded("3000 appels", "300")  # word boundaries


def test_sentence_spans_keep_offsets_and_skip_abbreviations():
    text = "Nous travaillons avec M. Ahmed Chami. C'est utile ! « Oui. » Fin"
    spans = sentence_spans(text, 10)
    pieces = [text[s - 10:e - 10] for s, e in spans]
    assert pieces[0] == "Nous travaillons avec M. Ahmed Chami."
    assert pieces[-1] == "Fin"


def test_parse_date():
    assert parse_date("Publié le 28 octobre 2010 à 14:24 par Magazine En-Contact") == ("2010-10-28", "Magazine En-Contact")
    assert parse_date("Publié le 1er août 2014 à 08:00 par X") == ("2014-08-01", "X")
    assert parse_date("Bonjour") == (None, None)


def test_seed_articles_parsed_without_boilerplate():
    articles, warnings = load_articles(SEEDS)
    assert warnings == []
    assert len(articles) == 5
    duha = next(a for a in articles if a.source == "002_4baedb1a5da3def7.txt")
    assert duha.title == "Le seigneur des plateaux - Episode 3"
    assert duha.date == "2010-10-28" and duha.publisher == "Magazine En-Contact"
    body = " ".join(duha.text(b.start, b.end) for b in duha.blocks)
    assert "indépendant et international du BPO" not in body  # tagline
    assert "A lire aussi" not in body and "Abonnez-vous" not in body and "×" not in body
    assert "Olivier Duha, coprésident de Webhelp" in body
    for b in duha.blocks:  # spans index the original file
        assert duha.raw[b.start:b.end].strip() == duha.raw[b.start:b.end]


def test_bad_files_are_reported_by_name_and_skipped(tmp_path):
    d = tmp_path / "seeds"
    d.mkdir()
    (d / "good.txt").write_text("Titre\n\nPublié le 2 mai 2020 à 10:00 par X\nTitre\n\nUn paragraphe.\n", encoding="utf-8")
    (d / "latin1.txt").write_bytes("Un caf\xe9 noir.".encode("latin-1"))
    (d / "empty.txt").write_text("   \n", encoding="utf-8")
    (d / "plain.txt").write_text("Just some notes.\nSecond line of text here.\n", encoding="utf-8")
    articles, warnings = load_articles(d)
    assert sorted(a.source for a in articles) == ["good.txt", "plain.txt"]
    assert any("latin1.txt" in w and "not UTF-8" in w for w in warnings)
    assert any("empty.txt" in w for w in warnings)
    plain = next(a for a in articles if a.source == "plain.txt")
    assert plain.title == "plain" and plain.date is None


def test_missing_or_empty_seeds_dir(tmp_path):
    with pytest.raises(SeedsError, match="not found"):
        load_articles(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeedsError, match="no document"):
        load_articles(tmp_path / "empty")
