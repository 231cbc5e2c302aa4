"""Face detection and encoding on real photos: every annotated face found, boxes where
the faces are, encodings that tell people apart, and failures that refuse to pass."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoguard_core.errors import DetectionError
from photoguard_core.faces import (
    detect_faces,
    detector_names,
    encode_faces,
    get_detector,
    merge_faces,
    register_detector,
)
from photoguard_core.faces.centerface import CenterFace, RawDetections, decode, resize
from photoguard_core.faces.sweep import CenterFaceSweep, SweepConfig, pass_scales, tile_spans
from photoguard_core.faces.types import Face
from photoguard_core.geometry import Box

FIXTURES = Path(__file__).parent / "fixtures"
DETECTION = FIXTURES / "detection"
IDENTITY = FIXTURES / "identity" / "images"
TWO_PEOPLE = IDENTITY / "fr__examples__two_people.jpg"  # Obama left, Biden right
OBAMA = IDENTITY / "fr__examples__obama.jpg"
OBAMA_240P = IDENTITY / "fr__examples__obama-240p.jpg"
BIDEN = IDENTITY / "fr__examples__biden.jpg"
GROUP = DETECTION / "images" / "pascal_dlib__2008_002079.jpg"  # 6 annotated faces, 37-53 px

FOUND_IOU = 0.3


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def truth() -> dict[str, list[Box]]:
    boxes = json.loads((DETECTION / "boxes_xywh.json").read_text())
    return {name: [Box.from_xywh(*b) for b in found] for name, found in boxes.items()}


def missed(faces: list[Face], expected: list[Box]) -> list[Box]:
    return [gt for gt in expected if not any(f.box.iou(gt) >= FOUND_IOU for f in faces)]


def mirror(box: Box, width: float) -> Box:
    return Box(width - box.x1, box.y0, width - box.x0, box.y1)


def matched(a: list[Box], b: list[Box], iou: float) -> bool:
    """Every box of ``a`` has a partner in ``b`` and the counts agree."""
    return len(a) == len(b) and all(max(x.iou(y) for y in b) >= iou for x in a)


# --- recall on the committed fixtures --------------------------------------------------


def test_fixture_set_is_the_filtered_one():
    names = set(truth())
    assert len(names) == 7
    # Photos whose subjects may be minors stay out of the repository.
    assert not names & {"pascal_dlib__2008_001009.jpg", "pascal_dlib__2008_004176.jpg"}
    assert names == {p.name for p in (DETECTION / "images").iterdir()}


@pytest.mark.slow
def test_sweep_finds_every_annotated_face():
    """Recall 1.00 of faces >= 20 px on the fixtures (the redaction detector's promise)."""
    lost = {}
    for name, expected in truth().items():
        faces = detect_faces(load(DETECTION / "images" / name))
        assert all(f.detector == "centerface-sweep" for f in faces)
        lost[name] = missed(faces, [b for b in expected if b.size >= 20])
    assert not any(lost.values()), lost


def test_sweep_finds_small_faces_the_single_pass_cannot():
    """Shrunk to a quarter, the dinner photo's faces are 9-13 px: the single pass loses
    some (CenterFace's limit is ~12 px), the sweep (which upsamples small images) must
    find every one."""
    rgb = load(GROUP)
    small = resize(rgb, 0.25)
    sx, sy = small.shape[1] / rgb.shape[1], small.shape[0] / rgb.shape[0]
    expected = [Box(b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy) for b in truth()[GROUP.name]]
    assert max(b.size for b in expected) < 14
    assert missed(detect_faces(small), expected) == []
    assert len(missed(detect_faces(small, detector="centerface"), expected)) >= 1


def test_tiles_do_not_lose_faces_cut_by_their_edges():
    """Tiny tiles put seams through faces; merged results must still find all of them."""
    config = SweepConfig(tile=256, overlap=96, flip=False, budget_pixels=1_000_000)
    sweep = CenterFaceSweep(get_detector("centerface"), config)
    rgb = load(GROUP)
    scales = pass_scales(*rgb.shape[:2], config)
    assert rgb.shape[1] * scales[0] > 2 * 256  # really tiled
    faces = sweep.detect(rgb)
    assert missed(faces, truth()[GROUP.name]) == []
    # One box per face, not one per tile: no two kept faces overlap much.
    for i, a in enumerate(faces):
        assert all(a.box.iou(b.box) < FOUND_IOU for b in faces[i + 1 :])


# --- boxes in the right place --------------------------------------------------------


def test_two_people_are_found_where_they_are():
    rgb = load(TWO_PEOPLE)
    h, w = rgb.shape[:2]
    faces = sorted(detect_faces(rgb), key=lambda f: f.box.center[0])
    assert len(faces) == 2
    left, right = faces
    assert left.box.x1 < w / 2 < right.box.x0
    for face in faces:
        assert face.box.center[1] < h / 2  # portraits: faces in the upper half
        assert 120 < face.box.size < 300
        assert face.score > 0.5
        assert face.landmarks is not None and len(face.landmarks) == 5
        # Both eyes above the nose, inside the box.
        (lx, ly), (rx, ry), (nx, ny) = face.landmarks[:3]
        assert ly < ny and ry < ny
        assert face.box.x0 < min(lx, rx) < max(lx, rx) < face.box.x1
    # An independent detector (dlib HOG) agrees on where the faces are.
    hog = detect_faces(rgb, detector="hog")
    assert matched([f.box for f in faces], [f.box for f in hog], 0.4)


def _best(boxes: list[Box], target: Box) -> Box:
    return max(boxes, key=target.iou)


def test_mirrored_image_gives_mirrored_boxes():
    """Detecting on np.fliplr(image) and mirroring back lands on the same faces, and
    the mirror mapping the sweep uses is exact."""
    rgb = load(GROUP)
    w = rgb.shape[1]
    engine = get_detector("centerface")
    direct = [f.box for f in engine.detect(rgb)]
    flipped = [mirror(f.box, w) for f in engine.detect(np.fliplr(rgb))]
    for gt in truth()[GROUP.name]:
        assert _best(direct, gt).iou(_best(flipped, gt)) >= 0.6

    raw = engine.infer(np.ascontiguousarray(rgb[:, ::-1]))
    back = raw.mirrored(w)
    np.testing.assert_allclose(back.boxes[:, 0], w - raw.boxes[:, 2])
    np.testing.assert_allclose(back.boxes[:, 2], w - raw.boxes[:, 0])
    # The person's left eye is found on the other side in the mirror: order is restored.
    np.testing.assert_allclose(back.landmarks[:, 0, 0], w - raw.landmarks[:, 1, 0])


def test_upscaled_pass_maps_boxes_back():
    rgb = load(GROUP)
    engine = get_detector("centerface")
    base = [f.box for f in engine.detect(rgb)]
    back = [f.box.scaled(0.5) for f in engine.detect(resize(rgb, 2.0))]
    for gt in truth()[GROUP.name]:
        assert _best(base, gt).iou(_best(back, gt)) >= 0.6
    raw = RawDetections(
        np.array([[10.0, 20.0, 30.0, 60.0]], np.float32),
        np.array([0.9], np.float32),
        np.zeros((1, 5, 2), np.float32),
    )
    moved = raw.shifted(100, 50).scaled(0.5)
    np.testing.assert_allclose(moved.boxes[0], [55, 35, 65, 55])


def test_decoding_follows_the_centerface_output_layout():
    """One peak in hand-made outputs decodes to exactly the box and landmarks the
    layout defines (height/width from exp(scale) * 4, centre offset (y, x), landmarks
    as (y, x) fractions of the box)."""
    heat = np.zeros((1, 1, 8, 8), np.float32)
    scale = np.zeros((1, 2, 8, 8), np.float32)
    offset = np.zeros((1, 2, 8, 8), np.float32)
    marks = np.zeros((1, 10, 8, 8), np.float32)
    heat[0, 0, 3, 5] = 0.9
    heat[0, 0, 3, 4] = 0.5  # a weaker neighbour of the same blob: not a peak
    scale[0, :, 3, 5] = [np.log(40 / 4), np.log(20 / 4)]  # height 40, width 20
    offset[0, :, 3, 5] = [0.25, -0.5]  # (y, x) in cells
    marks[0, :2, 3, 5] = [0.1, 0.3]  # first landmark: y 10% down, x 30% across
    raw = decode([heat, scale, offset, marks], threshold=0.2)
    assert len(raw) == 1
    x0 = (5 - 0.5 + 0.5) * 4 - 20 / 2
    y0 = (3 + 0.25 + 0.5) * 4 - 40 / 2
    np.testing.assert_allclose(raw.boxes[0], [x0, y0, x0 + 20, y0 + 40], atol=1e-4)
    np.testing.assert_allclose(raw.landmarks[0, 0], [x0 + 0.3 * 20, y0 + 0.1 * 40], atol=1e-4)
    assert raw.scores[0] == pytest.approx(0.9)
    assert len(decode([heat, scale, offset, marks], threshold=0.95)) == 0


def test_large_input_keeps_its_coordinates():
    """A 2x upscaled photo goes through the tiled, multi-level path; boxes come back
    in the caller's pixels, twice the annotated ones."""
    rgb = resize(load(GROUP), 2.0)
    faces = detect_faces(rgb)
    expected = [b.scaled(2.0) for b in truth()[GROUP.name]]
    assert missed(faces, expected) == []
    assert all(0 <= f.box.x0 < f.box.x1 <= rgb.shape[1] for f in faces)
    assert all(0 <= f.box.y0 < f.box.y1 <= rgb.shape[0] for f in faces)


def test_faces_too_big_for_a_level_are_left_to_coarser_levels():
    """A 450 px face at native scale comes out of CenterFace in pieces; only the
    coarsest level may report boxes above ``max_net_face``."""
    rgb = resize(load(IDENTITY / "df__tests__unit__dataset__couple.jpg"), 0.7)
    sweep = CenterFaceSweep(get_detector("centerface"))
    limit = sweep.config.max_net_face
    fine = sweep._pass(rgb, 1.0, flip=False, coarsest=False)
    last = sweep._pass(rgb, 1.0, flip=False, coarsest=True)
    assert len(fine) and all(min(x1 - x0, y1 - y0) <= limit for x0, y0, x1, y1 in fine.boxes)
    assert any(min(x1 - x0, y1 - y0) > limit for x0, y0, x1, y1 in last.boxes)
    # Whole, the photo gives its two faces as two boxes, not a pile of partial ones.
    big = [f for f in detect_faces(rgb) if f.box.size >= 80]
    assert len(big) == 2


# --- nothing where there is nothing --------------------------------------------------


@pytest.mark.parametrize("detector", ["centerface-sweep", "centerface", "hog"])
def test_no_faces_in_flat_or_noise_images(detector):
    flat = np.full((480, 640, 3), 128, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert detect_faces(flat, detector=detector) == []
    assert detect_faces(noise, detector=detector) == []


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 300, 3), (31, 33, 3)])
def test_tiny_images_are_searched_without_error(shape):
    assert detect_faces(np.zeros(shape, np.uint8)) == []


