#!/usr/bin/env bash
# The one command that runs every test of rpcgen: Rust, TypeScript, Python and cross-language.
# It installs what it needs (a Python venv in .venv/, npm packages in node_modules/) on the first run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/deps.sh

require cargo "to build rpcgen"
ensure_python_env
ensure_node_modules

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "the generator without its default feature, as build scripts use it (no Tokio, no ZeroMQ)"
cargo clippy -p rpcgen --no-default-features --all-targets --quiet -- -D warnings

step "cargo doc (broken intra-doc links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "Rust tests (unit, golden snapshots, end to end, interop with zerorpc-python and zerorpc-node)"
# INSTA_UPDATE=no: a snapshot that differs fails the run and never writes a new snapshot file.
INSTA_UPDATE=no cargo test --workspace

step "Benchmarks compile and run once (as tests, not measurements)"
cargo test --workspace --benches --quiet

step "Tools kept outside the workspace compile: fuzz targets, transport probe (clippy, fmt)"
for tool in runtime/fuzz bench/transport-probe; do
  cargo fmt --manifest-path "$tool/Cargo.toml" -- --check
  cargo clippy --manifest-path "$tool/Cargo.toml" --quiet -- -D warnings
done

step "Checked-in .rpc files are formatted"
cargo run --quiet -p rpcgen -- fmt --check tests/fixtures/*.rpc tests/python/*.rpc tests/python/bench/*.rpc examples/*/api/*.rpc tests/rust/api/*.rpc

step "Exact rebuilds: the example's build script reruns only when a file it read changes"
tests/rust/check_exact_rebuilds.sh

step "Python scripts of the Rust end-to-end tests, the bench and the fuzz seeds (ruff, mypy --strict)"
"$RPCGEN_PYTHON" -m ruff check --no-cache tests/rust/python bench/zerorpc_server.py bench/zerorpc_client.py bench/zerorpc_puller.py runtime/fuzz/seed.py examples/shop/clients/python/demo.py
"$RPCGEN_PYTHON" -m ruff format --no-cache --check tests/rust/python bench/zerorpc_server.py bench/zerorpc_client.py bench/zerorpc_puller.py runtime/fuzz/seed.py examples/shop/clients/python/demo.py
"$RPCGEN_PYTHON" -m mypy --strict --no-incremental tests/rust/python bench/zerorpc_server.py bench/zerorpc_client.py bench/zerorpc_puller.py runtime/fuzz/seed.py

step "TypeScript runtime (tsc --strict, node --test, interop with zerorpc-python and zerorpc-node)"
runtime/ts/test.sh

step "Python runtime (ruff, mypy --strict, pytest against zerorpc-python and zerorpc-node)"
runtime/python/test.sh

step "TypeScript clients (generate --lang ts, tsc --strict, node --test against zerorpc-python, zerorpc-node and the Rust example server)"
tests/typescript/test.sh

step "Python clients (generated: ruff, mypy --strict, pytest against zerorpc-python, zerorpc-node and the Rust example server)"
tests/python/test.sh

step "Trait-first: TypeScript and Python clients generated from a Rust trait call its Rust server"
tests/trait_first/test.sh

step "The README's demo, run in a fresh clone of the repository"
tests/demo_from_clone.sh

echo
echo "All rpcgen tests passed."
