"""Recording consent, flags and people: every change appended, audited, and followed
through (affected copies re-rendered, owners notified)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from photoguard_core.catalogue.records import PersonRecord
from photoguard_core.consent import (
    ConsentEntry,
    ConsentStatus,
    Vulnerability,
    consent_as_of,
    parse_people_csv,
    write_people_csv,
)
from photoguard_core.context import Context
from photoguard_core.errors import PhotoguardError
from photoguard_core.fluid import Change, Impact, affected_by, apply_impact
from photoguard_core.publishing import purpose_named


class RecordError(PhotoguardError):
    """A consent or person record was refused (unknown person, purpose or flag)."""


def set_consent(
    ctx: Context,
    person_id: str,
    purpose: str,
    status: str,
    *,
    until: date | None = None,
    valid_from: date | None = None,
    source: str = "staff entry",
    note: str = "",
    follow_through: bool = True,
) -> tuple[ConsentEntry, Impact]:
    """Append a consent entry; re-render what it affects."""
    if ctx.store.person(person_id) is None:
        raise RecordError(None, f"no person with id {person_id}")
    purpose_named(ctx, purpose)
    before = ctx.now()
    entry = ConsentEntry(
        person_id=person_id,
        purpose=purpose,
        status=ConsentStatus(status),
        valid_from=valid_from or before.date(),
        valid_until=until,
        recorded_at=before,
        recorded_by=ctx.actor,
        source=source,
        note=note,
    )
    with ctx.store.transaction():
        entry_id = ctx.store.append_consent(entry)
        ctx.store.audit(
            ctx.actor,
            "consent_change",
            "person",
            person_id,
            {
                "purpose": purpose,
                "status": status,
                "until": until.isoformat() if until else None,
                "entry_id": entry_id,
                "source": source,
            },
        )
    change = Change(
        "consent",
        person_id=person_id,
        purpose=purpose,
        before=before - timedelta(microseconds=1),
        after=ctx.now(),
    )
    impact = affected_by(ctx, change)
    if follow_through:
        apply_impact(ctx, impact)
    return entry, impact


def set_flags(ctx: Context, person_id: str, flags: set[str]) -> Impact:
    person = ctx.store.person(person_id)
    if person is None:
        raise RecordError(None, f"no person with id {person_id}")
    try:
        clean = {Vulnerability(f).value for f in flags}
    except ValueError as err:
        names = ", ".join(v.value for v in Vulnerability)
        raise RecordError(None, f"{err} (known flags: {names})") from None
    with ctx.store.transaction():
        ctx.store.set_flags(person_id, clean, by=ctx.actor)
        ctx.store.audit(
            ctx.actor,
            "flags_change",
            "person",
            person_id,
            {"before": sorted(person.flags), "after": sorted(clean)},
        )
    impact = affected_by(ctx, Change("flags", person_id=person_id))
    apply_impact(ctx, impact)
    return impact


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in ("created", "updated", "unchanged", "consents", "errors", "dry_run")
        }


def import_people(
    ctx: Context, text: str, *, mapping: dict[str, str] | None = None, dry_run: bool = False
) -> ImportReport:
    """Import people, groups, flags and consent from a school-system CSV export.

    Idempotent: re-importing the same file changes nothing (a consent entry is
    appended only when it differs from the one in force). Rows with errors are
    reported and skipped; the others are imported.
    """
    purposes = ctx.store.purposes()
    parsed = parse_people_csv(text, mapping, purposes=purposes)
    report = ImportReport(dry_run=dry_run)
    report.errors = [f"line {e.line}, {e.column}: {e.message}" for e in parsed.errors]
    known = set(purposes)
    has = parsed.columns
    with ctx.store.transaction():
        for row in parsed.rows:
            existing = ctx.store.person(row.id)
            # A column the file does not have keeps what the catalogue knows: an export
            # without a flags column must never clear a safeguarding flag.
            record = PersonRecord(
                id=row.id,
                first_name=row.first_name,
                last_name=row.last_name,
                role=row.role,
                date_of_birth=row.date_of_birth
                if "date_of_birth" in has or existing is None
                else existing.date_of_birth,
                groups=tuple(row.groups)
                if "groups" in has or existing is None
                else existing.groups,
            )
            flags = {f.value for f in row.flags} if "flags" in has else None
            if existing is None:
                report.created.append(row.id)
            elif _same_person(existing, record) and (flags is None or set(existing.flags) == flags):
                report.unchanged.append(row.id)
            else:
                report.updated.append(row.id)
            if not dry_run:
                ctx.store.upsert_person(record)
                if flags is not None:
                    ctx.store.set_flags(row.id, flags, by=ctx.actor)
        entries = ctx.store.consent_entries() if not dry_run else []
        for consent in parsed.consents:
            if consent.purpose not in known:
                continue  # reported by the parser
            state = consent_as_of(entries, consent.person_id, consent.purpose, ctx.now())
            same = (
                state.entry is not None
                and state.entry.status == consent.status
                and state.entry.valid_until == consent.until
            )
            if same:
                continue
            report.consents.append(
                f"{consent.person_id} {consent.purpose} {ConsentStatus(consent.status).value}"
            )
            if not dry_run:
                ctx.store.append_consent(
                    ConsentEntry(
                        person_id=consent.person_id,
                        purpose=consent.purpose,
                        status=ConsentStatus(consent.status),
                        valid_from=ctx.now().date(),
                        valid_until=consent.until,
                        recorded_at=ctx.now(),
                        recorded_by=ctx.actor,
                        source="school information system import",
                    )
                )
        if not dry_run:
            ctx.store.audit(
                ctx.actor,
                "person_import",
                "catalogue",
                "people",
                {
                    "created": len(report.created),
                    "updated": len(report.updated),
                    "consents": len(report.consents),
                    "errors": len(report.errors),
                },
            )
    return report


def export_people(ctx: Context) -> str:
    """The catalogue's people and current consent, in the import format."""
    from photoguard_core.consent import ConsentRow, PersonRow

    people = ctx.store.people()
    entries = ctx.store.consent_entries()
    rows, consents = [], []
    for p in people:
        rows.append(
            PersonRow(
                id=p.id,
                first_name=p.first_name,
                last_name=p.last_name,
                role=p.role,
                groups=tuple(p.groups),
                date_of_birth=p.date_of_birth,
                flags=frozenset(Vulnerability(f) for f in p.flags),
            )
        )
        for purpose in ctx.store.purposes():
            state = consent_as_of(entries, p.id, purpose, ctx.now())
            if state.entry is not None:
                consents.append(
                    ConsentRow(
                        person_id=p.id,
                        purpose=purpose,
                        status=state.entry.status.value,
                        until=state.entry.valid_until,
                    )
                )
    ctx.store.audit(ctx.actor, "export", "catalogue", "people", {"people": len(rows)})
    return write_people_csv(rows, consents, purposes=ctx.store.purposes())


def _same_person(a: PersonRecord, b: PersonRecord) -> bool:
    return (a.first_name, a.last_name, a.role, a.date_of_birth, tuple(a.groups)) == (
        b.first_name,
        b.last_name,
        b.role,
        b.date_of_birth,
        tuple(sorted(b.groups)),
    )
