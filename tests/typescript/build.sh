# Shared by test.sh and bench.sh (source it, with $here set to tests/typescript): generates the
# TypeScript clients, builds the Rust example server, and compiles clients, tests and bench.
#   $RPCGEN   the rpcgen command (default: `cargo run -q -p rpcgen --`)
#   $1        the cargo profile of the example server: debug (default) or release
# Exports RPCGEN_SHOP_SERVER, the path of the example server's binary, and target_dir.
repo="$(cd "$here/../.." && pwd)"
tsc="$repo/node_modules/.bin/tsc"
if [ ! -x "$tsc" ]; then
  echo "error: $tsc is missing: run 'npm ci' at the repository root" >&2
  exit 1
fi
read -r -a rpcgen <<<"${RPCGEN:-cargo run -q -p rpcgen --}"
profile="${1:-debug}"

echo "==> rpcgen generate --lang ts into tests/typescript/build/generated/"
rm -rf "$here/build"
(cd "$repo" && "${rpcgen[@]}" generate --lang ts --out "$here/build/generated" \
  tests/fixtures/peer.rpc tests/fixtures/odd_docs.rpc examples/shop/api/shop.rpc tests/python/bench/bench.rpc \
  tests/fixtures/evolution/v1/stock.rpc "$here"/schemas/*.rpc)
# Version 2 of the evolution fixture's stock service, beside version 1 (the same package name).
(cd "$repo" && "${rpcgen[@]}" generate --lang ts --out "$here/build/stock-v2" tests/fixtures/evolution/v2/stock.rpc)

echo "==> cargo build ($profile): the Rust example server (examples/shop)"
cargo_profile=()
if [ "$profile" = release ]; then
  cargo_profile=(--release)
fi
(cd "$repo" && cargo build -q "${cargo_profile[@]}" -p rpcgen-example-shop --bin shop-server)
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
export RPCGEN_SHOP_SERVER="$target_dir/$profile/shop-server"

echo "==> tsc -p tests/typescript (generated clients, tests, bench) into tests/typescript/build/js/"
"$tsc" -p "$here/tsconfig.json"
