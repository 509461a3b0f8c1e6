#!/bin/bash
# Signatures and attestations against a real dockerd and docker-registry 2.8 (which has no
# referrers API: the fallback tag is the case here). With signing: { key_file } set, every
# pushed image gets a cosign signature (.sig) and its attestations (.att), found from the
# image digest through the referrers tag sha256-<hex>; an independent verifier written here
# from cosign's formats (python3-cryptography) and `refitctl verify` accept them, and refuse
# another key, an image pushed outside refit and a tampered payload. prod requires evidence:
# with a broken key it is not promoted and the build says why. The private key appears
# nowhere: logs, state, API, labels, registry.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
HERE=$(cd "$(dirname "$0")" && pwd)

# The signing key (PKCS#8 PEM, as openssl and cosign's import write it), its public half,
# and another key.
python3 - "$TB_DIR" <<'PY'
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
d = sys.argv[1]
for name in ("signing", "other"):
    k = ec.generate_private_key(ec.SECP256R1())
    open("%s/%s.key" % (d, name), "wb").write(k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    open("%s/%s.pub" % (d, name), "wb").write(k.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    open("%s/%s.scalar" % (d, name), "w").write("%064x" % k.private_numbers().private_value)
PY
chmod 600 "$TB_DIR/signing.key"

mkdir -p "$TB_DIR/a"
printf "FROM $R/refit-test/base:1\nRUN echo a > /a\nUSER 65534\n" >"$TB_DIR/a/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
signing: { key_file: $TB_DIR/signing.key }
projects:
  - name: a
    network: none
    context: $TB_DIR/a
    image: $R/team/a
    environments:
      test: { check: ["/bin/sh", "-c", "test -f /a"] }
      prod: { requires: "test, evidence" }
YAML
# requires evidence without a key is a configuration error
sed '/^signing:/d' "$cfg" >"$TB_DIR/nokey.yaml"
out=$("$REFITD" --check-config "$TB_DIR/nokey.yaml" 2>&1) && fail "requires evidence without a key accepted"
case $out in *"requires evidence, which needs signing"*) ;; *) fail "no-key error: $out" ;; esac
"$REFITD" --check-config "$cfg" >/dev/null 2>&1 || fail "config refused: $("$REFITD" --check-config "$cfg" 2>&1)"
ok "requires: evidence needs signing: key_file"

