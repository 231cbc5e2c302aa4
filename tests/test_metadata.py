"""Metadata: the report matches ExifTool's reading, and nothing survives encoding.

``tests/fixtures/exif/exif_metadata.json`` is ExifTool 12.57's view of each sample.
The written renditions are checked three ways: our allowlist (``verify_clean``),
our own reader (nothing found) and ExifTool run on the written file.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from photoguard_core.errors import ImageError, MetadataLeftError, PlanError
from photoguard_core.images import open_image
from photoguard_core.metadata import MetadataReport, read_metadata, verify_clean
from photoguard_core.render.encode import FORMATS, encode_image

EXIF_DIR = Path(__file__).parent / "fixtures" / "exif"
FILES = EXIF_DIR
GROUND_TRUTH: dict[str, dict] = json.loads((EXIF_DIR / "exif_metadata.json").read_text())
SAMPLES = sorted(GROUND_TRUTH)
DECODABLE = [name for name in SAMPLES if GROUND_TRUTH[name]["pillow_decodes"]]
EXIFTOOL = shutil.which("exiftool")
NEEDS_EXIFTOOL = pytest.mark.skipif(
    EXIFTOOL is None,
    reason="exiftool is not installed: run `make test-tools` (Debian libimage-exiftool-perl)",
)

#: Where our report knowingly differs from ExifTool's reading, and why. In every
#: case we report *presence* of a block that ExifTool could not or did not read.
KNOWN_DIFFERENCES: dict[tuple[str, str], tuple[object, str]] = {
    ("mei__heic__IMG_1034.heic", "any_thumbnail"): (True, "HEIF thmb item"),
    ("mei__heic__Issue_487.heic", "any_thumbnail"): (True, "HEIF thmb item"),
    ("mei__heic__cheers_1440x960.heic", "any_thumbnail"): (True, "HEIF thmb item"),
    ("mei__jpg__Kodak_ProBack.jpg", "any_thumbnail"): (True, "uncompressed IFD1 thumbnail"),
    ("mei__jpg__Samsung_GT-I9000_Galaxy_S_.jpg", "has_maker_notes"): (True, "unrecognised"),
    ("mei__png__sampleWithExifData.png", "has_maker_notes"): (True, "plain-text MakerNote tag"),
    ("mei__png__invalid-iCCP-missing-adler32-checksum.png", "has_icc_profile"): (
        True,
        "iCCP chunk present, ExifTool cannot inflate it",
    ),
    ("pillow__Tests__images__icc-after-SOF.jpg", "has_icc_profile"): (True, "bad ICC length"),
    ("mei__webp__Issue_473_Java_.webp", "has_xmp"): (True, "XMP in a chunk named 'XMP\\0'"),
    ("pillow__Tests__images__xmp_padded.jpg", "has_xmp"): (True, "empty XMP packet present"),
    ("pillow__Tests__images__hopper_bad_exif.jpg", "has_exif"): (True, "ExifTool gives up"),
    ("pillow__Tests__images__hopper_bad_exif.jpg", "orientation"): (1, "entry in range"),
}


def _report(name: str) -> MetadataReport:
    return read_metadata((FILES / name).read_bytes(), name=name)


def _expect(name: str, field: str, truth: object) -> object:
    known = KNOWN_DIFFERENCES.get((name, field))
    return known[0] if known else truth


# --- the report against ExifTool ----------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_report_matches_exiftool(name: str) -> None:
    truth = GROUND_TRUTH[name]
    report = _report(name)

    assert report.source == name
    assert report.has_gps is truth["has_gps"]
    assert report.has_exif is _expect(name, "has_exif", truth["has_exif"])
    assert report.has_xmp is _expect(name, "has_xmp", truth["has_xmp"])
    assert report.has_iptc is truth["has_iptc"]
    assert report.has_photoshop_irb is truth["has_photoshop_irb"]
    assert report.has_icc_profile is _expect(name, "has_icc_profile", truth["has_icc_profile"])
    assert report.has_maker_notes is _expect(name, "has_maker_notes", truth["has_makernotes"])
    assert report.has_mpf is truth["has_mpf"]
    assert report.make == truth["make"]
    assert report.model == truth["model"]
    assert report.orientation == _expect(name, "orientation", truth["exif_orientation"])
    assert report.xmp_orientation == truth["xmp_orientation"]
    any_thumbnail = truth["has_any_preview_or_thumbnail"]
    assert (report.thumbnails > 0) is _expect(name, "any_thumbnail", any_thumbnail)
    if truth["has_exif_thumbnail"]:
        assert report.thumbnails >= 1
    lat, lon = truth["gps_latitude"], truth["gps_longitude"]
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        assert report.gps == pytest.approx((lat, lon), abs=1e-5)
    elif not truth["has_gps"]:
        assert report.gps is None
    json.dumps(report.to_dict())  # JSON-safe


def test_known_differences_are_still_real() -> None:
    """Each documented difference is a real file and field; a fix would show up here."""
    for name, _field in KNOWN_DIFFERENCES:
        assert name in GROUND_TRUTH


def test_gps_positions_and_their_edge_cases() -> None:
    assert _report("mei__jpg__HTC_Desire.jpg").items()[0] == "GPS position 45.50067, 9.11033"
    # ExifTool finds no usable EXIF position here; the XMP packet has one.
    assert _report("mei__jpg__Nikon_D5000.jpg").gps == pytest.approx((48.888726, 21.043251), 1e-5)
    # GPS tags with empty values (Samsung HEIC) and an impossible latitude (Pillow test file).
    for name in ("mei__heic__Issue_487.heic", "pillow__Tests__images__exif_gps.jpg"):
        report = _report(name)
        assert report.has_gps and report.gps is None
        assert "GPS tags (no usable position)" in report.items()
    assert _report("mei__jpg__Samsung_GT-I9000_Galaxy_S_.jpg").gps == (0.0, 0.0)
    assert not _report("pillow__Tests__images__empty_gps_ifd.jpg").has_gps


def test_serial_numbers_from_exif_maker_notes_and_xmp() -> None:
    assert _report("mei__avif__Issue_649.avif").serial_numbers == {
        "BodySerialNumber": "053022005903",
        "LensSerialNumber": "0000214e1c",
        "Canon InternalSerialNumber": "FA0381304",
    }
    assert _report("mei__jpg__Issue_122.jpg").serial_numbers == {"Canon SerialNumber": "5266"}
    nikon = _report("mei__jpg__Nikon_D5000.jpg")
    assert nikon.serial_numbers == {"XMP aux:SerialNumber": "6607572"}
    assert "camera serial number 6607572 (XMP aux:SerialNumber)" in nikon.items()


def test_comments_text_chunks_names_and_trailers() -> None:
    assert _report("mei__gif__Issue_201.gif").comments == ["this is a comment"]
    assert _report("mei__jpg__Canon_PowerShot_S330.jpg").comments == ["AppleMark"]
    png = _report("mei__png__Issue_204_dotnet_.png")
    assert "Raw profile type xmp" in png.png_text_keys
    assert "PNG tEXt chunk after the image data (IDAT)" in png.warnings
    assert _report("mei__jpg__Canon_EOS_7D.jpg").owner_names == ["Peter Bemmann"]
    mpo = _report("pillow__Tests__images__frozenpond.mpo")
    assert mpo.format == "MPO" and mpo.thumbnails == 2 and mpo.trailing_bytes == 83_758
    samsung = _report("mei__heic__Issue_487.heic")
    assert "Samsung SEF trailer (36 bytes)" in samsung.other_blocks


def test_datetime_and_items_are_readable() -> None:
    report = _report("mei__jpg__Apple_iPhone_4.jpg")
    assert report.datetime_original == "2011:01:13 14:33:39"
    assert report.items() == [
        "GPS position 41.85300, 12.48883",
        "camera make and model: Apple iPhone 4",
        "date taken: 2011:01:13 14:33:39",
        "EXIF block",
        "ICC colour profile",
    ]


# --- synthetic files ----------------------------------------------------------------


def _clean_jpeg() -> bytes:
    return encode_image(Image.new("RGB", (16, 16), (90, 120, 150)), "jpeg")


def _with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more segment right after SOI."""
    segment = bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def _with_xmp(jpeg: bytes, packet: str) -> bytes:
    return _with_segment(jpeg, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode())


