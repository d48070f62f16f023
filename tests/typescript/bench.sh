#!/usr/bin/env bash
# Calls per second of a generated TypeScript client against Rust servers (release builds): the
# benchmark echo server (bench/, `bench-server`) and the example shop, at 1 and 32 concurrent
# callers; prints a Markdown table (docs/benchmarks.md records it).
# Arguments go to the bench: [--seconds S] (per measurement, default 2) [--rounds N] (default 3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/build.sh" release

echo "==> cargo build (release): the benchmark echo server (bench-server)"
(cd "$repo" && cargo build -q --release -p rpcgen-bench --bin bench-server)
export RPCGEN_BENCH_SERVER="$target_dir/release/bench-server"

echo "==> node bench/calls.js"
node "$here/build/js/bench/calls.js" "$@"
