"""`rag serve`: the HTTP API. OpenAI-compatible chat completions that carry their citations,
`/v1/ask` (the `rag ask --json` object), document management, health.

One Pipeline (one model) per process. Every job (an answer, an index update) runs on one
worker thread, in order; a bounded number wait, and a request past that gets 429 at once.
Domain errors become 4xx JSON errors here, and only here. This module is the API's edge:
it imports FastAPI at once, and only `rag serve` imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import secrets
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Literal

from fastapi import Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import DocumentError, EmptyQuestionError, QuestionTooLongError, RagError
from .settings import Settings

log = logging.getLogger(__name__)


# -- request bodies (their JSON schema is the OpenAPI contract) --

class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat completion request; fields this server does not use are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[Message] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=1024)
    max_completion_tokens: int | None = Field(None, ge=1, le=1024)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    k: int | None = Field(None, ge=1, le=50, description="Passages retrieved (extension).")
    language: Literal["auto", "fr", "en"] | None = Field(None, description="Answer language (extension).")


class AskRequest(BaseModel):
    question: str = Field(max_length=100_000)
    history: list[str] = Field(default_factory=list, max_length=50,
                               description="Earlier questions of the conversation, oldest first.")
    k: int | None = Field(None, ge=1, le=50)
    language: Literal["auto", "fr", "en"] | None = None
    max_tokens: int | None = Field(None, ge=1, le=1024)


class Busy(RagError):
    """The queue is full."""


class Engine:
    """Runs jobs one at a time on a worker thread; at most ``limit`` jobs are admitted at once."""

    def __init__(self, limit: int):
        self.limit = limit
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-engine")
        self._admitted = 0
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        return self._admitted

    def submit(self, fn: Callable[[], Any]) -> Future:
        with self._lock:
            if self._admitted >= self.limit:
                raise Busy(f"the server is busy ({self._admitted} requests queued); retry in a few seconds")
            self._admitted += 1

        def run():
            try:
                return fn()
            finally:
                with self._lock:
                    self._admitted -= 1

        return self._pool.submit(run)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class BodyLimit:
    """ASGI wrapper: a body without Content-Length or larger than the limit is refused before it
    is read (411/413), so a huge request cannot fill memory or disk."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            s = self.settings
            cap = (s.max_upload_bytes * s.max_upload_files + 1_000_000 if scope["path"] == "/v1/documents"
                   else s.max_request_bytes)
            length = dict(scope["headers"]).get(b"content-length")
            problem = None
            if length is None:
                problem = (411, "send a Content-Length header")
            elif not length.isdigit() or int(length) > cap:
                problem = (413, f"request body too large ({length.decode(errors='replace')} bytes; limit {cap})")
            if problem:
                body = json.dumps({"error": {"message": problem[1], "type": "invalid_request_error"}}).encode()
                await send({"type": "http.response.start", "status": problem[0],
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def check_bind(host: str, api_key: str | None) -> None:
    """Binding beyond loopback needs an API key: refuse before anything listens."""
    if _loopback(host) or api_key:
        return
    raise RagError(f"refusing to listen on {host} without an API key: set RAG_API_KEY (clients send it as "
                   "'Authorization: Bearer <key>'), or bind to 127.0.0.1")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def answer_extras(answer) -> dict:
    """What a chat completion carries besides OpenAI's fields: the citations and the pipeline's view."""
    j = answer.to_json()
    return {"citations": [{k: c[k] for k in ("n", "source", "title", "date", "page", "start", "end", "evidence",
                                              "evidence_start", "evidence_end")} for c in j["citations"]],
            "rag": {k: j[k] for k in ("question", "standalone_question", "refused", "refusal_reason", "language",
                                      "extractive", "translated", "timings", "models")}}


def create_app(settings: Settings, *, pipeline=None, progress: Callable[[str], None] | None = None):
    """The FastAPI app. ``pipeline`` defaults to one built from ``settings`` (tests pass theirs)."""
    from . import collection
    from .pipeline import Pipeline

    pipe = pipeline or Pipeline(settings, progress=progress)
    engine = Engine(settings.server_queue)
    key = settings.api_key.get_secret_value() if settings.api_key else None
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        engine.shutdown()

    app = FastAPI(title="rag-en-contact", version="1.0", lifespan=lifespan,
                  description="Cited answers from a local document collection, offline. "
                              "OpenAI-compatible chat completions plus citations.")
    app.state.pipeline, app.state.engine = pipe, engine

    def error(status: int, message: str, kind: str = "invalid_request_error", headers=None):
        return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status, headers=headers)

    @app.exception_handler(Busy)
    async def busy(_req, err):
        return error(429, str(err), "rate_limit_error", headers={"Retry-After": "2"})

    @app.exception_handler(RagError)
    async def rag_error(_req, err):
        status = 413 if isinstance(err, QuestionTooLongError) else 400
        return error(status, str(err))

    @app.exception_handler(RequestValidationError)
    async def invalid(_req, err):
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return error(422, f"invalid request: {where}: {first.get('msg', 'bad value')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_req, err):
        return error(err.status_code, str(err.detail), headers=getattr(err, "headers", None))

    def auth(request: Request):
        if key is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), key.encode()):
            raise HTTPException(401, "missing or wrong API key: send 'Authorization: Bearer <RAG_API_KEY>'",
                                headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(auth)]

    async def run(fn):
        return await asyncio.wrap_future(engine.submit(fn))

    def question_of(req: ChatRequest) -> tuple[str, list[str]]:
        users = [_text(m.content) for m in req.messages if m.role == "user"]
        if not users or not users[-1].strip():
            raise EmptyQuestionError("the last user message is empty: send a question about the documents")
        return users[-1], [u for u in users[:-1] if u.strip()]

    @app.get("/healthz")
    async def healthz():
        m = pipe.index.manifest
        return {"status": "ok", "llm": settings.llm, "llm_loaded": pipe.llm_loaded,
                "embedder": pipe.models["embedder"], "queue": engine.admitted, "queue_limit": engine.limit,
                "index": {"documents": len(m.get("articles", {})), "chunks": m.get("n_chunks"),
                          "built_at": m.get("built_at")}}

    @app.get("/v1/models", dependencies=guarded)
    async def models():
        return {"object": "list", "data": [{"id": settings.llm, "object": "model", "created": 0,
                                            "owned_by": "local"}]}

    @app.post("/v1/ask", dependencies=guarded)
    async def ask(req: AskRequest):
        pipe.validate(req.question)
        answer = await run(lambda: pipe.ask(req.question, history=req.history, k=req.k, language=req.language,
                                            max_tokens=req.max_tokens))
        return answer.to_json()

    @app.post("/v1/chat/completions", dependencies=guarded)
    async def chat(req: ChatRequest, request: Request):
        question, history = question_of(req)
        pipe.validate(question)
        cap = req.max_completion_tokens or req.max_tokens
        opts = dict(history=history, k=req.k, language=req.language, max_tokens=cap, temperature=req.temperature)
        cid, created, model = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()), settings.llm
        if not req.stream:
            answer = await run(lambda: pipe.ask(question, **opts))
            return {"id": cid, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    **answer_extras(answer)}
        return StreamingResponse(_sse(question, opts, cid, created, model), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _sse(question, opts, cid, created, model):
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def work():
            try:
                if stop.is_set():
                    return
                for ev in pipe.stream(question, **opts):
                    if stop.is_set():
                        break
                    if ev.kind in ("sentence", "answer"):
                        loop.call_soon_threadsafe(events.put_nowait, ev)
            except RagError as err:
                loop.call_soon_threadsafe(events.put_nowait, err)
            except Exception as err:  # keep serving; the log has the traceback
                log.exception("unexpected error while answering")
                loop.call_soon_threadsafe(events.put_nowait, RuntimeError(f"internal error ({type(err).__name__})"))
            finally:
                loop.call_soon_threadsafe(events.put_nowait, None)

        def chunk(delta: dict, finish=None, **extra) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        try:
            engine.submit(work)
        except Busy as err:
            yield f"data: {json.dumps({'error': {'message': str(err), 'type': 'rate_limit_error'}})}\n\n"
            yield "data: [DONE]\n\n"
            return
        try:
            yield chunk({"role": "assistant", "content": ""})
            while (ev := await events.get()) is not None:
                if isinstance(ev, Exception):
                    yield f"data: {json.dumps({'error': {'message': str(ev), 'type': type(ev).__name__}})}\n\n"
                elif ev.kind == "sentence":
                    yield chunk({"content": ev.text})
                else:
                    yield chunk({}, "stop", **answer_extras(ev.answer))
            yield "data: [DONE]\n\n"
        finally:
            stop.set()  # the client went away: the worker stops at its next token

    @app.get("/v1/documents", dependencies=guarded)
    async def list_documents():
        return {"documents": [d.to_json() for d in collection.documents(pipe.index.manifest)]}

    @app.post("/v1/documents", dependencies=guarded)
    async def add_documents(files: list[UploadFile] = File(..., description="One or more documents")):
        if len(files) > settings.max_upload_files:
            raise HTTPException(413, f"too many files ({len(files)}; limit {settings.max_upload_files})")
        got = []
        for f in files:
            data = await f.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                raise HTTPException(413, f"{f.filename}: larger than {settings.max_upload_bytes} bytes "
                                         "(RAG_MAX_UPLOAD_BYTES)")
            got.append((f.filename or "", data))

        def update():
            report = collection.add_documents(settings, got, progress=progress)
            if report.added or report.replaced:
                pipe.reload_index()
            return report

        report = await run(update)
        status = 200 if (report.added or report.replaced) else 400
        return JSONResponse({**report.to_json(),
                             "documents": [d.to_json() for d in collection.documents(pipe.index.manifest)]},
                            status_code=status)

    @app.delete("/v1/documents/{source}", dependencies=guarded)
    async def delete_document(source: str):
        def update():
            report = collection.remove_document(settings, source, progress=progress)
            pipe.reload_index()
            return report

        try:
            report = await run(update)
        except DocumentError as err:
            status = 404 if str(err).startswith("no document") else 409
            raise HTTPException(status, str(err)) from None
        return {**report.to_json(), "documents": [d.to_json() for d in collection.documents(pipe.index.manifest)]}

    app.add_middleware(BodyLimit, settings=settings)
    return app


def serve(settings: Settings, *, host: str, port: int, progress: Callable[[str], None] | None = None) -> None:
    import uvicorn

    key = settings.api_key.get_secret_value() if settings.api_key else None
    check_bind(host, key)
    app = create_app(settings, progress=progress)
    if progress:
        progress("loading models…")
    app.state.pipeline.warm_up()
    if progress:
        progress(f"API at http://{host}:{port} (OpenAPI schema at /openapi.json)"
                 + ("; API key required" if key else ""))
    uvicorn.run(app, host=host, port=port, log_level="warning")
