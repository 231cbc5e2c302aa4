"""The independent check after writing: only pixels may leave.

``verify_clean`` re-reads the bytes we are about to publish with readers that
are not the writer (our container walker, then piexif), and accepts only an
allowlist of structures per format. Anything else, even something harmless we
did not foresee, fails the rendition: an allowlist cannot be surprised by a new
kind of metadata, a denylist can.
"""

from __future__ import annotations

import piexif

from photoguard_core.errors import MetadataLeftError
from photoguard_core.metadata.containers import Walk, walk_jpeg, walk_png, walk_riff

_JPEG_ALLOWED = frozenset(
    {"SOI", "APP0", "DQT", "DHT", "DRI", "SOS", "EOI"}
    | {f"SOF{n}" for n in (0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15)}
    | {f"RST{n}" for n in range(8)}
)
_PNG_ALLOWED = frozenset({"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "sRGB", "gAMA", "cHRM", "pHYs"})
_WEBP_ALLOWED = frozenset({"VP8 ", "VP8L", "VP8X", "ALPH"})
#: VP8X flag bits that announce metadata or animation: ICC 0x20, EXIF 0x08, XMP 0x04,
#: animation 0x02. Only the alpha bit (0x10) may be set.
_VP8X_FORBIDDEN_FLAGS = 0x20 | 0x08 | 0x04 | 0x02

_ALIASES = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp"}


def verify_clean(data: bytes, fmt: str, *, name: str) -> None:
    """Raise :class:`MetadataLeftError` unless ``data`` holds nothing but the picture.

    ``fmt`` is the output format ("jpeg", "png", "webp"); ``name`` labels the file
    in the error. Returns None when the file is clean.
    """
    kind = _ALIASES.get(fmt.lower().lstrip("."))
    if kind is None:
        raise MetadataLeftError(name, f"no metadata check exists for format {fmt!r}")
    if kind == "jpeg":
        _verify_jpeg(bytes(data), name)
    elif kind == "png":
        _verify_png(bytes(data), name)
    else:
        _verify_webp(bytes(data), name)


def _fail(name: str, reason: str) -> MetadataLeftError:
    return MetadataLeftError(name, f"metadata check failed: {reason}")


def _require_clean_walk(walk: Walk, name: str) -> None:
    if walk.problems:
        raise _fail(name, f"{walk.container} structure is not clean ({walk.problems[0]})")
    if not walk.complete:
        raise _fail(name, f"{walk.container} structure does not end properly")
    if walk.trailing:
        raise _fail(name, f"{walk.trailing} bytes after the end of the {walk.container} data")


# --- JPEG ---------------------------------------------------------------------------


def _verify_jpeg(data: bytes, name: str) -> None:
    walk = walk_jpeg(data)
    _require_clean_walk(walk, name)
    for part in walk.parts:
        if part.kind not in _JPEG_ALLOWED:
            label = f"{part.kind} {part.identifier}".strip()
            raise _fail(name, f"JPEG segment {label} at offset {part.offset} is not allowed")
        if part.kind == "APP0":
            _check_jfif(part.payload, name)
    kinds = walk.kinds()
    if kinds.count("SOI") != 1 or kinds.count("EOI") != 1:
        raise _fail(name, "JPEG must hold exactly one picture")
    if sum(k.startswith("SOF") for k in kinds) != 1:
        raise _fail(name, "JPEG must have exactly one frame header")
    _check_with_piexif(data, name)


def _check_jfif(payload: bytes, name: str) -> None:
    """APP0 may only be a plain JFIF header: 14 bytes, no thumbnail."""
    if not payload.startswith(b"JFIF\x00"):
        raise _fail(name, "APP0 segment is not JFIF")
    if len(payload) != 14 or payload[12] or payload[13]:
        raise _fail(name, "JFIF header carries extra data (a thumbnail)")


def _check_with_piexif(data: bytes, name: str) -> None:
    """A second, independent EXIF reader must find nothing either."""
    try:
        found = piexif.load(data)
    except ValueError as exc:
        # piexif's WebP reader signals "no EXIF chunk" by raising this message.
        if data[8:12] == b"WEBP" and "doesnot have exif" in str(exc):
            return
        raise _fail(name, f"the independent EXIF reader failed ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - any failure of the check fails closed
        raise _fail(name, f"the independent EXIF reader failed ({exc})") from None
    leftovers = [ifd for ifd, tags in found.items() if tags and ifd != "thumbnail"]
    if found.get("thumbnail"):
        leftovers.append("thumbnail")
    if leftovers:
        raise _fail(name, "EXIF data found by piexif: " + ", ".join(leftovers))


# --- PNG ----------------------------------------------------------------------------


def _verify_png(data: bytes, name: str) -> None:
    walk = walk_png(data)
    _require_clean_walk(walk, name)
    kinds = walk.kinds()
    if not kinds or kinds[0] != "IHDR" or kinds[-1] != "IEND":
        raise _fail(name, "PNG must start with IHDR and end with IEND")
    for part in walk.parts:
        if part.kind not in _PNG_ALLOWED:
            raise _fail(name, f"PNG chunk {part.kind} at offset {part.offset} is not allowed")


# --- WebP ---------------------------------------------------------------------------


def _verify_webp(data: bytes, name: str) -> None:
    if data[8:12] != b"WEBP":
        raise _fail(name, "not a WebP file")
    walk = walk_riff(data)
    _require_clean_walk(walk, name)
    for part in walk.parts:
        if part.kind not in _WEBP_ALLOWED:
            raise _fail(name, f"WebP chunk {part.kind.strip()!r} is not allowed")
        if part.kind == "VP8X":
            flags = part.payload[0] if part.payload else 0xFF
            if flags & _VP8X_FORBIDDEN_FLAGS:
                raise _fail(name, f"VP8X header announces metadata or animation (0x{flags:02X})")
    if sum(part.kind in ("VP8 ", "VP8L") for part in walk.parts) != 1:
        raise _fail(name, "WebP must hold exactly one image bitstream")
    _check_with_piexif(data, name)
