"""What a detector returns, and the one interface every detector implements."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

import numpy as np

from photoguard_core.geometry import Box

Landmarks = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Face:
    """One detected face, in upright full-resolution pixel coordinates.

    ``detector`` names the implementation that found it ("centerface", "hog", ...);
    ``score`` is that detector's confidence (not comparable across detectors).
    """

    box: Box
    score: float
    detector: str
    landmarks: Landmarks | None = None
    encoding: np.ndarray | None = field(default=None, compare=False, repr=False)

    def with_encoding(self, encoding: np.ndarray) -> Face:
        return replace(self, encoding=encoding)

    def scaled(self, factor: float) -> Face:
        """The same face in an image ``factor`` times the size (boxes and landmarks)."""
        landmarks = None
        if self.landmarks is not None:
            landmarks = tuple((x * factor, y * factor) for x, y in self.landmarks)
        return replace(self, box=self.box.scaled(factor), landmarks=landmarks)

    def to_dict(self) -> dict:
        out = {
            "box_xywh": self.box.to_xywh(),
            "score": round(float(self.score), 3),
            "detector": self.detector,
        }
        if self.landmarks is not None:
            out["landmarks"] = [[round(x, 1), round(y, 1)] for x, y in self.landmarks]
        return out


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in an upright RGB ``uint8`` array of shape (H, W, 3).

    Boxes come back in the coordinates of the array that was passed in. A
    detector that cannot run raises :class:`photoguard_core.errors.DetectionError`:
    an empty list always means "looked and found nothing".
    """

    name: str

    def detect(self, rgb: np.ndarray) -> list[Face]: ...
