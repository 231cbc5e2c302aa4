"""Face boxes follow the pixels through crops, resizes and turns, and filter specs
give exactly the crop and size Wagtail itself produces."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from photoguard_core.errors import PlanError
from photoguard_core.geometry import Box
from photoguard_core.render.redact import region_for
from photoguard_core.render.transform import (
    EXIF_TRANSPOSE,
    Crop,
    Resize,
    Transform,
    transform_for_spec,
)


def _marked(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """Black image with a white rectangle at ``box`` (x0, y0, x1, y1 exclusive)."""
    image = Image.new("L", size, 0)
    ImageDraw.Draw(image).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    return image


def _xyxy(box: Box | None) -> tuple[float, float, float, float] | None:
    return None if box is None else (box.x0, box.y0, box.x1, box.y1)


def _where(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the bright pixels (the marked rectangle after a transform)."""
    return image.point(lambda v: 255 if v > 127 else 0).getbbox()


# --- the transform itself -----------------------------------------------------------


def test_identity_maps_a_box_to_itself():
    t = Transform.identity((400, 300))
    box = Box(10.5, 20, 50, 80)
    assert t.apply(box) == box
    assert t.steps == () and t.size == (400, 300)


def test_crop_then_resize_moves_and_scales():
    t = Transform.identity((4000, 3000)).crop((500, 0, 3500, 2250)).resize(800, 600)
    assert t.size == (800, 600)
    assert t.steps == (Crop((500, 0, 3500, 2250)), Resize(800, 600))
    # 3000x2250 -> 800x600: a factor of 800/3000 on both axes, after a shift of 500.
    mapped = t.apply(Box(1100, 300, 1400, 700))
    assert _xyxy(mapped) == pytest.approx((160, 80, 240, 186.6666667))
    assert _xyxy(t.source_box) == pytest.approx((500, 0, 3500, 2250))


def test_box_outside_the_crop_is_none_and_partial_box_is_clipped():
    t = Transform.identity((1000, 1000)).crop((200, 200, 600, 600))
    assert t.apply(Box(0, 0, 150, 150)) is None  # wholly left of and above the crop
    assert t.apply(Box(600, 300, 700, 400)) is None  # touches the edge only: nothing shows
    assert t.apply(Box(100, 300, 300, 400)) == Box(0, 100, 100, 200)
    assert t.apply_unclipped(Box(100, 300, 300, 400)) == Box(-100, 100, 100, 200)


def test_redaction_grows_the_unclipped_box_not_the_visible_part():
    """Why redaction takes apply_unclipped: a face cut in half by the crop edge.

    Growing the clipped half grows by half as much on the far side, so the hair and
    ear on the visible side would stay uncovered.
    """
    t = Transform.identity((1000, 1000)).crop((300, 0, 1000, 1000))
    face = Box(200, 400, 400, 600)  # 200 px wide, half of it left of the crop
    whole = region_for(t.apply_unclipped(face), 0.35, "box").clipped(*t.size)
    visible = region_for(t.apply(face), 0.35, "box").clipped(*t.size)
    assert whole == Box(0, 330, 170, 670)
    assert visible.x1 < whole.x1  # the half-box way leaves 35 px of hair and ear showing
    assert whole.coverage_by(visible) < 0.8


def test_crop_and_resize_match_pillow_pixels():
    """A marked rectangle lands where the transform says, after Pillow does the work."""
    source = _marked((640, 480), (200, 100, 300, 180))
    t = Transform.identity(source.size).crop((100, 50, 500, 350)).resize(200, 150)
    out = t.apply_image(source, Image.Resampling.BOX)
    mapped = t.apply(Box(200, 100, 300, 180))
    assert out.size == t.size == (200, 150)
    assert _where(out) == pytest.approx(mapped.to_int(), abs=1)


@pytest.mark.parametrize("method", list(Image.Transpose))
def test_every_transpose_matches_pillow(method):
    source = _marked((64, 40), (5, 7, 20, 11))
    t = Transform.identity(source.size).transpose(method)
    out = source.transpose(method)
    assert t.size == out.size
    assert _where(out) == t.apply(Box(5, 7, 20, 11)).to_int()


