"""What a rendition should look like: the per-face plan the pipeline carries out.

The pipeline itself decides nothing about people. A caller (the CLI today, the
consent decisions of the catalogue later) says which faces may be shown; every
face the redaction detector finds that is not one of those is redacted. That
makes the default — an empty ``show`` list — the safe one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from photoguard_core.errors import PlanError
from photoguard_core.geometry import Box

STYLES = ("solid", "pixelate")
SHAPES = ("box", "ellipse")
OUTPUT_FORMATS = ("auto", "jpeg", "png", "webp")

#: Below this growth a face box misses hair, ears and chin on ordinary portraits.
MIN_GROW = 0.3


@dataclass(frozen=True)
class RenditionPlan:
    """Everything :func:`photoguard_core.render.render` needs besides the pixels.

    ``show`` holds boxes (upright, full-resolution coordinates) of faces whose
    person is identified and covered for ``purpose``; a detected face matching one
    of them at IoU ``match_iou`` or more is left visible. ``redact`` holds extra
    regions that are always redacted (a face staff marked by hand, a face the index
    knows about). ``redact_faces=False`` turns the pipeline into a metadata strip:
    no detection, no redaction, pixels untouched apart from orientation.
    """

    purpose: str = "all-faces-redacted"
    max_size: int | None = 2048
    format: str = "jpeg"
    quality: int = 85
    style: str = "solid"
    shape: str = "box"
    grow: float = 0.35
    show: tuple[Box, ...] = ()
    redact: tuple[Box, ...] = ()
    redact_faces: bool = True
    detector: str = "centerface-sweep"
    match_iou: float = 0.4
    recheck: bool = True
    min_face: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        problems = []
        if self.style not in STYLES:
            problems.append(f"unknown style {self.style!r} (choose from {', '.join(STYLES)})")
        if self.shape not in SHAPES:
            problems.append(f"unknown shape {self.shape!r} (choose from {', '.join(SHAPES)})")
        if self.format not in OUTPUT_FORMATS:
            problems.append(
                f"unknown format {self.format!r} (choose from {', '.join(OUTPUT_FORMATS)})"
            )
        if self.max_size is not None and self.max_size < 16:
            problems.append(f"max_size {self.max_size} is too small to be a picture")
        if not 1 <= self.quality <= 100:
            problems.append(f"quality {self.quality} is outside 1-100")
        if self.redact_faces and self.grow < MIN_GROW:
            problems.append(f"grow {self.grow} is below {MIN_GROW}: hair and ears would show")
        if problems:
            raise PlanError(None, "; ".join(problems))

    @classmethod
    def strip_only(cls, **overrides: object) -> RenditionPlan:
        """A plan that removes metadata and keeps every pixel (after orientation)."""
        base = dict(
            purpose="metadata-strip",
            max_size=None,
            format="auto",
            quality=95,
            redact_faces=False,
            recheck=False,
        )
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> RenditionPlan:
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["show"] = [b.to_xywh() for b in self.show]
        out["redact"] = [b.to_xywh() for b in self.redact]
        out["notes"] = list(self.notes)
        return out