def test_min_face_drops_small_faces_only():
    rgb = load(GROUP)
    every = detect_faces(rgb)
    big = detect_faces(rgb, min_face=45)
    assert big and len(big) < len(every)
    assert all(f.box.size >= 45 for f in big)


# --- the pyramid and tiles -----------------------------------------------------------


def test_pass_scales_fit_the_budget_and_reach_small_and_large_faces():
    config = SweepConfig()
    # A photo decoded to 2000 px: a 20 px face stays >= 16 px at the finest level,
    # the coarsest level shows a 1000 px face at <= 330 px, the pyramid fits the budget.
    scales = pass_scales(1500, 2000, config)
    assert scales[0] >= 0.8 and 2000 * scales[-1] <= config.coarse_side
    assert sum(1500 * 2000 * s * s for s in scales) <= config.budget_pixels * 1.05
    # A small image is enlarged so faces below CenterFace's ~12 px limit become visible.
    assert pass_scales(480, 640, config)[0] == config.max_upscale
    # Levels close to native run at native (no resampling).
    assert 1.0 in pass_scales(375, 500, config)


@pytest.mark.parametrize("length", [1, 100, 1024, 1025, 2000, 3333])
def test_tile_spans_cover_everything_with_overlap(length):
    spans = tile_spans(length, 1024, 96)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(0 < b - a <= 1024 for a, b in spans)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end - start >= 96


