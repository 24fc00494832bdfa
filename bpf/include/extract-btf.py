#!/usr/bin/env python3
"""Extract the raw kernel BTF blob (.BTF section contents) from a kernel image.

Usage: extract-btf.py KERNEL_IMAGE OUT.btf

Works on a vmlinux ELF, a raw arm64 `Image`, a gzip-compressed Image (`Image.gz`) and an EFI
zboot image with a gzip payload. Raw images carry no section table, so the blob is found by
scanning for its header: magic 0xEB9F, version 1, flags 0, hdr_len 24, then type_off, type_len,
str_off, str_len (all u32, little-endian); the blob is hdr_len + str_off + str_len bytes. The
largest candidate that parses is taken (the kernel's own BTF; module BTF is not in the image).
"""
import gzip
import struct
import sys

HDR = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, type_off, type_len, str_off, str_len


def unpack_image(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:2] == b"MZ" and data[4:8] == b"zimg":  # EFI zboot: payload offset/size at 8/12, algo at 24
        off, size = struct.unpack_from("<II", data, 8)
        algo = data[24:32].rstrip(b"\0").decode()
        if algo != "gzip":
            sys.exit(f"EFI zboot payload compressed with {algo}: decompress it first")
        return gzip.decompress(data[off:off + size])
    return data


def candidates(data: bytes):
    start = 0
    needle = b"\x9f\xeb\x01\x00\x18\x00\x00\x00"
    while (i := data.find(needle, start)) >= 0:
        start = i + 1
        if i + HDR.size > len(data):
            break
        _, _, _, hdr_len, type_off, type_len, str_off, str_len = HDR.unpack_from(data, i)
        # The kernel lays out types then strings, back to back, right after the header.
        if type_off != 0 or str_off != type_len or str_len == 0:
            continue
        end = i + hdr_len + str_off + str_len
        if end > len(data):
            continue
        strings = data[i + hdr_len + str_off:end]
        if strings[:1] != b"\0" or strings[-1:] != b"\0":  # string section starts and ends with NUL
            continue
        yield data[i:end]


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        data = unpack_image(f.read())
    blobs = sorted(candidates(data), key=len)
    if not blobs:
        sys.exit("no BTF blob found (kernel built without CONFIG_DEBUG_INFO_BTF?)")
    with open(sys.argv[2], "wb") as f:
        f.write(blobs[-1])
    print(f"{sys.argv[2]}: {len(blobs[-1])} bytes of BTF", file=sys.stderr)


if __name__ == "__main__":
    main()
