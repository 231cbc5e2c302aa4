"""The high-recall redaction detector: CenterFace over an image pyramid, tiled.

One CenterFace pass finds faces of about 12 to 300 px, and misses hard faces
(blurred, noisy, dim, tilted) even inside that range: on a crowded held-out set it
found 94% of the faces of 20 px and more. Looking at the same picture at several
scales is what recovers them: a face the network scores just under the threshold
at one scale usually clears it at another (a smaller copy also averages out noise).
Measured on bench/detection_recall.py sets built from degraded group photos, one
pass found 93%, the pyramid 98% of faces >= 20 px (DEVELOPERS: see the bench).

For an image of H x W the sweep runs:

* **levels** ``top * ratio**k`` (ratio 0.7) from the finest scale ``top`` down to a
  long side of ``coarse_side`` (640 px, where a 1000 px close-up is ~300 px and
  whole). ``top`` is as large as the pixel budget allows (4 MP of network input
  in all, about 0.8-1 s on one core), at most ``max_upscale`` (small images are
  enlarged, so faces below CenterFace's ~12 px limit become findable) and at least
  ``min_net_face / small_face`` (a 20 px face is never shown to the network below
  16 px: for inputs above ~2000 px the budget gives way, and time grows);
* **tiles**: a level larger than ``tile`` is cut into overlapping tiles, which
  bounds memory (a 2000x1500 pass in one piece holds ~1 GB of activations, a
  1024 px tile ~0.4 GB). The overlap keeps faces up to ``overlap`` px whole in
  some tile; larger faces are whole at a coarser, untiled level;
* a **mirrored** view of every level when even that fits the budget (small
  images): CenterFace is not mirror-symmetric, so the second view catches a few
  more borderline faces.

Candidates from all levels are mapped back to the caller's pixels and merged once
(:func:`photoguard_core.faces.centerface.merge_boxes`: the union of boxes of the
same face, so merging never shrinks what gets redacted). Faces too big for a level
(``max_net_face``) are taken from coarser levels only, and big boxes with low
scores are dropped (``large_threshold``): that is where false positives are most
visible (a blurred-out wall) and real faces score high.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from photoguard_core.faces.centerface import (
    ALIGN,
    CenterFace,
    RawDetections,
    check_rgb,
    clip_raw,
    merge_raw,
    resize,
)
from photoguard_core.faces.types import Face


@dataclass(frozen=True)
class SweepConfig:
    """The sweep's knobs; the defaults are the ones bench/detection_recall.py measured."""

    #: CenterFace heatmap threshold for every level (DESIGN.md §5 measured 0.2).
    threshold: float = 0.2
    #: Boxes at least this big (shorter side, px) need ``large_threshold``.
    large_face: float = 80.0
    large_threshold: float = 0.3
    #: Network input pixels for the whole pyramid (tiles' overlap not counted).
    budget_pixels: int = 4_000_000
    #: Scale step between levels.
    ratio: float = 0.7
    #: The smallest face that must be found, and the least size it may shrink to.
    small_face: float = 20.0
    min_net_face: float = 16.0
    max_upscale: float = 2.0
    #: The coarsest level's long side; at least ``min_levels`` levels run.
    coarse_side: int = 640
    min_levels: int = 3
    #: Boxes larger than this at a level that is not the coarsest are dropped there.
    max_net_face: float = 320.0
    tile: int = 1024
    overlap: int = 96
    #: Mirrored views: None = when they fit the budget, or force True/False.
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
    """CenterFace over a pyramid of scales, tiled: the default detector for redaction."""

    name = "centerface-sweep"

    def __init__(self, engine: CenterFace | None = None, config: SweepConfig | None = None):
        """``engine`` may be shared with a single-pass detector: the sweep passes its
        own threshold on every call, so one onnxruntime session serves both."""
        self.config = config or SweepConfig()
        self.engine = engine or CenterFace(threshold=self.config.threshold)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        check_rgb(rgb)
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

        Measured on the bench sets (2,300 faces): every true face of 80 px or more
        scored >= 0.5 at some level, while large false positives on photos without
        people sat at 0.2-0.3. Small boxes keep the low threshold: recall is at stake
        there, and a small false positive costs little.
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
