"""The rendition pipeline on real photos: faces really gone, metadata really gone,
the right person shown and the wrong one not, and failures that publish nothing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image

from photoguard_core.errors import ImageError, PlanError, RedactionCheckError
from photoguard_core.faces import detect_faces, encode_faces, register_detector
from photoguard_core.faces.types import Face
from photoguard_core.geometry import Box
from photoguard_core.metadata import read_metadata
from photoguard_core.render import RenditionPlan, render
from photoguard_core.render.redact import FILL

FIXTURES = Path(__file__).parent / "fixtures"
TWO_PEOPLE = (
    FIXTURES / "identity" / "images" / "fr__examples__two_people.jpg"
)  # Obama left, Biden right
OBAMA = FIXTURES / "identity" / "images" / "fr__examples__obama.jpg"
BIDEN = FIXTURES / "identity" / "images" / "fr__examples__biden.jpg"
GROUP = FIXTURES / "detection" / "images" / "pascal_dlib__2008_002079.jpg"
GPS_PHOTO = FIXTURES / "exif" / "mei__jpg__Apple_iPhone_4.jpg"
ROTATED = FIXTURES / "exif" / "pillow__Tests__images__hopper_orientation_6.jpg"


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _reference(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb), min_size=0)
    biggest = max(faces, key=lambda f: f.box.area)
    return biggest.encoding


def _encodings(rgb: np.ndarray) -> list[np.ndarray]:
    faces = encode_faces(rgb, detect_faces(rgb, detector="hog"), min_size=0)
    return [f.encoding for f in faces if f.encoding is not None]


def test_every_face_redacted_and_not_redetectable():
    rendition = render(TWO_PEOPLE)
    manifest = rendition.manifest
    assert manifest.redacted_count == 2
    out = _rgb(rendition.data)
    # Re-detect with both detector families on the published pixels.
    assert detect_faces(out, detector="centerface-sweep") == []
    assert detect_faces(out, detector="hog") == []
    # The middle of each face is the solid fill (JPEG noise allowed).
    for outcome in manifest.faces:
        cx, cy = outcome.region.center
        assert np.abs(out[int(cy), int(cx)].astype(int) - FILL).max() < 12
    assert any(c.name == "redaction" and c.passed for c in manifest.checks)


def test_group_photo_all_faces_gone():
    rendition = render(GROUP, RenditionPlan(style="pixelate"))
    assert rendition.manifest.redacted_count >= 8
    assert detect_faces(_rgb(rendition.data), detector="centerface-sweep") == []


def test_shown_face_is_the_right_person_and_the_other_is_gone():
    rgb = np.asarray(Image.open(TWO_PEOPLE).convert("RGB"))
    faces = sorted(detect_faces(rgb), key=lambda f: f.box.x0)
    assert len(faces) == 2
    obama_box = faces[0].box  # left of the picture
    rendition = render(TWO_PEOPLE, RenditionPlan(purpose="website", show=(obama_box,)))
    actions = sorted((o.face.box.x0, o.action) for o in rendition.manifest.faces)
    assert [a for _, a in actions] == ["shown", "redacted"]

    visible = _encodings(_rgb(rendition.data))
    assert len(visible) == 1
    obama, biden = _reference(OBAMA), _reference(BIDEN)
    assert np.linalg.norm(visible[0] - obama) < 0.5
    assert np.linalg.norm(visible[0] - biden) > 0.6


def test_pixelate_and_ellipse_leave_no_face():
    plan = RenditionPlan(style="pixelate", shape="ellipse", grow=0.4)
    rendition = render(TWO_PEOPLE, plan)
    out = _rgb(rendition.data)
    assert detect_faces(out, detector="centerface-sweep") == []
    assert detect_faces(out, detector="hog") == []
    # Pixelation keeps only a few cells across each region: little detail is left.
    for outcome in rendition.manifest.faces:
        x0, y0, x1, y1 = outcome.region.to_int()
        dy, dx = (y1 - y0) // 3, (x1 - x0) // 3
        inner = out[y0 + dy : y1 - dy, x0 + dx : x1 - dx]
        assert np.abs(np.diff(inner.astype(int), axis=1)).mean() < 3


def test_size_limited_and_metadata_gone():
    assert read_metadata(GPS_PHOTO.read_bytes()).to_dict()["gps"] is not None
    rendition = render(GPS_PHOTO, RenditionPlan(max_size=800))
    assert max(rendition.width, rendition.height) == 800
    exif = piexif.load(rendition.data)  # an independent reader: nothing in any IFD
    assert not any(exif[ifd] for ifd in ("0th", "Exif", "GPS", "1st")) and not exif["thumbnail"]
    assert read_metadata(rendition.data).items() == []
    assert any("GPS" in item for item in rendition.manifest.metadata_removed)
    assert rendition.name.endswith(".jpg") and "iPhone" not in rendition.name
    assert len(rendition.name) == 28  # 24 hex digits of the content hash + .jpg


def test_strip_keeps_pixels_but_applies_orientation():
    stored = Image.open(ROTATED)
    rendition = render(ROTATED, RenditionPlan.strip_only(format="png"))
    out = Image.open(io.BytesIO(rendition.data))
    assert out.size == (stored.height, stored.width)  # orientation 6: rotated upright
    upright = np.asarray(stored.convert("RGB").transpose(Image.Transpose.ROTATE_270))
    assert np.array_equal(np.asarray(out.convert("RGB")), upright)
    assert rendition.manifest.faces == []  # strip does not look for faces
    assert "exif" not in out.info


def test_bytes_in_bytes_out_and_non_identifying_name():
    rendition = render(TWO_PEOPLE.read_bytes(), name="jane-smith-year4.jpg")
    assert "jane" not in rendition.name
    assert rendition.manifest.source == "jane-smith-year4.jpg"


def test_truncated_file_fails_with_reason(tmp_path):
    broken = tmp_path / "cut.jpg"
    data = TWO_PEOPLE.read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageError) as info:
        render(broken)
    assert "cut.jpg" in str(info.value)


def test_bad_plan_is_refused():
    with pytest.raises(PlanError):
        RenditionPlan(style="blur-lightly")
    with pytest.raises(PlanError):
        RenditionPlan(grow=0.1)


def test_extra_regions_are_redacted():
    box = Box(10, 10, 110, 110)
    rendition = render(BIDEN, RenditionPlan(redact=(box,), max_size=None))
    out = _rgb(rendition.data)
    assert np.abs(out[60, 60].astype(int) - FILL).max() < 12
    assert len(rendition.manifest.extra_regions) == 1


class _SeesFacesEverywhere:
    """A detector that reports a face in the middle of any picture, even a blank one."""

    name = "sees-faces-everywhere"

    def detect(self, rgb):
        h, w = rgb.shape[:2]
        return [Face(Box(w * 0.4, h * 0.4, w * 0.6, h * 0.6), 0.99, self.name)]


class _FaceKeepsMoving:
    """A detector that finds a new face somewhere else every time it looks."""

    name = "face-keeps-moving"

    def __init__(self):
        self.calls = 0

    def detect(self, rgb):
        h, w = rgb.shape[:2]
        self.calls += 1
        x = (self.calls * 0.17) % 0.8 * w
        return [Face(Box(x, h * 0.1, x + w * 0.1, h * 0.2), 0.99, self.name)]


def test_pixelation_that_still_shows_a_face_is_replaced_by_solid_fill():
    register_detector("sees-faces-everywhere", _SeesFacesEverywhere)
    rendition = render(BIDEN, RenditionPlan(detector="sees-faces-everywhere", style="pixelate"))
    check = next(c for c in rendition.manifest.checks if c.name == "redaction")
    assert check.passed and "1 escalated to solid" in check.detail
    out = _rgb(rendition.data)
    h, w = out.shape[:2]
    assert np.abs(out[h // 2, w // 2].astype(int) - FILL).max() < 12


def test_faces_that_keep_appearing_fail_closed():
    register_detector("face-keeps-moving", _FaceKeepsMoving)
    with pytest.raises(RedactionCheckError) as info:
        render(BIDEN, RenditionPlan(detector="face-keeps-moving"))
    manifest = info.value.manifest
    assert manifest is not None and manifest.error
    assert any(not c.passed for c in manifest.checks)
