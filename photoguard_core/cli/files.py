"""File commands: ``inspect``, ``scan``, ``redact``, ``strip`` (no catalogue needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from photoguard_core.batch import Outcome, collect, run
from photoguard_core.cli.app import main
from photoguard_core.errors import PhotoguardError
from photoguard_core.jobs import render_job, scan_job
from photoguard_core.render.plan import OUTPUT_FORMATS, SHAPES, STYLES, RenditionPlan
from photoguard_core.scan import inspect_image

DETECTORS = ("centerface-sweep", "centerface", "hog", "hog0", "cnn")

_detector_option = click.option(
    "--detector",
    type=click.Choice(DETECTORS),
    default="centerface-sweep",
    show_default=True,
    help="Face detector (the default is the high-recall one used for redaction).",
)
_workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per core).",
)
_manifest_option = click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write one JSON manifest per file (JSON lines) here. It names the source "
    "files, so keep it out of the published folder.",
)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_detector_option
def inspect(file: Path, as_json: bool, detector: str) -> None:
    """What FILE would give away if published as it is: faces and metadata."""
    try:
        result = inspect_image(file, detector=detector)
    except PhotoguardError as err:
        _fail(str(err))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_inspection(file, result)
    if result.error:
        click.echo(f"error: {result.error}", err=True)
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON document for all files.")
@click.option("--encode", is_flag=True, help="Also compute 128-d face encodings.")
@click.option("--embeddings", is_flag=True, help="Include encodings in --json output.")
@_detector_option
@_workers_option
def scan(
    paths: tuple[Path, ...],
    as_json: bool,
    encode: bool,
    embeddings: bool,
    detector: str,
    workers: int | None,
) -> None:
    """Faces per file, as a table or --json."""
    files = _files_or_exit(paths)
    outcomes = sorted(
        run(
            scan_job,
            files,
            workers=workers,
            detector=detector,
            encode=encode or embeddings,
            embeddings=embeddings,
        ),
        key=lambda o: o.source,
    )
    if as_json:
        click.echo(json.dumps([_outcome_json(o) for o in outcomes], indent=2))
    else:
        for o in outcomes:
            if o.ok:
                size = "x".join(str(v) for v in o.payload["size"])
                faces = o.payload["faces"]
                encoded = sum(1 for f in faces if f["encoded"])
                extra = f", {encoded} encoded" if encode else ""
                click.echo(f"{len(faces):4d} faces{extra}  {size:>11}  {o.source}")
            else:
                click.echo(f"  failed              {o.source}")
    total = sum(len(o.payload.get("faces", [])) for o in outcomes if o.ok)
    _summary(outcomes, f"{total} faces found")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--max-size",
    type=click.IntRange(min=16),
    default=2048,
    show_default=True,
    help="Longest side of the output in pixels.",
)
@click.option("--style", type=click.Choice(STYLES), default="solid", show_default=True)
@click.option("--shape", type=click.Choice(SHAPES), default="box", show_default=True)
@click.option(
    "--grow",
    type=click.FloatRange(min=0.3),
    default=0.35,
    show_default=True,
    help="Grow each face box by this share of its size on every side.",
)
@click.option(
    "--format", "fmt", type=click.Choice(OUTPUT_FORMATS), default="jpeg", show_default=True
)
@click.option("--quality", type=click.IntRange(1, 100), default=85, show_default=True)
@_detector_option
@_workers_option
@_manifest_option
def redact(
    paths: tuple[Path, ...],
    out_dir: Path,
    max_size: int,
    style: str,
    shape: str,
    grow: float,
    fmt: str,
    quality: int,
    detector: str,
    workers: int | None,
    manifest_path: Path | None,
) -> None:
    """Safe copies: every face redacted, metadata gone, size limited."""
    plan = RenditionPlan(
        max_size=max_size,
        style=style,
        shape=shape,
        grow=grow,
        format=fmt,
        quality=quality,
        detector=detector,
    )
    _render_all(paths, out_dir, plan, workers, manifest_path, "faces redacted")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(OUTPUT_FORMATS),
    default="auto",
    show_default=True,
    help="auto keeps PNG/WebP as they are and writes JPEG for the rest.",
)
@click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True)
@_workers_option
@_manifest_option
def strip(
    paths: tuple[Path, ...],
    out_dir: Path,
    fmt: str,
    quality: int,
    workers: int | None,
    manifest_path: Path | None,
) -> None:
    """Metadata only: pixels untouched apart from orientation. Faces are NOT redacted."""
    plan = RenditionPlan.strip_only(format=fmt, quality=quality)
    _render_all(paths, out_dir, plan, workers, manifest_path, None)


def _render_all(
    paths: tuple[Path, ...],
    out_dir: Path,
    plan: RenditionPlan,
    workers: int | None,
    manifest_path: Path | None,
    faces_label: str | None,
) -> None:
    files = _files_or_exit(paths)
    outcomes: list[Outcome] = []
    with _manifest_writer(manifest_path) as write_manifest:
        for outcome in run(render_job, files, workers=workers, plan=plan, out_dir=out_dir):
            outcomes.append(outcome)
            write_manifest(outcome)
    for o in sorted(outcomes, key=lambda o: o.source):
        if o.ok:
            count = o.payload.get("faces_redacted", 0)
            note = f"  ({count} face{'s' if count != 1 else ''} redacted)" if faces_label else ""
            click.echo(f"{o.source} -> {o.payload['output']}{note}")
    detail = None
    if faces_label:
        redacted = sum(o.payload.get("faces_redacted", 0) for o in outcomes if o.ok)
        detail = f"{redacted} {faces_label}"
    _summary(outcomes, detail, out_dir=out_dir)


class _manifest_writer:
    """Context manager: a function that appends one manifest per outcome (or nothing)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.handle = None

    def __enter__(self):
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("w", encoding="utf-8")
        return self.write

    def write(self, outcome: Outcome) -> None:
        if self.handle is None:
            return
        record = {"source": outcome.source, "ok": outcome.ok, "error": outcome.error}
        record["manifest"] = outcome.payload.get("manifest")
        if outcome.ok:
            record["output"] = outcome.payload["output"]
        self.handle.write(json.dumps(record) + "\n")

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _files_or_exit(paths: tuple[Path, ...]) -> list[Path]:
    files, missing = collect(paths)
    for path in missing:
        click.echo(f"error: {path}: no such file or folder", err=True)
    if missing:
        sys.exit(2)
    if not files:
        _fail("no image files found in " + ", ".join(str(p) for p in paths), code=2)
    return files


