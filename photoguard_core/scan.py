"""Looking at a photo without producing anything: faces for the index, and the
"before" view of what a file would give away if published as it is.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photoguard_core.errors import PhotoguardError
from photoguard_core.faces import detect_faces, encode_faces
from photoguard_core.faces.types import Face
from photoguard_core.images import ImageLimits, open_image, read_source
from photoguard_core.metadata import MetadataReport, read_metadata

#: Scanning decodes to about this long side: small faces stay findable (the
#: detector upsamples where it needs to) while a 12 MP JPEG decodes at half size.
SCAN_LONG_SIDE = 2000
#: Faces smaller than this (shorter side, full resolution) get no encoding: too
#: small to recognise reliably, so they stay unknown and are redacted.
MIN_ENCODE_SIZE = 40
#: CenterFace detections scoring below this get no encoding: every true face of 40 px
#: or more in the detection fixtures scored 0.87 or higher, while weak detections are
#: mostly posters and clutter, and each encoding costs about 0.1 s.
MIN_ENCODE_SCORE_CENTERFACE = 0.5


@dataclass
class ScanResult:
    source: str
    sha256: str
    format: str
    size: tuple[int, int]
    faces: list[Face]
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    taken: str | None = None  # EXIF DateTimeOriginal as written by the camera

    def to_dict(self, *, encodings: bool = False) -> dict[str, Any]:
        faces = []
        for face in self.faces:
            item = face.to_dict()
            item["encoded"] = face.encoding is not None
            if encodings and face.encoding is not None:
                item["encoding"] = [round(float(v), 6) for v in face.encoding]
            faces.append(item)
        return {
            "source": self.source,
            "sha256": self.sha256,
            "format": self.format,
            "size": list(self.size),
            "faces": faces,
            "notes": list(self.notes),
            "timings_ms": dict(self.timings_ms),
            "taken": self.taken,
        }


def scan_image(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    detector: str = "centerface-sweep",
    encode: bool = False,
    long_side: int | None = SCAN_LONG_SIDE,
    limits: ImageLimits | None = None,
) -> ScanResult:
    """Faces in ``source`` (full-resolution boxes), with encodings when ``encode``."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    data, name = read_source(source, name=name, limits=limits)
    decoded = open_image(data, name=name, limits=limits, target_long_side=long_side)
    timings["decode"] = _ms_since(start)

    start = time.perf_counter()
    rgb = np.asarray(decoded.image)
    faces = detect_faces(rgb, detector=detector)
    timings["detect"] = _ms_since(start)
    if encode and faces:
        start = time.perf_counter()
        min_score = MIN_ENCODE_SCORE_CENTERFACE if detector.startswith("centerface") else 0.0
        faces = encode_faces(
            rgb, faces, min_size=MIN_ENCODE_SIZE * decoded.scale, min_score=min_score
        )
        timings["encode"] = _ms_since(start)
    return ScanResult(
        source=name,
        sha256=hashlib.sha256(data).hexdigest(),
        format=decoded.format,
        size=decoded.full_size,
        faces=[face.scaled(1 / decoded.scale) for face in faces],
        notes=list(decoded.notes),
        timings_ms=timings,
        taken=read_metadata(data, name=name).datetime_original,
    )


@dataclass
class Inspection:
    """What a file carries: its faces and its metadata."""

    scan: ScanResult | None
    metadata: MetadataReport
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scan": self.scan.to_dict() if self.scan else None,
            "metadata": self.metadata.to_dict(),
            "error": self.error,
        }


def inspect_image(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    detector: str = "centerface-sweep",
    limits: ImageLimits | None = None,
) -> Inspection:
    """Metadata always (even from a file whose pixels cannot be decoded), faces if possible."""
    data, name = read_source(source, name=name, limits=limits)
    report = read_metadata(data, name=name)
    try:
        scan = scan_image(data, name=name, detector=detector, limits=limits)
    except PhotoguardError as err:  # the metadata view is still worth showing
        return Inspection(None, report, str(err))
    return Inspection(scan, report)


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
