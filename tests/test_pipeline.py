import pytest

from rag import citations as cit
from rag.errors import EmptyQuestionError, QuestionTooLongError
from rag.pipeline import Pipeline
from rag.retrieve import retrieve

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
    assert set(out["timings"]) == {"retrieve_ms", "select_ms", "first_token_ms", "first_sentence_ms", "total_ms"}
    assert [r["score"] for r in out["retrieved"]] == sorted((r["score"] for r in out["retrieved"]), reverse=True)


def test_invalid_markers_dropped_and_missing_ones_attached(settings):
    pipe = _pipe(settings, "Olivier Duha veut recréer un modèle économique avec le train [9].")
    out = pipe.ask("Que propose Olivier Duha sur le train ?")
    assert "[9]" not in out.answer
    assert out.citations and all(1 <= c.n <= settings.k for c in out.citations)


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


def test_a_question_about_a_name_no_passage_holds_is_refused_without_calling_the_model(settings):
    llm = FakeLLM("should not be called", chat=True, p_not=0.0)
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.0}), llm=llm)
    out = pipe.ask("How many call centres are located in Tunisia?")
    assert out.refused and out.refusal_reason == "no passage mentions tunisia" and llm.prompts == []
    assert not pipe.ask("What did Olivier Duha propose?").refused  # names the passages hold


def test_followup_uses_history(settings):
    pipe = _pipe(settings, "Réponse [1].")
    events = list(pipe.stream("Et combien d'appels ont-ils reçu ?",
                              history=["Que dit l'article sur le numéro vert des mandataires judiciaires ?"]))
    status = [e.text for e in events if e.kind == "status"]
    assert status and "mandataires" in status[0]
    answer = events[-1].answer
    assert "mandataires" in answer.standalone_question


def test_a_number_carried_over_from_the_conversation_is_not_a_number_asked_about(settings):
    """The follow-up rules append the previous turn's topic, a year included; only the numbers
    the user wrote must be in a passage."""
    pipe = _pipe(settings.model_copy(update={"refuse_below": 0.0}), "Olivier Duha propose un modèle [1].")
    own = pipe.ask("Et que propose-t-il ?", history=["Qui parlait aux assises de 1987 ?"])
    assert "1987" in own.standalone_question and own.refusal_reason != "the number asked about is in no passage"
    assert pipe.ask("Que propose Olivier Duha en 1987 ?").refusal_reason == "the number asked about is in no passage"


def test_streams_tokens_before_the_answer(settings):
    pipe = _pipe(settings, "Un deux trois [1].")
    kinds = [e.kind for e in pipe.stream("Que propose Olivier Duha ?")]
    assert kinds.count("token") >= 3 and kinds[-1] == "answer"


@pytest.mark.parametrize("q,err", [("", EmptyQuestionError), ("   \n", EmptyQuestionError), ("x" * 5000, QuestionTooLongError)])
def test_bad_questions(settings, q, err):
    with pytest.raises(err):
        _pipe(settings, "x").ask(q)


def _chat(settings, script, p_not, **update):
    s = settings.model_copy(update={"refuse_below": 0.0, "not_found_max": 0.6, "not_found_unsupported": 0.3,
                                    "support_min": 0.0, **update})
    return Pipeline(s, llm=FakeLLM(script, chat=True, p_not=p_not))


def test_the_models_first_token_judgement_refuses(settings):
    llm_says = "Olivier Duha propose le train [1]."
    out = _chat(settings, llm_says, p_not=0.8).ask("Que propose Olivier Duha ?")
    assert out.refused and out.not_found == 0.8 and "NOT FOUND" in out.refusal_reason
    ok = _chat(settings, llm_says, p_not=0.2).ask("Que propose Olivier Duha ?")
    assert not ok.refused and ok.not_found == 0.2


def test_an_explicit_not_found_is_a_refusal(settings):
    out = _chat(settings, "NOT FOUND", p_not=0.1).ask("Que propose Olivier Duha ?")
    assert out.refused and out.citations == []


def test_an_english_answer_to_french_passages_is_kept_when_its_facts_are_there(settings):
    out = _chat(settings, "Olivier Duha proposed a train-like model with first and second class [1].",
                p_not=0.1).ask("What did Olivier Duha, co-president of Webhelp, propose?")
    assert not out.refused and not out.extractive and out.answer.startswith("Olivier Duha proposed")
    assert out.language == "en" and out.citations[0].chunk.source == "002_4baedb1a5da3def7.txt"
    assert out.support and out.support[0]["kept"]


def test_an_answer_with_invented_facts_is_refused_when_the_model_doubted(settings):
    out = _chat(settings, "Olivier Duha proposed 450 new jobs with Amazon [1].", p_not=0.4).ask(
        "What did Olivier Duha propose?")
    assert out.refused and "no supported answer" in out.refusal_reason
    assert out.to_json()["refused"]


def test_an_answer_with_invented_facts_falls_back_to_the_quote_when_confident(settings):
    out = _chat(settings, "Olivier Duha proposed 450 new jobs with Amazon [1].", p_not=0.1).ask(
        "What did Olivier Duha propose?")
    assert out.extractive and out.answer.startswith("The articles say") and "450" not in out.answer
    assert out.dropped == ["Olivier Duha proposed 450 new jobs with Amazon [1]."]
    raw = (settings.seeds_dir / out.citations[0].chunk.source).read_text(encoding="utf-8")
    c = out.citations[0]
    assert raw[c.evidence_start:c.evidence_end] == c.evidence
    # the evidence is what the answer quotes: each of its sentences is a quote
    for sentence in " ".join(c.evidence.strip(" «»(…)\xa0").split()).split(". "):
        assert sentence.rstrip(".")[:40] in " ".join(out.answer.split())


