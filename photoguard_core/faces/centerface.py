"""CenterFace (MIT weights, see models/CENTERFACE-LICENSE.txt) run with onnxruntime on CPU.

CenterFace is an anchor-free detector: for every 4x4 cell of the input it predicts
how likely a face centre is there (heatmap), the face's size (log-scale), a
sub-cell offset of the centre and five landmarks. This module owns the
pre-processing (pad to a multiple of 32, RGB float32 0-255, no normalisation)
and the decoding; :mod:`photoguard_core.faces.sweep` builds the high-recall
multi-scale detector on top of :meth:`CenterFace.infer`.

Two facts about the shipped graph shape the loading code:

* its input is declared with fixed dims ``[10, 3, 32, 32]``; we rewrite the
  input and output dims as symbolic at load time so one session serves every
  image size (the weights are untouched);
* it is an old-IR export that lists every weight as a graph *input* too, which
  stops onnxruntime from folding batch norms into convolutions; dropping those
  entries from the input list makes inference about 4x faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photoguard_core.errors import DetectionError
from photoguard_core.faces.types import Face
from photoguard_core.geometry import Box

MODEL_PATH = Path(__file__).parent / "models" / "centerface.onnx"

INPUT_NAME = "input.1"
# heatmap [N,1,h,w], log-size [N,2,h,w], centre offset [N,2,h,w], landmarks [N,10,h,w]
OUTPUT_NAMES = ("537", "538", "539", "540")
STRIDE = 4  # one output cell per 4x4 input pixels
ALIGN = 32  # the backbone downsamples 32x: inputs are padded to a multiple of it

# DESIGN.md §5 measured recall 0.95 on held-out group photos at this threshold.
DEFAULT_THRESHOLD = 0.2
# Above this long side a single pass splits big faces into partial boxes (DESIGN.md
# §9) and one pass peaks near 1 GB of memory (measured); the image is shrunk first.
DEFAULT_MAX_SIDE = 2048


@dataclass(frozen=True)
class RawDetections:
    """Decoded output of one forward pass, as arrays (cheap to shift, scale, merge).

    ``boxes`` is (n, 4) x0, y0, x1, y1; ``landmarks`` is (n, 5, 2) x, y in the model's
    order: eye on the image's left, other eye, nose tip, mouth corner on the image's
    left, other mouth corner.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    @classmethod
    def empty(cls) -> RawDetections:
        zeros = np.zeros
        return cls(zeros((0, 4), np.float32), zeros(0, np.float32), zeros((0, 5, 2), np.float32))

    def __len__(self) -> int:
        return len(self.scores)

    def shifted(self, dx: float, dy: float) -> RawDetections:
        """Move by ``(dx, dy)``: from a tile's coordinates to its image's."""
        return RawDetections(
            self.boxes + np.array([dx, dy, dx, dy], np.float32),
            self.scores,
            self.landmarks + np.array([dx, dy], np.float32),
        )

    def scaled(self, fx: float, fy: float | None = None) -> RawDetections:
        """Multiply coordinates by ``(fx, fy)``: from a resized copy back to the original."""
        fy = fx if fy is None else fy
        return RawDetections(
            self.boxes * np.array([fx, fy, fx, fy], np.float32),
            self.scores,
            self.landmarks * np.array([fx, fy], np.float32),
        )

    def mirrored(self, width: float) -> RawDetections:
        """Map detections made on ``np.fliplr(image)`` back onto the unflipped image."""
        boxes = self.boxes.copy()
        boxes[:, 0] = width - self.boxes[:, 2]
        boxes[:, 2] = width - self.boxes[:, 0]
        landmarks = self.landmarks.copy()
        landmarks[:, :, 0] = width - self.landmarks[:, :, 0]
        # The eye that was on the image's left is now on its right: swap the pairs so
        # the order keeps its meaning.
        landmarks = landmarks[:, [1, 0, 2, 4, 3], :]
        return RawDetections(boxes, self.scores, landmarks)

    def selected(self, keep: np.ndarray) -> RawDetections:
        return RawDetections(self.boxes[keep], self.scores[keep], self.landmarks[keep])

    @staticmethod
    def concat(parts: list[RawDetections]) -> RawDetections:
        parts = [p for p in parts if len(p)]
        if not parts:
            return RawDetections.empty()
        return RawDetections(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.landmarks for p in parts]),
        )

    def to_faces(self, detector: str) -> list[Face]:
        faces = []
        for box, score, lms in zip(self.boxes, self.scores, self.landmarks, strict=True):
            faces.append(
                Face(
                    box=Box(*(float(v) for v in box)),
                    score=float(score),
                    detector=detector,
                    landmarks=tuple((float(x), float(y)) for x, y in lms),
                )
            )
        return faces


