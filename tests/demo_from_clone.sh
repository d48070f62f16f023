#!/usr/bin/env bash
# Clones the repository (what is committed) into a temporary folder and runs the README's demo
# command there, so that a missing install step or an untracked file the demo needs cannot hide.
# The clone shares this checkout's Cargo target folder to save build time; it installs its own
# .venv/ and node_modules/ like a newcomer's machine would.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

git clone --quiet "$root" "$scratch/rpcgen"
cd "$scratch/rpcgen"
unset RPCGEN_PYTHON
output=$(CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" scripts/demo.sh 2>&1) || {
  echo "$output"
  echo "error: scripts/demo.sh failed in a fresh clone" >&2
  exit 1
}
echo "$output" | tail -n 40

# Each client must have reached the server and seen a typed error; the run must end cleanly.
expected=(
  "no ticket #999"
  "get 999999  -> typed error NotFound { id: 999999 }"
  "get 999999  -> typed error NotFound(id=999999)"
  "shop.rpc: the contract the server publishes"
  "no change in examples/shop/api/shop.rpc breaks clients of the running server"
  "demo finished"
)
for line in "${expected[@]}"; do
  if ! grep -qF -- "$line" <<<"$output"; then
    echo "error: the demo's output lacks: $line" >&2
    exit 1
  fi
done
# The demo's own clients are code a user copies: with their code generated, they type-check strictly.
.venv/bin/python -m mypy --strict --no-incremental examples/shop/clients/python/demo.py
echo "demo from a fresh clone: ok"