def _translating(answer: str, translate):
    """A scripted chat model: ``answer`` to the question, ``translate(original)`` to a translation request."""
    import re

    def script(prompt):
        if "You translate French text into English" in prompt:
            return translate(re.search(r"« (.*) »", prompt, re.S).group(1))
        return answer
    return script


def test_a_quote_for_an_english_question_is_shown_translated_with_the_french_original_as_evidence(settings):
    pipe = _chat(settings, _translating("Olivier Duha proposed 450 new jobs with Amazon [1].",
                                        lambda fr: "so, " + fr.lower()), p_not=0.1, translation_min=0.0)
    out = pipe.ask("What did Olivier Duha propose?")
    assert out.extractive and out.translated and out.to_json()["translated"]
    assert out.answer.startswith("The articles say (machine-translated from French): “so, ")
    assert "«" not in out.answer and out.timings["translate_ms"] >= 0
    c = out.citations[0]
    raw = (settings.seeds_dir / c.chunk.source).read_text(encoding="utf-8")
    assert raw[c.evidence_start:c.evidence_end] == c.evidence  # the French sentence stays the evidence
    assert " ".join(c.evidence.strip(" «»(…)\xa0").split())[:30].lower() in out.answer


def test_a_translation_that_adds_a_figure_is_not_shown_and_the_original_quote_is(settings):
    pipe = _chat(settings, _translating("Olivier Duha proposed 450 new jobs with Amazon [1].",
                                        lambda fr: "He said 75 percent of " + fr.lower()), p_not=0.1,
                 translation_min=0.0)
    out = pipe.ask("What did Olivier Duha propose?")
    assert out.extractive and not out.translated and "«" in out.answer and "75" not in out.answer


def test_a_translation_that_fails_its_check_is_asked_again_of_the_second_model(settings):
    bad = _translating("Olivier Duha proposed 450 new jobs with Amazon [1].", lambda fr: "He said 75 percent of " + fr.lower())
    good = FakeLLM(_translating("", lambda fr: "so, " + fr.lower()), chat=True)
    s = settings.model_copy(update={"refuse_below": 0.0, "not_found_max": 0.6, "not_found_unsupported": 0.3,
                                    "support_min": 0.0, "translation_min": 0.0})
    pipe = Pipeline(s, llm=FakeLLM(bad, chat=True, p_not=0.1), fallback_llm=good)
    out = pipe.ask("What did Olivier Duha propose?")
    assert out.translated and "75" not in out.answer and "“so, " in out.answer
    assert good.prompts and out.timings["translate_fallback_ms"] >= 0
    # a second translation that fails too: the original is quoted, as without a second model
    worse = FakeLLM(_translating("", lambda fr: "Visit Pakistan, " + fr.lower()), chat=True)
    out = Pipeline(s, llm=FakeLLM(bad, chat=True, p_not=0.1), fallback_llm=worse).ask("What did Olivier Duha propose?")
    assert not out.translated and "«" in out.answer and "Pakistan" not in out.answer
    # a pipeline handed its model has no second one unless handed it (no model is loaded from disk)
    assert Pipeline(s, llm=FakeLLM(bad, chat=True, p_not=0.1)).fallback_llm is None


def test_the_translation_model_translates_the_quotes_and_the_answer_model_redoes_a_failed_one(settings):
    s = settings.model_copy(update={"refuse_below": 0.0, "not_found_max": 0.6, "not_found_unsupported": 0.3,
                                    "support_min": 0.0, "translation_min": 0.0})
    answer = _translating("Olivier Duha proposed 450 new jobs with Amazon [1].", lambda fr: "small, " + fr.lower())
    big = FakeLLM(_translating("", lambda fr: "big, " + fr.lower()), chat=True)
    small = FakeLLM(answer, chat=True, p_not=0.1)
    out = Pipeline(s, llm=small, translator_llm=big).ask("What did Olivier Duha propose?")
    assert out.translated and "“big, " in out.answer and "small, " not in out.answer
    assert not any("You translate" in p for p in small.prompts)  # the answer model was not asked
    # its translation fails a check: the second model (here the answer model, as the balanced
    # tier's "translation_fallback" names it) translates again
    worse = FakeLLM(_translating("", lambda fr: "Visit Pakistan, " + fr.lower()), chat=True)
    small = FakeLLM(answer, chat=True, p_not=0.1)
    out = Pipeline(s, llm=small, translator_llm=worse, fallback_llm=small).ask("What did Olivier Duha propose?")
    assert out.translated and "“small, " in out.answer and "Pakistan" not in out.answer
    # a pipeline handed its model has no other translating model unless handed one
    assert Pipeline(s, llm=small).translator_llm is small


