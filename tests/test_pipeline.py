import pytest

from rag.errors import EmptyQuestionError, QuestionTooLongError
from rag.pipeline import Pipeline

from conftest import FakeLLM

KEYS = {"question", "answer", "refused", "citations", "retrieved", "timings", "models"}
CIT_KEYS = {"n", "source", "title", "date", "text", "evidence", "start", "end"}


def _pipe(settings, script):
    return Pipeline(settings.model_copy(update={"refuse_below": 0.0}), llm=FakeLLM(script))


def test_answer_with_citations_honours_the_json_contract(settings):
    pipe = _pipe(settings, "Il faut recréer un modèle économique, comme le train en première ou en seconde [1].")
    out = pipe.ask("Que propose Olivier Duha, coprésident de Webhelp, sur le train ?").to_json()
    assert KEYS <= set(out)
    assert not out["refused"] and out["citations"]
    c = out["citations"][0]
    assert CIT_KEYS <= set(c)
    raw = (settings.seeds_dir / c["source"]).read_text(encoding="utf-8")
    assert raw[c["start"]:c["end"]] == c["text"]
    assert c["evidence"] in c["text"]
    assert set(out["timings"]) == {"retrieve_ms", "first_token_ms", "total_ms"}
    assert [r["score"] for r in out["retrieved"]] == sorted((r["score"] for r in out["retrieved"]), reverse=True)


def test_invalid_markers_dropped_and_missing_ones_attached(settings):
    pipe = _pipe(settings, "Olivier Duha veut recréer un modèle économique avec le train [9].")
    out = pipe.ask("Que propose Olivier Duha sur le train ?")
    assert "[9]" not in out.answer
    assert out.citations and all(1 <= c.n <= settings.context_k for c in out.citations)


def test_ungrounded_answer_is_replaced_by_evidence(settings):
    pipe = _pipe(settings, "Il écrit des romans policiers sur Mars [1].")
    out = pipe.ask("Que propose Olivier Duha sur le train ?")
    assert "romans" not in out.answer
    assert out.answer.startswith("D'après les articles")
    assert out.citations


def test_refusal_when_nothing_relevant(settings):
    llm = FakeLLM("should not be called")
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.99}), llm=llm)
    out = pipe.ask("What is the weather forecast for Paris tomorrow?")
    assert out.refused and out.citations == [] and "do not say" in out.answer
    assert llm.prompts == []


def test_question_with_unknown_year_is_refused(settings):
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.0}), llm=FakeLLM("x"))
    out = pipe.ask("Quel était le chiffre d'affaires de Webhelp en 2019 ?")
    assert out.refused


def test_followup_uses_history(settings):
    pipe = _pipe(settings, "Réponse [1].")
    events = list(pipe.stream("Et combien d'appels ont-ils reçu ?",
                              history=["Que dit l'article sur le numéro vert des mandataires judiciaires ?"]))
    status = [e.text for e in events if e.kind == "status"]
    assert status and "mandataires" in status[0]
    answer = events[-1].answer
    assert "mandataires" in answer.standalone_question


def test_streams_tokens_before_the_answer(settings):
    pipe = _pipe(settings, "Un deux trois [1].")
    kinds = [e.kind for e in pipe.stream("Que propose Olivier Duha ?")]
    assert kinds.count("token") >= 3 and kinds[-1] == "answer"


@pytest.mark.parametrize("q,err", [("", EmptyQuestionError), ("   \n", EmptyQuestionError), ("x" * 5000, QuestionTooLongError)])
def test_bad_questions(settings, q, err):
    with pytest.raises(err):
        _pipe(settings, "x").ask(q)
