"""Decode an untrusted file into upright 8-bit sRGB pixels, or refuse with a reason.

Every photo enters photoguard here. The rules, in the order they are applied:

1. Size of the file (``ImageLimits.max_bytes``) before reading it.
2. Format from the bytes themselves (never the extension), and only the formats
   in :mod:`~photoguard_core.images.formats`.
3. Pixel count from the header (``ImageLimits.max_pixels``) *before* any pixel is
   decoded: a 50 kB PNG can declare 10 gigapixels.
4. Animations are refused; multi-picture files give their first/primary picture.
5. Decode (reduced for JPEG when a target size is given), then colour to sRGB,
   then the orientation baked into the pixels, so the pixels are upright once the
   orientation tag is stripped from the output.

Any failure raises a typed :class:`~photoguard_core.errors.ImageError` naming the
file and the reason; callers fail closed on it.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

from photoguard_core.errors import (
    AnimatedImageError,
    DecodeError,
    DecompressionBombError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from photoguard_core.images.colour import to_srgb_rgb8
from photoguard_core.images.formats import (
    ImageFormat,
    MultiImagePolicy,
    allowed_pillow_formats,
    avif_opener,
    format_for_pillow,
    sniff_format,
)

_ORIENTATION_TAG = 0x0112
#: EXIF orientation -> the transpose that makes the picture upright.
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_JPEG_DRAFT_FORMATS = frozenset({"JPEG", "MPO"})


@dataclass(frozen=True)
class ImageLimits:
    """What intake accepts. Beyond either limit a file is refused before decoding.

    64 megapixels is well above any phone or school camera (a 12 MP phone photo
    is 12_000_000); 200 MiB is above any real photo file.
    """

    max_pixels: int = 64_000_000
    max_bytes: int = 200 * 2**20


@dataclass(frozen=True)
class DecodedImage:
    """Upright 8-bit sRGB pixels plus what is needed to map results back.

    When decoded reduced (``target_long_side``), ``image`` is smaller than the
    photo: a box found on ``image`` maps to full-resolution, upright coordinates
    by dividing each coordinate by ``scale`` (``full = reduced / scale``).
    """

    image: Image.Image
    full_size: tuple[int, int]
    scale: float
    format: str
    source: str
    notes: list[str] = field(default_factory=list)


def open_image(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    limits: ImageLimits | None = None,
    target_long_side: int | None = None,
) -> DecodedImage:
    """Decode ``source`` (a path or the file's bytes) into a :class:`DecodedImage`.

    ``name`` labels the file in errors and notes (defaults to the path, or
    ``"<bytes>"``). ``target_long_side``, when given, decodes a reduced image whose
    long side is the smallest the decoder can produce that is still at least
    ``target_long_side`` (JPEG decodes at 1/2, 1/4 or 1/8 directly, which saves
    most of the time and memory on 12 MP photos; other formats are reduced by an
    integer factor after decoding). Without it the image is full resolution.

    Raises :class:`UnsupportedFormatError`, :class:`DecompressionBombError`,
    :class:`AnimatedImageError`, :class:`TruncatedImageError` or :class:`DecodeError`.
    """
    limits = limits or ImageLimits()
    label = name or (str(source) if isinstance(source, str | Path) else "<bytes>")
    if target_long_side is not None and target_long_side < 1:
        raise ValueError("target_long_side must be a positive number of pixels")
    data = _read_bytes(source, label, limits)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Some other component switched Pillow into "fill truncated images with
        # grey" mode. We do not flip a process-wide switch back behind its back,
        # and we cannot tell a complete photo from a truncated one while it is on.
        raise DecodeError(
            label,
            "Pillow's ImageFile.LOAD_TRUNCATED_IMAGES is switched on by another component, "
            "so a truncated file could not be told apart; refusing to decode",
        )
    expected = sniff_format(data[:256])
    if expected is None:
        raise UnsupportedFormatError(label, _describe_unknown(data))
    notes: list[str] = []
    with _Opened(data, label, expected) as opened:
        fmt = format_for_pillow(opened.format)
        if fmt is None:  # pragma: no cover - formats= restricts Pillow to ours
            raise UnsupportedFormatError(label, f"{opened.format} files are not supported")
        _check_pixel_limit(opened, label, limits)
        _check_frames(opened, fmt, label, notes)
        orientation = _read_orientation(opened, notes)
        _note_container_transform(opened, notes)
        stored_w, stored_h = opened.size
        full_size = (stored_h, stored_w) if orientation in (5, 6, 7, 8) else (stored_w, stored_h)
        if target_long_side is not None and fmt.name in _JPEG_DRAFT_FORMATS:
            _draft_jpeg(opened, target_long_side, notes)
        _load_pixels(opened, label)
        pixels = _convert_colours(opened, data, label, notes)
        pixels = _detached(pixels, opened)
    if target_long_side is not None:
        pixels = _reduce_to_target(pixels, target_long_side, notes)
    pixels = _apply_orientation(pixels, orientation, notes)
    scale = pixels.width / full_size[0] if full_size[0] else 1.0
    return DecodedImage(
        image=pixels,
        full_size=full_size,
        scale=scale,
        format=fmt.name,
        source=label,
        notes=notes,
    )


def upright_size(
    source: str | Path | bytes, *, name: str | None = None, limits: ImageLimits | None = None
) -> tuple[int, int]:
    """The upright full-resolution size, read from the header without decoding pixels.

    Lets a host plan a crop (and decode only as large as it needs) before paying for
    a decode. Raises the same typed errors as :func:`open_image` for what the header
    alone can show (not an image, bomb, unreadable).
    """
    limits = limits or ImageLimits()
    label = name or (str(source) if isinstance(source, str | Path) else "<bytes>")
    data = _read_bytes(source, label, limits)
    expected = sniff_format(data[:256])
    if expected is None:
        raise UnsupportedFormatError(label, _describe_unknown(data))
    with _Opened(data, label, expected) as opened:
        _check_pixel_limit(opened, label, limits)
        orientation = _read_orientation(opened, [])
        w, h = opened.size
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


# --- reading and opening ------------------------------------------------------------


def read_source(
    source: str | Path | bytes, *, name: str | None = None, limits: ImageLimits | None = None
) -> tuple[bytes, str]:
    """``(data, label)`` for a path or bytes, with the byte limit checked before reading.

    Callers that need the bytes themselves (metadata, hashing) read once here and
    pass the bytes on to :func:`open_image`, so every reader sees the same file.
    """
    label = name or (str(source) if isinstance(source, str | Path) else "<bytes>")
    data = _read_bytes(source, label, limits or ImageLimits())
    if not data:
        raise UnsupportedFormatError(label, "file is empty, not an image")
    return data, label


def _read_bytes(source: str | Path | bytes, label: str, limits: ImageLimits) -> bytes:
    """The file's bytes, refusing files over ``max_bytes`` before reading them."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > limits.max_bytes:
            raise DecompressionBombError(label, _too_many_bytes(len(data), limits))
        return data
    path = Path(source)
    try:
        size = os.stat(path).st_size
        if size > limits.max_bytes:
            raise DecompressionBombError(label, _too_many_bytes(size, limits))
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except IsADirectoryError:
        raise UnsupportedFormatError(label, "is a directory, not an image file") from None
    except FileNotFoundError:
        raise DecodeError(label, "file not found") from None
    except OSError as exc:
        raise DecodeError(label, f"cannot read the file ({exc.strerror or exc})") from None
    if len(data) > limits.max_bytes:  # grew while we looked
        raise DecompressionBombError(label, _too_many_bytes(len(data), limits))
    return data


def _too_many_bytes(size: int, limits: ImageLimits) -> str:
    return f"file is {size:,} bytes, more than the {limits.max_bytes:,} byte limit"


def _describe_unknown(data: bytes) -> str:
    if not data:
        return "file is empty, not an image"
    head = data[:512]
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if printable / len(head) > 0.95:
        return "not an image: the file is text"
    return "not an image format photoguard reads (JPEG, PNG, WebP, HEIC/HEIF, AVIF, TIFF, GIF, MPO)"


class _Opened:
    """Context manager around ``Image.open`` that maps Pillow's errors to ours."""

    def __init__(self, data: bytes, label: str, expected: ImageFormat) -> None:
        self.data = data
        self.label = label
        self.expected = expected
        self.image: ImageFile.ImageFile | None = None

    def __enter__(self) -> ImageFile.ImageFile:
        try:
            image = Image.open(io.BytesIO(self.data), formats=allowed_pillow_formats())
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # The warning arrives as an exception when a host turned warnings into errors.
            raise DecompressionBombError(
                self.label, f"declared picture size is a decompression bomb ({exc})"
            ) from None
        except UnidentifiedImageError:
            raise self._unidentified() from None
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a typed refusal
            raise _decode_error(self.label, exc, during="reading the header") from None
        self.image = image  # type: ignore[assignment]
        return image  # type: ignore[return-value]

    def __exit__(self, *exc_info: object) -> None:
        if self.image is not None:
            self.image.close()

    def _unidentified(self) -> DecodeError | UnsupportedFormatError:
        name = self.expected.name
        if not set(self.expected.pillow_formats) & set(allowed_pillow_formats()) or (
            name == "AVIF" and avif_opener() is None
        ):
            return UnsupportedFormatError(
                self.label, f"{name} files cannot be read here (no decoder installed)"
            )
        detail = _heif_reason(self.data) if name == "HEIF" else ""
        reason = f"looks like {name} but the decoder cannot parse it"
        return DecodeError(self.label, f"{reason}: {detail}" if detail else reason)


def _heif_reason(data: bytes) -> str:
    """pillow-heif's own message for a HEIF it will not open (Pillow hides it)."""
    try:
        import pillow_heif

        pillow_heif.open_heif(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - we only want its message
        return _short(exc)
    return ""


def _decode_error(label: str, exc: BaseException, *, during: str) -> DecodeError:
    message = _short(exc)
    if isinstance(exc, EOFError) or "truncated" in message.lower():
        return TruncatedImageError(label, f"file is truncated (decoder: {message})")
    return DecodeError(label, f"decoder failed while {during}: {message}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = re.sub(r"<_io\.BytesIO object at 0x[0-9a-f]+>", "the file", text)
    return text if len(text) <= 200 else text[:197] + "..."


# --- checks before decoding ---------------------------------------------------------


def _check_pixel_limit(image: Image.Image, label: str, limits: ImageLimits) -> None:
    """Refuse on the header's declared size; no pixel has been decoded yet."""
    width, height = image.size
    if width <= 0 or height <= 0:
        raise DecodeError(label, f"header declares an empty image ({width}x{height})")
    if width * height > limits.max_pixels:
        raise DecompressionBombError(
            label,
            f"header declares {width}x{height} = {width * height:,} pixels, "
            f"more than the {limits.max_pixels:,} pixel limit",
        )


def _check_frames(image: Image.Image, fmt: ImageFormat, label: str, notes: list[str]) -> None:
    """Refuse animations; keep only the first/primary picture of other multi-image files."""
    try:
        frames = int(getattr(image, "n_frames", 1) or 1)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a typed refusal
        raise _decode_error(label, exc, during="counting frames") from None
    if frames <= 1:
        return
    if fmt.multi_image is MultiImagePolicy.REFUSE:
        raise AnimatedImageError(
            label,
            f"animated {fmt.name} with {frames} frames is refused: every frame would need "
            "checking, and frames are never passed through",
        )
    if fmt.first_only_note:
        notes.append(f"{fmt.first_only_note} (file holds {frames})")


# --- orientation --------------------------------------------------------------------


def _read_orientation(image: Image.Image, notes: list[str]) -> int:
    """The EXIF orientation (1-8), falling back to XMP ``tiff:Orientation``.

    Pillow's ``getexif()`` already falls back to the XMP packet when the EXIF has
    no orientation. HEIF decoders apply the container's rotation themselves and
    reset this tag to 1 (see :func:`_note_container_transform`), so it is never
    applied twice.
    """
    try:
        value = image.getexif().get(_ORIENTATION_TAG)
    except Exception as exc:  # noqa: BLE001 - hostile EXIF must not stop intake
        notes.append(f"EXIF unreadable ({_short(exc)}); orientation assumed upright")
        return 1
    if value is None:
        return 1
    if isinstance(value, tuple | list):
        value = value[0] if value else 1
    try:
        orientation = int(value)
    except (TypeError, ValueError):
        notes.append(f"orientation {value!r} is not a number; ignored")
        return 1
    if orientation not in range(1, 9):
        notes.append(f"orientation {orientation} is out of range; ignored")
        return 1
    return orientation


def _note_container_transform(image: Image.Image, notes: list[str]) -> None:
    original = image.info.get("original_orientation")
    if isinstance(original, int) and original != 1:
        notes.append(f"orientation {original} applied by the HEIF decoder")


def _apply_orientation(image: Image.Image, orientation: int, notes: list[str]) -> Image.Image:
    transpose = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    if transpose is None:
        return image
    notes.append(f"orientation {orientation} applied")
    return image.transpose(transpose)


# --- decoding -----------------------------------------------------------------------


def _draft_jpeg(image: Image.Image, target_long_side: int, notes: list[str]) -> None:
    """Ask libjpeg for the smallest DCT scale (1/2, 1/4, 1/8) still >= the target."""
    width, height = image.size
    long_side = max(width, height)
    if long_side < 2 * target_long_side:
        return
    wanted = (
        max(1, math.ceil(width * target_long_side / long_side)),
        max(1, math.ceil(height * target_long_side / long_side)),
    )
    result = image.draft(None, wanted)
    if result is not None and image.size != (width, height):
        factor = round(width / image.size[0])
        notes.append(f"decoded at 1/{factor} scale (JPEG draft)")


def _load_pixels(image: Image.Image, label: str) -> None:
    try:
        image.load()
    except Image.DecompressionBombError as exc:  # pragma: no cover - checked before
        raise DecompressionBombError(label, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a typed refusal
        raise _decode_error(label, exc, during="decoding pixels") from None


def _convert_colours(image: Image.Image, data: bytes, label: str, notes: list[str]) -> Image.Image:
    try:
        return to_srgb_rgb8(
            image,
            icc_profile=image.info.get("icc_profile") or None,
            bits_per_sample=_declared_bits(image, data),
            notes=notes,
        )
    except Exception as exc:  # noqa: BLE001 - an unconvertible mode is a typed refusal
        reason = f"cannot convert {image.mode} pixels to RGB: {_short(exc)}"
        raise DecodeError(label, reason) from None


def _declared_bits(image: Image.Image, data: bytes) -> int | None:
    """Bits per sample the container declares, where Pillow may already have reduced them."""
    if image.format == "PNG" and len(data) >= 25:
        return data[24]
    if image.format == "TIFF":
        try:
            bits = image.tag_v2.get(258)  # type: ignore[attr-defined]
        except AttributeError:
            return None
        if isinstance(bits, tuple | list):
            bits = max(bits) if bits else None
        return int(bits) if isinstance(bits, int) else None
    bit_depth = image.info.get("bit_depth")
    return int(bit_depth) if isinstance(bit_depth, int) else None


def _detached(pixels: Image.Image, opened: Image.Image) -> Image.Image:
    """Pixels that outlive the file handle and carry none of the source's ``info``.

    ``info`` holds the EXIF, XMP, ICC profile and comments of the source; nothing
    downstream needs them, and an image without them cannot leak them by accident.
    """
    if pixels is opened:
        pixels = opened.copy()
    pixels.info = {}
    return pixels


def _reduce_to_target(image: Image.Image, target_long_side: int, notes: list[str]) -> Image.Image:
    """Integer box reduction, keeping the long side at or above the target."""
    factor = max(image.size) // target_long_side
    if factor < 2:
        return image
    notes.append(f"reduced by 1/{factor}")
    return image.reduce(factor)