@pytest.mark.parametrize("orientation", sorted(EXIF_TRANSPOSE))
def test_exif_orientation_matches_exif_transpose(orientation):
    stored = _marked((64, 40), (5, 7, 20, 11))
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.info["exif"] = exif.tobytes()
    upright = ImageOps.exif_transpose(stored)
    t = Transform.identity(stored.size).orient(orientation)
    assert t.size == upright.size
    assert _where(upright) == t.apply(Box(5, 7, 20, 11)).to_int()


def test_chained_turn_crop_resize_matches_pillow():
    source = _marked((300, 200), (40, 30, 90, 70))
    t = Transform.identity(source.size).rotate(90).crop((10, 20, 190, 290)).resize(90, 135)
    out = source.rotate(90, expand=True).crop((10, 20, 190, 290)).resize((90, 135), Image.BOX)
    assert t.apply_image(source, Image.Resampling.BOX).tobytes() == out.tobytes()
    assert _where(out) == pytest.approx(t.apply(Box(40, 30, 90, 70)).to_int(), abs=1)


def test_impossible_steps_are_refused():
    t = Transform.identity((100, 100))
    with pytest.raises(PlanError):
        t.crop((50, 50, 150, 90))  # reaches outside: Pillow would pad, Willow would clamp
    with pytest.raises(PlanError):
        t.crop((50, 50, 50, 90))  # empty
    with pytest.raises(PlanError):
        t.resize(0, 10)
    with pytest.raises(PlanError):
        t.rotate(45)
    with pytest.raises(PlanError):
        t.apply_image(Image.new("RGB", (99, 100)))


# --- Wagtail filter specs -----------------------------------------------------------


def test_common_specs_give_the_expected_geometry():
    fill = transform_for_spec("fill-800x600", (4000, 2000))
    # 2:1 into 4:3: the centred 2667x2000 crop, then down to 800x600.
    assert fill.steps == (Crop((666, 0, 3334, 2000)), Resize(800, 600))
    assert transform_for_spec("max-400x400", (4000, 3000)).steps == (Resize(400, 300),)
    assert transform_for_spec("width-300", (4000, 3000)).size == (300, 225)
    assert transform_for_spec("original", (4000, 3000)).steps == ()
    # Never enlarged: a small image is only cropped to the aspect ratio.
    assert transform_for_spec("fill-800x600", (400, 400)).steps == (Crop((0, 50, 400, 350)),)
    # Pixel-only operations and photoguard's own are skipped; separators as Wagtail's.
    assert transform_for_spec("fill-800x600 guard-website jpegquality-60", (4000, 2000)) == fill


def test_focal_point_moves_the_fill_crop():
    centred = transform_for_spec("fill-300x300", (1200, 600))
    right = transform_for_spec("fill-300x300", (1200, 600), focal_point=Box(1000, 200, 1100, 300))
    assert centred.steps[0] == Crop((300, 0, 900, 600))
    # The focal point sits as far into the crop (7/8 across) as into the image.
    assert right.steps[0] == Crop((525, 0, 1125, 600))


def test_unknown_or_broken_operations_fail_closed():
    with pytest.raises(PlanError, match="unknown geometry"):
        transform_for_spec("fill-800x600|rotate-90", (4000, 3000))
    assert transform_for_spec("rotate-90", (40, 30), pixel_operations=["rotate"]).steps == ()
    for bad in ("fill-800", "max-400x400-x", "width-abc", "", "fill 800x600;", "fill-0x0"):
        with pytest.raises(PlanError):
            transform_for_spec(bad, (4000, 3000))


