"""The one place that wires the modules together:
question → standalone question → hybrid retrieval → refusal check → prompt → LLM (streamed)
→ citation repair, grounding check, evidence → Answer.

CLI, UI and eval are thin callers of ``Pipeline``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

from . import citations as cit
from .errors import EmptyQuestionError, QuestionTooLongError
from .followup import standalone_question
from .index import IndexData, ensure_index
from .prompt import REFUSAL, STOP, chat_messages, clean_generation, detect_language, fewshot_prompt
from .records import Answer, Citation, Hit
from .retrieve import retrieve
from .settings import Settings

EXTRACTIVE_LEAD = {"en": "According to the articles:", "fr": "D'après les articles :"}


@dataclass
class Event:
    """A streamed event: ``kind`` is 'status', 'token' or 'answer'."""

    kind: str
    text: str = ""
    answer: Answer | None = None


class Pipeline:
    def __init__(self, settings: Settings, *, index: IndexData | None = None, llm=None,
                 encoders: dict | None = None, progress: Callable[[str], None] | None = None):
        self.settings = settings
        self.index = index or ensure_index(settings, progress=progress)
        self._encoders = encoders
        self._llm = llm
        self._row_of: dict | None = None

    # -- lazily loaded heavy parts (once per process) --
    @property
    def encoders(self) -> dict:
        if self._encoders is None:
            from .embedders import get_embedder

            names = self.settings.embedder_list if "dense" in self.settings.retriever_list else []
            self._encoders = {n: get_embedder(n) for n in names}
        return self._encoders

    @property
    def llm(self):
        if self._llm is None:
            from .llm import get_llm
            from .models import is_gemma, resolve_llm

            s = self.settings
            path = resolve_llm(s.llm, models_dir=s.models_dir)
            chat = s.prompt_style == "chat" or (s.prompt_style == "auto" and not is_gemma(path))
            self._llm = get_llm(str(path), name=s.llm, n_ctx=s.n_ctx, n_threads=s.n_threads, seed=s.seed,
                                temperature=s.temperature, verbose=s.verbose, chat=chat)
        return self._llm

    def warm_up(self) -> None:
        """Load encoders and LLM now rather than on the first question."""
        _ = self.llm
        for enc in self.encoders.values():
            enc.encode(["warm up"])

    @property
    def models(self) -> dict:
        return {"llm": self.settings.llm, "embedder": "+".join(
            (["bm25"] if "bm25" in self.settings.retriever_list else [])
            + (self.settings.embedder_list if "dense" in self.settings.retriever_list else []))}

    # -- the flow --
    def validate(self, question: str) -> str:
        if question is None or not question.strip():
            raise EmptyQuestionError("the question is empty: type a question about the articles")
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLongError(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars} (RAG_MAX_QUESTION_CHARS)")
        return question.strip()

    def ask(self, question: str, *, history: list[str] | None = None, k: int | None = None) -> Answer:
        answer = None
        for ev in self.stream(question, history=history, k=k):
            if ev.kind == "answer":
                answer = ev.answer
        return answer

    def stream(self, question: str, *, history: list[str] | None = None, k: int | None = None,
               language: str | None = None) -> Iterator[Event]:
        s = self.settings
        t0 = time.perf_counter()
        question = self.validate(question)
        standalone = standalone_question(question, history or [])
        lang = language if language in ("fr", "en") else (
            s.answer_language if s.answer_language != "auto" else detect_language(question))
        if standalone != question:
            yield Event("status", f"standalone question: {standalone}")
        r = retrieve(self.index, standalone, k=k or s.k, rrf_k=s.rrf_k, encoders=self.encoders)
        t_ret = time.perf_counter()
        timings = {"retrieve_ms": (t_ret - t0) * 1000}
        base = dict(question=question, retrieved=r.hits, models=self.models, relevance=r.relevance,
                    standalone_question=standalone if standalone != question else None)
        if not r.hits or r.relevance <= 0.0 or r.relevance < s.refuse_below:
            text = REFUSAL[lang]
            yield Event("token", text)
            timings.update(first_token_ms=(time.perf_counter() - t0) * 1000, total_ms=(time.perf_counter() - t0) * 1000)
            yield Event("answer", answer=Answer(answer=text, refused=True, citations=[], timings=timings, **base))
            return
        context = r.hits[: s.context_k]
        sents = self._sentences(context, r.query_vectors)
        passages = [self._passage_text(h, sents, i, standalone) for i, h in enumerate(context, start=1)]
        prompt = (chat_messages(standalone, passages, lang=lang) if self.llm.chat
                  else fewshot_prompt(standalone, passages, lang=lang))
        raw, first = "", None
        for tok in self.llm.stream(prompt, max_tokens=s.max_tokens, stop=STOP):
            if first is None:
                first = time.perf_counter()
            raw += tok
            yield Event("token", tok)
        text, extractive = self._finish(clean_generation(raw, question=standalone), standalone, context, sents, lang)
        cites = self._citations(text, standalone, context, sents)
        t_end = time.perf_counter()
        timings.update(first_token_ms=((first or t_end) - t0) * 1000, total_ms=(t_end - t0) * 1000)
        yield Event("answer", answer=Answer(answer=text, refused=False, citations=cites, timings=timings,
                                            extractive=extractive, **base))

    # -- helpers --
    def _sentences(self, context: list[Hit], qvecs: dict) -> list[cit.Sentence]:
        """Candidate evidence sentences of the context passages, with dense scores."""
        sents = cit.candidate_sentences([(h.chunk.start, h.chunk.end, h.chunk.text, h.chunk.header) for h in context])
        if not qvecs:
            return sents
        name, qvec = next(iter(qvecs.items()))
        _, vectors = self.index.dense[name]
        if self._row_of is None:  # built once: (chunk id, start, end) -> dense row
            self._row_of = {(int(r[0]), int(r[1]), int(r[2])): i for i, r in enumerate(self.index.rows)}
        by_span = self._row_of
        out = []
        for snt in sents:
            cid = context[snt.passage - 1].chunk.id
            i = by_span.get((cid, snt.start, snt.end))
            dense = float(vectors[i] @ qvec) if i is not None else 0.0
            out.append(cit.Sentence(snt.passage, snt.start, snt.end, snt.text, dense, snt.about))
        return out

    def _passage_text(self, hit: Hit, sents: list[cit.Sentence], n: int, question: str) -> str:
        """What the LLM sees for a passage: its context header and its best sentences."""
        chunk = hit.chunk
        head = chunk.header or chunk.title  # title | section | speaker | question
        body = chunk.text
        mine = [x for x in sents if x.passage == n]
        if len(body) > 450 and len(mine) > 2:
            ranked = sorted(mine, key=lambda x: cit.score_sentence(x, question=question, answer=""), reverse=True)[:2]
            body = " (…) ".join(x.text for x in sorted(ranked, key=lambda x: x.start))
        return f"{head} : {' '.join(body.split())}"

    def _finish(self, text: str, question: str, context: list[Hit], sents, lang: str) -> tuple[str, bool]:
        """Repair markers; when the answer is not grounded in the passages, answer with the
        best evidence sentence instead of the model's words. Returns (text, extractive)."""
        text = cit.drop_invalid_markers(text, len(context))
        passages_text = " ".join(h.chunk.indexed_text for h in context)
        if not cit.strip_markers(text) or cit.grounding(text, question, passages_text) < self.settings.grounding_min:
            quoted = cit.extractive_answer(sents, question=question, lead=EXTRACTIVE_LEAD[lang])
            if quoted is not None:
                return quoted, True
        if not cit.markers(text):
            text = cit.attach_markers(text, sents, question=question)
        return text, False

    def _citations(self, text: str, question: str, context: list[Hit], sents) -> list[Citation]:
        out = []
        for n in cit.markers(text):
            best = cit.best_sentence(sents, question=question, answer=text, passage=n)
            chunk = context[n - 1].chunk
            if best is None:
                out.append(Citation(n=n, chunk=chunk, evidence=chunk.text, evidence_start=chunk.start,
                                    evidence_end=chunk.end))
            else:
                out.append(Citation(n=n, chunk=chunk, evidence=best.text, evidence_start=best.start,
                                    evidence_end=best.end))
        return out

