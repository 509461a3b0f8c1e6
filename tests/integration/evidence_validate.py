#!/usr/bin/python3
"""evidence_validate — checks refit's evidence documents against the official schemas.

    evidence_validate.py KIND FILE...      KIND: spdx, cyclonedx, openvex, provenance

SPDX 2.3 and CycloneDX 1.5 (draft-07) and OpenVEX 0.2.0 (draft 2020-12) are
validated with python3-jsonschema against tests/fixtures/schemas/ (the
CycloneDX schema's two companions are resolved from there by their $id).
The in-toto Statement v1 / SLSA Provenance v1 have no JSON Schema: their
fields are checked as the .proto files there define them. Prints one line
per file; exits 1 on the first invalid one.
"""

import json
import os
import re
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "fixtures", "schemas")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def load(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        return json.load(f)


def validator(kind):
    if kind == "spdx":
        s = load("spdx-2.3.schema.json")
        return jsonschema.Draft7Validator(s)
    if kind == "cyclonedx":
        s = load("cyclonedx-bom-1.5.schema.json")
        store = {}
        for n in ("cyclonedx-spdx.schema.json", "cyclonedx-jsf-0.82.schema.json"):
            c = load(n)
            store[c["$id"]] = c
            store[c["$id"].rsplit("/", 1)[1]] = c
        resolver = jsonschema.RefResolver.from_schema(s, store=store)
        return jsonschema.Draft7Validator(s, resolver=resolver)
    if kind == "openvex":
        return jsonschema.Draft202012Validator(load("openvex.schema.json"))
    return None


def check_descriptor(rd, where):
    assert isinstance(rd, dict), where
    assert set(rd) <= {"uri", "digest", "content", "name", "downloadLocation",
                       "mediaType", "annotations"}, (where, sorted(rd))
    assert any(k in rd for k in ("uri", "digest", "content")), (where, "uri/digest/content")
    for k, v in rd.get("digest", {}).items():
        assert isinstance(v, str) and v, (where, k)
        if k == "sha256":
            assert re.fullmatch(r"[0-9a-f]{64}", v), (where, v)


def check_provenance(doc):
    """The Statement and Provenance messages (statement.proto, provenance.proto)."""
    assert set(doc) == {"_type", "subject", "predicateType", "predicate"}, sorted(doc)
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["predicateType"] == "https://slsa.dev/provenance/v1"
    assert doc["subject"], "subject"
    for i, s in enumerate(doc["subject"]):
        check_descriptor(s, "subject[%d]" % i)
        assert "digest" in s, "subject needs a digest"
    p = doc["predicate"]
    assert set(p) <= {"buildDefinition", "runDetails"}, sorted(p)
    bd, rd = p["buildDefinition"], p["runDetails"]
    assert set(bd) <= {"buildType", "externalParameters", "internalParameters",
                       "resolvedDependencies"}, sorted(bd)
    assert isinstance(bd["buildType"], str) and bd["buildType"]
    assert isinstance(bd["externalParameters"], dict) and bd["externalParameters"]
    assert isinstance(bd.get("internalParameters", {}), dict)
    for i, d in enumerate(bd.get("resolvedDependencies", [])):
        check_descriptor(d, "resolvedDependencies[%d]" % i)
    assert set(rd) <= {"builder", "metadata", "byproducts"}, sorted(rd)
    b = rd["builder"]
    assert set(b) <= {"id", "version", "builderDependencies"}, sorted(b)
    assert isinstance(b["id"], str) and ":" in b["id"], "builder.id is a URI"
    assert all(isinstance(v, str) for v in b.get("version", {}).values()), "version map"
    m = rd.get("metadata", {})
    assert set(m) <= {"invocationId", "startedOn", "finishedOn"}, sorted(m)
    for k in ("startedOn", "finishedOn"):
        if k in m:
            assert RFC3339.match(m[k]), (k, m[k])


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    kind = sys.argv[1]
    v = validator(kind)
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        try:
            if kind == "provenance":
                check_provenance(doc)
            else:
                errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
                if errs:
                    e = errs[0]
                    raise AssertionError("%s at %s (%d errors)" %
                                         (e.message[:300], "/".join(map(str, e.path)),
                                          len(errs)))
        except AssertionError as e:
            print("INVALID %s %s: %s" % (kind, path, e), file=sys.stderr)
            return 1
        print("valid %s %s" % (kind, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
