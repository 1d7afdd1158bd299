#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerate the committed fuzz seed corpora under fuzz/corpus/ (run: python3 fuzz/corpus/make_seeds.py).

  cbor/            small hand-made items covering every major type, the edge heads and the
                   depth limit (scripts/fuzz.sh adds tests/vectors/suit/**.cbor at run time)
  cose/            the COSE blocks of the vectors' authentication wrappers, plus COSE_Sign1
                   (example P-256 key) and COSE_Mac0 (key 'a'*32) messages that fuzz_cose's
                   fixed keyring accepts, attached and detached
  suit/            envelopes for fuzz_suit's boot path (its RAM image), signed with the example
                   key and MAC'd with 'a'*32 (scripts/fuzz.sh adds tests/vectors/suit/**.cbor)
  suit_manifest/   fuzz_suit_manifest's inputs: the manifest of every vector envelope followed
                   by the envelope's other members (severed members, integrated payloads) as
                   (key, value) pairs, plus boot and "every command" manifests built here

Only the standard library is needed, except for the ECDSA-signed seeds (python3-cryptography,
installed by scripts/deps); without it those few seeds are skipped. ECDSA signatures are
randomised, so regenerating changes those files' bytes, not what they exercise.
"""
import glob
import hashlib
import hmac
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
VECTORS = os.path.join(ROOT, "tests", "vectors", "suit")

EXAMPLE_D = bytes.fromhex("0296588d909418b339d150420a3612b57fb4f631a69f224fae90cb4f3fe18973")
EXAMPLE_PUB = bytes.fromhex(
    "048496811aae0baaabd26157189eecda26beaa8bf11b6f3fe6e2b5659c85dbc0ad"
    "3b1f2a4b6c098131c0a36dacd1d78bd381dcdfb09c052db33991db7338b4a896")
HMAC_KEY = b"a" * 32
VENDOR = bytes.fromhex("fa6b4a53d5ad5fdfbe9de663e4d41ffe")
CLASS = bytes.fromhex("1492af1425695e48bf429b2d51f2ab45")
# fuzz_suit's boot image: 1024 bytes, byte i = (i * 7 + 3) & 0xff
IMAGE = bytes((i * 7 + 3) & 0xFF for i in range(1024))
# fuzz_cose's detached payload: the SUIT_Digest draft example 0 signs
DETACHED = bytes.fromhex("822f58206658ea560262696dd1f13b782239a064da7c6c5cbaf52fded428a6fc83c7e5af")
AAD = b"fs38-aad"


# ---- minimal deterministic CBOR -------------------------------------------------------------
class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


class Raw:
    """Already-encoded CBOR."""
    def __init__(self, b):
        self.b = b


def head(major, v):
    if v < 24:
        return bytes([major << 5 | v])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if v < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, v)
    raise ValueError(v)


def enc(o):
    if isinstance(o, Raw):
        return o.b
    if isinstance(o, bool):
        return b"\xf5" if o else b"\xf4"
    if o is None:
        return b"\xf6"
    if isinstance(o, int):
        return head(0, o) if o >= 0 else head(1, -1 - o)
    if isinstance(o, bytes):
        return head(2, len(o)) + o
    if isinstance(o, str):
        b = o.encode()
        return head(3, len(b)) + b
    if isinstance(o, list):
        return head(4, len(o)) + b"".join(enc(x) for x in o)
    if isinstance(o, dict):
        return head(5, len(o)) + b"".join(enc(k) + enc(v) for k, v in o.items())
    if isinstance(o, Tag):
        return head(6, o.tag) + enc(o.value)
    raise TypeError(type(o))


def read_head(b, p):
    ib = b[p]
    major, ai = ib >> 5, ib & 31
    if ai < 24:
        return major, ai, p + 1
    n = 1 << (ai - 24)
    return major, int.from_bytes(b[p + 1:p + 1 + n], "big"), p + 1 + n


def item_end(b, p):
    major, v, p = read_head(b, p)
    if major in (2, 3):
        return p + v
    n = v if major == 4 else 2 * v if major == 5 else 1 if major == 6 else 0
    for _ in range(n):
        p = item_end(b, p)
    return p


def bstr_content(b, p):
    major, v, q = read_head(b, p)
    assert major == 2
    return b[q:q + v]


def envelope_members(env):
    """[(key, key_raw, value_raw)] of a SUIT envelope (tag 107 optional)."""
    p = 0
    major, v, q = read_head(env, p)
    if major == 6:
        p = q
    major, n, p = read_head(env, p)
    assert major == 5
    out = []
    for _ in range(n):
        k_end = item_end(env, p)
        km, kv, kq = read_head(env, p)
        key = kv if km == 0 else env[kq:k_end].decode(errors="replace")
        v_end = item_end(env, k_end)
        out.append((key, env[p:k_end], env[k_end:v_end]))
        p = v_end
    return out


# ---- COSE -------------------------------------------------------------------------------------
def sig_structure(context, prot, payload, aad=b""):
    return enc([context, prot, aad, payload])


def vector_members(paths):
    """(path, envelope_members) of each file that is a SUIT envelope; the others are skipped."""
    for path in paths:
        with open(path, "rb") as f:
            env = f.read()
        try:
            members = envelope_members(env)
        except (AssertionError, IndexError):
            continue
        yield path, members


def mac0(payload, detached=False, aad=b"", tagged=True):
    prot = enc({1: 5})
    tag = hmac.new(HMAC_KEY, sig_structure("MAC0", prot, payload, aad), hashlib.sha256).digest()
    msg = [prot, {}, None if detached else payload, tag]
    return enc(Tag(17, msg) if tagged else msg)


try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    _KEY = ec.derive_private_key(int.from_bytes(EXAMPLE_D, "big"), ec.SECP256R1())
except ImportError:  # pragma: no cover
    _KEY = None


def sign1(payload, alg=-7, detached=False, kid=None, tagged=True):
    if _KEY is None:
        return None
    prot = enc({1: alg})
    der = _KEY.sign(sig_structure("Signature1", prot, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    msg = [prot, {4: kid} if kid else {}, None if detached else payload, sig]
    return enc(Tag(18, msg) if tagged else msg)


def fs38_kid():
    return hashlib.sha256(EXAMPLE_PUB).digest()[:8]


# ---- SUIT -------------------------------------------------------------------------------------
def suit_digest(b):
    return enc([-16, hashlib.sha256(b).digest()])


def envelope(manifest, auth="mac", extra=None):
    dg = suit_digest(enc(manifest))  # digest over the bstr-wrapped manifest
    block = mac0(dg, detached=True) if auth == "mac" else sign1(dg, detached=True)
    if block is None:
        return None
    env = {2: enc([dg, block]), 3: manifest}
    env.update(extra or {})
    return enc(Tag(107, env))


def boot_manifest(seq=1, image=IMAGE, vendor=VENDOR, class_id=CLASS):
    """What `fs38 sign` produces (tests/support.c ts_boot_manifest), for fuzz_suit's RAM image."""
    shared = enc([20, {1: vendor, 2: class_id, 3: suit_digest(image), 14: len(image)}, 1, 15, 2, 15])
    common = enc({2: [[b"firmware"]], 4: shared})
    return enc({1: 1, 2: seq, 3: common, 7: enc([3, 15]), 9: enc([23, 2])})


def kitchen_sink_manifest():
    """Every command and parameter the interpreter knows, with two components, a severed
    install sequence and severed text (the members follow the manifest in the seed)."""
    dg = suit_digest(IMAGE)
    shared = enc([
        12, True,
        20, {1: VENDOR, 2: CLASS, 3: dg, 14: len(IMAGE)},
        12, [0, 1],
        19, {5: 1, 12: False, 13: True, 24: bytes(16)},
        1, 15, 2, 15,
        12, 0,
        15, [enc([5, 15]), enc([24, 15]), None],
    ])
    common = enc({2: [[b"firmware"], [b"staging", b"\x01"]], 4: shared})
    install = enc([
        12, 1,
        20, {21: "https://example.com/fw.bin", 3: dg, 14: len(IMAGE)},
        21, 2,
        3, 15,
        12, 0,
        20, {22: 1},
        22, 2,
        32, enc([20, {18: b"hello", 19: b"\xa0"}, 18, 2]),
        15, [enc([14, 15]), enc([3, 15])],
    ])
    text = enc({1: "fs38 fuzz seed"})
    validate = enc([12, True, 3, 15, 12, 0, 24, 15])
    load = enc([12, 0, 20, {23: b"args"}, 15, [enc([14, 15]), None]])
    invoke = enc([12, 0, 23, 2])
    payload_fetch = enc([12, 1, 20, {21: "coap://fw"}, 21, 2])
    man = enc({
        1: 1, 2: 7, 3: common, 4: "https://example.com/manifest.suit",
        5: [b"fs38", b"fuzz"],
        7: validate, 8: load, 9: invoke,
        16: payload_fetch,
        20: suit_digest(enc(install)),
        23: suit_digest(enc(text)),
    })
    extra = enc(20) + enc(install) + enc(23) + enc(text) + enc("#firmware") + enc(IMAGE[:64])
    return man, extra


def cbor_seeds():
    deep_ok = b"\x81" * 15 + b"\x00"
    deep_bad = b"\x81" * 17 + b"\x00"
    return {
        "uint-edges": enc([0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1]),
        "nint-edges": enc([-1, -24, -25, -256, -257, -2**32, -2**63]) + b"\x3b" + b"\xff" * 8,
        "strings": enc([b"", b"\x00" * 24, "", "text", "x" * 300]),
        "map-tag": enc({1: Tag(18, [b"", {}, None, b""]), "k": [True, False, None]}),
        "simple-float": bytes.fromhex("83f7f820" "f93c00" "fa47c35000" "fb3ff199999999999a"),
        "bstr-cbor": enc(enc({2: [[b"\x00"]], 4: enc([1, 15])})),
        "depth-15": deep_ok,
        "depth-17": deep_bad,
        "empty-containers": enc([[], {}, [[]], Tag(1, [])]),
        "nonminimal": bytes.fromhex("1817" "190017" "5800" "9800" "b800" "d80000"),
        "indefinite": bytes.fromhex("9f0102ff" "5f4100ff"),
        "reserved": bytes.fromhex("1c" "3d" "fc" "f818"),
        "truncated": bytes.fromhex("5a00010000" "9affffffff" "bbffffffffffffffff"),
        "sequence": enc(1) + enc("two") + enc([3]) + enc({4: 4}),
    }


# ---- writing ------------------------------------------------------------------------------------
def write(dirname, name, data):
    if data is None:
        return
    d = os.path.join(HERE, dirname)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clean(dirname):
    d = os.path.join(HERE, dirname)
    if os.path.isdir(d):
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))


def main():
    for d in ("cbor", "cose", "suit", "suit_manifest"):
        clean(d)

    for name, data in cbor_seeds().items():
        write("cbor", name + ".cbor", data)

    # COSE: every vector's authentication blocks, and messages the fuzz keyring accepts
    seen = set()
    envs = sorted(glob.glob(os.path.join(VECTORS, "**", "*.cbor"), recursive=True))
    for path, members in vector_members(envs):
        stem = os.path.basename(path)[:-5]
        for key, _, raw in members:
            if key != 2:
                continue
            auth = bstr_content(raw, 0)
            p = 1 if auth[0] >> 5 == 4 and auth[0] & 31 < 24 else None
            n = auth[0] & 31
            if p is None:
                continue
            p = item_end(auth, p)  # skip the digest bstr
            for i in range(n - 1):
                blk = bstr_content(auth, p)
                p = item_end(auth, p)
                if blk not in seen:
                    seen.add(blk)
                    write("cose", "%s.auth%d.cose" % (stem, i), blk)
    pl = b"fs38 fuzz payload"
    write("cose", "sign1-es256-attached.cose", sign1(pl))
    write("cose", "sign1-esp256-attached-kid.cose", sign1(pl, alg=-9, kid=fs38_kid()))
    write("cose", "sign1-es256-detached.cose", sign1(DETACHED, detached=True))
    write("cose", "sign1-untagged-attached.cose", sign1(b"", tagged=False))
    write("cose", "sign1-unknown-kid.cose", sign1(pl, kid=b"\x00" * 8))
    write("cose", "mac0-attached.cose", mac0(pl))
    write("cose", "mac0-detached.cose", mac0(DETACHED, detached=True))
    write("cose", "mac0-detached-aad.cose", mac0(DETACHED, detached=True, aad=AAD))
    write("cose", "mac0-untagged.cose", mac0(pl, tagged=False, aad=AAD))

    # fuzz_suit: envelopes for the boot path (the vectors are added by scripts/fuzz.sh)
    bm = boot_manifest()
    write("suit", "boot-es256.suit", envelope(bm, auth="sign"))
    write("suit", "boot-mac0.suit", envelope(bm, auth="mac"))
    ks, ks_extra = kitchen_sink_manifest()
    write("suit", "kitchen-sink-mac0.suit", envelope(ks, auth="mac"))

    # fuzz_suit_manifest: each vector's manifest + its other envelope members
    seen = set()
    for path, members in vector_members(envs):
        man = [raw for key, _, raw in members if key == 3]
        if not man:
            continue
        seed = bstr_content(man[0], 0) + b"".join(k + v for key, k, v in members if key not in (2, 3))
        if seed in seen:
            continue
        seen.add(seed)
        write("suit_manifest", os.path.basename(path)[:-5] + ".manifest", seed)
    write("suit_manifest", "boot-seq1.manifest", bm)
    write("suit_manifest", "boot-seq0-other-vendor.manifest", boot_manifest(seq=0, vendor=bytes(16)))
    write("suit_manifest", "kitchen-sink.manifest", ks + ks_extra)
    if _KEY is None:
        print("make_seeds: python3-cryptography missing: ECDSA-signed seeds skipped", file=sys.stderr)
    for d in ("cbor", "cose", "suit", "suit_manifest"):
        print("make_seeds: %-14s %d files" % (d, len(os.listdir(os.path.join(HERE, d)))))


if __name__ == "__main__":
    main()
