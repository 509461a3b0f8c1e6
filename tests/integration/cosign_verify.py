#!/usr/bin/python3
"""An independent verifier of cosign signatures and attestations in a registry,
written from cosign's published formats (the simple signing payload, the
sha256-<hex>.sig / .att tags, the DSSE envelope and its PAE) and the OCI
distribution spec 1.1 (referrers API, else the referrers tag sha256-<hex>),
with python3-cryptography. It shares no code with refit.

usage: cosign_verify.py REGISTRY REPO DIGEST PUBKEY.pem [--expect-fallback]
prints what verified; exit 0 when a signature and every attestation verify.
"""
import base64, hashlib, json, sys, urllib.error, urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"])


def get(reg, path):
    req = urllib.request.Request("http://%s/v2/%s" % (reg, path), headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), ""


def get_by_digest(reg, repo, kind, digest):
    st, body, _ = get(reg, "%s/%s/%s" % (repo, kind, digest))
    if st != 200:
        raise ValueError("%s %s: HTTP %d" % (kind, digest, st))
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise ValueError("%s %s: content does not match its digest" % (kind, digest))
    return body


def ecdsa_ok(pub, sig_b64, msg):
    try:
        pub.verify(base64.b64decode(sig_b64, validate=True), msg, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


def pae(ptype, payload):
    t = ptype.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def main():
    reg, repo, digest, keyfile = sys.argv[1:5]
    expect_fallback = "--expect-fallback" in sys.argv
    pub = serialization.load_pem_public_key(open(keyfile, "rb").read())
    hexd = digest.split(":", 1)[1]
    st, body, ct = get(reg, "%s/referrers/%s" % (repo, digest))
    if st == 200 and "image.index" in ct:
        where = "referrers API"
        if expect_fallback:
            raise SystemExit("the registry answered the referrers API; expected the fallback")
    else:
        where = "referrers tag sha256-%s" % hexd
        st, body, ct = get(reg, "%s/manifests/sha256-%s" % (repo, hexd))
        if st != 200:
            print("no referrers for %s (HTTP %d)" % (digest, st))
            return 1
    index = json.loads(body)
    sigs = atts = bad = 0
    for desc in index.get("manifests", []):
        m = json.loads(get_by_digest(reg, repo, "manifests", desc["digest"]))
        if m.get("subject", {}).get("digest") != digest:
            print("artifact %s: subject is not the image" % desc["digest"]); bad += 1; continue
        for layer in m["layers"]:
            blob = get_by_digest(reg, repo, "blobs", layer["digest"])
            ann = layer.get("annotations", {})
            if layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json":
                payload = json.loads(blob)
                crit = payload["critical"]
                if not ecdsa_ok(pub, ann.get("dev.cosignproject.cosign/signature", ""), blob):
                    print("signature %s: INVALID" % layer["digest"]); bad += 1
                elif crit["image"]["docker-manifest-digest"] != digest or \
                        crit["type"] != "cosign container image signature" or \
                        crit["identity"]["docker-reference"] != "%s/%s" % (reg, repo):
                    print("signature %s: payload is about something else" % layer["digest"]); bad += 1
                else:
                    print("signature ok: %s %s" % (crit["identity"]["docker-reference"],
                                                   crit["image"]["docker-manifest-digest"]))
                    sigs += 1
            elif layer["mediaType"] == "application/vnd.dsse.envelope.v1+json":
                env = json.loads(blob)
                payload = base64.b64decode(env["payload"])
                msg = pae(env["payloadType"], payload)
                if not any(ecdsa_ok(pub, s["sig"], msg) for s in env["signatures"]):
                    print("attestation %s: INVALID" % layer["digest"]); bad += 1; continue
                stmt = json.loads(payload)
                subj = [s["digest"].get("sha256") for s in stmt["subject"]]
                if env["payloadType"] != "application/vnd.in-toto+json" or hexd not in subj or \
                        ann.get("predicateType") != stmt["predicateType"]:
                    print("attestation %s: about something else" % layer["digest"]); bad += 1
                else:
                    print("attestation ok: %s" % stmt["predicateType"]); atts += 1
    # cosign-style tooling looks the same manifests up by tag
    for suffix in (".sig", ".att"):
        st, body, _ = get(reg, "%s/manifests/sha256-%s%s" % (repo, hexd, suffix))
        listed = {d["digest"] for d in index.get("manifests", [])}
        if st != 200 or "sha256:" + hashlib.sha256(body).hexdigest() not in listed:
            print("tag sha256-%s%s: missing or not among the referrers" % (hexd, suffix)); bad += 1
    print("found through the %s: %d signature(s), %d attestation(s), %d failure(s)" %
          (where, sigs, atts, bad))
    return 0 if sigs and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
