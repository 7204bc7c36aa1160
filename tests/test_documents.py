"""Document formats: PDF, DOCX, HTML, Markdown read into the same Article as a .txt; bad files
reported by name and skipped; the collection adds and removes documents safely."""

from __future__ import annotations


import pytest

import docgen
from conftest import SEEDS, FakeLLM
from rag import collection
from rag.articles import load_articles
from rag.documents import read_document
from rag.errors import DocumentError
from rag.index import load_index
from rag.pipeline import Pipeline

DUHA = "002_4baedb1a5da3def7.txt"


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def _blocks(article) -> list[tuple[str, str]]:
    return [(b.kind, _norm(article.raw[b.start:b.end])) for b in article.blocks]


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_seed_converted_reads_like_its_txt(tmp_path, fmt):
    txt = read_document(SEEDS / DUHA)
    paras = docgen.paragraphs(txt.raw)
    data = docgen.pdf_bytes(paras) if fmt == "pdf" else docgen.docx_bytes(paras)
    conv = read_document(docgen.write(tmp_path / f"duha.{fmt}", data))
    assert (conv.title, conv.date) == (txt.title, txt.date)
    assert _blocks(conv) == _blocks(txt)
    if fmt == "pdf":
        assert len(conv.pages) >= 2 and conv.pages[0] == 0


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_seed_converted_gives_the_same_answers(tmp_path, settings, fmt):
    questions = ["Que propose Olivier Duha ?", "What did Olivier Duha propose at the assises?",
                 "Combien d'appels le numéro vert a-t-il reçus ?"]
    txt_answers = [Pipeline(settings, llm=FakeLLM()).ask(q) for q in questions]
    paras = docgen.paragraphs((SEEDS / DUHA).read_text(encoding="utf-8"))
    (settings.seeds_dir / DUHA).unlink()
    data = docgen.pdf_bytes(paras) if fmt == "pdf" else docgen.docx_bytes(paras)
    docgen.write(settings.seeds_dir / DUHA.replace(".txt", f".{fmt}"), data)
    conv = Pipeline(settings, llm=FakeLLM())
    for q, want in zip(questions, txt_answers):
        got = conv.ask(q)
        assert _norm(got.answer) == _norm(want.answer)
        assert [(c.n, c.chunk.source.rsplit(".", 1)[0], _norm(c.evidence)) for c in got.citations] == \
               [(c.n, c.chunk.source.rsplit(".", 1)[0], _norm(c.evidence)) for c in want.citations]


def test_pdf_citations_name_the_page(tmp_path, settings):
    paras = [f"Paragraphe {i} : la société Alpha{i} a ouvert un centre d'appels à Ville{i} en {2000 + i}."
             for i in range(12)]
    for p in settings.seeds_dir.iterdir():
        p.unlink()
    docgen.write(settings.seeds_dir / "rapport.pdf", docgen.pdf_bytes(paras, title="Rapport", page_break_every=4))
    art = read_document(settings.seeds_dir / "rapport.pdf")
    assert art.title == "Rapport" and len(art.pages) == 3
    pipe = Pipeline(settings, llm=FakeLLM("La société Alpha9 a ouvert un centre d'appels à Ville9 en 2009 [1]."))
    answer = pipe.ask("Où la société Alpha9 a-t-elle ouvert un centre d'appels en 2009 ?")
    assert answer.citations, answer
    cite = answer.to_json()["citations"][0]
    assert "Ville9" in cite["evidence"] and cite["page"] == 3
    # the span points at the exact extracted text the source card shows
    assert art.raw[cite["evidence_start"]:cite["evidence_end"]] == cite["evidence"]


def test_html_drops_boilerplate_and_keeps_title_and_date(tmp_path):
    paras = ["Premier paragraphe de l'article sur les centres de contact.", "Deuxième paragraphe, plus long."]
    art = read_document(docgen.write(tmp_path / "page.html",
                                     docgen.html_bytes(paras, title="Un titre", date="2021-03-04T10:00:00Z")))
    assert art.title == "Un titre" and art.date == "2021-03-04"
    for junk in ("tracking", "Abonnez-vous", "Mentions légales", "Accueil"):
        assert junk not in art.raw
    assert "Deuxième paragraphe, plus long." in art.raw


def test_markdown_front_matter_and_syntax(tmp_path):
    data = docgen.md_bytes(["Le **chiffre** d'affaires de [Zorglub](https://x.example) atteint *12 millions*.",
                            "- un point de liste"], title="Bilan", date="2019-05-06")
    art = read_document(docgen.write(tmp_path / "bilan.md", data))
    assert (art.title, art.date) == ("Bilan", "2019-05-06")
    assert "Le chiffre d'affaires de Zorglub atteint 12 millions." in art.raw
    assert "**" not in art.raw and "https://" not in art.raw and "un point de liste" in art.raw


