#!/usr/bin/env bash
# THE run command: set up, build the filter, the editor and the CLI, then run locally
#   - Envoy with the meshroute filter, configured by `meshroute render examples/<EXAMPLE>/`
#   - one tiny upstream per endpoint of the example (scripts/demo/upstream.py, JSON identity
#     responses named <service>-<subset>) on the example's 127.0.0.1 ports
#   - the editor (editor/dist) on a static server (scripts/demo/static.py: precompressed wasm)
# and print URLs and example requests. Ctrl-C stops everything.
#
# Usage: scripts/demo.sh [EXAMPLE]      (default: bookinfo-header-routing; see examples/)
# Env:   DEMO_NATIVE=1        render native Envoy routes instead of the Wasm filter
#        DEMO_SKIP_BUILD=1    reuse existing builds
#        DEMO_ENVOY_PORT (10000) DEMO_ADMIN_PORT (9901) DEMO_EDITOR_PORT (8700)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

EXAMPLE="${1:-bookinfo-header-routing}"
EXAMPLE_DIR="examples/$EXAMPLE"
[ -d "$EXAMPLE_DIR" ] || die "no example $EXAMPLE_DIR (have: $(ls examples | grep -v README | tr '\n' ' '))"
ENVOY_PORT="${DEMO_ENVOY_PORT:-10000}"
ADMIN_PORT="${DEMO_ADMIN_PORT:-9901}"
EDITOR_PORT="${DEMO_EDITOR_PORT:-8700}"
RUN="$(target_dir)/demo"
PYTHON="$(command -v python3)" || die "python3 is required"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_free() {
  local p
  for p in "$@"; do port_free "$p" || die "port $p is in use (stop what uses it, or see the env vars at the top of $0)"; done
}
need_free "$ENVOY_PORT" "$ADMIN_PORT" "$EDITOR_PORT"

if [ "${DEMO_SKIP_BUILD:-}" != 1 ]; then
  scripts/setup.sh filter editor
  [ "${DEMO_NATIVE:-}" = 1 ] || scripts/build.sh filter
  scripts/build.sh editor
  log "cargo build -p meshroute (CLI)"
  cargo build -q -p meshroute
fi
tools_path
WASM="$(target_dir)/wasm32-wasip1/release/meshroute_filter.wasm"
MESHROUTE="$(target_dir)/debug/meshroute"
[ -x "$MESHROUTE" ] || die "$MESHROUTE missing (cargo build -p meshroute)"
[ "${DEMO_NATIVE:-}" = 1 ] || [ -f "$WASM" ] || die "$WASM missing (scripts/build.sh filter)"
[ -f editor/dist/index.html ] || die "editor/dist missing (scripts/build.sh editor)"
command -v envoy >/dev/null || die "envoy missing (scripts/setup.sh filter)"

