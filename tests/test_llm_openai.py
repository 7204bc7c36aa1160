"""The `openai` generator backend: the pipeline answers through an OpenAI-compatible server.
A scripted fake server covers the failure modes; a real llama.cpp server covers the rest."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from conftest import wait_until_up
from rag.errors import RagError
from rag.pipeline import Pipeline

ANSWER = "Olivier Duha propose un modèle économique comme le train [1]."
Q = "Que propose Olivier Duha ?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fake_server_app(seen: list) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        seen.append(body)
        mode = body["model"]
        if mode == "err":
            return JSONResponse({"error": {"message": "model not loaded"}}, status_code=404)
        if mode == "nologprobs" and body.get("logprobs"):
            return JSONResponse({"error": {"message": "logprobs need logits_all"}}, status_code=500)
        if mode == "nobias" and "logit_bias" in body:
            return JSONResponse({"error": {"message": "logit_bias keys must be token ids"}}, status_code=400)
        if mode == "slow":
            time.sleep(3)
        if not body["stream"]:  # the one-token probe
            return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Ol"}, "logprobs": {
                "content": [{"token": "Ol", "logprob": -0.1, "top_logprobs": [
                    {"token": "Ol", "logprob": -0.1}, {"token": "NOT", "logprob": -2.3}]}]}}]}

        def events():
            if mode != "empty":
                for i, word in enumerate(ANSWER.split(" ")):
                    choice = {"index": 0, "delta": {"content": word + (" " if i < len(ANSWER.split()) - 1 else "")}}
                    yield f"data: {json.dumps({'choices': [choice]})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def fake_server():
    import uvicorn

    seen: list = []
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(_fake_server_app(seen), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1", seen
    server.should_exit = True
    t.join(timeout=10)


def _pipe(settings, url, model="ok", **kw):
    s = settings.model_copy(update={"llm_backend": "openai", "llm_url": url, "llm_model": model, **kw})
    return Pipeline(s)


def test_answers_through_an_openai_compatible_server(settings, fake_server):
    url, seen = fake_server
    pipe = _pipe(settings, url)
    events = list(pipe.stream(Q))
    answer = events[-1].answer
    assert answer.answer == ANSWER and answer.citations[0].chunk.source == "002_4baedb1a5da3def7.txt"
    assert sum(e.kind == "token" for e in events) > 3  # streamed
    assert answer.not_found == pytest.approx(0.1003, abs=1e-3)  # read from top_logprobs
    probe, sent = seen[-2], seen[-1]
    assert not probe["stream"] and probe["max_tokens"] == 1 and probe["logprobs"]
    assert sent["stream"] and sent["model"] == "ok" and sent["messages"][-1]["role"] == "user"
    assert Q in sent["messages"][-1]["content"] and len(sent["stop"]) <= 4
    assert sent["logit_bias"]["NOT"] == -100 and sent["logit_bias_type"] == "tokens"
    assert sent["logit_bias"]["["] == -100  # an answer may not open by copying an excerpt's "[1]"


def test_a_server_without_logprobs_still_answers(settings, fake_server):
    url, seen = fake_server
    answer = _pipe(settings, url, "nologprobs").ask(Q)
    assert answer.answer == ANSWER and answer.not_found is None and "logit_bias" not in seen[-1]


def test_a_server_without_token_bias_is_asked_again_without(settings, fake_server):
    url, seen = fake_server
    answer = _pipe(settings, url, "nobias").ask(Q)
    assert answer.answer == ANSWER and "logit_bias" not in seen[-1]


@pytest.mark.parametrize("model,match", [("err", "HTTP 404"), ("empty", "streamed no token")])
def test_server_errors_are_one_clear_line(settings, fake_server, model, match):
    with pytest.raises(RagError, match=match):
        _pipe(settings, fake_server[0], model).ask(Q)


def test_timeout_is_an_error_not_a_hang(settings, fake_server):
    t0 = time.perf_counter()
    with pytest.raises(RagError, match="sent nothing for 1 s"):
        _pipe(settings, fake_server[0], "slow", llm_timeout=1.0).ask(Q)
    assert time.perf_counter() - t0 < 10


def test_server_down(settings):
    with pytest.raises(RagError, match="cannot reach the LLM server"):
        _pipe(settings, f"http://127.0.0.1:{_free_port()}/v1").ask(Q)


def test_missing_url_is_explained(settings):
    with pytest.raises(RagError, match="RAG_LLM_URL"):
        _ = Pipeline(settings.model_copy(update={"llm_backend": "openai"})).llm


def test_cli_prints_one_line_when_the_server_is_down(settings, capsys, monkeypatch):
    from rag.cli import main

    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_URL", f"http://127.0.0.1:{_free_port()}/v1")
    monkeypatch.setenv("RAG_LLM_MODEL", "a-server-model")  # its answers are prose (generic values)
    code = main(["ask", "--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir),
                 "--embedder", "fake", Q])
    err = capsys.readouterr().err
    assert code == 2 and "rag: error: cannot reach the LLM server" in err and "Traceback" not in err


def test_ui_shows_a_down_server_as_a_chat_message(settings):
    from ui.app import ChatHandlers

    h = ChatHandlers(_pipe(settings, f"http://127.0.0.1:{_free_port()}/v1"))
    *_, last = h.respond(Q, [], [], 5, False, "auto")
    assert last[0][-1]["content"].startswith("⚠️ cannot reach the LLM server")


@pytest.mark.models
def test_real_llama_cpp_server_gives_the_in_process_citations(settings, tmp_path):
    from rag.models import resolve_llm
    from rag.settings import Settings

    models_dir = Settings().models_dir  # the packaged models, assembled by setup
    gguf = resolve_llm("balanced", models_dir=models_dir)
    real = settings.model_copy(update={"embedders": "use", "llm": "balanced", "models_dir": models_dir,
                                       "index_dir": tmp_path / "index-use"})
    inproc = Pipeline(real).ask("What did Olivier Duha propose at the assises?")
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/v1/models", proc, tmp_path / "server.log", timeout=180)
        remote = Pipeline(real.model_copy(update={"llm_backend": "openai", "llm_url": f"http://127.0.0.1:{port}/v1"}),
                          index=None)
        events = list(remote.stream("What did Olivier Duha propose at the assises?"))
        answer = events[-1].answer
        assert sum(e.kind == "token" for e in events) > 3
        assert answer.citations, answer.to_json()
        assert {c.chunk.source for c in answer.citations} == {c.chunk.source for c in inproc.citations} \
            == {"002_4baedb1a5da3def7.txt"}
        print(f"\nin-process: {inproc.answer}\nllama.cpp server: {answer.answer}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