def test_bad_files_are_reported_by_name_and_skipped(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "good.txt").write_text("Un texte valide sur les centres d'appels, assez long pour être indexé.",
                                encoding="utf-8")
    (d / "locked.pdf").write_bytes(docgen.pdf_bytes(["Secret paragraph of text."], encrypt_password="pw"))
    (d / "scan.pdf").write_bytes(docgen.image_only_pdf())
    (d / "broken.pdf").write_bytes(docgen.pdf_bytes(["Some text here, long enough."])[:300])
    (d / "fake.pdf").write_text("I am plain text pretending to be a PDF document.", encoding="utf-8")
    (d / "fake.docx").write_text("I am plain text pretending to be a Word document.", encoding="utf-8")
    (d / "pdf-inside.txt").write_bytes(docgen.pdf_bytes(["A PDF saved with a .txt name."]))
    (d / "latin1.txt").write_bytes("Un texte en Latin-1 : été, côté, à propos.".encode("latin-1"))
    (d / "notes.xyz").write_text("unsupported type", encoding="utf-8")
    articles, warnings = load_articles(d)
    assert [a.source for a in articles] == ["good.txt"]
    expect = {"locked.pdf": "encrypted", "scan.pdf": "no text", "broken.pdf": "corrupt", "fake.pdf": "content is text",
              "fake.docx": "content is text", "pdf-inside.txt": "content is a PDF", "latin1.txt": "not UTF-8",
              "notes.xyz": "unsupported file type"}
    for name, why in expect.items():
        assert any(name in w and why in w for w in warnings), (name, warnings)


@pytest.mark.parametrize("name", ["../evil.txt", "a/b.txt", "..", ".hidden.txt", "/etc/passwd", "c:\\x.txt",
                                  "x\x00.txt", "", "noext", "run.sh"])
def test_unsafe_or_unsupported_names_are_refused(name):
    with pytest.raises(DocumentError):
        collection.safe_name(name)


def test_add_and_remove_documents_update_the_index(settings, monkeypatch):
    import rag.embedders as emb

    from conftest import FakeEmbedder

    Pipeline(settings, llm=FakeLLM())  # first build
    encoded = []

    class Counting(FakeEmbedder):
        def encode(self, texts):
            encoded.extend(texts)
            return super().encode(texts)

    monkeypatch.setattr(emb, "get_embedder", lambda name: Counting())
    pdf = docgen.pdf_bytes(["La société Zorglub emploie 321 conseillers à Tulle depuis 2017.",
                            "Elle prévoit d'en recruter 50 de plus."], title="Zorglub à Tulle")
    report = collection.add_documents(settings, [("zorglub.pdf", pdf), ("../x.txt", b"nope nope nope"),
                                                 ("bad.pdf", b"%PDF-1.4 garbage")])
    assert report.added == ["zorglub.pdf"] and len(report.rejected) == 2
    assert not (settings.seeds_dir.parent / "x.txt").exists()
    # only the new document was embedded, and only its words the others do not use: the others
    # kept their vectors
    sentences = [t for t in encoded if " " in t]
    assert sentences and all("Zorglub" in t or "recruter" in t or "Tulle" in t for t in sentences)
    assert sorted(t for t in encoded if " " not in t) == ["prévoit", "tulle", "zorglub"]
    words = load_index(settings).terms
    assert words.knows("zorglub") and words.knows("conseillers")
    pipe = Pipeline(settings, llm=FakeLLM("Zorglub emploie 321 conseillers à Tulle [1]."))
    docs = {d.source: d for d in collection.documents(pipe.index.manifest)}
    assert docs["zorglub.pdf"].pages == 1 and docs["zorglub.pdf"].chunks >= 1
    answer = pipe.ask("Combien de conseillers Zorglub emploie-t-elle à Tulle ?")
    assert answer.citations and answer.citations[0].chunk.source == "zorglub.pdf"

    collection.remove_document(settings, "zorglub.pdf")
    pipe.reload_index()
    assert "zorglub.pdf" not in pipe.index.manifest["articles"]
    assert all(c.source != "zorglub.pdf" for c in load_index(settings).chunks)
    words = load_index(settings).terms
    assert not words.knows("zorglub") and words.knows("conseillers")  # its own words left with it
    answer = pipe.ask("Combien de conseillers Zorglub emploie-t-elle à Tulle ?")
    assert all(c.chunk.source != "zorglub.pdf" for c in answer.citations)
    with pytest.raises(DocumentError, match="no document"):
        collection.remove_document(settings, "zorglub.pdf")


def test_killed_build_leftovers_are_cleaned(settings):
    from rag.index import build_index

    left = settings.index_dir.parent / f".{settings.index_dir.name}.building-dead"
    left.mkdir(parents=True)
    (left / "junk").write_text("x")
    build_index(settings)
    assert not left.exists() and (settings.index_dir / "manifest.json").exists()