refitd_start "$cfg"
DB=$TB_DIR/state/state.db
wait_log "project a: rebuild done" 180
st=$(sql "$DB" "SELECT group_concat(env || '=' || status, ' ') FROM (SELECT env, status FROM builds WHERE project = 'a' ORDER BY id)")
[ "$st" = "test=succeeded prod=succeeded" ] || { cat "$TB_DIR"/state/logs/*.log; fail "builds: $st"; }
dprod=$(tb_digest team/a:prod)
dtest=$(tb_digest team/a:test)
[ -n "$dprod" ] && [ -n "$dtest" ] || fail "no digests"
tags=$(curl -s "http://$R/v2/team/a/tags/list")
for t in "sha256-${dprod#sha256:}" "sha256-${dprod#sha256:}.sig" "sha256-${dprod#sha256:}.att"; do
	case $tags in *"\"$t\""*) ;; *) fail "tag $t missing: $tags" ;; esac
done
grep -q "evidence: signature sha256:.*referrers in the fallback tag" "$TB_DIR/state/logs/2.log" ||
	{ cat "$TB_DIR/state/logs/2.log"; fail "prod log: no evidence line"; }
# the environment tag moves after the evidence: the log says so in that order
log2=$(cat "$TB_DIR/state/logs/2.log")
ev=$(grep -n "evidence: signature" <<<"$log2" | cut -d: -f1)
push=$(grep -n "pushing $R/team/a:prod\$" <<<"$log2" | cut -d: -f1)
[ -n "$ev" ] && [ -n "$push" ] && [ "$ev" -lt "$push" ] || fail "prod moved before its evidence: $log2"
ok "signature, attestations and referrers tag pushed before :prod moved"

# The independent verifier: through the referrers fallback tag (registry 2.8 answers 404).
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$R/v2/team/a/referrers/$dprod")" = 404 ] ||
	fail "this registry answers the referrers API: the fallback is not what is tested"
for d in "$dprod" "$dtest"; do
	out=$(python3 "$HERE/cosign_verify.py" "$R" team/a "$d" "$TB_DIR/signing.pub" --expect-fallback) ||
		fail "independent verifier refused $d: $out"
	case $out in *"signature ok: $R/team/a $d"*"attestation ok: urn:refit:rebuild:v1"*"referrers tag"*) ;;
	*) fail "verifier output: $out" ;; esac
done
echo "$out"
ok "an independent verifier (python3-cryptography, cosign's formats) accepts both images"

out=$("$REFITCTL" verify "$R/team/a:prod" --key "$TB_DIR/signing.pub" 2>&1) || fail "refitctl verify: $out"
echo "$out"
for want in "image: $R/team/a@$dprod" "from the referrers tag" "signature: ok" "manifest: $dprod" \
	"identity: $R/team/a" "predicate type: urn:refit:rebuild:v1" "subject: team/a@$dprod" "result: verified"; do
	case $out in *"$want"*) ;; *) fail "refitctl verify lacks '$want': $out" ;; esac
done
"$REFITCTL" verify "$R/team/a@$dtest" --key "$TB_DIR/signing.pub" >/dev/null 2>&1 || fail "refitctl verify by digest"
ok "refitctl verify reads and checks them"

# Another key: refused by both.
python3 "$HERE/cosign_verify.py" "$R" team/a "$dprod" "$TB_DIR/other.pub" >/dev/null && fail "verifier: another key accepted"
out=$("$REFITCTL" verify "$R/team/a:prod" --key "$TB_DIR/other.pub" 2>&1) && fail "refitctl: another key accepted: $out"
case $out in *"does not verify with this key"*"result: FAILED"*) ;; *) fail "other key: $out" ;; esac
# An image pushed outside refit: nothing to find, refused.
tb_docker tag "$R/refit-test/base:1" "$R/outside/x:1" && tb_docker push "$R/outside/x:1" >/dev/null || fail "outside push"
dout=$(tb_digest outside/x:1)
python3 "$HERE/cosign_verify.py" "$R" outside/x "$dout" "$TB_DIR/signing.pub" >/dev/null && fail "verifier: unsigned image accepted"
out=$("$REFITCTL" verify "$R/outside/x:1" --key "$TB_DIR/signing.pub" 2>&1) && fail "refitctl: unsigned image accepted: $out"
case $out in *"no valid signature"*) ;; *) fail "outside: $out" ;; esac
ok "another key and an image pushed outside refit fail verification"

# The private key is nowhere: refitd's log, the state (db and build logs), the API, labels,
# the registry's storage.
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
mkdir -p "$TB_DIR/scan"
for p in /v1/status /v1/projects /v1/projects/a "/v1/builds?limit=50" /v1/builds/1 /v1/builds/2 \
	/v1/builds/2/log /metrics /; do
	curl -s "http://127.0.0.1:$port$p" >"$TB_DIR/scan/api-$(echo "$p" | tr -c 'a-z0-9' _)"
done
tb_docker inspect "$R/team/a:prod" >"$TB_DIR/scan/inspect"
regdata=$(ls -d "$TB_DIR"/registry.*/data)
python3 - "$TB_DIR" "$RD_LOG" "$TB_DIR/state" "$TB_DIR/scan" "$regdata" <<'PY' || fail "the private key leaked"
import os, sys
d = sys.argv[1]
pem = open(d + "/signing.key", "rb").read()
scalar = open(d + "/signing.scalar").read().strip()
needles = [l for l in pem.split(b"\n") if l and not l.startswith(b"-----")]
needles += [scalar.encode(), scalar.upper().encode(), bytes.fromhex(scalar)]
leaks = 0
for top in sys.argv[2:]:
    paths = [top] if os.path.isfile(top) else [os.path.join(r, f) for r, _, fs in os.walk(top) for f in fs]
    for p in paths:
        data = open(p, "rb").read()
        for n in needles:
            if n in data:
                print("LEAK in %s" % p); leaks += 1
print("scanned for the private key: %d leak(s)" % leaks)
sys.exit(1 if leaks else 0)
PY
ok "the private key appears in no log, state, API answer, label or registry blob"

# Tampered payload: the signature no longer matches, both verifiers refuse.
python3 "$HERE/cosign_tamper.py" "$R" team/a "$dprod" || fail "tamper"
python3 "$HERE/cosign_verify.py" "$R" team/a "$dprod" "$TB_DIR/signing.pub" && fail "verifier: tampered payload accepted"
out=$("$REFITCTL" verify "$R/team/a:prod" --key "$TB_DIR/signing.pub" 2>&1) && fail "refitctl: tampered payload accepted: $out"
case $out in *"does not verify"*) ;; *) fail "tampered: $out" ;; esac
ok "a tampered payload fails verification"

# A broken key: test (evidence not required) still succeeds with a warning, prod is not
# promoted and its build says why, without a byte of the file.
echo "-----BEGIN PRIVATE KEY-----
not a key at all
-----END PRIVATE KEY-----" >"$TB_DIR/signing.key"
curl -s -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" "http://127.0.0.1:$port/v1/projects/a/rebuild" >/dev/null
wait_log "project a: rebuild failed" 180
st=$(sql "$DB" "SELECT group_concat(env || '=' || status, ' ') FROM (SELECT env, status FROM builds WHERE project = 'a' AND id > 2 ORDER BY id)")
[ "$st" = "test=succeeded prod=failed" ] || fail "after the key broke: $st"
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'a' AND env = 'prod' ORDER BY id DESC LIMIT 1")
case $err in "not promoted: evidence not pushed: $TB_DIR/signing.key: no unencrypted PEM key in it") ;;
*) fail "prod error: $err" ;; esac
grep -q "warning: evidence not pushed" "$TB_DIR/state/logs/3.log" || fail "test: no warning"
grep -q "pushing $R/team/a:prod\$" "$TB_DIR/state/logs/4.log" && fail "prod pushed without evidence"
grep -rq "not a key at all" "$TB_DIR/state" "$RD_LOG" && fail "the key file's content reached a log"
ok "a required evidence that cannot be pushed stops the promotion, with the reason"
refitd_stop
