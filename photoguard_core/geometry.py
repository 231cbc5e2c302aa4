"""Boxes in pixel coordinates, and the few operations redaction needs on them.

A :class:`Box` is always in the coordinates of the *upright, full-resolution*
image (after EXIF orientation is applied). Detectors that look at a reduced or
tiled copy map their boxes back before returning them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box; ``x0, y0`` inclusive top-left, ``x1, y1`` exclusive."""

    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> Box:
        return cls(x, y, x + w, y + h)

    @property
    def width(self) -> float:
        return max(0.0, self.x1 - self.x0)

    @property
    def height(self) -> float:
        return max(0.0, self.y1 - self.y0)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def size(self) -> float:
        """The face size convention used in benches and thresholds: the shorter side."""
        return min(self.width, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def intersection(self, other: Box) -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def coverage_by(self, other: Box) -> float:
        """Share of this box's area that lies inside ``other``."""
        return self.intersection(other) / self.area if self.area > 0 else 0.0

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def scaled(self, sx: float, sy: float | None = None) -> Box:
        sy = sx if sy is None else sy
        return Box(self.x0 * sx, self.y0 * sy, self.x1 * sx, self.y1 * sy)

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)

    def grown(self, fraction: float) -> Box:
        """Grow by ``fraction`` of the width/height on *every* side (hair, ears, chin)."""
        dx, dy = self.width * fraction, self.height * fraction
        return Box(self.x0 - dx, self.y0 - dy, self.x1 + dx, self.y1 + dy)

    def clipped(self, width: float, height: float) -> Box:
        return Box(
            min(max(self.x0, 0.0), width),
            min(max(self.y0, 0.0), height),
            min(max(self.x1, 0.0), width),
            min(max(self.y1, 0.0), height),
        )

    def to_int(self) -> tuple[int, int, int, int]:
        """Outward-rounded integer box, so rounding never shrinks a redaction."""
        import math

        return (math.floor(self.x0), math.floor(self.y0), math.ceil(self.x1), math.ceil(self.y1))

    def to_xywh(self) -> list[float]:
        return [round(self.x0, 1), round(self.y0, 1), round(self.width, 1), round(self.height, 1)]


def enclosing(boxes: Iterable[Box]) -> Box:
    """The smallest box containing all ``boxes`` (which must not be empty)."""
    it = iter(boxes)
    out = next(it)
    for b in it:
        out = out.union(b)
    return out
