# SPDX-License-Identifier: Apache-2.0
"""bench_audit — `fs38 audit` of a generated firmware root filesystem, against `tar -xzf`.

Generates (deterministically, in a temporary directory) a root filesystem of about 100 MiB:
  - >= 5 000 files: configuration files, init scripts, web pages, shell scripts, documentation,
    data blobs (incompressible, like firmware blobs and compressed assets);
  - >= 200 ELF files: real executables copied from this machine's /usr/bin at generation time;
  - a dpkg database (var/lib/dpkg/status) with >= 300 packages, among them the embedded
    components the CVE matcher knows (busybox, OpenSSL, curl, dnsmasq, ...);
  - an etc/shadow with one sha512crypt hash (tested against the password lists, as on a real image);
packed as tar.gz, and a 2 000-record feed in the NVD CVE API 2.0 shape (generated; records on the
products the matcher maps, with ranges that match some packages, and on unrelated products).

Then, in the same run, alternating, REPEAT times each:
  baseline  tar -xzf IMAGE -C fresh-temp-dir       (reading the archive: what it costs)
  audit     fs38 audit IMAGE --cve-feed FEED --date 2026-12-06 --json >/dev/null
  audit-dir fs38 audit EXTRACTED-DIR --cve-feed FEED ... (the checks without gzip/tar)
and prints medians: wall time, CPU time, time per MiB and per file, peak memory (ru_maxrss of
the child, from wait4), and the ratios to the baseline. Nothing here asserts on timings.

usage: audit.py --fs38 PATH [--quick] [--keep]
  --quick  a 20 MiB image (1 000 files, 50 ELF files) and one repetition: a smoke run
  --keep   keep the temporary directory (prints its path)
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

DATE = "2026-12-06"


def die(msg):
    print("bench_audit: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- generation ---------------------------------------------------------------------------------

WORDS = ("option config interface network lan wan device enable disable server client port "
         "timeout retry path log level debug info warning user group mode value key list start stop "
         "restart reload status daemon service firmware update cloud sensor gateway bridge vlan dhcp "
         "dns ntp route firewall zone rule forward accept reject drop input output").split()

# mapped by the CVE matcher (host/audit/cve_match.c): name, Source, upstream version, Debian revision
KNOWN = [
    ("libc6", "glibc", "2.36", "9+deb12u4"), ("busybox", "busybox", "1.35.0", "4+b3"),
    ("libcurl4", "curl", "7.88.1", "10+deb12u5"), ("curl", "curl", "7.88.1", "10+deb12u5"),
    ("libssl3", "openssl", "3.0.11", "1~deb12u2"), ("openssl", "openssl", "3.0.11", "1~deb12u2"),
    ("dropbear-bin", "dropbear", "2022.83", "1+deb12u1"), ("zlib1g", "zlib", "1.2.13", "dfsg-1"),
    ("dnsmasq-base", "dnsmasq", "2.89", "1"), ("hostapd", "wpa", "2.10", "12+deb12u1"),
    ("wpasupplicant", "wpa", "2.10", "12+deb12u1"), ("mosquitto", "mosquitto", "2.0.11", "1.2+deb12u1"),
    ("libexpat1", "expat", "2.5.0", "1"), ("lighttpd", "lighttpd", "1.4.69", "1"),
    ("openssh-server", "openssh", "9.2p1", "2+deb12u3"), ("libsqlite3-0", "sqlite3", "3.40.1", "2"),
    ("liblua5.3-0", "lua5.3", "5.3.6", "2"), ("libmbedtls14", "mbedtls", "2.28.3", "1"),
    ("nginx", "nginx", "1.22.1", "9"), ("libssh2-1", "libssh2", "1.10.0", "3+b1"),
]
CPES = ["busybox:busybox", "openssl:openssl", "dropbear_ssh_project:dropbear_ssh", "thekelleys:dnsmasq",
        "haxx:curl", "haxx:libcurl", "openbsd:openssh", "lighttpd:lighttpd", "w1.fi:hostapd",
        "w1.fi:wpa_supplicant", "eclipse:mosquitto", "zlib:zlib", "libexpat_project:libexpat",
        "gnu:glibc", "arm:mbed_tls", "f5:nginx", "sqlite:sqlite", "libssh2:libssh2", "lua:lua"]


def text(rng, nbytes):
    out, n = [], 0
    while n < nbytes:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12)))
        out.append(line)
        n += len(line) + 1
    return ("\n".join(out) + "\n").encode()


def elf_sources(want, budget):
    """Real ELF files of /usr/bin: regular, not links, at most 4 MiB, spread over the list."""
    cands = []
    for name in sorted(os.listdir("/usr/bin")):
        p = os.path.join("/usr/bin", name)
        try:
            if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) > (4 << 20):
                continue
            with open(p, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    cands.append(p)
        except OSError:
            continue
    if len(cands) < want:
        die("only %d ELF files in /usr/bin (%d needed)" % (len(cands), want))
    step = len(cands) / want
    picked, total = [], 0
    for i in range(want):
        p = cands[int(i * step)]
        total += os.path.getsize(p)
        picked.append(p)
    while total > budget and len(picked) > want:
        total -= os.path.getsize(picked.pop())
    return picked, total


def dpkg_status(rng, n):
    ents = []
    for name, src, up, rev in KNOWN:
        ents.append((name, src, up + "-" + rev))
    i = 0
    while len(ents) < n:
        i += 1
        name = "lib%s%s%d" % (rng.choice(WORDS), rng.choice(WORDS), i)
        ents.append((name, name, "%d.%d.%d-%d" % (rng.randint(0, 9), rng.randint(0, 30), rng.randint(0, 20), rng.randint(1, 5))))
    out = []
    for name, src, ver in ents:
        out.append("Package: %s\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
                   "Installed-Size: %d\nMaintainer: Example Maintainers <pkg@example.org>\nArchitecture: amd64\n"
                   "%sVersion: %s\nDescription: %s\n %s\n" % (
                       name, rng.randint(10, 9000), "Source: %s\n" % src if src != name else "", ver,
                       " ".join(rng.choice(WORDS) for _ in range(5)), " ".join(rng.choice(WORDS) for _ in range(12))))
    return "\n".join(out).encode(), len(ents)


def nvd_feed(rng, n):
    vulns = []
    for i in range(n):
        cid = "CVE-20%02d-%d" % (rng.randint(10, 26), 100000 + i)
        if i % 5 < 3:
            vp = rng.choice(CPES)
        else:
            vp = "%svendor%d:%s_%d" % (rng.choice(WORDS), i % 97, rng.choice(WORDS), i)
        m = {"vulnerable": True, "criteria": "cpe:2.3:a:%s:*:*:*:*:*:*:*:*" % vp,
             "matchCriteriaId": "%08X-0000-4000-8000-%012X" % (i, i)}
        kind = i % 4
        a, b = rng.randint(0, 3), rng.randint(0, 40)
        if kind == 0:
            m["versionEndExcluding"] = "%d.%d.%d" % (a, b, rng.randint(0, 9))
        elif kind == 1:
            m["versionStartIncluding"] = "%d.%d" % (a, b)
            m["versionEndIncluding"] = "%d.%d.%d" % (a + rng.randint(0, 2), b + rng.randint(0, 30), rng.randint(0, 9))
        elif kind == 2:
            m["criteria"] = "cpe:2.3:a:%s:%d.%d.%d:*:*:*:*:*:*:*" % (vp, a, b, rng.randint(0, 9))
        else:
            m["versionEndExcluding"] = "%d.%d" % (2000 + rng.randint(0, 25), rng.randint(1, 99))
        score = round(rng.uniform(2.0, 9.9), 1)
        sev = "CRITICAL" if score >= 9 else "HIGH" if score >= 7 else "MEDIUM" if score >= 4 else "LOW"
        vulns.append({"cve": {
            "id": cid, "sourceIdentifier": "cve@mitre.org", "published": "2024-01-01T00:00:00.000",
            "lastModified": "2025-01-01T00:00:00.000", "vulnStatus": rng.choice(["Analyzed", "Modified"]),
            "descriptions": [{"lang": "en", "value": "Generated record %d for bench_audit: %s" % (
                i, " ".join(rng.choice(WORDS) for _ in range(30)))}],
            "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
                "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "baseScore": score, "baseSeverity": sev}}]},
            "configurations": [{"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [m]}]}],
            "references": [{"url": "https://example.org/advisory/%d" % i, "source": "cve@mitre.org"}]}})
    return {"resultsPerPage": n, "startIndex": 0, "totalResults": n, "format": "NVD_CVE",
            "version": "2.0", "timestamp": "2026-12-01T00:00:00.000", "vulnerabilities": vulns}


def generate(tmp, mib, nfiles, nelf, npkg, nrec):
    rng = random.Random(38)
    root = os.path.join(tmp, "rootfs")
    files = []  # (path, bytes, mode)
    elfs, elf_bytes = elf_sources(nelf, int(mib * 0.45) << 20)
    dirs = ["usr/bin", "usr/sbin", "usr/lib", "bin", "sbin"]
    for k, p in enumerate(elfs):
        with open(p, "rb") as f:
            files.append(("%s/%s" % (dirs[k % len(dirs)], os.path.basename(p)), f.read(), 0o755))
    status, npk = dpkg_status(rng, npkg)
    files.append(("var/lib/dpkg/status", status, 0o644))
    files.append(("etc/os-release", b'PRETTY_NAME="Example Gateway OS 4.2"\nID=debian\nVERSION_ID="12"\n'
                  b"SUPPORT_END=2030-12-31\n", 0o644))
    files.append(("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/:/usr/sbin/nologin\n", 0o644))
    # sha512crypt of a throwaway strong password (not on any list): tested like on a real image
    files.append(("etc/shadow", b"root:$6$bEnChSaLt$PLpNwThnjo.Hr2HoGmptekIIhDDTfpZrKa.aW.DEO68BaNItAVeRY5trZAnan6O5"
                  b"9DfDoAmyn4PlP7vlaq4Us/:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", 0o600))
    files.append(("etc/inittab", b"::sysinit:/etc/init.d/rcS\nttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\n", 0o644))
    for k in range(40):
        files.append(("etc/init.d/S%02d%s" % (10 + k, rng.choice(WORDS)),
                      b"#!/bin/sh\ncase \"$1\" in\n  start) /usr/sbin/%s -c /etc/%s.conf ;;\n  stop) killall %s ;;\nesac\n" % (
                          (rng.choice(WORDS).encode(),) * 3), 0o755))
    kinds = [("etc/%s/%s%d.conf", 0o644), ("www/%s/%s%d.html", 0o644), ("usr/share/%s/%s%d.sh", 0o755),
             ("usr/share/doc/%s/%s%d.txt", 0o644), ("usr/lib/lua/%s/%s%d.lua", 0o644)]
    used = sum(len(b) for _, b, _ in files)
    blob_budget = int((mib << 20) * 0.25)
    text_budget = (mib << 20) - used - blob_budget
    ntext = nfiles - len(files) - 40
    for k in range(ntext):
        pat, mode = kinds[k % len(kinds)]
        path = pat % (rng.choice(WORDS), rng.choice(WORDS), k)
        files.append((path, text(rng, max(64, int(rng.uniform(0.2, 1.8) * text_budget / ntext))), mode))
    for k in range(40):
        files.append(("lib/firmware/blob%02d.bin" % k, rng.randbytes(blob_budget // 40), 0o644))
    for path, data, mode in files:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        os.chmod(full, mode)
    image = os.path.join(tmp, "rootfs.tar.gz")
    subprocess.run(["tar", "--numeric-owner", "--owner=0", "--group=0", "-C", root, "-czf", image, "."], check=True)
    feed = os.path.join(tmp, "nvd-2000.json")
    with open(feed, "w") as f:
        json.dump(nvd_feed(rng, nrec), f)
    total = sum(len(b) for _, b, _ in files)
    return root, image, feed, {"files": len(files), "elf": len(elfs), "elf_bytes": elf_bytes, "bytes": total,
                               "packages": npk, "records": nrec}


# ---- measurement --------------------------------------------------------------------------------

TIME = "/usr/bin/time"  # GNU time: forks the child from a small process, so its peak RSS is its own


def run(argv, cwd=None):
    """Run argv (stdout discarded); (wall s, user+sys s, peak RSS KiB, exit status, stderr) of the child.

    Peak memory comes from GNU time (%M: the child's ru_maxrss) when it is installed: wait4 on a
    child forked by this Python process would count the parent's pages it inherited before exec."""
    use_time = os.access(TIME, os.X_OK)
    mark = "@@bench_audit@@"
    full = [TIME, "-f", mark + " %e %U %S %M %x"] + argv if use_time else argv
    t0 = time.monotonic()
    p = subprocess.Popen(full, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    rc = os.waitstatus_to_exitcode(status)
    if not use_time:
        return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, rc, err
    for line in err.splitlines():
        if line.startswith(mark):
            _, _e, u, s_, m, x = line.split()
            return wall, float(u) + float(s_), int(m), int(x), err
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, rc, err


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def main():
    args = sys.argv[1:]
    fs38 = None
    quick = keep = False
    while args:
        a = args.pop(0)
        if a == "--fs38" and args:
            fs38 = args.pop(0)
        elif a == "--quick":
            quick = True
        elif a == "--keep":
            keep = True
        else:
            die("usage: audit.py --fs38 PATH [--quick] [--keep]")
    if not fs38 or not os.access(fs38, os.X_OK):
        die("--fs38 PATH: the fs38 tool is needed")
    mib, nfiles, nelf, npkg, nrec, repeat = (20, 1000, 50, 300, 2000, 1) if quick else (100, 5200, 220, 320, 2000, 3)
    tmp = tempfile.mkdtemp(prefix="fs38-bench-audit.")
    try:
        t0 = time.monotonic()
        root, image, feed, g = generate(tmp, mib, nfiles, nelf, npkg, nrec)
        gen_s = time.monotonic() - t0
        img_mib = g["bytes"] / 1048576
        print("bench_audit: generated in %.1f s: %d files (%d ELF from /usr/bin, %.1f MiB), %.1f MiB in all, "
              "dpkg status with %d packages; tar.gz %.1f MiB; feed %d NVD-shaped records (%.1f MiB)" % (
                  gen_s, g["files"], g["elf"], g["elf_bytes"] / 1048576, img_mib, g["packages"],
                  os.path.getsize(image) / 1048576, g["records"], os.path.getsize(feed) / 1048576))
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
        print("bench_audit: %d CPU core(s) available; medians of %d run(s), alternating" % (cores, repeat))
        audit = [fs38, "audit", image, "--cve-feed", feed, "--date", DATE, "--json"]
        audit_dir = [fs38, "audit", root, "--cve-feed", feed, "--date", DATE, "--json"]
        res = {"tar": [], "audit": [], "dir": []}
        for _ in range(repeat):
            out = tempfile.mkdtemp(prefix="x.", dir=tmp)
            r = run(["tar", "-xzf", image, "-C", out])
            if r[3] != 0:
                die("tar -xzf failed: " + r[4].strip())
            res["tar"].append(r)
            shutil.rmtree(out)
            for key, argv in (("audit", audit), ("dir", audit_dir)):
                r = run(argv)
                if r[3] not in (0, 1):
                    die("fs38 audit exited %d: %s" % (r[3], r[4].strip()[:500]))
                res[key].append(r)
        # the report itself, once: what was assessed
        rep = json.loads(subprocess.run(audit, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout)
        verdicts = " ".join("%d=%s" % (c["id"], c["verdict"]) for c in rep["controls"])
        print("bench_audit: report: %d components, %d vulnerabilities; %s" % (rep["components"], rep["vulnerabilities"], verdicts))

        def row(label, key):
            wall = median([r[0] for r in res[key]])
            cpu = median([r[1] for r in res[key]])
            rss = max(r[2] for r in res[key])
            return label, wall, cpu, rss
        rows = [row("tar -xzf (baseline)", "tar"), row("fs38 audit tar.gz + feed", "audit"),
                row("fs38 audit dir + feed", "dir")]
        base = rows[0][1]
        print("%-26s %9s %9s %11s %11s %10s %9s" % ("", "wall s", "cpu s", "ms/MiB", "us/file", "peak MiB", "x tar"))
        for label, wall, cpu, rss in rows:
            print("%-26s %9.2f %9.2f %11.1f %11.1f %10.1f %9.2f" % (
                label, wall, cpu, wall * 1000 / img_mib, wall * 1e6 / g["files"], rss / 1024, wall / base))
        aw = rows[1][1]
        print("bench_audit: fs38 audit of %.0f MiB / %d files with a %d-record feed: %.2f s wall (goal <= 10 s): %s" % (
            img_mib, g["files"], g["records"], aw, "met" if aw <= 10 else "NOT met"))
    finally:
        if keep:
            print("bench_audit: kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