def _make_dims_symbolic(model_bytes: bytes) -> bytes:
    """Return the graph with free batch/height/width dims and weights no longer inputs."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in weights]
    if [i.name for i in real_inputs] != [INPUT_NAME]:
        found = [i.name for i in real_inputs]
        raise ValueError(f"expected one input {INPUT_NAME!r}, found {found}")
    del graph.input[:]
    graph.input.extend(real_inputs)
    for value, names in [(graph.input[0], ("N", None, "H", "W"))] + [
        (out, ("N", None, "h", "w")) for out in graph.output
    ]:
        dims = value.type.tensor_type.shape.dim
        for dim, name in zip(dims, names, strict=True):
            if name is not None:
                dim.ClearField("dim_value")
                dim.dim_param = name
    if tuple(o.name for o in graph.output) != OUTPUT_NAMES:
        raise ValueError(f"unexpected outputs {[o.name for o in graph.output]}")
    return model.SerializeToString()


def load_session(model_path: str | Path = MODEL_PATH, threads: int = 1):
    """Create an onnxruntime session for the CenterFace graph at ``model_path``.

    ``threads`` is onnxruntime's intra-op thread count. It defaults to 1 because
    photoguard parallelises across processes (one worker per core, like dlib); give a
    single interactive process more threads instead. Any failure becomes a
    :class:`DetectionError`, so callers fail closed instead of skipping detection.
    """
    try:
        import onnxruntime as ort

        model_bytes = _make_dims_symbolic(Path(model_path).read_bytes())
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: shape warnings flood otherwise
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - every failure means "no detector", fail closed
        raise DetectionError(model_path, f"cannot load the CenterFace model: {exc}") from exc


def resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    """Resample ``rgb`` by ``scale`` (bilinear; Pillow filters properly when shrinking)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))


