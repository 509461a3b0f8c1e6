"""A refitd that stops answering, on cue: an HTTP proxy on a free loopback port
(written to PORTFILE) that forwards GETs to UPSTREAM, except that after the
first OK page requests it drops the next FAIL ones without an answer (as a
stopped daemon would), then forwards again. /favicon.ico is not counted.

usage: page_proxy.py PORTFILE UPSTREAM OK FAIL"""
import http.server
import os
import socket
import sys
import threading
import urllib.error
import urllib.request

portfile, upstream, ok, fail = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
count = 0
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("proxy: " + (fmt % args) + "\n")

    def do_GET(self):
        global count
        if self.path.startswith("/favicon"):
            self.send_error(404)
            return
        with lock:
            count += 1
            n = count
        if ok < n <= ok + fail:
            self.log_message("request %d dropped: %s", n, self.path)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        try:
            with urllib.request.urlopen(upstream + self.path, timeout=10) as r:
                status, body, ctype = r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            status, body, ctype = e.code, e.read(), e.headers.get("Content-Type")
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
