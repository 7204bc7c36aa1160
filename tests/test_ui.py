"""UI handlers without a browser (fake LLM), and the file routes' path-traversal guard."""

from rag.pipeline import Pipeline
from ui.app import ChatHandlers
from ui.render import link_markers, sources_html

from conftest import FakeLLM


def _handlers(settings, script="Il faut recréer un modèle économique avec le train en première [1]."):
    return ChatHandlers(Pipeline(settings.model_copy(update={"refuse_below": 0.0}), llm=FakeLLM(script)))


def test_respond_streams_then_shows_answer_and_sources(settings):
    h = _handlers(settings)
    steps = list(h.respond("Que propose Olivier Duha sur le train ?", [], [], 5, True, "auto"))
    assert len(steps) >= 3  # placeholder, tokens, final
    chat, sources, retrieved, status, questions, box, cards = steps[-1]
    assert chat[0] == {"role": "user", "content": "Que propose Olivier Duha sur le train ?"}
    assert "(#src-1-1)" in chat[1]["content"]
    assert "src-1-1" in sources and "<mark class='evidence'>" in sources and "Le seigneur des plateaux" in sources
    assert "score" in retrieved and "first token" in status
    assert questions == ["Que propose Olivier Duha sur le train ?"] and box == ""


def test_followup_is_rewritten_and_shown(settings):
    h = _handlers(settings, "Réponse [1].")
    hist = ["Que dit l'article sur le numéro vert des mandataires judiciaires ?"]
    *_, last = h.respond("Et combien d'appels ont-ils reçu ?", [], hist, 5, False, "auto")
    chat, _, retrieved, status, questions, _, _ = last
    assert "Understood as" in status and "mandataires" in status
    assert retrieved == "" and "mandataires" in questions[-1]


def test_errors_become_chat_messages_and_keep_the_question(settings):
    h = _handlers(settings)
    *_, last = h.respond("   ", [], [], 5, False, "auto")
    chat, _, _, _, questions, box, _ = last
    assert chat[-1]["content"].startswith("⚠️ the question is empty") and questions == []


def test_refusal_looks_like_a_refusal(settings):
    h = ChatHandlers(Pipeline(settings.model_copy(update={"refuse_below": 0.99}), llm=FakeLLM("x")))
    *_, last = h.respond("What is the weather forecast for Paris tomorrow?", [], [], 5, False, "auto")
    assert "Not covered by the articles" in last[0][-1]["content"]
    assert "No passage" in last[1]


def test_render_helpers():
    assert link_markers("A [1] et [2].", 3) == "A [[1]](#src-3-1) et [[2]](#src-3-2)."
    assert "appear here" in sources_html(None, 0)
    assert ChatHandlers.clear()[0] == []


def test_each_answer_keeps_its_sources_in_the_history(settings):
    h = _handlers(settings)
    *_, first = h.respond("Que propose Olivier Duha sur le train ?", [], [], 5, False, "auto")
    chat, _, _, _, questions, _, cards = first
    assert "> **[1]**" in chat[1]["content"] and "002_4baedb1a5da3def7.txt" in chat[1]["content"]
    *_, second = h.respond("Combien d'appels le numéro vert a-t-il reçus ?", chat, questions, 5, False, "auto", cards)
    chat2, sources, *_, cards2 = second
    assert chat2[1] == chat[1]  # the first answer and its evidence are untouched
    assert len(cards2) == 2 and "src-1-1" in sources and "src-2-1" in sources


def test_documents_panel_adds_and_removes(settings, tmp_path):
    import docgen

    h = _handlers(settings, "Zorglub emploie 321 conseillers à Tulle [1].")
    rows, names, _ = h.documents()
    assert len(rows) == 5 and all(r[3] > 0 for r in rows)
    pdf = docgen.write(tmp_path / "zorglub.pdf", docgen.pdf_bytes(
        ["La société Zorglub emploie 321 conseillers à Tulle depuis 2017."], title="Zorglub"))
    bad = docgen.write(tmp_path / "bad.pdf", b"%PDF-1.4 broken")
    report, rows, names, about = h.add_files([str(pdf), str(bad)])
    assert "added zorglub.pdf" in report and "bad.pdf" in report and "zorglub.pdf" in names
    assert "6 articles" in about
    *_, last = h.respond("Combien de conseillers Zorglub emploie-t-elle à Tulle ?", [], [], 5, False, "auto")
    assert "zorglub.pdf" in last[1]
    report, rows, names, _ = h.remove("zorglub.pdf")
    assert "removed zorglub.pdf" in report and "zorglub.pdf" not in names
    *_, last = h.respond("Combien de conseillers Zorglub emploie-t-elle à Tulle ?", [], [], 5, False, "auto")
    assert "zorglub.pdf" not in last[1]
    assert "⚠️" in h.remove("nope.txt")[0]