def test_a_translation_model_that_writes_a_label_line_first_is_read_on_its_next_line(settings):
    s = settings.model_copy(update={"refuse_below": 0.0, "not_found_max": 0.6, "not_found_unsupported": 0.3,
                                    "support_min": 0.0, "translation_min": 0.0})

    def labelled(prompt):
        if prompt.endswith("Here is the English translation:\n"):
            return _translating("", lambda fr: "so, " + fr.lower())(prompt)
        return "Here is the English translation:" if "You translate" in prompt else ""
    big = FakeLLM(labelled, chat=True)
    small = FakeLLM("Olivier Duha proposed 450 new jobs with Amazon [1].", chat=True, p_not=0.1)
    out = Pipeline(s, llm=small, translator_llm=big).ask("What did Olivier Duha propose?")
    assert out.translated and "“so, " in out.answer and "Here is" not in out.answer


def test_each_translating_model_has_its_own_translation_floor(settings):
    pipe = Pipeline(settings, llm=FakeLLM(chat=True))
    assert settings.llm == "balanced"
    assert pipe._translation_floor("") == 0.7  # the answer model, the 0.5B: its translations drift
    assert pipe._translation_floor("quality") == 0.5  # the 1.5B: good translations score 0.55-0.7
    pinned = Pipeline(settings.model_copy(update={"translation_min": 0.6}), llm=FakeLLM(chat=True))
    assert pinned._translation_floor("quality") == pinned._translation_floor("") == 0.6
    # the balanced tier: the 1.5B translates, the 0.5B answer model redoes what fails
    assert settings.tuned("translation_model") == "quality" and settings.tuned("translation_fallback") == "balanced"


def test_a_translation_model_that_cannot_be_loaded_is_said_and_the_answer_model_translates(settings):
    s = settings.model_copy(update={"refuse_below": 0.0, "not_found_max": 0.6, "not_found_unsupported": 0.3,
                                    "support_min": 0.0, "translation_min": 0.0, "translation_fallback": "",
                                    "translation_model": str(settings.models_dir / "missing.gguf")})
    small = FakeLLM(_translating("Olivier Duha proposed 450 new jobs with Amazon [1].", lambda fr: "small, " + fr.lower()),
                    chat=True, p_not=0.1)
    pipe = Pipeline(s, llm=small)
    pipe._translator = None  # as a pipeline that loads its own models: the translating one is looked for
    events = list(pipe.stream("What did Olivier Duha propose?"))
    status = [e.text for e in events if e.kind == "status"]
    assert any("no translation model" in t and "missing.gguf" in t for t in status)
    out = events[-1].answer
    assert out.translated and "“small, " in out.answer
    # "none" (RAG_TRANSLATION_MODEL=none): the answer model translates, nothing else is looked for
    pipe = Pipeline(s.model_copy(update={"translation_model": "none"}), llm=small)
    pipe._translator = None
    assert pipe.translator_llm is small and not pipe._extra


def test_a_second_translation_model_that_cannot_be_loaded_is_said_once_asked_and_the_original_quoted(settings):
    s = settings.model_copy(update={"refuse_below": 0.0, "not_found_max": 0.6, "not_found_unsupported": 0.3,
                                    "support_min": 0.0, "translation_min": 0.0,
                                    "translation_fallback": str(settings.models_dir / "missing.gguf")})
    bad = _translating("Olivier Duha proposed 450 new jobs with Amazon [1].", lambda fr: "He said 75 percent of " + fr.lower())
    pipe = Pipeline(s, llm=FakeLLM(bad, chat=True, p_not=0.1), fallback_llm=None)
    pipe._fallback = None  # as a pipeline that loads its own models: the second one is looked for
    events = list(pipe.stream("What did Olivier Duha propose?"))
    status = [e.text for e in events if e.kind == "status"]
    assert any("no second translation model" in t and "missing.gguf" in t for t in status)
    out = events[-1].answer
    assert not out.translated and "«" in out.answer


def test_quotes_are_not_translated_for_a_question_in_their_language_or_when_switched_off(settings):
    calls = []
    script = _translating("Olivier Duha propose 450 emplois avec Amazon [1].", lambda fr: calls.append(fr) or fr)
    out = _chat(settings, script, p_not=0.1, translation_min=0.0).ask("Que propose Olivier Duha ?")
    assert out.extractive and not out.translated and calls == []
    off = _chat(settings, script, p_not=0.1, translate_quotes=False).ask("What did Olivier Duha propose?")
    assert off.extractive and not off.translated and calls == []


@pytest.mark.parametrize("q", ["{{7*7}}", "asdf qwer zxcv", "🤔"])
def test_nonsense_is_refused_without_calling_the_model(settings, q):
    llm = FakeLLM("should not be called", chat=True, p_not=0.0)
    out = Pipeline(settings.model_copy(update={"refuse_below": 0.0}), llm=llm).ask(q)
    assert out.refused and llm.prompts == []


def test_every_prompt_starts_with_the_same_prefix_that_is_warmed(settings):
    llm = FakeLLM("Réponse [1].", chat=True, p_not=0.0)
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.0}), llm=llm)
    pipe.ask("Que propose Olivier Duha ?")
    pipe.ask("Combien d'appels le numéro vert a-t-il reçus ?")
    assert all(p.startswith(llm.warmed) for p in llm.prompts) and len(llm.warmed) > 500


def test_solved_examples_follow_the_settings(settings):
    """A model that copies the examples' shape gets none (rag/models.py), and its prefix is still warmed."""
    for n, present in ((0, False), (3, True)):
        llm = FakeLLM("Réponse [1].", chat=True, p_not=0.0)
        Pipeline(settings.model_copy(update={"refuse_below": 0.0, "examples": n}), llm=llm).ask("Que propose Olivier Duha ?")
        assert ("Paul Martin propose" in llm.prompts[0]) == present and llm.prompts[0].startswith(llm.warmed)


