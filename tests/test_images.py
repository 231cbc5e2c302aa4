"""Image intake: every real camera sample decodes upright or is refused with a reason.

Ground truth for the samples is ``tests/fixtures/exif/exif_metadata.json`` (ExifTool
12.57 + Pillow 13); synthetic files (bombs, animations, odd modes) are built here.
"""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from photoguard_core.errors import (
    AnimatedImageError,
    DecodeError,
    DecompressionBombError,
    ImageError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from photoguard_core.images import FORMATS, ImageLimits, format_named, open_image, sniff_format
from photoguard_core.images.colour import to_srgb_rgb8
from photoguard_core.images.formats import allowed_pillow_formats

EXIF_DIR = Path(__file__).parent / "fixtures" / "exif"
FILES = EXIF_DIR
GROUND_TRUTH: dict[str, dict] = json.loads((EXIF_DIR / "exif_metadata.json").read_text())
SAMPLES = sorted(GROUND_TRUTH)
HOPPER_ROTATED = sorted(name for name in SAMPLES if "hopper_orientation_" in name)

#: ExifTool's format names -> ours.
FORMAT_FAMILY = {"Extended WEBP": "WEBP", "HEIC": "HEIF"}


def _expected_format(truth: dict) -> str:
    return FORMAT_FAMILY.get(truth["format"], truth["format"])


def _png_bytes(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **params)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_from_header(width: int, height: int, *, bit_depth: int = 8, colour: int = 2) -> bytes:
    """A PNG whose header declares any size; its pixel data is empty (tiny file)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b""))
        + _png_chunk(b"IEND", b"")
    )


def test_fixture_set_is_complete() -> None:
    assert len(SAMPLES) == 73
    assert all((FILES / name).is_file() for name in SAMPLES)
    sources = (EXIF_DIR / "SOURCES.md").read_text()
    assert all(f"`{name}`" in sources for name in SAMPLES)


# --- every real sample --------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_decodes_upright_or_is_refused_with_its_name(name: str) -> None:
    truth = GROUND_TRUTH[name]
    if not truth["pillow_decodes"]:
        with pytest.raises(ImageError) as refused:
            open_image(FILES / name, name=name)
        assert isinstance(refused.value, DecodeError)
        assert name in str(refused.value)
        assert refused.value.reason
        return

    decoded = open_image(FILES / name, name=name)

    assert decoded.image.mode == "RGB"
    assert decoded.format == _expected_format(truth)
    assert decoded.source == name
    assert decoded.image.size == decoded.full_size
    assert decoded.scale == 1.0
    assert decoded.image.info == {}, "source metadata must not ride along on the pixels"
    stored_w, stored_h = truth["pillow_size"]
    orientation = truth["exif_orientation"] or truth["xmp_orientation"] or 1
    if decoded.format == "HEIF":
        # pillow-heif applies the container's rotation itself (irot/imir) and resets
        # the EXIF tag, so its reported size is already upright.
        assert decoded.full_size == (stored_w, stored_h)
        assert not [
            n for n in decoded.notes if n.startswith("orientation") and n.endswith("applied")
        ]
    elif orientation in (5, 6, 7, 8):
        assert decoded.full_size == (stored_h, stored_w)
        assert f"orientation {orientation} applied" in decoded.notes
    else:
        assert decoded.full_size == (stored_w, stored_h)


def test_known_failures_are_the_two_from_ground_truth() -> None:
    refused = sorted(n for n, t in GROUND_TRUTH.items() if not t["pillow_decodes"])
    assert refused == [
        "mei__heic__IllegalArgumentException.HeifReader.processBoxes.heif",
        "pillow__Tests__images__truncated_jpeg.jpg",
    ]
    with pytest.raises(TruncatedImageError, match="truncated_jpeg.jpg: file is truncated"):
        open_image(FILES / refused[1], name=refused[1])
    with pytest.raises(DecodeError, match="looks like HEIF but the decoder cannot parse it"):
        open_image(FILES / refused[0], name=refused[0])


def _reference_hopper() -> np.ndarray:
    reference = open_image(FILES / "pillow__Tests__images__hopper.jpg").image
    return np.asarray(reference).astype(np.float64)


@pytest.mark.parametrize("name", HOPPER_ROTATED)
def test_hopper_stored_rotated_comes_out_like_the_upright_reference(name: str) -> None:
    reference = _reference_hopper()
    decoded = np.asarray(open_image(FILES / name).image).astype(np.float64)
    as_stored = np.asarray(Image.open(FILES / name).convert("RGB")).astype(np.float64)

    # JPEG/WebP re-encoding differs by a few levels; a wrong orientation by ~60.
    assert np.abs(decoded - reference).mean() < 10
    assert np.abs(as_stored - reference).mean() > 40, "the stored pixels must differ"


def test_heif_rotation_is_applied_once() -> None:
    name = "mei__heic__Issue_487.heic"  # EXIF orientation 6 + HEIF irot
    decoded = open_image(FILES / name, name=name)
    assert decoded.full_size == (3024, 4032)
    assert "orientation 6 applied by the HEIF decoder" in decoded.notes
    assert "orientation 6 applied" not in decoded.notes


def test_xmp_orientation_is_applied_when_exif_has_none() -> None:
    name = "pillow__Tests__images__xmp_tags_orientation.png"  # XMP tiff:Orientation 3
    decoded = np.asarray(open_image(FILES / name).image)
    with Image.open(FILES / name) as raw:
        raw.load()
        same_colours = to_srgb_rgb8(
            raw, icc_profile=raw.info.get("icc_profile"), bits_per_sample=8, notes=[]
        )
    as_stored = np.asarray(same_colours)
    assert np.array_equal(decoded, np.asarray(same_colours.transpose(Image.Transpose.ROTATE_180)))
    assert not np.array_equal(decoded, as_stored)


def test_mpo_gives_first_picture_with_a_note() -> None:
    decoded = open_image(FILES / "pillow__Tests__images__frozenpond.mpo")
    assert decoded.format == "MPO"
    assert "MPO: first picture only (file holds 2)" in decoded.notes
    with Image.open(FILES / "pillow__Tests__images__frozenpond.mpo") as raw:
        first = np.asarray(raw.convert("RGB"))
    assert np.array_equal(np.asarray(decoded.image), first)


def test_icc_profiles_are_converted_and_broken_ones_noted() -> None:
    wide = open_image(FILES / "mei__jpg__Canon_EOS_7D.jpg")  # Adobe RGB profile
    assert "ICC profile converted to sRGB" in wide.notes
    with Image.open(FILES / "mei__jpg__Canon_EOS_7D.jpg") as raw:
        untouched = np.asarray(raw.convert("RGB")).astype(int)
    assert np.abs(np.asarray(wide.image).astype(int) - untouched).mean() > 1

    broken = open_image(FILES / "pillow__Tests__images__icc-after-SOF.jpg")
    assert any(n.startswith("ICC profile unusable") for n in broken.notes)
    assert broken.image.mode == "RGB"


def test_cmyk_profile_jpeg_from_samples_is_converted() -> None:
    decoded = open_image(FILES / "mei__jpg__Multiple_ICC_segments.jpg")
    assert "CMYK converted" in decoded.notes
    assert decoded.image.mode == "RGB"


# --- reduced decoding ---------------------------------------------------------------


def test_target_long_side_uses_jpeg_draft_and_never_goes_below() -> None:
    name = "mei__jpg__HTC_Desire.jpg"  # 776 x 909
    decoded = open_image(FILES / name, target_long_side=200)
    assert decoded.full_size == (776, 909)
    assert decoded.image.size == (194, 228)
    assert max(decoded.image.size) >= 200
    assert decoded.scale == pytest.approx(0.25)
    assert "decoded at 1/4 scale (JPEG draft)" in decoded.notes

    # A box found on the reduced image maps back by dividing by scale.
    x_full = 100 / decoded.scale
    assert x_full == pytest.approx(400)

    same = open_image(FILES / name, target_long_side=500)
    assert same.image.size == (776, 909)
    assert same.scale == 1.0


def test_target_long_side_reduces_other_formats_by_an_integer_factor() -> None:
    decoded = open_image(FILES / "pillow__Tests__images__exif.png", target_long_side=100)
    assert decoded.full_size == (512, 512)
    assert decoded.image.size == (103, 103)  # 512 // 100 = 5 -> ceil(512 / 5)
    assert decoded.scale == pytest.approx(103 / 512)


def test_target_long_side_with_rotation_keeps_upright_full_size() -> None:
    name = "mei__jpg__Samsung_GT-I9000_Galaxy_S_.jpg"  # 640x480 stored, orientation 6
    decoded = open_image(FILES / name, target_long_side=300)
    assert decoded.full_size == (480, 640)
    assert decoded.image.size == (240, 320)
    assert decoded.scale == pytest.approx(0.5)


# --- limits -------------------------------------------------------------------------


def test_header_declaring_too_many_pixels_is_refused_before_decoding() -> None:
    bomb = _png_from_header(10_000, 8_000)  # 80 MP declared, 65 bytes on disk
    assert len(bomb) < 100
    with pytest.raises(DecompressionBombError, match=r"bomb\.png: header declares 10000x8000"):
        open_image(bomb, name="bomb.png")


def test_gigapixel_header_is_refused_too() -> None:
    with pytest.raises(DecompressionBombError, match="giga.png"):
        open_image(_png_from_header(100_000, 100_000), name="giga.png")


def test_limits_are_per_call_and_leave_pillow_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(DecompressionBombError, match="16,384 pixels, more than the 1,000"):
        open_image(FILES / "pillow__Tests__images__hopper.jpg", limits=ImageLimits(max_pixels=1000))
    with pytest.raises(DecompressionBombError, match="byte limit"):
        open_image(FILES / "pillow__Tests__images__hopper.jpg", limits=ImageLimits(max_bytes=100))
    with pytest.raises(DecompressionBombError, match="byte limit"):
        open_image(b"\xff\xd8\xff" + bytes(200), limits=ImageLimits(max_bytes=100))
    assert before == Image.MAX_IMAGE_PIXELS
    assert open_image(FILES / "pillow__Tests__images__hopper.jpg").image.size == (128, 128)


# --- refusals -----------------------------------------------------------------------


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    whole = (FILES / "mei__jpg__HTC_Desire.jpg").read_bytes()
    half = tmp_path / "half.jpg"
    half.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(TruncatedImageError) as refused:
        open_image(half)
    assert str(half) in str(refused.value)
    assert "truncated" in refused.value.reason
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_refuses_while_another_component_fills_truncated_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(DecodeError, match="LOAD_TRUNCATED_IMAGES is switched on"):
        open_image(FILES / "pillow__Tests__images__hopper.jpg", name="hopper.jpg")


def test_text_file_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "class-list.jpg"
    fake.write_text("Jane Smith, 3B\nJohn Doe, 3B\n" * 20)
    with pytest.raises(UnsupportedFormatError, match=r"class-list\.jpg: not an image: .* text"):
        open_image(fake)


def test_empty_and_foreign_formats_are_unsupported() -> None:
    with pytest.raises(UnsupportedFormatError, match="empty"):
        open_image(b"", name="empty.jpg")
    bmp = io.BytesIO()
    Image.new("RGB", (4, 4)).save(bmp, "BMP")  # Pillow reads BMP; photoguard does not
    with pytest.raises(UnsupportedFormatError, match="x.bmp"):
        open_image(bmp.getvalue(), name="x.bmp")


def test_missing_file_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="file not found"):
        open_image(tmp_path / "nope.jpg")


def _frames(count: int) -> list[Image.Image]:
    return [Image.new("RGB", (16, 16), (40 * i, 255 - 40 * i, 0)) for i in range(count)]


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animations_are_refused(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"wave.{fmt.lower()}"
    first, *rest = _frames(3)
    first.save(path, fmt, save_all=True, append_images=rest, duration=100)
    with Image.open(path) as check:
        assert check.n_frames == 3
    with pytest.raises(AnimatedImageError, match=rf"wave\.{fmt.lower()}: animated {fmt} with 3"):
        open_image(path)


def test_single_frame_gif_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "still.gif"
    _frames(1)[0].save(path, "GIF")
    assert open_image(path).image.size == (16, 16)


def test_multi_page_tiff_gives_first_page_with_a_note() -> None:
    out = io.BytesIO()
    first, *rest = _frames(3)
    first.save(out, "TIFF", save_all=True, append_images=rest)
    decoded = open_image(out.getvalue(), name="pages.tif")
    assert "TIFF: first page only (file holds 3)" in decoded.notes
    assert decoded.image.getpixel((0, 0)) == (0, 255, 0)


# --- colour conversion --------------------------------------------------------------


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (32, 16), (0, 255, 255, 0)).save(out, "JPEG", quality=95)
    decoded = open_image(out.getvalue(), name="cmyk.jpg")
    assert "CMYK converted" in decoded.notes
    red, green, blue = decoded.image.getpixel((8, 8))
    assert red > 240 and green < 15 and blue < 15


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    samples = np.array([[0, 1000, 32896, 65535]], dtype=np.uint16)
    decoded = open_image(_png_bytes(Image.fromarray(samples)), name="16.png")
    values = [decoded.image.getpixel((x, 0))[0] for x in range(4)]
    assert values == [0, 4, 128, 255]  # clipping would give [0, 255, 255, 255]
    assert "16-bit reduced to 8-bit" in decoded.notes


def test_sixteen_bit_rgb_png_is_reduced() -> None:
    width = 2
    row = b"\x00" + struct.pack(">" + "H" * 3 * width, *([0x8000, 0xFFFF, 0x0101] * width))
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, 1, 16, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(row))
        + _png_chunk(b"IEND", b"")
    )
    decoded = open_image(data, name="rgb16.png")
    assert decoded.image.getpixel((0, 0)) == (128, 255, 1)
    assert "16-bit reduced to 8-bit" in decoded.notes


def test_transparent_pixels_are_flattened_on_white_not_revealed() -> None:
    image = Image.new("RGBA", (4, 1), (255, 0, 0, 0))  # red hidden under alpha 0
    image.putpixel((1, 0), (0, 0, 255, 255))
    image.putpixel((2, 0), (0, 0, 0, 128))
    decoded = open_image(_png_bytes(image), name="rgba.png")
    assert decoded.image.getpixel((0, 0)) == (255, 255, 255)
    assert decoded.image.getpixel((1, 0)) == (0, 0, 255)
    assert decoded.image.getpixel((2, 0)) == pytest.approx((127, 127, 127), abs=1)
    assert "alpha flattened on white" in decoded.notes


def test_grey_alpha_palette_and_one_bit_images() -> None:
    grey_alpha = open_image(_png_bytes(Image.new("LA", (2, 2), (0, 0))), name="la.png")
    assert grey_alpha.image.getpixel((0, 0)) == (255, 255, 255)

    palette = Image.new("P", (2, 1), 0)
    palette.putpalette([10, 20, 30, 200, 0, 0] + [0] * 762)
    palette.putpixel((1, 0), 1)
    decoded = open_image(_png_bytes(palette, transparency=0), name="p.png")
    assert decoded.image.getpixel((0, 0)) == (255, 255, 255)
    assert decoded.image.getpixel((1, 0)) == (200, 0, 0)
    assert "palette expanded" in decoded.notes

    one_bit = open_image(_png_bytes(Image.new("1", (3, 3), 1)), name="1.png")
    assert one_bit.image.mode == "RGB"
    assert one_bit.image.getpixel((1, 1)) == (255, 255, 255)


def test_sixteen_bit_tiff_is_scaled() -> None:
    out = io.BytesIO()
    Image.fromarray(np.full((2, 2), 32896, np.uint16)).save(out, "TIFF")
    decoded = open_image(out.getvalue(), name="16.tif")
    assert decoded.image.getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize(
    ("image", "expected", "note"),
    [
        (Image.new("LAB", (4, 4), (128, 128, 128)), (119, 119, 119), "LAB converted"),
        (Image.new("YCbCr", (4, 4), (128, 128, 128)), (128, 128, 128), "YCbCr converted"),
        (Image.fromarray(np.full((4, 4), 0.5, np.float32)), (128, 128, 128), "32-bit float"),
        (Image.new("CMYK", (4, 4), (0, 0, 0, 255)), (0, 0, 0), "CMYK converted"),
    ],
    ids=["LAB", "YCbCr", "F", "CMYK"],
)
def test_other_tiff_modes_become_rgb(
    image: Image.Image, expected: tuple[int, int, int], note: str
) -> None:
    out = io.BytesIO()
    image.save(out, "TIFF")
    decoded = open_image(out.getvalue(), name=f"{image.mode}.tif")
    assert decoded.image.getpixel((1, 1)) == expected
    assert [n for n in decoded.notes if n.startswith(note)] and len(decoded.notes) == 1


# --- registry and result type -------------------------------------------------------


def test_format_registry_is_one_place() -> None:
    names = [fmt.name for fmt in FORMATS]
    assert names == ["JPEG", "MPO", "PNG", "GIF", "WEBP", "TIFF", "HEIF", "AVIF"]
    assert format_named("heif").extensions[0] == ".heic"
    assert sniff_format((FILES / "mei__heic__IMG_1034.heic").read_bytes()[:256]).name == "HEIF"
    assert sniff_format((FILES / "mei__avif__Issue_649.avif").read_bytes()[:256]).name == "AVIF"
    assert sniff_format(b"BM" + bytes(60)) is None
    allowed = allowed_pillow_formats()
    assert "EPS" not in allowed and "BMP" not in allowed and "PSD" not in allowed
    assert {"JPEG", "PNG", "WEBP", "HEIF", "AVIF"} <= set(allowed)


def test_decoded_image_is_frozen() -> None:
    decoded = open_image(FILES / "pillow__Tests__images__hopper.jpg")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.scale = 2.0  # type: ignore[misc]


def test_upright_size_reads_the_header_only():
    from photoguard_core.images import open_image, upright_size

    rotated = EXIF_DIR / "pillow__Tests__images__hopper_orientation_6.jpg"
    assert upright_size(rotated) == open_image(rotated).full_size
    assert upright_size(rotated) == tuple(reversed(Image.open(rotated).size))
