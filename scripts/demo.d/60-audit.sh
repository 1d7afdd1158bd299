# SPDX-License-Identifier: Apache-2.0
# Chapter 6 — assessing a firmware image before it ships: `fs38 audit` gives each of the 14
# controls a verdict with its evidence; `fs38 sbom` lists the components (CycloneDX 1.6) and
# matches them against an offline vulnerability feed.
# Sourced by scripts/demo.sh: $FS38, $W, $here and the helpers run/refuse/expect/step/chapter.
# The images are built here from the repository's fixtures (tests/audit/, written for the tests).

chapter "6. Assessing a firmware image: a verdict per control with evidence, components and their CVEs"

AFIX="$here/tests/audit"
ADATE=2026-12-06
PY3=${FS38_PYTHON:-python3}

# audit_rc WANT TEXT CMD...: show CMD and its output; require exit WANT and TEXT in the output
audit_rc() {
  local want=$1 text=$2; shift 2
  show "$@"
  local out rc
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  echo "$out" | tidy
  [ $rc -eq "$want" ] || { echo "demo: expected exit $want, got $rc" >&2; exit 1; }
  grep -qF -- "$text" <<<"$out" || { echo "demo: expected '$text'" >&2; exit 1; }
  echo "   (exit $want as expected)"
}
# fixture_tree DEST SIDE CHECK...: copy tests/audit/CHECK/SIDE of each check into DEST, with the
# file modes the fixtures need (tests/audit/CHECK/modes)
fixture_tree() {
  local dest=$1 side=$2 c; shift 2
  mkdir -p "$dest"
  for c in "$@"; do
    cp -a "$AFIX/$c/$side/." "$dest/"
    [ -f "$AFIX/$c/modes" ] || continue
    grep -v '^#' "$AFIX/$c/modes" | while read -r mode path; do
      case "$path" in "$side"/*) chmod "$mode" "$dest/${path#"$side"/}" ;; esac
    done
  done
}

# dpkg_db DEST: the Debian 12 packages of tests/audit/sbom/debian (dpkg status, busybox's banner,
# usr/lib/os-release; etc/os-release stays the vendor's, with its SUPPORT_END)
dpkg_db() {
  mkdir -p "$1/var/lib" "$1/bin" "$1/usr/lib"
  cp -a "$AFIX/sbom/debian/usr/lib/os-release" "$1/usr/lib/"
  cp -a "$AFIX/sbom/debian/var/lib/dpkg" "$1/var/lib/"
  cp -a "$AFIX/sbom/debian/bin/busybox" "$1/bin/"
}

step "A vendor's root filesystem: a Mirai password in etc/shadow, a world-readable private key, a telnetd started at boot, a root shell on the serial console, an expired security.txt — and a dpkg database"
fixture_tree "$W/rootfs-fail" fail accounts keys services disclosure
dpkg_db "$W/rootfs-fail"
show "mksquashfs rootfs-fail $W/firmware.sqfs -all-root"
mksquashfs "$W/rootfs-fail" "$W/firmware.sqfs" -noappend -quiet -all-root -no-progress >/dev/null
echo "   $(find "$W/rootfs-fail" -type f | wc -l) files, $(stat -c %s "$W/firmware.sqfs") bytes of squashfs (read in place, never extracted)"

step "fs38 audit: one row per control (verdict, first evidence), then the evidence; exit 1 because controls FAIL"
audit_rc 1 "Mirai" "$FS38" audit "$W/firmware.sqfs" --date $ADATE
step "--json for a CI (14 controls, each with its verdict and evidence: path, line, rule, severity), --sarif for code scanning (SARIF 2.1.0: one rule per check, FS38-N.x, with its control and ETSI provision), --html: one self-contained page (no network fetch)"
show "$FS38 audit $W/firmware.sqfs --date $ADATE --json --sarif $W/audit.sarif --html $W/audit.html >$W/audit.json"
set +e; "$FS38" audit "$W/firmware.sqfs" --date $ADATE --json --sarif "$W/audit.sarif" --html "$W/audit.html" >"$W/audit.json" 2>/dev/null; rc=$?; set -e
[ $rc -eq 1 ] && [ -s "$W/audit.sarif" ] && [ -s "$W/audit.html" ] || { echo "demo: audit --json/--sarif/--html: exit $rc (expected 1), or a file not written" >&2; exit 1; }
show "python3 -m json.tool $W/audit.json"
"$PY3" -m json.tool "$W/audit.json" >"$W/audit.pretty.json"
head -n 18 "$W/audit.pretty.json" | tidy | sed 's/^/   | /'
echo "   | ..."
"$PY3" - "$W/audit.json" "$W/audit.sarif" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert [c["id"] for c in r["controls"]] == list(range(1, 15)), "14 controls in order"
print('   "components": %d, "vulnerabilities": %d; verdicts: %s'
      % (r["components"], r["vulnerabilities"], " ".join("%d=%s" % (c["id"], c["verdict"]) for c in r["controls"])))
s = json.load(open(sys.argv[2]))
run = s["runs"][0]
print("   audit.sarif: SARIF %s, %d rules, %d results" % (s["version"], len(run["tool"]["driver"]["rules"]), len(run["results"])))
PY
fails_before=$("$PY3" -c 'import json,sys; print(sum(c["verdict"] == "FAIL" for c in json.load(open(sys.argv[1]))["controls"]))' "$W/audit.json")
if grep -qiE '(src|href)="https?:' "$W/audit.html"; then echo "demo: the HTML report fetches from the network" >&2; exit 1; fi
echo "   audit.html: $(stat -c %s "$W/audit.html") bytes, no external src/href"

step "fs38 sbom: CycloneDX 1.6 from the dpkg database and the binaries' version banners, matched against an offline feed (a real NVD record)"
# CVE-2023-38545 (curl SOCKS5 heap overflow, NVD: curl 7.69.0 up to 8.4.0): libcurl4 7.88.1 is in
# that range, but Debian backports fixes into its revisions: on its own, 'unknown'
"$PY3" - "$here/tests/vectors/audit/cve/nvd-subset.json" "$W/nvd-curl.json" <<'PY'
import json, sys
feed = json.load(open(sys.argv[1]))
feed["vulnerabilities"] = [v for v in feed["vulnerabilities"] if v["cve"]["id"] == "CVE-2023-38545"]
feed["totalResults"] = feed["resultsPerPage"] = 1
json.dump(feed, open(sys.argv[2], "w"))
PY
expect "1 vulnerabilities (0 affected, 1 unknown" "$FS38" sbom "$W/firmware.sqfs" --out "$W/bom.json" --cve-feed "$W/nvd-curl.json"
echo "   (an upstream range on a Debian package is 'unknown': Debian backports fixes into its revisions)"
step "With Debian's own verdict (an OSV Debian:12 record, written here as demo data): fixed only in 7.88.1-10+deb12u6, installed deb12u5"
cat >"$W/osv-debian12.json" <<'JSON'
[{"id": "DEMO-DEBIAN-CVE-2023-38545", "upstream": ["CVE-2023-38545"], "summary": "demo data",
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "curl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u6"}]}]}]}]
JSON
expect "1 vulnerabilities (1 affected" "$FS38" sbom "$W/firmware.sqfs" --out "$W/bom.json" --cve-feed "$W/nvd-curl.json" --cve-feed "$W/osv-debian12.json"
"$PY3" - "$W/bom.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
assert b["specVersion"] == "1.6" and b["metadata"]["component"]["type"] == "firmware"
refs = {c["bom-ref"]: c for c in b["components"]}
print("   bom.json: CycloneDX %s, %d components, e.g. %s" % (b["specVersion"], len(b["components"]), b["components"][0]["purl"]))
for v in b["vulnerabilities"]:
    a = v["affects"][0]
    print("   %s (%s): %s %s" % (v["id"], v["source"]["name"], refs[a["ref"]]["purl"], a["versions"][0]["status"]))
PY
step "The same feeds in fs38 audit: control 14 FAILs on an affected component"
show "$FS38 audit $W/firmware.sqfs --date $ADATE --cve-feed $W/nvd-curl.json --cve-feed $W/osv-debian12.json --json"
set +e; "$FS38" audit "$W/firmware.sqfs" --date $ADATE --cve-feed "$W/nvd-curl.json" --cve-feed "$W/osv-debian12.json" --json >"$W/audit-cve.json" 2>/dev/null; rc=$?; set -e
[ $rc -eq 1 ] || { echo "demo: audit --cve-feed: expected exit 1, got $rc" >&2; exit 1; }
"$PY3" - "$W/audit-cve.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["controls"][13]
print('   control 14 "%s": %s' % (c["title"], c["verdict"]))
for e in c["evidence"]:
    print("   [%s] %s %s:%s: %s" % (e["severity"], e["rule"], e["path"], e.get("line", ""), e["finding"][:150]))
assert c["verdict"] == "FAIL" and any(e["rule"] == "FS38-14.2" and "CVE-2023-38545" in e["finding"] for e in c["evidence"])
PY

step "The fixed image: hashed strong passwords, keys readable by their owner only (or encrypted), no telnet or serial shell, a current security.txt — fewer FAILs"
fixture_tree "$W/rootfs-pass" pass accounts keys services disclosure
dpkg_db "$W/rootfs-pass"
show "tar -C rootfs-pass -czf $W/firmware-fixed.tar.gz ."
tar --numeric-owner --owner=0 --group=0 -C "$W/rootfs-pass" -czf "$W/firmware-fixed.tar.gz" .
set +e; "$FS38" audit "$W/firmware-fixed.tar.gz" --date $ADATE >"$W/fixed.txt" 2>&1; rc=$?
"$FS38" audit "$W/firmware-fixed.tar.gz" --date $ADATE --json >"$W/fixed.json" 2>/dev/null; set -e
show "$FS38 audit $W/firmware-fixed.tar.gz --date $ADATE"
sed -n '1,/^evidence:/p' "$W/fixed.txt" | tidy
[ $rc -eq 0 ] || { echo "demo: the fixed image: exit $rc, expected 0 (no control FAILs)" >&2; exit 1; }
fails_after=$("$PY3" -c 'import json,sys; print(sum(c["verdict"] == "FAIL" for c in json.load(open(sys.argv[1]))["controls"]))' "$W/fixed.json")
for id in 1 5 6 13; do
  v=$("$PY3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["controls"][int(sys.argv[2]) - 1]["verdict"])' "$W/fixed.json" $id)
  [ "$v" = PASS ] || { echo "demo: control $id of the fixed image is $v, not PASS" >&2; exit 1; }
done
echo "   controls FAILing: $fails_before before, $fails_after after (exit $rc); controls 1, 5, 6 and 13 now PASS"
[ "$fails_after" -lt "$fails_before" ] || { echo "demo: the fixed image does not fail fewer controls" >&2; exit 1; }

step "Refusal: a hostile archive — a member named ../escape, an absolute name, a device node — is noted, and nothing is written"
mkdir -p "$W/hostile/cwd"
"$PY3" - "$W/hostile/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for name, data in (("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"), ("../escape", b"pwned\n"),
                       ("/tmp/fs38-demo-absolute", b"pwned\n")):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
    d = tarfile.TarInfo("dev/mem"); d.type = tarfile.CHRTYPE; d.devmajor, d.devminor = 1, 1; t.addfile(d)
PY
before=$(find "$W" | sort | md5sum)
show "(cd $W/hostile/cwd && $FS38 audit ../evil.tar --date $ADATE)"
set +e; out=$(cd "$W/hostile/cwd" && "$FS38" audit ../evil.tar --date $ADATE 2>&1); rc=$?; set -e
grep -E "leaves the image root|absolute member name|device node" <<<"$out" | tidy
for t in "leaves the image root" "absolute member name" "dev/mem: device node"; do
  grep -qF -- "$t" <<<"$out" || { echo "demo: expected the note '$t'" >&2; exit 1; }
done
[ $rc -le 1 ] || { echo "demo: hostile tar: exit $rc" >&2; exit 1; }
if [ "$before" != "$(find "$W" | sort | md5sum)" ] || [ -e "$W/hostile/escape" ] || [ -e /tmp/fs38-demo-absolute ]; then
  echo "demo: the hostile archive wrote a file" >&2; exit 1
fi
echo "   (noted, read in memory only: no file written in \$W, beside it or in /tmp)"

step "Refusal: a decompression bomb (64 MiB of zeros in a 64 KiB tar.gz) over the --max-total budget is unreadable input: exit 2"
head -c $((64 << 20)) /dev/zero >"$W/hostile/zeros.bin"
tar -C "$W/hostile" -czf "$W/hostile/bomb.tar.gz" zeros.bin
rm -f "$W/hostile/zeros.bin"
audit_rc 2 "decompression bomb" "$FS38" audit "$W/hostile/bomb.tar.gz" --max-total $((16 << 20)) --date $ADATE
