#!/usr/bin/env bash
# The end-to-end demo of rpcgen: from examples/shop/api/shop.rpc it generates Rust (through the
# example's build.rs), TypeScript and Python; starts the Rust server; calls it from a Rust, a Node
# and a Python client (plain calls, a stream and typed errors), and from the shell with `rpcgen call`,
# `rpcgen pull` and `rpcgen breaking --against-server`; then stops the server.
# The first run installs a Python venv (.venv/) and npm packages (node_modules/); later runs reuse them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/deps.sh

require cargo "to build rpcgen and the Rust server"
ensure_python_env
ensure_node_modules

example=examples/shop
clients=$example/clients
target_dir=${CARGO_TARGET_DIR:-target}

step "building rpcgen and the example shop (build.rs generates its Rust from api/shop.rpc)"
cargo build --quiet -p rpcgen -p rpcgen-example-shop
rpcgen=$target_dir/debug/rpcgen

step "generating the TypeScript client into $clients/node/gen/"
"$rpcgen" generate --lang ts --out "$clients/node/gen" "$example/api/shop.rpc"
node_modules/.bin/tsc -p "$clients/node"

step "generating the Python client into $clients/python/gen/"
"$rpcgen" generate --lang python --out "$clients/python/gen" "$example/api/shop.rpc"

step "starting the Rust server on a free port of 127.0.0.1"
server_log=$(mktemp)
"$target_dir/debug/shop-server" --bind tcp://127.0.0.1:0 >"$server_log" 2>&1 &
server_pid=$!
stop_server() {
  kill -INT "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -f "$server_log"
}
trap stop_server EXIT
endpoint=""
for _ in $(seq 1 100); do
  endpoint=$(sed -n 's/^READY //p' "$server_log")
  [ -n "$endpoint" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "error: the server did not start:" >&2
    cat "$server_log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$endpoint" ]; then
  echo "error: the server printed no READY line within 10 s" >&2
  exit 1
fi
echo "server listening on $endpoint"

step "Rust client ($example/src/bin/client.rs)"
"$target_dir/debug/shop-client" "$endpoint"

step "Node client ($clients/node/demo.ts)"
node "$clients/node/build/demo.js" "$endpoint"

step "Python client ($clients/python/demo.py)"
"$RPCGEN_PYTHON" "$clients/python/demo.py" "$endpoint"

step "from the shell: rpcgen call (JSON in, JSON out), pull (the contract the server publishes), breaking"
"$rpcgen" call "$endpoint" stats
pulled=$(mktemp -d)
"$rpcgen" pull --out "$pulled" "$endpoint"
rm -rf "$pulled"
"$rpcgen" breaking --against-server "$endpoint" "$example/api/shop.rpc"
echo "no change in $example/api/shop.rpc breaks clients of the running server"

step "stopping the server"
stop_server
trap - EXIT
echo "demo finished: one .rpc file, a Rust server, and clients in Rust, TypeScript and Python."
