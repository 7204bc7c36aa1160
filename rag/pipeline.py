"""The one place that wires the modules together:
question → standalone question → hybrid retrieval → refusal signals → sentence selection →
either (answer style 'quote') the sentences that answer, quoted, translated by the LLM into the
question's language → Answer; or ('prose') prompt → LLM (streamed, first token read as the
answerability judgement) → support check per answer sentence (cross-lingual) → citations with
their supporting sentence (quotes when none holds) → Answer.

CLI, UI and eval are thin callers of ``Pipeline``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterator

from . import citations as cit
from . import compose, support, verify
from .errors import EmptyQuestionError, QuestionTooLongError, RagError
from .followup import accept_rewrite, is_followup, rewrite_messages, standalone_question
from .index import IndexData, ensure_index
from .llm import FirstTokenProbe, Scorer
from .models import TIERS
from .models import tuned as model_values
from .prompt import (NEVER_FIRST, NOT_FOUND_SPELLINGS, REFUSAL, STOP, chat_messages, clean_generation,
                     clean_translation, detect_language, fewshot_prompt, is_not_found, pick_messages, pick_options,
                     question_likelihood_prefix, translation_messages, translation_units, trim_unfinished)
from .lexical import tokenize
from .records import Answer, Citation, Hit
from .refusal import (Signals, asks_for, counted, counted_numbers, decide, gives, is_nonsense, names_role,
                      role_asked, shared, shares_of)
from .retrieve import known_word, missing_name, missing_number, retrieve, unquoted_name
from .settings import Settings
from .wordvectors import WordVectors, same_form

# least cosine between a word next to a number and the noun a "how many" question counts
# ("calls" ~ "appels" 0.75, "employees" ~ "salariés" 0.84; "employees" ~ "agents" 0.51)
UNIT_MATCH_MIN = 0.7
# kinds of answer (``refusal.asks_for``) that few sentences give, so one that gives it is marked
# (``Sentence.counts``) as a sentence that counts what "how many X?" counts is, and reaches the
# sentences shown (a share: five sentences of the articles hold a percentage); not a sum, as the
# one sum of a passage then answered "how much does a call cost?"
RARE_KINDS = ("duration", "age", "percent")
# kinds of answer that most sentences give (a name: "Les appels ont été émis de partout en France."):
# the best of the quotes the ranker picks must give it (or the question is refused), no other
# sentence is searched for one
COMMON_KINDS = ("name",)
PICK_CHOICES = 4  # sentences the second model picks among (``_pick``)
EXTRACTIVE_LEAD = {"en": "The articles say (quoted in French):", "fr": "D'après les articles :"}
TRANSLATED_LEAD = {"en": "The articles say (machine-translated from French):",
                   "fr": "D'après les articles (traduit automatiquement de l'anglais) :"}


@dataclass
class Event:
    """A streamed event. ``kind``: 'status' (a rewritten question), 'token' (the model's raw words, a
    draft), 'sentence' (verified answer text, final: the sentences joined give ``Answer.answer``) or
    'answer' (the finished Answer record)."""

    kind: str
    text: str = ""
    answer: Answer | None = None


class Pipeline:
    def __init__(self, settings: Settings, *, index: IndexData | None = None, llm=None,
                 encoders: dict | None = None, progress: Callable[[str], None] | None = None, fallback_llm=None,
                 translator_llm=None):
        self.settings = settings
        self.index = index or ensure_index(settings, progress=progress)
        self._encoders = encoders
        self._llm = llm
        self._retrievers: tuple | None = None  # (index, its retrievers)
        self._warmed = False
        self._rewrite_prefix: str | None = None  # the follow-up rewrite prompt's fixed part (followup='llm')
        self._words: WordVectors | None = None  # word vectors (support by words, "how many X")
        # the second translation model: None not loaded yet, False none; a pipeline handed its model
        # (``llm``) is handed its second one too, or has none
        self._fallback = fallback_llm if fallback_llm is not None else (None if llm is None else False)
        self._fallback_error: str | None = None
        # the model that translates quotes: None not loaded yet, False the answer model (as for the
        # second model, a pipeline handed its model is handed this one too, or has none)
        self._translator = translator_llm if translator_llm is not None else (None if llm is None else False)
        self._translator_error: str | None = None
        self._extra: dict[str, object] = {}  # models besides the answer model, by name

    def reload_index(self) -> None:
        """Pick up an index rebuilt after documents were added or removed (models stay loaded)."""
        self.index = ensure_index(self.settings)  # answers under way keep the index they started with

    def retrievers(self, index: IndexData) -> list:
        """The retrievers of an index (settings ``retrievers``), made once per index."""
        from .retrieve import make_retrievers

        if self._retrievers is None or self._retrievers[0] is not index:
            names = self.settings.retriever_list
            self._retrievers = (index, make_retrievers(index, names, self.settings, self.encoders))
        return self._retrievers[1]

    # -- lazily loaded heavy parts (once per process) --
    @property
    def encoders(self) -> dict:
        if self._encoders is None:
            from .embedders import get_embedder

            names = self.settings.embedder_list if self.settings.needs_dense else []
            self._encoders = {n: get_embedder(n) for n in names}
        return self._encoders

    @property
    def llm(self):
        if self._llm is None:
            from .llm import get_generator

            self._llm = get_generator(self.settings)
        return self._llm

    @property
    def fallback_llm(self):
        """The second model that translates a quote again when the first translation fails its
        check (settings ``translation_fallback``: the answer model when it names it) and, opt-in,
        picks the sentence to quote (``_pick``), loaded on first use; None when there is none or it
        cannot be loaded (``_fallback_error`` says why; the original is quoted)."""
        name = str(self.settings.tuned("translation_fallback") or "")
        if not name or name.lower() == "none" or self.settings.llm_backend != "llama.cpp" or self._fallback is False:
            return None
        if self._fallback is None:
            try:
                self._fallback = self._extra_model(name)
            except RagError as e:
                self._fallback, self._fallback_error = False, f"no second translation model ({e})"
                return None
        return self._fallback

    @property
    def translator_llm(self):
        """The model that translates quotes (settings ``translation_model``): another model when one
        is named, loaded on first use, else the answer model; the answer model too when the named
        one cannot be loaded (``_translator_error`` says why)."""
        name = self._translator_name()
        if not name or self._translator is False:
            return self.llm
        if self._translator is None:
            try:
                self._translator = self._extra_model(name)
            except RagError as e:
                self._translator, self._translator_error = False, f"no translation model ({e}): the answer model translates"
                return self.llm
        return self._translator

    def _translator_name(self) -> str:
        name = str(self.settings.tuned("translation_model") or "")
        return "" if name.lower() == "none" or self.settings.llm_backend != "llama.cpp" else name

    def _extra_model(self, name: str):
        """A model named besides the answer model (tier, packaged name or GGUF path): the answer
        model itself when the name is its own (the balanced tier's second translation model), else
        loaded once per process and name (the translating and the second model may be one);
        RagError when it cannot be."""
        if TIERS.get(name, name) == TIERS.get(self.settings.llm, self.settings.llm):
            return self.llm
        if name not in self._extra:
            from .llm import get_generator

            self._extra[name] = get_generator(self.settings.model_copy(
                update={"llm": name, "translation_fallback": "", "translation_model": ""}))
        return self._extra[name]

    def _translation_floor(self, name: str) -> float:
        """The least cosine a translation must keep with its original (settings ``translation_min``),
        by default the value of the model that translated (``name``; '': the answer model)."""
        s = self.settings
        if s.translation_min is not None:
            return s.translation_min
        return float(model_values(name)["translation_min"]) if name else float(s.tuned("translation_min"))

    @property
    def llm_loaded(self) -> bool:
        return self._llm is not None

    def warm_up(self) -> None:
        """Load encoders and LLM, and evaluate the prompt prefix, now rather than on the first
        question. Quoted answers have no answer prompt: the LLM is loaded only to translate."""
        if self.settings.tuned("answer_style") != "quote":
            self._warm_prefix()
        elif self.settings.translate_quotes:
            _ = self.llm, self.translator_llm
        for enc in self.encoders.values():
            enc.encode(["warm up"])

    def _warm_prefix(self) -> None:
        """The instructions and examples every prompt starts with: evaluated once per process,
        or loaded from the cache an earlier process saved under models_dir/cache."""
        if self._warmed:
            return
        two = [("a?", ["x"]), ("b?", ["y"])]
        if self.llm.chat:
            renders = [self.llm.render(chat_messages(q, p, lang="en", examples=self._examples)) for q, p in two]
        else:
            renders = [fewshot_prompt(q, p, lang="en") for q, p in two]
        self.llm.warm(os.path.commonprefix(renders), cache_dir=self.settings.models_dir / "cache")
        self._warmed = True

    @property
    def models(self) -> dict:
        return {"llm": self.settings.llm, "embedder": "+".join(
            (["bm25"] if "bm25" in self.settings.retriever_list else [])
            + (["qdrant"] if "qdrant" in self.settings.retriever_list else [])
            + (self.settings.embedder_list if self.settings.needs_dense else []))}

    # -- the flow --
    def validate(self, question: str) -> str:
        if question is None or not question.strip():
            raise EmptyQuestionError("the question is empty: type a question about the articles")
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLongError(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars} (RAG_MAX_QUESTION_CHARS)")
        return question.strip()

    def ask(self, question: str, **options) -> Answer:
        """The finished answer; ``options`` are those of ``stream``."""
        answer = None
        for ev in self.stream(question, **options):
            if ev.kind == "answer":
                answer = ev.answer
        return answer

    def stream(self, question: str, *, history: list[str] | None = None, k: int | None = None,
               language: str | None = None, max_tokens: int | None = None,
               temperature: float | None = None) -> Iterator[Event]:
        s = self.settings
        cap = max_tokens or s.max_tokens
        t0 = time.perf_counter()
        question = self.validate(question)
        timings: dict[str, float] = {}
        standalone = self._standalone(question, history or [], timings)
        lang = language if language in ("fr", "en") else (
            s.answer_language if s.answer_language != "auto" else detect_language(question))
        if standalone != question:
            yield Event("status", f"standalone question: {standalone}")
        index = self.index  # one index for the whole answer, even if documents change meanwhile
        retrievers = self.retrievers(index)
        t_retrieve = time.perf_counter()
        r = retrieve(retrievers, index.chunks, standalone, k=k or s.k, rrf_k=s.rrf_k)
        timings["retrieve_ms"] = (time.perf_counter() - t_retrieve) * 1000
        base = dict(question=question, retrieved=r.hits, models=self.models, relevance=r.relevance, language=lang,
                    standalone_question=standalone if standalone != question else None)
        signals = Signals(relevance=r.relevance if r.hits else 0.0, nonsense=is_nonsense(standalone, known=lambda w: known_word(retrievers, w)),
                          # the numbers the user wrote, not those a follow-up's context carried over
                          missing_number=bool(r.hits) and missing_number(question, r.hits),
                          missing_names=tuple(sorted(missing_name(standalone, r.hits, index.chunks))) if r.hits else ())
        limits = {"relevance_min": s.tuned("refuse_below"), "not_found_max": s.tuned("not_found_max")}
        decision = decide(signals, **limits)
        if not r.hits or decision.refused:
            yield from self._refuse(lang, decision.reason or "nothing retrieved", t0, timings, base)
            return
        t_select = time.perf_counter()
        sents = self._sentences(retrievers, r.hits, standalone)
        kind = asks_for(standalone)  # a figure or a date: an answer without one does not answer
        # "how many X?": a number of X answers; "what share of X?": a share of X
        units = counted(standalone) if kind == "number" else shared(standalone) if kind == "percent" else ()
        tallies: set[float] = set()  # the numbers of what the question counts in the passages
        if units:
            same = self._same_word()
            count = shares_of if kind == "percent" else counted_numbers
            found = [count(x.text, units, same=same) for x in sents]
            tallies = set().union(*found)
            sents = [replace(x, counts=bool(n)) for x, n in zip(sents, found)]
        elif kind in RARE_KINDS:  # as rare as a number of X, and as sure a sign of the answer
            sents = [replace(x, counts=gives(kind, x.text, question=standalone)) for x in sents]
        picked, p_none = self._pick(sents, standalone, timings)
        if p_none >= s.tuned("pick_refuse"):
            yield from self._refuse(lang, f"no sentence answers (the second model's P(none)={p_none:.2f})",
                                    t0, timings, base)
            return
        excerpts = compose.select(sents, r.hits, question=standalone, budget_chars=int(s.tuned("context_chars")),
                                  must=picked)
        timings["select_ms"] = (time.perf_counter() - t_select) * 1000
        if not excerpts:  # every sentence was filtered out (planted instructions only)
            yield from self._refuse(lang, "no usable passage", t0, timings, base)
            return

        def complete(answer: str) -> bool:
            """The answer holds the kind of thing asked for; for "how many X?", a number of X
            that the passages give (not another of their figures)."""
            return gives(kind, answer, question=standalone) and (not units or bool(support.numbers(answer) & tallies))

        quoting = dict(kind=kind, units=units, complete=complete, timings=timings, asked=question, chunks=index.chunks,
                       first=picked)
        if s.tuned("answer_style") == "quote":  # no answer prompt: the sentences that answer, quoted
            quoted = yield from self._quoted_answer(excerpts, standalone, lang, t0=t0, draft=True, **quoting)
            if isinstance(quoted, str):
                yield from self._refuse(lang, quoted, t0, timings, base)
                return
            text, cites, translated = quoted
            timings["first_sentence_ms"] = (time.perf_counter() - t0) * 1000
            yield Event("sentence", text)
            t_end = time.perf_counter()
            timings.setdefault("first_token_ms", timings["first_sentence_ms"])
            timings["total_ms"] = (t_end - t0) * 1000
            yield Event("answer", answer=Answer(answer=text, refused=False, citations=cites, timings=timings,
                                                extractive=True, translated=translated, **base))
            return
        self._warm_prefix()
        texts = [e.prompt_text for e in excerpts]
        prompt = (self.llm.render(chat_messages(standalone, texts, lang=lang, examples=self._examples)) if self.llm.chat
                  else fewshot_prompt(standalone, texts, lang=lang))
        probe = FirstTokenProbe(NOT_FOUND_SPELLINGS, never_first=NEVER_FIRST) if self.llm.chat else None

        # (tried: the rule only where question and excerpts share a language, as the sentence ranking
        # is weaker across languages; the same share correct on eval/calibration.jsonl, 2 answers
        # fewer on the held-out and conversation sets, with the word support below: not adopted)
        n_anchors = int(s.tuned("anchor_sentences"))
        checker = verify.AnswerChecker(excerpts, question=standalone, similarity=self._similarity(),
                                       min_similarity=s.tuned("support_min"), complete=complete,
                                       anchors=compose.anchors(excerpts, question=standalone, n=n_anchors)
                                       if n_anchors else None, coverage=self._coverage(standalone),
                                       min_coverage=s.tuned("support_coverage") or None)
        feed = verify.SentenceFeed()
        raw, first, n_tokens = "", None, 0
        for tok in self.llm.stream(prompt, max_tokens=cap, stop=STOP, probe=probe, temperature=temperature):
            n_tokens += 1
            if first is None:
                first = time.perf_counter()
                decision = decide(Signals(**{**vars(signals), "not_found": probe and probe.p}), **limits)
                if decision.refused:
                    break
            raw += tok
            yield Event("token", tok)
            partial = clean_generation(raw, question=standalone)
            if not is_not_found(partial):
                yield from self._checked(checker, feed.finished(partial), timings, t0)
        p_not = None if probe is None else probe.p
        text = clean_generation(raw, question=standalone)
        if n_tokens >= cap:  # cut by the cap
            text = trim_unfinished(text)
        # a model whose "not found" is calibrated (not_found_max < 1) is believed; one whose
        # judgement says nothing (the 0.5B: it writes NOT FOUND for a third of the answerable
        # questions) gets the quote fallback, as for any unsupported answer
        believed = limits["not_found_max"] < 1.0
        if not checker.kept and (decision.refused or (believed and is_not_found(text))):
            yield from self._refuse(lang, decision.reason or "the model found no answer", t0, timings, base,
                                    not_found=p_not)
            return
        generated = text
        if not is_not_found(text):
            yield from self._checked(checker, feed.finished(text, final=True), timings, t0)
        checker.finish()
        text, cites = checker.answer, checker.citations
        extractive, translated = not cites, False
        if extractive:
            if p_not is not None and p_not >= s.tuned("not_found_unsupported"):
                yield from self._refuse(lang, f"no supported answer (P(NOT FOUND)={p_not:.2f})", t0, timings, base,
                                        not_found=p_not)
                return
            hint = "" if is_not_found(generated) else cit.strip_markers(generated)
            quoted = yield from self._quoted_answer(excerpts, standalone, lang, hint=hint, t0=t0, **quoting)
            if isinstance(quoted, str):
                yield from self._refuse(lang, quoted, t0, timings, base, not_found=p_not)
                return
            text, cites, translated = quoted
            timings["first_sentence_ms"] = (time.perf_counter() - t0) * 1000
            yield Event("sentence", text)
        dropped, checks = checker.dropped, checker.checks
        t_end = time.perf_counter()
        timings.update(first_token_ms=((first or t_end) - t0) * 1000, total_ms=(t_end - t0) * 1000)
        yield Event("answer", answer=Answer(answer=text, refused=False, citations=cites, timings=timings,
                                            extractive=extractive, translated=translated, not_found=p_not,
                                            dropped=dropped,
                                            support=checks, generated=generated, **base))

    # -- helpers --
    @property
    def _examples(self) -> int:
        """Solved examples in the chat prompt (settings ``examples``, else the model's value)."""
        return int(self.settings.tuned("examples"))

    def _standalone(self, question: str, history: list[str], timings: dict) -> str:
        """The question as it reads alone. Only a question that needs the conversation is
        rewritten: by the rules, or (settings ``followup='llm'``, instruction-tuned models) by the
        model, checked by ``accept_rewrite``, with the rules when its rewrite is rejected."""
        if not history or not is_followup(question):
            return question
        if self.settings.followup == "rules" or not self.llm.chat:
            return standalone_question(question, history)
        t = time.perf_counter()
        # the rules and examples every rewrite prompt starts with, evaluated once and cached like
        # the answer's; switching back to the answer's prefix reloads that one from the cache
        if self._rewrite_prefix is None:
            self._rewrite_prefix = os.path.commonprefix(
                [self.llm.render(rewrite_messages(q, [h])) for q, h in (("a?", "x"), ("b?", "y"))])
        self.llm.warm(self._rewrite_prefix, cache_dir=self.settings.models_dir / "cache")
        self._warmed = False
        out = "".join(self.llm.stream(self.llm.render(rewrite_messages(question, history)),
                                      max_tokens=min(96, len(question) // 2 + 48), stop=["\n", *STOP],
                                      temperature=0.0))
        timings["rewrite_ms"] = (time.perf_counter() - t) * 1000
        return accept_rewrite(out, question, history) or standalone_question(question, history)

    def _refuse(self, lang: str, reason: str, t0: float, timings: dict, base: dict,
                not_found: float | None = None) -> Iterator[Event]:
        text = REFUSAL[lang]
        now = (time.perf_counter() - t0) * 1000
        timings.update(first_token_ms=timings.get("first_token_ms", now), first_sentence_ms=now, total_ms=now)
        yield Event("token", text)
        yield Event("sentence", text)
        yield Event("answer", answer=Answer(answer=text, refused=True, citations=[], timings=timings,
                                            refusal_reason=reason, not_found=not_found, **base))

    def _similarity(self) -> Callable[[str, list[str]], list[float]]:
        """Cosines in the multilingual space of the first dense encoder (term overlap without one).
        One function per answer: each text is encoded once, however many claims it is checked against."""
        if not self.encoders:
            return lambda text, candidates: [cit.overlap(set(tokenize(text)), c) for c in candidates]
        enc = next(iter(self.encoders.values()))
        vectors: dict[str, object] = {}

        def cosines(text: str, candidates: list[str]) -> list[float]:
            new = [t for t in dict.fromkeys([text, *candidates]) if t not in vectors]
            if new:
                vectors.update(zip(new, enc.encode(new)))
            return [float(vectors[c] @ vectors[text]) for c in candidates]

        return cosines

    @property
    def words(self) -> WordVectors | None:
        """Word vectors of the first dense encoder, shared by every answer (None without one)."""
        if self._words is None and self.encoders:
            self._words = WordVectors(next(iter(self.encoders.values())))
        return self._words

    def _coverage(self, question: str) -> Callable[[str, str], float] | None:
        """``support.word_coverage`` with the encoder's word vectors (None without an encoder)."""
        words, floor = self.words, self.settings.tuned("word_match_min")
        return None if words is None else lambda claim, sentence: support.word_coverage(
            claim, sentence, question=question, word_similarity=words.similarity, min_word_similarity=floor)

    def _near(self) -> Callable[[list[str]], list[list[str]]] | None:
        """For each word, the document words closest to it, as retrieval searches them
        (``retrieve.expander``); None without a term table or an encoder."""
        from .retrieve import expander

        found = expander(self.index, self.settings, self.encoders)
        return None if found is None else found.near

    def _same_word(self) -> Callable[[str, str], bool]:
        """Whether a word next to a number names what a "how many" question counts
        (``refusal.counted_numbers``): the same word in any form, or (with an encoder) a close one."""
        words = self.words
        if words is None:
            return same_form
        return lambda word, unit: words.same(word, unit, min_similarity=UNIT_MATCH_MIN)

    @staticmethod
    def _checked(checker: verify.AnswerChecker, claims: list[str], timings: dict, t0: float) -> Iterator[Event]:
        """Verified sentences as they are finished: what a caller may show as final."""
        for claim in claims:
            shown = checker.check(claim)
            if shown is not None:
                timings.setdefault("first_sentence_ms", (time.perf_counter() - t0) * 1000)
                yield Event("sentence", shown if len(checker.kept) == 1 else " " + shown)

    def _quoted_answer(self, excerpts: list[compose.Excerpt], question: str, lang: str, *, kind: str | None,
                       units: tuple, complete: Callable[[str], bool], timings: dict, t0: float,
                       asked: str, chunks, hint: str = "", draft: bool = False,
                       first: cit.Sentence | None = None) -> Iterator[Event]:
        """The answer as quotes of the sentences that answer, in the question's language when the
        model can translate them (with ``draft``, the translations stream as draft tokens). Returns (text,
        citations, translated?), or the reason to refuse when no shown sentence gives what the
        question asks for, or the quoted passages are about something else than a name the user
        asked about (``asked``: the user's words; ``retrieve.unquoted_name`` reads ``chunks``, the
        index's, for the passages around the quotes)."""
        # a question that asks for a figure, a share, a sum or a date is answered by a sentence
        # that gives one (for "how many X?", a number of X), not by the best-matching other one;
        # "who is the CEO of X?" by a sentence that names the role (or is spoken under a speaker
        # line that does), not by another sentence about X
        role = role_asked(question)
        tests: list[Callable[[cit.Sentence], bool]] = []
        if units or kind in RARE_KINDS:  # set on the sentences by ``stream``
            tests.append(lambda x: x.counts)
        elif kind and kind not in COMMON_KINDS:
            tests.append(lambda x: gives(kind, x.text, question=question))
        if role:
            tests.append(lambda x: names_role(role, f"{x.header} {x.text}"))
        text, cites, quoted = self._quote(excerpts, question, lang, hint=hint, first=first,
                                          only=(lambda x: all(t(x) for t in tests)) if tests else None)
        if not quoted or not complete(text) or (kind in COMMON_KINDS and not gives(
                kind, cit.best_sentence(quoted, question=question, answer="").text, question=question)):
            what = (f"{'share' if kind == 'percent' else 'number'} of {' '.join(units)}" if units
                    else {"phone": "phone number"}.get(kind, kind or role))
            return f"no passage gives the {what} asked for"
        unquoted = unquoted_name(asked, [c.chunk for c in cites], chunks)
        if unquoted:
            return f"no quoted passage mentions {', '.join(sorted(unquoted))}"
        translated = False
        rendered = yield from self._translated(quoted, lang, question, timings, t0, draft=draft)
        if rendered is not None and complete(rendered):
            text, translated = rendered, True
            cites = [c for c in cites if c.n in cit.markers(text)]
        return text, cites, translated

    def _quote(self, excerpts: list[compose.Excerpt], question: str, lang: str, *, hint: str = "",
               only: Callable[[cit.Sentence], bool] | None = None,
               first: cit.Sentence | None = None) -> tuple[str, list[Citation], list[cit.Sentence]]:
        """No supported sentence: quote the sentence that answers, numbered as its excerpt (the
        model's unsupported answer, ``hint``, helps find it: +1.3 points on eval/calibration.jsonl),
        among those ``only`` accepts (default: all); ``first``, the second model's pick, first
        when ``only`` accepts it."""
        shown = compose.shown_sentences(excerpts)
        pool = [x for x in shown if only(x)] if only else shown
        if first is not None:  # the pick as shown (numbered as its excerpt), if ``only`` kept it
            first = next((x for x in pool if (x.start, x.end) == (first.start, first.end)), None)
        quoted = cit.quote_sentences(pool, question=question, n=2, hint=hint, first=first)
        text = cit.quoted_answer([(cit.quote_text(x), x.passage, False) for x in quoted],
                                 lead=EXTRACTIVE_LEAD[lang]) if quoted else ""
        cites = []
        for n in cit.markers(text):
            chunk = excerpts[n - 1].hit.chunk
            span = cit.quoted_evidence(quoted, n)
            if span:  # the document's own text of the span (a chunk is one contiguous span of it)
                start, end = span
                cites.append(Citation(n=n, chunk=chunk, evidence=chunk.text[start - chunk.start:end - chunk.start],
                                      evidence_start=start, evidence_end=end))
                continue
            best = cit.best_sentence(shown, question=question, answer=text, passage=n)
            cites.append(Citation(n=n, chunk=chunk, evidence=best.text if best else chunk.text,
                                  evidence_start=best.start if best else chunk.start,
                                  evidence_end=best.end if best else chunk.end))
        return text, cites, quoted

    def _translated(self, quoted: list[cit.Sentence], lang: str, question: str, timings: dict,
                    t0: float, *, draft: bool) -> Iterator[Event]:
        """The quotes in the question's language (settings ``translate_quotes``, chat models): each
        translated by the translating model (``translation_model``, else the answer model) and
        checked against its original (``verify.translation_problems``), a failed one translated
        again by the second model (``translation_fallback``) when that is another one;
        with ``draft`` (no draft shown yet) the translations stream as draft tokens. Returns the
        rendered quotes, or None when no quote needs it or no translation passes (the originals
        are shown)."""
        s = self.settings
        originals = [cit.quote_text(x) for x in quoted]
        sources = [detect_language(t) for t in originals]
        if not s.translate_quotes or all(src == lang for src in sources):
            return None
        first = self.translator_llm  # loads it: a chat model translates
        if not first.chat:
            return None
        if self._translator_error:
            yield Event("status", self._translator_error)
        first_name = self._translator_name() if first is not self.llm else ""
        started = time.perf_counter()
        similarity, words, pairs = self._similarity(), self.words, []
        pending = [TRANSLATED_LEAD[lang]]  # the lead goes out with the first words of a quote

        def shown(text: str) -> Iterator[Event]:
            if draft and text.strip():
                timings.setdefault("first_token_ms", (time.perf_counter() - t0) * 1000)
                yield Event("token", "".join(pending) + text)
                pending.clear()
            elif draft:
                pending.append(text)

        def translate(llm, name: str, original: str, source: str, *, streamed: bool):
            """The original translated clause by clause (a long sentence loses its end) by ``llm``
            (``name``: its name, '' for the answer model), and whether every clause passes its check."""
            parts, ok, floor = [], True, self._translation_floor(name)
            for unit in translation_units(original):
                if parts and streamed:
                    yield from shown(" ")
                out, prompt = "", llm.render(translation_messages(unit, source=source, target=lang))
                limits = dict(max_tokens=min(200, len(unit) // 2 + 24), stop=["\n", *STOP], temperature=0.0)
                for tok in llm.stream(prompt, **limits):
                    out += tok
                    if streamed:
                        yield from shown(tok)
                # a label alone ("Here is the English translation:"): the translation is on the next line
                if out.strip() and not clean_translation(out):
                    out = "".join(llm.stream(prompt + out.rstrip() + "\n", **limits))
                parts.append(verify.close_thousands(clean_translation(out), unit))
                ok = ok and not verify.translation_problems(
                    parts[-1], unit, question=question, similarity=similarity, min_similarity=floor,
                    word_similarity=words and words.similarity)
            return " ".join(parts), ok

        for x, original, source in zip(quoted, originals, sources):
            if source == lang:
                pairs.append((original, x.passage, False))
                yield from shown(f" « {original} » [{x.passage}]")
                continue
            pending.append(" “")
            translation, ok = yield from translate(first, first_name, original, source, streamed=True)
            yield from shown(f"” [{x.passage}]")
            if not ok:  # the larger model, if there is one, translates it again (not streamed: a draft was)
                second = self.fallback_llm
                if second is not None and second is not first:
                    t_second = time.perf_counter()
                    translation, ok = yield from translate(second, str(s.tuned("translation_fallback")), original,
                                                           source, streamed=False)
                    timings["translate_fallback_ms"] = timings.get("translate_fallback_ms", 0.0) + (
                        time.perf_counter() - t_second) * 1000
                elif self._fallback_error:
                    yield Event("status", self._fallback_error)
            pairs.append((translation, x.passage, True) if ok else (original, x.passage, False))
        self._warmed = False  # the answer prompt's prefix is reloaded from its cache next time
        timings["translate_ms"] = (time.perf_counter() - started) * 1000
        return cit.quoted_answer(pairs, lead=TRANSLATED_LEAD[lang]) if any(tr for _, _, tr in pairs) else None

    def _pick(self, sents: list[cit.Sentence], question: str, timings: dict) -> tuple[cit.Sentence | None, float]:
        """For a question in another language than the passages, where the sentence ranker's word
        overlap says little, and the ranker's own margin between its first two is small (quoted
        answers): the answer model reranks the ranker's best few by query likelihood (settings
        ``rerank_margin``), or else a larger model (the translating model, else the second one)
        picks the sentence that answers among the best four (``pick_margin``). Returns the pick
        (None: the ranker decides) and that model's P(none of them answers) (0 without it)."""
        s = self.settings
        rerank_max, pick_max = float(s.tuned("rerank_margin")), float(s.tuned("pick_margin"))
        if s.tuned("answer_style") != "quote" or not (rerank_max or pick_max):  # 0: never
            return None, 0.0
        cands, margin = cit.pick_candidates([x for x in sents if not support.looks_like_instruction(x.text)],
                                            question=question, n=max(PICK_CHOICES, s.rerank_k))
        if not cands or detect_language(cands[0].text) == detect_language(question):
            return None, 0.0
        if margin < rerank_max and isinstance(self.llm, Scorer):
            return self._rerank(cands[:s.rerank_k], question, timings), 0.0
        if margin >= pick_max:
            return None, 0.0
        cands = cands[:PICK_CHOICES]
        llm = self.translator_llm if self._translator_name() else None  # a larger model
        if llm is None or llm is self.llm:
            llm = self.fallback_llm
        if llm is None or llm is self.llm:
            return None, 0.0
        started = time.perf_counter()
        probe = FirstTokenProbe([], ban=False, options=pick_options(len(cands)))
        for _ in llm.stream(llm.render(pick_messages(question, [cit.quote_text(x) for x in cands])),
                            max_tokens=1, stop=[], probe=probe, temperature=0.0):
            pass
        timings["pick_ms"] = (time.perf_counter() - started) * 1000
        if not probe.shares or not sum(probe.shares):
            return None, 0.0  # a generator that cannot read probabilities
        total = sum(probe.shares)
        best = max(range(1, len(cands) + 1), key=lambda i: probe.shares[i])
        return cands[best - 1], probe.shares[0] / total

    def _rerank(self, cands: list[cit.Sentence], question: str, timings: dict) -> cit.Sentence | None:
        """The ranker's best few reordered by how likely the answer model finds the question after
        each (``citations.rerank``): the new first, or None when the ranker's first stays first."""
        started = time.perf_counter()
        likely = self._likelihoods(cands, question)
        timings["rerank_ms"] = (time.perf_counter() - started) * 1000
        best = cit.rerank(cands, likely, question=question, weight=self.settings.rerank_weight)[0]
        return None if best is cands[0] else best

    def _likelihoods(self, cands: list[cit.Sentence], question: str) -> list[float]:
        """How likely the answer model finds the question after each sentence read with its
        context header (mean log-probability per token; a ``Scorer`` model)."""
        likely = [self.llm.likelihood(question_likelihood_prefix(cit.quote_text(x), x.header), " " + question)
                  for x in cands]
        self._warmed = False  # the model's evaluated state was dropped
        return likely

    def _sentences(self, retrievers: list, context: list[Hit], question: str) -> list[cit.Sentence]:
        """Candidate evidence sentences of the retrieved passages, with the first dense
        retriever's cosine for each, alone and read with its neighbours (0 without one), and for
        those in another language than the question, the share of its fact terms they hold as one
        of their closest document words (``citations.across_languages``; without an encoder or a
        term table, by shared stems)."""
        sents = cit.candidate_sentences([(h.chunk.start, h.chunk.end, h.chunk.text, h.chunk.header) for h in context],
                                        question=question)
        near = self._near()
        if near is not None:
            sents = cit.across_languages(sents, question=question, near=near)
        dense = next((r for r in retrievers if hasattr(r, "span_scores")), None)
        if dense is None:
            return sents
        scores = dense.span_scores(question, [(context[x.passage - 1].chunk.id, x.start, x.end) for x in sents])
        sents = [replace(x, dense=sc or 0.0) for x, sc in zip(sents, scores)]
        return cit.in_context(sents, lambda texts: dense.text_scores(question, texts))
