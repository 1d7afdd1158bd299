# SPDX-License-Identifier: Apache-2.0
"""Test-image helpers for tests/cli/audit.sh (standard library; python3-cryptography for the
signed MCUboot images).

  mkimg.py cpio ROOT OUT        newc cpio archive of the tree ROOT (no cpio binary needed)
  mkimg.py elf DIR              synthetic ELF files (32/64-bit, both byte orders) under DIR
  mkimg.py boot DIR fail|pass    boot artefacts under DIR: a U-Boot FIT image and control device
                                tree (flattened device trees), an MCUboot image
  mkimg.py mcuboot OUT [key=KEY.pem] [hdr=N] [protected] [tamper] [unsigned] [ed25519]
                                an MCUboot image (documented format, ECDSA P-256 signature by KEY)
  mkimg.py bomb OUT MIB          a tar.gz with MIB MiB of zeros in one member
  mkimg.py hostile OUT          a hostile tar: ../ and absolute names, a device node, links out
                                of the root, a link loop, a hard link to a missing member
"""
import hashlib
import io
import os
import stat
import struct
import sys
import tarfile


def cpio(root, out):
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            entries.append(os.path.join(dirpath, name))
    ino = 1
    with open(out, "wb") as f:
        def put(name, st, data):
            nonlocal ino
            nb = name.encode() + b"\0"
            hdr = "070701" + "".join("%08X" % v for v in (
                ino, st.st_mode, 0, 0, 1, int(st.st_mtime), len(data), 0, 0, 0, 0, len(nb), 0))
            ino += 1
            f.write(hdr.encode() + nb)
            f.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
            f.write(data)
            f.write(b"\0" * ((4 - len(data) % 4) % 4))
        for p in entries:
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(p).encode()
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as g:
                    data = g.read()
            else:
                data = b""
            put(rel, st, data)
        class _St:
            st_mode = 0
            st_mtime = 0
        put("TRAILER!!!", _St(), b"")


def elf(cls64, be, machine, etype, interp, stack_flags, relro, dyn, strings):
    """A minimal ELF: header, program headers, PT_INTERP, PT_DYNAMIC, a string blob."""
    e = ">" if be else "<"
    ehsz, phsz = (64, 56) if cls64 else (52, 32)
    phdrs = []
    blobs = b""
    base = ehsz + phsz * 8
    def add_blob(b):
        nonlocal blobs
        off = base + len(blobs)
        blobs += b
        return off
    if interp:
        off = add_blob(b"/lib/ld.so.1\0")
        phdrs.append((3, 4, off, 13))
    if dyn is not None:
        fmt = e + ("qq" if cls64 else "ii")
        raw = b"".join(struct.pack(fmt, t, v) for t, v in dyn + [(0, 0)])
        off = add_blob(raw)
        phdrs.append((2, 6, off, len(raw)))
    if stack_flags is not None:
        phdrs.append((0x6474E551, stack_flags, 0, 0))
    if relro:
        phdrs.append((0x6474E552, 4, 0, 0))
    add_blob(b"\0" + b"\0".join(s.encode() for s in strings) + b"\0")
    if cls64:
        hdr = b"\x7fELF" + bytes([2, 2 if be else 1, 1, 0]) + b"\0" * 8
        hdr += struct.pack(e + "HHIQQQIHHHHHH", etype, machine, 1, 0, ehsz, 0, 0, ehsz, phsz, len(phdrs), 64, 0, 0)
    else:
        hdr = b"\x7fELF" + bytes([1, 2 if be else 1, 1, 0]) + b"\0" * 8
        hdr += struct.pack(e + "HHIIIIIHHHHHH", etype, machine, 1, 0, ehsz, 0, 0, ehsz, phsz, len(phdrs), 40, 0, 0)
    ph = b""
    for pt, flags, off, size in phdrs:
        if cls64:
            ph += struct.pack(e + "IIQQQQQQ", pt, flags, off, 0, 0, size, size, 8)
        else:
            ph += struct.pack(e + "IIIIIIII", pt, off, 0, 0, size, size, flags, 4)
    ph += b"\0" * (phsz * 8 - len(ph))
    return hdr + ph + blobs


