"""``photoguard report``: what the safeguarding lead must act on, as one HTML file.

* images no longer covered: a published copy (a recorded usage) shows someone whose
  consent for that purpose no longer covers it, or the photo is now withheld;
  with where it is used, so it can be taken down or replaced;
* consent expiring soon;
* faces waiting for review.

Thumbnails are redacted renditions (every face hidden): the report itself must be
safe to leave on a shared drive.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from photoguard_core.consent import expiring
from photoguard_core.context import Context
from photoguard_core.errors import PhotoguardError
from photoguard_core.publishing import decide_photo
from photoguard_core.render import RenditionPlan, render

THUMB_PLAN = RenditionPlan(purpose="report thumbnail", max_size=240, quality=75)


@dataclass
class Uncovered:
    photo_id: int
    purpose: str
    location: str
    reasons: list[str]


def uncovered_usages(ctx: Context) -> list[Uncovered]:
    """Usages whose published copy shows a face that today's decision would redact."""
    out = []
    for usage in ctx.store.all_usages():
        decision = decide_photo(ctx, usage.photo_id, usage.purpose)
        shown_now = {f.person_id for f in decision.faces if f.action == "show"}
        published = ctx.store.rendition(usage.rendition_id) if usage.rendition_id else None
        shown_then = set(published.shown) if published else set()
        reasons = []
        if decision.outcome == "withheld":
            reasons.append("the photo is now withheld: " + "; ".join(decision.reasons))
        for person in sorted(shown_then - shown_now):
            why = next((f.reason for f in decision.faces if f.person_id == person), "")
            reasons.append(f"{person} is shown but no longer covered ({why})")
        if reasons:
            out.append(Uncovered(usage.photo_id, usage.purpose, usage.location, reasons))
    return out


def write_catalogue_report(ctx: Context, out_dir: Path, *, expiring_days: int = 30) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    uncovered = uncovered_usages(ctx)
    soon = expiring(ctx.store.consent_entries(), ctx.now(), expiring_days)
    queue = ctx.store.faces_for_review()
    _notify_expiring(ctx, soon)
    template = Template(
        resources.files(__package__).joinpath("templates/catalogue_report.html").read_text("utf-8")
    )
    page = template.substitute(
        title="photoguard report",
        subtitle=f"Made {ctx.now():%d %B %Y %H:%M} UTC by {html.escape(ctx.actor)}.",
        summary=(
            f"{len(uncovered)} published image(s) no longer covered; {len(soon)} consent(s) "
            f"expiring within {expiring_days} days; {len(queue)} face(s) waiting for review."
        ),
        days=str(expiring_days),
        uncovered=_uncovered_html(ctx, uncovered),
        expiring=_expiring_html(ctx, soon),
        review=_review_html(ctx, queue),
    )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    ctx.store.audit(
        ctx.actor,
        "report",
        "catalogue",
        "report",
        {"uncovered": len(uncovered), "expiring": len(soon), "review": len(queue)},
    )
    return path


def _notify_expiring(ctx: Context, entries) -> None:
    """One notification per expiring grant (not repeated on the next report)."""
    already = {n["message"] for n in ctx.store.notifications("consent_expiring")}
    for e in entries:
        message = f"{e.purpose} consent for {e.person_id} ends on {e.valid_until:%d %B %Y}"
        if message not in already:
            ctx.store.notify("consent_expiring", message, person_id=e.person_id)


def _thumb(ctx: Context, photo_id: int, cache: dict[int, str]) -> str:
    if photo_id in cache:
        return cache[photo_id]
    photo = ctx.store.photo(photo_id)
    tag = "<span class='note'>(no preview)</span>"
    if photo is not None:
        try:
            data = render(Path(photo.location), THUMB_PLAN).data
            uri = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
            tag = f"<img src='{uri}' alt='photo {photo_id}, faces redacted'>"
        except PhotoguardError as err:
            tag = f"<span class='note'>(no preview: {html.escape(err.reason)})</span>"
    cache[photo_id] = tag
    return tag


def _uncovered_html(ctx: Context, items: list[Uncovered]) -> str:
    if not items:
        return "<p>None: every recorded publication is still covered.</p>"
    cache: dict[int, str] = {}
    rows = ["<table><tr><th>photo</th><th>purpose</th><th>used at</th><th>why</th></tr>"]
    for item in items:
        rows.append(
            f"<tr><td>{_thumb(ctx, item.photo_id, cache)}<br>photo {item.photo_id}</td>"
            f"<td>{html.escape(item.purpose)}</td><td>{html.escape(item.location)}</td>"
            f"<td class='bad'>{'<br>'.join(html.escape(r) for r in item.reasons)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _expiring_html(ctx: Context, entries) -> str:
    if not entries:
        return "<p>None.</p>"
    names = {p.id: p.display_name for p in ctx.store.people({e.person_id for e in entries})}
    rows = ["<table><tr><th>person</th><th>purpose</th><th>expires</th></tr>"]
    for e in sorted(entries, key=lambda e: e.valid_until):
        rows.append(
            f"<tr><td>{html.escape(names.get(e.person_id, e.person_id))} ({e.person_id})</td>"
            f"<td>{html.escape(e.purpose)}</td><td>{e.valid_until:%d %B %Y}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _review_html(ctx: Context, faces) -> str:
    if not faces:
        return "<p>None.</p>"
    cache: dict[int, str] = {}
    by_photo: dict[int, list] = {}
    for face in faces:
        by_photo.setdefault(face.photo_id, []).append(face)
    rows = ["<table><tr><th>photo</th><th>faces</th></tr>"]
    for photo_id, items in by_photo.items():
        desc = "<br>".join(
            f"face {f.id}: {f.assignment}"
            + (f", nearest {html.escape(f.candidate)}" if f.candidate else "")
            for f in items
        )
        rows.append(
            f"<tr><td>{_thumb(ctx, photo_id, cache)}<br>photo {photo_id}</td>"
            f"<td>{desc}<br><span class='note'>photoguard review --accept FACE_ID "
            f"PERSON_ID</span></td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)
