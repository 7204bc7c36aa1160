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
