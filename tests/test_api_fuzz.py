"""Fuzzing the API from its own OpenAPI schema (schemathesis + hypothesis): whatever the
request, the server answers with a 2xx or a 4xx, never a 5xx."""

from __future__ import annotations

import shutil

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings as hsettings  # noqa: E402

from conftest import SEEDS, FakeEmbedder, FakeLLM  # noqa: E402

EXAMPLES = 300  # per operation; a few operations have fewer distinct inputs: over 1,000 requests in all
SEEN = {"requests": 0, "5xx": []}


def _app(tmp_path_factory):
    import rag.embedders as emb
    from rag.pipeline import Pipeline
    from rag.server import create_app
    from rag.settings import Settings

    emb.get_embedder = lambda name, _real=emb.get_embedder: FakeEmbedder() if name == "fake" else _real(name)
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SEEDS, root / "seeds")
    s = Settings(seeds_dir=root / "seeds", index_dir=root / "index", embedders="fake", models_dir=root / "models",
                 max_upload_bytes=20_000)
    return create_app(s, pipeline=Pipeline(s, llm=FakeLLM()))


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    return schemathesis.openapi.from_asgi("/openapi.json", _app(tmp_path_factory))


def test_no_server_errors(schema):
    from hypothesis import given

    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 7
    for op in operations:
        @given(case=op.as_strategy())
        @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            response = case.call()
            SEEN["requests"] += 1
            if response.status_code >= 500:
                SEEN["5xx"].append((case.method, case.path, response.status_code, response.text[:200]))

        fuzz()
    print(f"fuzz: {SEEN['requests']} requests over {len(operations)} operations, {len(SEEN['5xx'])} server errors")
    assert SEEN["requests"] >= 1000, SEEN["requests"]
    assert not SEEN["5xx"], SEEN["5xx"][:5]