def test_a_claim_citing_the_wrong_excerpt_is_recited(settings):
    def script(prompt):  # cites the last excerpt, which is not the one about the train
        last = prompt.rsplit("Question:", 1)[0].rstrip().rsplit("\n[", 1)[-1].split("]")[0]
        assert "prenez le train" not in prompt.rsplit("\n[", 1)[-1]
        return (f"Olivier Duha propose de laisser le choix aux entreprises, comme dans le train, avec des "
                f"services pas ouverts 7 jours sur 7 [{last}].")
    out = _chat(settings, script, p_not=0.0, context_chars=2500).ask(
        "Que propose Olivier Duha, coprésident de Webhelp, sur le train ?")
    assert not out.extractive and out.citations and out.support[0]["kept"]
    assert "train" in out.citations[0].evidence or "choix" in out.citations[0].evidence
    assert out.answer.endswith(f"[{out.citations[0].n}].")


def test_streamed_sentences_are_exactly_the_verified_answer(settings):
    """Callers that show only 'sentence' events (the API) show the final answer, never a dropped
    claim: kept, dropped, re-cited and quote-fallback cases alike."""
    scripts = [
        "Olivier Duha propose un modèle économique comme le train [1]. Il aime les licornes bleues [2].",
        "Le ciel est vert et les poules ont des dents.",
        "Olivier Duha propose un modèle économique comme le train",
    ]
    for script in scripts:
        pipe = Pipeline(settings, llm=FakeLLM(script))
        events = list(pipe.stream("Que propose Olivier Duha ?"))
        answer = events[-1].answer
        streamed = "".join(e.text for e in events if e.kind == "sentence")
        assert streamed == answer.answer, script
        assert "licornes" not in streamed and "poules" not in streamed
        assert answer.timings["first_sentence_ms"] <= answer.timings["total_ms"]


ZORGLUB = ("Le syndicat Zorglub défend les téléconseillers des centres d'appels. Son président, Jean Zorglub, "
           "veut de meilleures conditions de travail pour les téléconseillers et des pauses plus longues.\n")


def _zorglub(settings, script):
    (settings.seeds_dir / "zz_zorglub.txt").write_text(ZORGLUB, encoding="utf-8")
    return _pipe(settings, script)


def test_a_figure_asked_for_that_no_passage_gives_is_refused(settings):
    pipe = _zorglub(settings, "Le syndicat Zorglub compte de nombreux adhérents téléconseillers [1].")
    out = pipe.ask("Combien d'adhérents compte le syndicat Zorglub des téléconseillers ?")
    assert out.refused and "number of adhérents asked for" in out.refusal_reason
    # the same passages answer a question that asks for no figure
    pipe = _zorglub(settings, "Jean Zorglub veut de meilleures conditions de travail pour les téléconseillers [1].")
    out = pipe.ask("Que veut Jean Zorglub, président du syndicat Zorglub ?")
    assert not out.refused and not out.extractive and "conditions" in out.answer
    # a phone number is not any figure of the passages
    (settings.seeds_dir / "zz_zorglub.txt").write_text(ZORGLUB + "Le syndicat Zorglub compte 1 200 adhérents.\n",
                                                       encoding="utf-8")
    pipe = _lenient(settings, "Le syndicat compte 1 200 adhérents [1].")
    out = pipe.ask("Quel est le numéro de téléphone du syndicat Zorglub ?")
    assert out.refused and ("phone number asked for" in out.refusal_reason  # or a phone number of other articles,
                            or out.refusal_reason == "no quoted passage mentions zorglub")  # not about Zorglub


def _lenient(settings, script, **update):
    """Every sentence that names no foreign name or number passes the meaning check."""
    return Pipeline(settings.model_copy(update={"refuse_below": 0.0, "support_min": 0.0, "context_chars": 2500,
                                               "anchor_sentences": 0, **update}), llm=FakeLLM(script))


def test_an_answer_resting_on_a_side_sentence_gives_way_to_the_quote(settings):
    """With the anchor rule on, an answer supported only by a sentence that does not match the
    question is dropped and the sentence that does is quoted."""
    q = "Que dit l'article sur la fermeture du numéro vert des mandataires judiciaires ?"
    side = "Paris Turf est en difficulté [1]."
    assert not _lenient(settings, side).ask(q).extractive
    out = _lenient(settings, side, anchor_sentences=1).ask(q)
    assert out.extractive and out.dropped == [side] and "numéro vert" in out.answer
    assert "rests on a sentence that does not match the question" in out.support[0]["problems"]


def test_sentences_wait_for_the_one_that_gives_the_figure(settings):
    pipe = _lenient(settings, "Le numéro vert des mandataires judiciaires a reçu des appels de chefs d'entreprise [1]. "
                              "Il a reçu 3000 appels [1].")
    events = list(pipe.stream("Combien d'appels le numéro vert des mandataires judiciaires a-t-il reçus ?"))
    sentences = [e.text for e in events if e.kind == "sentence"]
    answer = events[-1].answer
    assert not answer.extractive and not answer.refused
    # nothing is shown before the figure; then both sentences at once, as one final piece
    assert sentences == [answer.answer] and "chefs" in answer.answer and "3000" in answer.answer


