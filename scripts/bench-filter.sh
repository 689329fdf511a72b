#!/usr/bin/env bash
# The filter benchmark: Envoy (--concurrency 1) with A a plain route, B `render --native`,
# C a no-op proxy-wasm filter, D meshroute; 1/10/100/1,000 rules, prefix and regex.
# Prints a table with ratios D/A, D/B, D-C and writes target/bench/filter.json.
# Usage: scripts/bench-filter.sh [--quick] [--probe] [--rules 1,10,100,1000] [--kinds prefix,regex]
#   --probe: arms C, P1-P4, D (the probe filter splits D - C into host operations)
# Knobs (environment): see BENCHMARKS.md, "Filter in Envoy". MESHROUTE_BENCH_NO_BUILD=1
# uses the existing .wasm builds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

if [ -z "${MESHROUTE_ENVOY:-}" ] && ! "$ROOT/.venv/bin/envoy" --version >/dev/null 2>&1; then
  "$ROOT/scripts/setup.sh" filter
fi
if [ "${MESHROUTE_BENCH_NO_BUILD:-0}" != 1 ]; then
  "$ROOT/scripts/build.sh" filter
  # Own workspaces and target directory: no lock contention with the main target/.
  for crate in noop-filter probe-filter; do
    log "cargo build --release (bench/$crate, wasm32-wasip1)"
    cargo build --release --quiet --manifest-path "bench/$crate/Cargo.toml" \
      --target wasm32-wasip1 --target-dir "$(target_dir)/bench-noop"
  done
fi
log "cargo run --release -p meshroute-bench -- $*"
exec cargo run --release --quiet -p meshroute-bench --bin bench-filter -- "$@"
