"""Text generators behind one small protocol, with one registry (name → factory).

``llama.cpp`` runs a GGUF in-process. Whether a model wants a chat template or a raw completion
prompt is read from the GGUF's own metadata (``tokenizer.chat_template``), never its file name.
Chat messages are rendered to one prompt string, so consecutive prompts that share a prefix
(the instructions, the passages) reuse llama.cpp's evaluated cache.
"""

from __future__ import annotations

import atexit
import functools
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol, runtime_checkable

import numpy as np

from .errors import ModelNotFoundError, RagError

if TYPE_CHECKING:
    from .settings import Settings


@dataclass
class FirstTokenProbe:
    """Reads the first generated token's distribution: ``p`` is the probability that the answer
    starts with one of ``spellings`` (e.g. "NOT" of "NOT FOUND"); with ``ban`` those tokens
    cannot start it, so the caller decides with ``p`` and a calibrated threshold instead of
    the model's argmax. A generator that cannot read probabilities leaves ``p`` None."""

    spellings: list[str]
    ban: bool = True
    p: float | None = field(default=None)
    # tokens the answer may not start with either (a citation marker before any words: a small
    # model then writes "[1] NOT FOUND"); only where the first step alone can be constrained
    never_first: list[str] = field(default_factory=list)
    # one-token choices (e.g. "0".."4"): ``shares`` holds the probability of each as the first token
    options: list[str] = field(default_factory=list)
    shares: list[float] | None = field(default=None)


class Generator(Protocol):
    name: str
    chat: bool  # True: instruction-tuned with a chat template; False: raw completion

    def render(self, messages: list[dict]) -> str:
        """Chat messages → one prompt string ending where the assistant starts."""

    def stream(self, prompt: str, *, max_tokens: int, stop: list[str],
               probe: FirstTokenProbe | None = None, temperature: float | None = None) -> Iterator[str]:
        """Tokens of a continuation of ``prompt`` (greedy unless ``temperature`` says otherwise);
        ``probe`` is filled before the first."""

    def warm(self, prefix: str, *, cache_dir: Path | None = None) -> None:
        """Evaluate a prompt prefix every question shares (instructions, examples) now, or
        load it from ``cache_dir`` where an earlier process saved it."""


@runtime_checkable
class Scorer(Protocol):
    """A generator that can also read how likely a text is (an in-process model; a server
    backend need not)."""

    def likelihood(self, prefix: str, target: str) -> float:
        """Mean log-probability of ``target``'s tokens after ``prefix`` (no generation)."""


GENERATORS: dict[str, Callable[["Settings"], Generator]] = {}


def register_generator(name: str, factory: Callable[["Settings"], Generator]) -> None:
    """Make a backend selectable by ``settings.llm_backend`` (tests register fakes here)."""
    GENERATORS[name] = factory


def get_generator(settings: "Settings") -> Generator:
    """The generator ``settings.llm_backend`` names, built from the settings."""
    if settings.llm_backend == "openai" and "openai" not in GENERATORS:
        from . import llm_openai  # noqa: F401 - registers itself
    try:
        factory = GENERATORS[settings.llm_backend]
    except KeyError:
        raise RagError(f"unknown LLM backend {settings.llm_backend!r} (RAG_LLM_BACKEND); choose from: "
                       f"{', '.join(sorted({*GENERATORS, 'openai'}))}") from None
    return factory(settings)


_LOADED: "weakref.WeakSet[LlamaGenerator]" = weakref.WeakSet()


@atexit.register
def _free_models() -> None:
    """Free the loaded models while llama.cpp is still there: freed at interpreter teardown, after
    its globals, each prints "Exception ignored in Llama.__del__" (pytest's exit showed three)."""
    for gen in list(_LOADED):
        gen._llm.close()