def _summary(outcomes: list[Outcome], detail: str | None, *, out_dir: Path | None = None) -> None:
    failed = [o for o in outcomes if not o.ok]
    done = len(outcomes) - len(failed)
    parts = [f"{done} of {len(outcomes)} files done"]
    if detail:
        parts.append(detail)
    if out_dir is not None and done:
        parts.append(f"written to {out_dir}")
    if failed:
        parts.append(f"{len(failed)} failed")
    click.echo("; ".join(parts), err=True)
    for o in sorted(failed, key=lambda o: o.source):
        click.echo(f"  FAILED {o.source}: {o.error}", err=True)
    if failed:
        sys.exit(1)


def _outcome_json(outcome: Outcome) -> dict:
    if outcome.ok:
        return outcome.payload
    return {"source": outcome.source, "error": outcome.error}


def _print_inspection(file: Path, result) -> None:
    click.echo(str(file))
    scan = result.scan
    if scan is not None:
        click.echo(f"  format {scan.format}, {scan.size[0]}x{scan.size[1]} pixels")
        for note in scan.notes:
            click.echo(f"  note: {note}")
        click.echo(f"  faces: {len(scan.faces)}")
        for i, face in enumerate(scan.faces, 1):
            x, y, w, h = face.box.to_xywh()
            click.echo(f"    {i}. x={x:.0f} y={y:.0f} w={w:.0f} h={h:.0f} (score {face.score:.2f})")
    items = result.metadata.items()
    if items:
        click.echo("  carries:")
        for item in items:
            click.echo(f"    - {item}")
    else:
        click.echo("  carries: no metadata found")


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
