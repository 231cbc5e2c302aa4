"""Typed errors. Each one names the file and the reason, so staff can act on it.

Every error a rendition can end in derives from :class:`PhotoguardError`; callers
that must fail closed catch that one class and publish nothing.
"""

from __future__ import annotations

from pathlib import Path


class PhotoguardError(Exception):
    """Base class: something went wrong and nothing unsafe was produced."""

    def __init__(self, source: str | Path | None, reason: str) -> None:
        self.source = str(source) if source is not None else "<bytes>"
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")


# --- intake -------------------------------------------------------------------------


class ImageError(PhotoguardError):
    """The file cannot be turned into trustworthy pixels."""


class UnsupportedFormatError(ImageError):
    """Not an image format photoguard reads (or not an image at all)."""


class DecodeError(ImageError):
    """The decoder failed: corrupt data, broken container, bad header."""


class TruncatedImageError(DecodeError):
    """The file ends before the image data does."""


class DecompressionBombError(ImageError):
    """The image declares more pixels than the configured limit allows."""


class AnimatedImageError(ImageError):
    """Animated images are refused: frames cannot be passed through unchecked."""


# --- faces --------------------------------------------------------------------------


class DetectionError(PhotoguardError):
    """A face detector could not run; without it no face can be cleared."""


# --- rendition ----------------------------------------------------------------------


class RenditionError(PhotoguardError):
    """The rendition failed one of its own checks and was not released.

    ``manifest`` carries what was done up to the failure, for the audit record.
    """

    def __init__(self, source: str | Path | None, reason: str, manifest: object = None) -> None:
        super().__init__(source, reason)
        self.manifest = manifest


class RedactionCheckError(RenditionError):
    """A face is still detectable inside a region that was meant to be redacted."""


class MetadataLeftError(RenditionError):
    """Re-reading the written bytes found metadata that must not leave."""


class PlanError(PhotoguardError):
    """The rendition plan asks for something impossible (unknown style, format...)."""
