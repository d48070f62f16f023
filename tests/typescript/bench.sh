#!/usr/bin/env bash
# Calls per second of a generated TypeScript client against the Rust example server (release
# build), at 1 and 32 concurrent callers; prints a Markdown table (docs/benchmarks.md records it).
# Arguments go to the bench: [--seconds S] (per measurement, default 2) [--rounds N] (default 3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/build.sh" release

echo "==> node bench/calls.js"
node "$here/build/js/bench/calls.js" "$@"
