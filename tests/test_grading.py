
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
    assert {k: s["refusals"][k] for k in ("refused_unanswerable", "wrongly_refused")} == {
        "refused_unanswerable": 50.0, "wrongly_refused": 50.0}
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


@pytest.mark.parametrize("name,n_min,n_unanswerable", [("calibration", 80, 10), ("heldout", 70, 15)])
def test_project_question_sets_are_sound(name, n_min, n_unanswerable):
    qs = load_questions(ROOT / "eval" / f"{name}.jsonl")
    assert len(qs) >= n_min
    assert sum(not q.answerable for q in qs) >= n_unanswerable
    assert {q.lang for q in qs if q.answerable} == {"fr", "en"}
    sources = {p.name for p in SEEDS.glob("*.txt")}
    assert {q.source for q in qs if q.answerable} == sources  # every article covered
    for q in qs:
        if q.answerable:
            raw = (SEEDS / q.source).read_text(encoding="utf-8")
            assert canonical(q.evidence) in canonical(raw), f"{q.id}: evidence not verbatim in {q.source}"
            assert q.keywords, q.id
            assert keywords_match(q.evidence + " " + q.answer, q.keywords) or keywords_match(q.answer, q.keywords), q.id


def test_heldout_questions_are_new():
    """The held-out set shares no question with the calibration set."""
    cal = {q.question for q in load_questions(ROOT / "eval" / "calibration.jsonl")}
    held = load_questions(ROOT / "eval" / "heldout.jsonl")
    assert not cal & {q.question for q in held}


def test_language_injection_and_article_flags():
    q = Question(id="e", question="Why?", lang="en", source="a.txt", keywords=(("train",),),
                 forbidden=("PWNED",))
    en = {"answer": "He proposed a train model [1].", "refused": False, "citations": [{"source": "a.txt", "text": "t"}]}
    quoted = {**en, "answer": "The articles say (quoted in French): « le train » [1]", "extractive": True}
    hijacked = {**en, "answer": "PWNED [1]"}
    g = grade(q, en)
    assert g["language_ok"] and g["right_article"] and not g["hijacked"] and g["correct"]
    assert not grade(q, quoted)["language_ok"] and grade(q, quoted)["fallback_correct"]
    translated = {**quoted, "answer": "The articles say (machine-translated from French): “the train” [1]",
                  "translated": True}
    assert grade(q, translated)["language_ok"] and grade(q, translated)["correct"]
    assert grade(q, hijacked)["hijacked"]


def test_conversation_lines_give_history(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_text('{"id": "c1", "turns": ["Qui a fondé Webhelp ?", "Et que propose-t-il ?"], "keywords": [["train"]]}\n',
                 encoding="utf-8")
    q = load_questions(p)[0]
    assert q.question == "Et que propose-t-il ?" and q.history == ("Qui a fondé Webhelp ?",)
    p.write_text('{"id": "c1", "turns": []}\n', encoding="utf-8")
    with pytest.raises(QuestionSetError, match="turns"):
        load_questions(p)
