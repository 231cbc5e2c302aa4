"""Guarded renditions from indexed faces on real photos: faces mapped through the
host's crop and resize are really gone, the cleared face really shows, a face the
index missed is caught by the re-check, and every failure ends fully redacted."""

from __future__ import annotations

import io
import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image

from photoguard_core.errors import PlanError
from photoguard_core.faces import detect_faces, encode_faces
from photoguard_core.faces.types import Face
from photoguard_core.geometry import Box
from photoguard_core.metadata import read_metadata
from photoguard_core.render import (
    RenditionPlan,
    Transform,
    redact_everything,
    render_known,
    render_or_redact,
    transform_for_spec,
)
from photoguard_core.render.redact import FILL, redact_region, region_for
from photoguard_core.scan import ScanResult, scan_image

FIXTURES = Path(__file__).parent / "fixtures"
IDENTITY = FIXTURES / "identity" / "images"
TWO_PEOPLE = IDENTITY / "fr__examples__two_people.jpg"  # Obama left, Biden right
OBAMA = IDENTITY / "fr__examples__obama.jpg"
BIDEN = IDENTITY / "fr__examples__biden.jpg"
DETECTION = FIXTURES / "detection"
GROUPS = ["pascal_dlib__2007_007763.jpg", "pascal_dlib__2008_002079.jpg"]
GPS_PHOTO = FIXTURES / "exif" / "mei__jpg__Apple_iPhone_4.jpg"
SPECS = ["fill-400x300", "max-600x600"]


@cache
def _index(path: Path) -> ScanResult:
    """The upload-time index: the high-recall sweep at full resolution, once per photo."""
    return scan_image(path)


@cache
def _reference(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb), min_size=0)
    return max(faces, key=lambda f: f.box.area).encoding


def _rendition(path: Path, transform: Transform) -> Image.Image:
    """What the host hands over: the upright photo after its crop and resize."""
    return transform.apply_image(Image.open(path).convert("RGB"))


def _two_people() -> tuple[ScanResult, Face, Face]:
    scan = _index(TWO_PEOPLE)
    obama, biden = sorted(scan.faces, key=lambda f: f.box.x0)
    return scan, obama, biden


