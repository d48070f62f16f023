#!/usr/bin/env bash
# Checks that builds through rpcgen::Builder are exact, on the example project: a second
# `cargo build` with no .rpc change does not rerun its build script, touching a file the build
# read (here an imported one) does, and touching another file of the package does not (without
# `cargo:rerun-if-changed` lines, cargo would rerun the script for any file of the package).
# Run it from anywhere; it uses the normal target dir
# (or CARGO_TARGET_DIR), so after a workspace build it only takes seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Prints how many times the example's build script ran during one `cargo build`. (Cargo's
# `build-script-executed` JSON message cannot tell: it is replayed for fresh scripts too; the
# verbose log shows a `Running` line only for a script that really runs.)
build_script_runs() {
  cargo build -v -p rpcgen-example-shop 2>&1 \
    | grep -c 'Running `.*rpcgen-example-shop-[0-9a-f]*/build-script-build`' || true
}

expect_runs() {
  local expected=$1 why=$2 runs
  runs=$(build_script_runs)
  if [ "$runs" != "$expected" ]; then
    echo "error: the example's build script ran $runs time(s) $why; expected $expected" >&2
    exit 1
  fi
  echo "ok: build script ran $runs time(s) $why"
}

build_script_runs >/dev/null
expect_runs 0 "on a second build without changes"
touch examples/shop/api/common.rpc
expect_runs 1 "after an imported .rpc file changed"
expect_runs 0 "on the build after that"
touch examples/shop/src/lib.rs
expect_runs 0 "after a Rust source (not read by the build script) changed"
