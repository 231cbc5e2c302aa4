"""The formats photoguard reads: one small entry per format, in one place.

In the spirit of Wagtail's Willow, a format is data, not code spread over the
intake: its name, the Pillow plugin names that may open it, how to recognise it
from its first bytes, and what to do when a file holds more than one picture.
Adding a format means adding one :class:`ImageFormat` to :data:`FORMATS` (and,
if Pillow needs a plugin for it, registering that plugin in
:func:`ensure_openers_registered`).

Intake opens files with ``Image.open(..., formats=allowed_pillow_formats())``, so
Pillow's other plugins (EPS via Ghostscript, PSD, ICNS, ...) are never reached
through photoguard, whatever extension a file claims.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from PIL import Image, features


class MultiImagePolicy(Enum):
    """What intake does when a file reports more than one frame or picture."""

    #: Frames of an animation: refusing is the only safe answer, because every
    #: frame would need its own faces found and nothing may pass unchecked.
    REFUSE = "refuse"
    #: Several pictures that are not an animation (MPO stereo pair, TIFF pages,
    #: HEIF collections): decode the first/primary one only and say so in a note.
    FIRST_ONLY = "first-only"


@dataclass(frozen=True)
class ImageFormat:
    """One format photoguard reads."""

    name: str
    pillow_formats: tuple[str, ...]
    extensions: tuple[str, ...]
    mime: str
    may_be_animated: bool
    multi_image: MultiImagePolicy
    sniff: Callable[[bytes], bool]
    #: The note added when :attr:`multi_image` is FIRST_ONLY and the file has more.
    first_only_note: str = ""


def _is_jpeg(head: bytes) -> bool:
    return head[:3] == b"\xff\xd8\xff"


def _is_png(head: bytes) -> bool:
    return head[:8] == b"\x89PNG\r\n\x1a\n"


def _is_gif(head: bytes) -> bool:
    return head[:6] in (b"GIF87a", b"GIF89a")


def _is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _is_tiff(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def _isobmff_brands(head: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO-BMFF ``ftyp`` box (empty if none)."""
    if head[4:8] != b"ftyp" or len(head) < 16:
        return set()
    size = int.from_bytes(head[:4], "big")
    end = min(max(size, 16), len(head), 256)
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def _is_avif(head: bytes) -> bool:
    return bool(_isobmff_brands(head) & _AVIF_BRANDS)


def _is_heif(head: bytes) -> bool:
    brands = _isobmff_brands(head)
    if brands & _AVIF_BRANDS:
        return False
    return bool(brands & (_HEIF_BRANDS | _GENERIC_HEIF_BRANDS))


FORMATS: tuple[ImageFormat, ...] = (
    ImageFormat(
        name="JPEG",
        pillow_formats=("JPEG",),
        extensions=(".jpg", ".jpeg", ".jpe", ".jfif"),
        mime="image/jpeg",
        may_be_animated=False,
        multi_image=MultiImagePolicy.FIRST_ONLY,
        sniff=_is_jpeg,
    ),
    ImageFormat(
        name="MPO",
        pillow_formats=("MPO",),
        extensions=(".mpo",),
        mime="image/mpo",
        may_be_animated=False,
        multi_image=MultiImagePolicy.FIRST_ONLY,
        sniff=_is_jpeg,
        first_only_note="MPO: first picture only",
    ),
    ImageFormat(
        name="PNG",
        pillow_formats=("PNG",),
        extensions=(".png", ".apng"),
        mime="image/png",
        may_be_animated=True,
        multi_image=MultiImagePolicy.REFUSE,
        sniff=_is_png,
    ),
    ImageFormat(
        name="GIF",
        pillow_formats=("GIF",),
        extensions=(".gif",),
        mime="image/gif",
        may_be_animated=True,
        multi_image=MultiImagePolicy.REFUSE,
        sniff=_is_gif,
    ),
    ImageFormat(
        name="WEBP",
        pillow_formats=("WEBP",),
        extensions=(".webp",),
        mime="image/webp",
        may_be_animated=True,
        multi_image=MultiImagePolicy.REFUSE,
        sniff=_is_webp,
    ),
    ImageFormat(
        name="TIFF",
        pillow_formats=("TIFF",),
        extensions=(".tif", ".tiff"),
        mime="image/tiff",
        may_be_animated=False,
        multi_image=MultiImagePolicy.FIRST_ONLY,
        sniff=_is_tiff,
        first_only_note="TIFF: first page only",
    ),
    ImageFormat(
        name="HEIF",
        pillow_formats=("HEIF",),
        extensions=(".heic", ".heif", ".hif"),
        mime="image/heif",
        may_be_animated=False,
        multi_image=MultiImagePolicy.FIRST_ONLY,
        sniff=_is_heif,
        first_only_note="HEIF: primary image only",
    ),
    ImageFormat(
        name="AVIF",
        pillow_formats=("AVIF",),
        extensions=(".avif",),
        mime="image/avif",
        may_be_animated=True,
        multi_image=MultiImagePolicy.REFUSE,
        sniff=_is_avif,
    ),
)

_BY_NAME = {fmt.name: fmt for fmt in FORMATS}
_BY_PILLOW = {pf: fmt for fmt in FORMATS for pf in fmt.pillow_formats}


def format_named(name: str) -> ImageFormat | None:
    """The entry called ``name`` ("JPEG", "HEIF", ...), or None."""
    return _BY_NAME.get(name.upper())


def format_for_pillow(pillow_format: str | None) -> ImageFormat | None:
    """The entry for a Pillow ``Image.format`` value, or None if photoguard does not read it."""
    return _BY_PILLOW.get(pillow_format or "")


def sniff_format(head: bytes) -> ImageFormat | None:
    """Recognise a format from the first bytes (at least 64 are useful).

    Extensions and MIME types from uploads are never trusted; only the bytes are.
    JPEG and MPO share a signature; the JPEG entry is returned for both.
    """
    for fmt in FORMATS:
        if fmt.sniff(head):
            return fmt
    return None


# --- plugins ------------------------------------------------------------------------

_REGISTER_LOCK = threading.Lock()
_registered = False
_avif_opener: str | None = None


def ensure_openers_registered() -> None:
    """Register the HEIF (and, if Pillow lacks it, AVIF) openers exactly once.

    Pillow 11.2+ reads AVIF itself and leaves the orientation in EXIF for
    :func:`~photoguard_core.images.intake.open_image` to apply; pillow-heif reads
    HEIF and applies the container's rotation/mirror itself, resetting the EXIF
    orientation to 1 so it is never applied twice. pillow-heif 1.x no longer
    ships an AVIF opener; an older one that does is used only when Pillow has no
    AVIF support.
    """
    global _registered, _avif_opener
    if _registered:
        return
    with _REGISTER_LOCK:
        if _registered:
            return
        import pillow_heif

        pillow_heif.register_heif_opener()
        if features.check("avif"):
            _avif_opener = "Pillow"
        elif hasattr(pillow_heif, "register_avif_opener"):  # pillow-heif < 1.0
            pillow_heif.register_avif_opener()
            _avif_opener = "pillow-heif"
        Image.init()
        _registered = True


def avif_opener() -> str | None:
    """Which library opens AVIF here ("Pillow", "pillow-heif") or None if nothing does."""
    ensure_openers_registered()
    return _avif_opener


def allowed_pillow_formats() -> list[str]:
    """Pillow plugin names intake lets ``Image.open`` try, and no others."""
    ensure_openers_registered()
    return [pf for fmt in FORMATS for pf in fmt.pillow_formats if pf in Image.OPEN]
