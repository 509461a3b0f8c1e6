#!/usr/bin/env python3
"""Fault-injecting HTTP proxy in front of the real registry, for refit's tests.

Forwards every request to --upstream (host:port) unchanged, unless a fault is
armed: GET /_fault?mode=MODE&count=N makes the next N forwarded requests
answer with MODE instead: 429 (with Retry-After: 1), 500, 503, or "drop" (the
connection is closed without an answer, as a registry that stops mid-poll).
GET /_fault?mode=ok disarms. Loopback only, free port written to --port-file.
"""
import argparse, http.client, os, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from urllib.parse import urlparse, parse_qs

state = {"mode": "ok", "count": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None

    def log_message(self, fmt, *a):
        pass

    def reply(self, code, body=b"", extra=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def fault(self):
        with lock:
            if state["count"] <= 0:
                return None
            state["count"] -= 1
            return state["mode"]

    def forward(self):
        u = urlparse(self.path)
        if u.path == "/_fault":
            q = parse_qs(u.query)
            with lock:
                state["mode"] = q.get("mode", ["ok"])[0]
                state["count"] = int(q.get("count", ["1"])[0])
            return self.reply(200, b"armed")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None  # read even when faulting: keep-alive stays in step
        mode = self.fault()
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode in ("429", "500", "503"):
            body = b'{"errors":[{"code":"%s","message":"injected"}]}' % (
                b"TOOMANYREQUESTS" if mode == "429" else b"UNAVAILABLE")
            return self.reply(int(mode), body, [("Content-Type", "application/json")] +
                              ([("Retry-After", "1")] if mode == "429" else []))
        c = http.client.HTTPConnection(*self.upstream)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", r.getheader("Content-Length") or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = forward


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    h, p = a.upstream.rsplit(":", 1)
    Handler.upstream = (h, int(p))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
