"""The rendition pipeline: redaction, resize, metadata strip and verification.

``render`` makes a rendition from a file (decode, detect, redact, check);
``render_known`` from pixels a host already cropped and faces already indexed,
mapped through a ``Transform`` (``transform_for_spec`` for a Wagtail filter spec).
"""

from photoguard_core.render.guarded import redact_everything, render_known, render_or_redact
from photoguard_core.render.manifest import Manifest
from photoguard_core.render.pipeline import Rendition, render
from photoguard_core.render.plan import RenditionPlan
from photoguard_core.render.transform import Transform, transform_for_spec

__all__ = [
    "Manifest",
    "Rendition",
    "RenditionPlan",
    "Transform",
    "redact_everything",
    "render",
    "render_known",
    "render_or_redact",
    "transform_for_spec",
]
