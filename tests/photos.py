"""Test photos prepared the way users' devices produce them."""

from __future__ import annotations

import io
from pathlib import Path

import piexif


def with_gps(path: Path) -> bytes:
    """The photo as a phone uploads it: with a GPS position in its EXIF, which no
    published file may carry."""
    gps = {
        piexif.GPSIFD.GPSLatitudeRef: b"N",
        piexif.GPSIFD.GPSLatitude: ((51, 1), (30, 1), (0, 1)),
        piexif.GPSIFD.GPSLongitudeRef: b"W",
        piexif.GPSIFD.GPSLongitude: ((0, 1), (7, 1), (0, 1)),
    }
    exif = piexif.dump({"0th": {}, "Exif": {}, "GPS": gps, "1st": {}, "thumbnail": None})
    out = io.BytesIO()
    piexif.insert(exif, path.read_bytes(), out)
    return out.getvalue()
