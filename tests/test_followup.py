from rag.followup import is_followup, standalone_question


def test_new_person_replaces_old_and_topic_carries_over():
    hist = ["What did Olivier Duha propose at the assises?"]
    out = standalone_question("And what did Laurent Uberti say?", hist)
    assert "Laurent Uberti" in out and "assises" in out and "Duha" not in out


def test_french_pronoun_followup_keeps_subject():
    hist = ["Que dit l'article sur le numéro vert des mandataires judiciaires ?"]
    out = standalone_question("Et combien d'appels ont-ils reçu ?", hist)
    assert out.startswith("Combien d'appels ont-ils reçu ?") and "mandataires" in out


def test_self_contained_question_unchanged():
    hist = ["What did Olivier Duha propose at the assises?"]
    assert standalone_question("Qui a fondé Webhelp ?", hist) == "Qui a fondé Webhelp ?"
    assert standalone_question("And then?", []) == "And then?"
    assert not is_followup("Combien de salariés comptent les centres d'appels aux Philippines ?")


def test_pronoun_with_its_own_name_keeps_the_previous_subject():
    out = standalone_question("Which Moroccan minister is he working with?",
                              ["What did Laurent Wauquiez want in the Social Responsibility Label?"])
    assert "Laurent Wauquiez" in out


def test_definite_reference_to_a_company_is_resolved():
    out = standalone_question("Combien d'agents emploie le groupe ?", ["Qui a créé Teleperformance ?"])
    assert "Teleperformance" in out
    out = standalone_question("Who runs the group?", ["Which companies did Foncia acquire?"])
    assert "Foncia" in out


def test_french_inversion_with_a_named_subject_is_not_a_followup():
    assert not is_followup("Pourquoi Maxence d'Espeuilles a-t-il supprimé sa ligne fixe ?")
    assert is_followup("Que pense-t-il du télémarketing non sollicité ?")


def test_ellipsis_after_a_topic_keeps_it():
    out = standalone_question("Pour développer quoi ?", ["How much money did Allo-Media raise?"])
    assert "Allo-Media" in out


def test_the_rewrite_prompt_ends_with_the_conversation_and_shares_its_prefix():
    from rag.followup import rewrite_messages

    a = rewrite_messages("Et des week-ends ?", ["Que pense Paul des nuits ?"])
    b = rewrite_messages("What does he want?", ["Who is Paul?", "Who founded Vocalis?"])
    assert a[:-1] == b[:-1] and a[0]["role"] == "system"
    assert a[-1]["content"].endswith("Last question: Et des week-ends ?") and "- Que pense Paul des nuits ?" in a[-1]["content"]


def test_a_rewrite_is_accepted_only_when_it_is_a_faithful_question():
    from rag.followup import accept_rewrite

    hist = ["Qui a fondé OpenAccess ?"]
    q = "Que pense-t-il du télémarketing non sollicité ?"
    good = "Que pense le fondateur d'OpenAccess du télémarketing non sollicité ?"
    assert accept_rewrite(f" «{good}» ", q, hist) == good
    assert accept_rewrite("Il pense que c'est une bonne chose.", q, hist) is None  # an answer, not a question
    assert accept_rewrite("Que pense Jean Dupont du télémarketing ?", q, hist) is None  # a name from nowhere
    assert accept_rewrite("Que pense le fondateur de la société ?", q, hist) is None  # the question's topic lost
    assert accept_rewrite(good + "\nQue pense-t-il des écoles ?", q, hist) is None  # more than one line
    assert accept_rewrite("", q, hist) is None


def test_a_rewrite_that_resolves_nothing_is_rejected():
    from rag.followup import accept_rewrite

    hist = ["Qui dirige la mission locale d'Yssingeaux ?"]
    assert accept_rewrite("Qui dirige la mission locale d'Yssingeaux ?", "Et qui dirige Yakamoz ?", hist) is None
    hist = ["What did Olivier Duha propose at the assises?"]
    q = "And what did Laurent Uberti say?"
    assert accept_rewrite(f"{hist[0]} {q}", q, hist) is None  # two questions glued together
    assert accept_rewrite("Where did it expand afterwards?", "Where did it expand afterwards?", hist) is None
    assert accept_rewrite("What did he say at the assises?", q, hist) is None  # still a pronoun
    assert accept_rewrite("What did Laurent Uberti say at the assises?", q, hist) == \
        "What did Laurent Uberti say at the assises?"