# --- merging -------------------------------------------------------------------------


def test_merge_keeps_the_best_face_with_a_box_covering_its_group():
    a = Face(Box(100, 100, 200, 200), 0.9, "centerface")
    b = Face(Box(110, 90, 215, 205), 0.6, "hog")  # same face, box a little larger
    c = Face(Box(400, 100, 450, 150), 0.3, "centerface")  # someone else
    merged = merge_faces([b, c, a])
    assert [f.score for f in merged] == [0.9, 0.3]
    assert merged[0].detector == "centerface"
    assert merged[0].box == Box(100, 90, 215, 205)  # never smaller than either box
    assert merged[1] == c


def test_merge_drops_a_loosely_overlapping_box_without_widening():
    """IoU 0.3-0.5: the same face with a worse box, dropped; widening to it would make
    a loose box reaching towards a neighbour."""
    best = Face(Box(100, 100, 200, 200), 0.9, "centerface")
    loose = Face(Box(140, 100, 260, 220), 0.4, "centerface")
    assert 0.3 <= best.box.iou(loose.box) < 0.5
    assert merge_faces([loose, best]) == [best]


def test_merge_never_folds_a_small_face_into_a_bigger_one():
    parent = Face(Box(100, 100, 400, 400), 0.9, "centerface")
    child = Face(Box(150, 250, 230, 330), 0.5, "centerface")  # inside, much smaller
    partial = Face(Box(105, 250, 395, 400), 0.4, "centerface")  # mouth-and-chin strip
    merged = merge_faces([parent, child, partial])
    assert [f.box for f in merged] == [parent.box, child.box]


