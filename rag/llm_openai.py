"""The ``openai`` generator: streams from any OpenAI-compatible ``/v1/chat/completions`` server
(llama.cpp's server, vLLM, Ollama, a hosted endpoint).

The prompt this backend renders is the chat messages themselves (as JSON): the server applies
its model's template. The first-token probe is read from ``top_logprobs`` of a one-token request
when the server returns them; the answer is then generated with the refusal's first tokens
banned through ``logit_bias`` (llama.cpp's server accepts token strings; a server that refuses
them is asked again without, and the model's own "NOT FOUND" is then read from its text).
``logit_bias`` holds for every token, not only the first as in-process, so the probe's
``never_first`` tokens (a citation marker's "[") are banned for the whole answer: without that,
the 0.5B model started 43 of its 74 held-out answers by copying an excerpt ("[1] <title> — «…»")
and answered 9 points fewer questions right than in-process. Its answers then carry no markers
of their own; the support check cites the excerpt that supports each sentence, as it does for
any unmarked sentence. Every failure is one RagError naming the server and
the fix: down, timed out, an HTTP error, or a stream with no token.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Iterator

from .errors import RagError
from .llm import FirstTokenProbe, register_generator


class LLMServerError(RagError):
    """The OpenAI-compatible LLM server is unreachable or answered with an error."""


class OpenAIGenerator:
    chat = True

    def __init__(self, *, base_url: str, model: str, name: str, api_key: str | None, timeout: float,
                 temperature: float, seed: int):
        self.base_url = base_url.rstrip("/")
        self.model, self.name = model, name
        self.api_key, self.timeout = api_key, timeout
        self.temperature, self.seed = temperature, seed

    def render(self, messages: list[dict]) -> str:
        return json.dumps(messages, ensure_ascii=False)

    def warm(self, prefix: str, *, cache_dir: Path | None = None) -> None:
        """The server keeps its own prompt cache."""

    def stream(self, prompt: str, *, max_tokens: int, stop: list[str], probe: FirstTokenProbe | None = None,
               temperature: float | None = None) -> Iterator[str]:
        body = {"model": self.model, "messages": json.loads(prompt), "stream": True, "max_tokens": max_tokens,
                "stop": stop[:4], "seed": self.seed,
                "temperature": self.temperature if temperature is None else temperature}
        if probe is not None and self._probe_ok:
            # as in-process: read P(refusal) from the first token's distribution, then generate
            # with the refusal's first tokens banned, so the calibrated threshold decides and not
            # the argmax. Two requests with the same prompt: the server's prompt cache serves the second.
            try:
                first = self._post({**body, "stream": False, "max_tokens": 1, "logprobs": True, "top_logprobs": 20})
            except LLMServerError as err:
                if "answered HTTP" not in str(err):
                    raise
                self._probe_ok = False  # no logprobs here: the model's own "NOT FOUND" decides
                first = {}
            choices = first.get("choices") or [{}]
            probe.p = _probability(choices[0].get("logprobs"), probe.spellings)
            if probe.p is not None and probe.ban and self._token_bias:
                body.update(logit_bias={s: -100 for s in [*probe.spellings, *probe.never_first]},
                            logit_bias_type="tokens")
        try:
            yield from self._stream(body)
        except LLMServerError as err:
            if "logit_bias" not in body or "HTTP 4" not in str(err):
                raise
            self._token_bias = False  # a server without llama.cpp's token-string bias: do without
            body.pop("logit_bias")
            body.pop("logit_bias_type")
            yield from self._stream(body)

    _token_bias = True  # the server takes llama.cpp's token-string logit_bias
    _probe_ok = True  # the server returns top_logprobs

    def _request(self):
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return f"{self.base_url}/chat/completions", headers, httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))

    def _post(self, body: dict) -> dict:
        import httpx

        url, headers, timeout = self._request()
        with self._errors(url):
            r = httpx.post(url, json=body, headers=headers, timeout=timeout)
            self._check(r, url, r.text)
            return r.json()

    def _stream(self, body: dict) -> Iterator[str]:
        import httpx

        url, headers, timeout = self._request()
        got_any = False
        with self._errors(url):
            with httpx.stream("POST", url, json=body, headers=headers, timeout=timeout) as r:
                if r.status_code >= 400:
                    self._check(r, url, r.read().decode("utf-8", "replace"))
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if chunk.get("error"):
                        raise LLMServerError(f"LLM server {url} failed mid-answer: {chunk['error']}")
                    choices = chunk.get("choices") or []
                    text = ((choices[0].get("delta") or {}).get("content") or "") if choices else ""
                    if text:
                        got_any = True
                        yield text
        if not got_any:
            raise LLMServerError(f"the LLM server at {self.base_url} streamed no token for model {self.model!r}")

    @staticmethod
    def _check(r, url: str, text: str) -> None:
        if r.status_code >= 400:
            raise LLMServerError(f"LLM server {url} answered HTTP {r.status_code}: {text.strip()[:300]} "
                                 "(check RAG_LLM_MODEL / RAG_LLM_API_KEY)")

    @contextlib.contextmanager
    def _errors(self, url: str):
        import httpx

        try:
            yield
        except httpx.ConnectError as err:
            raise LLMServerError(f"cannot reach the LLM server at {self.base_url} ({err}): start it, or fix "
                                 "RAG_LLM_URL") from None
        except httpx.TimeoutException:
            raise LLMServerError(f"the LLM server at {self.base_url} sent nothing for {self.timeout:.0f} s "
                                 "(RAG_LLM_TIMEOUT)") from None
        except (httpx.HTTPError, json.JSONDecodeError) as err:
            raise LLMServerError(f"LLM server {url}: {type(err).__name__}: {err}") from None


def _probability(logprobs: dict | None, spellings: list[str]) -> float | None:
    """P(first token starts one of ``spellings``) from the first token's top_logprobs."""
    try:
        top = logprobs["content"][0]["top_logprobs"]
    except (TypeError, KeyError, IndexError):
        return None
    if not top:
        return None
    heads = {s.strip().split()[0].lower() for s in spellings if s.strip()}
    def refusal_start(token: str) -> bool:
        t = token.strip().lower()
        return len(t) >= 3 and any(h.startswith(t) or t.startswith(h) for h in heads)

    return float(sum(math.exp(t["logprob"]) for t in top if refusal_start(t.get("token", ""))))


def _from_settings(s) -> OpenAIGenerator:
    if not s.llm_url:
        raise RagError("llm_backend=openai needs the server's base URL: set RAG_LLM_URL "
                       "(e.g. http://127.0.0.1:8080/v1)")
    return OpenAIGenerator(base_url=s.llm_url, model=s.llm_model or s.llm, name=s.llm,
                           api_key=s.llm_api_key.get_secret_value() if s.llm_api_key else None,
                           timeout=s.llm_timeout, temperature=s.temperature, seed=s.seed)


register_generator("openai", _from_settings)
