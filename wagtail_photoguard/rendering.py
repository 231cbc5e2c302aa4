"""Guarded rendition files: the only way a Wagtail rendition is made with photoguard.

For an image and a filter: decode the original upright, ask Wagtail for the crop
and size the filter wants, map the indexed faces through that crop and resize,
ask the core which faces the purpose may show, and let the core redact, encode
(no metadata) and re-check. When the faces are not known yet, or anything fails,
the rendition is the whole frame redacted — never the original pixels.
"""

from __future__ import annotations

import hashlib
import logging
from io import BytesIO

from django.core.files.base import ContentFile

from photoguard_core.errors import PhotoguardError
from photoguard_core.images import open_image, upright_size
from photoguard_core.publishing import brief_for
from photoguard_core.render.guarded import redact_everything, render_or_redact
from photoguard_core.render.transform import Transform
from wagtail_photoguard import conf
from wagtail_photoguard.operations import purpose_of
from wagtail_photoguard.site_context import core_context

log = logging.getLogger(__name__)


def guarded_rendition_file(image, filter_, *, source=None) -> ContentFile:
    """The bytes of a guarded rendition of ``image`` for ``filter_``, as a Django file."""
    purpose = purpose_of(filter_) or conf.get("DEFAULT_PURPOSE")
    name = f"image {image.pk}"
    data = _original_bytes(image, source)
    brief = brief_for(core_context(actor="site"), hashlib.sha256(data).hexdigest(), purpose)
    plan = brief.plan
    try:
        # Decode only as large as the crop needs (JPEG draft): a 12 MP original for
        # an 800 px rendition decodes at a quarter of the cost.
        full_size = upright_size(data, name=name)  # header only, no pixels yet
        transform_ = filter_.get_transform(image, full_size)
        rect = tuple(transform_.get_rect().round())
        size = tuple(int(v) for v in transform_.size)
        decoded = open_image(
            data, name=name, target_long_side=_needed_long_side(full_size, rect, size)
        )
    except PhotoguardError as err:
        log.warning("%s: cannot decode (%s); serving a blank frame", name, err.reason)
        size = filter_.get_transform(image).size
        return _file(redact_everything(tuple(size), plan, reason=err.reason, name=name), filter_)

    scaled_rect = tuple(round(v * decoded.scale) for v in rect)
    pixels = decoded.image.crop(scaled_rect).resize(size)
    geometry = Transform.identity(decoded.full_size).crop(rect).resize(*size)

    faces = None
    if brief.faces is not None:
        faces = [geometry.apply_unclipped(box) for box in brief.faces]
    show = [geometry.apply_unclipped(box) for box in brief.show]
    rendition = render_or_redact(
        pixels,
        faces=faces,
        show=show,
        plan=plan,
        recheck=conf.get("RECHECK_DETECTOR"),
        name=name,
    )
    return _file(rendition, filter_)


def _needed_long_side(full: tuple[int, int], rect, size) -> int:
    """The decoded long side that keeps the cropped region at least ``size`` pixels."""
    crop_w, crop_h = max(1, rect[2] - rect[0]), max(1, rect[3] - rect[1])
    factor = min(1.0, max(size[0] / crop_w, size[1] / crop_h))
    return max(1, int(max(full) * factor + 0.999))


def _original_bytes(image, source) -> bytes:
    if source is not None:
        source.seek(0)
        return source.read()
    with image.open_file() as handle:
        return handle.read()


def _file(rendition, filter_) -> ContentFile:
    """Named by content hash: Wagtail's own names start with the original's file name,
    and "jane-smith-year4.jpg" in a public URL is itself a leak."""
    return ContentFile(BytesIO(rendition.data).getvalue(), name=rendition.name)
