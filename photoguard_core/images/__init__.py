"""Image intake: untrusted bytes in, upright 8-bit sRGB pixels out (or a typed refusal).

Public API::

    open_image(source, *, name=None, limits=None, target_long_side=None) -> DecodedImage
    DecodedImage(image, full_size, scale, format, source, notes)
    ImageLimits(max_pixels=64_000_000, max_bytes=200 * 2**20)
    FORMATS / ImageFormat / sniff_format / format_named: the format registry
"""

from photoguard_core.images.formats import (
    FORMATS,
    ImageFormat,
    MultiImagePolicy,
    format_named,
    sniff_format,
)
from photoguard_core.images.intake import (
    DecodedImage,
    ImageLimits,
    open_image,
    read_source,
    upright_size,
)

__all__ = [
    "FORMATS",
    "DecodedImage",
    "ImageFormat",
    "ImageLimits",
    "MultiImagePolicy",
    "format_named",
    "open_image",
    "read_source",
    "upright_size",
    "sniff_format",
]
