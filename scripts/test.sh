#!/usr/bin/env bash
# THE test command: set up, lint, build the real artifacts, run every test tier
# (unit + real Envoy e2e + real headless Chromium), print a summary.
#
# Usage: scripts/test.sh [-- <extra cargo test args>]
# Env:   MESHROUTE_SKIP_SETUP=1   skip scripts/setup.sh (tools already installed)
#        MESHROUTE_TEST_TIMEOUT   timeout of the `cargo test` step (default 25m)
#        MESHROUTE_FUZZ_SECS      seconds per cargo-fuzz target (default 0: skipped; > 0 installs
#                                 nightly + cargo-fuzz via setup.sh fuzz and runs the 3 targets)
#        MESHROUTE_SOAK_SECS      duration of the reload soak test (default 120)
# Always sets MESHROUTE_REQUIRE_E2E=1: a missing Envoy/.wasm/browser/editor build
# fails the e2e tests instead of skipping them. Exit status: 0 iff every step passed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

TEST_ARGS=()
if [ "${1:-}" = "--" ]; then shift; TEST_ARGS=("$@"); elif [ $# -gt 0 ]; then
  echo "usage: $0 [-- <extra cargo test args>]" >&2; exit 2
fi

NAMES=() RESULTS=() TIMES=()
FAILED=0
START=$SECONDS

# step "<name>" cmd args... : run, time, record; never aborts the script.
step() {
  local name="$1"; shift
  local t0=$SECONDS rc=0
  printf '\n\033[1;35m==> %s\033[0m\n    $ %s\n' "$name" "$*" >&2
  "$@" || rc=$?
  local dt=$((SECONDS - t0))
  NAMES+=("$name"); TIMES+=("$dt")
  if [ "$rc" -eq 0 ]; then RESULTS+=("ok"); else RESULTS+=("FAILED ($rc)"); FAILED=$((FAILED + 1)); fi
  return 0
}

fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

summary() {
  local filter editor
  filter="$(target_dir)/wasm32-wasip1/release/meshroute_filter.wasm"
  editor="$(ls -S editor/dist/*.wasm 2>/dev/null | head -n1 || true)"
  printf '\n\033[1m==================== meshroute test summary ====================\033[0m\n'
  local i
  for i in "${!NAMES[@]}"; do
    if [ "${RESULTS[$i]}" = ok ]; then
      printf '  \033[32m%-10s\033[0m %8s  %s\n' "${RESULTS[$i]}" "$(fmt_time "${TIMES[$i]}")" "${NAMES[$i]}"
    else
      printf '  \033[31m%-10s\033[0m %8s  %s\n' "${RESULTS[$i]}" "$(fmt_time "${TIMES[$i]}")" "${NAMES[$i]}"
    fi
  done
  [ -f "$filter" ] && printf '  filter .wasm  %s bytes (gzip %s)\n' "$(size_of "$filter")" "$(gzip_size_of "$filter")"
  [ -n "$editor" ] && [ -f "$editor" ] && printf '  editor .wasm  %s bytes (gzip %s)\n' "$(size_of "$editor")" "$(gzip_size_of "$editor")"
  printf '  artifacts     %s\n' "$(target_dir)/test-artifacts/"
  printf '  total         %s\n' "$(fmt_time $((SECONDS - START)))"
  if [ "$FAILED" -eq 0 ]; then
    printf '\033[1;32mALL %d STEPS PASSED\033[0m\n' "${#NAMES[@]}"
  else
    printf '\033[1;31m%d OF %d STEPS FAILED\033[0m\n' "$FAILED" "${#NAMES[@]}"
  fi
}

export MESHROUTE_REQUIRE_E2E=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-$([ -t 2 ] && echo always || echo never)}"

if [ "${MESHROUTE_SKIP_SETUP:-}" = 1 ]; then
  log "MESHROUTE_SKIP_SETUP=1: not running scripts/setup.sh"
else
  step "setup (scripts/setup.sh)" scripts/setup.sh all
fi
tools_path

step "rustfmt" cargo fmt --all -- --check
step "clippy (native, workspace, all targets)" cargo clippy --workspace --all-targets -- -D warnings
# The wasm-only code (proxy-wasm glue, browser entry points) is cfg'd out natively.
step "clippy (filter, wasm32-wasip1)" cargo clippy -p meshroute-filter --target wasm32-wasip1 -- -D warnings
step "clippy (editor, wasm32-unknown-unknown)" cargo clippy -p meshroute-editor --target wasm32-unknown-unknown -- -D warnings
step "build filter (.wasm for Envoy)" scripts/build.sh filter
step "build editor (trunk --release)" scripts/build.sh editor
step "build test fixtures (trap filter)" scripts/build.sh fixtures
# Unit tests of every crate + tests/*.rs of the root package: real Envoy (e2e_*) and
# real Chromium (editor_*), required here. --no-fail-fast: report every tier.
step "cargo test --workspace (MESHROUTE_REQUIRE_E2E=1)" \
  timeout --kill-after=30s "${MESHROUTE_TEST_TIMEOUT:-25m}" cargo test --workspace --no-fail-fast "${TEST_ARGS[@]}"

# Licenses, bans and sources (offline). Advisories need the RustSec database from GitHub:
# `cargo deny check advisories` by hand (RELIABILITY.md).
step "cargo deny check licenses bans sources" cargo deny --offline check licenses bans sources

# Bounded cargo-fuzz runs (nightly, fuzz/ is its own workspace) when MESHROUTE_FUZZ_SECS > 0:
# CI (.ci/run) sets 30 s per target; locally opt-in (RELIABILITY.md, "Fuzzing"). The stable
# bounded fuzz test (filter/tests/fuzz_stable.rs, same three targets) runs in `cargo test`.
fuzz_all() {
  local secs="${MESHROUTE_FUZZ_SECS:-0}" t rc=0
  scripts/setup.sh fuzz || return $?
  for t in yaml_check filter_config matching; do
    mkdir -p "fuzz/corpus/$t"
    if [ "$t" = yaml_check ]; then
      for f in examples/*/*.yaml; do cp -n "$f" "fuzz/corpus/$t/$(echo "$f" | tr / _)"; done
    fi
    log "cargo +nightly fuzz run $t -- -max_total_time=$secs"
    (cd fuzz && cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1) \
      || rc=$?
  done
  return "$rc"
}
if [ "${MESHROUTE_FUZZ_SECS:-0}" != 0 ]; then
  step "cargo fuzz (3 targets, ${MESHROUTE_FUZZ_SECS}s each)" fuzz_all
fi

summary
[ "$FAILED" -eq 0 ]
