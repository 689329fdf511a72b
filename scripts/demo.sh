#!/usr/bin/env bash
# THE run command: set up, build the filter and the editor, then run locally
#   - two upstreams v1 / v2 (scripts/demo/upstream.py, JSON identity responses)
#   - Envoy with the meshroute filter (config rendered into target/demo/)
#   - the editor (editor/dist) on a static server
# and print URLs and example requests. Ctrl-C stops everything.
#
# Usage: scripts/demo.sh
# Env:   DEMO_FILTER_CONFIG   JSON plugin config for the filter (default {"cluster":"v2"})
#        DEMO_SKIP_BUILD=1    reuse existing builds
#        DEMO_ENVOY_PORT (10000) DEMO_ADMIN_PORT (9901) DEMO_EDITOR_PORT (8080)
#        DEMO_V1_PORT (8081) DEMO_V2_PORT (8082)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

ENVOY_PORT="${DEMO_ENVOY_PORT:-10000}"
ADMIN_PORT="${DEMO_ADMIN_PORT:-9901}"
EDITOR_PORT="${DEMO_EDITOR_PORT:-8080}"
V1_PORT="${DEMO_V1_PORT:-8081}"
V2_PORT="${DEMO_V2_PORT:-8082}"
DEFAULT_FILTER_CONFIG='{"cluster":"v2"}'
FILTER_CONFIG="${DEMO_FILTER_CONFIG:-$DEFAULT_FILTER_CONFIG}"
RUN="$(target_dir)/demo"
PYTHON="$(command -v python3)"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$ENVOY_PORT" "$ADMIN_PORT" "$EDITOR_PORT" "$V1_PORT" "$V2_PORT"; do
  port_free "$p" || die "port $p is in use (override with DEMO_*_PORT, see the header of $0)"
done

if [ "${DEMO_SKIP_BUILD:-}" != 1 ]; then
  scripts/setup.sh filter editor
  scripts/build.sh all
fi
tools_path
WASM="$(target_dir)/wasm32-wasip1/release/meshroute_filter.wasm"
[ -f "$WASM" ] || die "$WASM missing (scripts/build.sh filter)"
[ -f editor/dist/index.html ] || die "editor/dist missing (scripts/build.sh editor)"
command -v envoy >/dev/null || die "envoy missing (scripts/setup.sh filter)"

mkdir -p "$RUN"
rm -f "$RUN"/*.log

render_config() {
  # TODO(meshroute render): replace this template with the real renderer, e.g.
  #   cargo run -q -- render examples/<name>/ --wasm "$WASM" \
  #     --upstream v1=127.0.0.1:$V1_PORT --upstream v2=127.0.0.1:$V2_PORT \
  #     --listen 127.0.0.1:$ENVOY_PORT --admin 127.0.0.1:$ADMIN_PORT > "$RUN/envoy.yaml"
  "$PYTHON" - scripts/demo/envoy.yaml.tmpl "$RUN/envoy.yaml" \
    "@ADMIN_PORT@=$ADMIN_PORT" "@LISTENER_PORT@=$ENVOY_PORT" "@V1_PORT@=$V1_PORT" \
    "@V2_PORT@=$V2_PORT" "@WASM@=$WASM" "@FILTER_CONFIG@=$FILTER_CONFIG" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
for arg in sys.argv[3:]:
    key, value = arg.split("=", 1)
    if key == "@FILTER_CONFIG@":
        # Must be JSON; goes into a YAML single-quoted scalar (quotes doubled).
        value = json.dumps(json.loads(value)).replace("'", "''")
    text = text.replace(key, value)
open(sys.argv[2], "w").write(text)
PY
}
render_config
log "validating $RUN/envoy.yaml"
envoy --mode validate -c "$RUN/envoy.yaml" -l warn --disable-hot-restart >"$RUN/validate.log" 2>&1 \
  || { cat "$RUN/validate.log" >&2; die "envoy rejected the config"; }

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  if [ "${#PIDS[@]}" -gt 0 ]; then
    log "stopping (${PIDS[*]})"
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$PYTHON" scripts/demo/upstream.py v1 "$V1_PORT" >"$RUN/v1.log" 2>&1 & PIDS+=($!)
"$PYTHON" scripts/demo/upstream.py v2 "$V2_PORT" >"$RUN/v2.log" 2>&1 & PIDS+=($!)
envoy -c "$RUN/envoy.yaml" --concurrency 1 --base-id "$((RANDOM + 1000))" --disable-hot-restart \
  -l info >"$RUN/envoy.log" 2>&1 & PIDS+=($!)
"$PYTHON" -m http.server "$EDITOR_PORT" --bind 127.0.0.1 --directory editor/dist >"$RUN/editor.log" 2>&1 & PIDS+=($!)

for _ in $(seq 1 100); do
  [ "$(curl -s "http://127.0.0.1:$ADMIN_PORT/ready" 2>/dev/null)" = LIVE ] && break
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || { tail -n 40 "$RUN"/*.log >&2; die "a demo process exited"; }; done
  sleep 0.2
done
[ "$(curl -s "http://127.0.0.1:$ADMIN_PORT/ready")" = LIVE ] || { tail -n 40 "$RUN/envoy.log" >&2; die "envoy not LIVE"; }

cat <<EOF

  meshroute demo is running (logs and config in $RUN/)

  Editor        http://127.0.0.1:$EDITOR_PORT/
  Envoy         http://127.0.0.1:$ENVOY_PORT/        (filter config: $FILTER_CONFIG)
  Envoy admin   http://127.0.0.1:$ADMIN_PORT/        (/stats, /config_dump, /clusters)
  Upstreams     v1 http://127.0.0.1:$V1_PORT/   v2 http://127.0.0.1:$V2_PORT/

  Try:
    curl -si http://127.0.0.1:$ENVOY_PORT/hello              # reaches v2, response has x-meshroute
    curl -s  -H 'x-upstream-status: 503' http://127.0.0.1:$ENVOY_PORT/
    curl -s  'http://127.0.0.1:$ADMIN_PORT/stats?filter=cluster.v[12].upstream_rq_total'
    DEMO_FILTER_CONFIG='{}' scripts/demo.sh                 # then: curl -s -H 'x-meshroute-cluster: v1' ...

  Ctrl-C to stop.
EOF

# Exit (and clean up) as soon as any process dies, or on Ctrl-C.
wait -n "${PIDS[@]}" || true
log "a demo process exited; see $RUN/*.log"
