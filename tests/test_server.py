"""`rag serve`: the JSON contract, OpenAI compatibility (the official client against a running
server), auth, limits, the bounded queue, document management over HTTP."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

import docgen
from conftest import FakeLLM
from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.server import Engine, check_bind, create_app

Q = "Que propose Olivier Duha ?"


@pytest.fixture
def pipe(settings):
    return Pipeline(settings, llm=FakeLLM())


@pytest.fixture
def client(settings, pipe):
    with TestClient(create_app(settings, pipeline=pipe)) as c:
        yield c


def test_ask_returns_exactly_the_cli_json(client, pipe):
    got = client.post("/v1/ask", json={"question": Q}).json()
    want = pipe.ask(Q).to_json()
    assert set(got) == set(want)
    for key in ("answer", "refused", "citations", "retrieved", "standalone_question"):
        assert got[key] == want[key]
    assert got["citations"][0]["source"].endswith(".txt") and "evidence_start" in got["citations"][0]


def test_chat_completion_carries_citations_and_markers(client):
    r = client.post("/v1/chat/completions", json={"model": "x", "messages": [{"role": "user", "content": Q}]})
    body = r.json()
    assert r.status_code == 200 and body["object"] == "chat.completion"
    text = body["choices"][0]["message"]["content"]
    assert "[1]" in text
    cite = body["citations"][0]
    assert {"n", "source", "title", "date", "page", "start", "end", "evidence", "evidence_start",
            "evidence_end"} <= set(cite)
    assert cite["evidence"] in cite["evidence"] and cite["n"] == 1


def test_streamed_sentences_add_up_to_the_answer(client, pipe):
    lines = []
    with client.stream("POST", "/v1/chat/completions",
                       json={"stream": True, "messages": [{"role": "user", "content": Q}]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in r.iter_lines() if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    import json

    chunks = [json.loads(ln[6:]) for ln in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == pipe.ask(Q).answer
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


def test_history_drives_the_follow_up(client):
    msgs = [{"role": "user", "content": "Que propose Olivier Duha ?"},
            {"role": "assistant", "content": "Il propose un modèle économique [1]."},
            {"role": "user", "content": "Pourquoi le propose-t-il ?"}]
    body = client.post("/v1/chat/completions", json={"messages": msgs}).json()
    assert "Duha" in body["rag"]["standalone_question"]


def test_bad_requests_are_4xx_with_a_message(client, settings):
    assert client.post("/v1/ask", json={"question": "   "}).status_code == 400
    long = client.post("/v1/ask", json={"question": "x" * (settings.max_question_chars + 1)})
    assert long.status_code == 413 and "limit" in long.json()["error"]["message"]
    assert client.post("/v1/chat/completions", json={"messages": []}).status_code == 422
    assert client.post("/v1/chat/completions",
                       json={"messages": [{"role": "system", "content": "hi"}]}).status_code == 400
    big = client.post("/v1/ask", content=b"{" + b" " * (settings.max_request_bytes + 10) + b"}",
                      headers={"content-type": "application/json"})
    assert big.status_code == 413
    assert client.post("/v1/ask", content=b"not json", headers={"content-type": "application/json"}).status_code == 422


def test_auth_required_when_a_key_is_set(settings, pipe):
    from pydantic import SecretStr

    keyed = settings.model_copy(update={"api_key": SecretStr("s3cret")})
    with TestClient(create_app(keyed, pipeline=pipe)) as c:
        assert c.post("/v1/ask", json={"question": Q}).status_code == 401
        assert c.post("/v1/ask", json={"question": Q}, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert c.get("/v1/documents", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.post("/v1/ask", json={"question": Q}, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/healthz").status_code == 200


def test_public_bind_without_key_is_refused_before_listening():
    with pytest.raises(RagError, match="RAG_API_KEY"):
        check_bind("0.0.0.0", None)
    with pytest.raises(RagError):
        check_bind("192.168.1.10", "")
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("0.0.0.0", "a-key")


def test_cli_serve_refuses_public_bind_without_key(monkeypatch, capsys):
    from rag.cli import main

    monkeypatch.delenv("RAG_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--embedder", "fake"]) == 2
    assert "RAG_API_KEY" in capsys.readouterr().err


def test_full_queue_answers_429_at_once():
    engine = Engine(limit=2)
    gate = threading.Event()
    engine.submit(gate.wait)
    engine.submit(gate.wait)
    t0 = time.perf_counter()
    with pytest.raises(RagError, match="busy"):
        engine.submit(lambda: None)
    assert time.perf_counter() - t0 < 1.0
    gate.set()


def test_full_queue_over_http(settings, pipe):
    app = create_app(settings.model_copy(update={"server_queue": 1}), pipeline=pipe)
    gate = threading.Event()
    with TestClient(app) as c:
        app.state.engine.submit(gate.wait)
        r = c.post("/v1/ask", json={"question": Q})
        gate.set()
    assert r.status_code == 429 and r.headers["retry-after"]


def test_documents_over_http(client, settings):
    docs = client.get("/v1/documents").json()["documents"]
    assert len(docs) == 5 and all(d["chunks"] > 0 for d in docs)
    pdf = docgen.pdf_bytes(["La société Zorglub emploie 321 conseillers à Tulle depuis 2017."], title="Zorglub")
    r = client.post("/v1/documents", files=[("files", ("zorglub.pdf", pdf, "application/pdf"))])
    assert r.status_code == 200 and r.json()["added"] == ["zorglub.pdf"]
    assert any(d["source"] == "zorglub.pdf" and d["pages"] == 1 for d in r.json()["documents"])
    a = client.post("/v1/ask", json={"question": "Combien de conseillers Zorglub emploie-t-elle à Tulle ?"}).json()
    assert any(c["source"] == "zorglub.pdf" for c in a["retrieved"])
    r = client.delete("/v1/documents/zorglub.pdf")
    assert r.status_code == 200 and r.json()["removed"] == ["zorglub.pdf"]
    a = client.post("/v1/ask", json={"question": "Combien de conseillers Zorglub emploie-t-elle à Tulle ?"}).json()
    assert all(c["source"] != "zorglub.pdf" for c in a["retrieved"])
    assert client.delete("/v1/documents/zorglub.pdf").status_code == 404


def test_uploads_cannot_escape_or_overflow(settings, pipe, tmp_path):
    small = settings.model_copy(update={"max_upload_bytes": 2000})
    with TestClient(create_app(small, pipeline=pipe)) as c:
        for name in ("../../evil.txt", "..\\evil.txt", "/tmp/evil.txt", ".bashrc"):
            r = c.post("/v1/documents", files=[("files", (name, b"A perfectly fine text of some length here."))])
            assert r.status_code == 400, name
        assert not list(tmp_path.rglob("evil.txt"))
        r = c.post("/v1/documents", files=[("files", ("big.txt", b"x" * 5000))])
        assert r.status_code == 413 and "big.txt" in r.json()["error"]["message"]
        assert not (settings.seeds_dir / "big.txt").exists()
        r = c.post("/v1/documents", files=[("files", ("x.exe", b"MZ\x00\x00binary"))])
        assert r.status_code == 400 and "unsupported" in r.json()["rejected"][0]
        for bad in ("..%2F..%2Fseeds%2F000_3c6e1a84ff35df3f.txt", "%2E%2E", ".."):
            assert c.delete(f"/v1/documents/{bad}").status_code in (400, 404, 405)
        assert len(list(settings.seeds_dir.iterdir())) == 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(settings, pipe):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, pipeline=pipe), host="127.0.0.1", port=port,
                                           log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    t.join(timeout=10)


def test_official_openai_client_against_a_running_server(live_server, pipe):
    import openai

    client = openai.OpenAI(base_url=f"{live_server}/v1", api_key="unused", max_retries=0, timeout=30)
    done = client.chat.completions.create(model="balanced", messages=[{"role": "user", "content": Q}])
    want = pipe.ask(Q)
    assert done.choices[0].message.content == want.answer
    assert done.model_extra["citations"][0]["source"] == want.citations[0].chunk.source
    parts, last = [], None
    for chunk in client.chat.completions.create(model="balanced", stream=True,
                                                messages=[{"role": "user", "content": Q}]):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        last = chunk
    assert "".join(parts) == want.answer
    assert last.model_extra["citations"][0]["n"] == 1
    assert [m.id for m in client.models.list().data] == ["balanced"]
