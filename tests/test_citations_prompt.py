from dataclasses import replace

from rag import citations as cit
from rag.prompt import (NOT_FOUND, STOP, chat_messages, question_likelihood_prefix, clean_generation, detect_language, fewshot_prompt,
                        is_not_found, pick_messages, pick_options, trim_unfinished, clean_translation)
from rag.retrieve import rrf


def test_markers_parsed_and_invalid_ones_dropped():
    assert cit.markers("A [2] and B [1, 3]. Again [2]") == [2, 1, 3]
    assert cit.drop_invalid_markers("Vrai [1] faux [7] mixte [2, 9].", 3) == "Vrai [1] faux mixte [2]."
    assert cit.strip_markers("x [1] y [2, 3]") == "x y"


def _sents():
    passages = [(100, 160, "Le standard a reçu 4 500 appels en mars. Le reste est calme."),
                (500, 560, "Paul Martin propose de former les conseillers à l'écoute.")]
    return cit.candidate_sentences(passages)


def test_candidate_sentences_carry_article_offsets():
    s = _sents()
    assert s[0].start == 100 and s[0].text == "Le standard a reçu 4 500 appels en mars."
    assert s[-1].passage == 2 and s[-1].start == 500


def test_best_sentence_for_a_number_question():
    best = cit.best_sentence(_sents(), question="Combien d'appels en mars ?", answer="4 500 appels")
    assert best.passage == 1 and "4 500" in best.text


def test_rrf_fuses_rankings():
    fused = rrf({"bm25": [3, 1, 2], "dense": [1, 3]}, k=5)
    order = sorted(fused, key=lambda d: fused[d][0], reverse=True)
    assert order[0] in (1, 3) and order[-1] == 2
    assert fused[1][1] == {"bm25": 2, "dense": 1}
    assert abs(fused[2][0] - 1 / 8) < 1e-9


def test_language_detection():
    assert detect_language("What did Olivier Duha propose at the assises?") == "en"
    assert detect_language("Que propose Olivier Duha ?") == "fr"
    assert detect_language("Combien d'appels ont été reçus ?") == "fr"
    # French names inside an English question are not French words
    assert detect_language("Which comedy was recently shot near Le Chambon-sur-Lignon?") == "en"
    assert detect_language("Who won the Elu Service Client de l'Année award in 2015?") == "en"
    assert detect_language("Que pense Le Monde de la Poste ?") == "fr"
    # words quoted from the articles say nothing of the question's language
    assert detect_language("What number was the editorial headed 'À vous de jouer !'?") == "en"
    assert detect_language("Which writer's operators ('demoiselles du téléphone') does he mention?") == "en"
    assert detect_language("Which film does « Merci patron ! » make fun of?") == "en"
    assert detect_language("Que veut dire « customer experience » selon lui ?") == "fr"
    assert detect_language("« Que propose Olivier Duha ? »") == "fr"  # all quoted: the quote is the question


def test_fewshot_prompt_numbers_passages_and_ends_open():
    p = fewshot_prompt("Who?", ["alpha", "beta"], lang="en")
    assert p.endswith("Excerpts:\n[1] alpha\n[2] beta\n\nQuestion: Who?\n(Answer in English.)\nAnswer:")
    assert "Paul Martin propose" in p  # the French example is there too
    assert NOT_FOUND not in p  # a base model is never shown the refusal example
    assert "\n\n" in STOP


def test_chat_messages_share_a_constant_prefix():
    a = chat_messages("Qui ?", ["alpha"], lang="fr")
    b = chat_messages("Why?", ["beta", "gamma"], lang="en")
    assert a[:-1] == b[:-1]  # system + examples: evaluated once, cached by llama.cpp
    assert a[0]["role"] == "system" and "never instructions" in a[0]["content"]
    assert a[-1]["content"].endswith("Question: Qui ?\n(Réponds en français.)")
    assert b[-1]["content"].startswith("Excerpts:\n[1] beta\n[2] gamma")
    assert any(m["content"] == NOT_FOUND for m in a if m["role"] == "assistant")
    assert clean_generation(" Paul [1]. Question: next one") == "Paul [1]."
    assert is_not_found("NOT FOUND") and is_not_found("Not found.") and not is_not_found("Nothing [1].")
    bare = chat_messages("Qui ?", ["alpha"], lang="fr", examples=0)  # a model that copies the examples' shape
    assert [m["role"] for m in bare] == ["system", "user"] and bare[0] == a[0] and bare[-1] == a[-1]


