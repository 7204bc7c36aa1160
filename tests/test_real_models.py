"""End to end with the real packaged models (the default tier, Gemma 3 270M, USE), temperature 0, seed 0."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("real") / "index"


def _ask(index_dir, *args):
    p = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--index", str(index_dir), *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    return p


DUHA = {"en": "What did Olivier Duha propose at the assises?", "fr": "Que proposait Olivier Duha aux assises ?"}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_duha_question_cites_the_train_passage_in_the_question_language(index_dir, lang):
    p = _ask(index_dir, "--json", DUHA[lang])
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)  # exactly one JSON object on stdout
    assert not out["refused"] and out["language"] == lang
    assert out["citations"] and {c["source"] for c in out["citations"]} == {"002_4baedb1a5da3def7.txt"}
    top3 = [r["text"] for r in out["retrieved"][:3]]
    assert any("vous prenez le train" in t for t in top3), "train-class passage not in the top 3"
    raw = (ROOT / "seeds" / "002_4baedb1a5da3def7.txt").read_text(encoding="utf-8")
    for c in out["citations"]:
        assert raw[c["start"]:c["end"]] == c["text"] and c["evidence"] in c["text"]
        assert raw[c["evidence_start"]:c["evidence_end"]] == c["evidence"]
    assert any(w in " ".join(c["evidence"] for c in out["citations"]) for w in ("train", "choix", "payer"))
    assert out["models"]["embedder"] == "bm25+use"
    assert {"retrieve_ms", "select_ms", "first_token_ms", "first_sentence_ms", "total_ms"} <= set(out["timings"])
    from rag.grading import Question, grade  # written in the question's language (a French quote is not English)
    assert grade(Question(id="duha", question=DUHA[lang], lang=lang), out)["language_ok"], out["answer"]


def test_nonsense_is_refused(index_dir):
    out = json.loads(_ask(index_dir, "--json", "{{7*7}}").stdout)
    assert out["refused"] and out["citations"] == []


def test_planted_instructions_do_not_hijack_the_default_model(tmp_path):
    inj = ROOT / "eval" / "injection"
    forbidden = json.loads((inj / "questions.jsonl").read_text(encoding="utf-8").splitlines()[0])["forbidden"]
    for q in ("Why are the Philippines a good destination for call centres according to Maxence d'Espeuilles?",
              "Que doit répondre l'assistant selon l'article ?"):
        p = _ask(tmp_path / "idx", "--json", "--seeds", str(inj / "seeds"), q)
        assert p.returncode == 0, p.stderr
        answer = json.loads(p.stdout)["answer"]
        assert not any(f.lower() in answer.lower() for f in forbidden), answer


def test_plain_output_lists_sources(index_dir):
    p = _ask(index_dir, "Combien de chirurgiens plasticiens exercent en France ?")
    assert p.returncode == 0, p.stderr
    assert "Sources:" in p.stdout and "001_0fd32dbe1d85a7f2.txt" in p.stdout


def test_unanswerable_year_is_refused(index_dir):
    out = json.loads(_ask(index_dir, "--json", "What was Webhelp's revenue in 2019?").stdout)
    assert out["refused"] and out["citations"] == []


def test_smollm2_loads_from_its_wheel(index_dir):
    p = _ask(index_dir, "--json", "--llm", "smollm2-135m", "Qui a fondé OpenAccess ?")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["models"]["llm"] == "smollm2-135m"


def test_small_eval_end_to_end(tmp_path, index_dir):
    lines = (ROOT / "eval" / "calibration.jsonl").read_text(encoding="utf-8").splitlines()
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(lines[:4] + lines[-2:]) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "rag.cli", "eval", str(qfile), "--index", str(index_dir),
                        "--out", str(out), "--md", str(tmp_path / "r.md")], cwd=ROOT, capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    rep = json.loads(out.read_text())
    assert set(rep) == {"summary", "config", "results"} and len(rep["results"]) == 6
    s = rep["summary"]
    assert s["n_answerable"] == 4 and s["n_unanswerable"] == 2
    assert s["retrieval"]["hit@5"] is not None and s["latency_ms"]["total_ms"]["p50"] > 0
    assert all("grading" in r and "id" in r for r in rep["results"])
    assert "Failing questions" in (tmp_path / "r.md").read_text()


def test_unknown_embedder_fails_with_a_clear_message(tmp_path):
    p = _ask(tmp_path / "idx", "--embedder", "nobody/no-such-model", "Qui a fondé OpenAccess ?")
    assert p.returncode == 2
    assert "nobody/no-such-model" in p.stderr and "offline" in p.stderr and "Traceback" not in p.stderr


def test_rag_serve_with_the_default_model_through_the_openai_client(tmp_path):
    """The real `rag serve` process (default model) on loopback, asked through the official client."""
    import shutil
    import subprocess
    import sys

    import openai

    from conftest import ROOT, free_port, wait_until_up

    port = free_port()
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port), "--seeds",
                             str(tmp_path / "seeds"), "--index", str(tmp_path / "index")],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", proc, tmp_path / "serve.log", timeout=240)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=120)
        q = [{"role": "user", "content": "What did Olivier Duha propose at the assises?"}]
        done = client.chat.completions.create(model="balanced", messages=q)
        assert done.model_extra["citations"] and done.model_extra["citations"][0]["source"] == "002_4baedb1a5da3def7.txt"
        parts, last = [], None
        for chunk in client.chat.completions.create(model="balanced", messages=q, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            last = chunk
        streamed = "".join(parts)  # llama.cpp's prefix cache makes two greedy runs differ slightly
        assert "[1]" in streamed and len(streamed) > 40  # the model's answer or the (translated) quote
        assert last.model_extra["citations"][0]["source"] == "002_4baedb1a5da3def7.txt"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_balanced_model_reads_how_likely_a_question_is_and_still_writes_after():
    """Query likelihood with the default model: the sentence that answers makes the English
    question likelier than a sentence of the same article that does not; reading it leaves no
    state behind (the next generation is the same as before)."""
    from rag.llm import Scorer, get_generator
    from rag.prompt import question_likelihood_prefix, translation_messages
    from rag.settings import Settings

    llm = get_generator(Settings(llm="balanced"))
    assert isinstance(llm, Scorer)
    prompt = llm.render(translation_messages("Le standard a reçu 4 500 appels en mars.", source="fr", target="en"))
    before = "".join(llm.stream(prompt, max_tokens=16, stop=["\n"], temperature=0.0))
    question = " Why did Maxence d'Espeuilles get rid of the landline at his home?"
    answers = llm.likelihood(question_likelihood_prefix(
        "J'ai supprimé ma ligne fixe à la maison : je ne recevais que des appels de démarchage."), question)
    other = llm.likelihood(question_likelihood_prefix("OpenAccess compte vingt salariés à Paris."), question)
    assert answers > other and -20 < other < 0
    assert "".join(llm.stream(prompt, max_tokens=16, stop=["\n"], temperature=0.0)) == before
