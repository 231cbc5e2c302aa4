"""Where a face ends up after a host crops, resizes or turns the picture.

Faces are indexed once, in upright full-resolution coordinates
(:class:`~photoguard_core.geometry.Box`). A host such as Wagtail then makes many
renditions of the photo, each cropped and resized its own way, and the redaction
is painted on *those* pixels. A box that does not follow the pixels exactly puts
the grey patch beside the face instead of on it, so the geometry lives here as a
pure value, built step by step in the order the image library applies the steps,
and tested against Pillow and Wagtail themselves::

    t = Transform.identity((4000, 3000)).crop((500, 0, 3500, 2250)).resize(800, 600)
    t.apply(face)            # clipped to the 800x600 frame, None if outside it
    t.apply_unclipped(face)  # what redaction must use (see below)

Partly visible faces: :meth:`Transform.apply` clips, which is right for showing
or matching a box, and wrong for redacting it. The redaction region is the face
box *grown* on every side (hair, ears); growing a clipped half-face grows it by
half as much and shifts it towards the edge, so hair and an ear on the visible
side can stay uncovered. Redaction therefore takes
:meth:`Transform.apply_unclipped` boxes, grows them, and only clips the painted
region to the frame (:func:`photoguard_core.render.redact.redact_region`).

:func:`transform_for_spec` builds the transform of a Wagtail filter spec
(``fill-800x600``, ``max-400x400``, ``width-300``, ``original``...) without
importing Wagtail, with Wagtail's own arithmetic and rounding, including the
crop Willow clamps to the image.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PIL import Image

from photoguard_core.errors import PlanError
from photoguard_core.geometry import Box

#: An affine map restricted to axis-aligned moves: (a, b, c, d, e, f) sends
#: (x, y) to (a*x + b*y + c, d*x + e*y + f). Quarter turns and mirrors swap or
#: negate axes; crops shift; resizes scale.
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

Size = tuple[int, int]
_Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Crop:
    """Keep ``box`` (integer pixels of the current image, inside it)."""

    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class Resize:
    """Stretch the current image to ``width`` x ``height`` pixels."""

    width: int
    height: int


@dataclass(frozen=True)
class Transpose:
    """One of Pillow's seven :class:`PIL.Image.Transpose` flips and quarter turns."""

    method: Image.Transpose


Step = Crop | Resize | Transpose

