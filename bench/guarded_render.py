"""Cost of a guarded rendition against a plain one, same 12 MP photo and filter spec.

    python bench/guarded_render.py [DIR...] [--spec fill-800x600] [--limit N] [--repeat N]
                                   [--recheck centerface|none]

Each input is first written as a 4000x3000 JPEG (as ``throughput.py --make-12mp``
does) and its faces are indexed once with ``scan_image`` (the upload-time sweep,
not timed). Then, per photo, interleaved and repeated (median reported):

(a) plain: decode with JPEG draft, crop and resize for the spec, save JPEG q85
    (progressive, optimised: the arguments Wagtail gives Willow);
(b) guarded: the same decode, crop and resize, then ``render_known`` with the
    indexed faces mapped through the spec's transform (every face redacted),
    which encodes, re-checks the written bytes with one CenterFace pass and
    verifies that no metadata is left;
(w) Wagtail as shipped: Willow opens the file (no draft), ``auto_orient``, crop,
    resize, ``save_as_jpeg(quality=85, progressive=True, optimize=True)``: the
    steps of ``wagtail.images.models.Filter.run`` for a JPEG;
(w+g) Willow's pixels as in (w), then ``render_known`` as in (b): an adapter that
    lets Wagtail crop and resize and only guards the result.

The issue's target is a guarded rendition at most 1.3x a plain Wagtail rendition.
``--recheck none`` shows what everything but the re-check costs (never publish
that way: DESIGN.md rule 4). Figures are printed, not asserted; the machine may
be busy, so run it more than once.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps

from photoguard_core.geometry import Box
from photoguard_core.render import (
    Manifest,
    Rendition,
    RenditionPlan,
    Transform,
    render_known,
    transform_for_spec,
)
from photoguard_core.render.transform import Crop
from photoguard_core.scan import scan_image

sys.path.insert(0, str(Path(__file__).parent))
from throughput import _make_12mp  # noqa: E402 - a sibling script, not a package

DEFAULT_DIR = Path(__file__).parents[1] / "tests" / "fixtures" / "detection" / "images"
TARGET = 1.3
QUALITY = 85


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=[DEFAULT_DIR])
    parser.add_argument("--spec", default="fill-800x600", help="Wagtail filter spec")
    parser.add_argument("--limit", type=int, default=4, help="use at most N photos")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per variant")
    parser.add_argument("--recheck", default="centerface", help="detector, or 'none'")
    args = parser.parse_args()
    recheck = None if args.recheck == "none" else args.recheck

    files = sorted(p for d in args.dirs for p in d.iterdir() if p.suffix.lower() == ".jpg")
    files = files[: args.limit]
    if not files:
        print("no JPEG photos found", file=sys.stderr)
        return 2
    plan = RenditionPlan(purpose="website", quality=QUALITY)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pg-guarded-") as tmp:
        for source in files:
            big = _make_12mp(source, Path(tmp))
            data = big.read_bytes()
            faces = [f.box for f in scan_image(big).faces]  # the index: not timed
            variants = _variants(data, faces, args.spec, plan, recheck)
            times = _time_interleaved(variants, args.repeat)
            guarded = _guard(_decode_for(data, args.spec), faces, plan, recheck)
            rows.append((source.name, len(faces), times, guarded.manifest))
    _print(rows, args.spec, args.recheck)
    return 0


# --- the four renditions ------------------------------------------------------------


def _variants(
    data: bytes, faces: list[Box], spec: str, plan: RenditionPlan, recheck: str | None
) -> dict[str, Callable[[], object]]:
    return {
        "plain": lambda: _save(_decode_for(data, spec)[0]),
        "guarded": lambda: _guard(_decode_for(data, spec), faces, plan, recheck),
        "wagtail": lambda: _save(_willow_pixels(data, spec)[0]),
        "w+g": lambda: _guard(_willow_pixels(data, spec), faces, plan, recheck),
    }


def _decode_for(data: bytes, spec: str) -> tuple[Image.Image, Transform]:
    """Decode as little as the spec needs (JPEG draft), then crop and resize in one step.

    The transform is computed at full resolution; the draft-decoded pixels are a
    uniform reduction of the same picture, so the source box is scaled by it.
    """
    image = Image.open(io.BytesIO(data))
    size = _upright_size(image)
    transform = transform_for_spec(spec, size)
    box = transform.source_box
    wanted = (
        math.ceil(image.width * transform.size[0] / max(box.width, 1)),
        math.ceil(image.height * transform.size[1] / max(box.height, 1)),
    )
    image.draft("RGB", wanted)
    upright = ImageOps.exif_transpose(image).convert("RGB")
    factor = upright.width / size[0]
    scaled = box.scaled(factor)
    pixels = upright.resize(
        transform.size,
        Image.Resampling.LANCZOS,
        box=(scaled.x0, scaled.y0, scaled.x1, scaled.y1),
    )
    return pixels, transform


def _willow_pixels(data: bytes, spec: str) -> tuple[Image.Image, Transform]:
    """Wagtail's own steps: Willow decodes in full, orients, crops, resizes."""
    image = _willow().Image.open(io.BytesIO(data)).auto_orient()
    transform = transform_for_spec(spec, image.get_size())
    crop = next((s.box for s in transform.steps if isinstance(s, Crop)), None)
    image = image.crop(crop or (0, 0, *transform.source_size)).resize(transform.size)
    return image.get_pillow_image(), transform


