"""A bounded reader for TIFF-structured metadata: EXIF blocks and TIFF files.

EXIF is a little TIFF file: IFD0 (camera make, model, orientation) points to the
Exif IFD (dates, serial numbers, maker notes), the GPS IFD and the Interop IFD,
and IFD0's "next" link leads to IFD1, the embedded thumbnail. Values are read
with every offset and count checked against the data and each IFD visited once,
because broken and hostile EXIF is common (wrong maker-note offsets, IFDs that
point back at themselves, counts of four billion).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAX_ENTRIES_PER_IFD = 1_000
MAX_IFDS = 64
MAX_VALUE_BYTES = 1 << 20  # a larger single value is kept as its size only

EXIF_IFD_POINTER = 0x8769
GPS_IFD_POINTER = 0x8825
INTEROP_IFD_POINTER = 0xA005

# type id -> (struct code, size in bytes)
_TYPES: dict[int, tuple[str, int]] = {
    1: ("B", 1),  # BYTE
    2: ("s", 1),  # ASCII
    3: ("H", 2),  # SHORT
    4: ("I", 4),  # LONG
    5: ("II", 8),  # RATIONAL
    6: ("b", 1),  # SBYTE
    7: ("s", 1),  # UNDEFINED
    8: ("h", 2),  # SSHORT
    9: ("i", 4),  # SLONG
    10: ("ii", 8),  # SRATIONAL
    11: ("f", 4),  # FLOAT
    12: ("d", 8),  # DOUBLE
    13: ("I", 4),  # IFD
    16: ("Q", 8),  # LONG8 (BigTIFF)
}

Value = tuple[object, ...] | bytes | str


@dataclass
class Ifd:
    """Tags of one IFD: ``tag -> value`` (tuples for numbers, str for ASCII, bytes else)."""

    offset: int
    tags: dict[int, Value] = field(default_factory=dict)
    #: For tags whose value was too large to keep: ``tag -> byte count``.
    oversized: dict[int, int] = field(default_factory=dict)
    #: ``tag -> (offset, byte count)`` of each value within the TIFF data.
    locations: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass
class TiffMetadata:
    """IFD0, its sub-IFDs and IFD1, as found; problems are noted, not raised."""

    little_endian: bool
    ifd0: Ifd | None = None
    exif: Ifd | None = None
    gps: Ifd | None = None
    interop: Ifd | None = None
    ifd1: Ifd | None = None
    problems: list[str] = field(default_factory=list)


def tiff_start(block: bytes) -> int | None:
    """Where the TIFF header starts in an EXIF block ("Exif\\0\\0" prefix optional)."""
    for start in (0, 6):
        if block[start : start + 4] in (b"II*\x00", b"MM\x00*"):
            return start
    found = min(
        (i for i in (block.find(b"II*\x00", 0, 64), block.find(b"MM\x00*", 0, 64)) if i >= 0),
        default=-1,
    )
    return found if found >= 0 else None


def read_tiff(data: bytes) -> TiffMetadata:
    """Read IFD0, Exif, GPS, Interop and IFD1 from TIFF-structured ``data``.

    ``data`` must start with the byte-order mark; use :func:`tiff_start` first.
    """
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        meta = TiffMetadata(little_endian=True)
        meta.problems.append("no TIFF header")
        return meta
    little = data[:2] == b"II"
    meta = TiffMetadata(little_endian=little)
    reader = _IfdReader(data, little, meta.problems)
    first = reader.u32(4)
    meta.ifd0, next_offset = reader.read_ifd(first, "IFD0")
    if meta.ifd0 is None:
        return meta
    meta.exif = reader.sub_ifd(meta.ifd0, EXIF_IFD_POINTER, "Exif IFD")
    meta.gps = reader.sub_ifd(meta.ifd0, GPS_IFD_POINTER, "GPS IFD")
    if meta.exif is not None:
        meta.interop = reader.sub_ifd(meta.exif, INTEROP_IFD_POINTER, "Interop IFD")
    if next_offset:
        meta.ifd1, _ = reader.read_ifd(next_offset, "IFD1")
    return meta


def read_single_ifd(
    data: bytes, offset: int, *, little_endian: bool
) -> tuple[Ifd | None, list[str]]:
    """One IFD at ``offset`` of ``data`` (maker notes are IFDs without a TIFF header)."""
    problems: list[str] = []
    ifd, _ = _IfdReader(data, little_endian, problems).read_ifd(offset, "maker notes")
    return ifd, problems


class _IfdReader:
    def __init__(self, data: bytes, little: bool, problems: list[str]) -> None:
        self.data = data
        self.order = "<" if little else ">"
        self.problems = problems
        self.visited: set[int] = set()

    def u16(self, offset: int) -> int:
        return struct.unpack_from(self.order + "H", self.data, offset)[0]

    def u32(self, offset: int) -> int:
        if offset + 4 > len(self.data):
            return 0
        return struct.unpack_from(self.order + "I", self.data, offset)[0]

    def sub_ifd(self, parent: Ifd, pointer_tag: int, label: str) -> Ifd | None:
        pointer = parent.tags.get(pointer_tag)
        if pointer is None:
            return None
        if not isinstance(pointer, tuple) or not pointer or not isinstance(pointer[0], int):
            self.problems.append(f"{label} pointer has the wrong type")
            return None
        ifd, _ = self.read_ifd(pointer[0], label)
        return ifd

    def read_ifd(self, offset: int, label: str) -> tuple[Ifd | None, int]:
        if offset in self.visited:
            self.problems.append(f"{label} at offset {offset} was already read (loop)")
            return None, 0
        if len(self.visited) >= MAX_IFDS:
            self.problems.append(f"more than {MAX_IFDS} IFDs; stopped")
            return None, 0
        if offset < 2 or offset + 2 > len(self.data):
            self.problems.append(f"{label} offset {offset} is outside the data")
            return None, 0
        self.visited.add(offset)
        count = self.u16(offset)
        if count > MAX_ENTRIES_PER_IFD:
            self.problems.append(f"{label} claims {count} entries; read the first")
            count = MAX_ENTRIES_PER_IFD
        ifd = Ifd(offset)
        entry = offset + 2
        for _ in range(count):
            if entry + 12 > len(self.data):
                self.problems.append(f"{label} is cut off")
                break
            self._read_entry(ifd, entry, label)
            entry += 12
        next_offset = self.u32(entry) if entry + 4 <= len(self.data) else 0
        return ifd, next_offset

    def _read_entry(self, ifd: Ifd, entry: int, label: str) -> None:
        tag, type_id = struct.unpack_from(self.order + "HH", self.data, entry)
        count = self.u32(entry + 4)
        if type_id not in _TYPES:
            self.problems.append(f"{label} tag 0x{tag:04X} has unknown type {type_id}")
            return
        code, unit = _TYPES[type_id]
        total = count * unit
        value_offset = entry + 8 if total <= 4 else self.u32(entry + 8)
        if value_offset + total > len(self.data):
            self.problems.append(f"{label} tag 0x{tag:04X} points outside the data")
            return
        ifd.locations[tag] = (value_offset, total)
        if total > MAX_VALUE_BYTES:
            ifd.oversized[tag] = total
            return
        raw = self.data[value_offset : value_offset + total]
        ifd.tags[tag] = self._decode(type_id, code, count, raw)

    def _decode(self, type_id: int, code: str, count: int, raw: bytes) -> Value:
        if type_id == 2:
            return raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
        if type_id == 7:
            return raw
        if type_id in (1, 6) and count > 64:
            return raw
        values = struct.unpack(self.order + code * count, raw)
        if type_id in (5, 10):
            pairs = zip(values[0::2], values[1::2], strict=True)
            return tuple((num, den) for num, den in pairs)
        return tuple(values)


def rational_to_float(value: object) -> float | None:
    """A TIFF rational ``(num, den)`` (or plain number) as float; None when undefined."""
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        if not isinstance(num, int) or not isinstance(den, int) or den == 0:
            return None
        return num / den
    if isinstance(value, int | float):
        return float(value)
    return None
