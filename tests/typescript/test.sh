#!/usr/bin/env bash
# End-to-end tests of generated TypeScript clients:
#   1. `rpcgen generate --lang ts` writes clients for tests/fixtures/peer.rpc,
#      examples/shop/api/shop.rpc, both versions of tests/fixtures/evolution and schemas/*.rpc
#      into tests/typescript/build/ (ignored);
#   2. `tsc` compiles them with the tests (strict, and stricter options);
#   3. ruff checks the Python fixture server;
#   4. `node --test` runs the tests against real servers: the zerorpc-python peer and fixture
#      server, the zerorpc-node peer, the Rust example server of examples/shop and the Rust server
#      of version 2 of the evolution fixture (both built here with cargo).
# Needs the repository's node_modules/ and a Python with zerorpc ($RPCGEN_PYTHON, else .venv/).
# $RPCGEN names the rpcgen command to use (default: `cargo run -q -p rpcgen --`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/build.sh" debug

echo "==> cargo build: the server of version 2 of the evolution fixture (stock-v2-server of tests/rust)"
(cd "$repo" && cargo build -q -p rpcgen-e2e --bin stock-v2-server)
export RPCGEN_STOCK_SERVER="$target_dir/debug/stock-v2-server"

echo "==> ruff: the Python fixture server"
python="${RPCGEN_PYTHON:-$repo/.venv/bin/python}"
"$python" -m ruff check --no-cache "$here/test/fixture_server.py"
"$python" -m ruff format --no-cache --check "$here/test/fixture_server.py"

echo "==> node --test"
node --test "$here"/build/js/test/*.test.js
