#!/usr/bin/env bash
# Run the whole test suite (unit, real-model, browser). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "chromium missing: browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
