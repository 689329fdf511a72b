# Shared helpers for scripts/*.sh (sourced, not executed). Expects $ROOT.

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '\033[1;31m[%s] error:\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# Put the pinned build tools first on PATH: npm binaryen's wasm-opt (.tools/),
# cargo-installed trunk + wasm-bindgen (~/.cargo/bin), Envoy (.venv/bin).
tools_path() {
  export PATH="$ROOT/.tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$ROOT/.venv/bin:$PATH"
}

target_dir() {
  local dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  case "$dir" in /*) echo "$dir" ;; *) echo "$ROOT/$dir" ;; esac
}

size_of() { wc -c <"$1" | tr -d ' '; }
gzip_size_of() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