mkdir -p "$RUN"
rm -f "$RUN"/*.log

# --- Envoy config: `meshroute render` on the example ---------------------------------
RENDER=(render --format json --wasm "$WASM" --admin "127.0.0.1:$ADMIN_PORT")
GATEWAY="$(grep -o -- '--gateway [^ ]*' "$EXAMPLE_DIR/README.md" 2>/dev/null | head -n1 | cut -d' ' -f2 || true)"
if [ -n "$GATEWAY" ]; then
  RENDER+=(--gateway "$GATEWAY" --listen 127.0.0.1)   # listeners on the Gateway's server ports
else
  RENDER+=(--listen "127.0.0.1:$ENVOY_PORT")
fi
[ "${DEMO_NATIVE:-}" = 1 ] && RENDER+=(--native)
log "meshroute ${RENDER[*]} $EXAMPLE_DIR/"
"$MESHROUTE" "${RENDER[@]}" "$EXAMPLE_DIR/" >"$RUN/envoy.json" || die "meshroute render failed"

# Upstreams: every 127.0.0.1 endpoint of the rendered clusters, named <service>-<subset>
# after the cluster `outbound|PORT|SUBSET|FQDN`. Listener ports for the summary.
"$PYTHON" - "$RUN/envoy.json" >"$RUN/plan.txt" <<'PY'
import json, sys
boot = json.load(open(sys.argv[1]))
names = {}
for c in boot.get("static_resources", {}).get("clusters", []):
    parts = c.get("name", "").split("|")
    svc = parts[3].split(".")[0] if len(parts) == 4 else c.get("name", "upstream")
    subset = parts[2] if len(parts) == 4 else ""
    for group in c.get("load_assignment", {}).get("endpoints", []):
        for ep in group.get("lb_endpoints", []):
            sa = ep.get("endpoint", {}).get("address", {}).get("socket_address", {})
            if sa.get("address") == "127.0.0.1" and sa.get("port_value"):
                port = sa["port_value"]
                if subset or port not in names:
                    names[port] = f"{svc}-{subset}" if subset else svc
for port, name in sorted(names.items()):
    print("upstream", port, name)
for l in boot.get("static_resources", {}).get("listeners", []):
    sa = l.get("address", {}).get("socket_address", {})
    print("listener", sa.get("port_value"), l.get("name", ""))
PY
UP_PORTS=() UP_NAMES=() LISTENERS=()
while read -r kind port name; do
  case "$kind" in
    upstream) UP_PORTS+=("$port"); UP_NAMES+=("$name") ;;
    listener) LISTENERS+=("$port") ;;
  esac
done <"$RUN/plan.txt"
[ -n "$GATEWAY" ] && need_free "${LISTENERS[@]}"
[ "${#UP_PORTS[@]}" -gt 0 ] && need_free "${UP_PORTS[@]}"

log "validating $RUN/envoy.json"
envoy --mode validate -c "$RUN/envoy.json" -l warn --disable-hot-restart >"$RUN/validate.log" 2>&1 \
  || { cat "$RUN/validate.log" >&2; die "envoy rejected the rendered config"; }

# --- Processes --------------------------------------------------------------------------
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

for i in "${!UP_PORTS[@]}"; do
  "$PYTHON" scripts/demo/upstream.py "${UP_NAMES[$i]}" "${UP_PORTS[$i]}" >"$RUN/upstream-${UP_NAMES[$i]}.log" 2>&1 &
  PIDS+=($!)
done
envoy -c "$RUN/envoy.json" --concurrency 1 --base-id "$((RANDOM + 1000))" --disable-hot-restart \
  -l info >"$RUN/envoy.log" 2>&1 &
PIDS+=($!)
# Sends editor/dist's precompressed .br/.gz (scripts/build.sh) with Content-Encoding.
"$PYTHON" scripts/demo/static.py editor/dist "$EDITOR_PORT" >"$RUN/editor.log" 2>&1 &
PIDS+=($!)

for _ in $(seq 1 150); do
  [ "$(curl -s "http://127.0.0.1:$ADMIN_PORT/ready" 2>/dev/null)" = LIVE ] && break
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$RUN"/*.log >&2; die "a demo process exited"; }
  done
  sleep 0.2
done
[ "$(curl -s "http://127.0.0.1:$ADMIN_PORT/ready")" = LIVE ] || { tail -n 40 "$RUN/envoy.log" >&2; die "envoy not LIVE"; }

UPSTREAMS=""
for i in "${!UP_PORTS[@]}"; do UPSTREAMS+="${UP_NAMES[$i]}=127.0.0.1:${UP_PORTS[$i]} "; done
cat <<EOF

  meshroute demo: $EXAMPLE ($([ "${DEMO_NATIVE:-}" = 1 ] && echo native Envoy routes || echo Wasm filter)); config and logs in $RUN/

  Editor        http://127.0.0.1:$EDITOR_PORT/
  Envoy         listeners on 127.0.0.1: ${LISTENERS[*]}
  Envoy admin   http://127.0.0.1:$ADMIN_PORT/   (/stats/prometheus, /config_dump, /clusters)
  Upstreams     $UPSTREAMS
                (each answers JSON naming itself: {"upstream": "<service>-<subset>", ...})

  Try (from $EXAMPLE_DIR/README.md):
EOF
# Command lines of the README (with their backslash continuations).
awk 'cont || /^[[:space:]]*(time )?curl|^for / { print "    " $0; cont = /\\$/ }' "$EXAMPLE_DIR/README.md" || true
cat <<EOF
    curl -s 'http://127.0.0.1:$ADMIN_PORT/stats?filter=upstream_rq_total'

  Other examples: scripts/demo.sh <$(ls examples | grep -v README | tr '\n' '|' | sed 's/|$//')>
  Ctrl-C to stop.
EOF

# Exit (and clean up) as soon as any process dies, or on Ctrl-C.
wait -n "${PIDS[@]}" || true
log "shutting down (Ctrl-C or a process exited); logs in $RUN/"
