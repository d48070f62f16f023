#!/usr/bin/env bash
# Checks and tests rpcgen's Python runtime: ruff (lint and format), mypy --strict, then pytest
# against the real zerorpc-python and zerorpc-node servers. Uses the repository's venv (.venv/,
# made by scripts/test.sh) and node_modules/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$here/../../.venv/bin/python"
if [ ! -x "$python" ]; then
  echo "error: $python is missing; run scripts/test.sh once to create the venv" >&2
  exit 1
fi
cd "$here"
echo "==> ruff (Python runtime)"
"$python" -m ruff check .
"$python" -m ruff format --check .
echo "==> mypy --strict (Python runtime)"
"$python" -m mypy --strict rpcgen_runtime.py tests
echo "==> pytest (Python runtime)"
"$python" -m pytest -q -p no:cacheprovider
