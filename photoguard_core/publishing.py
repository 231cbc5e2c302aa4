"""From catalogue to published copy: the decision for a purpose, then the rendition.

The decision comes from :func:`photoguard_core.consent.decide`; this module only
gathers its inputs from the store and turns its answer into a rendition plan.
Faces the catalogue knows are redacted by box even if detection at render time
missed them, and faces detection finds that the catalogue does not know are
redacted too: the plan lists only the faces that may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from photoguard_core.catalogue.records import FaceRecord
from photoguard_core.consent import (
    FaceFacts,
    PersonFacts,
    PhotoDecision,
    Purpose,
    Vulnerability,
    biometric_allowed,
    decide,
)
from photoguard_core.context import Context
from photoguard_core.errors import PhotoguardError, PlanError
from photoguard_core.jobs import write_rendition
from photoguard_core.render import Manifest, RenditionPlan, render


@dataclass
class PublishResult:
    photo_id: int
    purpose: str
    outcome: str  # publishable | publishable_with_redactions | withheld | failed
    path: Path | None
    decision: PhotoDecision | None
    manifest: Manifest | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "photo_id": self.photo_id,
            "purpose": self.purpose,
            "outcome": self.outcome,
            "path": str(self.path) if self.path else None,
            "decision": self.decision.to_dict() if self.decision else None,
            "error": self.error,
        }


def purpose_named(ctx: Context, name: str) -> Purpose:
    purposes = ctx.store.purposes()
    if name not in purposes:
        known = ", ".join(sorted(purposes)) or "none configured"
        raise PlanError(None, f"unknown purpose {name!r} (known: {known})")
    return purposes[name]


def person_facts(ctx: Context, person_ids: set[str], on: datetime) -> dict[str, PersonFacts]:
    people = ctx.store.people(person_ids)
    consents = ctx.store.consent_entries(person_ids)
    out = {}
    for person in people:
        out[person.id] = PersonFacts(
            person_id=person.id,
            display_name=person.display_name,
            is_minor=person.is_minor(on.date()),
            flags=frozenset(Vulnerability(f) for f in person.flags),
            consents=tuple(c for c in consents if c.person_id == person.id),
            recognition_allowed=biometric_allowed(
                ctx.store.biometric_responses(person.id),
                is_minor=person.is_minor(on.date()),
                at=on,
                detection_only=ctx.detection_only,
            ).allowed,
        )
    return out


def face_facts(faces: list[FaceRecord]) -> list[FaceFacts]:
    return [
        FaceFacts(
            face_id=f.id,
            box=f.box,
            person_id=f.person_id,
            assignment=f.assignment,
            distance=f.distance,
            manual=f.manual,
        )
        for f in faces
    ]


def decide_photo(
    ctx: Context, photo_id: int, purpose: str, at: datetime | None = None
) -> PhotoDecision:
    """The decision for ``photo_id`` and ``purpose`` as of ``at`` (default: now)."""
    at = at or ctx.now()
    faces = ctx.store.faces(photo_id)
    people = person_facts(ctx, {f.person_id for f in faces if f.person_id}, at)
    return decide(
        face_facts(faces),
        people,
        purpose_named(ctx, purpose),
        at,
        detection_only=ctx.detection_only,
    )


@dataclass(frozen=True)
class RenditionBrief:
    """What a host needs to make a copy of one photo for one purpose.

    ``faces`` and ``show`` are in the photo's upright full-resolution coordinates;
    the host maps them through its own crop and resize. ``faces is None`` means the
    copy must be redacted whole: the photo is not indexed, the purpose is unknown,
    or the decision withholds it — ``reason`` says which. Hosts never decide this
    themselves.
    """

    plan: RenditionPlan
    faces: tuple | None
    show: tuple
    reason: str
    decision: PhotoDecision | None = None


def brief_for(
    ctx: Context, photo_sha256: str, purpose: str, at: datetime | None = None
) -> RenditionBrief:
    """The plan and face boxes for a copy of the photo with this content, for ``purpose``."""
    try:
        plan = plan_for(purpose_named(ctx, purpose))
    except PlanError as err:
        return RenditionBrief(RenditionPlan(purpose=purpose), None, (), err.reason)
    photo = ctx.store.photo_by_sha(photo_sha256)
    if photo is None or photo.status != "indexed":
        return RenditionBrief(plan, None, (), "faces not indexed yet")
    decision = decide_photo(ctx, photo.id, purpose, at)
    if decision.outcome == "withheld":
        return RenditionBrief(plan, None, (), "withheld: " + "; ".join(decision.reasons), decision)
    faces = tuple(f.box for f in decision.faces)
    return RenditionBrief(plan, faces, tuple(decision.show_boxes()), decision.outcome, decision)


def plan_for(purpose: Purpose) -> RenditionPlan:
    """A purpose's size limit and redaction style as a rendition plan."""
    return RenditionPlan(purpose=purpose.name, max_size=purpose.max_size, style=purpose.style)


