"""Face detection recall by face size, false positives and time, for each detector.

    python bench/detection_recall.py DATA_DIR [--detector NAME ...] [--scale F]

DATA_DIR holds ``images/`` and ``boxes_xywh.json`` (file name -> [[x, y, w, h], ...]).
A ground-truth face counts as found when some detection overlaps it at IoU >= 0.3;
a detection overlapping no ground-truth face counts as a false positive. Annotations
of public sets (PASCAL, WIDER) skip background and partly hidden faces, so some
"false positives" are real faces: look at them before tuning a threshold on them.

Face size is the shorter side of the ground-truth box, in the pixels the detector
saw (after ``--scale``, which resizes every image first: 0.5 halves every face,
a quick way to test small faces with the same annotations).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photoguard_core.faces import FaceDetector, get_detector  # noqa: E402
from photoguard_core.geometry import Box  # noqa: E402

DEFAULT_DETECTORS = ["centerface-sweep", "centerface", "hog0", "hog"]
BINS: list[tuple[str, float, float]] = [
    ("<20", 0, 20),
    ("20-40", 20, 40),
    ("40-80", 40, 80),
    (">=80", 80, float("inf")),
]


@dataclass
class Result:
    """Counts for one detector over the whole set."""

    detector: str
    found: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in BINS})
    total: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in BINS})
    false_positives: int = 0
    seconds: float = 0.0
    images: int = 0
    load_seconds: float = 0.0

    def recall(self, bins: list[str]) -> tuple[int, int]:
        return sum(self.found[b] for b in bins), sum(self.total[b] for b in bins)


def size_bin(box: Box) -> str:
    return next(name for name, lo, hi in BINS if lo <= box.size < hi)


def load_set(data_dir: Path, scale: float) -> list[tuple[str, np.ndarray, list[Box]]]:
    """(name, upright RGB array, ground-truth boxes) for every annotated image."""
    truth = json.loads((data_dir / "boxes_xywh.json").read_text())
    items = []
    for name in sorted(truth):
        with Image.open(data_dir / "images" / name) as im:
            image = ImageOps.exif_transpose(im).convert("RGB")
        if scale != 1.0:
            size = (round(image.width * scale), round(image.height * scale))
            image = image.resize(size, Image.Resampling.LANCZOS)
        boxes = [Box.from_xywh(*b).scaled(scale) for b in truth[name]]
        items.append((name, np.asarray(image), boxes))
    return items


def evaluate(
    detector: FaceDetector, items: list[tuple[str, np.ndarray, list[Box]]], iou: float = 0.3
) -> Result:
    """Run ``detector`` over the set and count found faces per size bin."""
    result = Result(detector.name)
    for _name, rgb, truth in items:
        start = time.perf_counter()
        faces = detector.detect(rgb)
        result.seconds += time.perf_counter() - start
        result.images += 1
        for gt in truth:
            result.total[size_bin(gt)] += 1
            result.found[size_bin(gt)] += any(f.box.iou(gt) >= iou for f in faces)
        result.false_positives += sum(not any(f.box.iou(gt) >= iou for gt in truth) for f in faces)
    return result


def format_table(results: list[Result]) -> str:
    def cell(found: int, total: int) -> str:
        return f"{found / total:4.2f} ({found}/{total})" if total else "   - (0/0)"

    header = ["detector", *[b[0] for b in BINS], "recall >=20", "recall >=40", "FP", "s/image"]
    header.append("load s")
    rows = [header]
    for r in results:
        rows.append(
            [
                r.detector,
                *[cell(r.found[b[0]], r.total[b[0]]) for b in BINS],
                cell(*r.recall(["20-40", "40-80", ">=80"])),
                cell(*r.recall(["40-80", ">=80"])),
                str(r.false_positives),
                f"{r.seconds / max(r.images, 1):.3f}",
                f"{r.load_seconds:.2f}",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder with images/ and boxes_xywh.json")
    parser.add_argument(
        "--detector",
        action="append",
        dest="detectors",
        metavar="NAME",
        help=f"detector to run (repeatable; default: {', '.join(DEFAULT_DETECTORS)})",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="resize images first")
    parser.add_argument("--iou", type=float, default=0.3, help="IoU that counts as found")
    args = parser.parse_args(argv)

    items = load_set(args.data_dir, args.scale)
    faces = sum(len(t) for _, _, t in items)
    print(f"{args.data_dir}: {len(items)} images, {faces} faces")
    print(f"scale {args.scale}, found = IoU >= {args.iou}, face size = shorter side of the box")
    results = []
    for name in args.detectors or DEFAULT_DETECTORS:
        start = time.perf_counter()
        detector = get_detector(name)
        # Backends load lazily (face_recognition imports on first use): warm up here
        # so "s/image" is detection only and "load s" is the one-off cost.
        detector.detect(np.zeros((64, 64, 3), np.uint8))
        load_seconds = time.perf_counter() - start
        result = evaluate(detector, items, args.iou)
        result.detector, result.load_seconds = name, load_seconds
        results.append(result)
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
