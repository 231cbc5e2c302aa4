"""``render(source, plan) -> Rendition``: the one way pixels leave photoguard.

Order matters and each step exists for a reason:

1. read the bytes once (size limit first), note what metadata they carry;
2. decode upright (orientation baked in) and reduced where the plan allows, so a
   12 MP photo is not decoded at full size only to be shrunk;
3. detect faces with the high-recall detector and decide per face from the plan;
4. shrink to the plan's maximum size, then paint the redactions;
5. encode a fresh image (no metadata can ride along), decode those bytes and
   detect again: a face inside a redacted region fails the rendition (after one
   escalation from pixelation to a solid fill); a face nobody planned for is
   redacted and the whole check runs again;
6. verify the written bytes with an independent metadata reader.

Any failure raises a :class:`~photoguard_core.errors.PhotoguardError`; nothing is
returned, so no caller can publish half-checked pixels.

Steps 4 (painting) to 6 are shared with :mod:`photoguard_core.render.guarded`,
which starts from pixels a host already cropped and faces it already knows:
:func:`decide_face`, :func:`paint`, :func:`finish` and :func:`failing_closed`
are the one implementation of those rules.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photoguard_core.errors import (
    MetadataLeftError,
    PhotoguardError,
    RedactionCheckError,
    RenditionError,
)
from photoguard_core.faces import detect_faces
from photoguard_core.faces.types import Face, FaceDetector
from photoguard_core.geometry import Box
from photoguard_core.images import DecodedImage, ImageLimits, open_image, read_source
from photoguard_core.metadata import read_metadata, verify_clean
from photoguard_core.render.encode import FORMATS, encode_image
from photoguard_core.render.manifest import FaceOutcome, Manifest
from photoguard_core.render.plan import RenditionPlan
from photoguard_core.render.redact import redact_region, region_for

#: Detection runs on at least this many pixels along the long side (or the full
#: image when smaller): small faces must stay findable even for small renditions.
DETECT_LONG_SIDE = 2000
#: Re-check rounds: escalate pixelation to solid, redact late finds, check again.
MAX_RECHECK_ROUNDS = 4
#: A detection with at least this share of its box inside a pixelated region is a
#: face that the pixelation failed to hide.
LEAK_COVERAGE = 0.5
#: A detection with at least this share inside a solid fill sees only flat grey.
SOLID_COVERAGE = 0.9

#: Output format for ``format="auto"``: keep the family, never a format we cannot verify.
_AUTO_FORMAT = {"PNG": "png", "GIF": "png", "TIFF": "png", "WEBP": "webp"}


@dataclass(frozen=True)
class Rendition:
    """Bytes that passed every check, and the manifest that says so."""

    data: bytes
    format: str  # "jpeg" | "png" | "webp"
    width: int
    height: int
    sha256: str
    manifest: Manifest

    @property
    def extension(self) -> str:
        return FORMATS[self.format][0]

    @property
    def mime_type(self) -> str:
        return FORMATS[self.format][1]

    @property
    def name(self) -> str:
        """A file name from the content hash: never derived from the source name."""
        return f"{self.sha256[:24]}{self.extension}"


def render(
    source: str | Path | bytes,
    plan: RenditionPlan | None = None,
    *,
    name: str | None = None,
    limits: ImageLimits | None = None,
) -> Rendition:
    """Produce a safe rendition of ``source`` as ``plan`` says, or raise.

    Errors raised are :class:`PhotoguardError` subclasses naming the file and the
    reason; anything unexpected is wrapped in :class:`RenditionError`.
    """
    plan = plan or RenditionPlan()
    data, name = read_source(source, name=name, limits=limits)
    manifest = Manifest(source=name, plan=plan.to_dict())
    with failing_closed(manifest, name):
        rendition = _render(data, name, plan, limits, manifest)
    return rendition


@contextmanager
def failing_closed(manifest: Manifest, name: str) -> Iterator[None]:
    """Record any failure in ``manifest`` and raise it as a :class:`PhotoguardError`.

    Photoguard errors pass through with the manifest attached (for the audit
    record); anything else is a library bug, which must still fail closed with a
    reason rather than escape as an exception a caller might not expect.
    """
    try:
        yield
    except PhotoguardError as err:
        manifest.error = str(err)
        if isinstance(err, RenditionError) and err.manifest is None:
            err.manifest = manifest
        raise
    except Exception as err:
        manifest.error = f"internal error: {type(err).__name__}: {err}"
        raise RenditionError(name, manifest.error, manifest) from err


def _render(
    data: bytes, name: str, plan: RenditionPlan, limits: ImageLimits | None, manifest: Manifest
) -> Rendition:
    manifest.source_sha256 = hashlib.sha256(data).hexdigest()
    with manifest.timed("metadata_read"):
        manifest.metadata_removed = read_metadata(data, name=name).items()

    with manifest.timed("decode"):
        decoded = open_image(data, name=name, limits=limits, target_long_side=_decode_target(plan))
    manifest.source_format = decoded.format
    manifest.source_size = decoded.full_size
    manifest.decode_notes = list(decoded.notes)

    faces: list[Face] = []
    if plan.redact_faces:
        with manifest.timed("detect"):
            faces = _detect_full_res(decoded, plan)
    manifest.faces = [decide_face(face, plan.show, plan) for face in faces]

    with manifest.timed("resize"):
        image = fit_within(decoded.image, plan.max_size)
    to_output = image.width / decoded.full_size[0]

    painted: list[tuple[Box, str]] = []  # (painted box in output coords, style used)
    with manifest.timed("redact"):
        for outcome in manifest.faces:
            if outcome.action == "redacted":
                outcome.region = paint(image, outcome.face.box.scaled(to_output), plan, painted)
        for box in plan.redact:
            manifest.extra_regions.append(paint(image, box.scaled(to_output), plan, painted))

    shown = [o.face.box.scaled(to_output) for o in manifest.faces if o.action == "shown"]
    return finish(
        image,
        output_format(plan, decoded.format),
        plan,
        manifest,
        painted,
        shown=shown,
        recheck=plan.detector if plan.redact_faces and plan.recheck else None,
        to_source=1 / to_output,
        name=name,
    )


def finish(
    image: Image.Image,
    fmt: str,
    plan: RenditionPlan,
    manifest: Manifest,
    painted: list[tuple[Box, str]],
    *,
    shown: Sequence[Box],
    recheck: str | FaceDetector | None,
    to_source: float,
    name: str,
) -> Rendition:
    """Encode the painted ``image``, re-check it with ``recheck``, verify it, or raise.

    ``shown`` are the faces left visible, in ``image``'s coordinates; ``painted``
    the regions painted so far as (box, style). ``recheck`` None skips detection
    (a plan that redacts nothing). ``to_source`` scales ``image`` coordinates to
    the coordinates the manifest records faces in.
    """
    if recheck is not None:
        out = _encode_rechecked(
            image, fmt, plan, manifest, painted, list(shown), recheck, to_source, name
        )
    else:
        with manifest.timed("encode"):
            out = encode_image(image, fmt, quality=plan.quality)
    with manifest.timed("verify"):
        try:
            verify_clean(out, fmt, name=name)
        except MetadataLeftError as err:
            err.manifest = manifest
            raise
    manifest.check("metadata", True, f"written {fmt} re-read: only image data remains")

    digest = hashlib.sha256(out).hexdigest()
    manifest.output_format = fmt
    manifest.output_size = image.size
    manifest.output_sha256 = digest
    manifest.timings_ms["total"] = round(sum(manifest.timings_ms.values()), 1)
    return Rendition(out, fmt, image.width, image.height, digest, manifest)


def _decode_target(plan: RenditionPlan) -> int | None:
    if plan.max_size is None:
        return None
    return max(plan.max_size, DETECT_LONG_SIDE) if plan.redact_faces else plan.max_size


def _detect_full_res(decoded: DecodedImage, plan: RenditionPlan) -> list[Face]:
    """Faces in upright full-resolution coordinates, whatever size was decoded."""
    rgb = np.asarray(decoded.image)
    found = detect_faces(rgb, detector=plan.detector, min_face=plan.min_face)
    return [face.scaled(1 / decoded.scale) for face in found]


def decide_face(face: Face, show: Sequence[Box], plan: RenditionPlan) -> FaceOutcome:
    """Shown only when ``face`` matches a cleared box in ``show``; otherwise redacted."""
    best = max((face.box.iou(box) for box in show), default=0.0)
    if best >= plan.match_iou:
        return FaceOutcome(face, "shown", f"cleared for {plan.purpose}")
    if show:
        return FaceOutcome(face, "redacted", f"not cleared for {plan.purpose}")
    return FaceOutcome(face, "redacted", "every face is redacted")


def fit_within(image: Image.Image, max_size: int | None) -> Image.Image:
    """A copy no larger than ``max_size`` on its long side (never enlarged)."""
    if max_size is None or max(image.size) <= max_size:
        return image.copy()
    ratio = max_size / max(image.size)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def paint(
    image: Image.Image,
    face_box: Box,
    plan: RenditionPlan,
    painted: list[tuple[Box, str]],
    style: str | None = None,
) -> Box:
    """Redact ``face_box`` grown as the plan says; record and return the painted box.

    ``face_box`` may reach past the image's edge and should not be clipped first:
    the region is grown from the whole face, then clipped.
    """
    style = style or plan.style
    region = redact_region(
        image, region_for(face_box, plan.grow, plan.shape), style_name=style, shape=plan.shape
    )
    painted.append((region, style))
    return region


def _encode_rechecked(
    image: Image.Image,
    fmt: str,
    plan: RenditionPlan,
    manifest: Manifest,
    painted: list[tuple[Box, str]],
    shown: list[Box],
    detector: str | FaceDetector,
    to_source: float,
    name: str,
) -> bytes:
    """Encode, decode what was written, detect again; repeat until nothing unplanned shows.

    The check runs on the decoded *bytes*, not on the array before encoding:
    compression changes pixels, and what is published is what must be checked.
    """
    escalated = late = 0
    for _round in range(MAX_RECHECK_ROUNDS):
        with manifest.timed("encode"):
            out = encode_image(image, fmt, quality=plan.quality)
        with manifest.timed("recheck"):
            published = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))
            found = detect_faces(published, detector=detector, min_face=plan.min_face)
        leaks, new, over_solid = _classify(found, shown, painted, plan.match_iou)
        if not leaks and not new:
            manifest.check(
                "redaction",
                True,
                f"re-detection ({_name_of(detector)}) on the written {fmt} found no face in "
                f"{len(painted)} redacted region(s)"
                + (f"; {escalated} escalated to solid" if escalated else "")
                + (f"; {late} late face(s) redacted" if late else "")
                + (f"; {over_solid} detection(s) over solid fill ignored" if over_solid else ""),
            )
            return out
        for index in leaks:
            region, _style = painted[index]
            # Pixelation was not enough here: cover the same area with a solid fill.
            redact_region(image, region, style_name="solid", shape="box")
            painted[index] = (region, "solid")
            escalated += 1
        for face in new:
            outcome = FaceOutcome(
                face.scaled(to_source), "redacted", "found by the re-check on the output"
            )
            outcome.region = paint(image, face.box, plan, painted)
            manifest.faces.append(outcome)
            late += 1
    manifest.check("redaction", False, f"faces still found after {MAX_RECHECK_ROUNDS} rounds")
    raise RedactionCheckError(
        name, f"faces still detectable after {MAX_RECHECK_ROUNDS} re-check rounds", manifest
    )


def _name_of(detector: str | FaceDetector) -> str:
    return detector if isinstance(detector, str) else detector.name


def _classify(
    found: list[Face], shown: list[Box], painted: list[tuple[Box, str]], match_iou: float
) -> tuple[set[int], list[Face], int]:
    """Sort re-detections into leaks, new faces and detections over solid fill.

    A leak is a detection mostly inside a *pixelated* region: the pixelation did
    not hide the face. A detection lying almost wholly inside a *solid* fill sees
    only flat grey, so there is no face content left to leak; it is counted, not
    acted on. Anything else that is not a shown face is a face nobody planned for.
    """
    leaks: set[int] = set()
    new: list[Face] = []
    over_solid = 0
    for face in found:
        if any(face.box.iou(box) >= match_iou for box in shown):
            continue
        coverage = [face.box.coverage_by(region) for region, _ in painted]
        solid = [c for c, (_, style) in zip(coverage, painted, strict=True) if style == "solid"]
        if solid and max(solid) >= SOLID_COVERAGE:
            over_solid += 1
            continue
        best = int(np.argmax(coverage)) if coverage else -1
        if best >= 0 and coverage[best] >= LEAK_COVERAGE and painted[best][1] != "solid":
            leaks.add(best)
        else:
            new.append(face)
    return leaks, new, over_solid


def output_format(plan: RenditionPlan, source_format: str | None) -> str:
    """The plan's format; for "auto" the source's family (Pillow's format name), else JPEG."""
    if plan.format != "auto":
        return plan.format
    return _AUTO_FORMAT.get(source_format or "", "jpeg")
