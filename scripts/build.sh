#!/usr/bin/env bash
# Build the two wasm artifacts.
#   filter: target/wasm32-wasip1/release/meshroute_filter.wasm  (loaded by Envoy)
#   editor: editor/dist/                                         (trunk: index.html + js + wasm)
#   fixtures: target/fixtures/wasm32-wasip1/release/meshroute_trap_filter.wasm
#             (test fixture of tests/e2e_vm_failure.rs; not part of `all`)
# Usage: scripts/build.sh [filter|editor|fixtures|all]   (default: all)
# Prerequisites come from scripts/setup.sh (wasm targets, trunk, wasm-bindgen-cli, .tools/ wasm-opt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

build_filter() {
  log "cargo build --release -p meshroute-filter --target wasm32-wasip1"
  cargo build --release -p meshroute-filter --target wasm32-wasip1
  local wasm; wasm="$(target_dir)/wasm32-wasip1/release/meshroute_filter.wasm"
  log "filter (cargo): $wasm ($(size_of "$wasm") bytes, gzip $(gzip_size_of "$wasm"))"
  # Size pass (budget 300 KB, filter/README.md "Size"). Written beside and moved over the
  # cargo output, which breaks its hard link to deps/: cargo keeps its own copy, and a
  # rebuild that changes nothing leaves the optimized file alone.
  tools_path
  if command -v wasm-opt >/dev/null && wasm-opt --version | grep -q 'version 1[2-9][0-9]'; then
    # The stripped module has no target_features section: name the features rustc's
    # wasm32-wasip1 uses (all supported by Envoy's V8).
    log "wasm-opt -Oz --strip-debug --strip-producers"
    wasm-opt -Oz --strip-debug --strip-producers \
      --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals \
      "$wasm" -o "$wasm.opt"
    mv -f "$wasm.opt" "$wasm"
  else
    log "warning: no binaryen wasm-opt >= 120 (scripts/setup.sh filter); filter left as cargo built it"
  fi
  log "filter: $wasm ($(size_of "$wasm") bytes, gzip $(gzip_size_of "$wasm"))"
}

build_editor() {
  tools_path
  # trunk runs cargo with --offline (editor/Trunk.toml), so make sure crates are here.
  cargo fetch --quiet
  log "trunk build --release (editor/)"
  # Two trunk builds in one checkout clobber editor/dist/.stage: serialise them.
  mkdir -p "$(target_dir)"
  (
    flock 9
    cd editor && trunk build --release
  ) 9>"$(target_dir)/.editor-build.lock"
  local wasm; wasm="$(ls -S editor/dist/*.wasm | head -n1)"
  log "editor: $wasm ($(size_of "$wasm") bytes, gzip $(gzip_size_of "$wasm"))"
}

# A proxy-wasm filter that traps on demand (tests/fixtures/trap-filter, its own workspace).
build_fixtures() {
  log "cargo build --release (tests/fixtures/trap-filter, wasm32-wasip1)"
  cargo build --release --manifest-path tests/fixtures/trap-filter/Cargo.toml \
    --target wasm32-wasip1 --target-dir "$(target_dir)/fixtures"
}

case "${1:-all}" in
  filter) build_filter ;;
  editor) build_editor ;;
  fixtures) build_fixtures ;;
  all) build_filter; build_editor ;;
  *) echo "usage: $0 [filter|editor|fixtures|all]" >&2; exit 2 ;;
esac
