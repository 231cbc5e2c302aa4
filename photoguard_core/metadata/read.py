"""``read_metadata``: list everything a file carries besides its pixels.

JPEG, PNG and WebP are walked by our own container walker; TIFF by our own IFD
reader; GIF, HEIF and AVIF through their decoders' ``info`` (pillow-heif, Pillow),
which expose the metadata items without decoding pixels. Every payload is then
interpreted by the same EXIF / XMP / Photoshop readers.

Nothing here raises on bad metadata: the report is for people deciding what to
publish, and a broken block is itself worth reporting (as a warning).
"""

from __future__ import annotations

import binascii
import io
import re

from photoguard_core.images.formats import sniff_format
from photoguard_core.metadata import containers
from photoguard_core.metadata.containers import Walk, inflate_bounded, photoshop_resources
from photoguard_core.metadata.exif import ExifFacts, interpret, read_exif_block
from photoguard_core.metadata.report import MetadataReport
from photoguard_core.metadata.tiff import read_tiff
from photoguard_core.metadata.xmp import MAX_XMP_BYTES, XmpFacts, finish, read_xmp

MAX_COMMENTS = 100
MAX_COMMENT_CHARS = 500

IRB_IPTC = 0x0404
IRB_THUMBNAILS = (0x0409, 0x040C)
IRB_EXIF = (0x0422, 0x0423)
IRB_XMP = 0x0424
IRB_ICC = 0x040F