def test_merge_does_not_let_an_oversized_box_swallow_a_face():
    face = Face(Box(100, 100, 140, 140), 0.9, "centerface")
    huge = Face(Box(0, 0, 500, 500), 0.25, "centerface")
    assert len(merge_faces([face, huge])) == 2


# --- encodings -----------------------------------------------------------------------


def _single_encoding(path: Path) -> np.ndarray:
    rgb = load(path)
    faces = encode_faces(rgb, detect_faces(rgb))
    encoded = [f for f in faces if f.encoding is not None]
    assert len(encoded) == 1
    return encoded[0].encoding


def test_encodings_tell_people_apart():
    obama, obama_small, biden = (_single_encoding(p) for p in (OBAMA, OBAMA_240P, BIDEN))
    assert obama.shape == (128,)
    same = np.linalg.norm(obama - obama_small)
    other = np.linalg.norm(obama - biden)
    assert same < 0.4 < 0.6 < other  # dlib's usual tolerance is 0.6
    # In the two-people photo, the left face is Obama's and the right one Biden's.
    rgb = load(TWO_PEOPLE)
    left, right = sorted(encode_faces(rgb, detect_faces(rgb)), key=lambda f: f.box.x0)
    assert np.linalg.norm(left.encoding - obama) < 0.6 < np.linalg.norm(left.encoding - biden)
    assert np.linalg.norm(right.encoding - biden) < 0.6 < np.linalg.norm(right.encoding - obama)


