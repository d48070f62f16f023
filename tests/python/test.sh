#!/usr/bin/env bash
# Tests rpcgen's generated Python clients: generates them into build/ with `rpcgen generate`, checks
# the generated code (ruff with ruff-generated.toml, mypy --strict; tests/fixtures/odd_docs.rpc, whose
# docs are awkward in docstrings, is generated for these checks only) and the tests (ruff, mypy
# --strict), then runs pytest against real servers on 127.0.0.1: the zerorpc-python and zerorpc-node
# peers, the Rust example server of examples/shop, and the Rust server of version 2 of the evolution
# fixture (tests/fixtures/evolution), called with clients generated from version 1. Uses the repository's venv (.venv/, made by
# scripts/test.sh) and node_modules/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="$repo/.venv/bin/python"
if [ ! -x "$python" ]; then
  echo "error: $python is missing; run scripts/test.sh once to create the venv" >&2
  exit 1
fi
cd "$repo"

echo "==> rpcgen generate --lang python (peer.rpc, odd_docs.rpc, cases.rpc, the shop example, the bench, stock v1 and v2)"
rm -rf "$here/build"
generate() {
  cargo run -q -p rpcgen -- generate --lang python --out "$here/build/$1" "$2"
}
generate peer_api tests/fixtures/peer.rpc
generate odd_docs_api tests/fixtures/odd_docs.rpc
generate cases_api tests/python/cases.rpc
generate shop_api examples/shop/api/shop.rpc
generate bench_api tests/python/bench/bench.rpc
generate stock_v1 tests/fixtures/evolution/v1/stock.rpc
generate stock_v2 tests/fixtures/evolution/v2/stock.rpc

echo "==> building the Rust servers (shop-server, stock-v2-server)"
cargo build -q -p rpcgen-example-shop --bin shop-server
cargo build -q -p rpcgen-e2e --bin stock-v2-server
target_dir="$(cargo metadata -q --format-version 1 --no-deps |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
export RPCGEN_SHOP_SERVER="$target_dir/debug/shop-server"
export RPCGEN_STOCK_SERVER="$target_dir/debug/stock-v2-server"

cd "$here"
echo "==> ruff (generated code, tests and the bench script)"
"$python" -m ruff check --no-cache --config ruff-generated.toml build
"$python" -m ruff check --no-cache .
"$python" -m ruff format --no-cache --check .
echo "==> mypy --strict (generated code, tests and the bench script)"
"$python" -m mypy --strict build/peer_api build/odd_docs_api build/cases_api build/shop_api build/bench_api build/stock_v1 build/stock_v2 ./*.py bench
echo "==> pytest (generated clients against zerorpc-python, zerorpc-node and the Rust servers)"
"$python" -m pytest -q -p no:cacheprovider
