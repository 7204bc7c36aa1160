
import pytest

from rag.errors import QuestionSetError
from rag.grading import Question, evidence_rank, grade, keywords_match, load_questions, summarize
from rag.text import canonical

from conftest import ROOT, SEEDS


def test_keyword_groups_all_needed_any_alternative():
    groups = (("Duha",), ("Jousset", "Frederic J."))
    assert keywords_match("Fondée par Olivier DUHA et Frédéric Jousset.", groups)
    assert not keywords_match("Fondée par Olivier Duha.", groups)
    assert keywords_match("plus de 1\u00a0200\u00a0000 salariés", (("1 200 000",),))
    assert not keywords_match("anything", ())


def test_evidence_rank_and_mrr():
    passages = ["rien", "Le  standard a reçu\n4 500 appels.", "autre"]
    assert evidence_rank(passages, "reçu 4 500 appels") == 2
    assert evidence_rank(passages, "absent") is None


def _result(answer, texts, cited=(), refused=False, total=100.0):
    return {"answer": answer, "refused": refused,
            "retrieved": [{"text": t} for t in texts],
            "citations": [{"n": i + 1, "text": t, "evidence": t} for i, t in enumerate(cited)],
            "timings": {"retrieve_ms": 5.0, "first_token_ms": 50.0, "total_ms": total}}


def test_summary_from_hand_made_results():
    qs = [Question(id="a", question="?", evidence="quatre", keywords=(("4", "quatre"),)),
          Question(id="b", question="?", evidence="cinq", keywords=(("5",),)),
          Question(id="c", question="?", answerable=False),
          Question(id="d", question="?", answerable=False)]
    results = [_result("Il y en a quatre [1].", ["x", "quatre ici"], cited=["quatre ici"]),
               _result("Je ne sais pas", ["rien"], refused=True),
               _result("refus", [], refused=True),
               _result("invente", ["x"], cited=["x"], total=300.0)]
    grades = [grade(q, r) for q, r in zip(qs, results)]
    assert grades[0]["correct"] and grades[0]["cites_evidence"] and grades[0]["evidence_rank"] == 2
    assert not grades[1]["correct"] and grades[1]["refused"]
    s = summarize(qs, results, grades)
    assert s["retrieval"] == {"hit@1": 0.0, "hit@3": 50.0, "hit@5": 50.0, "mrr": 0.25}
    assert s["answers"]["correct"] == 50.0
    assert s["refusals"] == {"refused_unanswerable": 50.0, "wrongly_refused": 50.0}
    assert s["citations"]["supported_markers"] == 100.0
    assert s["latency_ms"]["total_ms"]["p50"] == 100.0


def test_question_file_errors_name_the_line(tmp_path):
    p = tmp_path / "q.jsonl"
    p.write_text('{"id": 1, "question": "ok", "extra": 3}\n\n{"id": 2\n', encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r"q.jsonl:3: invalid JSON"):
        load_questions(p)
    p.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r":1: 'id' and a non-empty 'question'"):
        load_questions(p)
    p.write_text('{"id": 1, "question": "a", "keywords": [["x", "y"], "z"]}\n', encoding="utf-8")
    assert load_questions(p)[0].keywords == (("x", "y"), ("z",))


def test_project_question_set_is_sound():
    qs = load_questions(ROOT / "eval" / "questions.jsonl")
    assert len(qs) >= 60
    assert sum(not q.answerable for q in qs) >= 10
    assert {q.lang for q in qs} == {"fr", "en"}
    sources = {p.name for p in SEEDS.glob("*.txt")}
    assert {q.source for q in qs if q.answerable} == sources  # every article covered
    for q in qs:
        if q.answerable:
            raw = (SEEDS / q.source).read_text(encoding="utf-8")
            assert canonical(q.evidence) in canonical(raw), f"{q.id}: evidence not verbatim in {q.source}"
            assert q.keywords, q.id
            assert keywords_match(q.evidence + " " + q.answer, q.keywords) or keywords_match(q.answer, q.keywords), q.id
