#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cross-check fs38's SUIT envelopes with an independent implementation.

Uses Debian's python3-cryptography and python3-cbor2 (run with /usr/bin/python3):

  --part verify-fs38   envelopes made by `fs38 sign` (ES256 and ESP256) are parsed with cbor2;
                       their encoding must be deterministic and have the documented shape;
                       SHA-256 over the bstr-wrapped manifest must equal the SUIT_Digest, and
                       the COSE_Sign1 signature over Sig_structure ["Signature1", protected,
                       h'', encoded SUIT_Digest] must verify (r||s -> DER) with the public key
                       PEM written by `fs38 keygen`; the image digest and size must match.
  --part fs38-verifies envelopes of the same shape built and signed here with a fresh key
                       (ES256 -7 and ESP256 -9, with and without kid) must pass
                       `fs38 verify --key thatpub.pem` (exit 0, also with --image), and copies
                       with one signature byte flipped must be rejected (exit 1).

Exit status: 0 pass, 1 failure (or python modules missing: scripts/deps installs them), 2 usage.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

try:
    import cbor2
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature, encode_dss_signature)
except ImportError as exc:  # pragma: no cover
    print(f"FAIL: {exc} (needs python3-cryptography and python3-cbor2: run scripts/deps)")
    sys.exit(1)

