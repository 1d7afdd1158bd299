#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fs38 inspect: human-readable and JSON dumps, without a key.
. "$(dirname "$0")/lib.sh"

keypair a
random_file "$T/img" 1000
sign "$T/a.pem" "$T/img" 42 "$T/env.suit" --component bootloader
digest=$(sha256sum "$T/img" | cut -d' ' -f1)

expect_rc 0 "inspect" "$FS38" inspect "$T/env.suit"
expect_grep "$T/out" "^  sequence: 42$" "sequence"
expect_grep "$T/out" "^  version: 1$" "version"
expect_grep "$T/out" "not verified" "says it is not verified"
expect_grep "$T/out" "alg ESP256 \(-9\), signer kid [0-9a-f]{16}" "algorithm and kid"
expect_grep "$T/out" "manifest digest: sha256:[0-9a-f]{64} \(matches the manifest\)" "manifest digest"
expect_grep "$T/out" "\[0\] \['bootloader'\]" "component id as text"
expect_grep "$T/out" "vendor-id: $UUID_VENDOR" "vendor id as UUID"
expect_grep "$T/out" "class-id: $UUID_CLASS" "class id as UUID"
expect_grep "$T/out" "image-digest: sha256:$digest" "image digest"
expect_grep "$T/out" "image-size: 1000" "image size"
expect_grep "$T/out" "^  shared: present" "shared sequence present"
expect_grep "$T/out" "^  validate: present" "validate present"
expect_grep "$T/out" "^    condition-image-match \(report 15\)" "validate command"
expect_grep "$T/out" "^    directive-invoke \(report 2\)" "invoke command"
expect_grep "$T/out" "^  install: present" "install present"
expect_grep "$T/out" "^      uri: #firmware" "install fetches the payload by its uri"
expect_grep "$T/out" "^  text: absent" "text absent"

# JSON: valid, same facts
expect_rc 0 "inspect --json" "$FS38" inspect --json "$T/env.suit"
CHECKS=$((CHECKS + 1))
/usr/bin/python3 - "$T/out" "$digest" <<'PY' || fail "JSON dump content"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["manifest"]
assert d["authentication"]["verified"] is False
assert d["authentication"]["digest_matches"] is True
assert d["authentication"]["blocks"][0]["alg_id"] == -9
assert m["sequence"] == 42 and m["version"] == 1
assert m["components"] == ["['bootloader']"]
shared = m["sequences"]["shared"]["commands"]
assert shared[0]["command"] == "directive-override-parameters"
assert shared[0]["parameters"]["image-digest"] == "sha256:" + sys.argv[2]
assert shared[0]["parameters"]["image-size"] == 1000
assert m["sequences"]["validate"]["commands"] == [{"command": "condition-image-match", "code": 3, "report": 15}]
assert m["sequences"]["load"]["state"] == "absent"
assert d["well_formed"] is True
PY

# IETF examples: try-each, several components, severed members
V="$FS38_VECTORS/manifest"
expect_rc 0 "inspect example3" "$FS38" inspect "$V/example3-ab-images.signed.cbor"
expect_grep "$T/out" "directive-try-each" "try-each"
expect_grep "$T/out" "^      alternative 2:" "try-each alternatives"
expect_grep "$T/out" "^          component-slot: 1" "nested parameters indented"
expect_grep "$T/out" "uri: http://example.com/file2.bin" "uri"
expect_rc 0 "inspect example4" "$FS38" inspect "$V/example4-load-external.signed.cbor"
expect_grep "$T/out" "\[2\] \[h'01'\]" "binary component id in hex"
expect_grep "$T/out" "^  load: present" "load present"
expect_grep "$T/out" "directive-set-component-index 2" "component index"
expect_rc 0 "inspect example2 full" "$FS38" inspect "$V/example2-severable.signed-full.cbor"
expect_grep "$T/out" "install: severed, in the envelope .* digest matches" "severed install present"
expect_grep "$T/out" "vendor-domain: arm.com" "text decoded"
expect_rc 0 "inspect example2 severed" "$FS38" inspect "$V/example2-severable.signed-severed.cbor"
expect_grep "$T/out" "install: severed, not in the envelope" "severed install absent"
expect_rc 0 "inspect example2 --json" "$FS38" inspect --json "$V/example2-severable.signed-full.cbor"
CHECKS=$((CHECKS + 1))
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || fail "example2 JSON is invalid"

# Rejected envelopes: exit 1 but still dumped
expect_rc 1 "inspect unsigned" "$FS38" inspect "$V/example0-secure-boot.unsigned.cbor"
expect_grep "$T/out" "no COSE authentication block" "unsigned reported"
expect_grep "$T/out" "^  sequence: 0$" "unsigned still dumped"
expect_rc 1 "inspect modified manifest" "$FS38" inspect "$FS38_VECTORS/negative/example0-manifest-modified.cbor"
expect_grep "$T/out" "DOES NOT match the manifest" "digest mismatch reported"
expect_rc 1 "inspect modified severed text" "$FS38" inspect "$FS38_VECTORS/negative/example2-severed-text-modified.cbor"
expect_grep "$T/out" "text: severed, .*DIGEST MISMATCH" "severed mismatch reported"
head -c 60 "$T/env.suit" >"$T/trunc.suit"
expect_rc 1 "inspect truncated" "$FS38" inspect "$T/trunc.suit"
expect_rc 1 "inspect truncated --json" "$FS38" inspect --json "$T/trunc.suit"
CHECKS=$((CHECKS + 1))
/usr/bin/python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["well_formed"] is False' "$T/out" ||
    fail "truncated envelope JSON"

# Usage / I/O
expect_rc 2 "inspect a missing file" "$FS38" inspect "$T/missing.suit"
expect_rc 2 "inspect without a file" "$FS38" inspect
expect_rc 2 "inspect two files" "$FS38" inspect "$T/env.suit" "$T/env.suit"
expect_rc 2 "inspect --frob" "$FS38" inspect --frob "$T/env.suit"

finish
