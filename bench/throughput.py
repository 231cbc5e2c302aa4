"""Throughput of ``photoguard scan --encode`` against the naive face_recognition pipeline.

    python bench/throughput.py DIR [DIR...] [--make-12mp] [--limit N] [--workers N]

Both run on the same files in one go, each in its own process tree so peak memory
(sum of RSS over the tree, sampled every 50 ms) is measured separately. The naive
pipeline is what a script written from face_recognition's README does per file:
``load_image_file`` + ``face_locations(upsample=1)`` + ``face_encodings``.

``--make-12mp`` first writes each input as a 4000x3000 JPEG (upscaled, EXIF kept),
the size a school's camera or phone produces. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageOps

NAIVE = r"""
import json, sys
import face_recognition
total = 0
per_file = {}
for path in sys.argv[1:]:
    image = face_recognition.load_image_file(path)
    locations = face_recognition.face_locations(image, number_of_times_to_upsample=1)
    face_recognition.face_encodings(image, locations)
    per_file[path] = len(locations)
print(json.dumps(per_file))
"""

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--make-12mp", action="store_true", help="upscale inputs to 4000x3000")
    parser.add_argument("--limit", type=int, default=None, help="use at most N files")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    files = sorted(p for d in args.dirs for p in d.iterdir() if p.suffix.lower() in EXTENSIONS)
    files = files[: args.limit] if args.limit else files
    if not files:
        print("no images found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pg-bench-") as tmp:
        if args.make_12mp:
            files = [_make_12mp(p, Path(tmp)) for p in files]
        megapixels = sum(_megapixels(p) for p in files) / len(files)
        print(f"{len(files)} files, {megapixels:.1f} MP on average, {os.cpu_count()} cores\n")

        rows = [("naive face_recognition (HOG upsample 1)", *_run_naive(files))]
        for workers in sorted({1, args.workers}):
            label = f"photoguard scan --encode --workers {workers}"
            rows.append((label, *_run_scan(files, workers)))
    _print_table(rows, len(files))
    return 0


def _make_12mp(source: Path, out_dir: Path) -> Path:
    """Upscale to 4000x3000 (cover, centre crop), keeping the EXIF block."""
    with Image.open(source) as im:
        exif = im.info.get("exif", b"")
        upright = ImageOps.exif_transpose(im).convert("RGB")
    big = ImageOps.fit(upright, (4000, 3000), Image.Resampling.BICUBIC)
    target = out_dir / f"{source.stem}-12mp.jpg"
    big.save(target, "JPEG", quality=90, exif=exif)
    return target


def _megapixels(path: Path) -> float:
    with Image.open(path) as im:
        return im.width * im.height / 1e6


def _run_naive(files: list[Path]) -> tuple[float, int, float]:
    cmd = [sys.executable, "-c", NAIVE, *map(str, files)]
    seconds, peak, out = _measure(cmd)
    faces = sum(json.loads(out).values())
    return seconds, faces, peak


def _run_scan(files: list[Path], workers: int) -> tuple[float, int, float]:
    exe = shutil.which("photoguard") or str(Path(sys.executable).with_name("photoguard"))
    cmd = [exe, "scan", "--encode", "--json", "--workers", str(workers), *map(str, files)]
    seconds, peak, out = _measure(cmd)
    faces = sum(len(item.get("faces", [])) for item in json.loads(out))
    return seconds, faces, peak


def _measure(cmd: list[str]) -> tuple[float, float, str]:
    """Wall time, peak RSS of the whole process tree (MB) and stdout of ``cmd``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} exited with {proc.returncode}")
    return seconds, peak[0], out


def _tree_rss_mb(root: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as fh:
                rss[int(entry)] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


def _print_table(rows: list[tuple[str, float, int, float]], n_files: int) -> None:
    naive_rate = n_files / rows[0][1]
    print(
        f"{'pipeline':45} {'images/s':>9} {'s/image':>8} {'faces':>6} {'peak MB':>8} {'ratio':>6}"
    )
    for label, seconds, faces, peak in rows:
        rate = n_files / seconds
        print(
            f"{label:45} {rate:9.3f} {seconds / n_files:8.2f} {faces:6d} {peak:8.0f} "
            f"{rate / naive_rate:5.1f}x"
        )


if __name__ == "__main__":
    sys.exit(main())
