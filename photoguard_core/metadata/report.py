"""What a file carries besides its pixels: the "before" of ``photoguard inspect``.

The same report fills the manifest's "metadata removed" section, so its
:meth:`MetadataReport.items` lines are written for school staff, not engineers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class MetadataReport:
    """Metadata found in one file. Absent things are ``None`` / empty / ``False`` / 0."""

    source: str
    format: str | None = None
    #: ``(latitude, longitude)`` in signed decimal degrees, when it can be computed.
    gps: tuple[float, float] | None = None
    #: GPS tags are present (even when no position can be computed from them).
    has_gps: bool = False
    make: str | None = None
    model: str | None = None
    #: Where each serial number was found -> the number ("BodySerialNumber" -> "0530...").
    serial_numbers: dict[str, str] = field(default_factory=dict)
    #: People's names in EXIF: Artist (the photographer), CameraOwnerName.
    owner_names: list[str] = field(default_factory=list)
    has_exif: bool = False
    has_maker_notes: bool = False
    maker_notes_bytes: int = 0
    datetime_original: str | None = None
    #: EXIF IFD0 orientation (1-8) as stored; ``xmp_orientation`` is XMP tiff:Orientation.
    orientation: int | None = None
    xmp_orientation: int | None = None
    has_xmp: bool = False
    xmp_person_names: list[str] = field(default_factory=list)
    has_iptc: bool = False
    #: Photoshop image resources besides the IPTC block (resolution, thumbnail, paths...).
    has_photoshop_irb: bool = False
    comments: list[str] = field(default_factory=list)
    png_text_keys: list[str] = field(default_factory=list)
    #: Embedded pictures besides the main one: EXIF IFD1 thumbnail, MPF pictures,
    #: Photoshop thumbnail, HEIF thumbnails and extra top-level images.
    thumbnails: int = 0
    has_mpf: bool = False
    has_icc_profile: bool = False
    #: Bytes after JPEG EOI / PNG IEND / the RIFF size (appended data, MPO pictures).
    trailing_bytes: int = 0
    #: Other metadata blocks found, by name ("APP3 META", "PNG chunk caNv", ...).
    other_blocks: list[str] = field(default_factory=list)
    #: Broken or hostile metadata noticed while reading; never raised.
    warnings: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when nothing but the pixels (and a colour profile) was found."""
        return not (
            self.has_gps
            or self.has_exif
            or self.has_xmp
            or self.has_iptc
            or self.has_photoshop_irb
            or self.comments
            or self.png_text_keys
            or self.thumbnails
            or self.trailing_bytes
            or self.other_blocks
        )

    def items(self) -> list[str]:
        """Human-readable lines, most sensitive first."""
        lines: list[str] = []
        if self.gps is not None:
            lines.append(f"GPS position {self.gps[0]:.5f}, {self.gps[1]:.5f}")
        elif self.has_gps:
            lines.append("GPS tags (no usable position)")
        if self.xmp_person_names:
            lines.append("names in XMP: " + ", ".join(self.xmp_person_names))
        if self.owner_names:
            lines.append("names in EXIF (artist / camera owner): " + ", ".join(self.owner_names))
        for where, number in self.serial_numbers.items():
            lines.append(f"camera serial number {number} ({where})")
        if self.make or self.model:
            camera = " ".join(p for p in (self.make, self.model) if p)
            lines.append(f"camera make and model: {camera}")
        if self.datetime_original:
            lines.append(f"date taken: {self.datetime_original}")
        if self.has_maker_notes:
            size = f" ({self.maker_notes_bytes:,} bytes)" if self.maker_notes_bytes else ""
            lines.append(f"maker notes{size}")
        if self.thumbnails:
            plural = "s" if self.thumbnails > 1 else ""
            lines.append(f"{self.thumbnails} embedded thumbnail{plural}/preview picture{plural}")
        for comment in self.comments:
            lines.append(f"comment: {comment}")
        if self.png_text_keys:
            lines.append("PNG text: " + ", ".join(self.png_text_keys))
        if self.has_exif:
            lines.append("EXIF block")
        if self.orientation not in (None, 1):
            lines.append(f"EXIF orientation {self.orientation}")
        if self.xmp_orientation not in (None, 1):
            lines.append(f"XMP orientation {self.xmp_orientation}")
        if self.has_xmp:
            lines.append("XMP packet")
        if self.has_iptc:
            lines.append("IPTC block")
        if self.has_photoshop_irb:
            lines.append("Photoshop image resources")
        if self.has_mpf:
            lines.append("MPF multi-picture index")
        if self.has_icc_profile:
            lines.append("ICC colour profile")
        if self.trailing_bytes:
            lines.append(f"{self.trailing_bytes:,} bytes after the end of the image")
        lines.extend(self.other_blocks)
        return lines

    def to_dict(self) -> dict[str, object]:
        """JSON-safe dictionary (tuples become lists)."""
        data = asdict(self)
        data["gps"] = list(self.gps) if self.gps is not None else None
        return data