def test_supported_sentences_without_the_figure_are_replaced_by_the_quote_that_gives_it(settings):
    pipe = _lenient(settings, "Le numéro vert des mandataires judiciaires a reçu beaucoup d'appels [1].")
    out = pipe.ask("Combien d'appels le numéro vert des mandataires judiciaires a-t-il reçus ?")
    assert out.extractive and "3000" in out.answer
    assert out.dropped == ["Le numéro vert des mandataires judiciaires a reçu beaucoup d'appels [1]."]
    assert "does not give what the question asks for" in out.support[0]["problems"]
    assert not out.support[0]["kept"]


HISTORY = ["Que dit l'article sur le numéro vert des mandataires judiciaires ?"]


def _rewriting(settings, rewrite, **update):
    def script(prompt):
        return rewrite if "Last question:" in prompt else "Le numéro vert a reçu plus de 3000 appels [1]."
    llm = FakeLLM(script, chat=True, p_not=0.0)
    update = {"refuse_below": 0.0, "support_min": 0.0, "followup": "llm", **update}
    return Pipeline(settings.model_copy(update=update), llm=llm), llm


def test_an_instruction_model_rewrites_a_followup(settings):
    pipe, llm = _rewriting(settings, "Combien d'appels le numéro vert des mandataires judiciaires a-t-il reçus ?")
    events = list(pipe.stream("Et combien d'appels a-t-il reçus ?", history=HISTORY))
    assert [e.text for e in events if e.kind == "status"] == [
        "standalone question: Combien d'appels le numéro vert des mandataires judiciaires a-t-il reçus ?"]
    answer = events[-1].answer
    assert answer.standalone_question.startswith("Combien d'appels le numéro vert")
    assert "rewrite_ms" in answer.timings and len(llm.prompts) == 2
    assert "Earlier questions:\n- " + HISTORY[0] in llm.prompts[0]


def test_a_rejected_rewrite_falls_back_to_the_rules(settings):
    pipe, _ = _rewriting(settings, "Le numéro vert a reçu 3000 appels.")  # an answer, not a question
    answer = pipe.ask("Et combien d'appels ont-ils reçu ?", history=HISTORY)
    assert answer.standalone_question.startswith("Combien d'appels ont-ils reçu ?")
    assert "mandataires" in answer.standalone_question


def test_standalone_questions_and_the_rules_setting_cost_no_model_call(settings):
    pipe, llm = _rewriting(settings, "should not be used")
    pipe.ask("Combien d'appels le numéro vert des mandataires judiciaires a-t-il reçus ?", history=HISTORY)
    assert len(llm.prompts) == 1 and "Last question:" not in llm.prompts[0]
    pipe, llm = _rewriting(settings, "should not be used", followup="rules")
    answer = pipe.ask("Et combien d'appels ont-ils reçu ?", history=HISTORY)
    assert len(llm.prompts) == 1 and "mandataires" in answer.standalone_question


def test_how_many_is_answered_only_by_a_number_of_what_it_counts(settings):
    """The model's answer is unsupported; the quote must give a number of "délégués", not any figure.
    (BM25 only: no encoder, so units match by the word itself; the fake encoder's hashed words collide.)"""
    text = ("Le syndicat Zorglub a été fondé en 1998 par Jean Zorglub. Il défend les téléconseillers des centres "
            "d'appels et réclame des pauses plus longues.\n")
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text, encoding="utf-8")
    pipe = _lenient(settings, "Le syndicat Zorglub compte 5000 délégués [1].", support_min=0.99, retrievers="bm25")
    out = pipe.ask("Combien de délégués compte le syndicat Zorglub ?")
    assert out.refused and "number of délégués" in out.refusal_reason  # 1998 is no number of delegates
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text + "Le syndicat Zorglub compte 700 délégués.\n",
                                                       encoding="utf-8")
    out = _lenient(settings, "Le syndicat Zorglub compte 5000 délégués [1].", support_min=0.99, retrievers="bm25").ask(
        "Combien de délégués compte le syndicat Zorglub ?")
    assert not out.refused and out.extractive and "700 délégués" in out.answer and "1998" not in out.answer


def test_how_many_is_not_answered_by_another_figure_of_the_passage(settings):
    """The model gives a figure of the passage that is not the count asked for (1998, a year):
    the answer waits for the number of delegates, which never comes, so the quote that gives it
    is shown instead."""
    text = ("Le syndicat Zorglub a été fondé en 1998 par Jean Zorglub. Le syndicat Zorglub compte 700 délégués "
            "et défend les téléconseillers.\n")
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text, encoding="utf-8")
    q = "Combien de délégués compte le syndicat Zorglub ?"
    out = _lenient(settings, "Le syndicat Zorglub compte 1998 délégués [1].", retrievers="bm25").ask(q)
    assert out.extractive and "700 délégués" in out.answer and out.dropped == ["Le syndicat Zorglub compte 1998 délégués [1]."]
    out = _lenient(settings, "Le syndicat Zorglub compte 700 délégués [1].", retrievers="bm25").ask(q)
    assert not out.extractive and out.answer == "Le syndicat Zorglub compte 700 délégués [1]."


