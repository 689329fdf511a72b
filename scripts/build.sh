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
  # The filter crate at opt-level 3 and everything else (the model, std's generic code,
  # dependencies) at z: +38 KB over all-z for ~3,600 fewer instructions per request
  # (BENCHMARKS.md "Run 4", opt-level table). The crate is the cdylib that fat LTO
  # optimizes at its own level. .cargo/config.toml's target rustflags (z for every crate,
  # what a plain `cargo build --target wasm32-wasip1` uses) come after the profile's level
  # and would override it, so this build replaces them (an empty RUSTFLAGS takes precedence
  # over config rustflags; with --target it applies to the wasm crates only) and sets the
  # levels through the profile.
  log "cargo build --release -p meshroute-filter --target wasm32-wasip1 (filter crate opt-level 3, the rest z)"
  RUSTFLAGS="" cargo build --release -p meshroute-filter \
    --target wasm32-wasip1 \
    --config 'profile.release.opt-level="z"' \
    --config 'profile.release.package.meshroute-filter.opt-level=3'
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

# The editor's size build (BENCHMARKS.md "wasm size -> Editor", editor/README.md "Size"):
# std rebuilt from rust-src with its optimize_for_size paths, panics compiled to a bare
# trap (no panic messages, formatting or locations), on the stable toolchain through
# RUSTC_BOOTSTRAP=1. Only for this trunk run (these variables are set nowhere else), in
# its own target directory: RUSTC_BOOTSTRAP changes how proc-macro2's build script
# configures it, and sharing target/ with the native builds would rebuild every proc macro
# each time one or the other ran. The rustflags add to .cargo/config.toml's (cargo merges
# the two lists). Unstable flags: checked on rustc 1.95; if they fail (another toolchain),
# the plain stable build runs instead, with a warning. MESHROUTE_EDITOR_BUILD_STD=0 skips
# straight to the plain build (target/ as before).
EDITOR_UNSTABLE_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"

trunk_build_editor() {
  # Two trunk builds in one checkout clobber editor/dist/.stage: serialise them.
  mkdir -p "$(target_dir)"
  (
    flock 9
    cd editor && trunk build --release
  ) 9>"$(target_dir)/.editor-build.lock"
}

build_editor() {
  tools_path
  # trunk runs cargo with --offline (editor/Trunk.toml), so make sure crates are here.
  cargo fetch --quiet
  local size_build=1
  if [ "${MESHROUTE_EDITOR_BUILD_STD:-1}" = 0 ]; then
    size_build=0
  elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]; then
    log "warning: no rust-src component (scripts/setup.sh editor); plain stable editor build (larger wasm)"
    size_build=0
  fi
  if [ "$size_build" = 1 ]; then
    log "trunk build --release (editor/; std built for size, panic=immediate-abort; $(rustc --version))"
    if (
      export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
        CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$EDITOR_UNSTABLE_RUSTFLAGS" \
        CARGO_TARGET_DIR="$(target_dir)/editor-size"
      # std's own dependencies (compiler_builtins, dlmalloc, ...) from crates.io.
      cargo fetch --quiet --target wasm32-unknown-unknown
      trunk_build_editor
    ); then :; else
      log "warning: the size build failed (unstable flags on $(rustc --version)?); plain stable editor build (larger wasm)"
      size_build=0
    fi
  fi
  if [ "$size_build" = 0 ]; then
    log "trunk build --release (editor/)"
    trunk_build_editor
  fi
  precompress_editor
  local wasm; wasm="$(ls -S editor/dist/*.wasm | head -n1)"
  log "editor: $wasm ($(size_of "$wasm") bytes, gzip -9 $(size_of "$wasm.gz")$([ -f "$wasm.br" ] && echo ", brotli q11 $(size_of "$wasm.br")"))"
}

# FILE.gz (gzip -9) and FILE.br (brotli q11, when a Python with the `brotli` module is at
# hand: .venv from scripts/setup.sh editor) beside the wasm, JS, CSS and HTML in editor/dist,
# for servers that send precompressed files (scripts/demo/static.py, nginx gzip_static /
# brotli_static). What the browser downloads is then the compressed size.
precompress_editor() {
  local py="" f
  for p in "$ROOT/.venv/bin/python" python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import brotli' 2>/dev/null; then py="$p"; break; fi
  done
  [ -n "$py" ] || log "warning: no Python brotli module (scripts/setup.sh editor): editor/dist gets .gz only"
  for f in editor/dist/*.wasm editor/dist/*.js editor/dist/*.css editor/dist/*.html; do
    [ -f "$f" ] || continue
    gzip -9 -n -c "$f" >"$f.gz"
    if [ -n "$py" ]; then
      "$py" -c 'import brotli, sys; open(sys.argv[2], "wb").write(brotli.compress(open(sys.argv[1], "rb").read(), quality=11))' "$f" "$f.br"
    fi
  done
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