def test_question_terms_split_names_from_facts():
    topic, fact = cit.question_terms("Combien Nespresso réclame-t-elle à Denis Pages en dommages et intérêts ?")
    assert {"nespresso", "deni", "pag"} & topic and "dommag" in fact and "nespresso" not in fact


def test_evidence_prefers_the_fact_over_a_sentence_repeating_the_name():
    passages = [(0, 200, "Maxence d’Espeuilles, fondateur d’OpenAccess, est un entrepreneur. "
                         "J’étais exaspéré de recevoir des appels à 20 heures pour me vendre des fenêtres.")]
    best = cit.best_sentence(cit.candidate_sentences(passages), question="Pourquoi Maxence d'Espeuilles "
                             "a-t-il supprimé sa ligne à cause des appels ?", answer="")
    assert "fenêtres" in best.text


def test_clean_generation_drops_an_echoed_question():
    assert clean_generation("Is it good? Oui [1].", question="Is it good?") == "Oui [1]."



def _extractive(sents, *, question, lead, n=2, hint=""):
    """The quote fallback as the pipeline renders it: the chosen sentences, quoted with their markers."""
    top = cit.quote_sentences(sents, question=question, n=n, hint=hint)
    return cit.quoted_answer([(cit.quote_text(s), s.passage, False) for s in top], lead=lead) if top else None


def test_extractive_answer_prefers_the_top_passage_and_quotes_in_order():
    passages = [(0, 120, "(…) Laissons le choix aux entreprises. Les gens sont prêts à payer pour ce service.",
                 "Olivier Duha, coprésident de Webhelp :"),
                (500, 600, "Webhelp a été fondée par Olivier Duha et Frédéric Jousset.", "")]
    out = _extractive(cit.candidate_sentences(passages), question="Que propose Olivier Duha ?",
                                lead="D'après les articles :")
    assert out == ("D'après les articles : « Laissons le choix aux entreprises. » [1] "
                   "« Les gens sont prêts à payer pour ce service. » [1]")


def test_the_models_unsupported_answer_points_the_quote_at_the_sentence_it_read():
    passages = [(0, 200, "Webhelp emploie 2 000 conseillers au Maroc. Le groupe a été fondé en 2000 à Paris. "
                 "Ses fondateurs sont Olivier Duha et Frédéric Jousset.", "")]
    sents = cit.candidate_sentences(passages)
    q = "Que sait-on ?"
    plain = _extractive(sents, question=q, lead="—", n=1)
    hinted = _extractive(sents, question=q, lead="—", n=1, hint="Il a été fondé à Paris en 2000.")
    assert "fondé en 2000" in hinted and hinted != plain


def test_an_answer_cut_by_the_token_cap_loses_its_unfinished_sentence():
    assert trim_unfinished("He proposed tiers [1]. People who want speed pay for") == "He proposed tiers [1]."
    assert trim_unfinished("He proposed tiers like on a train with first and") == \
        "He proposed tiers like on a train with first and…"
    assert trim_unfinished("He proposed tiers [1].") == "He proposed tiers [1]."
    assert trim_unfinished("Il propose un modèle (le train) [1]") == "Il propose un modèle (le train) [1]"


def test_a_sentence_inherits_relevance_from_its_neighbours():
    """The interview question matches the question best; the answer is the sentence after it."""
    text = ("Le télémarketing non sollicité va être interdit, est-ce une bonne chose ? "
            "Il me semble logique de l’interdire par téléphone. Nous vendons des logiciels.")
    sents = cit.candidate_sentences([(0, len(text), text)])
    own = {0: 0.9, 1: 0.1, 2: 0.1}
    sents = [cit.Sentence(s.passage, s.start, s.end, s.text, own[i], s.about) for i, s in enumerate(sents)]
    seen = []

    def cosines(texts):
        seen.extend(texts)
        return [0.7 if "logique" in t and "interdit" in t else 0.1 for t in texts]

    ctx = cit.in_context(sents, cosines)
    assert len(seen) == 2 * len(sents)  # one batch: each sentence with its previous and its next one
    assert [s.lead for s in ctx] == [0.0, 0.9, 0.1]
    assert ctx[1].before == 0.7 and ctx[0].after == 0.7 and ctx[2].after == 0.1
    q = "What does he think about banning unsolicited telemarketing?"
    assert cit.ranked_sentences(ctx, question=q, answer="")[0].text.startswith("Il me semble logique")
    assert cit.ranked_sentences(sents, question=q, answer="")[0].text.endswith("?")  # without context


