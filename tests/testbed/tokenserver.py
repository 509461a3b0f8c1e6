#!/usr/bin/python3
"""Token server for the distribution registry's `token` auth (the protocol of
docs/spec/auth/token.md), so that refit's Bearer flow is tested against the
real registry server. Loopback only, free port written to --port-file.

At start it makes an RSA key and a self-signed certificate (written to
--cert for the registry's rootcertbundle) and then issues RS256 JWTs with the
certificate in the x5c header.

Policy: the user/password given on the command line gets every action it
asks for; anonymous callers get `pull` on repositories under public/ and
nothing else (the token server grants less, the registry then refuses).
GET /_count answers how many tokens were issued (the tests check caching).
Needs python3-cryptography (Debian package).
"""
import argparse, base64, datetime, json, os, threading, time, uuid
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from urllib.parse import urlparse, parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "refit-testbed-token")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


class State:
    issued = 0
    lock = threading.Lock()


def handler_for(args, key, cert):
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def reply(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def caller(self):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return None
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            return user if (user, pw) == (args.user, args.password) else False

        def grant(self, who, scopes):
            access = []
            for s in scopes:
                parts = s.split(":")
                if len(parts) != 3 or parts[0] != "repository":
                    continue
                actions = parts[2].split(",")
                if not who:
                    actions = [a for a in actions if a == "pull" and parts[1].startswith("public/")]
                access.append({"type": "repository", "name": parts[1], "actions": actions})
            return access

        def do_GET(self):
            u = urlparse(self.path)
            if u.path == "/_count":
                return self.reply(200, {"issued": State.issued})
            if u.path != "/token":
                return self.reply(404, {"error": "not found"})
            who = self.caller()
            if who is False:
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            q = parse_qs(u.query)
            now = int(time.time())
            claims = {"iss": args.issuer, "sub": who or "", "aud": q.get("service", [""])[0],
                      "exp": now + args.expires, "nbf": now - 10, "iat": now,
                      "jti": uuid.uuid4().hex, "access": self.grant(who, q.get("scope", []))}
            header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
            signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
            sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
            token = signing + "." + b64url(sig)
            with State.lock:
                State.issued += 1
            self.reply(200, {"token": token, "access_token": token, "expires_in": args.expires,
                             "issued_at": datetime.datetime.utcfromtimestamp(now).isoformat() + "Z"})

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--issuer", default="refit-testbed")
    ap.add_argument("--expires", type=int, default=300)
    args = ap.parse_args()
    key, cert = make_cert()
    with open(args.cert, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(args, key, cert))
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
