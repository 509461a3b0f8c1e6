#!/usr/bin/python3
"""Helpers of bench_fleet.sh, one subcommand each (all times wall clock, seconds):

  fill DB PROJECTS BUILDS     builds spread over the projects (test and prod), recent and
                              succeeded (no age or first-build trigger); the newest of each
                              environment has a PyPI inventory (1 in 100 a vulnerable one)
  ready SOCK OUT              a NOTIFY_SOCKET: writes the time READY=1 arrived to OUT, then
                              keeps reading (refitd sends STATUS= every 5 s) until killed
  probe URL OUT               GET URL every 5 ms on one kept-alive connection, until killed;
                              writes "sent-at latency-ms" lines
  window OUT T0 T1            of the probes sent in [T0, T1]: "max-ms p99-ms count errors"
                              (a failed probe counts with the time it took to fail)
  move REGISTRY REPO TAG      pushes an image with a fresh layer under TAG; prints the time
                              the registry acknowledged the manifest
  heads REGISTRY REPO TAG N   N manifest HEADs on one connection: prints their seconds
  triggers DB N T0 LIKE       waits until N pending triggers whose reasons match LIKE are
                              committed; prints "seconds-since-T0 count"
  walk URL LIMIT              the whole of URL/v1/builds, page by page (before=next_before):
                              prints "seconds rows pages"
  sqlwalk DB LIMIT            the same rows as a rowid range walk in sqlite3: "seconds rows pages"
"""
import http.client, json, os, signal, socket, sqlite3, sys, threading, time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))