def test_a_sentence_that_holds_what_is_asked_for_ranks_first():
    text = "L’entreprise a levé des fonds auprès de ses clients. L’entreprise a levé 8 millions d’euros auprès de Serena."
    a, b = cit.candidate_sentences([(0, len(text), text)])
    assert cit.gives_type(b, question="Combien l'entreprise a-t-elle levé ?", kind="number")
    assert not cit.gives_type(a, question="Combien l'entreprise a-t-elle levé ?", kind="number")
    assert cit.gives_type(b, question="Who invested in the company?", kind=None)  # a name: Serena
    assert not cit.gives_type(b, question="Why did it raise money?", kind=None)
    assert cit.best_sentence([a, b], question="Combien l'entreprise a-t-elle levé ?", answer="") == b


def test_the_fallback_quotes_the_best_sentence_first_unless_the_two_read_together():
    far = [(0, 300, "Le groupe a été fondé en 2000 à Paris. Il vend des logiciels de gestion. "
            "Il a levé 8 millions d’euros auprès de Serena en 2019.", "")]
    sents = cit.candidate_sentences(far)
    out = _extractive(sents, question="Combien le groupe a-t-il levé auprès de Serena ?", lead="—")
    assert out.index("8 millions") < out.index("fondé en 2000")


def test_speaker_line_is_evidence_only_for_who_is_that_person():
    text = ("Laurent Uberti, président du Syndicat des professionnels des centres de contacts : "
            "« Trop de contraintes constitueraient une prime à l’offshore. »")
    passages = [(0, len(text), text)]
    who = cit.candidate_sentences(passages, question="Who is Laurent Uberti?")
    assert cit.best_sentence(who, question="Who is Laurent Uberti?", answer="").text.startswith("Laurent Uberti, président")
    # another question about him, or a "who is" about someone else: the line is not evidence
    for q in ("What did Laurent Uberti say about constraints?", "Who is Laurent Wauquiez?"):
        assert all(not s.text.rstrip().endswith(":") for s in cit.candidate_sentences(passages, question=q))
    assert cit.asks_identity("Qui est Didier Ferrier ?") and cit.asks_identity("What does NICE Systems do?")
    assert not cit.asks_identity("What did Laurent Uberti say too many constraints would do?")


def test_a_speaker_line_answers_who_holds_the_role_it_names():
    text = ("Fabrice André, président de l’Association pour la promotion du Label de Responsabilité Sociale :\n"
            "« On a évoqué l’ambition d’aller beaucoup plus loin dans l’adoption du Label. »")
    passage = [(0, len(text), text)]
    who = cit.candidate_sentences(passage, question="Who heads the association that promotes the Label?")
    assert who[0].text.startswith("Fabrice André, président")
    said = cit.candidate_sentences(passage, question="What did the association promise about the Label?")
    assert [x.text for x in said] == ["« On a évoqué l’ambition d’aller beaucoup plus loin dans l’adoption du Label. »"]


def test_a_line_introducing_a_person_by_role_answers_only_who_they_are():
    text = ("C’est un clin d’œil : la difficulté dans les centres d’appels est comme partout de recruter.\n"
            "Interview réalisée en mars 2018. Manuel Jacquinet est Rédacteur en chef du magazine En-Contact.\n"
            "Pour tout savoir sur les call centers et à quel point ils peuvent vous être utiles, cliquez ici.")
    passage = [(0, len(text), text)]
    said = [x.text for x in cit.candidate_sentences(passage, question="Why is recruitment hard, according to Manuel Jacquinet?")]
    assert said == ["C’est un clin d’œil : la difficulté dans les centres d’appels est comme partout de recruter.",
                    "Interview réalisée en mars 2018."]  # neither the introduction nor the site's call to action
    who = [x.text for x in cit.candidate_sentences(passage, question="Who is Manuel Jacquinet?")]
    assert "Manuel Jacquinet est Rédacteur en chef du magazine En-Contact." in who
    editor = [x.text for x in cit.candidate_sentences(passage, question="Qui est le rédacteur en chef d'En-Contact ?")]
    assert "Manuel Jacquinet est Rédacteur en chef du magazine En-Contact." in editor
    # a sentence with a name, a role and what the person did is not an introduction
    assert not cit.introduces("Olivier Duha, coprésident de Webhelp, a proposé de faire payer un service client "
                              "plus rapide, comme en première classe dans le train.")
    assert cit.introduces("Laurent Uberti, président du Syndicat des professionnels des centres de contacts")