SIZES = [(4000, 3000), (3000, 4000), (1126, 661), (640, 480), (333, 777), (799, 601), (100, 50)]
SPECS = [
    "original",
    "fill-800x600",
    "fill-400x300",
    "fill-200x200",
    "fill-800x600-c100",
    "fill-300x300-c50",
    "fill-160x90-c75",
    "max-400x400",
    "max-600x600",
    "max-165x165",
    "min-300x300",
    "width-300",
    "width-1200",
    "height-200",
    "scale-37.5",
    "fill-800x600|jpegquality-60",
    "width-500|fill-100x100",
]
#: Focal points as Wagtail stores them: centre x, centre y, width, height.
FOCAL_POINTS = [None, (0.7, 0.3, 0.1, 0.15), (0.05, 0.9, 0.08, 0.08), (0.5, 0.5, 0.6, 0.6)]

#: Run in a fresh interpreter: Wagtail's Filter needs configured Django apps, which
#: must not leak into (or depend on) the test process's own Django settings.
_WAGTAIL_SCRIPT = r"""
import hashlib, json, sys
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "taggit",
                    "wagtail.images", "wagtail"],
    DATABASES={}, STATIC_URL="/static/", USE_TZ=True,
)
django.setup()
import numpy as np
from PIL import Image
from wagtail.images.models import Filter
from wagtail.images.rect import Rect
from willow.plugins.pillow import PillowImage

class Dummy:
    def __init__(self, size, focal):
        self.width, self.height = size
        self.focal = focal
    def is_svg(self):
        return False
    def get_focal_point(self):
        return None if self.focal is None else Rect.from_point(*self.focal)

out = []
for case in json.loads(sys.stdin.read()):
    size = tuple(case["size"])
    image = Dummy(size, case["focal"])
    transform = Filter(spec=case["spec"]).get_transform(image, size)
    row = {"rect": list(transform.get_rect().round()), "size": list(transform.size)}
    if case["pixels"]:
        rng = np.random.default_rng(case["seed"])
        pixels = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
        w = PillowImage(pixels).crop(transform.get_rect().round()).resize(transform.size)
        row["sha256"] = hashlib.sha256(w.image.tobytes()).hexdigest()
    out.append(row)
print(json.dumps(out))
"""


def _cases() -> list[dict]:
    cases = []
    for size in SIZES:
        for spec in SPECS:
            for focal in FOCAL_POINTS:
                fp = None
                if focal is not None:
                    fx, fy, fw, fh = focal
                    fp = [fx * size[0], fy * size[1], fw * size[0], fh * size[1]]
                small = size[0] * size[1] <= 700_000
                seed = len(cases)
                cases.append(
                    {"size": size, "spec": spec, "focal": fp, "pixels": small, "seed": seed}
                )
    return cases


def _focal_box(fp: list[float] | None) -> Box | None:
    """Wagtail's Rect.from_point, as a Box: the same arithmetic, the same floats."""
    if fp is None:
        return None
    x, y, w, h = fp
    return Box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def test_specs_match_real_wagtail_crop_size_and_pixels(tmp_path):
    """Crop box and final size for every case, and Willow's very pixels for small images."""
    cases = _cases()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", _WAGTAIL_SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    wagtail = json.loads(result.stdout)
    assert len(wagtail) == len(cases)

    compared_pixels = 0
    for case, theirs in zip(cases, wagtail, strict=True):
        size = tuple(case["size"])
        ours = transform_for_spec(case["spec"], size, focal_point=_focal_box(case["focal"]))
        label = f"{case['spec']} on {size} focal {case['focal']}"
        # Willow clamps Wagtail's rounded rectangle to the image before cropping.
        left, top, right, bottom = theirs["rect"]
        clamped = (max(0, left), max(0, top), min(size[0], right), min(size[1], bottom))
        crop = next((s.box for s in ours.steps if isinstance(s, Crop)), (0, 0, *size))
        assert crop == clamped, label
        assert list(ours.size) == theirs["size"], label
        if "sha256" in theirs:
            rng = np.random.default_rng(case["seed"])
            pixels = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
            mine = ours.apply_image(pixels, Image.Resampling.LANCZOS)
            assert hashlib.sha256(mine.tobytes()).hexdigest() == theirs["sha256"], label
            compared_pixels += 1
    assert compared_pixels > 100  # the pixel comparison really ran
