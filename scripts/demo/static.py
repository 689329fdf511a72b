#!/usr/bin/env python3
"""Static file server for the editor (editor/dist) that sends precompressed files.

usage: static.py DIR PORT

Like `python3 -m http.server --bind 127.0.0.1 --directory DIR PORT`, plus: when the browser
accepts it and scripts/build.sh wrote FILE.br (brotli q11) or FILE.gz (gzip -9) next to FILE,
that file is sent with `Content-Encoding` (and `Vary: Accept-Encoding`) and FILE's content
type, so the wasm crosses the network compressed. `.wasm` is served as `application/wasm`
(streaming compilation). Nothing is compressed on the fly.
"""
import os
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
PORT = int(sys.argv[2])

# (Accept-Encoding token, file suffix), preferred first.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted(header):
    """Codings the client accepts (q=0 excluded)."""
    out = set()
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = next((f[2:] for f in fields[1:] if f.startswith("q=")), "1")
        try:
            if float(q) > 0:
                out.add(fields[0].lower())
        except ValueError:
            pass
    return out


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
    }

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?", 1)[0].endswith("/"):
            path = os.path.join(path, "index.html")
        if os.path.isfile(path):
            codings = accepted(self.headers.get("Accept-Encoding"))
            for token, suffix in ENCODINGS:
                if token in codings and os.path.isfile(path + suffix):
                    return self._send_encoded(path, path + suffix, token)
        return super().send_head()

    def _send_encoded(self, path, encoded, token):
        f = open(encoded, "rb")
        try:
            st = os.fstat(f.fileno())
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Encoding", token)
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
            self.end_headers()
            self.log_message("%s sent as %s (%d bytes)", self.path, token, st.st_size)
            return f
        except BaseException:
            f.close()
            raise


if __name__ == "__main__":
    handler = partial(Handler, directory=DIR)
    ThreadingHTTPServer(("127.0.0.1", PORT), handler).serve_forever()
