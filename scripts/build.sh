#!/usr/bin/env bash
# Build the two wasm artifacts.
#   filter: target/wasm32-wasip1/release/meshroute_filter.wasm  (loaded by Envoy)
#   editor: editor/dist/                                         (trunk: index.html + js + wasm)
# Usage: scripts/build.sh [filter|editor|all]   (default: all)
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

case "${1:-all}" in
  filter) build_filter ;;
  editor) build_editor ;;
  all) build_filter; build_editor ;;
  *) echo "usage: $0 [filter|editor|all]" >&2; exit 2 ;;
esac
