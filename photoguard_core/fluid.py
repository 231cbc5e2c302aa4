"""Fluid consent: what a change affects, and bringing every copy back into line.

``affected_by(change)`` answers from indexes only: the faces assigned to the
person (an indexed lookup), then the renditions and usages of their photos. For a
consent change it first asks whether the person's coverage for that purpose
actually changed; if not, nothing is affected. That keeps one withdrawal in a
catalogue of 100 000 photos well under 100 ms (see ``bench/affected.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from photoguard_core.catalogue.records import RenditionRecord, UsageRecord
from photoguard_core.consent import consent_as_of
from photoguard_core.context import Context
from photoguard_core.publishing import PublishResult, render_for_purpose

SHOWABLE = ("auto", "confirmed")


@dataclass(frozen=True)
class Change:
    """Something that can change decisions.

    ``kind``: "consent" (one person x purpose), "flags", "biometric" or
    "assignment" (all purposes). ``before``/``after`` bound the change in time,
    so a consent change can be compared as of both moments.
    """

    kind: str
    person_id: str | None = None
    purpose: str | None = None
    photo_id: int | None = None
    before: datetime | None = None
    after: datetime | None = None


@dataclass
class Impact:
    change: Change
    photos: list[int] = field(default_factory=list)
    renditions: list[RenditionRecord] = field(default_factory=list)
    usages: list[UsageRecord] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict:
        return {
            "change": {
                "kind": self.change.kind,
                "person_id": self.change.person_id,
                "purpose": self.change.purpose,
                "photo_id": self.change.photo_id,
            },
            "reason": self.reason,
            "photos": self.photos,
            "renditions": [
                {"id": r.id, "photo_id": r.photo_id, "purpose": r.purpose, "location": r.location}
                for r in self.renditions
            ],
            "usages": [
                {"photo_id": u.photo_id, "purpose": u.purpose, "location": u.location}
                for u in self.usages
            ],
        }


def affected_by(ctx: Context, change: Change) -> Impact:
    """Photos, current renditions and usages whose decision ``change`` alters."""
    impact = Impact(change)
    if change.kind == "assignment" and change.photo_id is not None:
        photos = [change.photo_id]
    elif change.person_id is not None:
        if change.kind == "consent" and not _coverage_changed(ctx, change):
            impact.reason = "consent coverage did not change"
            return impact
        photos = sorted({f.photo_id for f in ctx.store.faces_of_person(change.person_id, SHOWABLE)})
    else:
        photos = []
    purpose = change.purpose if change.kind == "consent" else None
    impact.photos = photos
    impact.renditions = ctx.store.renditions(photos, purpose)
    impact.usages = ctx.store.usages(photos, purpose)
    impact.reason = f"{len(photos)} photo(s) show this person" if photos else "no photos affected"
    return impact


def _coverage_changed(ctx: Context, change: Change) -> bool:
    entries = ctx.store.consent_entries([change.person_id])
    before = change.before or (ctx.now() - timedelta(microseconds=1))
    after = change.after or ctx.now()
    was = consent_as_of(entries, change.person_id, change.purpose, before).covered
    now = consent_as_of(entries, change.person_id, change.purpose, after).covered
    return was != now


def apply_impact(ctx: Context, impact: Impact) -> list[PublishResult]:
    """Re-render every affected current copy in place and notify about usages.

    The old file is deleted when the new one is written (or when the photo is now
    withheld), so no old URL keeps serving a face that is no longer covered.
    """
    results = []
    for rendition in impact.renditions:
        result = render_for_purpose(
            ctx, rendition.photo_id, rendition.purpose, Path(rendition.location).parent
        )
        results.append(result)
    by_photo = {(r.photo_id, r.purpose): r for r in results}
    for usage in impact.usages:
        result = by_photo.get((usage.photo_id, usage.purpose))
        outcome = result.outcome if result else "not re-rendered (no copy on record)"
        ctx.store.notify(
            "usage_changed",
            f"Photo {usage.photo_id} used for {usage.purpose} at {usage.location} changed after "
            f"a {impact.change.kind} change: now {outcome}. Replace the published copy.",
            person_id=impact.change.person_id,
            photo_id=usage.photo_id,
        )
    return results
