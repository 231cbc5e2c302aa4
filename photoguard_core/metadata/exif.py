"""Interpret an EXIF block: position, camera, serial numbers, dates, thumbnail.

Serial numbers matter because they link every photo from one camera to one
owner (a member of staff); maker notes hide more of them, so the three makers
whose layout is simple and common in schools' cameras (Canon, Nikon, Fujifilm)
are looked into as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from photoguard_core.metadata.tiff import (
    Ifd,
    TiffMetadata,
    rational_to_float,
    read_single_ifd,
    read_tiff,
    tiff_start,
)

TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_ORIENTATION = 0x0112
TAG_ARTIST = 0x013B
TAG_DATETIME_ORIGINAL = 0x9003
TAG_MAKER_NOTE = 0x927C
TAG_OWNER_NAME = 0xA430
TAG_BODY_SERIAL = 0xA431
TAG_LENS_SERIAL = 0xA435
TAG_CAMERA_SERIAL_DNG = 0xC62F
TAG_KODAK_IFD = 0x8290
TAG_DNG_PRIVATE_DATA = 0xC634
TAG_THUMBNAIL_OFFSET = 0x0201
TAG_THUMBNAIL_LENGTH = 0x0202
TAG_STRIP_OFFSETS = 0x0111

_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4


@dataclass
class ExifFacts:
    """What one EXIF block says (fields mirror :class:`MetadataReport`)."""

    has_exif: bool = False
    has_gps: bool = False
    gps: tuple[float, float] | None = None
    make: str | None = None
    model: str | None = None
    orientation: int | None = None
    datetime_original: str | None = None
    serial_numbers: dict[str, str] = field(default_factory=dict)
    owner_names: list[str] = field(default_factory=list)
    #: Maker-specific blocks found: "MakerNote", "KodakIFD", "DNGPrivateData".
    maker_notes: list[str] = field(default_factory=list)
    maker_notes_bytes: int = 0
    thumbnails: int = 0
    warnings: list[str] = field(default_factory=list)


def read_exif_block(block: bytes, *, where: str) -> ExifFacts:
    """Read an EXIF block as stored in a JPEG APP1, PNG eXIf, WebP EXIF or HEIF item."""
    facts = ExifFacts()
    start = tiff_start(block)
    if start is None:
        facts.warnings.append(f"{where}: EXIF block without a TIFF header")
        return facts
    tiff = block[start:]
    meta = read_tiff(tiff)
    interpret(meta, tiff, facts, where=where)
    return facts


def interpret(meta: TiffMetadata, tiff: bytes, facts: ExifFacts, *, where: str) -> None:
    """Fill ``facts`` from parsed IFDs; ``tiff`` is the data the offsets refer to."""
    facts.warnings.extend(f"{where}: {problem}" for problem in meta.problems)
    ifd0 = meta.ifd0
    if ifd0 is None or not (ifd0.tags or ifd0.oversized):
        return
    facts.has_exif = True
    facts.make = _text(ifd0, TAG_MAKE)
    facts.model = _text(ifd0, TAG_MODEL)
    facts.orientation = _first_int(ifd0, TAG_ORIENTATION)
    _add_name(facts, _text(ifd0, TAG_ARTIST))
    _add_serial(facts, "CameraSerialNumber", _text(ifd0, TAG_CAMERA_SERIAL_DNG))
    for tag, label in ((TAG_KODAK_IFD, "KodakIFD"), (TAG_DNG_PRIVATE_DATA, "DNGPrivateData")):
        if tag in ifd0.locations:
            facts.maker_notes.append(label)
    if meta.exif is not None:
        exif = meta.exif
        taken = _text(exif, TAG_DATETIME_ORIGINAL)
        facts.datetime_original = taken if taken and any(c.isdigit() for c in taken) else None
        _add_serial(facts, "BodySerialNumber", _text(exif, TAG_BODY_SERIAL))
        _add_serial(facts, "LensSerialNumber", _text(exif, TAG_LENS_SERIAL))
        _add_name(facts, _text(exif, TAG_OWNER_NAME))
        if TAG_MAKER_NOTE in exif.locations:
            facts.maker_notes_bytes = exif.locations[TAG_MAKER_NOTE][1]
            if facts.maker_notes_bytes:
                facts.maker_notes.append("MakerNote")
            _maker_note_serials(meta, tiff, exif, facts)
    if meta.gps is not None and (meta.gps.tags or meta.gps.oversized):
        facts.has_gps = True
        facts.gps = _gps_position(meta.gps, facts)
    if meta.ifd1 is not None and _ifd_has_thumbnail(meta.ifd1):
        facts.thumbnails += 1


def _ifd_has_thumbnail(ifd: Ifd) -> bool:
    length = _first_int(ifd, TAG_THUMBNAIL_LENGTH)
    if TAG_THUMBNAIL_OFFSET in ifd.tags and length:
        return True
    return TAG_STRIP_OFFSETS in ifd.tags or TAG_STRIP_OFFSETS in ifd.oversized


def _gps_position(gps: Ifd, facts: ExifFacts) -> tuple[float, float] | None:
    lat = _degrees(gps.tags.get(_GPS_LAT), gps.tags.get(_GPS_LAT_REF), "NS")
    lon = _degrees(gps.tags.get(_GPS_LON), gps.tags.get(_GPS_LON_REF), "EW")
    if lat is None or lon is None:
        return None
    if abs(lat) > 90 or abs(lon) > 180:
        facts.warnings.append(f"GPS position out of range ({lat}, {lon})")
        return None
    return (lat, lon)


def _degrees(value: object, ref: object, refs: str) -> float | None:
    """``((d, 1), (m, 1), (s, 100))`` + ``"N"`` -> signed decimal degrees."""
    if not isinstance(value, tuple) or not value or len(value) > 3:
        return None
    parts = [rational_to_float(v) for v in value]
    if any(p is None for p in parts):
        return None
    number = sum(p / 60**i for i, p in enumerate(parts))  # type: ignore[operator]
    if isinstance(ref, str) and ref[:1].upper() == refs[1]:
        number = -number
    return number


# --- maker notes --------------------------------------------------------------------

_CANON_SERIAL_TAGS = {0x000C: "Canon SerialNumber", 0x0096: "Canon InternalSerialNumber"}
_NIKON_SERIAL_TAGS = {0x001D: "Nikon SerialNumber"}
_FUJI_SERIAL_TAGS = {0x0010: "Fujifilm InternalSerialNumber"}


def _maker_note_serials(meta: TiffMetadata, tiff: bytes, exif: Ifd, facts: ExifFacts) -> None:
    """Serial numbers inside Canon, Nikon (type 3) and Fujifilm maker notes."""
    offset, length = exif.locations[TAG_MAKER_NOTE]
    note = tiff[offset : offset + length]
    make = (facts.make or "").lower()
    if note.startswith(b"Nikon\x00\x02"):
        inner = read_tiff(note[10:])
        if inner.ifd0 is not None:
            _serials_from(inner.ifd0, _NIKON_SERIAL_TAGS, facts)
    elif note.startswith(b"FUJIFILM") and len(note) >= 12:
        ifd_offset = int.from_bytes(note[8:12], "little")
        ifd, _ = read_single_ifd(note, ifd_offset, little_endian=True)
        if ifd is not None:
            _serials_from(ifd, _FUJI_SERIAL_TAGS, facts)
    elif make.startswith("canon"):
        ifd, _ = read_single_ifd(tiff, offset, little_endian=meta.little_endian)
        if ifd is not None:
            _serials_from(ifd, _CANON_SERIAL_TAGS, facts)


def _serials_from(ifd: Ifd, tags: dict[int, str], facts: ExifFacts) -> None:
    for tag, label in tags.items():
        value = ifd.tags.get(tag)
        if isinstance(value, tuple) and value and isinstance(value[0], int) and value[0]:
            _add_serial(facts, label, str(value[0]))
        elif isinstance(value, str):
            _add_serial(facts, label, value)
        elif isinstance(value, bytes):
            _add_serial(facts, label, value.split(b"\x00", 1)[0].decode("latin-1").strip())


# --- small helpers ------------------------------------------------------------------


def _text(ifd: Ifd, tag: int) -> str | None:
    value = ifd.tags.get(tag)
    if isinstance(value, bytes):
        value = value.split(b"\x00", 1)[0].decode("utf-8", "replace")
    if isinstance(value, str):
        value = value.strip()
        return value[:200] or None
    return None


def _first_int(ifd: Ifd, tag: int) -> int | None:
    value = ifd.tags.get(tag)
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        return value[0]
    return None


def _add_serial(facts: ExifFacts, label: str, value: str | None) -> None:
    if value and value.strip("0 ") and label not in facts.serial_numbers:
        facts.serial_numbers[label] = value[:100]


def _add_name(facts: ExifFacts, value: str | None) -> None:
    if value and value not in facts.owner_names:
        facts.owner_names.append(value)
