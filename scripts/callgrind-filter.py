#!/usr/bin/env python3
"""Instructions per request of Envoy with the no-op filter (arm C) and with meshroute (D).

Wall-clock CPU per request moves by +-20 us between rounds on a shared 2-core VM, which
hides a 3 us target. Instruction counts hardly depend on the machine's load: this runs
each arm's Envoy (the bootstraps `scripts/bench-filter.sh` wrote to
target/bench/filter-run/<kind>-<rules>/) under `valgrind --tool=callgrind`, sends WARMUP
requests, zeroes the counters, sends N requests on one keep-alive connection, dumps, and
reports instructions per request split by where they ran:

  envoy binary  Envoy's own C++ (HTTP, router, the proxy-wasm host functions)
  V8 builtins   V8's embedded builtins (Wasm <-> host transitions; no ELF symbols)
  JIT code      code V8 generated at run time: the filter's Wasm (and V8 stubs)
  libc          malloc, memcpy, ...

A bench-filter run replaces target/bench/filter-run/ with its own cells, so run it for the
cell measured here (e.g. `MESHROUTE_BENCH_ROUNDS=1 scripts/bench-filter.sh --rules 1
--kinds prefix` for prefix-1).

Usage: scripts/callgrind-filter.py [--cell prefix-1] [--arms noop-wasm,meshroute]
                                   [-n 500] [--warmup 200] [--wasm PATH]
  --wasm: the meshroute arm loads this .wasm instead of the bootstrap's.
Writes target/bench/callgrind-filter.json. About 2.5 min per arm.

Caveat: callgrind runs the code about 50x slower, so work driven by wall-clock timers
(Envoy's stats flush, the filter's 100 ms counter flush) is over-counted per request.
Same-arm repeats differ by about 1,000 instructions per request.
"""
import argparse
import collections
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
CLUSTER = "outbound|80||bench.default.svc.cluster.local"
CATEGORIES = ["envoy binary", "V8 builtins", "JIT code", "libc"]


