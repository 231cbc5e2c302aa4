"""The high-recall redaction detector: CenterFace over a small image pyramid, tiled, mirrored.

One CenterFace pass finds faces of roughly 12 to 400 px (measured: recall drops
below ~12 px and very large faces start to split into partial boxes). A school
photo decoded to ~2000 px holds faces from ~15 px (back row of an assembly) to
~1000 px (a close-up), so the sweep runs:

* a **fine pass** at scale ``>= 1``: small images are upscaled (up to
  ``max_upscale``) so a ``small_face`` appears ``net_small_face`` px to the
  network, within a pixel budget; large images run at native size;
* **coarse passes**, each ``step`` times smaller, down to a long side of
  ``coarse_side``, for the faces too large for the fine pass;
* every pass whose image is larger than ``tile`` is cut into overlapping tiles
  of at most ``tile`` x ``tile``, which bounds memory (one 2000x1500 pass holds
  ~1 GB of activations, a 1024-px tile ~0.4 GB) and keeps the session's buffers
  reusable. The overlap covers faces up to ``overlap`` px whole; bigger ones are
  the next coarser pass's job;
* each pass also runs on the mirrored image (``flip``): CenterFace is not
  mirror-symmetric, and the union of both views catches borderline faces one
  view scores just under the threshold.

All candidates are mapped to the caller's coordinates and merged once
(:func:`photoguard_core.faces.centerface.merge_boxes`: union of overlapping boxes,
so merging never shrinks what gets redacted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from photoguard_core.faces.centerface import (
    ALIGN,
    CenterFace,
    RawDetections,
    _check_rgb,
    clip_raw,
    merge_raw,
    resize,
)
from photoguard_core.faces.types import Face


@dataclass(frozen=True)
class SweepConfig:
    """The sweep's knobs; the defaults are what bench/detection_recall.py was tuned with."""

    threshold: float = 0.2
    large_face: float = 80.0
    large_threshold: float = 0.3
    budget_pixels: int = 4_000_000
    ratio: float = 0.7
    small_face: float = 20.0
    min_net_face: float = 16.0
    max_upscale: float = 2.0
    coarse_side: int = 640
    min_levels: int = 3
    max_net_face: float = 320.0
    tile: int = 1024
    overlap: int = 96
    flip: bool | None = None
    merge_iou: float = 0.3


def _levels(top: float, long_side: int, config: SweepConfig) -> list[float]:
    scales = [top]
    while (
        long_side * scales[-1] > config.coarse_side or len(scales) < config.min_levels
    ) and long_side * scales[-1] * config.ratio >= 160:
        scales.append(scales[-1] * config.ratio)
    # A level within a few percent of native runs at native: no resampling blur.
    return [1.0 if abs(s - 1.0) < 0.08 else s for s in scales]


def pass_scales(height: int, width: int, config: SweepConfig) -> list[float]:
    """Scales of the pyramid's passes for an image of this size, finest first.

    The levels are ``top * ratio**k`` down to a long side of ``coarse_side`` (and
    at least ``min_levels`` of them). ``top`` is the largest scale whose pyramid
    fits ``budget_pixels``, but no more than ``max_upscale`` and never so small
    that a ``small_face`` shrinks below ``min_net_face``: recall of the smallest
    faces wins over the budget on very large inputs (decode them smaller instead).
    """
    area = max(height * width, 1)
    long_side = max(height, width)
    floor = config.min_net_face / config.small_face
    top = math.sqrt(config.budget_pixels * (1 - config.ratio**2) / area)
    top = min(max(top, floor), config.max_upscale)
    return _levels(top, long_side, config)


def flip_affordable(height: int, width: int, scales: list[float], config: SweepConfig) -> bool:
    """Mirror every pass when the doubled pyramid still fits the budget (small images)."""
    if config.flip is not None:
        return config.flip
    return 2 * sum(height * width * s * s for s in scales) <= config.budget_pixels


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Cut ``[0, length)`` into the fewest overlapping spans of at most ``tile`` px.

    Spans are equal-sized (up to the ``ALIGN`` rounding the network needs anyway),
    so the work and the padding are spread evenly instead of leaving a thin last tile.
    """
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - overlap) / (tile - overlap))
    span = min(tile, -(-math.ceil((length + (count - 1) * overlap) / count) // ALIGN) * ALIGN)
    starts = np.linspace(0, length - span, count).round().astype(int)
    return [(int(s), int(s) + span) for s in starts]


class CenterFaceSweep:
    """Multi-scale, tiled, mirrored CenterFace: the default detector for redaction."""

    name = "centerface-sweep"

    def __init__(self, engine: CenterFace | None = None, config: SweepConfig | None = None):
        self.config = config or SweepConfig()
        self.engine = engine or CenterFace(threshold=self.config.threshold)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        _check_rgb(rgb)
        h, w = rgb.shape[:2]
        if h == 0 or w == 0:
            return []
        scales = pass_scales(h, w, self.config)
        flip = flip_affordable(h, w, scales, self.config)
        parts = [
            self._pass(rgb, scale, flip, coarsest=k == len(scales) - 1)
            for k, scale in enumerate(scales)
        ]
        merged = merge_raw(RawDetections.concat(parts), iou=self.config.merge_iou)
        return clip_raw(self._drop_doubtful_large(merged), w, h).to_faces(self.name)

    def _drop_doubtful_large(self, raw: RawDetections) -> RawDetections:
        """Drop big boxes with low scores: a blurred-out wall is what users notice.

        Measured on the bench sets: every true face of 80 px or more scored >= 0.5
        at some level of the pyramid, while the few large false positives sit at
        0.2-0.3. Small boxes keep the low threshold, where recall is at stake.
        """
        if len(raw) == 0:
            return raw
        sizes = np.minimum(raw.boxes[:, 2] - raw.boxes[:, 0], raw.boxes[:, 3] - raw.boxes[:, 1])
        doubtful = (sizes >= self.config.large_face) & (raw.scores < self.config.large_threshold)
        return raw.selected(~doubtful)

    def _pass(self, rgb: np.ndarray, scale: float, flip: bool, coarsest: bool) -> RawDetections:
        """All detections of one pyramid level, in the caller's coordinates.

        Boxes larger than ``max_net_face`` at this level are dropped unless it is the
        coarsest: CenterFace splits faces that big into partial boxes, and a coarser
        level sees the same face whole.
        """
        image = resize(rgb, scale)
        h, w = image.shape[:2]
        found = []
        for y0, y1 in tile_spans(h, self.config.tile, self.config.overlap):
            for x0, x1 in tile_spans(w, self.config.tile, self.config.overlap):
                tile = image[y0:y1, x0:x1]
                found.append(self._infer(tile, flip).shifted(x0, y0))
        raw = RawDetections.concat(found)
        if not coarsest and len(raw):
            sizes = np.minimum(raw.boxes[:, 2] - raw.boxes[:, 0], raw.boxes[:, 3] - raw.boxes[:, 1])
            raw = raw.selected(sizes <= self.config.max_net_face)
        # Map back with the factors actually applied (the resized size was rounded).
        return raw.scaled(rgb.shape[1] / w, rgb.shape[0] / h)

    def _infer(self, tile: np.ndarray, flip: bool) -> RawDetections:
        raw = self.engine.infer(tile, self.config.threshold)
        if not flip:
            return raw
        mirrored = self.engine.infer(np.ascontiguousarray(tile[:, ::-1]), self.config.threshold)
        return RawDetections.concat([raw, mirrored.mirrored(tile.shape[1])])