def _local_peaks(heat: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Cells above ``threshold`` that are the maximum of their 3x3 neighbourhood.

    One face lights up a blob of cells; keeping only the blob's peak leaves one
    candidate per face and keeps the later box merge cheap.
    """
    padded = np.pad(heat, 1, mode="constant", constant_values=-1.0)
    h, w = heat.shape
    neighbourhood = np.max(
        np.stack([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]),
        axis=0,
    )
    return np.nonzero((heat >= neighbourhood) & (heat > threshold))


def decode(outputs: list[np.ndarray], threshold: float) -> RawDetections:
    """Turn one image's network outputs into boxes in (padded) input coordinates."""
    heat, scale, offset, lms = (o[0] for o in outputs)
    ys, xs = _local_peaks(heat[0], threshold)
    if len(ys) == 0:
        return RawDetections.empty()
    height = np.exp(scale[0, ys, xs]) * STRIDE
    width = np.exp(scale[1, ys, xs]) * STRIDE
    x0 = (xs + offset[1, ys, xs] + 0.5) * STRIDE - width / 2
    y0 = (ys + offset[0, ys, xs] + 0.5) * STRIDE - height / 2
    boxes = np.stack([x0, y0, x0 + width, y0 + height], axis=1).astype(np.float32)
    # Landmarks are stored as (y, x) pairs relative to the box's top-left corner.
    lm = lms[:, ys, xs].T.reshape(-1, 5, 2)
    landmarks = np.stack(
        [lm[:, :, 1] * width[:, None] + x0[:, None], lm[:, :, 0] * height[:, None] + y0[:, None]],
        axis=2,
    ).astype(np.float32)
    return RawDetections(boxes, heat[0, ys, xs].astype(np.float32), landmarks)


def check_rgb(rgb: np.ndarray) -> None:
    """Refuse anything but an (H, W, 3) uint8 array, rather than guess a conversion."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise DetectionError(None, f"expected an RGB array of shape (H, W, 3), got {shape}")
    if rgb.dtype != np.uint8:
        raise DetectionError(None, f"expected a uint8 RGB array, got {rgb.dtype}")


class CenterFace:
    """Single-pass CenterFace: the fast detector, and the engine under the sweep.

    ``detect`` runs once over the whole image (shrunk to ``max_side`` if larger),
    which finds faces of roughly 12 to 300 px. Use ``"centerface-sweep"`` for
    redaction: it adds scales, tiles and mirrored views for recall.
    """

    name = "centerface"

    def __init__(
        self,
        model_path: str | Path = MODEL_PATH,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        threads: int = 1,
        max_side: int = DEFAULT_MAX_SIDE,
        merge_iou: float = 0.3,
    ) -> None:
        self.model_path = Path(model_path)
        self.threshold = threshold
        self.max_side = max_side
        self.merge_iou = merge_iou
        self._session = load_session(self.model_path, threads)

    def infer(self, rgb: np.ndarray, threshold: float | None = None) -> RawDetections:
        """One forward pass over ``rgb`` exactly as given; boxes in its coordinates.

        Not merged: a face may yield more than one candidate (callers merge once,
        after combining passes).
        """
        check_rgb(rgb)
        h, w = rgb.shape[:2]
        if h == 0 or w == 0:
            return RawDetections.empty()
        padded_h, padded_w = -(-h // ALIGN) * ALIGN, -(-w // ALIGN) * ALIGN
        # Zero padding goes bottom/right, so coordinates need no shift.
        batch = np.zeros((1, 3, padded_h, padded_w), np.float32)
        batch[0, :, :h, :w] = rgb.transpose(2, 0, 1)
        try:
            outputs = self._session.run(list(OUTPUT_NAMES), {INPUT_NAME: batch})
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise DetectionError(self.model_path, f"CenterFace inference failed: {exc}") from exc
        raw = decode(outputs, self.threshold if threshold is None else threshold)
        if len(raw) == 0:
            return raw
        # Candidates centred in the padding are not in the picture.
        cx = (raw.boxes[:, 0] + raw.boxes[:, 2]) / 2
        cy = (raw.boxes[:, 1] + raw.boxes[:, 3]) / 2
        return raw.selected((cx < w) & (cy < h))

    def detect(self, rgb: np.ndarray) -> list[Face]:
        check_rgb(rgb)
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w, 1))
        small = resize(rgb, scale)
        raw = self.infer(small).scaled(w / small.shape[1], h / small.shape[0])
        raw = merge_raw(raw, iou=self.merge_iou)
        return clip_raw(raw, w, h).to_faces(self.name)


def clip_raw(raw: RawDetections, width: int, height: int) -> RawDetections:
    """Clip boxes to the image and drop any that end up empty."""
    if len(raw) == 0:
        return raw
    boxes = raw.boxes.copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return RawDetections(boxes, raw.scores, raw.landmarks).selected(keep)


# --- merging ------------------------------------------------------------------------

MERGE_IOU = 0.3
# A lower-scoring box lying at least this much inside a kept face's box, and at least
# SAME_FACE_SIZE times its size, is a partial view of the same face: fold it in.
MERGE_INSIDE = 0.8
SAME_FACE_SIZE = 0.5
# Claimed boxes overlapping the kept one at least this much widen it to their union.
UNION_IOU = 0.5


def _overlaps(box: np.ndarray, boxes: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, ...]:
    """IoU of ``box`` with each of ``boxes``, and the share of each lying inside ``box``."""
    iw = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    ih = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.maximum(iw, 0) * np.maximum(ih, 0)
    area = max(box[2] - box[0], 0) * max(box[3] - box[1], 0)
    return inter / np.maximum(area + areas - inter, 1e-6), inter / np.maximum(areas, 1e-6)


def merge_boxes(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou: float = MERGE_IOU,
    inside: float = MERGE_INSIDE,
    union_iou: float = UNION_IOU,
) -> list[tuple[int, np.ndarray]]:
    """Greedy non-maximum merge that never leaves a kept box smaller than its face.

    Boxes are visited by falling score; each unclaimed box starts a face and claims
    the lower-scoring boxes that show *the same face*:

    * boxes overlapping it at IoU >= ``iou`` (the same face seen at another scale,
      in the mirrored view, or in a neighbouring tile);
    * boxes lying >= ``inside`` within the face's box so far *and* at least
      ``SAME_FACE_SIZE`` times as wide or as tall as the best box (a big face cut
      into partial boxes).

    The face's box grows to the union of the claimed boxes that overlap the best one
    heavily (IoU >= ``union_iou``) and of the partial boxes: plain NMS would drop
    their extents, and a box that is too small leaves part of a face visible.
    Boxes claimed at a lower IoU are dropped without widening it: they are the same
    face with a worse box, and unioning them makes a loose box that may reach into
    a neighbour's face (which must not share this face's fate when it is shown).
    A much smaller box inside the face is *not* claimed: it may be another person
    (a child in front of a parent). Nor is a much larger box that merely contains
    it: a real face is never swallowed by a doubtful oversized box.

    Returns ``(index of the group's best box, merged box as float64 [4])`` per face,
    best score first.
    """
    n = len(scores)
    if n == 0:
        return []
    boxes = np.asarray(boxes, np.float64).reshape(n, 4)
    widths = (boxes[:, 2] - boxes[:, 0]).clip(0)
    heights = (boxes[:, 3] - boxes[:, 1]).clip(0)
    areas = widths * heights
    claimed = np.zeros(n, bool)
    out: list[tuple[int, np.ndarray]] = []
    for i in np.argsort(-np.asarray(scores), kind="stable"):
        if claimed[i]:
            continue
        claimed[i] = True
        # A partial box of a face keeps about one full dimension (the mouth-and-chin
        # strip is as wide as the face); another person's face is smaller both ways.
        comparable = (widths >= SAME_FACE_SIZE * widths[i]) | (
            heights >= SAME_FACE_SIZE * heights[i]
        )
        overlap, within = _overlaps(boxes[i], boxes, areas)
        same = ~claimed & (overlap >= iou)
        widen = ~claimed & (((within >= inside) & comparable) | (overlap >= max(iou, union_iou)))
        claimed |= same | widen
        box = boxes[i].copy()
        while widen.any():
            box[:2] = np.minimum(box[:2], boxes[widen, :2].min(axis=0))
            box[2:] = np.maximum(box[2:], boxes[widen, 2:].max(axis=0))
            widen = ~claimed & (_overlaps(box, boxes, areas)[1] >= inside) & comparable
            claimed |= widen
        out.append((int(i), box))
    return out


def merge_raw(raw: RawDetections, iou: float = MERGE_IOU) -> RawDetections:
    """:func:`merge_boxes` over decoded detections (landmarks of each group's best box)."""
    groups = merge_boxes(raw.boxes, raw.scores, iou)
    if not groups:
        return RawDetections.empty()
    index = np.array([i for i, _ in groups])
    return RawDetections(
        np.stack([b for _, b in groups]).astype(np.float32),
        raw.scores[index],
        raw.landmarks[index],
    )