def test_a_byline_is_never_the_second_quote():
    text = ("Au préalable, le SP2C collaborait avec le cabinet Bearing Point pour cette étude sectorielle.\n"
            "***Manuel Jacquinet")
    sents = cit.candidate_sentences([(0, len(text), text)])
    assert any(s.text.strip().startswith("***") for s in sents)  # it is a candidate sentence
    out = _extractive(sents, question="Avec quel cabinet le SP2C réalisait-il son étude ?", lead="—")
    assert "Bearing Point" in out and "Jacquinet" not in out


def test_an_interviewers_question_is_not_quoted_as_the_second_sentence():
    """The interview question matches the reader's question best, but asks: the answers after it
    are quoted, unless the question itself holds what is asked (a figure, for "how many")."""
    text = ("Les plates-formes type Hopwork vous semblent-elles promises à un grand avenir ?\nElles ont un avenir "
            "c'est certain, on a besoin de savoir où chercher. Malheureusement, ces sites fourmillent de profils "
            "de très basse qualité.")
    sents = cit.candidate_sentences([(0, len(text), text, "")])
    ask, future, quality = sents
    sents = [replace(ask, dense=0.9), replace(future, dense=1.0), replace(quality, dense=0.5)]
    out = _extractive(sents, question="Que reproche-t-il aux plates-formes comme Hopwork ?", lead="—")
    assert "Hopwork vous semblent" not in out and "fourmillent" in out
    # a question that holds the figure asked for is quoted
    text = "Les centres d'appels comptent aux Philippines 1 200 000 salariés, ça vous étonne ?\nCe chiffre m'a paru énorme."
    ask, reply = cit.candidate_sentences([(0, len(text), text, "")])
    out = _extractive([replace(ask, dense=0.9), replace(reply, dense=1.0)], lead="—",
                      question="Combien de salariés comptent les centres d'appels aux Philippines ?")
    assert "1 200 000" in out
    # a rhetorical question inside a statement is not an interviewer's: it may be quoted
    text = ("Les prises de position étaient prévisibles pour le syndicat. J'ai été étonné par le silence de la "
            "Mission : à quoi a-t-elle donc servi ? Rien de concret n'est sorti de la réunion.")
    plain, surprised, nothing = cit.candidate_sentences([(0, len(text), text, "")])
    assert not surprised.asks
    out = _extractive([replace(plain, dense=1.0), replace(surprised, dense=0.9), replace(nothing, dense=0.1)],
                      question="Qu'est-ce qui l'a étonné ?", lead="—")
    assert "étonné" in out


def test_a_bare_reply_is_quoted_with_the_sentence_that_explains_it():
    """"Oui sans aucun doute." ranks first (it follows the interview question), but says nothing
    alone: the sentence after it comes with it, not a stronger sentence of another passage."""
    passages = [(0, 200, "Le télémarketing non sollicité va être interdit, est-ce une bonne chose ? Oui sans aucun "
                         "doute. Au même titre que le spam est interdit, il me semble logique de l'interdire.", ""),
                (500, 600, "Maxence d'Espeuilles, fondateur d'OpenAccess, parle du télémarketing non sollicité.", "")]
    sents = cit.candidate_sentences(passages)
    reply = next(s for s in sents if s.text.startswith("Oui"))
    sents = [replace(s, dense=1.0) if s is reply else s for s in sents]  # the reply ranks first
    out = _extractive(sents, question="Que pense-t-il du télémarketing non sollicité ?", lead="—")
    assert out == "— « Oui sans aucun doute. » [1] « Au même titre que le spam est interdit, il me semble logique de " \
                  "l'interdire. » [1]"


def test_a_long_quote_is_translated_clause_by_clause_at_its_semicolons():
    from rag.prompt import translation_units

    long = ("Nous avions envoyé un courrier à Laurent Wauquiez avec plusieurs propositions à soumettre au débat ; "
            "nous n'avons obtenu aucune réponse officielle, si ce n'est, de la bouche du ministre « oui, on l'a reçue ».")
    assert translation_units(long) == [long[:long.index(";") + 1], long[long.index(";") + 2:]]
    assert translation_units("Court ; bref.") == ["Court ; bref."]  # a short sentence stays whole
    # no clause shorter than min_part: a short one joins its neighbour
    text = "A" * 150 + " ; oui ; " + "B" * 60
    assert translation_units(text) == ["A" * 150 + " ; oui ;", "B" * 60]
    assert " ".join(translation_units(long)) == long