def test_a_share_is_quoted_from_the_sentence_that_gives_a_percentage(settings):
    """The model's answer is unsupported; of the passage's sentences, the one that matches the
    question best gives no percentage: the quote is the one that does, not that one."""
    text = ("Le syndicat Zorglub défend la part des appels traités par les téléconseillers du syndicat Zorglub. "
            "Parmi eux, 40 % portaient sur la paie.\n")
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text, encoding="utf-8")
    q = "Quelle part des appels traités par les téléconseillers du syndicat Zorglub portait sur la paie ?"
    out = _lenient(settings, "Le syndicat Zorglub défend les appels [1].", support_min=0.99, retrievers="bm25").ask(q)
    assert not out.refused and out.extractive and "40 %" in out.answer.split("»")[0]


def _quoting_pipeline(settings, text: str, **update) -> Pipeline:
    """A quoting pipeline (no model call, BM25 only, no relevance floor; ``update``: other settings)
    over the articles and one more, zz_zorglub.txt, holding ``text``."""
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text, encoding="utf-8")
    return Pipeline(settings.model_copy(update={"refuse_below": 0.0, "answer_style": "quote", "retrievers": "bm25",
                                                **update}),
                    llm=FakeLLM("should not be called", chat=True, p_not=0.0))


def test_how_long_is_quoted_from_the_sentence_that_gives_a_length_of_time(settings):
    """Another sentence matches "how long" better and holds figures (a share, a count): the quote
    is the one that gives a length of time; without one, the question is refused."""
    text = ("Le numéro vert du syndicat Zorglub a reçu 3000 appels des téléconseillers, dont 99 % ont abouti en moyenne. "
            "Les conversations ont duré 15 minutes.\n")
    pipe = _quoting_pipeline(settings, text)
    out = pipe.ask("Combien de temps duraient en moyenne les appels au numéro vert du syndicat Zorglub ?")
    assert not out.refused and "15 minutes" in out.answer.split("»")[0]
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text.replace("Les conversations ont duré 15 minutes.", ""),
                                                       encoding="utf-8")
    pipe.reload_index()
    out = pipe.ask("Combien de temps duraient en moyenne les appels au numéro vert du syndicat Zorglub ?")
    assert out.refused and ("duration asked for" in out.refusal_reason  # or the length of time of another article
                            or out.refusal_reason == "no quoted passage mentions zorglub")


def test_a_share_is_quoted_from_a_sentence_beyond_those_the_budget_shows(settings):
    """The sentences that match a "what share" question best fill the budget and give no
    percentage; the one that does, further down, still reaches the quote (a percentage is as
    rare as a length of time), instead of a refusal for "no passage gives the percent"."""
    text = ("Le numéro vert du syndicat Zorglub a reçu les appels des téléconseillers sur la trésorerie. "
            "Le numéro vert du syndicat Zorglub répondait aux appels sur la trésorerie et le financement. "
            "Les dirigeants ont appelé de partout. Ils étaient nombreux, 50 % d'entre eux sur le financement.\n")
    pipe = _quoting_pipeline(settings, text, context_chars=120)
    out = pipe.ask("Quelle part des appels au numéro vert du syndicat Zorglub portait sur la trésorerie et le financement ?")
    assert not out.refused and "50 %" in out.answer


def test_a_share_of_something_else_does_not_answer(settings):
    """"Quel est le taux d'absentéisme…?" is not answered by the passage's one percentage, a share of
    contracts: refused; once a sentence gives a share of absenteeism, it is quoted."""
    text = "Au syndicat Zorglub, l'absentéisme inquiète. Plus de 80 % des contrats du syndicat Zorglub sont des CDI.\n"
    pipe = _quoting_pipeline(settings, text)
    out = pipe.ask("Quel est le taux d'absentéisme au syndicat Zorglub ?")
    assert out.refused and out.refusal_reason == "no passage gives the share of absentéisme asked for"
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text + "Le syndicat Zorglub compte 12 % d'absentéisme.\n",
                                                       encoding="utf-8")
    pipe.reload_index()
    out = pipe.ask("Quel est le taux d'absentéisme au syndicat Zorglub ?")
    assert not out.refused and "12 %" in out.answer.split("»")[0]


def test_a_name_asked_for_is_quoted_only_from_the_sentence_that_answers(settings):
    """A question asking for a name is answered when the quote the ranker picks names something
    the question does not; another sentence that happens to hold a name ("France") is not
    searched for instead: the question is refused."""
    text = ("Le syndicat Zorglub a ouvert un salon de coiffure pour les téléconseillers. Les appels sont venus de toute la "
            "France.\n")
    pipe = _quoting_pipeline(settings, text)
    q = "Comment s'appelle le salon de coiffure du syndicat Zorglub ?"
    out = pipe.ask(q)
    assert out.refused and "name asked for" in out.refusal_reason
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text.replace("un salon de coiffure", "le salon de coiffure Bellevue"),
                                                       encoding="utf-8")
    pipe.reload_index()
    out = pipe.ask(q)
    assert not out.refused and "Bellevue" in out.answer


