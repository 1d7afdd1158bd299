#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fs38 sbom: CycloneDX 1.6 output of the fixture root filesystems (tests/audit/sbom/), validated
# against the official schema (tests/vectors/sbom/, python3-jsonschema), offline CVE matching with
# the NVD subset and OSV records written here, exit codes (0 written, 2 usage / unreadable input)
# and all-or-nothing output.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FIX="$SRC/tests/audit/sbom"
NVD="$SRC/tests/vectors/audit/cve/nvd-subset.json"
SCHEMAS="$SRC/tests/vectors/sbom"
PY=${FS38_PYTHON:-/usr/bin/python3}

# validate FILE: CycloneDX 1.6 schema (draft-07; spdx and jsf schemas loaded by their $id)
validate() {
    CHECKS=$((CHECKS + 1))
    "$PY" - "$SCHEMAS" "$1" <<'PY' || fail "$1 does not validate against bom-1.6.schema.json"
import json, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import jsonschema
d = sys.argv[1]
bom = json.load(open(d + "/bom-1.6.schema.json"))
store = {}
for n in ("bom-1.6", "spdx", "jsf-0.82"):
    s = json.load(open("%s/%s.schema.json" % (d, n)))
    store[s["$id"]] = s
resolver = jsonschema.RefResolver.from_schema(bom, store=store)
v = jsonschema.Draft7Validator(bom, resolver=resolver)
errors = sorted(v.iter_errors(json.load(open(sys.argv[2]))), key=lambda e: list(e.path))
for e in errors[:10]:
    print("schema:", list(e.path), e.message[:300], file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# the schema check itself can fail: a BOM without bomFormat is refused
printf '{"specVersion":"1.6"}\n' > "$T/not-a-bom.json"
CHECKS=$((CHECKS + 1))
FAILS_BEFORE=$FAILS
validate "$T/not-a-bom.json" 2>/dev/null
if [ "$FAILS" -eq "$FAILS_BEFORE" ]; then fail "the schema check accepts an invalid BOM"; else FAILS=$FAILS_BEFORE; fi

# --- Debian rootfs: dpkg database, a banner owned by a package, 'unknown' for upstream ranges ---
expect_rc 0 "sbom debian" "$FS38" sbom "$FIX/debian" --out "$T/deb.json" --cve-feed "$NVD"
expect_grep "$T/out" "^sbom: .*debian: 7 components, 3 vulnerabilities \(0 affected, 3 unknown; 0 not affected" "summary"
validate "$T/deb.json"
CHECKS=$((CHECKS + 1))
"$PY" - "$T/deb.json" <<'PY' || fail "debian BOM content"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["bomFormat"] == "CycloneDX" and b["specVersion"] == "1.6"
mc = b["metadata"]["component"]
assert mc["type"] == "firmware" and mc["name"] == "debian", mc
comps = {c["name"]: c for c in b["components"]}
assert set(comps) == {"libc6", "busybox", "libcurl4", "libssl3", "dropbear-bin", "zlib1g", "base-files"}, set(comps)
assert comps["libssl3"]["purl"] == "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=arm64"
assert comps["busybox"]["purl"] == "pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch=arm64"
occ = comps["busybox"]["evidence"]["occurrences"]
assert occ[0] == {"location": "var/lib/dpkg/status", "line": 15}, occ
assert {"location": "bin/busybox"} in occ, occ
refs = {c["bom-ref"] for c in b["components"]}
ids = {}
for v in b["vulnerabilities"]:
    for a in v["affects"]:
        assert a["ref"] in refs
        ids[v["id"]] = (a["ref"], a["versions"][0]["status"], v["source"]["name"])
assert ids == {
    "CVE-2023-4911": (comps["libc6"]["bom-ref"], "unknown", "NVD"),
    "CVE-2022-48174": (comps["busybox"]["bom-ref"], "unknown", "NVD"),
    "CVE-2023-38545": (comps["libcurl4"]["bom-ref"], "unknown", "NVD"),
}, ids
assert b["dependencies"][0]["ref"] == "image"
PY

# --- the same with Debian 12 OSV records (TEST DATA written here): backported fixes are not findings ---
cat > "$T/osv-debian12.json" <<'JSON'
[{"id": "TEST-DEBIAN-CVE-2023-4911", "upstream": ["CVE-2023-4911"], "summary": "test data",
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u3"}]}]}]},
 {"id": "TEST-DEBIAN-CVE-2023-38545", "upstream": ["CVE-2023-38545"], "summary": "test data",
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "curl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u6"}]}]}]}]
JSON
expect_rc 0 "sbom debian + OSV" "$FS38" sbom "$FIX/debian" --out "$T/deb2.json" --cve-feed "$NVD" --cve-feed "$T/osv-debian12.json"
expect_grep "$T/out" "2 vulnerabilities \(1 affected, 1 unknown; 1 not affected" "glibc fixed in deb12u3 (installed deb12u4), curl fixed only in deb12u6"
validate "$T/deb2.json"
CHECKS=$((CHECKS + 1))
"$PY" - "$T/deb2.json" <<'PY' || fail "OSV verdicts in the BOM"
import json, sys
b = json.load(open(sys.argv[1]))
v = {x["id"]: x for x in b["vulnerabilities"]}
assert "CVE-2023-4911" not in v, v.keys()
assert v["CVE-2023-38545"]["affects"][0]["versions"][0]["status"] == "affected"
assert v["CVE-2023-38545"]["source"]["name"] == "OSV"
assert v["CVE-2023-38545"]["ratings"][0]["severity"] == "critical"
PY

