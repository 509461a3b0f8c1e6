#!/usr/bin/env python3
"""osvgen — a small synthetic OSV bucket for one ecosystem, whose records can churn.

    osvgen.py OUT [--records N] [--round K] [--changed M] [--package NAME --fixed VER]

OUT/PyPI/ receives what gs://osv-vulnerabilities/PyPI/ serves: <ID>.json, modified_id.csv
(newest first) and all.zip. Round 0 writes N records CHURN-0..N-1 of packages nobody
installs (churn-pkg-<i>), plus, with --package, one record CHURN-HIT fixing NAME at VER.
Round K > 0 rewrites M records (a new summary, modified now) and puts them at the head of
modified_id.csv, as an incremental update of the real bucket does. stdlib only.
"""
import argparse, datetime, io, json, os, zipfile


def record(rid, pkg, fixed, now, k):
    return {"id": rid, "modified": now, "published": "2024-01-01T00:00:00Z",
            "summary": "churn round %d" % k,
            "affected": [{"package": {"ecosystem": "PyPI", "name": pkg},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--round", type=int, default=0)
    ap.add_argument("--changed", type=int, default=10)
    ap.add_argument("--package")
    ap.add_argument("--fixed", default="99.0")
    a = ap.parse_args()
    d = os.path.join(a.out, "PyPI")
    os.makedirs(d, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    csv = os.path.join(d, "modified_id.csv")
    if a.round == 0:
        recs = [record("CHURN-%d" % i, "churn-pkg-%d" % i, "1.0", now, 0) for i in range(a.records)]
        if a.package:
            recs.append(record("CHURN-HIT", a.package, a.fixed, now, 0))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for r in recs:
                z.writestr(r["id"] + ".json", json.dumps(r))
        for r in recs:
            write(os.path.join(d, r["id"] + ".json"), json.dumps(r).encode())
        write(os.path.join(d, "all.zip"), buf.getvalue())
        write(csv, "".join("%s,%s\n" % (now, r["id"]) for r in recs).encode())
        return
    lines = open(csv).read().splitlines()
    ids = ["CHURN-%d" % ((a.round * a.changed + i) % a.records) for i in range(a.changed)]
    for rid in ids:
        i = int(rid.split("-")[1])
        write(os.path.join(d, rid + ".json"),
              json.dumps(record(rid, "churn-pkg-%d" % i, "1.0", now, a.round)).encode())
    keep = [l for l in lines if l.split(",", 1)[1] not in ids]
    write(csv, "".join("%s,%s\n" % (now, rid) for rid in ids).encode() +
          "".join(l + "\n" for l in keep).encode())


if __name__ == "__main__":
    main()
