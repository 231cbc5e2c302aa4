"""Adapters for face_recognition (dlib): HOG/CNN detectors and 128-d face encodings.

dlib is the *recognition* side of photoguard. Its detectors find under half the
faces of a group photo (DESIGN.md §5), so their boxes may be added to the
redaction set but never replace it.

face_recognition is imported lazily, on first use, through :func:`load`,
because importing it has three side effects we must contain:

* if ``face_recognition_models`` cannot be imported (it needs ``pkg_resources``,
  gone from setuptools 81+), face_recognition prints a hint and calls ``quit()``:
  the whole process would exit with status 0. We catch that ``SystemExit`` and
  raise :class:`DetectionError` instead;
* it sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole process,
  which would make Pillow silently accept truncated files that photoguard's
  decoder must refuse. We put the previous value back;
* it loads every dlib model (~150 MB of RAM), which a detection-only worker
  never needs.
"""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from types import ModuleType

import numpy as np

from photoguard_core.errors import DetectionError
from photoguard_core.faces.centerface import check_rgb
from photoguard_core.faces.types import Face
from photoguard_core.geometry import Box

_lock = threading.Lock()
_module: ModuleType | None = None
_failure: str | None = None


def load() -> ModuleType:
    """Import face_recognition once, or raise :class:`DetectionError` saying why not."""
    global _module, _failure
    with _lock:
        if _module is not None:
            return _module
        if _failure is not None:
            raise DetectionError("face_recognition", _failure)
        from PIL import ImageFile

        truncated_flag = ImageFile.LOAD_TRUNCATED_IMAGES
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed), warnings.catch_warnings():
                # face_recognition_models warns that pkg_resources is deprecated on
                # every start; the Makefile pins setuptools<81 knowingly.
                warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
                import face_recognition
        except SystemExit:
            _failure = (
                "face_recognition called quit() while importing: face_recognition_models did "
                "not import (pkg_resources is gone from setuptools >= 81; the venv needs "
                f"setuptools<81, see Makefile). It printed: {printed.getvalue().strip()!r}"
            )
        except Exception as exc:  # noqa: BLE001 - ImportError, dlib's RuntimeError...
            _failure = f"cannot import face_recognition/dlib: {exc!r}"
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag
        if _failure is not None:
            raise DetectionError("face_recognition", _failure)
        _module = face_recognition
        return _module


def to_css(box: Box, height: int, width: int) -> tuple[int, int, int, int]:
    """Box -> face_recognition's (top, right, bottom, left) ints, inside the image."""
    x0, y0, x1, y1 = box.clipped(width, height).to_int()
    return (max(y0, 0), min(x1, width), min(y1, height), max(x0, 0))


def from_css(top: int, right: int, bottom: int, left: int) -> Box:
    """face_recognition's (top, right, bottom, left) -> Box (right/bottom exclusive)."""
    return Box(float(left), float(top), float(right), float(bottom))


def _rgb(rgb: np.ndarray) -> np.ndarray:
    check_rgb(rgb)
    # dlib wants a C-contiguous array (views from slicing or flipping are not).
    return np.ascontiguousarray(rgb)


class HogDetector:
    """dlib's HOG + linear SVM frontal face detector.

    ``upsample`` doubles the image that many times first: 0 finds faces of about
    80 px and up, 1 about 40 px, at four times the cost. The score is the SVM
    margin (0 is dlib's own threshold; not comparable with CenterFace scores).
    """

    def __init__(self, upsample: int = 1, name: str | None = None) -> None:
        self.upsample = int(upsample)
        self.name = name or ("hog" if self.upsample == 1 else f"hog{self.upsample}")

    def detect(self, rgb: np.ndarray) -> list[Face]:
        image = _rgb(rgb)
        fr = load()
        try:
            rects, scores, _ = fr.api.face_detector.run(image, self.upsample, 0.0)
        except Exception as exc:  # noqa: BLE001 - dlib raises RuntimeError and friends
            raise DetectionError(None, f"dlib HOG detector failed: {exc}") from exc
        return [
            Face(
                box=from_css(r.top(), r.right(), r.bottom(), r.left()).clipped(
                    image.shape[1], image.shape[0]
                ),
                score=float(score),
                detector=self.name,
            )
            for r, score in zip(rects, scores, strict=True)
        ]


class CnnDetector:
    """dlib's MMOD CNN face detector: more recall than HOG, seconds per image on a CPU."""

    def __init__(self, upsample: int = 1, name: str = "cnn") -> None:
        self.upsample = int(upsample)
        self.name = name

    def detect(self, rgb: np.ndarray) -> list[Face]:
        image = _rgb(rgb)
        fr = load()
        try:
            found = fr.api.cnn_face_detector(image, self.upsample)
        except Exception as exc:  # noqa: BLE001
            raise DetectionError(None, f"dlib CNN detector failed: {exc}") from exc
        h, w = image.shape[:2]
        return [
            Face(
                box=from_css(d.rect.top(), d.rect.right(), d.rect.bottom(), d.rect.left()).clipped(
                    w, h
                ),
                score=float(d.confidence),
                detector=self.name,
            )
            for d in found
        ]


def encodings(
    rgb: np.ndarray, boxes: list[Box], model: str = "small"
) -> tuple[list[np.ndarray], list[tuple[tuple[float, float], ...]]]:
    """128-d dlib encodings and 5 landmark points, one of each per box.

    ``model="small"`` is the 5-point landmark model; the 68-point model's training
    data is reported to exclude commercial use (DESIGN.md §9), so it is refused.
    Landmarks come back as dlib's 5 points: the corners of each eye, then the nose.
    """
    if model != "small":
        raise DetectionError(None, f"landmark model {model!r} refused: only 'small' (5-point)")
    if not boxes:
        return [], []
    image = _rgb(rgb)
    fr = load()
    h, w = image.shape[:2]
    locations = [to_css(b, h, w) for b in boxes]
    try:
        vectors = fr.face_encodings(image, known_face_locations=locations, model="small")
        marks = fr.face_landmarks(image, face_locations=locations, model="small")
    except Exception as exc:  # noqa: BLE001 - dlib raises RuntimeError and friends
        raise DetectionError(None, f"dlib face encoding failed: {exc}") from exc
    parts = ("left_eye", "right_eye", "nose_tip")
    points = [tuple((float(x), float(y)) for p in parts for x, y in m[p]) for m in marks]
    return [np.asarray(v, dtype=np.float64) for v in vectors], points
