"""Faces: find every face (for redaction), encode those big enough to recognise.

A few plain functions over upright RGB ``uint8`` numpy arrays of shape (H, W, 3)::

    from photoguard_core.faces import detect_faces, encode_faces

    faces = detect_faces(rgb)            # the redaction set: high recall
    faces = encode_faces(rgb, faces)     # + 128-d encodings where recognisable

Detectors are small plugins registered by name (:func:`register_detector`); one
instance of each is created per process on first use and reused, because model
sessions are expensive to build. Built in:

``centerface-sweep``  CenterFace over scales, tiles and a mirrored view: the
                      redaction default (recall first, DESIGN.md §2 rule 3).
``centerface``        one CenterFace pass: fast, misses faces under ~12 px.
``hog`` / ``hog0``    dlib HOG (upsample 1 / 0): recognition-grade, low recall.
``cnn``               dlib CNN (MMOD): slow on a CPU.

Boxes come back in the coordinates of the array passed in. A detector that
cannot run raises :class:`photoguard_core.errors.DetectionError`; an empty list
means "looked and found nothing".

CenterFace runs on one thread per process: photoguard scales by running one
worker process per core (as dlib needs anyway). A single interactive process can
trade that for latency before first use::

    from photoguard_core.faces.centerface import CenterFace
    register_detector("centerface", lambda: CenterFace(threads=4))  # the sweep shares it
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

import numpy as np

from photoguard_core.errors import DetectionError
from photoguard_core.faces.centerface import check_rgb
from photoguard_core.faces.types import Face, FaceDetector

__all__ = [
    "DEFAULT_DETECTOR",
    "Face",
    "FaceDetector",
    "detect_faces",
    "detector_names",
    "encode_faces",
    "get_detector",
    "merge_faces",
    "register_detector",
]

DEFAULT_DETECTOR = "centerface-sweep"


# --- registry -----------------------------------------------------------------------
# Factories import their backend only when called: a worker that never uses dlib
# never pays for (or risks) importing face_recognition.


def _centerface() -> FaceDetector:
    from photoguard_core.faces.centerface import CenterFace

    return CenterFace()


def _centerface_sweep() -> FaceDetector:
    from photoguard_core.faces.centerface import CenterFace
    from photoguard_core.faces.sweep import CenterFaceSweep

    single = get_detector("centerface")
    # Share the single pass's onnxruntime session (one model in memory, not two).
    return CenterFaceSweep(single if isinstance(single, CenterFace) else None)


def _hog(upsample: int, name: str) -> Callable[[], FaceDetector]:
    def make() -> FaceDetector:
        from photoguard_core.faces.recognition import HogDetector

        return HogDetector(upsample, name=name)

    return make


def _cnn() -> FaceDetector:
    from photoguard_core.faces.recognition import CnnDetector

    return CnnDetector()


_factories: dict[str, Callable[[], FaceDetector]] = {
    "centerface-sweep": _centerface_sweep,
    "centerface": _centerface,
    "hog": _hog(1, "hog"),
    "hog0": _hog(0, "hog0"),
    "cnn": _cnn,
}
_instances: dict[str, FaceDetector] = {}
_instances_pid = os.getpid()
_lock = threading.RLock()  # a factory may ask for another detector


def register_detector(name: str, factory: Callable[[], FaceDetector]) -> None:
    """Make ``get_detector(name)`` build detectors with ``factory`` (replaces a same-named one)."""
    with _lock:
        _factories[name] = factory
        _instances.pop(name, None)


def detector_names() -> list[str]:
    """Registered detector names, the redaction default first."""
    return list(_factories)


def get_detector(name: str = DEFAULT_DETECTOR) -> FaceDetector:
    """The process's shared instance of the detector registered as ``name``.

    Instances are not carried across ``fork``: a worker process builds its own,
    since an onnxruntime session is not meant to be used on both sides of a fork.
    """
    global _instances_pid
    with _lock:
        if _instances_pid != os.getpid():
            _instances.clear()
            _instances_pid = os.getpid()
        detector = _instances.get(name)
        if detector is None:
            factory = _factories.get(name)
            if factory is None:
                raise DetectionError(
                    None, f"unknown face detector {name!r}; known: {', '.join(_factories)}"
                )
            detector = _instances[name] = factory()
        return detector


# --- detection ----------------------------------------------------------------------


def detect_faces(
    rgb: np.ndarray,
    *,
    detector: str | FaceDetector = DEFAULT_DETECTOR,
    min_face: float = 0,
) -> list[Face]:
    """Every face ``detector`` finds in ``rgb``: with the default, the redaction set.

    ``min_face`` drops faces whose shorter side is below it (px). Leave it at 0 for
    redaction: a face too small to recognise can still be recognisable to a parent.
    """
    check_rgb(rgb)
    engine = get_detector(detector) if isinstance(detector, str) else detector
    faces = engine.detect(rgb)
    return [f for f in faces if f.box.size >= min_face]


def encode_faces(
    rgb: np.ndarray,
    faces: Iterable[Face],
    *,
    min_size: float = 40,
    min_score: float = 0.0,
    model: str = "small",
) -> list[Face]:
    """The same faces, in order; those at least ``min_size`` px get a 128-d dlib encoding.

    ``min_score`` skips weak detections (compare it only with the detector's own
    scores): each encoding costs about 0.1 s, and a face left without one is simply
    unknown, so redacted.

    Smaller faces keep ``encoding=None``: dlib's encoder is unreliable on them, so they
    stay unknown, and unknown faces are redacted. Encoded faces that had no landmarks
    (e.g. from HOG) get dlib's 5 points. ``model`` must be ``"small"`` (DESIGN.md §9).
    """
    from photoguard_core.faces import recognition

    check_rgb(rgb)
    faces = list(faces)
    chosen = [i for i, f in enumerate(faces) if f.box.size >= min_size and f.score >= min_score]
    vectors, points = recognition.encodings(rgb, [faces[i].box for i in chosen], model=model)
    out = list(faces)
    for i, vector, marks in zip(chosen, vectors, points, strict=True):
        face = faces[i].with_encoding(vector)
        if face.landmarks is None:
            face = Face(face.box, face.score, face.detector, marks, vector)
        out[i] = face
    return out


def merge_faces(faces: Iterable[Face], *, iou: float = 0.3) -> list[Face]:
    """Merge boxes of the same face (e.g. from several detectors), best score first.

    Greedy by score (:func:`photoguard_core.faces.centerface.merge_boxes`): the best
    face of each group survives with its score, detector and landmarks; boxes
    overlapping it at IoU >= ``iou`` are dropped, and its box widens to the union of
    those overlapping it heavily (IoU >= 0.5) and of partial boxes of the same face,
    so merging never leaves a face's box smaller than the evidence. A much smaller
    box inside it (maybe another person) stays a face of its own. Scores of
    different detectors are not on one scale, so when mixing detectors the
    survivor's identity is arbitrary but its box still covers its group. A face
    whose box grew loses its encoding (it described the old box).
    """
    from photoguard_core.faces.centerface import merge_boxes
    from photoguard_core.geometry import Box

    faces = list(faces)
    if not faces:
        return []
    boxes = np.array([[f.box.x0, f.box.y0, f.box.x1, f.box.y1] for f in faces], np.float64)
    scores = np.array([f.score for f in faces], np.float64)
    out = []
    for index, union in merge_boxes(boxes, scores, iou=iou):
        face = faces[index]
        if not np.array_equal(union, boxes[index]):
            face = Face(Box(*(float(v) for v in union)), face.score, face.detector, face.landmarks)
        out.append(face)
    return out
