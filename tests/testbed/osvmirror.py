#!/usr/bin/env python3
"""osvmirror — the PyPA advisory database (OSV YAML) as an osv.dev bucket.

    osvmirror.py SRC OUT [--ecosystem PyPI]

SRC is a checkout of pypa/advisory-database (or any directory holding
vulns/<package>/PYSEC-*.yaml), or a tarball of one (.tar, .tar.gz, .tar.xz),
read in place without extracting. OUT/<ECOSYSTEM>/ receives what
gs://osv-vulnerabilities/<ECOSYSTEM>/ serves:

    <ID>.json          one record each, JSON
    modified_id.csv    "<modified>,<ID>" lines, newest first, no header
    all.zip            every <ID>.json, flat

YAML scalars stay the strings they are written as (only null is resolved),
so a version such as 1.10 is never read as the float 1.1; dates, quoted or
not, are kept as written when they are RFC 3339 and rewritten to RFC 3339
(UTC, "Z") otherwise. Records whose package is in another ecosystem are left
out. The output is deterministic: same input, same bytes.

stdlib + PyYAML (python3-yaml). Prints the record count on stdout.
"""

import argparse
import datetime
import io
import json
import os
import re
import sys
import tarfile
import zipfile

import yaml

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
OSV_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # as daemon/lib/osv.c: a file name
DATE_KEYS = ("modified", "published", "withdrawn")
# A fixed timestamp for the zip entries, so that the archive is reproducible.
ZIP_TIME = (2024, 10, 10, 0, 0, 0)


class StringLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's when there) that resolves no implicit type but null."""


StringLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def rfc3339(value, where):
    """The date as an RFC 3339 string; a YAML date-time without zone is UTC."""
    if not isinstance(value, str):
        raise ValueError(f"{where}: not a string")
    if RFC3339.match(value):
        return value
    try:
        t = datetime.datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def instant(value):
    """Sort key of an RFC 3339 time: (UTC seconds, nanoseconds)."""
    m = re.match(r"^(.{19})(?:\.(\d+))?(.*)$", value)
    zone = m.group(3).upper()
    zone = "+00:00" if zone == "Z" else zone
    t = datetime.datetime.fromisoformat(m.group(1).upper() + zone)
    return (int(t.timestamp()), int((m.group(2) or "0").ljust(9, "0")))


def convert(text, where, ecosystem):
    """One YAML record to (id, modified, JSON bytes), or None if not in ecosystem."""
    rec = yaml.load(text, Loader=StringLoader)
    if not isinstance(rec, dict) or not OSV_ID.match(str(rec.get("id"))):
        raise ValueError(f"{where}: no id, or one unfit for a file name")
    for key in DATE_KEYS:
        if rec.get(key) is not None:
            rec[key] = rfc3339(rec[key], f"{where}: {key}")
    if "modified" not in rec:
        raise ValueError(f"{where}: no modified")
    ecos = {a.get("package", {}).get("ecosystem") for a in rec.get("affected") or []}
    if ecosystem not in ecos:
        return None
    body = json.dumps(rec, indent=2, ensure_ascii=False) + "\n"
    return rec["id"], rec["modified"], body.encode()


def is_record(path):
    parts = path.split("/")
    return (len(parts) >= 3 and parts[-3] == "vulns" and parts[-1].endswith(".yaml")
            and not parts[-1].startswith("."))


def read_dir(src):
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if is_record(path.replace(os.sep, "/")):
                with open(path, "rb") as f:
                    yield path, f.read()


def read_tar(src):
    with tarfile.open(src) as tar:
        for member in tar:
            if member.isfile() and is_record(member.name):
                yield member.name, tar.extractfile(member).read()


def write_bucket(records, out):
    os.makedirs(out, exist_ok=True)
    for rid, _, body in records:
        with open(os.path.join(out, rid + ".json"), "wb") as f:
            f.write(body)
    newest = sorted(records, key=lambda r: (instant(r[1]), r[0]), reverse=True)
    with open(os.path.join(out, "modified_id.csv"), "w", newline="\n") as f:
        for rid, modified, _ in newest:
            f.write(f"{modified},{rid}\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rid, _, body in sorted(records):
            info = zipfile.ZipInfo(rid + ".json", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            z.writestr(info, body)
    with open(os.path.join(out, "all.zip"), "wb") as f:
        f.write(buf.getvalue())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", help="advisory-database directory or tarball")
    ap.add_argument("out", help="bucket root to write OUT/<ECOSYSTEM>/ into")
    ap.add_argument("--ecosystem", default="PyPI")
    args = ap.parse_args()

    files = read_tar(args.src) if os.path.isfile(args.src) else read_dir(args.src)
    records, seen = [], {}
    for path, text in files:
        rec = convert(text, path, args.ecosystem)
        if rec is None:
            continue
        if rec[0] in seen:
            sys.exit(f"osvmirror: {path}: id {rec[0]} also in {seen[rec[0]]}")
        seen[rec[0]] = path
        records.append(rec)
    if not records:
        sys.exit(f"osvmirror: no {args.ecosystem} record under {args.src}")
    write_bucket(records, os.path.join(args.out, args.ecosystem))
    print(len(records))


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, yaml.YAMLError, tarfile.TarError) as e:
        sys.exit(f"osvmirror: {e}")
