"""Encode pixels, and only pixels, into JPEG, PNG or WebP.

Pillow's encoders copy whatever sits in ``Image.info`` into the file (EXIF, ICC
profile, XMP, comments, PNG text), and the decoded image or a caller's copy of
it may still carry those. So the encoder never sees the caller's image: a fresh
image is built from the pixel array, which has no ``info`` at all, and saved
with no metadata arguments. :func:`photoguard_core.metadata.verify_clean` then
checks the result with an independent reader; this module does not trust
itself either.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from photoguard_core.errors import PlanError
from photoguard_core.images.colour import to_srgb_rgb8

#: Output format -> (file extension, MIME type).
FORMATS: dict[str, tuple[str, str]] = {
    "jpeg": (".jpg", "image/jpeg"),
    "png": (".png", "image/png"),
    "webp": (".webp", "image/webp"),
}


def encode_image(
    image: Image.Image,
    fmt: str = "jpeg",
    *,
    quality: int = 85,
    progressive: bool = False,
) -> bytes:
    """``image`` as ``fmt`` bytes ("jpeg", "png", "webp") with no metadata of any kind.

    Any mode is accepted; anything but RGB/L is brought to 8-bit sRGB RGB first
    (alpha composited on white). ``quality`` (1-100) applies to JPEG and WebP;
    ``progressive`` to JPEG. Raises :class:`PlanError` for an unknown format or
    an out-of-range quality.
    """
    kind = fmt.lower()
    if kind not in FORMATS:
        raise PlanError(None, f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")
    if not 1 <= quality <= 100:
        raise PlanError(None, f"quality {quality} is outside 1-100")
    fresh = _fresh_pixels(image)
    buffer = io.BytesIO()
    if kind == "jpeg":
        fresh.save(buffer, "JPEG", quality=quality, optimize=True, progressive=progressive)
    elif kind == "png":
        fresh.save(buffer, "PNG", compress_level=6)
    else:
        fresh.save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


def _fresh_pixels(image: Image.Image) -> Image.Image:
    """A new image holding only ``image``'s pixels: no ``info``, no palette, no alpha."""
    if image.mode not in ("RGB", "L"):
        image = to_srgb_rgb8(image, icc_profile=None, bits_per_sample=None, notes=[])
    pixels = np.array(image, dtype=np.uint8, copy=True)
    return Image.fromarray(pixels)  # built from an array: its ``info`` is empty