PEOPLE_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:MP="http://ns.microsoft.com/photo/1.2/"
    xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
    xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:RegionList>
     <rdf:Bag>
      <rdf:li><rdf:Description mwg-rs:Name="Jane Smith" mwg-rs:Type="Face"/></rdf:li>
      <rdf:li rdf:parseType="Resource">
       <mwg-rs:Name>Tom Jones</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>
      </rdf:li>
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
   <MP:RegionInfo rdf:parseType="Resource">
    <MPRI:Regions>
     <rdf:Bag>
      <rdf:li MPReg:PersonDisplayName="Amy Brown" MPReg:Rectangle="0.1, 0.1, 0.2, 0.2"/>
     </rdf:Bag>
    </MPRI:Regions>
   </MP:RegionInfo>
   <Iptc4xmpExt:PersonInImage>
    <rdf:Bag><rdf:li>Bob Green</rdf:li></rdf:Bag>
   </Iptc4xmpExt:PersonInImage>
   <lr:hierarchicalSubject>
    <rdf:Bag><rdf:li>People|Carla White</rdf:li><rdf:li>Places|Leeds</rdf:li></rdf:Bag>
   </lr:hierarchicalSubject>
   <digiKam:TagsList>
    <rdf:Seq>
     <rdf:li>People/Year 3/Dan Black</rdf:li><rdf:li>People/Unknown</rdf:li>
     <rdf:li>Events/Sports day</rdf:li>
    </rdf:Seq>
   </digiKam:TagsList>
   <exif:GPSLatitude>53,48.5N</exif:GPSLatitude>
   <exif:GPSLongitude>1,32.75W</exif:GPSLongitude>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