def elves(d):
    good = ["__stack_chk_fail", "__printf_chk", "__memcpy_chk", "libc.so.6"]
    files = {
        # big-endian MIPS executable: ET_EXEC (no PIE), no PT_GNU_STACK (executable stack), no RELRO
        "usr/bin/mips-be-exec": elf(False, True, 8, 2, True, None, False, [(1, 1)], ["libc.so.0"]),
        # little-endian 32-bit ARM library: exec stack (RWX), no RELRO
        "usr/lib/libarm32.so": elf(False, False, 40, 3, False, 7, False, [(1, 1)], ["libc.so.6"]),
        # hardened: 64-bit big-endian PowerPC PIE, NX, full RELRO, canary, FORTIFY
        "usr/bin/ppc64-be-pie": elf(True, True, 21, 3, True, 6, True, [(1, 1), (30, 8), (0x6FFFFFFB, 0x08000001)], good),
        # hardened: 64-bit little-endian AArch64 library
        "usr/lib/libaarch64.so": elf(True, False, 183, 3, False, 6, True, [(1, 1), (24, 0)], good),
        # hardened: 32-bit little-endian ARM PIE
        "usr/bin/arm32-pie": elf(False, False, 40, 3, True, 6, True, [(1, 1), (30, 8)], good),
    }
    only = sys.argv[3] if len(sys.argv) > 3 else None
    for rel, data in files.items():
        hardened = rel in ("usr/bin/ppc64-be-pie", "usr/lib/libaarch64.so", "usr/bin/arm32-pie")
        if only == "hardened" and not hardened or only == "weak" and hardened:
            continue
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o755)


