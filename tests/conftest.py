"""Fixtures: a deterministic fake embedder, a scripted fake LLM, small seed folders."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.settings import Settings
from rag.text import fold

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


class FakeEmbedder:
    """Hashed bag of folded words: same words → same direction. Deterministic, instant."""

    name = "fake"
    dim = 256

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in fold(t).split():
                h = int(hashlib.md5(w.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
        out += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class FakeLLM:
    """Yields a scripted answer token by token and records the prompts it was given.

    ``chat=True`` makes it an instruction model: messages are rendered to one string and the
    first-token probe reports ``p_not`` (its P("NOT FOUND")), or a callable of the prompt, and
    ``shares`` for a probe's one-token options (a sentence picked by number)."""

    name = "fake-llm"

    def __init__(self, script="Olivier Duha propose un modèle économique comme le train [1].", *, chat=False,
                 p_not=None, shares=None):
        self.script = script
        self.chat = chat
        self.p_not = p_not
        self.shares = shares  # the first token's probabilities of a probe's one-token options
        self.prompts = []

    def warm(self, prefix, *, cache_dir=None):
        self.warmed = prefix

    def render(self, messages):
        return "\n".join(f"<{m['role']}>\n{m['content']}" for m in messages) + "\n<assistant>\n"

    def stream(self, prompt, *, max_tokens, stop, probe=None, temperature=None):
        self.prompts.append(prompt)
        if probe is not None:
            probe.p = self.p_not(prompt) if callable(self.p_not) else self.p_not
            if probe.options and self.shares is not None:
                probe.shares = list(self.shares)[:len(probe.options)]
        text = self.script(prompt) if callable(self.script) else self.script
        for word in text.split(" "):
            yield word + " "


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc, log: Path, *, timeout: float) -> None:
    """Poll ``url`` until it answers; fail with the server's log if it exits or times out."""
    import time
    import urllib.request

    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert proc.poll() is None and time.time() < deadline, log.read_text()
            time.sleep(0.5)


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch):
    import rag.embedders as emb

    real = emb.get_embedder

    def get(name):
        return FakeEmbedder() if name == "fake" else real(name)

    monkeypatch.setattr(emb, "get_embedder", get)
    return FakeEmbedder()


@pytest.fixture
def seeds_dir(tmp_path) -> Path:
    d = tmp_path / "seeds"
    shutil.copytree(SEEDS, d)
    return d


@pytest.fixture
def settings(tmp_path, seeds_dir) -> Settings:
    # the model writes the answer (the quality tier's style, and any GGUF's): most pipeline tests
    # check that path; the default tier's quoted answers have tests of their own
    return Settings(seeds_dir=seeds_dir, index_dir=tmp_path / "index" / "current", embedders="fake",
                    models_dir=tmp_path / "models", answer_style="prose")


@pytest.fixture
def fake_llm():
    return FakeLLM()