def test_quoted_answers_are_the_sentences_that_answer_without_an_answer_prompt(settings):
    """answer_style 'quote' (the default tier's): no prompt for an answer, the quotes are
    numbered as their passages and each citation's evidence is the quoted sentence."""
    llm = FakeLLM("should not be called", chat=True, p_not=0.0)
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.0, "answer_style": "quote"}), llm=llm)
    events = list(pipe.stream("Combien Nespresso réclame-t-elle à Denis Pages en dommages et intérêts ?"))
    out = events[-1].answer
    assert llm.prompts == [] and not [e for e in events if e.kind == "token"]
    assert not out.refused and out.extractive and out.answer.startswith("D'après les articles : «")
    assert "100 000 euros" in out.answer and out.generated == ""
    assert [e.text for e in events if e.kind == "sentence"] == [out.answer]
    for c in out.citations:
        raw = (settings.seeds_dir / c.chunk.source).read_text(encoding="utf-8")
        assert f"[{c.n}]" in out.answer and raw[c.evidence_start:c.evidence_end] == c.evidence
    assert any(" ".join(c.evidence.split())[:40] in " ".join(out.answer.split()) for c in out.citations)
    assert {"first_token_ms", "first_sentence_ms", "total_ms"} <= set(out.timings)


def test_quoted_answers_are_translated_for_a_question_in_another_language(settings):
    llm = FakeLLM(lambda prompt: "so, a translated sentence about the train", chat=True, p_not=0.0)
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.0, "answer_style": "quote",
                                                "translation_min": 0.0}), llm=llm)
    events = list(pipe.stream("What did Olivier Duha propose about the train?"))
    out = events[-1].answer
    assert out.extractive and out.translated and out.answer.startswith("The articles say (machine-translated")
    assert llm.prompts and all("translat" in p.lower() for p in llm.prompts)
    # the translation streams as a draft: the lead comes with its first words, not before them
    tokens = [e.text for e in events if e.kind == "token"]
    assert tokens[0].startswith("The articles say (machine-translated from French): “so,")
    assert "".join(tokens).startswith(out.answer.split("”")[0])
    assert out.timings["first_token_ms"] <= out.timings["first_sentence_ms"]


def test_a_quoted_answer_without_the_figure_asked_for_is_a_refusal(settings):
    (settings.seeds_dir / "zz_zorglub.txt").write_text(ZORGLUB, encoding="utf-8")
    llm = FakeLLM("should not be called", chat=True, p_not=0.0)
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.0, "answer_style": "quote"}), llm=llm)
    out = pipe.ask("Combien d'adhérents compte le syndicat Zorglub des téléconseillers ?")
    assert out.refused and "number of adhérents asked for" in out.refusal_reason and llm.prompts == []
    out = pipe.ask("Que veut Jean Zorglub, président du syndicat Zorglub ?")  # asks for no figure
    assert not out.refused and out.extractive and "conditions" in out.answer


def test_warm_up_with_quoted_answers_loads_the_model_for_translations_but_evaluates_no_answer_prompt(
        settings, monkeypatch):
    import rag.llm

    llm = FakeLLM("x", chat=True, p_not=0.0)
    monkeypatch.setattr(rag.llm, "get_generator", lambda s: llm)
    quoting = settings.model_copy(update={"answer_style": "quote"})
    pipe = Pipeline(quoting)
    pipe.warm_up()
    assert pipe.llm_loaded and not hasattr(llm, "warmed")
    pipe = Pipeline(quoting.model_copy(update={"translate_quotes": False}))
    pipe.warm_up()
    assert not pipe.llm_loaded  # nothing to translate: no model at all
    prose = FakeLLM("x", chat=True, p_not=0.0)
    Pipeline(settings, llm=prose).warm_up()
    assert len(prose.warmed) > 100


def test_a_quote_from_a_passage_about_something_else_than_a_name_asked_is_a_refusal(settings):
    (settings.seeds_dir / "zz_zorglub.txt").write_text(ZORGLUB, encoding="utf-8")
    (settings.seeds_dir / "zz_plimpf.txt").write_text(
        "Le groupe Plimpf a ouvert un centre d'appels à Tombouctou, avec des téléconseillers.\n", encoding="utf-8")
    llm = FakeLLM("should not be called", chat=True, p_not=0.0)
    pipe = Pipeline(settings.model_copy(update={"refuse_below": 0.0, "answer_style": "quote"}), llm=llm)
    out = pipe.ask("Que veut Jean Zorglub pour les téléconseillers de Tombouctou ?")
    assert {"zz_zorglub.txt", "zz_plimpf.txt"} <= {h.chunk.source for h in out.retrieved}
    assert out.refused and out.refusal_reason == "no quoted passage mentions tombouctou"
    out = pipe.ask("Que veut Jean Zorglub pour les téléconseillers ?")
    assert not out.refused and "conditions" in out.answer
    # a follow-up's rewrite carries the previous question's names: only the user's own are required
    out = pipe.ask("Et pour les pauses ?", history=["Que veut Jean Zorglub pour les téléconseillers de Tombouctou ?"])
    assert out.standalone_question and "Tombouctou" in out.standalone_question
    assert not out.refused and "pauses" in out.answer


def test_who_holds_a_role_is_quoted_from_the_sentence_that_names_the_role(settings):
    """"Qui dirige X ?" matches another sentence about X better: the quote is the one that names
    the role; without one, the question is refused."""
    text = ("Le syndicat Zorglub défend les téléconseillers des centres d'appels et le syndicat Zorglub recrute. "
            "Jean Zorglub est le patron du syndicat.\n")
    pipe = _quoting_pipeline(settings, text)
    q = "Qui dirige le syndicat Zorglub des téléconseillers des centres d'appels ?"
    out = pipe.ask(q)
    assert not out.refused and "patron" in out.answer.split("»")[0]
    (settings.seeds_dir / "zz_zorglub.txt").write_text(text.replace("Jean Zorglub est le patron du syndicat.", ""),
                                                       encoding="utf-8")
    pipe.reload_index()
    out = pipe.ask(q)
    assert out.refused and ("head asked for" in out.refusal_reason  # or a head in another article
                            or out.refusal_reason == "no quoted passage mentions zorglub")


