#!/usr/bin/env bash
# End-to-end test of the trait-first path: `rpcgen generate --lang ts,python --from-rust` writes
# clients for examples/trait-first/src/board.rs (the trait is the only definition) into build/,
# then the Python (pytest, mypy --strict) and TypeScript (tsc --strict, node --test) clients call
# the trait-first Rust server, examples/trait-first's board-server, on 127.0.0.1.
# Needs the repository's .venv/ (scripts/test.sh makes it) and node_modules/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="$repo/.venv/bin/python"
cd "$repo"

echo "==> rpcgen generate --lang ts,python --from-rust examples/trait-first/src/board.rs"
rm -rf "$here/build"
cargo run -q -p rpcgen -- generate --lang ts,python --from-rust \
  --out "$here/build/board_api" examples/trait-first/src/board.rs

echo "==> building board-server"
cargo build -q -p rpcgen-example-trait-first --bin board-server
target_dir="$(cargo metadata -q --format-version 1 --no-deps |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
export RPCGEN_BOARD_SERVER="$target_dir/debug/board-server"

cd "$here"
echo "==> Python: ruff, mypy --strict, pytest"
"$python" -m ruff check --no-cache test_board.py
"$python" -m mypy --strict build/board_api test_board.py
PYTHONPATH="$here/build" "$python" -m pytest -q -p no:cacheprovider test_board.py

echo "==> TypeScript: tsc --strict, node --test"
"$repo/node_modules/.bin/tsc" -p tsconfig.json
node --test build/js/board.test.js
