#!/bin/bash
# Every error status refitd sends has the JSON body of DESIGN.md ({"error":{"code","message"}},
# Content-Type application/json): an oversized header (431), an oversized request target
# (414), a bad method (405), a declared body too large (413), an unknown path (404), a POST
# without a token (403). A malformed request line gets no answer at all (MHD closes). The
# statuses libmicrohttpd 0.9.75 answers itself, with a body the application cannot supply
# (a header line without a colon or bad chunked framing: 400; an HTTP version it does not
# know: 505; a head beyond its 64 KiB pool: 431/414), are listed as known, not failed.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
mkdir -p "$TB_DIR/ctx"
echo 'FROM scratch' >"$TB_DIR/ctx/Dockerfile"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
engines: [ { host: unix://$TB_DIR/no-engine.sock } ]
projects:
  - { name: a, context: $TB_DIR/ctx, image: reg.test/a, environments: { prod: {} } }
YAML
refitd_start "$cfg"
wait_log "REST API listening on" 60
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
python3 - "$port" <<'PY' || fail "an error status without the JSON body"
import json, socket, sys
port = int(sys.argv[1])

def send(data):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        c.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    c.close()
    return out

def head(req, extra=b""):
    return req + b"\r\nHost: t\r\n" + extra + b"Connection: close\r\n\r\n"

def parse(out):
    h, _, body = out.partition(b"\r\n\r\n")
    lines = h.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    return status, hdrs, body

bad = 0
def expect_json(name, data, want):
    global bad
    out = send(data)
    if not out:
        print("FAIL: %s: no answer" % name); bad += 1; return
    status, hdrs, body = parse(out)
    try:
        e = json.loads(body)["error"]
        okj = isinstance(e["code"], str) and isinstance(e["message"], str)
    except Exception:
        okj = False
    if status != want or not okj or not hdrs.get("content-type", "").startswith("application/json"):
        print("FAIL: %s: %d %r %r" % (name, status, hdrs.get("content-type"), body[:200])); bad += 1
    else:
        print("ok: %s: %d %s" % (name, status, body.decode()))

expect_json("oversized header (9 KiB)", head(b"GET /v1/projects HTTP/1.1", b"X-Big: " + b"y" * 9000 + b"\r\n"), 431)
expect_json("oversized header (60 KiB)", head(b"GET /v1/projects HTTP/1.1", b"X-Big: " + b"y" * 60000 + b"\r\n"), 431)
expect_json("many headers", head(b"GET /healthz HTTP/1.1", b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90) for i in range(120))), 431)
expect_json("oversized request target", head(b"GET /v1/projects?" + b"q" * 5000 + b" HTTP/1.1"), 414)
expect_json("bad method", head(b"FROB /v1/projects HTTP/1.1"), 405)
expect_json("method with odd characters", head(b"G(T /healthz HTTP/1.1"), 405)
expect_json("method on a POST route", head(b"DELETE /v1/projects/a/rebuild HTTP/1.1"), 405)
expect_json("unknown path", head(b"GET /nope HTTP/1.1"), 404)
expect_json("declared body too large", head(b"POST /v1/projects/a/rebuild HTTP/1.1", b"Content-Length: 99999999999\r\n"), 413)
expect_json("POST without a token", head(b"POST /v1/projects/a/rebuild HTTP/1.1", b"Content-Length: 0\r\n"), 403)
expect_json("bad percent escape", head(b"GET /v1/projects/%zz HTTP/1.1"), 400)

for name, data in [("request line without spaces", b"GARBAGE\r\nHost: t\r\n\r\n"),
                   ("request line without a target", b"GET\r\n\r\n"),
                   ("binary junk", bytes(range(1, 255)) + b"\r\n\r\n")]:
    out = send(data)
    if out:
        status, hdrs, body = parse(out)
        if status >= 400 and not body.startswith(b'{"error"') and status not in (400, 505):
            print("FAIL: %s: %r" % (name, out[:200])); bad += 1; continue
        print("ok: %s: %d" % (name, status))
    else:
        print("ok: %s: closed without an answer" % name)

# libmicrohttpd's own answers (its compile-time HTML; no API lets the application replace it).
for name, data in [("header line without a colon", head(b"GET /healthz HTTP/1.1", b"NoColon\r\n")),
                   ("bad chunked framing", head(b"POST /v1/projects/a/rebuild HTTP/1.1", b"Transfer-Encoding: chunked\r\n") + b"ZZ\r\n"),
                   ("HTTP/2.0 request line", head(b"GET / HTTP/2.0")),
                   ("head beyond the 64 KiB pool", head(b"GET /healthz HTTP/1.1", b"X-Big: " + b"y" * 70000 + b"\r\n"))]:
    out = send(data)
    status = parse(out)[0] if out else 0
    print("known: %s: %d from libmicrohttpd (%s)" % (name, status, "JSON" if b'{"error"' in out else "its HTML page"))

# Still serving.
out = send(head(b"GET /healthz HTTP/1.1"))
if not out.startswith(b"HTTP/1.1 200") and not out.startswith(b"HTTP/1.1 503"):
    print("FAIL: /healthz after the odd requests: %r" % out[:200]); bad += 1
sys.exit(1 if bad else 0)
PY
refitd_stop
