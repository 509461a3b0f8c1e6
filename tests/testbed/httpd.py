#!/usr/bin/env python3
"""Loopback HTTP server for refit's tests: static files (feed mirrors) plus a
few test endpoints. Binds 127.0.0.1 on a free port and writes the port to
--port-file once listening, so parallel runs never collide.

Test endpoints (everything else is served from --root):
  /_t/echo            JSON {method, path, headers, body}
  /_t/status/CODE     empty answer with that status (Retry-After: 1 on 429)
  /_t/bytes/N         N bytes of 'x'
  /_t/slow/MS         answers after MS milliseconds
  /_t/stall           sends headers and 10 bytes, then nothing for 60 s
  /_t/cut             sends headers and 10 bytes of 1000, then closes the connection
  /_t/redirect?to=URL 302 to URL
  /_t/chunks          a chunked body of JSON objects split mid-object
  /_t/record/NAME     POST: keeps the request (headers, body); GET: the list kept under NAME
  /v2/test-status/CODE/…  registry-shaped path answering CODE (429 with Retry-After: 1)
  /v2/test-ratelimit/N/…  a manifest HEAD/GET with Docker Hub's RateLimit-* headers,
                      N requests remaining of 100 (behaviour the registry
                      server here cannot produce on demand)
  /v2/test-etag/tags/list  two pages (Link rel="next"), ETag "v1" on the first, 304 to
                      If-None-Match: "v1" (distribution sends no ETag on tags/list)
  /v2/test-evil/tags/list  a Link rel="next" to another origin
  /v2/test-pages/N/tags/list  N tags (1.0.0 ...) paginated as the distribution spec says
                      (n=, last=, Link rel="next"): the registry server here (2.8) ignores n=

A static file FILE with a FILE.ctype beside it is served with that file's first line as its
Content-Type (a mirror answering with the wrong type).
"""
import argparse, json, os, sys, threading, time
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from urllib.parse import urlparse, parse_qs


RECORDED = {}
RECORDED_LOCK = threading.Lock()


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if os.environ.get("HTTPD_VERBOSE"):
            super().log_message(fmt, *args)

    def send_plain(self, code, body=b"", ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(n) if n else b""

    def test_endpoint(self):
        u = urlparse(self.path)
        parts = u.path.split("/")[2:]
        q = parse_qs(u.query)
        if parts[0] == "echo":
            out = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": self.body().decode("utf-8", "replace")}
            return self.send_plain(200, json.dumps(out).encode(), "application/json",
                                   [("X-Multi", "one"), ("X-Multi", "two")])
        if parts[0] == "record":
            name = parts[1] if len(parts) > 1 else ""
            with RECORDED_LOCK:
                if self.command == "POST":
                    RECORDED.setdefault(name, []).append(
                        {"headers": {k.lower(): v for k, v in self.headers.items()},
                         "body": self.body().decode("utf-8", "replace")})
                    return self.send_plain(204)
                out = json.dumps(RECORDED.get(name, [])).encode()
            return self.send_plain(200, out, "application/json")
        if parts[0] == "status":
            code = int(parts[1])
            extra = [("Retry-After", "1")] if code == 429 else []
            return self.send_plain(code, b"", extra=extra)
        if parts[0] == "bytes":
            return self.send_plain(200, b"x" * int(parts[1]))
        if parts[0] == "slow":
            time.sleep(int(parts[1]) / 1000.0)
            return self.send_plain(200, b"slow")
        if parts[0] == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            time.sleep(60)
            return
        if parts[0] == "cut":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if parts[0] == "redirect":
            return self.send_plain(302, b"", extra=[("Location", q["to"][0])])
        if parts[0] == "chunks":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in [b'{"stream":"Step 1/2"}\r\n{"str', b'eam":"ok"}\r\n', b'{"aux":{"ID":"sha256:ab"}}\r\n']:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_plain(404, b"unknown test endpoint")

    def registry_endpoint(self):
        parts = urlparse(self.path).path.split("/")
        if len(parts) > 3 and parts[2] == "test-status":
            code = int(parts[3])
            body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS" if code == 429 else "UNAVAILABLE",
                                           "message": "test"}]}).encode()
            extra = [("Retry-After", "1")] if code == 429 else []
            return self.send_plain(code, body, "application/json", extra)
        if len(parts) > 3 and parts[2] == "test-ratelimit":
            body = b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}'
            import hashlib
            dig = "sha256:" + hashlib.sha256(body).hexdigest()
            return self.send_plain(200, body, "application/vnd.docker.distribution.manifest.v2+json",
                                   [("Docker-Content-Digest", dig),
                                    ("RateLimit-Limit", "100;w=21600"),
                                    ("RateLimit-Remaining", "%s;w=21600" % parts[3])])
        if len(parts) > 5 and parts[2] == "test-pages" and parts[4] == "tags":
            return self.pages_endpoint(int(parts[3]), parse_qs(urlparse(self.path).query))
        if len(parts) > 4 and parts[3] == "tags" and parts[2] in ("test-etag", "test-evil"):
            return self.tags_endpoint(parts[2], parse_qs(urlparse(self.path).query))
        return self.send_plain(404, b"{}", "application/json")

    def pages_endpoint(self, count, q):
        import bisect
        tags = sorted(f"1.{i // 100}.{i % 100}" for i in range(count))
        start = bisect.bisect_right(tags, q["last"][0]) if "last" in q else 0
        n = int(q["n"][0]) if "n" in q else len(tags)
        page, extra = tags[start:start + n], []
        if start + n < len(tags):
            extra = [("Link", f'</v2/test-pages/{count}/tags/list?last={page[-1]}&n={n}>; rel="next"')]
        body = json.dumps({"name": f"test-pages/{count}", "tags": page}).encode()
        return self.send_plain(200, body, "application/json", extra)

    def tags_endpoint(self, name, q):
        if "last" in q:
            return self.send_plain(200, json.dumps({"name": name, "tags": ["1.2"]}).encode(),
                                   "application/json")
        if self.headers.get("If-None-Match") == '"v1"':
            return self.send_plain(304, b"", "application/json", [("ETag", '"v1"')])
        nxt = ("http://evil.example" if name == "test-evil" else "") + \
            f"/v2/{name}/tags/list?last=1.1&n=2"
        return self.send_plain(200, json.dumps({"name": name, "tags": ["1.0", "1.1"]}).encode(),
                               "application/json", [("ETag", '"v1"'), ("Link", f'<{nxt}>; rel="next"')])

    def guess_type(self, path):
        try:
            with open(path + ".ctype") as f:
                return f.readline().strip()
        except OSError:
            return super().guess_type(path)

    def do_GET(self):
        if self.path.startswith("/_t/"):
            return self.test_endpoint()
        if self.path.startswith("/v2/"):
            return self.registry_endpoint()
        return super().do_GET()

    def do_HEAD(self):
        if self.path.startswith("/_t/"):
            return self.test_endpoint()
        if self.path.startswith("/v2/"):
            return self.registry_endpoint()
        return super().do_HEAD()

    do_POST = do_PUT = do_DELETE = test_endpoint


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=".")
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    os.chdir(a.root)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