# --- OpenWrt (opkg), Yocto (opkg), Alpine (apk), Buildroot ---
expect_rc 0 "sbom openwrt" "$FS38" sbom "$FIX/openwrt" --out "$T/owrt.json" --cve-feed "$NVD"
expect_grep "$T/out" "9 components, 24 vulnerabilities \(24 affected, 0 unknown" "IoTGoat versions against the NVD subset"
validate "$T/owrt.json"
expect_rc 0 "sbom yocto" "$FS38" sbom "$FIX/yocto" --out "$T/yocto.json"
expect_grep "$T/out" "2 components, 0 vulnerabilities" "no feed: no vulnerabilities"
validate "$T/yocto.json"
expect_grep "$T/yocto.json" '"purl": "pkg:opkg/busybox@1.36.1-r0\?arch=cortexa53"' "Yocto opkg purl"
expect_rc 0 "sbom alpine" "$FS38" sbom "$FIX/alpine" --out "$T/alpine.json" --cve-feed "$NVD"
validate "$T/alpine.json"
expect_grep "$T/alpine.json" '"purl": "pkg:apk/alpine/busybox@1.36.1-r5\?arch=aarch64"' "apk purl"
expect_rc 0 "sbom buildroot" "$FS38" sbom "$FIX/buildroot" --out "$T/br.json" --cve-feed "$NVD" --no-banners
expect_grep "$T/out" "3 components, 0 vulnerabilities" "--no-banners: Buildroot packages without versions"
expect_rc 0 "sbom buildroot (banners)" "$FS38" sbom "$FIX/buildroot" --out "$T/br.json" --cve-feed "$NVD"
expect_grep "$T/out" "3 components, 2 vulnerabilities \(2 affected" "Buildroot versions from banners"
validate "$T/br.json"
expect_grep "$T/br.json" '"purl": "pkg:generic/busybox@1.36.1"' "generic purl"

# reproducible with SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=1700000000 "$FS38" sbom "$FIX/openwrt" --out "$T/r1.json" --cve-feed "$NVD" >/dev/null
SOURCE_DATE_EPOCH=1700000000 "$FS38" sbom "$FIX/openwrt" --out "$T/r2.json" --cve-feed "$NVD" >/dev/null
CHECKS=$((CHECKS + 1))
cmp -s "$T/r1.json" "$T/r2.json" || fail "same input, same SOURCE_DATE_EPOCH: different BOMs"
expect_grep "$T/r1.json" '"timestamp": "2023-11-14T22:13:20Z"' "timestamp from SOURCE_DATE_EPOCH"

# --- errors: exit 2, the existing output untouched ---
echo keep > "$T/keep.json"
expect_rc 2 "missing target" "$FS38" sbom "$T/nope" --out "$T/keep.json"
expect_grep "$T/err" "cannot read target .*/nope" "names the target"
expect_rc 2 "target is a file" "$FS38" sbom "$NVD" --out "$T/keep.json"
expect_grep "$T/err" "not a directory" "says why"
expect_rc 2 "no --out" "$FS38" sbom "$FIX/debian"
expect_rc 2 "no target" "$FS38" sbom --out "$T/keep.json"
expect_rc 2 "unreadable feed" "$FS38" sbom "$FIX/debian" --out "$T/keep.json" --cve-feed "$T/missing-feed.json"
expect_grep "$T/err" "missing-feed.json" "names the feed"
printf '{"vulnerabilities": [' > "$T/bad-feed.json"
expect_rc 2 "malformed feed" "$FS38" sbom "$FIX/debian" --out "$T/keep.json" --cve-feed "$T/bad-feed.json"
expect_grep "$T/err" "bad-feed.json: not valid JSON" "says what is wrong"
printf '{"hello": 1}\n' > "$T/other.json"
expect_rc 2 "not a feed" "$FS38" sbom "$FIX/debian" --out "$T/keep.json" --cve-feed "$T/other.json"
expect_grep "$T/err" "neither NVD CVE API 2.0 JSON" "says what it expected"
# an unreadable database: a symbolic-link cycle where the dpkg status should be
mkdir -p "$T/loop/var/lib/dpkg"
ln -s status2 "$T/loop/var/lib/dpkg/status"
ln -s status "$T/loop/var/lib/dpkg/status2"
expect_rc 2 "database behind a link cycle" "$FS38" sbom "$T/loop" --out "$T/keep.json"
expect_grep "$T/err" "var/lib/dpkg/status: more than 40 symbolic links" "names the database and the cycle"
expect_rc 2 "output directory missing" "$FS38" sbom "$FIX/debian" --out "$T/no/such/dir/bom.json"
CHECKS=$((CHECKS + 1))
[ "$(cat "$T/keep.json")" = keep ] || fail "a failed run changed the existing output"
CHECKS=$((CHECKS + 1))
ls -a "$T" | grep -q '\.tmp-' && fail "a temporary output file was left behind"
# a link to a host file is resolved inside the image, never on the host
mkdir -p "$T/esc/var/lib/dpkg"
ln -s /var/lib/dpkg/available "$T/esc/var/lib/dpkg/status" # a file of the host, not of the image
expect_rc 0 "absolute link inside the image" "$FS38" sbom "$T/esc" --out "$T/esc.json"
expect_grep "$T/out" "0 components" "the host's dpkg database is not read"
expect_rc 0 "help" "$FS38" sbom --help
expect_grep "$T/out" "usage: fs38 sbom TARGET --out BOM.json" "usage"

echo "sbom: $CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