VENDOR_ID = "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"
CLASS_ID = "1492af14-2569-5e48-bf42-9b2d51f2ab45"
SHA256 = -16
ALGS = {-7: "es256", -9: "esp256"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def uuid_bytes(text):
    return bytes.fromhex(text.replace("-", ""))


def dumps(obj):
    return cbor2.dumps(obj, canonical=True)


def deterministic(raw, what):
    """raw must decode to an item whose canonical re-encoding is the same bytes."""
    obj = cbor2.loads(raw)
    check(dumps(obj) == raw, f"{what}: encoding is not deterministic")
    return obj


def point_of(public_key):
    return public_key.public_bytes(serialization.Encoding.X962,
                                   serialization.PublicFormat.UncompressedPoint)


def sig_structure(protected, payload):
    return dumps(["Signature1", protected, b"", payload])


def verify_rs(public_key, sig, data):
    if len(sig) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# ---- (a) fs38 sign, checked here ----------------------------------------------------------

def check_manifest(manifest_raw, seq, image, component):
    man = deterministic(manifest_raw, "manifest")
    check(list(man.keys()) == [1, 2, 3, 7, 9, 20], f"manifest keys {list(man.keys())}")
    install = deterministic(man[20], "install sequence")
    check(install == [20, {21: "#firmware"}, 21, 2, 3, 15], f"install sequence {install}")
    check(man.get(1) == 1, "manifest version is 1")
    check(man.get(2) == seq, f"manifest sequence {man.get(2)} != {seq}")
    common = deterministic(man[3], "common")
    check(list(common.keys()) == [2, 4], f"common keys {list(common.keys())}")
    check(common.get(2) == [[component.encode()]], f"components {common.get(2)}")
    shared = deterministic(common[4], "shared sequence")
    check(len(shared) == 6 and shared[0] == 20 and shared[2:] == [1, 15, 2, 15],
          f"shared sequence shape {shared}")
    params = shared[1]
    check(list(params.keys()) == [1, 2, 3, 14], f"parameter keys {list(params.keys())}")
    check(params.get(1) == uuid_bytes(VENDOR_ID), "vendor id")
    check(params.get(2) == uuid_bytes(CLASS_ID), "class id")
    digest = deterministic(params[3], "image digest")
    check(digest == [SHA256, hashlib.sha256(image).digest()], "image digest value")
    check(params.get(14) == len(image), "image size")
    check(deterministic(man[7], "validate") == [3, 15], "validate sequence is [3, 15]")
    check(deterministic(man[9], "invoke") == [23, 2], "invoke sequence is [23, 2]")


def check_fs38_envelope(raw, public_key, alg, seq, image, component):
    env = deterministic(raw, "envelope")
    if not check(isinstance(env, cbor2.CBORTag) and env.tag == 107, "envelope tag 107"):
        return
    check(list(env.value.keys()) == [2, 3], f"envelope keys {list(env.value.keys())}")
    auth = deterministic(env.value[2], "authentication wrapper")
    check(len(auth) == 2, "authentication wrapper has a digest and one COSE block")
    manifest_wrapped = dumps(env.value[3])
    check(raw.endswith(manifest_wrapped), "manifest bstr is the end of the envelope")
    digest = deterministic(auth[0], "SUIT_Digest")
    check(digest == [SHA256, hashlib.sha256(manifest_wrapped).digest()],
          "SUIT_Digest = SHA-256 over the bstr-wrapped manifest")

    cose = deterministic(auth[1], "COSE_Sign1")
    check(isinstance(cose, cbor2.CBORTag) and cose.tag == 18, "COSE_Sign1 tag 18")
    protected, unprotected, payload, sig = cose.value
    check(cbor2.loads(protected) == {1: alg}, f"protected header {cbor2.loads(protected)}")
    kid = hashlib.sha256(point_of(public_key)).digest()[:8]
    check(unprotected == {4: kid}, "kid = first 8 bytes of SHA-256(public point)")
    check(payload is None, "detached payload")
    check(verify_rs(public_key, sig, sig_structure(protected, auth[0])),
          f"{ALGS[alg]} signature verifies with cryptography")
    # the checker itself must notice a bad signature
    bad = bytearray(sig)
    bad[10] ^= 1
    check(not verify_rs(public_key, bytes(bad), sig_structure(protected, auth[0])),
          "flipped signature is refused by the checker")
    check_manifest(env.value[3], seq, image, component)


def part_verify_fs38(fs38, tmp):
    key, pub = os.path.join(tmp, "k.pem"), os.path.join(tmp, "k.pub.pem")
    r = run([fs38, "keygen", "--out", key, "--pub", pub])
    if not check(r.returncode == 0 and os.path.exists(key) and os.path.exists(pub),
                 f"fs38 keygen wrote {key} and {pub}: {r.stderr.strip()}"):
        return
    with open(pub, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    with open(key, "rb") as f:  # the private key must be usable by others too
        private_key = serialization.load_pem_private_key(f.read(), password=None)
    check(point_of(private_key.public_key()) == point_of(public_key), "keygen wrote a matching pair")
    check(isinstance(public_key.curve, ec.SECP256R1), "keygen key is P-256")
    image = os.urandom(3000)
    img = os.path.join(tmp, "img.bin")
    with open(img, "wb") as f:
        f.write(image)
    for alg, seq, component in ((-7, 5, "firmware"), (-9, 123456, "radio-fw")):
        out = os.path.join(tmp, f"env{alg}.suit")
        r = run([fs38, "sign", "--key", key, "--image", img, "--seq", str(seq), "--vendor-id", VENDOR_ID,
                 "--class-id", CLASS_ID, "--component", component, "--alg", ALGS[alg], "--out", out])
        if not check(r.returncode == 0 and os.path.exists(out), f"fs38 sign --alg {ALGS[alg]}: {r.stderr.strip()}"):
            continue
        with open(out, "rb") as f:
            check_fs38_envelope(f.read(), public_key, alg, seq, image, component)


# ---- (b) envelopes made here, verified by fs38 --------------------------------------------

def build_envelope(private_key, alg, seq, image, with_kid=True):
    digest_bstr = dumps([SHA256, hashlib.sha256(image).digest()])
    shared = dumps([20, {1: uuid_bytes(VENDOR_ID), 2: uuid_bytes(CLASS_ID), 3: digest_bstr, 14: len(image)},
                    1, 15, 2, 15])
    common = dumps({2: [[b"firmware"]], 4: shared})
    manifest = dumps({1: 1, 2: seq, 3: common, 7: dumps([3, 15]), 9: dumps([23, 2])})
    suit_digest = dumps([SHA256, hashlib.sha256(dumps(manifest)).digest()])
    protected = dumps({1: alg})
    der = private_key.sign(sig_structure(protected, suit_digest), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    unprotected = {4: hashlib.sha256(point_of(private_key.public_key())).digest()[:8]} if with_kid else {}
    cose = dumps(cbor2.CBORTag(18, [protected, unprotected, None, sig]))
    auth = dumps([suit_digest, cose])
    raw = dumps(cbor2.CBORTag(107, {2: auth, 3: manifest}))
    # offset of the signature's last byte: the COSE block ends the auth wrapper
    sig_end = raw.index(auth) + len(auth)
    return raw, sig_end - 1


def expect_verify(fs38, args, want, what):
    r = run([fs38, "verify"] + args)
    ok = check(r.returncode == want, f"{what}: exit {r.returncode}, expected {want} ({r.stderr.strip()})")
    if ok and want == 1:
        lines = r.stderr.splitlines()
        check(len(lines) == 1 and lines[0].startswith("verify: rejected: "), f"{what}: one rejection line")
    return r


def part_fs38_verifies(fs38, tmp):
    private_key = ec.generate_private_key(ec.SECP256R1())
    other_key = ec.generate_private_key(ec.SECP256R1())
    pub, other = os.path.join(tmp, "py.pub.pem"), os.path.join(tmp, "other.pub.pem")
    for path, k in ((pub, private_key), (other, other_key)):
        with open(path, "wb") as f:
            f.write(k.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    image = os.urandom(2500)
    img = os.path.join(tmp, "img.bin")
    with open(img, "wb") as f:
        f.write(image)
    for alg in (-7, -9):
        for with_kid in (True, False):
            name = f"{ALGS[alg]}{'' if with_kid else '-nokid'}"
            raw, sig_last = build_envelope(private_key, alg, 17, image, with_kid)
            env = os.path.join(tmp, f"{name}.suit")
            with open(env, "wb") as f:
                f.write(raw)
            r = expect_verify(fs38, ["--key", pub, env], 0, f"fs38 verify {name}")
            check(f"sequence 17, {ALGS[alg].upper()}" in r.stdout, f"{name}: verify output {r.stdout.strip()}")
            expect_verify(fs38, ["--key", pub, env, "--image", img], 0, f"fs38 verify --image {name}")
            expect_verify(fs38, ["--key", other, env], 1, f"fs38 verify {name} with another key")
            bad = bytearray(raw)
            bad[sig_last] ^= 0x01
            bad_env = os.path.join(tmp, f"{name}-badsig.suit")
            with open(bad_env, "wb") as f:
                f.write(bytes(bad))
            expect_verify(fs38, ["--key", pub, bad_env], 1, f"fs38 verify {name} with a flipped signature byte")
            wrong = os.path.join(tmp, "wrong.bin")
            with open(wrong, "wb") as f:
                f.write(bytes([image[0] ^ 0xFF]) + image[1:])
            expect_verify(fs38, ["--key", pub, env, "--image", wrong], 1, f"fs38 verify {name} wrong image")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fs38", required=True, help="path of the fs38 binary")
    ap.add_argument("--part", choices=["verify-fs38", "fs38-verifies", "all"], default="all")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fs38-cross.") as tmp:
        if args.part in ("verify-fs38", "all"):
            part_verify_fs38(args.fs38, tmp)
        if args.part in ("fs38-verifies", "all"):
            part_fs38_verifies(args.fs38, tmp)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("cross-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
