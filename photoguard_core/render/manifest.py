"""The record of one rendition: what was found, what was done, what was checked.

A manifest is shaped to become an audit record: plain JSON types only, no pixels,
no file *contents*. It does carry the source name, so it must not be published
next to the rendition (the CLI prints it or writes it where the user says).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from photoguard_core.faces.types import Face
from photoguard_core.geometry import Box


@dataclass
class FaceOutcome:
    """One face in the source and what the rendition did with it."""

    face: Face  # upright full-resolution coordinates
    action: str  # "redacted" | "shown"
    reason: str
    region: Box | None = None  # painted area in output coordinates, if redacted

    def to_dict(self) -> dict[str, Any]:
        out = self.face.to_dict()
        out.update(action=self.action, reason=self.reason)
        if self.region is not None:
            out["region_xywh_output"] = self.region.to_xywh()
        return out


@dataclass
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass
class Manifest:
    source: str
    source_sha256: str = ""
    source_format: str = ""
    source_size: tuple[int, int] | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    decode_notes: list[str] = field(default_factory=list)
    faces: list[FaceOutcome] = field(default_factory=list)
    extra_regions: list[Box] = field(default_factory=list)
    metadata_removed: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    output_format: str = ""
    output_size: tuple[int, int] | None = None
    output_sha256: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def redacted_count(self) -> int:
        return sum(1 for f in self.faces if f.action == "redacted")

    @property
    def shown_count(self) -> int:
        return sum(1 for f in self.faces if f.action == "shown")

    @contextmanager
    def timed(self, stage: str):
        """Add the wall time of the ``with`` body to ``timings_ms[stage]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            spent = (time.perf_counter() - start) * 1000
            self.timings_ms[stage] = round(self.timings_ms.get(stage, 0.0) + spent, 1)

    def check(self, name: str, passed: bool, detail: str) -> None:
        self.checks.append(Check(name, passed, detail))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_sha256": self.source_sha256,
            "source_format": self.source_format,
            "source_size": list(self.source_size) if self.source_size else None,
            "plan": self.plan,
            "decode_notes": list(self.decode_notes),
            "faces": [f.to_dict() for f in self.faces],
            "faces_redacted": self.redacted_count,
            "faces_shown": self.shown_count,
            "extra_regions_xywh": [b.to_xywh() for b in self.extra_regions],
            "metadata_removed": list(self.metadata_removed),
            "checks": [c.to_dict() for c in self.checks],
            "output_format": self.output_format,
            "output_size": list(self.output_size) if self.output_size else None,
            "output_sha256": self.output_sha256,
            "timings_ms": dict(self.timings_ms),
            "error": self.error,
        }
