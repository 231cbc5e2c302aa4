"""The core's catalogue, kept in the site's own database through Django models.

:class:`DjangoCatalogue` implements :class:`photoguard_core.catalogue.store.CatalogueStore`
with the same semantics as :class:`photoguard_core.catalogue.sqlite_store.SQLiteCatalogue`,
so the core's operations (indexing, enrolment, review, publishing, fluid consent) run
unchanged against a Wagtail site's PostgreSQL or SQLite database. It is a translation
layer only: rows in, records out. Every decision stays in the core.

Where the two stores could drift apart, this one follows SQLite deliberately:

* text is ordered in Python, not by the database, because a PostgreSQL collation such
  as ``en_GB`` puts ``"adam"`` before ``"Zoe"`` where SQLite's byte order does not;
* id lists are queried in chunks of 500, in the same order, so results come back in
  the same order and no database hits its bound-parameter limit;
* timestamps are written as aware UTC datetimes; those the records carry as text
  (renditions, usages, notifications) come back as the ISO-8601 text SQLite stores
  (``2025-03-01T09:30:00.000000+00:00``).

One difference is deliberate: a nested :meth:`DjangoCatalogue.transaction` is a
savepoint, so an exception caught *inside* an outer block undoes the inner block, where
SQLite (no savepoints) would keep it. No core operation catches inside a transaction,
and undoing a failed step is the safer reading for an adapter's own code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import ExpressionWrapper, F, FloatField, Q, QuerySet

from photoguard_core.audit import AuditEntry, canonical_json, next_entry
from photoguard_core.catalogue.records import (
    FaceRecord,
    PersonRecord,
    PhotoRecord,
    RenditionRecord,
    UsageRecord,
)
from photoguard_core.consent import BiometricResponse, ConsentEntry, ConsentStatus, Purpose
from photoguard_core.geometry import Box
from wagtail_photoguard import models as m

#: Ids per ``IN (...)`` query, as in the SQLite catalogue.
CHUNK = 500

_T = TypeVar("_T")


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    """The text SQLite stores for a timestamp, so records compare equal across stores."""
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def _chunks(items: list[_T], size: int = CHUNK) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DjangoCatalogue:
    """A catalogue in the site's database (see the module docstring).

    Transactions are Django's: :meth:`transaction` is ``transaction.atomic()``, so it
    nests (inner blocks are savepoints) and joins any transaction the caller, a view or
    a task, already opened. On SQLite, configure ``"OPTIONS": {"transaction_mode":
    "IMMEDIATE"}`` so that concurrent writers queue for the lock instead of failing.
    """

    #: No file of its own: the catalogue lives in the site's database.
    path = None

    def __init__(self, sealer: Callable[[int, str], str] | None = None) -> None:
        #: Set by the caller that holds the master key: seals the audit head after
        #: every append, so truncating the log is detectable (see photoguard_core.audit).
        self.sealer: Callable[[int, str], str] | None = sealer

    def close(self) -> None:
        """Nothing to close: Django owns the connections (kept for CLI-style callers)."""

    def transaction(self) -> AbstractContextManager[Any]:
        return transaction.atomic()

    # --- settings and purposes -------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        value = m.CatalogueSetting.objects.filter(key=key).values_list("value", flat=True).first()
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        m.CatalogueSetting.objects.update_or_create(key=key, defaults={"value": value})

    def save_purposes(self, purposes: Mapping[str, Purpose]) -> None:
        with self.transaction():
            for p in purposes.values():
                m.Purpose.objects.update_or_create(
                    name=p.name,
                    defaults={
                        "audience": p.audience,
                        "max_size": p.max_size,
                        "style": p.style,
                        "names_with_images": p.names_with_images,
                        "description": p.description,
                    },
                )

    def purposes(self) -> dict[str, Purpose]:
        rows = sorted(m.Purpose.objects.all(), key=lambda r: r.name)
        return {
            r.name: Purpose(
                name=r.name,
                audience=r.audience,
                max_size=r.max_size,
                style=r.style,
                names_with_images=r.names_with_images,
                description=r.description,
            )
            for r in rows
        }

    # --- people ----------------------------------------------------------------------

    def upsert_person(self, person: PersonRecord) -> bool:
        """Create or update ``person`` (groups replaced); return True when anything changed."""
        before = self.person(person.id)
        fields = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "role": person.role,
            "date_of_birth": person.date_of_birth,
            "left_on": person.left_on,
        }
        with self.transaction():
            # created_at is set once, on insert, as in SQLite.
            m.Person.objects.update_or_create(
                id=person.id, defaults=fields, create_defaults={**fields, "created_at": _now()}
            )
            m.Membership.objects.filter(person_id=person.id).delete()
            for name in dict.fromkeys(person.groups):
                group, _ = m.PersonGroup.objects.get_or_create(name=name)
                m.Membership.objects.create(person_id=person.id, group=group)
        after = self.person(person.id)
        return before != after

    def person(self, person_id: str) -> PersonRecord | None:
        found = self._people_query().filter(id=person_id).first()
        return self._person(found) if found else None

    def people(self, ids: Iterable[str] | None = None) -> list[PersonRecord]:
        if ids is None:
            return [self._person(r) for r in sorted(self._people_query(), key=lambda r: r.id)]
        out: list[PersonRecord] = []
        for chunk in _chunks(list(dict.fromkeys(ids))):
            rows = self._people_query().filter(id__in=chunk)
            out += [self._person(r) for r in sorted(rows, key=lambda r: r.id)]
        return out

    @staticmethod
    def _people_query() -> QuerySet[m.Person]:
        return m.Person.objects.prefetch_related("memberships__group", "flags")

    @staticmethod
    def _person(row: m.Person) -> PersonRecord:
        return PersonRecord(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            role=row.role,
            date_of_birth=row.date_of_birth,
            left_on=row.left_on,
            groups=tuple(sorted(ms.group.name for ms in row.memberships.all())),
            flags=frozenset(f.flag for f in row.flags.all()),
        )

    def set_flags(self, person_id: str, flags: Iterable[str], *, by: str) -> None:
        with self.transaction():
            m.PersonFlag.objects.filter(person_id=person_id).delete()
            for flag in sorted(set(flags)):
                m.PersonFlag.objects.create(
                    person_id=person_id, flag=flag, set_at=_now(), set_by=by
                )

    def group_members(self, group: str) -> list[str]:
        return sorted(
            m.Membership.objects.filter(group__name=group).values_list("person_id", flat=True)
        )

    # --- consent ---------------------------------------------------------------------

    def append_consent(self, entry: ConsentEntry) -> int:
        row = m.ConsentLedgerEntry.objects.create(
            person_id=entry.person_id,
            purpose=entry.purpose,
            status=ConsentStatus(entry.status).value,
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            recorded_at=entry.recorded_at,
            recorded_by=entry.recorded_by,
            source=entry.source,
            note=entry.note,
        )
        return int(row.pk)

    def consent_entries(self, person_ids: Iterable[str] | None = None) -> list[ConsentEntry]:
        if person_ids is None:
            rows = list(m.ConsentLedgerEntry.objects.order_by("id"))
        else:
            rows = []
            for chunk in _chunks(list(dict.fromkeys(person_ids))):
                rows += m.ConsentLedgerEntry.objects.filter(person_id__in=chunk).order_by("id")
        return [
            ConsentEntry(
                person_id=r.person_id,
                purpose=r.purpose,
                status=ConsentStatus(r.status),
                valid_from=r.valid_from,
                valid_until=r.valid_until,
                recorded_at=r.recorded_at,
                recorded_by=r.recorded_by,
                source=r.source,
                note=r.note,
                entry_id=r.pk,
            )
            for r in rows
        ]

    def append_biometric(self, response: BiometricResponse) -> int:
        row = m.BiometricResponseEntry.objects.create(
            person_id=response.person_id,
            respondent=response.respondent,
            respondent_name=response.respondent_name,
            response=response.response,
            in_writing=response.in_writing,
            recorded_at=response.recorded_at,
            recorded_by=response.recorded_by,
        )
        return int(row.pk)

    def biometric_responses(self, person_id: str) -> list[BiometricResponse]:
        rows = m.BiometricResponseEntry.objects.filter(person_id=person_id).order_by("id")
        return [
            BiometricResponse(
                person_id=r.person_id,
                respondent=r.respondent,
                respondent_name=r.respondent_name,
                response=r.response,
                in_writing=r.in_writing,
                recorded_at=r.recorded_at,
                recorded_by=r.recorded_by,
            )
            for r in rows
        ]

    # --- keys and templates ----------------------------------------------------------

    def wrapped_key(self, owner: str) -> tuple[bytes, str] | None:
        row = m.DataKey.objects.filter(owner=owner).values_list("wrapped_key", "key_id").first()
        return (bytes(row[0]), row[1]) if row else None

    def save_wrapped_key(self, owner: str, wrapped: bytes, key_id: str) -> None:
        # A plain insert, as in SQLite: a second key for the same owner is an error,
        # never a silent replacement of the key that encrypted existing data.
        m.DataKey.objects.create(
            owner=owner, wrapped_key=bytes(wrapped), key_id=key_id, created_at=_now()
        )

    def delete_wrapped_key(self, owner: str) -> bool:
        deleted, _ = m.DataKey.objects.filter(owner=owner).delete()
        return deleted > 0

    def add_template(self, person_id: str, blob: bytes, source_sha256: str) -> int:
        row = m.FaceTemplate.objects.create(
            person_id=person_id,
            encoding=bytes(blob),
            source_sha256=source_sha256,
            created_at=_now(),
        )
        return int(row.pk)

    def templates(self) -> list[tuple[str, bytes]]:
        rows = m.FaceTemplate.objects.order_by("id").values_list("person_id", "encoding")
        return [(person_id, bytes(encoding)) for person_id, encoding in rows]

    def template_count(self, person_id: str) -> int:
        return m.FaceTemplate.objects.filter(person_id=person_id).count()

    def delete_templates(self, person_id: str) -> int:
        deleted, _ = m.FaceTemplate.objects.filter(person_id=person_id).delete()
        return deleted

    # --- photos and faces ------------------------------------------------------------

    def save_photo(
        self,
        sha256: str,
        location: str,
        *,
        fmt: str | None,
        size: tuple[int, int] | None,
        status: str,
        error: str | None = None,
    ) -> int:
        """Insert or update by content hash; event, date taken and tags are kept."""
        w, h = size if size else (None, None)
        row, _ = m.Photo.objects.update_or_create(
            sha256=sha256,
            defaults={
                "location": location,
                "format": fmt,
                "width": w,
                "height": h,
                "status": status,
                "error": error,
                "indexed_at": _now(),
            },
        )
        return int(row.pk)

    def photo(self, photo_id: int) -> PhotoRecord | None:
        row = self._photo_query().filter(id=photo_id).first()
        return self._photo(row) if row else None

    def photo_by_sha(self, sha256: str) -> PhotoRecord | None:
        row = self._photo_query().filter(sha256=sha256).first()
        return self._photo(row) if row else None

    def photos(self, ids: Iterable[int] | None = None) -> list[PhotoRecord]:
        if ids is None:
            return [self._photo(r) for r in self._photo_query().order_by("id")]
        out: list[PhotoRecord] = []
        for chunk in _chunks(sorted(set(ids))):
            out += [self._photo(r) for r in self._photo_query().filter(id__in=chunk).order_by("id")]
        return out

    @staticmethod
    def _photo_query() -> QuerySet[m.Photo]:
        return m.Photo.objects.select_related("event").prefetch_related("photo_tags__tag")

    @staticmethod
    def _photo(row: m.Photo) -> PhotoRecord:
        return PhotoRecord(
            id=row.pk,
            sha256=row.sha256,
            location=row.location,
            format=row.format,
            width=row.width,
            height=row.height,
            status=row.status,
            error=row.error,
            event=row.event.name if row.event else None,
            taken_on=row.taken_on,
            tags=tuple(sorted(pt.tag.name for pt in row.photo_tags.all())),
        )

    def set_event(self, photo_id: int, event: str | None) -> None:
        with self.transaction():
            found = m.Event.objects.get_or_create(name=event)[0] if event else None
            m.Photo.objects.filter(id=photo_id).update(event=found)

    def set_taken_on(self, photo_id: int, taken_on: date | None) -> None:
        m.Photo.objects.filter(id=photo_id).update(taken_on=taken_on)

    def add_tags(self, photo_id: int, tags: Iterable[str]) -> None:
        with self.transaction():
            for name in tags:
                tag, _ = m.Tag.objects.get_or_create(name=name)
                m.PhotoTag.objects.get_or_create(photo_id=photo_id, tag=tag)

    def add_face(
        self,
        photo_id: int,
        box: Box,
        *,
        detector: str,
        score: float,
        embedding: bytes | None,
        key_owner: str | None,
        manual: bool = False,
    ) -> int:
        row = m.Face.objects.create(
            photo_id=photo_id,
            x0=box.x0,
            y0=box.y0,
            x1=box.x1,
            y1=box.y1,
            detector=detector,
            score=score,
            embedding=None if embedding is None else bytes(embedding),
            key_owner=key_owner,
            manual=manual,
            updated_at=_now(),
        )
        return int(row.pk)

    def delete_faces(self, photo_id: int) -> None:
        m.Face.objects.filter(photo_id=photo_id).delete()

    def faces(self, photo_id: int) -> list[FaceRecord]:
        return [self._face(r) for r in self._face_query().filter(photo_id=photo_id).order_by("id")]

    def face(self, face_id: int) -> FaceRecord | None:
        row = self._face_query().filter(id=face_id).first()
        return self._face(row) if row else None

    @staticmethod
    def _face_query() -> QuerySet[m.Face]:
        # The embedding itself stays in the database: records only say whether one exists.
        return (
            m.Face.objects.defer("embedding")
            .annotate(has_embedding=Q(embedding__isnull=False))
            .prefetch_related("rejections")
        )

    @staticmethod
    def _face(row: m.Face) -> FaceRecord:
        return FaceRecord(
            id=row.pk,
            photo_id=row.photo_id,
            box=Box(row.x0, row.y0, row.x1, row.y1),
            detector=row.detector,
            score=row.score,
            person_id=row.person_id,
            assignment=row.assignment,
            distance=row.distance,
            candidate=row.candidate,
            manual=row.manual,
            has_embedding=bool(row.has_embedding),
            key_owner=row.key_owner,
            rejected=frozenset(r.person_id for r in row.rejections.all()),
        )

    def face_embedding(self, face_id: int) -> tuple[bytes, str] | None:
        row = m.Face.objects.filter(id=face_id).values_list("embedding", "key_owner").first()
        if row is None or row[0] is None:
            return None
        return bytes(row[0]), row[1]

    def set_assignment(
        self,
        face_id: int,
        *,
        person_id: str | None,
        assignment: str,
        distance: float | None = None,
        candidate: str | None = None,
    ) -> None:
        m.Face.objects.filter(id=face_id).update(
            person_id=person_id,
            assignment=assignment,
            distance=distance,
            candidate=candidate,
            updated_at=_now(),
        )

    def set_embedding(self, face_id: int, embedding: bytes | None, key_owner: str | None) -> None:
        m.Face.objects.filter(id=face_id).update(
            embedding=None if embedding is None else bytes(embedding), key_owner=key_owner
        )

    def reject(self, face_id: int, person_id: str) -> None:
        m.FaceRejection.objects.get_or_create(face_id=face_id, person_id=person_id)

    def faces_of_person(
        self, person_id: str, states: Iterable[str] = ("auto", "confirmed")
    ) -> list[FaceRecord]:
        rows = self._face_query().filter(person_id=person_id, assignment__in=list(states))
        return [self._face(r) for r in rows.order_by("id")]

    def faces_with_key_owner(self, owner: str) -> list[int]:
        return list(
            m.Face.objects.filter(key_owner=owner).order_by("id").values_list("id", flat=True)
        )

    @staticmethod
    def _reviewable(min_size: float, min_score: float) -> QuerySet[m.Face]:
        """Unknown and ambiguous faces big and clear enough to name (see the SQLite store).

        ``MIN(w, h) >= s`` is written as ``w >= s AND h >= s``, with the same
        subtraction as SQLite so boundary cases agree.
        """
        return (
            m.Face.objects.annotate(
                w=ExpressionWrapper(F("x1") - F("x0"), output_field=FloatField()),
                h=ExpressionWrapper(F("y1") - F("y0"), output_field=FloatField()),
            )
            .filter(assignment__in=("unknown", "ambiguous"))
            .filter(
                Q(manual=True)
                | Q(assignment="ambiguous")
                | Q(w__gte=min_size, h__gte=min_size, score__gte=min_score)
            )
        )

    def faces_for_review(self, *, min_size: float = 40, min_score: float = 0.5) -> list[FaceRecord]:
        """The review queue: unknown and ambiguous faces big and clear enough to name.

        Tiny or weak detections are always redacted anyway; listing them would bury
        the faces a person can actually decide about.
        """
        ids = self._reviewable(min_size, min_score).values("id")
        rows = self._face_query().filter(id__in=ids).order_by("id")
        return [self._face(r) for r in rows]

    def photos_with_faces_to_match(self) -> list[int]:
        rows = (
            m.Face.objects.filter(embedding__isnull=False)
            .exclude(assignment="confirmed")
            .order_by("photo_id")
            .values_list("photo_id", flat=True)
            .distinct()
        )
        return list(rows)

    def find_photo_ids(
        self,
        *,
        person: str | None = None,
        group: str | None = None,
        event: str | None = None,
        tag: str | None = None,
        needs_review: bool = False,
        since: date | None = None,
        until: date | None = None,
    ) -> list[int]:
        """Indexed photos matching every given criterion (people only when shown-eligible).

        As in SQLite, the person, group and review criteria must hold for the *same*
        face of the photo, so they are combined on one face queryset.
        """
        photos = m.Photo.objects.filter(status="indexed")
        if person or group or needs_review:
            faces = (
                self._reviewable(40, 0.5) if needs_review else m.Face.objects.all()
            )  # the queue's defaults, as in SQLite
            if person:
                faces = faces.filter(person_id=person, assignment__in=("auto", "confirmed"))
            if group:
                members = m.Membership.objects.filter(group__name=group).values("person_id")
                faces = faces.filter(person_id__in=members, assignment__in=("auto", "confirmed"))
            photos = photos.filter(id__in=faces.values("photo_id"))
        if event:
            photos = photos.filter(event__name=event)
        if tag:
            photos = photos.filter(
                id__in=m.PhotoTag.objects.filter(tag__name=tag).values("photo_id")
            )
        if since:
            photos = photos.filter(taken_on__gte=since)
        if until:
            photos = photos.filter(taken_on__lte=until)
        return list(photos.order_by("id").values_list("id", flat=True))

    # --- renditions and usages -------------------------------------------------------

    def add_rendition(
        self,
        photo_id: int,
        purpose: str,
        *,
        sha256: str,
        location: str,
        outcome: str,
        shown: Iterable[str] = (),
    ) -> int:
        """Record a new current copy; the previous one for this purpose is superseded."""
        with self.transaction():
            m.PhotoRendition.objects.filter(
                photo_id=photo_id, purpose=purpose, superseded_at__isnull=True
            ).update(superseded_at=_now())
            row = m.PhotoRendition.objects.create(
                photo_id=photo_id,
                purpose=purpose,
                sha256=sha256,
                location=location,
                outcome=outcome,
                shown=sorted(shown),
                created_at=_now(),
            )
        return int(row.pk)

    def supersede_renditions(self, photo_id: int, purpose: str) -> list[RenditionRecord]:
        """Mark the current copies superseded and return them (as they were), for deletion.

        One transaction, with the rows locked where the database can: a copy added
        between the read and the update would otherwise be superseded without being
        returned, and its file would never be deleted.
        """
        with self.transaction():
            current = (
                m.PhotoRendition.objects.select_for_update()
                .filter(photo_id=photo_id, purpose=purpose, superseded_at__isnull=True)
                .order_by("id")
            )
            records = [self._rendition(r) for r in current]
            m.PhotoRendition.objects.filter(id__in=[r.id for r in records]).update(
                superseded_at=_now()
            )
        return records

    def renditions(
        self, photo_ids: Iterable[int], purpose: str | None = None, *, current: bool = True
    ) -> list[RenditionRecord]:
        out: list[RenditionRecord] = []
        for chunk in _chunks(sorted(set(photo_ids))):
            rows = m.PhotoRendition.objects.filter(photo_id__in=chunk)
            if purpose:
                rows = rows.filter(purpose=purpose)
            if current:
                rows = rows.filter(superseded_at__isnull=True)
            out += [self._rendition(r) for r in rows.order_by("id")]
        return out

    @staticmethod
    def _rendition(row: m.PhotoRendition) -> RenditionRecord:
        return RenditionRecord(
            id=row.pk,
            photo_id=row.photo_id,
            purpose=row.purpose,
            sha256=row.sha256,
            location=row.location,
            outcome=row.outcome,
            created_at=_iso(row.created_at) or "",
            superseded_at=_iso(row.superseded_at),
            shown=tuple(row.shown),
        )

    def add_usage(self, photo_id: int, purpose: str, location: str, *, by: str) -> int:
        """Record a publication; it is linked to the copy current for that purpose."""
        current = self.renditions([photo_id], purpose)
        rendition_id = current[-1].id if current else None
        row, _ = m.PhotoUsage.objects.update_or_create(
            photo_id=photo_id,
            purpose=purpose,
            location=location,
            defaults={"rendition_id": rendition_id, "recorded_at": _now(), "recorded_by": by},
        )
        return int(row.pk)

    def usages(self, photo_ids: Iterable[int], purpose: str | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        for chunk in _chunks(sorted(set(photo_ids))):
            rows = m.PhotoUsage.objects.filter(photo_id__in=chunk)
            if purpose:
                rows = rows.filter(purpose=purpose)
            out += [
                UsageRecord(
                    id=r.pk,
                    photo_id=r.photo_id,
                    purpose=r.purpose,
                    location=r.location,
                    recorded_at=_iso(r.recorded_at) or "",
                    recorded_by=r.recorded_by,
                    rendition_id=r.rendition_id,
                )
                for r in rows.order_by("id")
            ]
        return out

    def rendition(self, rendition_id: int) -> RenditionRecord | None:
        row = m.PhotoRendition.objects.filter(id=rendition_id).first()
        return self._rendition(row) if row else None

    def all_usages(self) -> list[UsageRecord]:
        return self.usages(m.PhotoUsage.objects.values_list("photo_id", flat=True).distinct())

    # --- notifications and audit -----------------------------------------------------

    def notify(
        self, kind: str, message: str, *, person_id: str | None = None, photo_id: int | None = None
    ) -> int:
        row = m.Notification.objects.create(
            created_at=_now(), kind=kind, person_id=person_id, photo_id=photo_id, message=message
        )
        return int(row.pk)

    def notifications(self, kind: str | None = None) -> list[dict]:
        """Rows as dicts with the SQLite catalogue's column names and text timestamps."""
        rows = m.Notification.objects.order_by("id")
        if kind:
            rows = rows.filter(kind=kind)
        return [
            {
                "id": r.pk,
                "created_at": _iso(r.created_at),
                "kind": r.kind,
                "person_id": r.person_id,
                "photo_id": r.photo_id,
                "message": r.message,
            }
            for r in rows
        ]

    def audit(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        details: Mapping | None = None,
    ) -> AuditEntry:
        """Append one entry to the hash chain (inside the caller's transaction, if any).

        Appends take turns: each first locks the single ``AuditLock`` row (``SELECT ...
        FOR UPDATE``, held to the end of the transaction) and only then reads the last
        entry, itself with ``FOR UPDATE`` so that MySQL's snapshot reads cannot hand back
        a stale end either. A writer that waited therefore sees the entry committed
        before it and links to it: the chain cannot fork. Should anything still compute a
        taken seq (a site running REPEATABLE READ on PostgreSQL), the ``seq`` primary key
        refuses the insert and the transaction fails: an append is lost loudly, the chain
        is never broken. On SQLite, which has no ``FOR UPDATE``, the IMMEDIATE
        transaction's write lock does the same job.
        """
        with self.transaction():
            m.AuditLock.objects.select_for_update().get_or_create(id=1)
            entry = next_entry(
                self._last_audit_entry_for_update(),
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                details=dict(details or {}),
            )
            m.AuditLogEntry.objects.create(
                seq=entry.seq,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                details=canonical_json(entry.details),
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
            if self.sealer is not None:
                head = {
                    "seq": entry.seq,
                    "hash": entry.hash,
                    "seal": self.sealer(entry.seq, entry.hash),
                }
                self.set_setting("audit_head", json.dumps(head))
        return entry

    def _last_audit_entry_for_update(self) -> AuditEntry | None:
        row = m.AuditLogEntry.objects.select_for_update().order_by("-seq").first()
        return _audit(row) if row else None

    def audit_head(self) -> dict | None:
        raw = self.get_setting("audit_head")
        return json.loads(raw) if raw else None

    def last_audit_entry(self) -> AuditEntry | None:
        row = m.AuditLogEntry.objects.order_by("-seq").first()
        return _audit(row) if row else None

    def audit_entries(self) -> list[AuditEntry]:
        return [_audit(r) for r in m.AuditLogEntry.objects.order_by("seq").iterator()]


def _audit(row: m.AuditLogEntry) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
