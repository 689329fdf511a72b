#!/usr/bin/env python3
"""Tiny demo upstream: answers every request with JSON identifying itself.

usage: upstream.py NAME PORT
Response: {"upstream": NAME, "method": ..., "path": ..., "query": ..., "headers": {...}}
plus header `x-upstream: NAME`. Request header `x-upstream-status: 503` sets the status,
`x-upstream-delay-ms: 250` delays the answer (try them through Envoy).
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

NAME = sys.argv[1]
PORT = int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        delay = int(self.headers.get("x-upstream-delay-ms") or 0)
        if delay:
            time.sleep(delay / 1000)
        status = int(self.headers.get("x-upstream-status") or 200)
        url = urlsplit(self.path)
        out = json.dumps({
            "upstream": NAME,
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }, indent=2).encode() + b"\n"
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.send_header("x-upstream", NAME)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

    def log_message(self, fmt, *args):
        sys.stderr.write(f"[{NAME}] {self.address_string()} {fmt % args}\n")


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