def _published(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _encodings(rgb: np.ndarray) -> list[np.ndarray]:
    faces = encode_faces(rgb, detect_faces(rgb, detector="hog"), min_size=0)
    return [f.encoding for f in faces if f.encoding is not None]


def _is_fill(rgb: np.ndarray, box: Box, inset: int = 2) -> bool:
    """Every pixel of ``box`` (less a JPEG-ringing inset) is the solid fill."""
    x0, y0, x1, y1 = box.to_int()
    patch = rgb[y0 + inset : y1 - inset, x0 + inset : x1 - inset].astype(int)
    return patch.size > 0 and bool(np.abs(patch - FILL).max() < 16)


# --- the cleared face shows, every other face is gone ------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_shown_face_is_the_right_person_and_the_other_is_gone(spec):
    scan, obama, biden = _two_people()
    t = transform_for_spec(spec, scan.size)
    rendition = render_known(
        _rendition(TWO_PEOPLE, t),
        faces=[t.apply_unclipped(f.box) for f in scan.faces],
        show=[t.apply_unclipped(obama.box)],
        plan=RenditionPlan(purpose="website"),
    )
    assert (rendition.width, rendition.height) == t.size
    assert sorted(o.action for o in rendition.manifest.faces) == ["redacted", "shown"]

    out = _published(rendition.data)
    # The sweep finds Obama, and at Biden's place nothing (it may fire on the
    # chandelier: detector noise is not a face).
    found = detect_faces(out, detector="centerface-sweep")
    assert any(f.box.iou(t.apply(obama.box)) > 0.5 for f in found)
    assert not [f for f in found if f.box.iou(t.apply(biden.box)) > 0.1]
    visible = _encodings(out)
    assert len(visible) == 1
    assert np.linalg.norm(visible[0] - _reference(OBAMA)) < 0.5
    assert np.linalg.norm(visible[0] - _reference(BIDEN)) > 0.6
    assert _is_fill(out, t.apply(biden.box))
    assert read_metadata(rendition.data).items() == []


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name", GROUPS)
def test_group_photo_no_real_face_left(name, spec):
    path = DETECTION / "images" / name
    scan = _index(path)
    t = transform_for_spec(spec, scan.size)
    rendition = render_known(
        _rendition(path, t), faces=[t.apply_unclipped(f.box) for f in scan.faces]
    )
    out = _published(rendition.data)
    truth = json.loads((DETECTION / "boxes_xywh.json").read_text())[name]
    faces = [b for b in (t.apply(Box.from_xywh(*xywh)) for xywh in truth) if b is not None]
    assert len(faces) >= 2
    # Annotated faces, not detector noise: the sweep may still fire on a hand or a
    # bottle, but on no real face, and the middle of each real face is grey.
    found = detect_faces(out, detector="centerface-sweep")
    assert not [f for f in found if max(f.box.iou(b) for b in faces) >= 0.3]
    assert detect_faces(out, detector="hog") == []
    for face in faces:
        cx, cy = face.center
        assert np.abs(out[int(cy), int(cx)].astype(int) - FILL).max() < 12
    assert read_metadata(rendition.data).items() == []


# --- faces at the edge of the crop --------------------------------------------------


def test_face_half_out_of_the_crop_is_still_covered():
    scan, obama, biden = _two_people()
    width, height = scan.size
    cut = round(biden.box.center[0])  # the crop ends in the middle of Biden's face
    t = Transform.identity(scan.size).crop((0, 0, cut, height)).resize(cut // 2, height // 2)
    unclipped = t.apply_unclipped(biden.box)
    assert unclipped.x1 > t.size[0]  # half of the face lies beyond the frame

    rendition = render_known(
        _rendition(TWO_PEOPLE, t),
        faces=[t.apply_unclipped(f.box) for f in scan.faces],
        show=[t.apply_unclipped(obama.box)],
    )
    out = _published(rendition.data)
    plan = RenditionPlan()
    whole = region_for(unclipped, plan.grow, plan.shape).clipped(*t.size)
    half = region_for(t.apply(biden.box), plan.grow, plan.shape).clipped(*t.size)
    assert _is_fill(out, whole)
    # The strip only the unclipped box reaches (hair and ear on the visible side).
    assert half.x0 - whole.x0 > 5
    assert _is_fill(out, Box(whole.x0, whole.y0, half.x0, whole.y1), inset=1)
    found = detect_faces(out, detector="centerface-sweep")
    assert any(f.box.iou(t.apply(obama.box)) > 0.5 for f in found)
    assert not [f for f in found if f.box.coverage_by(whole) > 0.1]


def test_cleared_face_cut_by_the_crop_stays_shown():
    """The re-check sees only the visible part of a face: it is matched as such."""
    scan, obama, biden = _two_people()
    width, height = scan.size
    cut = round(obama.box.x0 + 0.6 * obama.box.width)  # 60% of Obama's face cropped away
    t = Transform.identity(scan.size).crop((cut, 0, width, height))
    t = t.resize(t.size[0] // 2, height // 2)
    rendition = render_known(
        _rendition(TWO_PEOPLE, t),
        faces=[t.apply_unclipped(f.box) for f in scan.faces],
        show=[t.apply_unclipped(obama.box)],
    )
    assert [o.face.detector for o in rendition.manifest.faces] == ["index", "index"]
    out = _published(rendition.data)
    assert not _is_fill(out, t.apply(obama.box))
    assert _is_fill(out, t.apply(biden.box))


def test_face_wholly_outside_the_crop_changes_nothing():
    scan, obama, biden = _two_people()
    t = Transform.identity(scan.size).crop((0, 0, round(biden.box.x0) - 200, scan.size[1]))
    assert t.apply(biden.box) is None
    pixels = _rendition(TWO_PEOPLE, t)
    rendition = render_known(
        pixels,
        faces=[t.apply_unclipped(f.box) for f in scan.faces],
        show=[t.apply_unclipped(obama.box)],
    )
    out = _published(rendition.data).astype(int)
    # Nothing painted: the published pixels are the crop, up to JPEG noise.
    assert np.abs(out - np.asarray(pixels, dtype=int)).mean() < 3


def test_half_visible_region_pixelates_as_coarsely_as_a_whole_one():
    """Cells are sized on the whole region: clipping must not leave a finer mosaic."""
    rng = np.random.default_rng(7)
    noise = Image.fromarray(rng.integers(0, 256, (200, 400, 3), dtype=np.uint8))
    whole, half = noise.copy(), noise.copy()
    redact_region(whole, Box(100, 50, 300, 150), style_name="pixelate", shape="box")
    redact_region(half, Box(-100, 50, 100, 150), style_name="pixelate", shape="box")

    def detail(image: Image.Image, box: tuple[int, int, int, int]) -> float:
        patch = np.asarray(image.crop(box), dtype=float)
        return float(np.abs(np.diff(patch, axis=1)).mean())

    # The visible half of a half-out region holds no more detail than a whole one.
    assert detail(half, (0, 60, 100, 140)) <= detail(whole, (200, 60, 300, 140)) * 1.25


# --- the re-check -------------------------------------------------------------------


def test_face_missing_from_the_index_is_found_and_redacted():
    scan, obama, biden = _two_people()
    t = transform_for_spec("fill-400x300", scan.size)
    pixels = _rendition(TWO_PEOPLE, t)
    known = [t.apply_unclipped(obama.box)]  # Biden is not in the index

    # Without the re-check Biden would be published: the check is what catches it.
    unchecked = render_known(pixels, faces=known, recheck=None)
    found = detect_faces(_published(unchecked.data), detector="centerface-sweep")
    assert any(f.box.iou(t.apply(biden.box)) > 0.3 for f in found)

    rendition = render_known(pixels, faces=known)
    late = [o for o in rendition.manifest.faces if o.face.detector == "centerface"]
    assert len(late) == 1 and late[0].action == "redacted"
    assert late[0].face.box.iou(t.apply(biden.box)) > 0.3
    out = _published(rendition.data)
    assert detect_faces(out, detector="centerface-sweep") == []
    assert _encodings(out) == []
    check = next(c for c in rendition.manifest.checks if c.name == "redaction")
    assert check.passed and "1 late face(s) redacted" in check.detail


class _SeesFacesEverywhere:
    """A detector that reports a face in the middle of any picture, even a blank one."""

    name = "sees-faces-everywhere"

    def detect(self, rgb):
        h, w = rgb.shape[:2]
        return [Face(Box(w * 0.4, h * 0.4, w * 0.6, h * 0.6), 0.99, self.name)]


def test_pixelation_that_still_shows_a_face_is_replaced_by_solid_fill():
    pixels = Image.open(BIDEN).convert("RGB")
    w, h = pixels.size
    rendition = render_known(
        pixels,
        faces=[Box(w * 0.4, h * 0.4, w * 0.6, h * 0.6)],
        plan=RenditionPlan(style="pixelate"),
        recheck=_SeesFacesEverywhere(),
    )
    check = next(c for c in rendition.manifest.checks if c.name == "redaction")
    assert check.passed and "1 escalated to solid" in check.detail
    out = _published(rendition.data)
    assert np.abs(out[h // 2, w // 2].astype(int) - FILL).max() < 12


# --- metadata, sizes, and the caller's pixels ---------------------------------------


def test_no_metadata_even_when_the_pixels_carry_it():
    assert read_metadata(GPS_PHOTO.read_bytes()).to_dict()["gps"] is not None
    pixels = Image.open(GPS_PHOTO)
    pixels.load()
    assert "exif" in pixels.info  # the host's image still holds the GPS block
    rendition = render_known(pixels, faces=[], plan=RenditionPlan(max_size=600))
    assert max(rendition.width, rendition.height) == 600
    assert read_metadata(rendition.data).items() == []
    exif = piexif.load(rendition.data)
    assert not any(exif[ifd] for ifd in ("0th", "Exif", "GPS", "1st")) and not exif["thumbnail"]


def test_caller_pixels_are_not_painted_and_max_size_scales_the_boxes():
    scan, obama, biden = _two_people()
    pixels = Image.open(TWO_PEOPLE).convert("RGB")
    before = np.asarray(pixels).copy()
    rendition = render_known(
        pixels, faces=[f.box for f in scan.faces], plan=RenditionPlan(max_size=563)
    )
    assert np.array_equal(np.asarray(pixels), before)
    assert rendition.width == 563
    out = _published(rendition.data)
    assert _is_fill(out, biden.box.scaled(0.5))
    assert _is_fill(out, obama.box.scaled(0.5))


# --- failing closed -----------------------------------------------------------------


@pytest.mark.parametrize("style", ["solid", "pixelate"])
def test_redact_everything_leaves_no_face(style):
    pixels = Image.open(TWO_PEOPLE)  # carries whatever the file carried
    rendition = redact_everything(pixels, RenditionPlan(style=style), reason="faces not indexed")
    out = _published(rendition.data)
    assert out.shape[:2] == (pixels.height, pixels.width)
    assert detect_faces(out, detector="centerface-sweep") == []
    assert detect_faces(out, detector="hog") == []
    if style == "solid":
        assert np.abs(out.astype(int) - FILL).max() < 12
    else:
        assert np.abs(np.diff(out.astype(int), axis=1)).mean() < 1
    assert read_metadata(rendition.data).items() == []
    assert any("faces not indexed" in c.detail for c in rendition.manifest.checks)


def test_redact_everything_from_a_size_alone():
    rendition = redact_everything((4000, 3000), RenditionPlan(max_size=800))
    assert (rendition.width, rendition.height) == (800, 600)
    assert np.abs(_published(rendition.data).astype(int) - FILL).max() < 12


def test_plan_boxes_in_photo_coordinates_are_refused():
    pixels = Image.new("RGB", (64, 48))
    with pytest.raises(PlanError, match="photo coordinates"):
        render_known(pixels, faces=[], plan=RenditionPlan(show=(Box(0, 0, 10, 10),)))
    with pytest.raises(PlanError, match="photo coordinates"):
        render_known(pixels, faces=[], plan=RenditionPlan(redact=(Box(0, 0, 10, 10),)))


@pytest.mark.parametrize(
    "box", [Box(math.nan, 0, 10, 10), Box(10, 10, 5, 20), Box(0, 0, math.inf, 10)]
)
def test_impossible_boxes_are_refused(box):
    with pytest.raises(PlanError):
        render_known(Image.new("RGB", (64, 48)), faces=[box])


def test_render_or_redact_fails_closed():
    scan, obama, _biden = _two_people()
    pixels = Image.open(TWO_PEOPLE).convert("RGB")
    unknown = render_or_redact(pixels, faces=None)
    assert np.abs(_published(unknown.data).astype(int) - FILL).max() < 12

    broken = render_or_redact(pixels, faces=[Box(math.nan, 0, 1, 1)])
    assert np.abs(_published(broken.data).astype(int) - FILL).max() < 12
    assert any("impossible box" in c.detail for c in broken.manifest.checks)

    normal = render_or_redact(
        pixels, faces=[f.box for f in scan.faces], show=[obama.box], plan=RenditionPlan()
    )
    assert normal.manifest.shown_count == 1