PEOPLE = ["Jane Smith", "Tom Jones", "Amy Brown", "Bob Green", "Carla White", "Dan Black"]


def test_person_names_written_by_photo_managers_are_found(tmp_path: Path) -> None:
    data = _with_xmp(_clean_jpeg(), PEOPLE_XMP)
    report = read_metadata(data, name="class.jpg")
    assert report.xmp_person_names == PEOPLE
    assert report.gps == pytest.approx((53.808333, -1.545833), abs=1e-5)
    assert "names in XMP: " + ", ".join(PEOPLE) in report.items()
    if EXIFTOOL:  # ExifTool reads the same names from the same packet
        path = tmp_path / "class.jpg"
        path.write_bytes(data)
        seen = subprocess.run(
            [EXIFTOOL, "-j", "-a", "-G1", str(path)], capture_output=True, text=True, check=True
        ).stdout
        assert all(person in seen for person in PEOPLE)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/">&secret;</x:xmpmeta>"""


@pytest.mark.parametrize("packet", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_hostile_xmp_is_refused_quickly_and_reported(packet: str) -> None:
    started = time.monotonic()
    report = read_metadata(_with_xmp(_clean_jpeg(), packet), name="hostile.jpg")
    assert time.monotonic() - started < 2
    assert report.has_xmp
    assert report.xmp_person_names == []
    assert any(w.startswith("XMP refused") for w in report.warnings)
    assert "root:" not in json.dumps(report.to_dict())


def _tiff_ifd_loop() -> bytes:
    """EXIF whose IFD0 links to itself and claims values far past the end."""
    entries = [
        (0x010F, 2, 0xFFFFFFFF, 0x10),  # Make: 4 GB of ASCII
        (0x8825, 4, 1, 8),  # GPS IFD pointer back to IFD0
        (0x8769, 4, 1, 8),  # Exif IFD pointer back to IFD0
    ]
    body = len(entries).to_bytes(2, "little")
    for tag, kind, count, value in entries:
        body += b"".join(
            (
                tag.to_bytes(2, "little"),
                kind.to_bytes(2, "little"),
                count.to_bytes(4, "little"),
                value.to_bytes(4, "little"),
            )
        )
    return b"II*\x00\x08\x00\x00\x00" + body + (8).to_bytes(4, "little")  # next IFD: itself


def test_hostile_exif_is_reported_not_raised() -> None:
    data = _with_segment(_clean_jpeg(), 0xE1, b"Exif\x00\x00" + _tiff_ifd_loop())
    report = read_metadata(data, name="loop.jpg")
    assert report.has_exif
    assert report.make is None
    assert any("loop" in w for w in report.warnings)
    assert any("outside the data" in w for w in report.warnings)


def test_compressed_text_bomb_is_not_inflated() -> None:
    bomb = zlib.compress(bytes(64 * 2**20), 9)  # 64 MiB of zeros in ~64 kB
    payload = b"Comment\x00\x00" + bomb
    chunk = len(payload).to_bytes(4, "big") + b"zTXt" + payload
    chunk += zlib.crc32(b"zTXt" + payload).to_bytes(4, "big")
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    data = png.getvalue()
    data = data[:33] + chunk + data[33:]  # after IHDR
    report = read_metadata(data, name="bomb.png")
    assert report.png_text_keys == ["Comment"]
    assert any("decompresses to more than" in w for w in report.warnings)


FUZZ_SAMPLES = [
    "mei__jpg__Canon_EOS_7D.jpg",
    "mei__png__Issue_280_dotnet_.png",
    "mei__webp__Issue_473_Java_.webp",
    "mei__tif__Issue_16.tif",
    "mei__gif__Issue_201.gif",
    "pillow__Tests__images__avif__xmp_tags_orientation.avif",
]


@pytest.mark.parametrize("name", FUZZ_SAMPLES)
def test_damaged_files_never_crash_the_readers(name: str) -> None:
    original = (FILES / name).read_bytes()
    rng = random.Random(name)
    variants = [original[: len(original) * k // 8] for k in range(1, 8)]
    for _ in range(12):
        damaged = bytearray(original[:200_000])
        for _ in range(8):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        variants.append(bytes(damaged))
    for data in variants:
        report = read_metadata(data, name=name)
        assert isinstance(report.items(), list)
        try:
            open_image(data, name=name)
        except ImageError as refused:
            assert name in str(refused)


# --- verify_clean -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_encoded_output_passes_verify_clean(fmt: str) -> None:
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    image.info.update(exif=b"Exif\x00\x00II*\x00", comment=b"secret", icc_profile=b"junk")
    data = encode_image(image, fmt)
    verify_clean(data, fmt, name="out")
    report = read_metadata(data, name="out")
    assert report.items() == [] and report.is_empty
    with Image.open(io.BytesIO(data)) as written:
        assert written.size == (40, 30)
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(written.info)


def test_encode_rejects_unknown_format_and_bad_quality() -> None:
    image = Image.new("RGB", (4, 4))
    with pytest.raises(PlanError, match="unknown output format 'gif'"):
        encode_image(image, "gif")
    with pytest.raises(PlanError, match="quality 0"):
        encode_image(image, "jpeg", quality=0)
    assert FORMATS["jpeg"] == (".jpg", "image/jpeg")


def test_encode_flattens_alpha_and_progressive_jpeg_is_clean() -> None:
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    data = encode_image(rgba, "png")
    with Image.open(io.BytesIO(data)) as written:
        assert written.mode == "RGB" and written.getpixel((0, 0)) == (255, 255, 255)
    progressive = encode_image(Image.new("RGB", (64, 64), (1, 2, 3)), "jpeg", progressive=True)
    verify_clean(progressive, "jpeg", name="p.jpg")


def test_verify_clean_catches_exif_in_jpeg() -> None:
    data = _with_segment(_clean_jpeg(), 0xE1, b"Exif\x00\x00" + _tiff_ifd_loop())
    with pytest.raises(MetadataLeftError, match=r"out\.jpg: .*APP1 Exif"):
        verify_clean(data, "jpeg", name="out.jpg")


def test_verify_clean_catches_jpeg_comment_and_trailing_bytes() -> None:
    with pytest.raises(MetadataLeftError, match="COM"):
        verify_clean(_with_segment(_clean_jpeg(), 0xFE, b"Jane"), "jpeg", name="c.jpg")
    with pytest.raises(MetadataLeftError, match="6 bytes after the end"):
        verify_clean(_clean_jpeg() + b"SECRET", "jpeg", name="t.jpg")
    jfif_with_thumbnail = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + bytes(3)
    without_app0 = _clean_jpeg()[:2] + _clean_jpeg()[20:]
    with pytest.raises(MetadataLeftError, match="thumbnail"):
        verify_clean(_with_segment(without_app0, 0xE0, jfif_with_thumbnail), "jpeg", name="j")


def _png_with_chunk_after_idat(kind: bytes, payload: bytes) -> bytes:
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    data = png.getvalue()
    chunk = len(payload).to_bytes(4, "big") + kind + payload
    chunk += zlib.crc32(kind + payload).to_bytes(4, "big")
    return data[:-12] + chunk + data[-12:]  # just before IEND


def test_verify_clean_catches_png_text_after_idat_and_trailing_data() -> None:
    data = _png_with_chunk_after_idat(b"tEXt", b"Author\x00Jane Smith")
    assert read_metadata(data).png_text_keys == ["Author"]
    with pytest.raises(MetadataLeftError, match=r"late\.png: .*PNG chunk tEXt"):
        verify_clean(data, "png", name="late.png")
    clean = encode_image(Image.new("RGB", (4, 4)), "png")
    with pytest.raises(MetadataLeftError, match="after the end of the PNG"):
        verify_clean(clean + b"x", "png", name="t.png")


def _webp_with_exif() -> bytes:
    """A WebP that carries an EXIF chunk (written by Pillow on purpose)."""
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SchoolCam"
    Image.new("RGB", (8, 8)).save(out, "WEBP", exif=exif.tobytes())
    return out.getvalue()


def test_verify_clean_catches_webp_exif() -> None:
    data = _webp_with_exif()
    assert read_metadata(data).make == "SchoolCam"
    with pytest.raises(MetadataLeftError, match=r"w\.webp: .*(EXIF|VP8X)"):
        verify_clean(data, "webp", name="w.webp")
    # The flag alone (chunk removed) is refused too.
    flagged = bytearray(data[: data.index(b"EXIF")])
    flagged[4:8] = (len(flagged) - 8).to_bytes(4, "little")
    with pytest.raises(MetadataLeftError, match="VP8X header announces"):
        verify_clean(bytes(flagged), "webp", name="w.webp")


def test_verify_clean_refuses_formats_it_cannot_check() -> None:
    with pytest.raises(MetadataLeftError, match="no metadata check exists for format 'gif'"):
        verify_clean(b"GIF89a", "gif", name="g.gif")


# --- every sample, stripped, checked by ExifTool ------------------------------------

#: What ExifTool may still say about a stripped file: its own housekeeping and the
#: pixel geometry the image data itself implies.
ALLOWED_EXIFTOOL_KEYS = {
    "ExifTool": {"ExifToolVersion"},
    "File": {
        "FileType",
        "FileTypeExtension",
        "MIMEType",
        "ImageWidth",
        "ImageHeight",
        "EncodingProcess",
        "BitsPerSample",
        "ColorComponents",
        "YCbCrSubSampling",
    },
    "JFIF": {"JFIFVersion", "ResolutionUnit", "XResolution", "YResolution"},
    "Composite": {"ImageSize", "Megapixels"},
    "PNG": {"ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter"}
    | {"Interlace"},
    "RIFF": {"VP8Version", "ImageWidth", "ImageHeight", "HorizontalScale", "VerticalScale"},
}
EXTRA_FORMAT_SAMPLES = [
    ("mei__jpg__HTC_Desire.jpg", "png"),
    ("mei__jpg__HTC_Desire.jpg", "webp"),
    ("mei__png__Issue_280_dotnet_.png", "png"),
    ("pillow__Tests__images__hopper_orientation_6.webp", "webp"),
    ("mei__jpg__Canon_EOS_7D.jpg", "webp"),
]


@pytest.fixture(scope="module")
def stripped(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every decodable sample decoded (reduced), encoded and written to disk."""
    out_dir = tmp_path_factory.mktemp("stripped")
    written: dict[tuple[str, str], Path] = {}
    jobs = [(name, "jpeg") for name in DECODABLE] + EXTRA_FORMAT_SAMPLES
    for index, (name, fmt) in enumerate(jobs):
        decoded = open_image(FILES / name, name=name, target_long_side=1024)
        path = out_dir / f"{index:03d}{FORMATS[fmt][0]}"
        path.write_bytes(encode_image(decoded.image, fmt))
        written[(name, fmt)] = path
    return written


@pytest.fixture(scope="module")
def exiftool_view(stripped: dict[tuple[str, str], Path]) -> dict[Path, dict]:
    """ExifTool's reading of every stripped file, in one run."""
    if EXIFTOOL is None:
        return {}
    paths = [str(p) for p in stripped.values()]
    result = subprocess.run(
        [EXIFTOOL, "-j", "-G1", "-a", *paths], capture_output=True, text=True, check=False
    )
    return {Path(record["SourceFile"]): record for record in json.loads(result.stdout)}


JOBS = [(name, "jpeg") for name in DECODABLE] + EXTRA_FORMAT_SAMPLES


@pytest.mark.parametrize(("name", "fmt"), JOBS, ids=[f"{n}-{f}" for n, f in JOBS])
def test_stripped_sample_passes_our_checks(
    name: str, fmt: str, stripped: dict[tuple[str, str], Path]
) -> None:
    data = stripped[(name, fmt)].read_bytes()
    verify_clean(data, fmt, name=name)
    report = read_metadata(data, name=name)
    assert report.items() == [], report.items()
    truth = GROUND_TRUTH[name]
    orientation = truth["exif_orientation"] or truth["xmp_orientation"] or 1
    with Image.open(io.BytesIO(data)) as written:
        width, height = written.size
    if orientation in (5, 6, 7, 8) and truth["format"] not in ("HEIC", "HEIF"):
        stored_w, stored_h = truth["pillow_size"]
        assert (width > height) == (stored_h > stored_w), "rotation must be baked in"


@NEEDS_EXIFTOOL
@pytest.mark.parametrize(("name", "fmt"), JOBS, ids=[f"{n}-{f}" for n, f in JOBS])
def test_stripped_sample_shows_nothing_to_exiftool(
    name: str, fmt: str, stripped: dict[tuple[str, str], Path], exiftool_view: dict[Path, dict]
) -> None:
    record = exiftool_view[stripped[(name, fmt)]]
    leftovers = []
    for key in record:
        if key in ("SourceFile",) or key.startswith("System:"):
            continue
        group, _, tag = key.partition(":")
        if tag not in ALLOWED_EXIFTOOL_KEYS.get(group, set()):
            leftovers.append(key)
    assert leftovers == [], f"{name} -> {fmt} still carries {leftovers}"
