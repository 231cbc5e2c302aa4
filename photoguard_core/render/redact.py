"""Irreversible redaction styles, one small function each, kept in a registry.

A style paints over one region of an RGB image in place. Adding a style means
writing one function and decorating it with :func:`style`; the plan validates
names against :data:`photoguard_core.render.plan.STYLES`.

A region may reach past the image's edge (a face half out of a crop): only the
part inside is painted, but a style is told the size of the *whole* region, so a
half-visible face gets the same coarse mosaic as a whole one instead of finer
cells that keep more of it.

Why these two: a solid fill keeps nothing of the face. Pixelation alone is not
enough (small mosaics have been re-identified most of the time in published
studies), so ours keeps only a handful of cells across the *grown* region (about
three across the face itself) and blurs them afterwards, which also removes the
hard cell edges that de-pixelation methods exploit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

from photoguard_core.errors import PlanError
from photoguard_core.geometry import Box

#: ``fn(patch, region_size) -> patch``: ``patch`` is the visible part of the region,
#: ``region_size`` (width, height) the whole region's, edges included.
StyleFn = Callable[[Image.Image, tuple[float, float]], Image.Image]
_STYLES: dict[str, StyleFn] = {}

#: Solid fill colour: a neutral grey that reads as "hidden on purpose".
FILL = (96, 96, 96)
#: Cells across the longer side of a redacted region for ``pixelate``.
PIXELATE_CELLS = 5

#: An ellipse inscribed in a box covers the box's own corners only when the box is
#: at least sqrt(2) times larger: the ellipse is drawn round a box grown by this.
_ELLIPSE_GROW = (math.sqrt(2) - 1) / 2


def style(name: str) -> Callable[[StyleFn], StyleFn]:
    """Register a redaction style: ``fn(patch, region_size) -> patch`` of the same size."""

    def register(fn: StyleFn) -> StyleFn:
        _STYLES[name] = fn
        return fn

    return register


@style("solid")
def _solid(patch: Image.Image, _region_size: tuple[float, float]) -> Image.Image:
    return Image.new("RGB", patch.size, FILL)


@style("pixelate")
def _pixelate(patch: Image.Image, region_size: tuple[float, float]) -> Image.Image:
    w, h = patch.size
    cells = max(1, PIXELATE_CELLS)
    # Cells sized on the whole region: clipping must not make the mosaic finer.
    cell = max(max(region_size), w, h) / cells
    small = patch.resize((max(1, round(w / cell)), max(1, round(h / cell))), Image.Resampling.BOX)
    coarse = small.resize((w, h), Image.Resampling.NEAREST)
    return coarse.filter(ImageFilter.GaussianBlur(radius=max(1.0, cell / 2)))


def region_for(face: Box, grow: float, shape: str) -> Box:
    """The area painted for a face: grown on every side, larger still for an ellipse."""
    region = face.grown(grow)
    if shape == "ellipse":
        # The ellipse is inscribed in this box, so grow again until it holds the
        # whole grown box (hair and ears stay covered at the corners too).
        region = region.grown(_ELLIPSE_GROW)
    return region


def redact_region(image: Image.Image, region: Box, *, style_name: str, shape: str) -> Box:
    """Paint ``region`` of ``image`` (RGB, modified in place); return the painted box.

    The region is clipped to the image and rounded outward, never inward; pass
    the *unclipped* region of a face that reaches past the edge (see the module
    docstring).
    """
    try:
        paint = _STYLES[style_name]
    except KeyError:
        raise PlanError(None, f"unknown redaction style {style_name!r}") from None
    x0, y0, x1, y1 = region.clipped(image.width, image.height).to_int()
    x1, y1 = min(x1, image.width), min(y1, image.height)
    if x1 <= x0 or y1 <= y0:
        return Box(x0, y0, x0, y0)
    patch = paint(image.crop((x0, y0, x1, y1)), (region.width, region.height))
    if shape == "ellipse":
        mask = Image.new("L", patch.size, 0)
        # Ellipse against the *unclipped* region, so clipping at the border does
        # not pull the curve inward over the face.
        ox, oy = region.x0 - x0, region.y0 - y0
        ImageDraw.Draw(mask).ellipse(
            (ox, oy, ox + region.width - 1, oy + region.height - 1), fill=255
        )
        image.paste(patch, (x0, y0), mask)
    else:
        image.paste(patch, (x0, y0))
    return Box(x0, y0, x1, y1)


def available_styles() -> tuple[str, ...]:
    return tuple(_STYLES)