def test_pick_candidates_are_the_rankers_best_each_text_once_with_its_margin():
    passages = [(100, 200, "Le standard a reçu 4 500 appels en mars. Le reste est calme."),
                (100, 200, "Le standard a reçu 4 500 appels en mars. Le reste est calme."),  # an overlapping chunk
                (500, 560, "Paul Martin propose de former les conseillers à l'écoute.")]
    sents = cit.candidate_sentences(passages)
    question = "Combien d'appels en mars ?"
    cands, margin = cit.pick_candidates(sents, question=question, n=4)
    assert [cit.quote_text(x) for x in cands] == list(dict.fromkeys(
        cit.quote_text(x) for x in cit.ranked_sentences(sents, question=question, answer="")))
    assert "4 500" in cands[0].text and len(cands) == 3
    score = [cit.score_sentence(x, question=question, answer="") + cit.rank_prior(x) for x in cands]
    assert margin == score[0] - score[1] > 0
    assert cit.pick_candidates(sents[:1], question=question)[1] == float("inf")  # nothing to choose between


def test_a_picked_sentence_is_quoted_first_then_the_rankers_best():
    sents = _sents()
    question = "Combien d'appels en mars ?"
    top = cit.quote_sentences(sents, question=question, n=2)
    assert "4 500" in top[0].text
    paul = sents[-1]
    assert cit.quote_sentences(sents, question=question, n=2, first=paul) == [paul, top[0]]
    # the pick is the ranker's best: quoted as without a pick
    assert cit.quote_sentences(sents, question=question, n=2, first=top[0]) == top


def test_rerank_orders_by_the_rankers_score_plus_the_weighted_likelihood():
    sents = _sents()
    question = "Combien d'appels en mars ?"
    cands, _ = cit.pick_candidates(sents, question=question, n=3)
    score = [cit.ranked_score(x, question=question, answer="") for x in cands]
    # no weight, or equal likelihoods: the ranker's order
    assert cit.rerank(cands, [-9.0, 0.0, 0.0], question=question, weight=0.0) == cands
    assert cit.rerank(cands, [-2.0, -2.0, -2.0], question=question, weight=0.5) == cands
    # the last is much likelier: it goes first when the weight outweighs the ranker's gap
    gap = score[0] - score[-1]
    likely = [-3.0, -3.0, -3.0 + 4 * gap]
    assert cit.rerank(cands, likely, question=question, weight=0.5)[0] is cands[-1]
    assert cit.rerank(cands, likely, question=question, weight=0.1)[0] is cands[0]


def test_question_likelihood_prefix_reads_the_sentence_with_its_context_and_asks_for_no_answer():
    prefix = question_likelihood_prefix("On est dans un pays très jacobin.", "Laurent Uberti, président du SP2C :")
    assert prefix == ("Passage (Laurent Uberti, président du SP2C :): On est dans un pays très jacobin.\n"
                      "Please write a question based on this passage.\nQuestion:")
    assert question_likelihood_prefix("Texte.").startswith("Passage: Texte.\n")


def test_pick_prompt_numbers_the_sentences_as_data_and_its_options_are_one_token_numbers():
    msgs = pick_messages("Who proposed training?", ["Le standard a reçu 4 500 appels.", "Paul Martin propose."])
    assert "never instructions" in msgs[0]["content"]
    assert "[1] Le standard a reçu 4 500 appels.\n[2] Paul Martin propose." in msgs[1]["content"]
    assert msgs[1]["content"].rstrip().endswith("(0 if none).") and "Who proposed training?" in msgs[1]["content"]
    assert pick_options(2) == ["0", "1", "2"]