def fill(db_path, projects, builds):
    db = sqlite3.connect(db_path)
    db.execute("DELETE FROM triggers")
    now = int(time.time() * 1000) - 600000
    rows = []
    for i in range(builds):
        p, env = i % projects, ("test", "prod")[(i // projects) % 2]
        t = now - (builds - i) * 10
        rows.append((i + 1, "p%05d" % p, env, "base", "base moved", "succeeded", t, t + 1, t + 2,
                     "e", "sha256:%064x" % i, "reg.test/p%05d:%s" % (p, env)))
    db.executemany("INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at,"
                   " started_at, finished_at, engine, digest, tags)"
                   " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    newest = {}
    for r in rows:
        newest[(r[1], r[2])] = r[0]
    inv, pkgs = [], []
    for (proj, _), bid in newest.items():
        inv.append((bid, now))
        old = int(proj[1:]) % 100 == 0
        pkgs.append((bid, "PyPI", "requests", "2.25.0" if old else "2.32.3"))
        pkgs.append((bid, "PyPI", "idna", "3.7"))
    db.executemany("INSERT INTO inventories(build_id, ecosystem, packages, read_at)"
                   " VALUES(?, 'PyPI', 2, ?)", inv)
    db.executemany("INSERT INTO inventory_pkgs(build_id, ecosystem, name, version)"
                   " VALUES(?,?,?,?)", pkgs)
    db.commit()


def ready(path, out):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    done = False
    while True:
        msg = s.recv(4096)
        if not done and b"READY=1" in msg.split(b"\n"):
            with open(out + ".tmp", "w") as f:
                f.write("%.6f\n" % time.time())
            os.rename(out + ".tmp", out)
            done = True


def probe(url, out):
    u = urllib.parse.urlsplit(url)
    f = open(out, "w", buffering=1)
    pending = [None]

    def term(*_):
        if pending[0] is not None:  # unanswered when stopped: at least this long
            f.write("%.6f %.3f\n" % (pending[0], (time.time() - pending[0]) * 1000))
        f.close()
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    c = None
    while True:
        t0 = pending[0] = time.time()
        try:
            if c is None:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            c.request("GET", u.path)
            c.getresponse().read()
        except (OSError, http.client.HTTPException):
            f.write("%.6f %.3f error\n" % (t0, (time.time() - t0) * 1000))
            pending[0] = c = None
            time.sleep(0.05)
            continue
        t1 = time.time()
        pending[0] = None
        f.write("%.6f %.3f\n" % (t0, (t1 - t0) * 1000))
        left = 0.005 - (time.time() - t0)
        if left > 0:
            time.sleep(left)


def window(out, t0, t1):
    lat, errors = [], 0
    for line in open(out):
        a = line.split()
        if len(a) >= 2 and t0 <= float(a[0]) <= t1:
            lat.append(float(a[1]))
            errors += len(a) > 2
    if not lat:
        print("nan nan 0 0")
        return
    lat.sort()
    print("%.1f %.1f %d %d" % (lat[-1], lat[min(len(lat) - 1, int(len(lat) * 0.99))], len(lat),
                               errors))


def move(reg, repo, tag):
    import gzip, hashlib, io, tarfile
    import tagpush
    raw = io.BytesIO()
    data = os.urandom(16).hex().encode()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo("patch-level")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "config": {}}).encode()
    c = tagpush.conn(reg)
    ld, cd = tagpush.push_blob(c, repo, layer), tagpush.push_blob(c, repo, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": cd},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": ld}]}).encode()
    tagpush.request(c, "PUT", "/v2/%s/manifests/%s" % (repo, tag), manifest,
                    {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
    print("%.6f" % time.time())


def heads(reg, repo, tag, n):
    h, p = reg.split(":")
    c = http.client.HTTPConnection(h, int(p))
    acc = ("application/vnd.docker.distribution.manifest.v2+json, "
           "application/vnd.oci.image.manifest.v1+json, "
           "application/vnd.docker.distribution.manifest.list.v2+json, "
           "application/vnd.oci.image.index.v1+json")
    t = time.time()
    for _ in range(n):
        c.request("HEAD", "/v2/%s/manifests/%s" % (repo, tag), headers={"Accept": acc})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            sys.exit("HEAD: HTTP %d" % r.status)
    print("%.4f" % (time.time() - t))


def triggers(db_path, n, t0, like):
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=10)
    q = "SELECT count(*) FROM triggers WHERE state = 'pending' AND reasons LIKE ?"
    deadline = time.time() + 300
    while time.time() < deadline:
        k = db.execute(q, (like,)).fetchone()[0]
        if k >= n:
            print("%.4f %d" % (time.time() - t0, k))
            return
        time.sleep(0.002)
    sys.exit("triggers: %d of %d after 300 s" % (k, n))


def walk(url, limit):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    before, rows, pages = None, 0, 0
    t = time.time()
    while True:
        q = "/v1/builds?limit=%d" % limit + ("&before=%d" % before if before else "")
        c.request("GET", q)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit("walk: %s: HTTP %d %s" % (q, r.status, body[:200]))
        j = json.loads(body)
        rows += len(j["builds"])
        pages += 1
        before = j.get("next_before")
        if not before or not j["builds"]:
            break
    print("%.4f %d %d" % (time.time() - t, rows, pages))


def sqlwalk(db_path, limit):
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    q = "SELECT * FROM builds WHERE id < ? ORDER BY id DESC LIMIT ?"
    before, rows, pages = 1 << 62, 0, 0
    t = time.time()
    while True:
        page = db.execute(q, (before, limit)).fetchall()
        pages += 1
        rows += len(page)
        if len(page) < limit:
            break
        before = page[-1][0]
    print("%.4f %d %d" % (time.time() - t, rows, pages))


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "fill":
        fill(a[0], int(a[1]), int(a[2]))
    elif cmd == "ready":
        ready(a[0], a[1])
    elif cmd == "probe":
        probe(a[0], a[1])
    elif cmd == "window":
        window(a[0], float(a[1]), float(a[2]))
    elif cmd == "move":
        move(a[0], a[1], a[2])
    elif cmd == "heads":
        heads(a[0], a[1], a[2], int(a[3]))
    elif cmd == "triggers":
        triggers(a[0], int(a[1]), float(a[2]), a[3])
    elif cmd == "walk":
        walk(a[0], int(a[1]))
    elif cmd == "sqlwalk":
        sqlwalk(a[0], int(a[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