def render_for_purpose(
    ctx: Context, photo_id: int, purpose: str, out_dir: Path, at: datetime | None = None
) -> PublishResult:
    """Decide, render and record one copy; a withheld photo gets no copy at all."""
    photo = ctx.store.photo(photo_id)
    if photo is None or photo.status != "indexed":
        reason = "not indexed" if photo is None else f"indexing failed: {photo.error}"
        return PublishResult(photo_id, purpose, "failed", None, None, error=reason)
    decision = decide_photo(ctx, photo_id, purpose, at)
    if decision.outcome == "withheld":
        with ctx.store.transaction():
            stale = _retire(ctx, photo_id, purpose)
        _delete_files(stale)
        ctx.store.audit(
            ctx.actor,
            "render",
            "photo",
            str(photo_id),
            {"purpose": purpose, "outcome": "withheld", "reasons": list(decision.reasons)},
        )
        return PublishResult(photo_id, purpose, "withheld", None, decision)
    plan = plan_for(purpose_named(ctx, purpose)).with_changes(
        show=tuple(decision.show_boxes()), redact=tuple(decision.redact_boxes())
    )
    try:
        rendition = render(Path(photo.location), plan)
    except PhotoguardError as err:
        ctx.store.audit(
            ctx.actor,
            "render_failed",
            "photo",
            str(photo_id),
            {"purpose": purpose, "error": err.reason},
        )
        return PublishResult(photo_id, purpose, "failed", None, decision, error=err.reason)
    path = write_rendition(rendition, out_dir)
    with ctx.store.transaction():
        stale = _retire(ctx, photo_id, purpose, keep=path)
        ctx.store.add_rendition(
            photo_id,
            purpose,
            sha256=rendition.sha256,
            location=str(path),
            outcome=decision.outcome,
            shown=[f.person_id for f in decision.faces if f.action == "show" and f.person_id],
        )
        ctx.store.audit(
            ctx.actor,
            "render",
            "photo",
            str(photo_id),
            {
                "purpose": purpose,
                "outcome": decision.outcome,
                "rendition": rendition.sha256,
                "shown": [f.person_id for f in decision.faces if f.action == "show"],
                "redacted": rendition.manifest.redacted_count,
            },
        )
    _delete_files(stale)
    return PublishResult(photo_id, purpose, decision.outcome, path, decision, rendition.manifest)


def _retire(ctx: Context, photo_id: int, purpose: str, keep: Path | None = None) -> list[Path]:
    """Supersede the current copies for this purpose; return the files to delete.

    The files go only after the transaction commits (see :func:`_delete_files`):
    deleting inside it would leave a current record without its file on rollback.
    """
    stale = []
    for old in ctx.store.supersede_renditions(photo_id, purpose):
        old_path = Path(old.location)
        if keep is None or old_path != keep:
            stale.append(old_path)
    return stale


def _delete_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
