"""A small, bounded walker over the containers photoguard reads and writes.

Written here rather than borrowed from the encoder's library, so that the check
after writing (:func:`~photoguard_core.metadata.verify.verify_clean`) does not
share a blind spot with the code that wrote the file. Every length is checked
against the data, every loop has a ceiling, and nothing is decompressed without
a cap: the files are untrusted.

The walkers describe structure only (which segments/chunks, where, how long,
what identifier); :mod:`photoguard_core.metadata.read` interprets the payloads.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

#: Ceiling on segments/chunks/resources walked in one file. Real files have tens.
MAX_PARTS = 20_000
#: Ceiling on any payload we decompress (PNG zTXt/iTXt, ImageMagick raw profiles).
MAX_INFLATED = 16 * 2**20

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Part:
    """One JPEG segment, PNG chunk or RIFF chunk."""

    kind: str  # "APP1", "SOF0", "COM" ... / "tEXt", "IDAT" ... / "VP8X", "EXIF" ...
    offset: int  # offset of the marker / chunk header in the file
    payload: bytes  # the data after the length field (without CRC / padding)
    identifier: str = ""  # JPEG APPn identifier: "Exif", "XMP", "ICC_PROFILE", ...


@dataclass
class Walk:
    """The parts of one file, plus what the walk noticed on the way."""

    container: str  # "JPEG", "PNG", "RIFF"
    parts: list[Part] = field(default_factory=list)
    trailing: int = 0  # bytes after JPEG EOI / PNG IEND / the RIFF size
    complete: bool = False  # EOI / IEND / end of RIFF reached cleanly
    problems: list[str] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [part.kind for part in self.parts]


# --- JPEG ---------------------------------------------------------------------------

_JPEG_STANDALONE = {0x01} | set(range(0xD0, 0xD8))  # TEM, RST0-7: no length field
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_MARKER_NAMES = {
    0xC4: "DHT",
    0xC8: "JPG",
    0xCC: "DAC",
    0xD8: "SOI",
    0xD9: "EOI",
    0xDA: "SOS",
    0xDB: "DQT",
    0xDC: "DNL",
    0xDD: "DRI",
    0xDE: "DHP",
    0xDF: "EXP",
    0xFE: "COM",
}

#: APPn payload prefixes and the identifier the walker reports for them.
_APP_IDENTIFIERS: tuple[tuple[int, bytes, str], ...] = (
    (0xE0, b"JFIF\x00", "JFIF"),
    (0xE0, b"JFXX\x00", "JFXX"),
    (0xE1, b"Exif\x00", "Exif"),
    (0xE1, b"http://ns.adobe.com/xap/1.0/\x00", "XMP"),
    (0xE1, b"http://ns.adobe.com/xmp/extension/\x00", "ExtendedXMP"),
    (0xE2, b"ICC_PROFILE\x00", "ICC_PROFILE"),
    (0xE2, b"MPF\x00", "MPF"),
    (0xE2, b"FPXR\x00", "FPXR"),
    (0xED, b"Photoshop 3.0\x00", "Photoshop"),
    (0xEE, b"Adobe", "Adobe"),
)


def jpeg_marker_name(marker: int) -> str:
    if marker in _SOF_MARKERS:
        return f"SOF{marker - 0xC0}"
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    if 0xD0 <= marker <= 0xD7:
        return f"RST{marker - 0xD0}"
    return _MARKER_NAMES.get(marker, f"0x{marker:02X}")


def _app_identifier(marker: int, payload: bytes) -> str:
    for app, prefix, name in _APP_IDENTIFIERS:
        if marker == app and payload.startswith(prefix):
            return name
    if 0xE0 <= marker <= 0xEF:
        # Show what an unknown APPn calls itself (printable prefix up to NUL).
        head = payload[:32].split(b"\x00", 1)[0]
        return head.decode("latin-1") if head and all(32 <= b < 127 for b in head) else ""
    return ""


def walk_jpeg(data: bytes) -> Walk:
    """Segments from SOI to EOI, entropy-coded scans skipped, bytes after EOI counted."""
    walk = Walk("JPEG")
    if data[:2] != b"\xff\xd8":
        walk.problems.append("does not start with SOI")
        return walk
    walk.parts.append(Part("SOI", 0, b""))
    pos = 2
    size = len(data)
    while pos < size and len(walk.parts) < MAX_PARTS:
        if data[pos] != 0xFF:
            walk.problems.append(f"garbage byte 0x{data[pos]:02X} at offset {pos}")
            pos = _next_marker(data, pos)
            if pos >= size:
                break
            continue
        while pos < size and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= size:
            break
        marker = data[pos]
        start = pos - 1
        pos += 1
        name = jpeg_marker_name(marker)
        if marker == 0xD9:
            walk.parts.append(Part("EOI", start, b""))
            walk.complete = True
            walk.trailing = size - pos
            return walk
        if marker in _JPEG_STANDALONE or marker == 0xD8:
            walk.parts.append(Part(name, start, b""))
            continue
        if pos + 2 > size:
            walk.problems.append(f"{name} at offset {start} has no length")
            break
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            walk.problems.append(f"{name} at offset {start} declares {length} bytes past the end")
            walk.parts.append(Part(name, start, data[pos + 2 : size]))
            break
        payload = data[pos + 2 : pos + length]
        walk.parts.append(Part(name, start, payload, _app_identifier(marker, payload)))
        pos += length
        if marker == 0xDA:
            pos = _end_of_scan(data, pos)
    if len(walk.parts) >= MAX_PARTS:
        walk.problems.append(f"more than {MAX_PARTS} segments; stopped")
    elif not walk.complete:
        walk.problems.append("no EOI marker: file is truncated")
    return walk


def _end_of_scan(data: bytes, pos: int) -> int:
    """Offset of the first marker after entropy-coded data (skips FF00 and RSTn)."""
    size = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= size:
            return size
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1 if following == 0xFF else 2
            continue
        return pos


def _next_marker(data: bytes, pos: int) -> int:
    found = data.find(b"\xff", pos)
    return len(data) if found < 0 else found


# --- PNG ----------------------------------------------------------------------------


def walk_png(data: bytes) -> Walk:
    """Chunks from IHDR to IEND (CRC checked), bytes after IEND counted."""
    walk = Walk("PNG")
    if not data.startswith(PNG_SIGNATURE):
        walk.problems.append("no PNG signature")
        return walk
    pos = len(PNG_SIGNATURE)
    size = len(data)
    while pos < size and len(walk.parts) < MAX_PARTS:
        if pos + 8 > size:
            walk.problems.append(f"chunk header cut off at offset {pos}")
            break
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind_bytes = data[pos + 4 : pos + 8]
        kind = kind_bytes.decode("latin-1")
        if not kind_bytes.isalpha():
            walk.problems.append(f"invalid chunk type {kind_bytes!r} at offset {pos}")
            break
        end = pos + 8 + length
        if length > 2**31 - 1 or end + 4 > size:
            walk.problems.append(f"{kind} chunk at offset {pos} runs past the end")
            walk.parts.append(Part(kind, pos, data[pos + 8 : min(end, size)]))
            break
        payload = data[pos + 8 : end]
        crc = int.from_bytes(data[end : end + 4], "big")
        if zlib.crc32(kind_bytes + payload) != crc:
            walk.problems.append(f"{kind} chunk at offset {pos} has a bad CRC")
        walk.parts.append(Part(kind, pos, payload))
        pos = end + 4
        if kind == "IEND":
            walk.complete = True
            walk.trailing = size - pos
            return walk
    if len(walk.parts) >= MAX_PARTS:
        walk.problems.append(f"more than {MAX_PARTS} chunks; stopped")
    elif not walk.complete:
        walk.problems.append("no IEND chunk: file is truncated")
    return walk


# --- RIFF / WebP --------------------------------------------------------------------


def walk_riff(data: bytes) -> Walk:
    """Top-level chunks of a RIFF file (WebP); bytes beyond the RIFF size counted."""
    walk = Walk("RIFF")
    if data[:4] != b"RIFF" or len(data) < 12:
        walk.problems.append("no RIFF header")
        return walk
    declared = int.from_bytes(data[4:8], "little")
    end_of_riff = 8 + declared
    if end_of_riff > len(data):
        walk.problems.append(f"RIFF declares {declared} bytes, file has {len(data) - 8}")
        end_of_riff = len(data)
    pos = 12
    while pos + 8 <= end_of_riff and len(walk.parts) < MAX_PARTS:
        kind = data[pos : pos + 4].decode("latin-1")
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        end = pos + 8 + length
        if end > end_of_riff:
            walk.problems.append(f"{kind!r} chunk at offset {pos} runs past the end")
            walk.parts.append(Part(kind, pos, data[pos + 8 : end_of_riff]))
            pos = end_of_riff
            break
        walk.parts.append(Part(kind, pos, data[pos + 8 : end]))
        pos = end + (length & 1)  # chunks are padded to even length
    if pos < end_of_riff and len(walk.parts) < MAX_PARTS:
        walk.problems.append(f"{end_of_riff - pos} stray bytes at the end of the RIFF data")
    walk.complete = pos >= end_of_riff
    walk.trailing = max(0, len(data) - (8 + declared))
    return walk


# --- GIF ----------------------------------------------------------------------------


def walk_gif(data: bytes) -> Walk:
    """GIF blocks: ``IMAGE`` per frame, ``COMMENT``, ``APP <id>`` (raw body), ``GCE``, ``TEXT``.

    Application extensions are returned raw (sub-block length bytes included),
    because XMP in GIF is stored that way: the packet's own bytes double as
    sub-block lengths, followed by a 258-byte "magic trailer".
    """
    walk = Walk("GIF")
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        walk.problems.append("no GIF header")
        return walk
    pos = 13
    if data[10] & 0x80:  # global colour table
        pos += 3 * (2 ** ((data[10] & 0x07) + 1))
    size = len(data)
    while pos < size and len(walk.parts) < MAX_PARTS:
        introducer = data[pos]
        start = pos
        if introducer == 0x3B:  # trailer
            walk.complete = True
            walk.trailing = size - pos - 1
            return walk
        if introducer == 0x21 and pos + 1 < size:
            label = data[pos + 1]
            pos += 2
            if label == 0xFF and pos < size and data[pos] == 11:
                app_id = data[pos + 1 : pos + 12].decode("latin-1")
                body_start = pos + 12
                pos = _skip_sub_blocks(data, body_start)
                walk.parts.append(Part(f"APP {app_id}", start, data[body_start:pos], app_id))
                continue
            body, pos = _read_sub_blocks(data, pos)
            kind = {0xFE: "COMMENT", 0xF9: "GCE", 0x01: "TEXT"}.get(label, f"EXT 0x{label:02X}")
            walk.parts.append(Part(kind, start, body))
            continue
        if introducer == 0x2C and pos + 10 <= size:
            flags = data[pos + 9]
            pos += 10
            if flags & 0x80:  # local colour table
                pos += 3 * (2 ** ((flags & 0x07) + 1))
            pos = _skip_sub_blocks(data, pos + 1)  # +1: LZW minimum code size
            walk.parts.append(Part("IMAGE", start, b""))
            continue
        walk.problems.append(f"unknown block 0x{introducer:02X} at offset {pos}")
        break
    if not walk.complete and len(walk.problems) == 0:
        walk.problems.append("no trailer: file is truncated")
    return walk


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """Offset just after the zero-length block that ends a sub-block chain."""
    size = len(data)
    while pos < size:
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos
    return size


def _read_sub_blocks(data: bytes, pos: int) -> tuple[bytes, int]:
    chunks: list[bytes] = []
    size = len(data)
    while pos < size:
        length = data[pos]
        if length == 0:
            return b"".join(chunks), pos + 1
        chunks.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return b"".join(chunks), size


# --- payload helpers ----------------------------------------------------------------


def inflate_bounded(payload: bytes, limit: int = MAX_INFLATED) -> bytes:
    """zlib-decompress at most ``limit`` bytes; raises ``ValueError`` beyond it.

    PNG text chunks are compressed and attacker-controlled: a few kB can inflate
    to gigabytes.
    """
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(payload, limit)
    except zlib.error as exc:
        raise ValueError(f"cannot decompress ({exc})") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"decompresses to more than {limit} bytes")
    return out


def photoshop_resources(payload: bytes) -> list[tuple[int, bytes]]:
    """``(resource id, data)`` for each 8BIM block of a Photoshop IRB (bounded)."""
    resources: list[tuple[int, bytes]] = []
    pos = 0
    size = len(payload)
    while pos + 12 <= size and len(resources) < MAX_PARTS:
        if payload[pos : pos + 4] not in (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR"):
            break
        resource_id = int.from_bytes(payload[pos + 4 : pos + 6], "big")
        name_length = payload[pos + 6]
        pos += 7 + name_length
        if (name_length + 1) % 2:  # Pascal string padded to even length
            pos += 1
        if pos + 4 > size:
            break
        length = int.from_bytes(payload[pos : pos + 4], "big")
        pos += 4
        if pos + length > size:
            resources.append((resource_id, payload[pos:size]))
            break
        resources.append((resource_id, payload[pos : pos + length]))
        pos += length + (length & 1)
    return resources