class LlamaGenerator:
    """One GGUF model in-process; the lock keeps concurrent sessions off the single context."""

    def __init__(self, path: Path, *, name: str, n_ctx: int, n_threads: int, seed: int,
                 temperature: float, verbose: bool, prompt_style: str = "auto"):
        try:
            from llama_cpp import Llama  # lazy: native library
        except ImportError as err:
            raise ModelNotFoundError(f"llama-cpp-python is not installed ({err}): pip install llama-cpp-python") from None
        self.name = name
        self.temperature = temperature
        self.lock = threading.Lock()
        try:
            self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                              n_threads_batch=n_threads, seed=seed, verbose=verbose, n_batch=512)
        except (ValueError, RuntimeError) as err:
            raise ModelNotFoundError(f"could not load GGUF model {path}: {err}") from None
        _LOADED.add(self)
        template = self._llm.metadata.get("tokenizer.chat_template")
        self.chat = bool(template) if prompt_style == "auto" else prompt_style == "chat"
        self._formatter = None
        if self.chat and template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            text = self._llm._model.token_get_text  # token id → its text, for the template
            eos, bos = self._llm.token_eos(), self._llm.token_bos()
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=text(eos) if eos != -1 else "",
                                                  bos_token=text(bos) if bos != -1 else "")
        self._token_ids: dict[str, list[int]] = {}

    def render(self, messages: list[dict]) -> str:
        if self._formatter is None:  # no template: a plain transcript
            return "\n\n".join(m["content"] for m in messages) + "\n\n"
        return self._formatter(messages=messages).prompt

    def warm(self, prefix: str, *, cache_dir: Path | None = None) -> None:
        import ctypes
        import hashlib

        import llama_cpp

        llm = self._llm
        tokens = llm.tokenize(prefix.encode("utf-8"), add_bos=False, special=True)
        with self.lock:
            if list(llm.input_ids[: llm.n_tokens][: len(tokens)]) == tokens:
                return  # already evaluated in this process
            key = hashlib.sha256(f"{llm.model_path}|{llm.n_ctx()}|{prefix}".encode()).hexdigest()[:24]
            path = cache_dir / f"prefix-{key}.kv" if cache_dir else None
            ctx = llm._ctx.ctx
            if path is not None and path.is_file():
                data = path.read_bytes()
                buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
                if llama_cpp.llama_state_set_data(ctx, buf, len(data)) == len(data):
                    llm.input_ids[: len(tokens)] = tokens
                    llm.n_tokens = len(tokens)
                    return
            llm.reset()
            llm.eval(tokens)
            if path is not None:
                size = llama_cpp.llama_state_get_size(ctx)
                buf = (ctypes.c_uint8 * size)()
                n = llama_cpp.llama_state_get_data(ctx, buf, size)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".partial")
                tmp.write_bytes(bytes(buf)[:n])
                tmp.replace(path)

    def likelihood(self, prefix: str, target: str) -> float:
        """Mean log-probability of ``target``'s tokens after ``prefix``, in one forward pass with
        logits read only at the target's positions (``logits_all`` would compute them for every
        token of every prompt). The evaluated state is dropped: the next prompt starts afresh."""
        llm = self._llm
        head = llm.tokenize(prefix.encode("utf-8"), add_bos=True, special=True)
        tail = llm.tokenize(target.encode("utf-8"), add_bos=False, special=False)
        tokens = (head + tail)[-llm.n_ctx():]
        first = len(tokens) - len(tail)
        if not tail or first < 1:
            return 0.0
        with self.lock:
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            llm.n_tokens = 0
            total, vocab = 0.0, llm.n_vocab()
            wanted = range(first - 1, len(tokens) - 1)  # positions whose next token is a target token
            for start in range(0, len(tokens), llm.n_batch):  # the batch API's own chunking
                part = tokens[start:start + llm.n_batch]
                llm._batch.set_batch(batch=part, n_past=start, logits_all=False)
                for i in range(len(part)):
                    llm._batch.batch.logits[i] = start + i in wanted
                llm._ctx.decode(llm._batch)
                for i in (i for i in range(len(part)) if start + i in wanted):
                    z = np.ctypeslib.as_array(llm._ctx.get_logits_ith(i), shape=(vocab,)).astype(np.float64)
                    top = z.max()
                    total += z[tokens[start + i + 1]] - top - np.log(np.exp(z - top).sum())
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        return total / len(tail)

    def _first_token(self, spelling: str) -> int:
        if spelling not in self._token_ids:
            self._token_ids[spelling] = self._llm.tokenize(spelling.encode("utf-8"), add_bos=False, special=False)[:1]
        return self._token_ids[spelling][0]

    def stream(self, prompt: str, *, max_tokens: int, stop: list[str],
               probe: FirstTokenProbe | None = None, temperature: float | None = None) -> Iterator[str]:
        processors = None
        if probe is not None:
            from llama_cpp import LogitsProcessorList

            ids = sorted({self._first_token(s) for s in probe.spellings})
            banned = sorted({*ids, *(self._first_token(s) for s in probe.never_first)}) if probe.ban else []
            choices = [self._first_token(o) for o in probe.options]
            step = {"n": 0}

            def first_step(_input_ids, logits):
                if step["n"] == 0:
                    z = np.asarray(logits, dtype=np.float64)
                    e = np.exp(z - z.max())
                    probe.p = float(e[ids].sum() / e.sum())
                    if choices:
                        probe.shares = [float(e[c] / e.sum()) for c in choices]
                    if banned:
                        logits[banned] = -np.inf
                step["n"] += 1
                return logits

            processors = LogitsProcessorList([first_step])
        with self.lock:
            it = self._llm.create_completion(prompt, max_tokens=max_tokens, stop=stop,
                                             temperature=self.temperature if temperature is None else temperature,
                                             stream=True, repeat_penalty=1.1, logits_processor=processors)
            for part in it:
                text = part["choices"][0]["text"]
                if text:
                    yield text


def _llama_from(settings: "Settings") -> "LlamaGenerator":
    from .models import resolve_llm

    s = settings
    return _llama(path=str(resolve_llm(s.llm, models_dir=s.models_dir)), name=s.llm, n_ctx=s.n_ctx,
                  n_threads=s.n_threads, seed=s.seed, temperature=s.temperature, verbose=s.verbose,
                  prompt_style=s.prompt_style)


register_generator("llama.cpp", _llama_from)


@functools.lru_cache(maxsize=4)
def _llama(*, path: str, name: str, n_ctx: int, n_threads: int, seed: int, temperature: float,
           verbose: bool, prompt_style: str) -> LlamaGenerator:
    """Load a GGUF model once per process and set of parameters."""
    return LlamaGenerator(Path(path), name=name, n_ctx=n_ctx, n_threads=n_threads, seed=seed,
                          temperature=temperature, verbose=verbose, prompt_style=prompt_style)