#: EXIF orientation -> the transpose that makes the stored pixels upright (as in
#: Pillow's ImageOps.exif_transpose).
EXIF_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Transform:
    """A chain of crops, resizes and transposes from a source size to an output size.

    Immutable: every step returns a new transform, so one indexed photo can feed
    many renditions without one spec's geometry leaking into another's.
    """

    source_size: Size
    size: Size
    steps: tuple[Step, ...] = ()
    matrix: Matrix = field(default=_IDENTITY, repr=False)

    @classmethod
    def identity(cls, size: Size) -> Transform:
        """The do-nothing transform of an image of ``size`` (width, height)."""
        checked = _check_size(size)
        return cls(checked, checked)

    # --- building -------------------------------------------------------------------

    def crop(self, box: Box | Sequence[float]) -> Transform:
        """Keep ``box`` of the current image, rounded to whole pixels as Pillow does.

        The box must lie inside the current image: Pillow pads a crop that
        reaches outside with black and Willow clamps it, so a host must say which
        pixels it really kept instead of having us guess.
        """
        x0, y0, x1, y1 = (int(round(v)) for v in _corners(box))
        width, height = self.size
        if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
            raise PlanError(None, f"crop {(x0, y0, x1, y1)} is not inside a {width}x{height} image")
        shift: Matrix = (1.0, 0.0, -x0, 0.0, 1.0, -y0)
        return self._then(Crop((x0, y0, x1, y1)), (x1 - x0, y1 - y0), shift)

    def resize(self, width: int, height: int) -> Transform:
        """Stretch the current image to ``width`` x ``height`` (edges map to edges)."""
        new = _check_size((width, height))
        sx, sy = new[0] / self.size[0], new[1] / self.size[1]
        return self._then(Resize(*new), new, (sx, 0.0, 0.0, 0.0, sy, 0.0))

    def transpose(self, method: Image.Transpose | int) -> Transform:
        """Flip or turn by quarter turns exactly as ``PIL.Image.transpose(method)``."""
        method = Image.Transpose(method)
        w, h = self.size
        matrices: dict[Image.Transpose, tuple[Matrix, Size]] = {
            Image.Transpose.FLIP_LEFT_RIGHT: ((-1, 0, w, 0, 1, 0), (w, h)),
            Image.Transpose.FLIP_TOP_BOTTOM: ((1, 0, 0, 0, -1, h), (w, h)),
            Image.Transpose.ROTATE_180: ((-1, 0, w, 0, -1, h), (w, h)),
            # Counter-clockwise: the top-right corner becomes the top-left.
            Image.Transpose.ROTATE_90: ((0, 1, 0, -1, 0, w), (h, w)),
            Image.Transpose.ROTATE_270: ((0, -1, h, 1, 0, 0), (h, w)),
            Image.Transpose.TRANSPOSE: ((0, 1, 0, 1, 0, 0), (h, w)),
            Image.Transpose.TRANSVERSE: ((0, -1, h, -1, 0, w), (h, w)),
        }
        step, size = matrices[method]
        return self._then(Transpose(method), size, tuple(float(v) for v in step))  # type: ignore[arg-type]

    def rotate(self, degrees: int) -> Transform:
        """Turn counter-clockwise by a multiple of 90 degrees (``Image.rotate(expand=True)``)."""
        if degrees % 90:
            raise PlanError(None, f"only quarter turns keep boxes upright, not {degrees} degrees")
        turn = {
            0: None,
            90: Image.Transpose.ROTATE_90,
            180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_270,
        }[degrees % 360]
        return self if turn is None else self.transpose(turn)

    def orient(self, orientation: int | None) -> Transform:
        """Apply EXIF ``orientation`` (1-8): from stored pixels to the upright picture."""
        method = EXIF_TRANSPOSE.get(orientation or 1)
        return self if method is None else self.transpose(method)

    # --- using ----------------------------------------------------------------------

    def apply_unclipped(self, box: Box) -> Box:
        """``box`` in output coordinates, wherever it lands (even outside the frame).

        Use this for redaction: grow the unclipped box, then clip the painted
        region (see the module docstring).
        """
        corners = [self.apply_point(x, y) for x, y in _box_corners(box)]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        return Box(min(xs), min(ys), max(xs), max(ys))

    def apply(self, box: Box) -> Box | None:
        """``box`` in output coordinates clipped to the frame; None when none of it shows."""
        mapped = self.apply_unclipped(box).clipped(*self.size)
        return mapped if mapped.area > 0 else None

    def apply_point(self, x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = self.matrix
        return (a * x + b * y + c, d * x + e * y + f)

    def apply_image(
        self, image: Image.Image, resample: Image.Resampling = Image.Resampling.LANCZOS
    ) -> Image.Image:
        """Perform the steps on ``image`` with Pillow, for hosts that have no renderer.

        ``image`` must be ``source_size``: pixels of another size would not match
        the boxes mapped through this transform.
        """
        if image.size != self.source_size:
            raise PlanError(
                None, f"image is {image.size}, the transform expects {self.source_size}"
            )
        for step in self.steps:
            if isinstance(step, Crop):
                image = image.crop(step.box)
            elif isinstance(step, Resize):
                image = image.resize((step.width, step.height), resample)
            else:
                image = image.transpose(step.method)
        return image

    @property
    def source_box(self) -> Box:
        """The part of the source that the output frame shows (source coordinates).

        A host that decodes reduced (JPEG draft) can scale this box and crop and
        resize in one ``Image.resize(size, box=...)`` with exactly this geometry.
        """
        inverse = _invert(self.matrix)
        width, height = self.size
        corners = [_apply(inverse, x, y) for x, y in _box_corners(Box(0, 0, width, height))]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        return Box(min(xs), min(ys), max(xs), max(ys))

    def _then(self, step: Step, size: Size, matrix: Matrix) -> Transform:
        return Transform(self.source_size, size, (*self.steps, step), _compose(matrix, self.matrix))


def transform_for_spec(
    spec: str,
    size: Size,
    *,
    focal_point: Box | None = None,
    pixel_operations: Iterable[str] = (),
) -> Transform:
    """The crop and resize Wagtail makes for filter ``spec`` on an upright ``size`` image.

    ``spec`` is a Wagtail filter spec: operations joined by ``|`` (or spaces, as
    in a template tag), each ``name-arg-arg``. ``focal_point`` is the image's
    focal point box in the same coordinates as ``size`` (Wagtail's
    ``get_focal_point()``). Operations that only touch colours or the output
    format (``original``, ``jpegquality``, ``webpquality``, ``avifquality``,
    ``format``, ``bgcolor`` and photoguard's own ``guard``) are skipped; a site's
    own pixel-only operations can be named in ``pixel_operations``. Any other
    operation raises :class:`PlanError`: it might move pixels, and a box mapped
    through the wrong geometry misses the face, so the caller must fail closed.
    """
    state = _WagtailGeometry(_check_size(size))
    skipped = _PIXEL_ONLY | set(pixel_operations)
    for operation in _parse_spec(spec):
        name, args = operation[0], operation[1:]
        if name in skipped:
            continue
        run = _GEOMETRY.get(name)
        if run is None:
            raise PlanError(None, f"filter operation {name!r} in {spec!r} has unknown geometry")
        try:
            run(state, name, args, focal_point)
        except (ValueError, IndexError, ZeroDivisionError) as err:
            raise PlanError(None, f"bad filter operation {'-'.join(operation)!r}: {err}") from err
    return state.to_transform()


# --- Wagtail's geometry, re-derived -------------------------------------------------
# Wagtail keeps a scale and an offset per axis (its ImageTransform) and, when it
# renders, crops the source rectangle they describe (rounded outwards, clamped to
# the image by Willow) and resizes to the final size. The arithmetic below follows
# the same order with the same floating-point operations, so rounding agrees.

_PIXEL_ONLY = frozenset(
    {"original", "jpegquality", "webpquality", "avifquality", "format", "bgcolor", "guard"}
)


@dataclass
class _WagtailGeometry:
    size: Size
    scale: tuple[float, float] = (1.0, 1.0)
    offset: tuple[float, float] = (0.0, 0.0)
    original: Size = (0, 0)

    def __post_init__(self) -> None:
        self.original = self.size

    def crop(self, rect: tuple[int, int, int, int]) -> None:
        left, top, right, bottom = rect
        size = _check_size((right - left, bottom - top))
        self.offset = (
            self.offset[0] - left / self.scale[0],
            self.offset[1] - top / self.scale[1],
        )
        self.size = size

    def resize(self, size: Size) -> None:
        size = _check_size(size)
        self.scale = (
            self.scale[0] * size[0] / self.size[0],
            self.scale[1] * size[1] / self.size[1],
        )
        self.size = size

    def to_transform(self) -> Transform:
        """The pixel operations Wagtail's renderer performs for this geometry."""
        left = -self.offset[0]
        top = -self.offset[1]
        right = left + self.size[0] / self.scale[0]
        bottom = top + self.size[1] / self.scale[1]
        width, height = self.original
        # Outward to whole pixels, then clamped to the image as Willow's crop does.
        box = (
            max(0, math.floor(left)),
            max(0, math.floor(top)),
            min(width, math.ceil(right)),
            min(height, math.ceil(bottom)),
        )
        out = Transform.identity(self.original)
        if box != (0, 0, width, height):
            out = out.crop(box)
        if out.size != self.size:
            out = out.resize(*self.size)
        return out


def _fill(state: _WagtailGeometry, _name: str, args: Sequence[str], fp: Box | None) -> None:
    target_w, target_h = _dimensions(args[0])
    closeness = 0.0
    for extra in args[1:]:
        if not extra.startswith("c"):
            raise ValueError(f"unrecognised fill option {extra!r}")
        closeness = min(int(extra[1:]) / 100, 1)
    image_w, image_h = state.size
    aspect = target_w / target_h

    # The largest crop of the target's aspect ratio that fits in the image...
    max_scale = min(image_w, image_h * aspect)
    crop_w, crop_h = max_scale, max_scale / aspect
    max_w, max_h = crop_w, crop_h
    if fp is not None:
        # ...moved towards the smallest one still holding the focal point, by the
        # closeness, but never so far that the crop is smaller than the target.
        min_scale = max(fp.width, fp.height * aspect)
        min_w, min_h = min_scale, min_scale / aspect
        if min_scale < max_scale:
            limit = max(
                1 - (target_w - min_w) / (max_w - min_w), 1 - (target_h - min_h) / (max_h - min_h)
            )
            chosen = min(closeness, limit)
            if 0 <= chosen <= 1:
                crop_w = max_w + (min_w - max_w) * chosen
                crop_h = max_h + (min_h - max_h) * chosen

    # Place it so the focal point sits at the same relative spot in crop and image.
    if fp is not None:
        fx, fy = fp.center
    else:
        fx, fy = image_w / 2, image_h / 2
    cx = fx - (fx / image_w - 0.5) * crop_w
    cy = fy - (fy / image_h - 0.5) * crop_h
    rect = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
    if fp is not None:
        rect = _move_to_cover(rect, (fp.x0, fp.y0, fp.x1, fp.y1))
    rect = _move_inside(rect, (0, 0, image_w, image_h))
    state.crop((math.floor(rect[0]), math.floor(rect[1]), math.ceil(rect[2]), math.ceil(rect[3])))
    if target_w / state.size[0] < 1.0:  # never enlarged
        state.resize((target_w, target_h))


def _min_max(state: _WagtailGeometry, name: str, args: Sequence[str], _fp: Box | None) -> None:
    (size,) = args
    target_w, target_h = _dimensions(size)
    image_w, image_h = state.size
    horizontal, vertical = target_w / image_w, target_h / image_h
    if name == "max":
        if image_w <= target_w and image_h <= target_h:
            return
        by_width = horizontal < vertical
    else:
        if image_w <= target_w or image_h <= target_h:
            return
        by_width = horizontal > vertical
    if by_width:
        width, height = target_w, int(image_h * horizontal)
    else:
        width, height = int(image_w * vertical), target_h
    state.resize((max(width, 1), max(height, 1)))


def _width_height(state: _WagtailGeometry, name: str, args: Sequence[str], _fp: Box | None) -> None:
    (target,) = (int(a) for a in args)
    image_w, image_h = state.size
    if name == "width":
        if image_w <= target:
            return
        width, height = target, int(image_h * (target / image_w))
    else:
        if image_h <= target:
            return
        width, height = int(image_w * (target / image_h)), target
    state.resize((max(width, 1), max(height, 1)))


def _scale(state: _WagtailGeometry, _name: str, args: Sequence[str], _fp: Box | None) -> None:
    (percent,) = (float(a) for a in args)
    factor = percent / 100
    width, height = int(state.size[0] * factor), int(state.size[1] * factor)
    state.resize((max(width, 1), max(height, 1)))


_GEOMETRY = {
    "fill": _fill,
    "min": _min_max,
    "max": _min_max,
    "width": _width_height,
    "height": _width_height,
    "scale": _scale,
}

_SPEC_PART = re.compile(r"^[A-Za-z0-9_\-.]+$")


def _parse_spec(spec: str) -> list[list[str]]:
    parts = [p for p in re.split(r"[|\s]+", spec.strip()) if p]
    if not parts or not all(_SPEC_PART.match(p) for p in parts):
        raise PlanError(None, f"not a filter spec: {spec!r}")
    return [p.split("-") for p in parts]


def _dimensions(text: str) -> tuple[int, int]:
    width, height = text.split("x")
    return int(width), int(height)


def _move_to_cover(rect: _Rect, other: _Rect) -> _Rect:
    """Shift ``rect`` (never resize it) until it contains ``other`` where it can."""
    left, top, right, bottom = rect
    if left > other[0]:
        right, left = right - (left - other[0]), other[0]
    if top > other[1]:
        bottom, top = bottom - (top - other[1]), other[1]
    if right < other[2]:
        left, right = left + (other[2] - right), other[2]
    if bottom < other[3]:
        top, bottom = top + (other[3] - bottom), other[3]
    return (left, top, right, bottom)


def _move_inside(rect: _Rect, bounds: _Rect) -> _Rect:
    """Shift ``rect`` (never resize it) until it lies inside ``bounds`` where it can."""
    left, top, right, bottom = rect
    if left < bounds[0]:
        right, left = right - (left - bounds[0]), bounds[0]
    if top < bounds[1]:
        bottom, top = bottom - (top - bounds[1]), bounds[1]
    if right > bounds[2]:
        left, right = left - (right - bounds[2]), bounds[2]
    if bottom > bounds[3]:
        top, bottom = top - (bottom - bounds[3]), bounds[3]
    return (left, top, right, bottom)


# --- small helpers ------------------------------------------------------------------


def _check_size(size: Sequence[int]) -> Size:
    width, height = size
    if int(width) != width or int(height) != height or width < 1 or height < 1:
        raise PlanError(None, f"an image size must be whole pixels, at least 1x1, not {size}")
    return (int(width), int(height))


def _corners(box: Box | Sequence[float]) -> tuple[float, float, float, float]:
    if isinstance(box, Box):
        return (box.x0, box.y0, box.x1, box.y1)
    x0, y0, x1, y1 = box
    return (x0, y0, x1, y1)


def _box_corners(box: Box) -> list[tuple[float, float]]:
    return [(box.x0, box.y0), (box.x1, box.y0), (box.x0, box.y1), (box.x1, box.y1)]


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])


def _compose(outer: Matrix, inner: Matrix) -> Matrix:
    """``outer`` after ``inner``."""
    a1, b1, c1, d1, e1, f1 = outer
    a2, b2, c2, d2, e2, f2 = inner
    return (
        a1 * a2 + b1 * d2,
        a1 * b2 + b1 * e2,
        a1 * c2 + b1 * f2 + c1,
        d1 * a2 + e1 * d2,
        d1 * b2 + e1 * e2,
        d1 * c2 + e1 * f2 + f1,
    )


def _invert(m: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    det = a * e - b * d
    if det == 0:  # pragma: no cover - every step keeps the map invertible
        raise PlanError(None, "transform is not invertible")
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return (ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f))