#: PNG chunks that only describe how to show the pixels (not metadata).
_PNG_RENDERING_CHUNKS = frozenset(
    {"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "sRGB", "gAMA", "cHRM", "pHYs", "sBIT", "bKGD"}
    | {"hIST", "sPLT", "cICP", "mDCv", "cLLi", "acTL", "fcTL", "fdAT"}
)
_PNG_METADATA_CHUNKS = frozenset({"tEXt", "zTXt", "iTXt", "eXIf", "iCCP"})
_WEBP_IMAGE_CHUNKS = frozenset({"VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF"})


def read_metadata(data: bytes, *, name: str = "<bytes>") -> MetadataReport:
    """Report what ``data`` carries. Never raises on hostile or broken metadata."""
    report = MetadataReport(source=name)
    collector = _Collector(report)
    fmt = sniff_format(bytes(data[:256]))
    report.format = fmt.name if fmt else None
    readers = {
        "JPEG": _read_jpeg,
        "PNG": _read_png,
        "WEBP": _read_webp,
        "TIFF": _read_tiff_file,
        "GIF": _read_gif,
        "HEIF": _read_heif,
        "AVIF": _read_avif,
    }
    reader = readers.get(fmt.name) if fmt else None
    if reader is None:
        report.warnings.append("not an image format photoguard reads; no metadata read")
        return report
    try:
        reader(bytes(data), collector)
        _read_samsung_trailer(bytes(data), collector)
    except Exception as exc:  # noqa: BLE001 - the inspector must survive any file
        report.warnings.append(f"metadata reading stopped early: {type(exc).__name__}: {exc}")
    collector.finish()
    return report


class _Collector:
    """Gathers payloads from any container and merges them into the report."""

    def __init__(self, report: MetadataReport) -> None:
        self.report = report
        self.exif: list[ExifFacts] = []
        self.xmp = XmpFacts()
        self.extended_xmp: dict[str, dict[int, bytes]] = {}
        self.owner_names: list[str] = []

    # payloads ------------------------------------------------------------------------

    def add_exif(self, block: bytes, where: str) -> None:
        if not block:
            return
        self.exif.append(read_exif_block(block, where=where))

    def add_exif_facts(self, facts: ExifFacts) -> None:
        self.exif.append(facts)

    def add_xmp(self, packet: bytes) -> None:
        if not packet.strip(b"\x00 \t\r\n"):
            return
        self.report.has_xmp = True
        read_xmp(packet, self.xmp)

    def add_extended_xmp(self, payload: bytes) -> None:
        """JPEG extended XMP: GUID, full length, offset, then a slice of the packet."""
        if len(payload) < 40:
            self.report.warnings.append("extended XMP segment too short")
            return
        guid = payload[:32].decode("latin-1")
        offset = int.from_bytes(payload[36:40], "big")
        parts = self.extended_xmp.setdefault(guid, {})
        if offset < MAX_XMP_BYTES and len(parts) < 1000:
            parts[offset] = payload[40:]
        self.report.has_xmp = True

    def add_irb(self, payload: bytes, where: str) -> None:
        for resource_id, data in photoshop_resources(payload):
            if resource_id == IRB_IPTC:
                self.add_iptc(data)
            elif resource_id in IRB_THUMBNAILS:
                self.report.thumbnails += 1
                self.report.has_photoshop_irb = True
            elif resource_id in IRB_EXIF:
                self.add_exif(data, f"{where} EXIF resource")
                self.report.has_photoshop_irb = True
            elif resource_id == IRB_XMP:
                self.add_xmp(data)
                self.report.has_photoshop_irb = True
            else:
                if resource_id == IRB_ICC:
                    self.report.has_icc_profile = True
                self.report.has_photoshop_irb = True

    def add_iptc(self, data: bytes) -> None:
        """IPTC-IIM datasets start with 0x1C; anything else is not IPTC."""
        if data[:1] == b"\x1c":
            self.report.has_iptc = True
        elif data.strip(b"\x00"):
            self.report.warnings.append("IPTC block does not start with an IIM dataset")

    def add_comment(self, raw: bytes | str) -> None:
        text = raw if isinstance(raw, str) else _decode_text(raw)
        text = text.replace("\x00", "").strip()
        if text and len(self.report.comments) < MAX_COMMENTS:
            self.report.comments.append(text[:MAX_COMMENT_CHARS])

    def warn(self, message: str) -> None:
        if message not in self.report.warnings and len(self.report.warnings) < 200:
            self.report.warnings.append(message)

    def add_walk_problems(self, walk: Walk) -> None:
        for problem in walk.problems:
            self.warn(f"{walk.container} structure: {problem}")
        self.report.trailing_bytes = walk.trailing

    # merge ---------------------------------------------------------------------------

    def finish(self) -> None:
        report = self.report
        self._assemble_extended_xmp()
        finish(self.xmp)
        for facts in self.exif:
            for warning in facts.warnings:
                self.warn(warning)
            report.has_exif = report.has_exif or facts.has_exif
            report.has_gps = report.has_gps or facts.has_gps
            report.gps = report.gps or facts.gps
            report.make = report.make or facts.make
            report.model = report.model or facts.model
            if report.orientation is None:
                report.orientation = facts.orientation
            report.datetime_original = report.datetime_original or facts.datetime_original
            for label, number in facts.serial_numbers.items():
                report.serial_numbers.setdefault(label, number)
            for owner in facts.owner_names:
                if owner not in report.owner_names:
                    report.owner_names.append(owner)
            report.maker_notes_bytes = max(report.maker_notes_bytes, facts.maker_notes_bytes)
            report.has_maker_notes = report.has_maker_notes or bool(facts.maker_notes)
            report.thumbnails += facts.thumbnails
        xmp = self.xmp
        report.has_gps = report.has_gps or xmp.has_gps
        report.gps = report.gps or xmp.gps
        report.make = report.make or xmp.make
        report.model = report.model or xmp.model
        report.xmp_orientation = xmp.orientation
        report.datetime_original = report.datetime_original or xmp.datetime_original
        for label, number in xmp.serial_numbers.items():
            report.serial_numbers.setdefault(label, number)
        report.xmp_person_names = list(xmp.person_names)
        for warning in xmp.warnings:
            self.warn(warning)

    def _assemble_extended_xmp(self) -> None:
        for guid, parts in self.extended_xmp.items():
            packet = b"".join(parts[offset] for offset in sorted(parts))
            if len(packet) > MAX_XMP_BYTES:
                self.warn(f"extended XMP {guid[:8]}... too large to read")
                continue
            read_xmp(packet, self.xmp)


def _read_samsung_trailer(data: bytes, out: _Collector) -> None:
    """Samsung phones append an "SEF" trailer (capture time, country code, ...)."""
    if data.endswith(b"SEFT") and len(data) >= 8:
        out.report.has_maker_notes = True
        length = int.from_bytes(data[-8:-4], "little")
        out.report.other_blocks.append(f"Samsung SEF trailer ({length:,} bytes)")


# --- JPEG ---------------------------------------------------------------------------


def _read_jpeg(data: bytes, out: _Collector) -> None:
    walk = containers.walk_jpeg(data)
    out.add_walk_problems(walk)
    report = out.report
    for part in walk.parts:
        ident = part.identifier
        if ident == "Exif":
            out.add_exif(part.payload, "EXIF")
        elif ident == "XMP":
            out.add_xmp(part.payload[29:])
        elif ident == "ExtendedXMP":
            out.add_extended_xmp(part.payload[35:])
        elif ident == "ICC_PROFILE":
            report.has_icc_profile = True
        elif ident == "MPF":
            _read_mpf(part.payload[4:], out)
        elif ident == "Photoshop":
            out.add_irb(part.payload[14:], "Photoshop")
        elif ident == "JFIF":
            if len(part.payload) >= 14 and part.payload[12] and part.payload[13]:
                report.thumbnails += 1
        elif ident == "JFXX":
            report.thumbnails += 1
        elif part.kind == "COM":
            out.add_comment(part.payload)
        elif part.kind.startswith("APP") and ident != "Adobe":
            label = f"{part.kind} {ident}".strip()
            if label not in report.other_blocks:
                report.other_blocks.append(label)


def _read_mpf(payload: bytes, out: _Collector) -> None:
    """MPF index: a TIFF structure whose tag 0xB001 counts the pictures in the file."""
    out.report.has_mpf = True
    meta = read_tiff(payload)
    count = meta.ifd0.tags.get(0xB001) if meta.ifd0 else None
    if isinstance(count, tuple) and count and isinstance(count[0], int):
        pictures = min(count[0], 1000)
        out.report.thumbnails += max(0, pictures - 1)
        if pictures > 1:
            out.report.format = "MPO"
    else:
        out.warn("MPF index without a picture count")


# --- PNG ----------------------------------------------------------------------------


def _read_png(data: bytes, out: _Collector) -> None:
    walk = containers.walk_png(data)
    out.add_walk_problems(walk)
    report = out.report
    seen_idat = False
    for part in walk.parts:
        kind = part.kind
        if kind == "IDAT":
            seen_idat = True
        elif kind in ("tEXt", "zTXt", "iTXt"):
            _read_png_text(kind, part.payload, out)
        elif kind == "eXIf":
            out.add_exif(part.payload, "PNG eXIf")
        elif kind == "iCCP":
            report.has_icc_profile = True
        elif kind not in _PNG_RENDERING_CHUNKS:
            label = f"PNG chunk {kind}"
            if label not in report.other_blocks:
                report.other_blocks.append(label)
        if seen_idat and kind in _PNG_METADATA_CHUNKS:
            out.warn(f"PNG {kind} chunk after the image data (IDAT)")


def _read_png_text(kind: str, payload: bytes, out: _Collector) -> None:
    key_bytes, _, rest = payload.partition(b"\x00")
    key = key_bytes.decode("latin-1")[:80]
    try:
        text = _png_text_value(kind, rest)
    except ValueError as exc:
        out.warn(f"PNG {kind} {key!r}: {exc}")
        text = b""
    if key not in out.report.png_text_keys and len(out.report.png_text_keys) < 200:
        out.report.png_text_keys.append(key)
    _interpret_png_text(key, text, out)


def _png_text_value(kind: str, rest: bytes) -> bytes:
    if kind == "tEXt":
        return rest
    if kind == "zTXt":
        return inflate_bounded(rest[1:])
    # iTXt: compression flag, method, language\0, translated keyword\0, text
    if len(rest) < 2:
        raise ValueError("iTXt chunk too short")
    compressed = rest[0] == 1
    _, _, after_lang = rest[2:].partition(b"\x00")
    _, _, text = after_lang.partition(b"\x00")
    return inflate_bounded(text) if compressed else text


def _interpret_png_text(key: str, text: bytes, out: _Collector) -> None:
    lowered = key.lower()
    if key == "XML:com.adobe.xmp":
        out.add_xmp(text)
    elif lowered.startswith("raw profile type "):
        profile = lowered[len("raw profile type ") :]
        payload = _imagemagick_raw_profile(text, key, out)
        if payload is None:
            return
        if profile in ("exif", "app1"):
            if payload.startswith(b"http://ns.adobe.com/xap/1.0/"):
                out.add_xmp(payload[29:])
            else:
                out.add_exif(payload, f"PNG {key}")
        elif profile == "xmp":
            out.add_xmp(payload)
        elif profile in ("iptc", "8bim"):
            if b"8BIM" in payload[:16]:
                out.add_irb(payload[payload.find(b"8BIM") :], f"PNG {key}")
            else:
                out.add_iptc(payload)
        elif profile in ("icc", "icm"):
            out.report.has_icc_profile = True


def _imagemagick_raw_profile(text: bytes, key: str, out: _Collector) -> bytes | None:
    """ImageMagick's ``\\n<type>\\n   <length>\\n<hex...>`` text encoding of a profile."""
    match = re.match(rb"\s*\w[^\n]*\n\s*(\d+)\s*\n", text)
    if not match:
        out.warn(f"PNG {key}: not an ImageMagick raw profile")
        return None
    length = int(match.group(1))
    hex_digits = re.sub(rb"\s+", b"", text[match.end() : match.end() + 2 * length + length])
    try:
        return binascii.unhexlify(hex_digits[: 2 * length])
    except (binascii.Error, ValueError):
        out.warn(f"PNG {key}: raw profile is not valid hex")
        return None


# --- WebP ---------------------------------------------------------------------------


def _read_webp(data: bytes, out: _Collector) -> None:
    walk = containers.walk_riff(data)
    out.add_walk_problems(walk)
    report = out.report
    for part in walk.parts:
        if part.kind == "EXIF":
            out.add_exif(part.payload, "WebP EXIF")
        elif part.kind == "XMP ":
            out.add_xmp(part.payload)
        elif part.kind.lower().startswith("xmp"):
            out.warn(
                f"WebP XMP chunk misnamed {part.kind!r}: most readers skip it, it is still there"
            )
            out.add_xmp(part.payload)
        elif part.kind == "ICCP":
            report.has_icc_profile = True
        elif part.kind == "ANMF":
            continue
        elif part.kind not in _WEBP_IMAGE_CHUNKS:
            report.other_blocks.append(f"WebP chunk {part.kind.strip()!r}")


# --- TIFF ---------------------------------------------------------------------------

TIFF_XMP, TIFF_IPTC, TIFF_PHOTOSHOP, TIFF_ICC = 700, 33723, 34377, 34675
TIFF_NEW_SUBFILE_TYPE = 0x00FE


def _read_tiff_file(data: bytes, out: _Collector) -> None:
    """A TIFF file is its own EXIF structure; metadata hangs off IFD0."""
    if data[:4] in (b"II+\x00", b"MM\x00+"):
        out.warn("BigTIFF metadata is not read")
        return
    meta = read_tiff(data)
    ifd1, meta.ifd1 = meta.ifd1, None  # IFD1 of a TIFF file is a page, not EXIF's thumbnail
    facts = ExifFacts()
    interpret(meta, data, facts, where="TIFF")
    out.add_exif_facts(facts)
    if meta.ifd0 is None:
        return
    raw = {
        tag: data[offset : offset + length] for tag, (offset, length) in meta.ifd0.locations.items()
    }
    if TIFF_XMP in raw:
        out.add_xmp(raw[TIFF_XMP])
    if TIFF_IPTC in raw:
        out.add_iptc(raw[TIFF_IPTC])
    if TIFF_PHOTOSHOP in raw:
        out.add_irb(raw[TIFF_PHOTOSHOP], "TIFF Photoshop")
    if TIFF_ICC in raw:
        out.report.has_icc_profile = True
    if ifd1 is not None:
        subfile = ifd1.tags.get(TIFF_NEW_SUBFILE_TYPE)
        if (
            isinstance(subfile, tuple)
            and subfile
            and isinstance(subfile[0], int)
            and subfile[0] & 1
        ):
            out.report.thumbnails += 1
        else:
            out.report.other_blocks.append("more TIFF pages")


# --- GIF, HEIF, AVIF: through the decoders' info ------------------------------------


def _read_gif(data: bytes, out: _Collector) -> None:
    walk = containers.walk_gif(data)
    out.add_walk_problems(walk)
    for part in walk.parts:
        if part.kind == "COMMENT":
            out.add_comment(part.payload)
        elif part.identifier == "XMP DataXMP":
            out.add_xmp(_gif_xmp_packet(part.payload))
        elif part.identifier.startswith("ICCRGBG1"):
            out.report.has_icc_profile = True
        elif part.identifier.startswith("MGK8BIM"):
            out.add_irb(_joined_sub_blocks(part.payload), "GIF Photoshop")
        elif part.identifier.startswith("MGKIPTC"):
            out.add_iptc(_joined_sub_blocks(part.payload))
        elif part.kind.startswith("APP") and not part.identifier.startswith(
            ("NETSCAPE", "ANIMEXTS")
        ):
            out.report.other_blocks.append(f"GIF application block {part.identifier!r}")
        elif part.kind == "TEXT":
            out.report.other_blocks.append("GIF plain-text block")


def _gif_xmp_packet(raw: bytes) -> bytes:
    """The XMP packet stored raw in a GIF application block, without the magic trailer."""
    end = raw.rfind(b"<?xpacket end=")
    if end >= 0:
        close = raw.find(b"?>", end)
        return raw[: close + 2] if close >= 0 else raw[:end]
    end = raw.rfind(b"</x:xmpmeta>")
    return raw[: end + len(b"</x:xmpmeta>")] if end >= 0 else raw


def _joined_sub_blocks(raw: bytes) -> bytes:
    chunks = []
    pos = 0
    while pos < len(raw) and raw[pos]:
        chunks.append(raw[pos + 1 : pos + 1 + raw[pos]])
        pos += 1 + raw[pos]
    return b"".join(chunks)


def _read_heif(data: bytes, out: _Collector) -> None:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    except (OSError, ValueError, RuntimeError, SyntaxError, EOFError) as exc:
        out.warn(f"HEIF container could not be read: {exc}")
        return
    info = dict(heif.info)
    _read_decoder_info(info, out, "HEIF")
    original = info.get("original_orientation")
    if isinstance(original, int):
        # pillow-heif resets the EXIF tag to 1 once it applies the container's
        # rotation; report what the file said.
        out.report.orientation = original
    out.report.thumbnails += len(info.get("thumbnails") or [])
    if len(heif) > 1:
        out.report.thumbnails += len(heif) - 1
    if info.get("depth_images"):
        out.report.other_blocks.append("HEIF depth map")
    for block in info.get("metadata") or []:
        kind = str(block.get("type", "")).lower() if isinstance(block, dict) else ""
        if kind == "iptc":
            out.add_iptc(block.get("data") or b"")
        elif kind:
            out.report.other_blocks.append(f"HEIF metadata item {kind}")


def _read_avif(data: bytes, out: _Collector) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=["AVIF"]) as image:
            info = dict(image.info)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        out.warn(f"AVIF container could not be read here: {exc}")
        return
    _read_decoder_info(info, out, "AVIF")


def _read_decoder_info(info: dict[str, object], out: _Collector, where: str) -> None:
    exif = info.get("exif")
    if isinstance(exif, bytes):
        out.add_exif(exif, f"{where} EXIF")
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    if isinstance(xmp, bytes):
        out.add_xmp(xmp)
    if info.get("icc_profile"):
        out.report.has_icc_profile = True


def _decode_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
