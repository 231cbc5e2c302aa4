"""The rendition pipeline: redaction, resize, metadata strip and verification."""

from photoguard_core.render.manifest import Manifest
from photoguard_core.render.pipeline import Rendition, render
from photoguard_core.render.plan import RenditionPlan

__all__ = ["Manifest", "Rendition", "RenditionPlan", "render"]