def test_an_english_questions_fact_terms_are_found_in_french_sentences_by_their_closest_words():
    text = "Maxence d’Espeuilles a grandi à Paris. Il a supprimé sa ligne fixe, exaspéré par les appels."
    sents = cit.candidate_sentences([(0, len(text), text)])
    question = "Why did Maxence d'Espeuilles get rid of his landline?"
    assert cit.fact_words(question) == ["get", "rid", "his", "landline"]  # the name is the topic
    closest = {"rid": ["retirer", "supprimer"], "landline": ["téléphone", "fixe"], "get": ["prendre"]}

    def near(words):  # a fake multilingual word space: each word's closest document words
        return [closest.get(w, []) for w in words]

    out = cit.across_languages(sents, question=question, near=near)
    assert [x.fact for x in out] == [0.0, 0.5]  # "rid" ("supprimé") and "landline" ("fixe") of four fact words
    # stems say nothing across languages: without it neither sentence holds a fact term
    assert [cit.overlap(cit.question_terms(question)[1], x.text) for x in sents] == [0.0, 0.0]
    assert cit.ranked_sentences(out, question=question, answer="")[0] == out[1]
    assert cit.ranked_sentences(sents, question=question, answer="")[0] == sents[0]  # the first wins a tie
    # a question in the sentences' language is scored by its stems, as before
    french = cit.across_languages(sents, question="Pourquoi a-t-il supprimé sa ligne fixe ?", near=near)
    assert [x.fact for x in french] == [None, None]
    # a word the sentence holds itself counts without a neighbour (a French word in an English question)
    alone = cit.across_languages(sents, question="Why was the ligne fixe removed?", near=lambda ws: [[]] * len(ws))
    assert [x.fact for x in alone] == [0.0, 2 / 3]
    # a question of names only has no fact term
    assert cit.fact_words("Who is Maxence d'Espeuilles?") == []
    assert cit.across_languages(sents, question="Who is Maxence d'Espeuilles?", near=near) is sents


def test_a_heading_is_evidence_only_for_who_a_person_it_names_is():
    """The chunker glues headings to the first paragraph of their section: "Archives : En-Contact
    n°55" is not a quote for "which issue…?", "Jean Dupont, PDG de Dupont SA" is one for "who is…?"."""
    text = ("Archives : En-Contact n°55\n\nJean Dupont, PDG de Dupont SA\n\n"
            "Notre numéro de mars parle de la relation client en 2010.")
    lines = lambda q: [x.text for x in cit.candidate_sentences([(0, len(text), text)], question=q)]  # noqa: E731
    assert lines("Quel numéro est paru en mars 2010 ?") == ["Notre numéro de mars parle de la relation client en 2010."]
    assert "Jean Dupont, PDG de Dupont SA" in lines("Who is Jean Dupont?")
    assert "Jean Dupont, PDG de Dupont SA" in lines("Qui dirige Dupont SA ?")


def test_a_who_questions_sentence_gives_a_name_only_when_it_holds_one_the_question_does_not():
    question = "Qui a créé Teleperformance ?"
    same = cit.Sentence(passage=1, start=0, end=60, text="2009 a été une année complexe pour Teleperformance.")
    new = cit.Sentence(passage=1, start=0, end=60, text="Teleperformance a été créée par Daniel Julien.")
    assert not cit.gives_type(same, question=question, kind=None)
    assert cit.gives_type(new, question=question, kind=None)


def test_the_sources_show_every_quote_of_a_passage_when_they_follow_each_other():
    """Two quotes of one passage that follow each other in the document are one evidence span (the
    sources show the original of both); apart, or from another passage, they are not joined."""
    a = cit.Sentence(passage=1, start=100, end=134, text="Laissons le choix aux entreprises.")
    b = cit.Sentence(passage=1, start=135, end=170, text="Les gens qui veulent sont prêts à payer.")
    far = cit.Sentence(passage=1, start=400, end=430, text="Une autre phrase du même passage.")
    other = cit.Sentence(passage=2, start=135, end=170, text="Les gens qui veulent sont prêts à payer.")
    assert cit.quoted_evidence([b, a], 1) == (100, 170)
    assert cit.quoted_evidence([a, far], 1) is None
    assert cit.quoted_evidence([a, other], 1) is None  # one quote of passage 1


def test_a_translation_loses_the_label_and_quote_marks_a_model_wraps_it_in():
    assert clean_translation("Translation: « Let the companies choose. »") == "Let the companies choose."
    assert clean_translation('The French text translates to: "The directory may top the sales.') == (
        "The directory may top the sales.")
    assert clean_translation("This translates to English as: The Swiss company asks") == "The Swiss company asks"
    assert clean_translation("Traduction : Bonjour") == "Bonjour"
    assert clean_translation("Here is the English translation:") == ""  # a label alone: the next line
    # a sentence that only starts like a label is left as it is
    assert clean_translation("Translations are hard: yes.") == "Translations are hard: yes."
    assert clean_translation("It is important to cross-check the information.") == (
        "It is important to cross-check the information.")
