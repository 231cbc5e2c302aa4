"""``make demo``: run photoguard on the bundled sample photos, the way a user would.

It calls the installed command line (so the demo proves the CLI, not a shortcut
around it), then writes ``report.html`` with before/after thumbnails. The sample
photos are adults only; see ``demo/photos/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from photoguard_core.report import ReportItem, write_report

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_PHOTOS = PROJECT_ROOT / "demo" / "photos"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-out"))
    parser.add_argument("--photos", type=Path, default=DEMO_PHOTOS)
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        print(f"error: sample photos not found in {args.photos}", file=sys.stderr)
        return 2

    out: Path = args.out
    safe_dir = out / "safe-copies"
    manifests = out / "manifests.jsonl"
    out.mkdir(parents=True, exist_ok=True)

    example = args.photos / "phone-with-gps.jpg"
    if example.exists():
        _say(f"What a phone photo gives away as it is ({example.name}):")
        _photoguard("inspect", str(example))

    _say("Making safe copies: every face redacted, metadata removed, at most 2048 px:")
    code = _photoguard(
        "redact", str(args.photos), "--out", str(safe_dir), "--manifest", str(manifests)
    )

    items = _report_items(manifests)
    report = write_report(
        items,
        out / "report.html",
        title="photoguard demo: safe copies of the sample photos",
        subtitle=f"Originals in {args.photos}; safe copies in {safe_dir}.",
    )
    _say(f"Report with before/after thumbnails: {report.resolve()}")
    _say(f"Safe copies: {safe_dir.resolve()}")
    return code


def _photoguard(*args: str) -> int:
    """Run the CLI in a child process with this interpreter, output passed through."""
    return subprocess.run([sys.executable, "-m", "photoguard_core.cli", *args]).returncode


def _report_items(manifests: Path) -> list[ReportItem]:
    items = []
    if not manifests.exists():
        return items
    for line in manifests.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        items.append(
            ReportItem(
                source=Path(record["source"]),
                ok=record["ok"],
                output=Path(record["output"]) if record.get("output") else None,
                error=record.get("error"),
                manifest=record.get("manifest") or {},
            )
        )
    return sorted(items, key=lambda i: i.source.name)


def _say(text: str) -> None:
    print(f"\n== {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
