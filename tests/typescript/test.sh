#!/usr/bin/env bash
# End-to-end tests of generated TypeScript clients:
#   1. `rpcgen generate --lang ts` writes clients for tests/fixtures/peer.rpc and schemas/*.rpc into
#      tests/typescript/build/generated/ (an ignored folder);
#   2. `tsc` compiles them with the tests (strict, and stricter options) into build/js/;
#   3. `node --test` runs the tests against real servers: the zerorpc-python peer and fixture server.
# Needs the repository's node_modules/ and a Python with zerorpc ($RPCGEN_PYTHON, else .venv/).
# $RPCGEN names the rpcgen command to use (default: `cargo run -q -p rpcgen --`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tsc="$repo/node_modules/.bin/tsc"
if [ ! -x "$tsc" ]; then
  echo "error: $tsc is missing: run 'npm ci' at the repository root" >&2
  exit 1
fi
read -r -a rpcgen <<<"${RPCGEN:-cargo run -q -p rpcgen --}"

echo "==> rpcgen generate --lang ts into tests/typescript/build/generated/"
rm -rf "$here/build"
(cd "$repo" && "${rpcgen[@]}" generate --lang ts --out "$here/build/generated" \
  tests/fixtures/peer.rpc "$here"/schemas/*.rpc)

echo "==> tsc -p tests/typescript (generated clients and tests) into tests/typescript/build/js/"
"$tsc" -p "$here/tsconfig.json"

echo "==> node --test"
node --test "$here"/build/js/test/*.test.js
