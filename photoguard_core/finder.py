"""Finding photos (PhotoNav): by person, group, event, tag, date, review state and
consent status for a purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from photoguard_core.catalogue.records import PhotoRecord
from photoguard_core.context import Context
from photoguard_core.publishing import decide_photo


@dataclass(frozen=True)
class Query:
    person: str | None = None
    group: str | None = None
    event: str | None = None
    tag: str | None = None
    purpose: str | None = None
    status: str | None = None  # covered | not-covered | withheld
    needs_review: bool = False
    since: date | None = None  # date taken, from the photo's own metadata
    until: date | None = None


def find(ctx: Context, query: Query) -> list[PhotoRecord]:
    ids = ctx.store.find_photo_ids(
        person=query.person,
        group=query.group,
        event=query.event,
        tag=query.tag,
        needs_review=query.needs_review,
        since=query.since,
        until=query.until,
    )
    photos = ctx.store.photos(ids)
    if query.purpose and query.status:
        photos = [p for p in photos if _status(ctx, p.id, query.purpose) == query.status]
    return photos


def _status(ctx: Context, photo_id: int, purpose: str) -> str:
    outcome = decide_photo(ctx, photo_id, purpose).outcome
    if outcome == "publishable":
        return "covered"
    if outcome == "withheld":
        return "withheld"
    return "not-covered"
