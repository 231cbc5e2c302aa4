"""Turn any decoded Pillow image into 8-bit sRGB ``RGB`` pixels.

Everything downstream (face detection, redaction, encoding) sees one pixel
format, so none of it has to reason about palettes, alpha or colour spaces. Each
step records a short note, because the manifest says what was done to a photo.

Two choices matter for safety rather than looks:

* Alpha is composited on **white**, never dropped. ``convert("RGB")`` on an RGBA
  image throws the alpha away and reveals whatever colour data sits under fully
  transparent pixels; an editor may have "hidden" a face that way. Compositing
  replaces those pixels with the background, so nothing hidden is revealed and
  nothing visible is hidden.
* 16-bit samples are *scaled* to 8 bits (``v / 257``). Pillow's ``convert("L")``
  clips ``I;16`` values above 255 to white, which would wash a photo out.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I;16S", "I;16BS", "I;16LS"})
#: Modes whose reduction to 8 bits happens (and is noted) here rather than in Pillow.
_DEEP_MODES = _SIXTEEN_BIT_MODES | {"I", "F"}
_ICC_MODES = {"RGB": "RGB ", "L": "GRAY", "CMYK": "CMYK"}

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def to_srgb_rgb8(
    image: Image.Image,
    *,
    icc_profile: bytes | None,
    bits_per_sample: int | None,
    notes: list[str],
) -> Image.Image:
    """Return ``image`` as 8-bit sRGB ``RGB``, appending what was done to ``notes``.

    ``bits_per_sample`` is what the container declared (PNG IHDR, TIFF, HEIF);
    Pillow has sometimes already reduced the samples, but the note should still
    say the source was deeper than 8 bits.
    """
    if bits_per_sample and bits_per_sample > 8 and image.mode not in _DEEP_MODES:
        notes.append(f"{bits_per_sample}-bit reduced to 8-bit")
    image = _reduce_deep_samples(image, bits_per_sample, notes)
    image = _expand_palette(image, notes)
    image = _flatten_alpha_on_white(image, notes)
    image = _apply_icc_profile(image, icc_profile, notes)
    return _to_rgb(image, notes)


def _reduce_deep_samples(
    image: Image.Image, bits_per_sample: int | None, notes: list[str]
) -> Image.Image:
    """Scale 16-bit / 32-bit integer and float greyscale to 8-bit ``L``."""
    if image.mode in _SIXTEEN_BIT_MODES or image.mode == "I":
        samples = np.asarray(image).astype(np.float64)
        if image.mode == "I" and not bits_per_sample:
            bits_per_sample = 16 if samples.size and samples.max() > 255 else 8
        bits = bits_per_sample or 16
        top = float(2**bits - 1)
        scaled = np.clip(np.rint(samples * (255.0 / top)), 0, 255).astype(np.uint8)
        notes.append(f"{bits}-bit reduced to 8-bit")
        return Image.fromarray(scaled, "L")
    if image.mode == "F":
        samples = np.asarray(image).astype(np.float64)
        peak = float(np.nanmax(samples)) if samples.size else 0.0
        factor = 255.0 if peak <= 1.0 else 1.0
        scaled = np.clip(np.rint(np.nan_to_num(samples) * factor), 0, 255).astype(np.uint8)
        notes.append("32-bit float reduced to 8-bit")
        return Image.fromarray(scaled, "L")
    return image


def _expand_palette(image: Image.Image, notes: list[str]) -> Image.Image:
    """Palette images become RGB(A); a transparency key becomes a real alpha channel."""
    if image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        notes.append("palette expanded")
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("L", "RGB") and "transparency" in image.info:
        # A tRNS colour key: pixels of that colour are transparent.
        return image.convert("LA" if image.mode == "L" else "RGBA")
    return image


def _flatten_alpha_on_white(image: Image.Image, notes: list[str]) -> Image.Image:
    """Composite any alpha channel over white (see the module docstring for why)."""
    if image.mode in ("RGBa", "La"):
        image = image.convert("RGBA" if image.mode == "RGBa" else "LA")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        notes.append("alpha flattened on white")
        return Image.alpha_composite(white, image).convert("RGB")
    if image.mode == "LA":
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        notes.append("alpha flattened on white")
        return Image.alpha_composite(white, rgba).convert("L")
    return image


def _apply_icc_profile(
    image: Image.Image, icc_profile: bytes | None, notes: list[str]
) -> Image.Image:
    """Convert to sRGB through the embedded profile; a broken profile is noted, not fatal.

    The output carries no profile (metadata is stripped), so pixels must already
    be sRGB, or a wide-gamut (Display P3, Adobe RGB) or CMYK photo would publish
    with wrong colours. A profile that cannot be used does not stop the photo:
    the pixels are then treated as sRGB, which is what a browser would do.
    """
    if not icc_profile:
        return image
    expected_space = _ICC_MODES.get(image.mode)
    if expected_space is None:
        notes.append(f"ICC profile ignored: not usable with {image.mode} pixels")
        return image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        space = profile.profile.xcolor_space
        if space != expected_space:
            notes.append(
                f"ICC profile ignored: it describes {space.strip()} but pixels are {image.mode}"
            )
            return image
        description = (ImageCms.getProfileDescription(profile) or "").strip()
        if image.mode == "RGB" and description.startswith("sRGB"):
            notes.append("ICC profile is sRGB")
            return image
        transform = ImageCms.buildTransform(
            profile, _SRGB, image.mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
        converted = ImageCms.applyTransform(image, transform)
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError) as exc:
        notes.append(f"ICC profile unusable ({_short(exc)}); treated as sRGB")
        return image
    if converted is None:  # pragma: no cover - only when transforming in place
        return image
    if image.mode == "CMYK":
        notes.append("CMYK converted")
    notes.append("ICC profile converted to sRGB")
    return converted


def _to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """Whatever mode is left becomes ``RGB`` (L, CMYK without profile, YCbCr, LAB, HSV)."""
    if image.mode == "RGB":
        return image
    if image.mode == "CMYK":
        notes.append("CMYK converted")
    elif image.mode in ("YCbCr", "LAB", "HSV"):
        notes.append(f"{image.mode} converted")
    return image.convert("RGB")


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