def upstream():
    """A keep-alive HTTP/1.1 upstream answering 200 to everything; returns its port."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)

    def serve(c):
        buf = b""
        with c:
            while True:
                try:
                    d = c.recv(65536)
                except OSError:
                    return
                if not d:
                    return
                buf += d
                while b"\r\n\r\n" in buf:
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    c.sendall(RESPONSE)

    def accept():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return s.getsockname()[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(port, n, request):
    """Sends n requests on one connection; returns how many got 200."""
    ok = 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        for _ in range(n):
            s.sendall(request)
            buf = b""
            while True:
                d = s.recv(65536)
                if not d:
                    sys.exit("envoy closed the connection")
                buf += d
                if b"\r\n\r\n" in buf:
                    head, rest = buf.split(b"\r\n\r\n", 1)
                    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    if len(rest) >= (int(m.group(1)) if m else 0):
                        break
            ok += head.startswith(b"HTTP/1.1 200")
    return ok


def category(ob, fn):
    if ob and ob.endswith("/envoy"):
        return "envoy binary"
    if ob and ("libc" in ob or "libm" in ob):
        return "libc"
    if fn and fn.startswith("0x00000000"):
        return "V8 builtins"
    return "JIT code"


def self_costs(path):
    """Self cost (instructions) per category from a callgrind output file."""
    names, ob, fn, skip = {}, None, None, False
    cost = collections.Counter()
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if skip:
            skip = False
            continue
        m = re.match(r"(ob|fn|cob|cfn|cfi|cfl|fl|fi|fe)=(.*)", line)
        if m:
            kind, v = m.groups()
            key = "ob" if kind in ("ob", "cob") else "fn" if kind in ("fn", "cfn") else "fl"
            c = re.match(r"\((\d+)\)\s*(.*)", v)
            if c:
                if c.group(2):
                    names[key + c.group(1)] = c.group(2)
                v = names.get(key + c.group(1), "?")
            if kind == "ob":
                ob = v
            elif kind == "fn":
                fn = v
        elif line.startswith("calls="):
            skip = True  # the next line is the call's inclusive cost, not self cost
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                cost[category(ob, fn)] += int(parts[1])
    return cost


def envoy_binary():
    """The Envoy executable itself (.venv/bin/envoy is a Python launcher)."""
    out = subprocess.run(
        [os.path.join(ROOT, ".venv/bin/python"), "-c",
         "import envoy, os; print(os.path.join(os.path.dirname(envoy.__file__), '_bin', 'envoy'))"],
        capture_output=True, text=True, check=True)
    return out.stdout.strip()


def request_for(cell, arm):
    kind, rules = cell.rsplit("-", 1)
    req = f"GET /r{int(rules) - 1}/items/42 HTTP/1.1\r\nhost: bench\r\n"
    if kind == "regex":
        req += "x-user: user-42\r\n"
    if arm == "noop-wasm":
        req += f"x-meshroute-cluster: {CLUSTER}\r\n"  # the no-op filter routes nothing
    return (req + "\r\n").encode()


def run_arm(args, arm, up, workdir):
    src = os.path.join(ROOT, "target/bench/filter-run", args.cell, arm, "envoy.json")
    if not os.path.exists(src):
        kind, rules = args.cell.rsplit("-", 1)
        sys.exit(f"{src} missing: run scripts/bench-filter.sh --rules {rules} --kinds {kind} first")
    cfg = json.load(open(src))
    listen, admin = free_port(), free_port()
    cfg["admin"]["address"]["socket_address"]["port_value"] = admin
    for listener in cfg["static_resources"]["listeners"]:
        listener["address"]["socket_address"]["port_value"] = listen
    for cluster in cfg["static_resources"]["clusters"]:
        for e in cluster.get("load_assignment", {}).get("endpoints", []):
            for lb in e["lb_endpoints"]:
                lb["endpoint"]["address"]["socket_address"]["port_value"] = up
    text = json.dumps(cfg)
    if args.wasm and arm == "meshroute":
        text = re.sub(r'"filename": "[^"]*meshroute_filter\.wasm"',
                      lambda _: '"filename": ' + json.dumps(os.path.abspath(args.wasm)), text)
    path = os.path.join(workdir, f"{arm}.json")
    open(path, "w").write(text)
    req = request_for(args.cell, arm)
    out = os.path.join(workdir, f"callgrind.{arm}")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--smc-check=all-non-file",
         f"--callgrind-out-file={out}.%p", envoy_binary(), "-c", path,
         "--concurrency", "1", "-l", "warn", "--disable-hot-restart",
         "--base-id", str(os.getpid() % 50000 + 7000)],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, f"{arm}.log"), "w"))
    deadline = time.time() + 600
    while True:
        try:
            socket.create_connection(("127.0.0.1", listen), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                sys.exit(f"{arm}: envoy did not start (see {workdir}/{arm}.log)")
            time.sleep(0.5)
    if send(listen, args.warmup, req) != args.warmup:
        sys.exit(f"{arm}: warm-up requests failed")
    subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
    ok = send(listen, args.n, req)
    subprocess.run(["callgrind_control", "-d", "window", str(proc.pid)],
                   capture_output=True, check=True)
    try:
        with socket.create_connection(("127.0.0.1", admin)) as s:
            s.sendall(b"POST /quitquitquit HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
            s.recv(1024)
    except OSError:
        pass
    proc.wait(timeout=300)
    if ok != args.n:
        sys.exit(f"{arm}: {args.n - ok} of {args.n} requests failed")
    costs = self_costs(f"{out}.{proc.pid}.1")
    return {c: costs.get(c, 0) / args.n for c in CATEGORIES}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cell", default="prefix-1")
    ap.add_argument("--arms", default="noop-wasm,meshroute")
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--wasm")
    args = ap.parse_args()
    workdir = os.path.join(ROOT, "target/bench/callgrind")
    os.makedirs(workdir, exist_ok=True)
    up = upstream()
    results = {}
    for arm in args.arms.split(","):
        print(f"[callgrind-filter] {args.cell} {arm}: {args.warmup} warm-up + {args.n} "
              "measured requests under callgrind", file=sys.stderr)
        results[arm] = run_arm(args, arm, up, workdir)
    print(f"\ninstructions per request ({args.cell}, {args.n} requests after {args.warmup} warm-up)")
    print(f"  {'arm':<12}" + "".join(f"{c:>14}" for c in CATEGORIES) + f"{'total':>12}")
    for arm, r in results.items():
        print(f"  {arm:<12}" + "".join(f"{r[c]:>14,.0f}" for c in CATEGORIES)
              + f"{sum(r.values()):>12,.0f}")
    arms = list(results)
    if len(arms) == 2:
        c, d = results[arms[0]], results[arms[1]]
        print(f"  {'difference':<12}" + "".join(f"{d[k] - c[k]:>+14,.0f}" for k in CATEGORIES)
              + f"{sum(d.values()) - sum(c.values()):>+12,.0f}")
    out = os.path.join(ROOT, "target/bench/callgrind-filter.json")
    with open(out, "w") as f:
        json.dump({"cell": args.cell, "n": args.n, "warmup": args.warmup, "wasm": args.wasm,
                   "instructions_per_request": results}, f, indent=1)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
