"""Consent changes made in the site: the core records and decides; the site then
deletes every guarded rendition the change affects, so no old URL keeps serving."""

from __future__ import annotations

from datetime import date

from photoguard_core.consent_records import set_consent
from photoguard_core.fluid import Impact
from wagtail_photoguard.renditions import delete_for_impact
from wagtail_photoguard.site_context import core_context


def record_consent(
    person_id: str,
    purpose: str,
    status: str,
    *,
    actor: str,
    until: date | None = None,
    source: str = "Wagtail admin",
) -> Impact:
    ctx = core_context(actor=actor)
    _entry, impact = set_consent(ctx, person_id, purpose, status, until=until, source=source)
    delete_for_impact(ctx, impact)
    return impact