def _save(pixels: Image.Image) -> bytes:
    """Save as Wagtail has Willow save a JPEG rendition (EXIF aside)."""
    out = io.BytesIO()
    pixels.save(out, "JPEG", quality=QUALITY, progressive=True, optimize=True)
    return out.getvalue()


def _guard(
    rendered: tuple[Image.Image, Transform],
    faces: list[Box],
    plan: RenditionPlan,
    recheck: str | None,
) -> Rendition:
    pixels, transform = rendered
    mapped = [transform.apply_unclipped(box) for box in faces]
    return render_known(pixels, faces=mapped, plan=plan, recheck=recheck)


def _willow():
    """Willow, which reads Django settings when Django is installed (defaults are fine)."""
    from django.conf import settings

    if not settings.configured:
        settings.configure()
    import willow

    return willow


def _upright_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else image.size


# --- timing and report --------------------------------------------------------------


def _time_interleaved(variants: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median ms per variant, runs interleaved so a busy moment hits all of them."""
    for run in variants.values():
        run()  # warm-up: model session, first-use imports
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def _print(
    rows: list[tuple[str, int, dict[str, float], Manifest]], spec: str, recheck: str
) -> None:
    print(f"spec {spec}, 4000x3000 JPEG sources, re-check {recheck}, median ms per rendition\n")
    print(
        f"{'photo':30} {'faces':>5} {'plain':>7} {'guarded':>7} {'wagtail':>7} {'w+g':>7}"
        f" {'g/plain':>8} {'g/wagtail':>9} {'w+g/wagtail':>11}   render_known (ms)"
    )
    ratios: dict[str, list[float]] = {"g/plain": [], "g/wagtail": [], "w+g/wagtail": []}
    for name, faces, t, manifest in rows:
        row = {
            "g/plain": t["guarded"] / t["plain"],
            "g/wagtail": t["guarded"] / t["wagtail"],
            "w+g/wagtail": t["w+g"] / t["wagtail"],
        }
        for key, value in row.items():
            ratios[key].append(value)
        parts = ", ".join(f"{k} {v:.0f}" for k, v in manifest.timings_ms.items() if k != "total")
        late = sum(1 for f in manifest.faces if f.face.detector != "index")
        print(
            f"{name[:30]:30} {faces:5d} {t['plain']:7.1f} {t['guarded']:7.1f} {t['wagtail']:7.1f}"
            f" {t['w+g']:7.1f} {row['g/plain']:7.2f}x {row['g/wagtail']:8.2f}x"
            f" {row['w+g/wagtail']:10.2f}x   {parts}; late faces {late}"
        )
    print()
    for key, label in [
        ("g/plain", "guarded / plain with draft decode"),
        ("g/wagtail", "guarded (draft decode) / Wagtail as shipped"),
        ("w+g/wagtail", "Wagtail's pixels + guard / Wagtail as shipped"),
    ]:
        print(f"mean ratio {label:46} {statistics.mean(ratios[key]):.2f}x (target <= {TARGET}x)")


if __name__ == "__main__":
    raise SystemExit(main())
