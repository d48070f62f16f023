#!/usr/bin/env bash
# Checks, builds and tests rpcgen's TypeScript runtime (runtime/ts/src/rpcgen-runtime.ts):
#   1. the runtime file alone passes `tsc --strict` and its declarations contain no `any`;
#   2. src/, test/ and bench/ compile with the stricter runtime/ts/tsconfig.json into runtime/ts/build/;
#   3. `node --test` runs the tests, against real zerorpc-python and zerorpc-node servers among others.
# Needs the repository's node_modules/ (npm ci) and a Python with zerorpc: $RPCGEN_PYTHON or .venv/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
tsc="$here/../../node_modules/.bin/tsc"
if [ ! -x "$tsc" ]; then
  echo "error: $tsc is missing: run 'npm ci' at the repository root" >&2
  exit 1
fi

echo "==> tsc --strict: the runtime file on its own, as generated clients use it"
declarations="$(mktemp -d)"
trap 'rm -rf "$declarations"' EXIT
"$tsc" --strict --target ES2022 --module NodeNext --moduleResolution NodeNext --types node \
  --declaration --emitDeclarationOnly --removeComments --outDir "$declarations" \
  "$here/src/rpcgen-runtime.ts"
if grep -nw any "$declarations/rpcgen-runtime.d.ts"; then
  echo "error: the runtime's public API above uses 'any'" >&2
  exit 1
fi

echo "==> tsc -p runtime/ts (src, tests and bench, stricter options) into runtime/ts/build/"
rm -rf "$here/build"
"$tsc" -p "$here/tsconfig.json"

echo "==> node --test"
node --test "$here"/build/test/*.test.js