def test_small_faces_get_no_encoding_and_order_is_kept():
    rgb = load(GROUP)
    faces = detect_faces(rgb)
    encoded = encode_faces(rgb, faces, min_size=45)
    assert [f.box for f in encoded] == [f.box for f in faces]
    for before, after in zip(faces, encoded, strict=True):
        if before.box.size >= 45:
            assert after.encoding is not None and after.encoding.shape == (128,)
        else:
            assert after.encoding is None
    assert any(f.encoding is None for f in encoded) and any(f.encoding is not None for f in encoded)


def test_encode_faces_gives_landmarks_to_faces_without_them():
    rgb = load(OBAMA)
    hog = detect_faces(rgb, detector="hog")
    assert len(hog) == 1 and hog[0].landmarks is None
    (face,) = encode_faces(rgb, hog)
    assert face.encoding is not None and len(face.landmarks) == 5
    assert all(face.box.grown(0.1).x0 <= x <= face.box.grown(0.1).x1 for x, _ in face.landmarks)


def test_only_the_five_point_model_is_allowed():
    rgb = load(OBAMA)
    with pytest.raises(DetectionError, match="5-point"):
        encode_faces(rgb, detect_faces(rgb), model="large")


# --- registry and failures -----------------------------------------------------------


def test_registry_names_and_cached_instances():
    assert detector_names()[:2] == ["centerface-sweep", "centerface"]
    assert {"hog", "hog0", "cnn"} <= set(detector_names())
    assert get_detector() is get_detector("centerface-sweep")
    assert get_detector("hog0").upsample == 0 and get_detector("hog").upsample == 1
    with pytest.raises(DetectionError, match="unknown face detector"):
        get_detector("no-such-detector")


def test_a_registered_detector_is_used_by_name():
    class Fixed:
        name = "fixed"

        def detect(self, rgb):
            return [Face(Box(1, 2, 30, 40), 1.0, self.name)]

    register_detector("test-fixed", Fixed)
    (face,) = detect_faces(np.zeros((50, 50, 3), np.uint8), detector="test-fixed")
    assert face.detector == "fixed"


def test_broken_model_raises_detection_error(tmp_path):
    with pytest.raises(DetectionError, match="cannot load"):
        CenterFace(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model at all" * 100)
    with pytest.raises(DetectionError, match="cannot load"):
        CenterFace(garbage)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((9, 9, 3), float)],
)
def test_wrong_arrays_are_refused(bad):
    with pytest.raises(DetectionError, match="expected"):
        detect_faces(bad)


def test_face_recognition_quitting_on_import_becomes_a_detection_error(tmp_path):
    """face_recognition calls quit() (status 0!) when its models do not import; we must
    turn that into an error, keep the process alive and restore Pillow's flag."""
    fake = tmp_path / "face_recognition"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "from PIL import ImageFile\n"
        "ImageFile.LOAD_TRUNCATED_IMAGES = True\n"
        "print('Please install `face_recognition_models`')\n"
        "quit()\n"
    )
    child = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        import numpy as np
        from PIL import ImageFile
        from photoguard_core.errors import DetectionError
        from photoguard_core.faces import detect_faces
        try:
            detect_faces(np.zeros((64, 64, 3), np.uint8), detector="hog")
        except DetectionError as exc:
            print("REFUSED:", exc)
        print("ALIVE truncated-flag:", ImageFile.LOAD_TRUNCATED_IMAGES)
        """
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    assert "REFUSED:" in proc.stdout and "setuptools" in proc.stdout
    assert "ALIVE truncated-flag: False" in proc.stdout


def test_real_face_recognition_import_leaves_pillow_strict():
    from PIL import ImageFile

    detect_faces(load(OBAMA_240P), detector="hog")  # imports face_recognition if not yet
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
