"""Renditions of pixels a host already cropped and resized, with faces already indexed.

:func:`photoguard_core.render.render` decodes a file and runs the high-recall
detector on it: right for a command-line run, about a second too slow for a
website that makes a rendition on a visitor's request. A Wagtail or Nextcloud
host has the faces in its index (found by that same detector when the photo was
uploaded), so the expensive part is done once. What is left per rendition is:

1. map the indexed boxes through the host's crop and resize
   (:mod:`photoguard_core.render.transform`, *unclipped*, so a face half out of
   the frame is still grown and covered);
2. :func:`render_known`: paint every face not cleared for the purpose, encode
   fresh pixels, re-check the written bytes with one fast CenterFace pass (a face
   the index missed, or a box the mapping put in the wrong place, is redacted and
   checked again, exactly as :func:`~photoguard_core.render.render` does), and
   verify that no metadata is left;
3. when the faces are unknown or anything fails, :func:`redact_everything`
   publishes a fully redacted, metadata-free frame instead (fail closed), or
   :func:`render_or_redact` does both in one call.

The painting, encoding, re-check and verification are
:mod:`~photoguard_core.render.pipeline`'s own functions, not a copy of them: one
set of rules for every way pixels leave photoguard.

Manifests from here record face boxes in the *rendition's* coordinates (the
host holds the transform back to the photo), and no source hash or size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from PIL import Image

from photoguard_core.errors import PhotoguardError, PlanError
from photoguard_core.faces.types import Face, FaceDetector
from photoguard_core.geometry import Box
from photoguard_core.images.colour import to_srgb_rgb8
from photoguard_core.render.manifest import Manifest
from photoguard_core.render.pipeline import (
    Rendition,
    decide_face,
    failing_closed,
    finish,
    fit_within,
    output_format,
    paint,
)
from photoguard_core.render.plan import RenditionPlan
from photoguard_core.render.redact import redact_region

log = logging.getLogger(__name__)

#: The re-check detector for renditions: one CenterFace pass over the rendition at
#: its own size (about 50-100 ms at 800x600 on one core, against about 1 s for the
#: sweep). The index was built with the sweep; this pass has to catch what the
#: index or the mapping got wrong. It flags fewer face-like blobs in *pixelated*
#: regions than the sweep does, so "solid" is the safer style for web renditions.
RECHECK_DETECTOR = "centerface"
#: Detector name recorded for the faces a host passes in.
INDEX = "index"


def render_known(
    pixels: Image.Image,
    *,
    faces: Sequence[Box],
    show: Sequence[Box] = (),
    plan: RenditionPlan | None = None,
    recheck: str | FaceDetector | None = RECHECK_DETECTOR,
    name: str = "<rendition>",
    source_format: str | None = None,
) -> Rendition:
    """A checked rendition of ``pixels`` with every face not in ``show`` redacted, or raise.

    ``pixels`` is the host's upright image after its crop and resize (it is not
    modified). ``faces`` are every indexed face mapped into ``pixels``'
    coordinates with :meth:`Transform.apply_unclipped` (boxes may reach past the
    edge or lie outside it; clipping them first would leave hair and ears of a
    half-visible face uncovered). ``show`` are the boxes, in the same coordinates,
    of faces cleared for ``plan.purpose``; a face is shown when it matches one at
    IoU ``plan.match_iou``.

    ``plan`` supplies purpose, style, shape, growth, format, quality and
    ``max_size`` (larger pixels are shrunk first). Its ``show`` and ``redact``
    boxes are in the photo's coordinates, which mean nothing here: a plan
    carrying them is refused (map them and pass them as ``show``/``faces``).
    ``recheck`` names the detector run over the written bytes; None skips the
    re-check, which DESIGN.md rule 4 allows nowhere a rendition is published.
    ``source_format`` (Pillow's name, e.g. "PNG") picks the output for a plan
    with ``format="auto"``.

    Raises a :class:`PhotoguardError` (with the manifest attached) on any
    failure; nothing half-checked is returned.
    """
    plan = plan or RenditionPlan()
    manifest = Manifest(source=name, plan=plan.to_dict(), source_format=source_format or "")
    with failing_closed(manifest, name):
        rendition = _render_known(pixels, faces, show, plan, recheck, name, source_format, manifest)
    return rendition


def redact_everything(
    pixels: Image.Image | tuple[int, int],
    plan: RenditionPlan | None = None,
    *,
    reason: str = "faces not known",
    name: str = "<rendition>",
) -> Rendition:
    """The whole frame redacted in the plan's style, metadata-free: the fail-closed answer.

    For a rendition whose faces are not indexed yet, or when anything in
    :func:`render_known` failed. ``pixels`` may be the host's image or only its
    size (width, height), for when even decoding failed: the frame is then plain
    fill. No detector runs (it may be what failed); a pixelated frame keeps
    about five cells across, which leaves no face to find. ``reason`` goes into
    the manifest, so the audit record says why the visitor saw a grey picture.
    """
    plan = plan or RenditionPlan()
    manifest = Manifest(source=name, plan=plan.to_dict())
    with failing_closed(manifest, name):
        image = _blank(pixels, plan) if isinstance(pixels, tuple) else _upright_rgb(pixels, plan)
        with manifest.timed("redact"):
            frame = Box(0, 0, image.width, image.height)
            region = redact_region(image, frame, style_name=plan.style, shape="box")
        manifest.extra_regions.append(region)
        manifest.check("redaction", True, f"whole frame redacted ({plan.style}): {reason}")
        rendition = finish(
            image,
            output_format(plan, None),
            plan,
            manifest,
            [(region, plan.style)],
            shown=(),
            recheck=None,
            to_source=1.0,
            name=name,
        )
    return rendition


def render_or_redact(
    pixels: Image.Image,
    *,
    faces: Sequence[Box] | None,
    show: Sequence[Box] = (),
    plan: RenditionPlan | None = None,
    recheck: str | FaceDetector | None = RECHECK_DETECTOR,
    name: str = "<rendition>",
    source_format: str | None = None,
) -> Rendition:
    """:func:`render_known`, or :func:`redact_everything` when faces are None or it fails.

    The one call a host needs to fail closed: the reason for a fallback is
    logged and written into the fallback's manifest. Only when even the fully
    redacted frame cannot be produced does this raise (publish nothing then).
    """
    plan = plan or RenditionPlan()
    if faces is None:
        return redact_everything(pixels, plan, reason="faces not indexed yet", name=name)
    try:
        return render_known(
            pixels,
            faces=faces,
            show=show,
            plan=plan,
            recheck=recheck,
            name=name,
            source_format=source_format,
        )
    except PhotoguardError as err:
        log.warning("%s: guarded rendition failed, publishing it fully redacted: %s", name, err)
        return redact_everything(pixels, plan, reason=f"rendition failed: {err.reason}", name=name)


# --- internals ----------------------------------------------------------------------


def _render_known(
    pixels: Image.Image,
    faces: Sequence[Box],
    show: Sequence[Box],
    plan: RenditionPlan,
    recheck: str | FaceDetector | None,
    name: str,
    source_format: str | None,
    manifest: Manifest,
) -> Rendition:
    if plan.show or plan.redact:
        raise PlanError(
            name, "plan.show/plan.redact are photo coordinates: pass mapped boxes as show/faces"
        )
    faces, show = _checked(faces, "faces", name), _checked(show, "show", name)
    with manifest.timed("resize"):
        image = _upright_rgb(pixels, plan)
    to_output = image.width / pixels.width
    if to_output != 1.0:
        faces = [box.scaled(to_output) for box in faces]
        show = [box.scaled(to_output) for box in show]

    painted: list[tuple[Box, str]] = []
    if plan.redact_faces:
        manifest.faces = [decide_face(Face(box, 1.0, INDEX), show, plan) for box in faces]
        with manifest.timed("redact"):
            for outcome in manifest.faces:
                if outcome.action == "redacted":
                    outcome.region = paint(image, outcome.face.box, plan, painted)
    frame = (image.width, image.height)
    # A detection is matched against the *visible* part of a shown face: the
    # detector never reports pixels beyond the edge.
    shown = [o.face.box.clipped(*frame) for o in manifest.faces if o.action == "shown"]
    return finish(
        image,
        output_format(plan, source_format),
        plan,
        manifest,
        painted,
        shown=shown,
        recheck=recheck if plan.redact_faces and plan.recheck else None,
        to_source=1.0,
        name=name,
    )


def _checked(boxes: Sequence[Box], what: str, name: str) -> list[Box]:
    """Refuse boxes that would paint nothing: NaN or inverted corners mean a mapping bug."""
    out = list(boxes)
    for box in out:
        corners = (box.x0, box.y0, box.x1, box.y1)
        if not all(math.isfinite(v) for v in corners) or box.x1 <= box.x0 or box.y1 <= box.y0:
            raise PlanError(name, f"{what} holds an impossible box {corners}")
    return out


def _upright_rgb(pixels: Image.Image, plan: RenditionPlan) -> Image.Image:
    """A private RGB copy within ``plan.max_size``: painting never touches the host's image."""
    if pixels.mode != "RGB":
        pixels = to_srgb_rgb8(pixels, icc_profile=None, bits_per_sample=None, notes=[])
    return fit_within(pixels, plan.max_size)


def _blank(size: tuple[int, int], plan: RenditionPlan) -> Image.Image:
    """An empty frame of ``size`` within ``plan.max_size``, for when there are no pixels."""
    width, height = size
    if width < 1 or height < 1:
        raise PlanError(None, f"cannot make a {width}x{height} picture")
    if plan.max_size is not None and max(width, height) > plan.max_size:
        ratio = plan.max_size / max(width, height)
        width, height = max(1, round(width * ratio)), max(1, round(height * ratio))
    return Image.new("RGB", (int(width), int(height)))
