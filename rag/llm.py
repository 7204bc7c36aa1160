"""llama-cpp-python behind a small interface: stream completion tokens under a lock.

One model per process (``get_llm`` caches it); the lock keeps concurrent UI sessions from
interleaving on the single llama.cpp context.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Iterator, Protocol

from .errors import ModelNotFoundError


class Generator(Protocol):
    name: str
    chat: bool  # True: has a chat template and wants messages; False: raw completion

    def stream(self, prompt: str | list[dict], *, max_tokens: int, stop: list[str]) -> Iterator[str]: ...


class LlamaGenerator:
    def __init__(self, path: Path, *, name: str, n_ctx: int, n_threads: int, seed: int,
                 temperature: float, verbose: bool, chat: bool):
        try:
            from llama_cpp import Llama  # lazy: native library
        except ImportError as err:
            raise ModelNotFoundError(f"llama-cpp-python is not installed ({err}): pip install llama-cpp-python") from None
        self.name = name
        self.chat = chat
        self.temperature = temperature
        self.lock = threading.Lock()
        try:
            self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                              n_threads_batch=n_threads, seed=seed, verbose=verbose, n_batch=512)
        except (ValueError, RuntimeError) as err:
            raise ModelNotFoundError(f"could not load GGUF model {path}: {err}") from None

    def stream(self, prompt, *, max_tokens: int, stop: list[str]) -> Iterator[str]:
        with self.lock:
            if isinstance(prompt, list):
                it = self._llm.create_chat_completion(
                    messages=prompt, max_tokens=max_tokens, stop=stop, temperature=self.temperature,
                    stream=True, repeat_penalty=1.1)
                for part in it:
                    text = part["choices"][0].get("delta", {}).get("content")
                    if text:
                        yield text
            else:
                it = self._llm.create_completion(
                    prompt, max_tokens=max_tokens, stop=stop, temperature=self.temperature,
                    stream=True, repeat_penalty=1.1)
                for part in it:
                    text = part["choices"][0]["text"]
                    if text:
                        yield text


@functools.lru_cache(maxsize=4)
def get_llm(path: str, *, name: str, n_ctx: int, n_threads: int, seed: int, temperature: float,
            verbose: bool, chat: bool) -> LlamaGenerator:
    """Load a GGUF model once per process and set of parameters."""
    return LlamaGenerator(Path(path), name=name, n_ctx=n_ctx, n_threads=n_threads, seed=seed,
                          temperature=temperature, verbose=verbose, chat=chat)
