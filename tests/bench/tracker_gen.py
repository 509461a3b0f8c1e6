#!/usr/bin/env python3
"""Builds a large Debian-tracker-shaped JSON document for bench_tracker.

    python3 tests/bench/tracker_gen.py OUT.json [SIZE_MB]     (default 90)

The real https://security-tracker.debian.org/tracker/data/json is ~80 MB; only
three small excerpts of it are stored (tests/fixtures/feeds/debian-tracker/).
This script takes its structure from them: every CVE entry is a copy of one
of the 16 real entries (fields, statuses, urgencies, fixed_version "0",
"releases": [], nodsa fields, descriptions) with a new id, the releases
mapped onto today's codenames and the versions varied. Package sizes follow
the real feed's shape: a few very large packages (linux, with the largest
member, chromium, firefox-esr, ...) and a long tail of small ones, written
in package-name order with Python's default separators, as the tracker does.

Deterministic: the same arguments give the same bytes (fixed seed, no clock).
"""
import copy
import glob
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'fixtures', 'feeds', 'debian-tracker')
# Large packages of the real feed with the share of CVE entries they get.
BIG = [('linux', 0.12), ('chromium', 0.035), ('firefox-esr', 0.02), ('thunderbird', 0.012),
       ('imagemagick', 0.008), ('tcpdump', 0.002), ('php8.2', 0.004), ('qemu', 0.006),
       ('wireshark', 0.006), ('openjdk-17', 0.003), ('mysql-8.0', 0.004), ('xen', 0.003)]
SUITES = [('bullseye', 11), ('bookworm', 12), ('trixie', 13), ('forky', 14)]
SYLLABLES = ['lib', 'py', 'node', 'gst', 'perl', 'ruby', 'golang', 'php', 'x', 'qt', 'kde', 'gnome',
             'ssl', 'xml', 'png', 'jpeg', 'tiff', 'gtk', 'sql', 'http', 'zip', 'mail', 'dns', 'ldap',
             'sane', 'pdf', 'font', 'audio', 'video', 'net', 'crypt', 'json', 'yaml', 'curl', 'ssh']


def templates():
    out = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, 'tracker-json-excerpt-*.json'))):
        with open(path, encoding='utf-8') as f:
            for cves in json.load(f).values():
                out.extend(cves.values())
    return out


def version(rng):
    return '%d.%d.%d' % (rng.randint(0, 40), rng.randint(0, 30), rng.randint(0, 20))


def releases_of(rng, tmpl_releases, base):
    """The template's release objects, one per codename of today's suites plus sid."""
    if isinstance(tmpl_releases, list):  # the real "releases": [] trap
        return []
    rels = [r for c, r in tmpl_releases.items() if c != 'sid'] or list(tmpl_releases.values())
    out = {}
    for i, (code, num) in enumerate(SUITES):
        if num == 14 and rng.random() < 0.5:
            continue
        r = copy.deepcopy(rels[i % len(rels)])
        rev = '%s-%d' % (base, rng.randint(1, 9))
        r['repositories'] = {code: rev}
        if r.get('fixed_version') not in (None, '0'):
            fixed = rev + ('+deb%du%d' % (num, rng.randint(1, 5)) if num < 13 else '')
            r['fixed_version'] = fixed
            if num < 13:
                r['repositories'][code + '-security'] = fixed
        out[code] = r
    sid = copy.deepcopy(rels[0])
    sid['repositories'] = {'sid': '%s-%d' % (base, rng.randint(1, 9))}
    if sid.get('fixed_version') not in (None, '0'):
        sid['fixed_version'] = sid['repositories']['sid']
    out['sid'] = sid
    return out


def entry(rng, tmpls, base):
    t = rng.choice(tmpls)
    while isinstance(t['releases'], list) and rng.random() > 0.02:  # rare, as in the feed
        t = rng.choice(tmpls)
    e = {k: copy.deepcopy(v) for k, v in t.items() if k != 'releases'}
    if 'description' in e and rng.random() < 0.7:
        e['description'] = e['description'] + ' (%s)' % rng.choice(SYLLABLES) * rng.randint(0, 3)
    e['releases'] = releases_of(rng, t['releases'], base)
    return e


def cve_ids(rng, n, used):
    out = []
    while len(out) < n:
        if rng.random() < 0.01:
            i = 'TEMP-0000000-%06X' % rng.randrange(1 << 24)
        else:
            i = 'CVE-%d-%d' % (rng.randint(1999, 2025), rng.randint(1000, 59999))
        if i not in used:
            used.add(i)
            out.append(i)
    return sorted(out)


def package_sizes(rng, n_entries):
    sizes = {name: max(1, int(n_entries * share)) for name, share in BIG}
    left = n_entries - sum(sizes.values())
    k = 0
    while left > 0:
        name = '%s%s%d' % (rng.choice(SYLLABLES), rng.choice(SYLLABLES), k)
        k += 1
        n = min(left, 150, int(rng.paretovariate(1.2)))  # most have 1-3, some dozens
        sizes[name] = n
        left -= n
    return sizes


def main():
    out = sys.argv[1]
    target = int(float(sys.argv[2]) * 1e6) if len(sys.argv) > 2 else 90 * 10**6
    tmpls = templates()
    rng = random.Random(20240917)
    sample = sum(len(json.dumps(entry(rng, tmpls, '1.0'))) + 30 for _ in range(2000)) / 2000
    rng = random.Random(7)
    sizes = package_sizes(rng, int(target / sample))
    with open(out, 'w', encoding='utf-8') as f:
        f.write('{')
        for i, name in enumerate(sorted(sizes)):
            base = version(rng)
            cves = {c: entry(rng, tmpls, base) for c in cve_ids(rng, sizes[name], set())}
            f.write('%s%s: %s' % (', ' if i else '', json.dumps(name), json.dumps(cves)))
        f.write('}')
    print('%s: %d bytes, %d packages, %d entries' % (out, os.path.getsize(out), len(sizes),
                                                   sum(sizes.values())))


if __name__ == '__main__':
    main()
