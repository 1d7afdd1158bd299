# SPDX-License-Identifier: Apache-2.0
# fuzz/targets.cmake — the fuzz targets, one line each, read by two builds:
#   fuzz/CMakeLists.txt  (FS38_FUZZ=ON, clang + libFuzzer; scripts/fuzz.sh lists the names here)
#   fuzz/replay.cmake    (the normal build: each target + fuzz/replay_main.c replays its
#                         committed seeds as a CTest test labelled fuzz-replay)
# fs38_fuzz_target(NAME SOURCE [DEFINES defs...] [LIBS libs...] [SUIT_VECTORS])
# Seeds: fuzz/corpus/<NAME without fuzz_>/, plus every tests/vectors/suit/**.cbor with SUIT_VECTORS.
fs38_fuzz_target(fuzz_cbor fuzz_cbor.c SUIT_VECTORS)
fs38_fuzz_target(fuzz_cose fuzz_cose.c)
fs38_fuzz_target(fuzz_suit fuzz_suit.c SUIT_VECTORS)
fs38_fuzz_target(fuzz_suit_manifest fuzz_suit.c DEFINES FS38_FUZZ_MANIFEST_MODE=1)
fs38_fuzz_target(fuzz_decrypt fuzz_decrypt.c)   # encryption-info (COSE_Encrypt) + streaming decryption
fs38_fuzz_target(fuzz_update fuzz_update.c LIBS fs38_host) # the update agent's state machine, random ops/chunks/cuts
fs38_fuzz_target(fuzz_store fuzz_store.c)       # input = corrupted flash image of the sealed store's region
fs38_fuzz_target(fuzz_eat fuzz_eat.c)           # attestation token / decommissioning receipt verifiers and claims parsers
fs38_fuzz_target(fuzz_log fuzz_log.c)           # security-log batches: parser, verifier (tamper naming), show rendering
fs38_fuzz_target(fuzz_coap fuzz_coap.c)           # CoAP codec (decode/re-encode byte-exact) and the client's response handling (Block2 GET, Block1 upload)
fs38_fuzz_target(fuzz_mqtt fuzz_mqtt.c)           # MQTT 3.1.1 decoder (re-encode oracle) and the client fed a server byte stream in chunks
fs38_fuzz_target(fuzz_sbom fuzz_sbom.c LIBS fs38_audit) # package databases, NVD/OSV feeds, banners, Debian ordering, CycloneDX
fs38_fuzz_target(fuzz_privacy fuzz_privacy.c)     # telemetry fields through the minimisation filter, wireless configurations through the policy
fs38_fuzz_target(fuzz_audit_image fuzz_audit_image.c LIBS fs38_audit) # fs38 audit: image readers (tar/cpio/squashfs/ext), path resolution, checks' parsers
