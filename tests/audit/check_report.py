# SPDX-License-Identifier: Apache-2.0
"""Checks one `fs38 audit --json` report (tests/cli/audit.sh).

  check_report.py shape REPORT                     the JSON contract of the issue
  check_report.py fail REPORT EXPECT               every "RULE PATH LINE" / "control N VERDICT"
                                                   line of EXPECT is in the report
  check_report.py clean REPORT [CONTROL...]        no evidence of severity medium or above
                                                   (in the given controls, default all)
  check_report.py has REPORT RULE PATH [LINE]      one evidence item matches
  check_report.py sev REPORT RULE PATH LINE SEV     an evidence item RULE PATH LINE of severity SEV
  check_report.py finding REPORT RULE PATH REGEX    an evidence item of RULE for PATH whose finding
                                                   matches REGEX (re.search)
  check_report.py hasnot REPORT RULE_PREFIX PATH   no evidence item of that rule prefix for PATH
  check_report.py verdict REPORT N VERDICT         control N has that verdict
  check_report.py norm REPORT                      print the report without "target" (to compare
                                                   the same tree read from different images)
"""
import json
import sys

FAIL_SEV = {"medium", "high", "critical"}


def load(p):
    with open(p) as f:
        return json.load(f)


def shape(r):
    keys = ["tool", "version", "target", "date", "controls", "components", "vulnerabilities"]
    assert list(r.keys()) == keys, "top-level keys %s" % list(r.keys())
    assert r["tool"] == "fs38"
    assert isinstance(r["version"], str) and r["version"]
    assert len(r["date"]) == 10 and r["date"][4] == "-" and r["date"][7] == "-"
    assert isinstance(r["components"], int) and isinstance(r["vulnerabilities"], int)
    assert len(r["controls"]) == 14, "controls: %d" % len(r["controls"])
    for i, c in enumerate(r["controls"]):
        assert list(c.keys()) == ["id", "title", "verdict", "summary", "evidence"], list(c.keys())
        assert c["id"] == i + 1
        assert c["verdict"] in ("PASS", "FAIL", "UNKNOWN", "NOT-APPLICABLE")
        assert c["title"] and c["summary"]
        fails = False
        for e in c["evidence"]:
            ks = list(e.keys())
            assert ks in (["path", "line", "rule", "severity", "finding"], ["path", "rule", "severity", "finding"]), ks
            assert not e["path"].startswith("/") and not e["path"].startswith("./"), e["path"]
            assert ".." not in e["path"].split("/"), e["path"]
            if "line" in e:
                assert isinstance(e["line"], int) and e["line"] >= 1
            assert e["rule"].startswith("FS38-%d." % c["id"]), (c["id"], e["rule"])
            assert e["severity"] in ("info", "low", "medium", "high", "critical")
            fails |= e["severity"] in FAIL_SEV
        # the verdict rule
        if fails:
            assert c["verdict"] == "FAIL", (c["id"], c["verdict"])
        elif any(e["severity"] == "info" for e in c["evidence"]):
            assert c["verdict"] == "PASS", (c["id"], c["verdict"])
        else:  # warnings only, or nothing
            assert c["verdict"] in ("UNKNOWN", "NOT-APPLICABLE"), (c["id"], c["verdict"])


def find(r, rule, path, line=None):
    for c in r["controls"]:
        for e in c["evidence"]:
            if e["rule"] == rule and e["path"] == path and (line is None or e.get("line", 0) == line):
                return e
    return None


def dump(r):
    out = []
    for c in r["controls"]:
        out.append("%d %s" % (c["id"], c["verdict"]))
        for e in c["evidence"]:
            out.append("  %s %s:%s %s %s" % (e["rule"], e["path"], e.get("line", 0), e["severity"], e["finding"]))
    return "\n".join(out)


def main():
    cmd, r = sys.argv[1], load(sys.argv[2])
    shape(r)
    if cmd == "shape":
        return
    if cmd == "fail":
        for line in open(sys.argv[3]):
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            if w[0] == "control":
                c = r["controls"][int(w[1]) - 1]
                assert c["verdict"] == w[2], "control %s: %s, expected %s\n%s" % (w[1], c["verdict"], w[2], dump(r))
            else:
                e = find(r, w[0], w[1], int(w[2]))
                assert e, "missing %s %s:%s\n%s" % (w[0], w[1], w[2], dump(r))
                assert e["severity"] in FAIL_SEV, "%s is %s" % (line.strip(), e["severity"])
    elif cmd == "clean":
        ids = [int(x) for x in sys.argv[3:]] or range(1, 15)
        for i in ids:
            c = r["controls"][i - 1]
            bad = [e for e in c["evidence"] if e["severity"] in FAIL_SEV]
            assert not bad and c["verdict"] != "FAIL", "control %d not clean:\n%s" % (i, dump(r))
    elif cmd == "has":
        line = int(sys.argv[5]) if len(sys.argv) > 5 else None
        assert find(r, sys.argv[3], sys.argv[4], line), "missing %s\n%s" % (sys.argv[3:], dump(r))
    elif cmd == "sev":
        rule, path, line = sys.argv[3], sys.argv[4], int(sys.argv[5])
        sevs = [e["severity"] for c in r["controls"] for e in c["evidence"]
                if e["rule"] == rule and e["path"] == path and e.get("line", 0) == line]
        assert sevs, "missing %s\n%s" % (sys.argv[3:], dump(r))
        assert sys.argv[6] in sevs, "%s is %s, expected %s" % (sys.argv[3:6], "/".join(sevs), sys.argv[6])
    elif cmd == "finding":
        import re
        ok = any(e["rule"] == sys.argv[3] and e["path"] == sys.argv[4] and re.search(sys.argv[5], e["finding"])
                 for c in r["controls"] for e in c["evidence"])
        assert ok, "no %s %s finding matching %r\n%s" % (sys.argv[3], sys.argv[4], sys.argv[5], dump(r))
    elif cmd == "hasnot":
        for c in r["controls"]:
            for e in c["evidence"]:
                assert not (e["rule"].startswith(sys.argv[3]) and e["path"] == sys.argv[4] and e["severity"] != "info"), \
                    "unexpected %s\n%s" % (e, dump(r))
    elif cmd == "verdict":
        c = r["controls"][int(sys.argv[3]) - 1]
        assert c["verdict"] == sys.argv[4], "control %s is %s\n%s" % (sys.argv[3], c["verdict"], dump(r))
    elif cmd == "norm":
        r.pop("target")
        print(json.dumps(r, indent=1, sort_keys=True))
    else:
        sys.exit("unknown command")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("check_report: %s" % e, file=sys.stderr)
        sys.exit(1)
