#!/usr/bin/env python3
"""Pushes one small image to a registry and tags it with many tags, cheaply:
the blobs once, then the same manifest PUT under every tag (distribution
stores a tag as a pointer, so 10,000 tags cost 10,000 small PUTs, no layers).

  tagpush.py REGISTRY REPO TAGS   TAGS: a file of tags (one a line) or gen:N
Basic auth from TB_REG_USER / TB_REG_PASS when REGPUSH_AUTH=1. Prints the
number of tags pushed.
"""
import base64, gzip, hashlib, http.client, io, json, os, sys, tarfile, threading

THREADS = 8


def conn(reg):
    host, port = reg.split(":")
    return http.client.HTTPConnection(host, int(port), timeout=60)


def headers(extra=None):
    h = dict(extra or {})
    if os.environ.get("REGPUSH_AUTH") == "1":
        pair = f"{os.environ['TB_REG_USER']}:{os.environ['TB_REG_PASS']}".encode()
        h["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return h


def request(c, method, path, body=None, extra=None):
    c.request(method, path, body=body, headers=headers(extra))
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit(f"tagpush: {method} {path}: HTTP {r.status} {data[:200]!r}")
    return r


def push_blob(c, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = request(c, "POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"})
    loc = r.getheader("Location")
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    sep = "&" if "?" in loc else "?"
    request(c, "PUT", f"{loc}{sep}digest={digest}", data,
            {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
    return digest


def image(c, repo):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo("hello")
        info.size = 3
        t.addfile(info, io.BytesIO(b"hi\n"))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "config": {}}).encode()
    ld, cd = push_blob(c, repo, layer), push_blob(c, repo, config)
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": cd},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": ld}]}).encode()


def put_tags(reg, repo, manifest, tags):
    c = conn(reg)
    for t in tags:
        request(c, "PUT", f"/v2/{repo}/manifests/{t}", manifest,
                {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})


def main():
    reg, repo, src = sys.argv[1:4]
    if src.startswith("gen:"):
        tags = [f"1.{i // 100}.{i % 100}" for i in range(int(src[4:]))]
    else:
        tags = [l.strip() for l in open(src) if l.strip()]
    manifest = image(conn(reg), repo)
    threads = [threading.Thread(target=put_tags, args=(reg, repo, manifest, tags[i::THREADS]))
               for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(tags))


if __name__ == "__main__":
    main()
