"""A plain Wagtail rendition against a guarded one, same image and filter spec, in one run.

    python bench/wagtail_renditions.py [IMAGES_DIR] [--spec fill-800x600] [--runs 5]

Uses the test site (tests/wagtail_project) on a throwaway SQLite database. Each
input is made into a 12-megapixel JPEG (4000x3000, EXIF kept) and uploaded twice:
as Wagtail's stock ``Image`` and as the site's guarded ``SchoolImage``, whose faces
are indexed first (not timed). Each timing deletes the rendition and makes it
again (decode, crop, resize, encode, save); the median over runs is printed per
image, with the ratio guarded / plain. Target: at most 1.3x.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.wagtail_project.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "images", nargs="?", type=Path, default=ROOT / "tests" / "fixtures" / "detection" / "images"
    )
    parser.add_argument("--spec", default="fill-800x600")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=4)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from PIL import ImageOps
    from wagtail.images.models import Image as PlainImage
    from wagtail.models import Collection

    from photoguard_core.consent import DEFAULT_PURPOSES
    from tests.wagtail_project.school.models import SchoolImage
    from wagtail_photoguard.site_context import core_context

    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    core_context().store.save_purposes(DEFAULT_PURPOSES)

    rows = []
    for path in sorted(args.images.glob("*.jpg"))[: args.limit]:
        data = _twelve_megapixels(path, PILImage, ImageOps)
        plain = PlainImage(title=path.stem)
        plain.file = ImageFile(io.BytesIO(data), name=f"{path.stem}.jpg")
        plain.save()
        guarded = SchoolImage(title=path.stem)
        guarded.file = ImageFile(io.BytesIO(data), name=f"{path.stem}.jpg")
        guarded.save()  # indexed by the task (immediate backend): faces known
        spec_guarded = f"{args.spec}|guard-website"
        plain_ms = _median_ms(plain, args.spec, args.runs)
        guarded_ms = _median_ms(guarded, spec_guarded, args.runs)
        rows.append((path.name, plain_ms, guarded_ms))

    print(f"{'image (4000x3000)':34} {'plain ms':>9} {'guarded ms':>11} {'ratio':>6}")
    for name, p, g in rows:
        print(f"{name:34} {p:9.0f} {g:11.0f} {g / p:5.2f}x")
    ratio = statistics.mean(g / p for _, p, g in rows)
    print(
        f"mean ratio guarded / plain: {ratio:.2f}x (target <= 1.3x: "
        f"{'met' if ratio <= 1.3 else 'NOT met'})"
    )
    return 0


def _twelve_megapixels(path: Path, PILImage, ImageOps) -> bytes:
    with PILImage.open(path) as im:
        exif = im.info.get("exif", b"")
        big = ImageOps.fit(ImageOps.exif_transpose(im).convert("RGB"), (4000, 3000))
    out = io.BytesIO()
    big.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def _median_ms(image, spec: str, runs: int) -> float:
    """Median time to make a new rendition. Each run asks for a height one pixel
    taller, so no cache (Wagtail's rendition cache, the database) can answer it."""
    times = []
    for run in range(runs):
        start = time.perf_counter()
        image.get_rendition(_taller(spec, run))
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _taller(spec: str, extra: int) -> str:
    operations = spec.split("|")
    name, _, size = operations[0].partition("-")
    width, _, height = size.partition("x")
    operations[0] = f"{name}-{width}x{int(height) + extra}"
    return "|".join(operations)


if __name__ == "__main__":
    raise SystemExit(main())