def _picking(settings, shares):
    """A pipeline whose second model picks by ``shares`` (P("0"), P("1"), …), for any cross-language margin."""
    s = settings.model_copy(update={"refuse_below": 0.0, "translate_quotes": False, "answer_style": "quote",
                                    "pick_margin": 10.0, "pick_refuse": 0.65})
    second = FakeLLM("", chat=True, shares=shares)
    return Pipeline(s, llm=FakeLLM("", chat=True), fallback_llm=second), second


def test_the_second_model_picks_the_sentence_quoted_first_for_a_question_in_another_language(settings):
    question = "What did Olivier Duha propose?"
    pipe, second = _picking(settings, [0.0, 0.0, 0.1, 0.8, 0.1])
    hits = retrieve(pipe.retrievers(pipe.index), pipe.index.chunks, question, k=settings.k, rrf_k=settings.rrf_k).hits
    cands, _ = cit.pick_candidates(pipe._sentences(pipe.retrievers(pipe.index), hits, question), question=question)
    out = pipe.ask(question)
    assert len(second.prompts) == 1 and "[3] " + cit.quote_text(cands[2]) in second.prompts[0]
    assert out.answer.split("« ", 1)[1].startswith(cit.quote_text(cands[2]))  # the pick is quoted first
    assert out.timings["pick_ms"] >= 0
    # a French question on French passages: the ranker decides, the second model is not asked
    pipe, second = _picking(settings, [0.0, 0.0, 0.1, 0.8, 0.1])
    pipe.ask("Qu'a proposé Olivier Duha ?")
    assert not second.prompts


class ScoringLLM(FakeLLM):
    """A fake answer model that reads how likely a question is after a passage: ``likely`` maps a
    sentence (found in the prefix) to the question's log-probability; the others get -5."""

    def __init__(self, likely, **kw):
        super().__init__("", chat=True, **kw)
        self.likely, self.scored = likely, []

    def likelihood(self, prefix, target):
        self.scored.append((prefix, target))
        return next((v for k, v in self.likely.items() if k in prefix), -5.0)


def test_the_answer_model_reranks_the_rankers_best_sentences_for_a_question_in_another_language(settings):
    question = "What did Olivier Duha propose?"
    s = settings.model_copy(update={"refuse_below": 0.0, "translate_quotes": False, "answer_style": "quote",
                                    "rerank_margin": 10.0, "rerank_weight": 1.0, "rerank_k": 3})
    probe = Pipeline(s, llm=FakeLLM("", chat=True))
    hits = retrieve(probe.retrievers(probe.index), probe.index.chunks, question, k=settings.k, rrf_k=settings.rrf_k).hits
    cands, _ = cit.pick_candidates(probe._sentences(probe.retrievers(probe.index), hits, question), question=question)
    third = cit.quote_text(cands[2])
    llm = ScoringLLM({third: 0.0})  # far likelier than the others' -5
    out = Pipeline(s, llm=llm).ask(question)
    assert len(llm.scored) == 3 and all(t == " " + question for _, t in llm.scored)
    assert llm.scored[2][0].startswith("Passage (") and third in llm.scored[2][0]  # with its context header
    assert out.answer.split("« ", 1)[1].startswith(third)  # quoted first, the ranker's best after it
    assert out.timings["rerank_ms"] >= 0
    # equally likely: the ranker's order stands
    out = Pipeline(s, llm=ScoringLLM({})).ask(question)
    assert out.answer.split("« ", 1)[1].startswith(cit.quote_text(cands[0]))
    # a French question on French passages, or the rerank off: the model reads nothing
    llm = ScoringLLM({third: 0.0})
    Pipeline(s, llm=llm).ask("Qu'a proposé Olivier Duha ?")
    Pipeline(s.model_copy(update={"rerank_margin": 0.0}), llm=llm).ask(question)
    assert not llm.scored
    # a generator that cannot score (a server): the ranker decides
    assert not Pipeline(s, llm=FakeLLM("", chat=True)).ask(question).refused


def test_the_rerank_reads_as_many_sentences_as_rerank_k_says(settings):
    question = "What did Olivier Duha propose?"
    s = settings.model_copy(update={"refuse_below": 0.0, "translate_quotes": False, "answer_style": "quote",
                                    "rerank_margin": 10.0, "rerank_k": 6})
    llm = ScoringLLM({})
    Pipeline(s, llm=llm).ask(question)
    assert len(llm.scored) == 6  # more than the second model's four choices


def test_a_question_the_second_model_finds_no_sentence_for_is_refused(settings):
    pipe, _ = _picking(settings, [0.9, 0.05, 0.05, 0.0, 0.0])
    out = pipe.ask("What did Olivier Duha propose?")
    assert out.refused and "P(none)=0.90" in out.refusal_reason
    # below the threshold: answered
    pipe, _ = _picking(settings, [0.5, 0.3, 0.1, 0.1, 0.0])
    assert not pipe.ask("What did Olivier Duha propose?").refused