def hostile(out):
    with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as t:
        def reg(name, data, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = mode
            t.addfile(ti, io.BytesIO(data))
        def special(name, typ, linkname="", mode=0o777):
            ti = tarfile.TarInfo(name)
            ti.type = typ
            ti.linkname = linkname
            ti.mode = mode
            if typ == tarfile.CHRTYPE:
                ti.devmajor, ti.devminor = 1, 1
            t.addfile(ti)
        reg("etc/hostname", b"hostile\n")
        reg("../../../../tmp/fs38-audit-escape", b"escaped\n")
        reg("/tmp/fs38-audit-absolute", b"absolute\n")
        reg("etc/../../../evil.sh", b"#!/bin/sh\n")
        special("dev/mem", tarfile.CHRTYPE, mode=0o600)
        special("etc/shadow", tarfile.SYMTYPE, "/etc/shadow")
        special("etc/passwd", tarfile.SYMTYPE, "../../../../../../etc/passwd")
        special("loop/a", tarfile.SYMTYPE, "b")
        special("loop/b", tarfile.SYMTYPE, "a")
        special("etc/hard", tarfile.LNKTYPE, "no/such/file")
        reg("www/cgi-bin/x.cgi", b"#!/bin/sh\n")


def fdt(tree):
    """A flattened device tree blob (version 17) of tree: {name: subtree or bytes property}."""
    strings = b""
    offs = {}
    def soff(name):
        nonlocal strings
        if name not in offs:
            offs[name] = len(strings)
            strings += name.encode() + b"\0"
        return offs[name]
    def node(name, t):
        nb = name.encode() + b"\0"
        out = struct.pack(">I", 1) + nb + b"\0" * ((4 - len(nb) % 4) % 4)
        for k, v in t.items():
            if isinstance(v, bytes):
                out += struct.pack(">III", 3, len(v), soff(k)) + v + b"\0" * ((4 - len(v) % 4) % 4)
        for k, v in t.items():
            if isinstance(v, dict):
                out += node(k, v)
        return out + struct.pack(">I", 2)
    st = node("", tree) + struct.pack(">I", 9)
    rsv = b"\0" * 16
    off_rsv = 40
    off_st = off_rsv + len(rsv)
    off_str = off_st + len(st)
    total = off_str + len(strings)
    hdr = struct.pack(">10I", 0xD00DFEED, total, off_st, off_str, off_rsv, 17, 16, 0, len(strings), len(st))
    return hdr + rsv + st + strings


def mcuboot(signed, key=None, hdr_size=32, protected=False, tamper=False, sig="ecdsa"):
    """An MCUboot image in the documented format (docs.mcuboot.com, "Image format"; the layout
    MCUboot's imgtool writes): a 32-byte header padded to hdr_size, the image, an optional
    protected TLV area (magic 0x6908: a security counter), then the TLV area (magic 0x6907): the
    SHA-256 (0x10) of header + image + protected TLVs, the key hash (0x01, SHA-256 of the public
    key's DER SubjectPublicKeyInfo) and the ECDSA P-256 signature (0x22, DER, over the same bytes
    with SHA-256) made with key (a private key PEM; a throwaway one when None). sig "ed25519"
    writes an Ed25519 signature TLV (0x24) instead; tamper flips an image byte after signing."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    body = bytes((i * 7) & 0xFF for i in range(256))
    prot = b""
    if protected:
        ptlv = struct.pack("<HH", 0x50, 4) + struct.pack("<I", 3)
        prot = struct.pack("<HH", 0x6908, 4 + len(ptlv)) + ptlv
    hdr = struct.pack("<IIHHIIBBHI", 0x96F3B83D, 0, hdr_size, len(prot), len(body), 0, 1, 2, 3, 4).ljust(32, b"\0")
    hdr = hdr.ljust(hdr_size, b"\0")
    signed_part = hdr + body + prot
    tlvs = struct.pack("<HH", 0x10, 32) + hashlib.sha256(signed_part).digest()
    if signed:
        if sig == "ed25519":
            k = ed25519.Ed25519PrivateKey.generate()
            pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            s_ = k.sign(hashlib.sha256(signed_part).digest())
            tlvs += struct.pack("<HH", 0x01, 32) + hashlib.sha256(pub).digest()
            tlvs += struct.pack("<HH", 0x24, len(s_)) + s_
        else:
            if key:
                with open(key, "rb") as f:
                    k = serialization.load_pem_private_key(f.read(), None)
            else:
                k = ec.generate_private_key(ec.SECP256R1())
            pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
            s_ = k.sign(signed_part, ec.ECDSA(hashes.SHA256()))
            tlvs += struct.pack("<HH", 0x01, 32) + hashlib.sha256(pub).digest()
            tlvs += struct.pack("<HH", 0x22, len(s_)) + s_
    img = bytearray(signed_part + struct.pack("<HH", 0x6907, 4 + len(tlvs)) + tlvs)
    if tamper:
        img[hdr_size + 10] ^= 0x01
    return bytes(img)


def boot(d, side):
    signed = side == "pass"
    os.makedirs(os.path.join(d, "boot"), exist_ok=True)
    cfg = {"description": b"conf\0", "kernel": b"kernel-1\0"}
    if signed:
        cfg["signature-1"] = {"algo": b"sha256,rsa2048\0", "key-name-hint": b"dev\0"}
    fit = {"description": b"fit\0", "images": {"kernel-1": {"data": b"\0" * 64, "type": b"kernel\0"}},
           "configurations": {"default": b"conf-1\0", "conf-1": cfg}}
    key = {"algo": b"sha256,rsa2048\0", "rsa,num-bits": struct.pack(">I", 2048)}
    if signed:
        key["required"] = b"conf\0"
    ctl = {"model": b"board\0", "signature": {"key-dev": key}}
    arts = [("boot/fitImage", fdt(fit)), ("boot/u-boot.dtb", fdt(ctl)), ("boot/app.mcuboot.bin", mcuboot(signed))]
    if not signed:
        # a FIT whose images are signed, its configurations not (a warning)
        imgsig = {"description": b"fit\0",
                  "images": {"kernel-1": {"data": b"\0" * 64, "type": b"kernel\0",
                                          "signature-1": {"algo": b"sha256,rsa2048\0", "key-name-hint": b"dev\0"}}},
                  "configurations": {"default": b"conf-1\0", "conf-1": {"kernel": b"kernel-1\0"}}}
        arts.append(("boot/fitImage-imgsig", fdt(imgsig)))
    for name, data in arts:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


class Zeros:
    def __init__(self, n):
        self.n = n

    def read(self, k=-1):
        k = self.n if k < 0 else min(k, self.n)
        self.n -= k
        return bytes(k)


def bomb(out, mib):
    """A tar.gz with one member of MIB MiB of zeros (a few MiB compressed)."""
    with tarfile.open(out, "w:gz", compresslevel=1) as t:
        ti = tarfile.TarInfo("zeros.bin")
        ti.size = mib << 20
        t.addfile(ti, Zeros(ti.size))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "cpio":
        cpio(sys.argv[2], sys.argv[3])
    elif cmd == "elf":
        elves(sys.argv[2])
    elif cmd == "boot":
        boot(sys.argv[2], sys.argv[3])
    elif cmd == "mcuboot":
        # mkimg.py mcuboot OUT [key=KEY.pem] [hdr=N] [protected] [tamper] [unsigned] [ed25519]
        opts = dict(a.split("=", 1) if "=" in a else (a, "1") for a in sys.argv[3:])
        with open(sys.argv[2], "wb") as f:
            f.write(mcuboot("unsigned" not in opts, opts.get("key"), int(opts.get("hdr", "32")),
                            "protected" in opts, "tamper" in opts, "ed25519" if "ed25519" in opts else "ecdsa"))
    elif cmd == "bomb":
        bomb(sys.argv[2], int(sys.argv[3]))
    elif cmd == "hostile":
        hostile(sys.argv[2])
    else:
        sys.exit("usage: mkimg.py cpio|elf|hostile ...")
