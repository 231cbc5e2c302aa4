"""``make demo``: run photoguard on the bundled sample photos, the way a user would.

It calls the installed command line (so the demo proves the CLI, not a shortcut
around it), then writes ``report.html`` with before/after thumbnails. The sample
photos are adults only; see ``demo/photos/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

    _consent_walkthrough(args.photos, out)

    items = _report_items(manifests)
    report = write_report(
        items,
        out / "report.html",
        title="photoguard demo: safe copies of the sample photos",
        subtitle=f"Originals in {args.photos}; safe copies in {safe_dir}.",
    )
    _say(f"Report with before/after thumbnails: {report.resolve()}")
    _say(f"Consent report: {(out / 'consent-report' / 'report.html').resolve()}")
    _say(f"Safe copies: {safe_dir.resolve()}")
    return code


def _photoguard(*args: str, env: dict[str, str] | None = None) -> int:
    """Run the CLI in a child process with this interpreter, output passed through."""
    cmd = [sys.executable, "-m", "photoguard_core.cli", *args]
    return subprocess.run(cmd, env=env).returncode


def _consent_walkthrough(photos: Path, out: Path) -> None:
    """A catalogue with two members of staff: one consents to the website, one does not;
    then the first withdraws, and the published copy is re-rendered."""
    catalogue = out / "catalogue" / "school.sqlite"
    key = out / "demo-key" / "master.key"  # a real school keeps this away from the catalogue
    for leftover in (catalogue.parent, key.parent):
        shutil.rmtree(leftover, ignore_errors=True)
    env = {
        **os.environ,
        "PHOTOGUARD_CATALOGUE": str(catalogue),
        "PHOTOGUARD_KEY_FILE": str(key),
        "PHOTOGUARD_ACTOR": "demo",
    }
    website = out / "website"
    shutil.rmtree(website, ignore_errors=True)
    steps = [
        ("A catalogue, people and their consent from a school-system CSV:", ["init"]),
        (None, ["people", "import", str(PROJECT_ROOT / "demo" / "people.csv")]),
        (
            "Biometric consent (both adults, for themselves), then enrolment:",
            ["biometric", "set", "S001", "granted", "--respondent", "self"],
        ),
        (None, ["biometric", "set", "S002", "granted", "--respondent", "self"]),
        (None, ["enrol", "S001", str(photos / "portrait-1.jpg")]),
        (None, ["enrol", "S002", str(photos / "portrait-2.jpg")]),
        ("Indexing the photos (faces found, encrypted, matched):", ["index", str(photos)]),
        (
            "A copy for the website: S001 consented, S002 did not:",
            [
                "render",
                str(photos / "two-people.jpg"),
                "--purpose",
                "website",
                "--out",
                str(website),
            ],
        ),
        (
            None,
            [
                "usage",
                str(photos / "two-people.jpg"),
                "--purpose",
                "website",
                "--location",
                "https://school.example/news/governors-visit",
            ],
        ),
        (
            "S001 withdraws website consent: the copy is re-rendered, the old file deleted:",
            ["consent", "set", "S001", "website", "withdrawn"],
        ),
        (
            "The safeguarding lead's report and the audit check:",
            ["report", "--out", str(out / "consent-report")],
        ),
        (None, ["audit", "verify"]),
    ]
    for title, args in steps:
        if title:
            _say(title)
        if _photoguard(*args, env=env) not in (0,):
            print(f"   (step failed: photoguard {' '.join(args)})", file=sys.stderr)


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
