"""The embedded catalogue: every record in one SQLite file.

Methods are small and map one-to-one onto what the core's operations need, so an
adapter with its own database (Wagtail keeps these records in Django models) can
offer the same methods; see :class:`photoguard_core.catalogue.store.CatalogueStore`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from photoguard_core.audit import AuditEntry, next_entry
from photoguard_core.catalogue.db import connect, transaction
from photoguard_core.catalogue.records import (
    FaceRecord,
    PersonRecord,
    PhotoRecord,
    RenditionRecord,
    UsageRecord,
)
from photoguard_core.consent import BiometricResponse, ConsentEntry, ConsentStatus, Purpose
from photoguard_core.geometry import Box


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class SQLiteCatalogue:
    """A catalogue in one SQLite file (WAL, versioned schema, append-only ledgers)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self.conn = connect(path)
        #: Set by the caller that holds the master key: seals the audit head after
        #: every append, so truncating the log is detectable (see photoguard_core.audit).
        self.sealer: Callable[[int, str], str] | None = None

    def close(self) -> None:
        self.conn.close()

    def transaction(self):
        return transaction(self.conn)

    # --- settings and purposes -------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def save_purposes(self, purposes: Mapping[str, Purpose]) -> None:
        with self.transaction():
            for p in purposes.values():
                self.conn.execute(
                    "INSERT INTO purposes VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
                    "SET audience = excluded.audience, max_size = excluded.max_size, "
                    "style = excluded.style, names_with_images = excluded.names_with_images, "
                    "description = excluded.description",
                    (
                        p.name,
                        p.audience,
                        p.max_size,
                        p.style,
                        int(p.names_with_images),
                        p.description,
                    ),
                )

    def purposes(self) -> dict[str, Purpose]:
        rows = self.conn.execute("SELECT * FROM purposes ORDER BY name").fetchall()
        return {
            r["name"]: Purpose(
                name=r["name"],
                audience=r["audience"],
                max_size=r["max_size"],
                style=r["style"],
                names_with_images=bool(r["names_with_images"]),
                description=r["description"],
            )
            for r in rows
        }

    # --- people ----------------------------------------------------------------------

    def upsert_person(self, person: PersonRecord) -> bool:
        """Create or update ``person`` (groups replaced); return True when anything changed."""
        before = self.person(person.id)
        with self.transaction():
            self.conn.execute(
                "INSERT INTO people (id, first_name, last_name, role, date_of_birth, left_on, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "first_name = excluded.first_name, last_name = excluded.last_name, "
                "role = excluded.role, date_of_birth = excluded.date_of_birth, "
                "left_on = excluded.left_on",
                (
                    person.id,
                    person.first_name,
                    person.last_name,
                    person.role,
                    _iso(person.date_of_birth),
                    _iso(person.left_on),
                    now_iso(),
                ),
            )
            self.conn.execute("DELETE FROM memberships WHERE person_id = ?", (person.id,))
            for name in person.groups:
                self.conn.execute("INSERT OR IGNORE INTO groups (name) VALUES (?)", (name,))
                self.conn.execute(
                    "INSERT OR IGNORE INTO memberships SELECT ?, id FROM groups WHERE name = ?",
                    (person.id, name),
                )
        after = self.person(person.id)
        return before != after

    def person(self, person_id: str) -> PersonRecord | None:
        row = self.conn.execute("SELECT * FROM people WHERE id = ?", (person_id,)).fetchone()
        return self._person(row) if row else None

    def people(self, ids: Iterable[str] | None = None) -> list[PersonRecord]:
        if ids is None:
            rows = self.conn.execute("SELECT * FROM people ORDER BY id").fetchall()
        else:
            wanted = list(dict.fromkeys(ids))
            rows = []
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                rows += self.conn.execute(
                    f"SELECT * FROM people WHERE id IN ({marks})", chunk
                ).fetchall()
        return [self._person(r) for r in rows]

    def _person(self, row: sqlite3.Row) -> PersonRecord:
        groups = tuple(
            r[0]
            for r in self.conn.execute(
                "SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id "
                "WHERE m.person_id = ? ORDER BY g.name",
                (row["id"],),
            )
        )
        flags = frozenset(
            r[0]
            for r in self.conn.execute(
                "SELECT flag FROM person_flags WHERE person_id = ?", (row["id"],)
            )
        )
        return PersonRecord(
            id=row["id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            role=row["role"],
            date_of_birth=_date(row["date_of_birth"]),
            left_on=_date(row["left_on"]),
            groups=groups,
            flags=flags,
        )

    def set_flags(self, person_id: str, flags: Iterable[str], *, by: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM person_flags WHERE person_id = ?", (person_id,))
            for flag in sorted(set(flags)):
                self.conn.execute(
                    "INSERT INTO person_flags VALUES (?, ?, ?, ?)",
                    (person_id, flag, now_iso(), by),
                )

    def group_members(self, group: str) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT m.person_id FROM memberships m JOIN groups g ON g.id = m.group_id "
                "WHERE g.name = ?",
                (group,),
            )
        ]

    # --- consent ---------------------------------------------------------------------

    def append_consent(self, entry: ConsentEntry) -> int:
        cur = self.conn.execute(
            "INSERT INTO consent_ledger (person_id, purpose, status, valid_from, valid_until, "
            "recorded_at, recorded_by, source, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.person_id,
                entry.purpose,
                ConsentStatus(entry.status).value,
                entry.valid_from.isoformat(),
                _iso(entry.valid_until),
                entry.recorded_at.isoformat(),
                entry.recorded_by,
                entry.source,
                entry.note,
            ),
        )
        return int(cur.lastrowid)

    def consent_entries(self, person_ids: Iterable[str] | None = None) -> list[ConsentEntry]:
        sql = "SELECT * FROM consent_ledger"
        if person_ids is None:
            rows = self.conn.execute(sql + " ORDER BY id").fetchall()
        else:
            rows = []
            for chunk in _chunks(list(dict.fromkeys(person_ids))):
                marks = ",".join("?" * len(chunk))
                rows += self.conn.execute(
                    f"{sql} WHERE person_id IN ({marks}) ORDER BY id", chunk
                ).fetchall()
        return [
            ConsentEntry(
                person_id=r["person_id"],
                purpose=r["purpose"],
                status=ConsentStatus(r["status"]),
                valid_from=date.fromisoformat(r["valid_from"]),
                valid_until=_date(r["valid_until"]),
                recorded_at=datetime.fromisoformat(r["recorded_at"]),
                recorded_by=r["recorded_by"],
                source=r["source"],
                note=r["note"],
                entry_id=r["id"],
            )
            for r in rows
        ]

    def append_biometric(self, response: BiometricResponse) -> int:
        cur = self.conn.execute(
            "INSERT INTO biometric_responses (person_id, respondent, respondent_name, response, "
            "in_writing, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                response.person_id,
                response.respondent,
                response.respondent_name,
                response.response,
                int(response.in_writing),
                response.recorded_at.isoformat(),
                response.recorded_by,
            ),
        )
        return int(cur.lastrowid)

    def biometric_responses(self, person_id: str) -> list[BiometricResponse]:
        rows = self.conn.execute(
            "SELECT * FROM biometric_responses WHERE person_id = ? ORDER BY id", (person_id,)
        ).fetchall()
        return [
            BiometricResponse(
                person_id=r["person_id"],
                respondent=r["respondent"],
                respondent_name=r["respondent_name"],
                response=r["response"],
                in_writing=bool(r["in_writing"]),
                recorded_at=datetime.fromisoformat(r["recorded_at"]),
                recorded_by=r["recorded_by"],
            )
            for r in rows
        ]

    # --- keys and templates ----------------------------------------------------------

    def wrapped_key(self, owner: str) -> tuple[bytes, str] | None:
        row = self.conn.execute(
            "SELECT wrapped_key, key_id FROM data_keys WHERE owner = ?", (owner,)
        ).fetchone()
        return (bytes(row[0]), row[1]) if row else None

    def save_wrapped_key(self, owner: str, wrapped: bytes, key_id: str) -> None:
        self.conn.execute(
            "INSERT INTO data_keys VALUES (?, ?, ?, ?)", (owner, wrapped, key_id, now_iso())
        )

    def delete_wrapped_key(self, owner: str) -> bool:
        return self.conn.execute("DELETE FROM data_keys WHERE owner = ?", (owner,)).rowcount > 0

    def add_template(self, person_id: str, blob: bytes, source_sha256: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO templates (person_id, encoding, source_sha256, created_at) "
            "VALUES (?, ?, ?, ?)",
            (person_id, blob, source_sha256, now_iso()),
        )
        return int(cur.lastrowid)

    def templates(self) -> list[tuple[str, bytes]]:
        rows = self.conn.execute("SELECT person_id, encoding FROM templates ORDER BY id")
        return [(r[0], bytes(r[1])) for r in rows]

    def template_count(self, person_id: str) -> int:
        return self.conn.execute(
            "SELECT COUNT(*) FROM templates WHERE person_id = ?", (person_id,)
        ).fetchone()[0]

    def delete_templates(self, person_id: str) -> int:
        return self.conn.execute("DELETE FROM templates WHERE person_id = ?", (person_id,)).rowcount

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
        w, h = size if size else (None, None)
        self.conn.execute(
            "INSERT INTO photos (sha256, location, format, width, height, status, error, "
            "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET "
            "location = excluded.location, format = excluded.format, width = excluded.width, "
            "height = excluded.height, status = excluded.status, error = excluded.error, "
            "indexed_at = excluded.indexed_at",
            (sha256, location, fmt, w, h, status, error, now_iso()),
        )
        return self.conn.execute("SELECT id FROM photos WHERE sha256 = ?", (sha256,)).fetchone()[0]

    def photo(self, photo_id: int) -> PhotoRecord | None:
        row = self.conn.execute("SELECT * FROM photos WHERE id = ?", (photo_id,)).fetchone()
        return self._photo(row) if row else None

    def photo_by_sha(self, sha256: str) -> PhotoRecord | None:
        row = self.conn.execute("SELECT * FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        return self._photo(row) if row else None

    def photos(self, ids: Iterable[int] | None = None) -> list[PhotoRecord]:
        if ids is None:
            rows = self.conn.execute("SELECT * FROM photos ORDER BY id").fetchall()
        else:
            rows = []
            for chunk in _chunks(sorted(set(ids))):
                marks = ",".join("?" * len(chunk))
                rows += self.conn.execute(
                    f"SELECT * FROM photos WHERE id IN ({marks}) ORDER BY id", chunk
                ).fetchall()
        return [self._photo(r) for r in rows]

    def _photo(self, row: sqlite3.Row) -> PhotoRecord:
        event = None
        if row["event_id"] is not None:
            event = self.conn.execute(
                "SELECT name FROM events WHERE id = ?", (row["event_id"],)
            ).fetchone()[0]
        tags = tuple(
            r[0]
            for r in self.conn.execute(
                "SELECT t.name FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE pt.photo_id = ? ORDER BY t.name",
                (row["id"],),
            )
        )
        return PhotoRecord(
            id=row["id"],
            sha256=row["sha256"],
            location=row["location"],
            format=row["format"],
            width=row["width"],
            height=row["height"],
            status=row["status"],
            error=row["error"],
            event=event,
            taken_on=_date(row["taken_on"]),
            tags=tags,
        )

    def set_event(self, photo_id: int, event: str | None) -> None:
        event_id = None
        if event:
            self.conn.execute("INSERT OR IGNORE INTO events (name) VALUES (?)", (event,))
            event_id = self.conn.execute(
                "SELECT id FROM events WHERE name = ?", (event,)
            ).fetchone()[0]
        self.conn.execute("UPDATE photos SET event_id = ? WHERE id = ?", (event_id, photo_id))

    def set_taken_on(self, photo_id: int, taken_on: date | None) -> None:
        self.conn.execute("UPDATE photos SET taken_on = ? WHERE id = ?", (_iso(taken_on), photo_id))

    def add_tags(self, photo_id: int, tags: Iterable[str]) -> None:
        for tag in tags:
            self.conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (tag,))
            self.conn.execute(
                "INSERT OR IGNORE INTO photo_tags SELECT ?, id FROM tags WHERE name = ?",
                (photo_id, tag),
            )

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
        cur = self.conn.execute(
            "INSERT INTO faces (photo_id, x0, y0, x1, y1, detector, score, embedding, key_owner, "
            "manual, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                photo_id,
                box.x0,
                box.y0,
                box.x1,
                box.y1,
                detector,
                score,
                embedding,
                key_owner,
                int(manual),
                now_iso(),
            ),
        )
        return int(cur.lastrowid)

    def delete_faces(self, photo_id: int) -> None:
        self.conn.execute("DELETE FROM faces WHERE photo_id = ?", (photo_id,))

    def faces(self, photo_id: int) -> list[FaceRecord]:
        rows = self.conn.execute(
            "SELECT * FROM faces WHERE photo_id = ? ORDER BY id", (photo_id,)
        ).fetchall()
        return [self._face(r) for r in rows]

    def face(self, face_id: int) -> FaceRecord | None:
        row = self.conn.execute("SELECT * FROM faces WHERE id = ?", (face_id,)).fetchone()
        return self._face(row) if row else None

    def _face(self, row: sqlite3.Row) -> FaceRecord:
        rejected = frozenset(
            r[0]
            for r in self.conn.execute(
                "SELECT person_id FROM face_rejections WHERE face_id = ?", (row["id"],)
            )
        )
        return FaceRecord(
            id=row["id"],
            photo_id=row["photo_id"],
            box=Box(row["x0"], row["y0"], row["x1"], row["y1"]),
            detector=row["detector"],
            score=row["score"],
            person_id=row["person_id"],
            assignment=row["assignment"],
            distance=row["distance"],
            candidate=row["candidate"],
            manual=bool(row["manual"]),
            has_embedding=row["embedding"] is not None,
            key_owner=row["key_owner"],
            rejected=rejected,
        )

    def face_embedding(self, face_id: int) -> tuple[bytes, str] | None:
        row = self.conn.execute(
            "SELECT embedding, key_owner FROM faces WHERE id = ?", (face_id,)
        ).fetchone()
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
        self.conn.execute(
            "UPDATE faces SET person_id = ?, assignment = ?, distance = ?, candidate = ?, "
            "updated_at = ? WHERE id = ?",
            (person_id, assignment, distance, candidate, now_iso(), face_id),
        )

    def set_embedding(self, face_id: int, embedding: bytes | None, key_owner: str | None) -> None:
        self.conn.execute(
            "UPDATE faces SET embedding = ?, key_owner = ? WHERE id = ?",
            (embedding, key_owner, face_id),
        )

    def reject(self, face_id: int, person_id: str) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO face_rejections VALUES (?, ?)", (face_id, person_id)
        )

    def faces_of_person(
        self, person_id: str, states: Iterable[str] = ("auto", "confirmed")
    ) -> list[FaceRecord]:
        states = list(states)
        marks = ",".join("?" * len(states))
        rows = self.conn.execute(
            f"SELECT * FROM faces WHERE person_id = ? AND assignment IN ({marks}) ORDER BY id",
            (person_id, *states),
        ).fetchall()
        return [self._face(r) for r in rows]

    def faces_with_key_owner(self, owner: str) -> list[int]:
        return [
            r[0] for r in self.conn.execute("SELECT id FROM faces WHERE key_owner = ?", (owner,))
        ]

    def faces_for_review(self, *, min_size: float = 40, min_score: float = 0.5) -> list[FaceRecord]:
        """The review queue: unknown and ambiguous faces big and clear enough to name.

        Tiny or weak detections are always redacted anyway; listing them would bury
        the faces a person can actually decide about.
        """
        rows = self.conn.execute(
            "SELECT * FROM faces WHERE assignment IN ('unknown', 'ambiguous') "
            "AND (manual = 1 OR assignment = 'ambiguous' OR "
            "(MIN(x1 - x0, y1 - y0) >= ? AND score >= ?)) ORDER BY id",
            (min_size, min_score),
        ).fetchall()
        return [self._face(r) for r in rows]

    def photos_with_faces_to_match(self) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT photo_id FROM faces WHERE embedding IS NOT NULL "
                "AND assignment != 'confirmed' ORDER BY photo_id"
            )
        ]

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
        """Indexed photos matching every given criterion (people only when shown-eligible)."""
        sql = ["SELECT DISTINCT p.id FROM photos p"]
        where = ["p.status = 'indexed'"]
        params: list = []
        if person or group or needs_review:
            sql.append("JOIN faces f ON f.photo_id = p.id")
        if person:
            where.append("f.person_id = ? AND f.assignment IN ('auto', 'confirmed')")
            params.append(person)
        if group:
            where.append(
                "f.person_id IN (SELECT m.person_id FROM memberships m JOIN groups g "
                "ON g.id = m.group_id WHERE g.name = ?) AND f.assignment IN ('auto', 'confirmed')"
            )
            params.append(group)
        if needs_review:
            where.append(
                "f.assignment IN ('unknown', 'ambiguous') AND (f.manual = 1 OR "
                "f.assignment = 'ambiguous' OR (MIN(f.x1 - f.x0, f.y1 - f.y0) >= 40 "
                "AND f.score >= 0.5))"
            )
        if event:
            where.append("p.event_id = (SELECT id FROM events WHERE name = ?)")
            params.append(event)
        if tag:
            where.append(
                "p.id IN (SELECT pt.photo_id FROM photo_tags pt JOIN tags t "
                "ON t.id = pt.tag_id WHERE t.name = ?)"
            )
            params.append(tag)
        if since:
            where.append("p.taken_on >= ?")
            params.append(since.isoformat())
        if until:
            where.append("p.taken_on <= ?")
            params.append(until.isoformat())
        text = " ".join(sql) + " WHERE " + " AND ".join(where) + " ORDER BY p.id"
        return [r[0] for r in self.conn.execute(text, params)]

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
        with self.transaction():
            self.conn.execute(
                "UPDATE renditions SET superseded_at = ? WHERE photo_id = ? AND purpose = ? "
                "AND superseded_at IS NULL",
                (now_iso(), photo_id, purpose),
            )
            cur = self.conn.execute(
                "INSERT INTO renditions (photo_id, purpose, sha256, location, outcome, shown, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    photo_id,
                    purpose,
                    sha256,
                    location,
                    outcome,
                    json.dumps(sorted(shown)),
                    now_iso(),
                ),
            )
        return int(cur.lastrowid)

    def supersede_renditions(self, photo_id: int, purpose: str) -> list[RenditionRecord]:
        """Mark the current copies superseded and return exactly those (one transaction,
        so a copy added meanwhile is neither missed nor superseded unreturned)."""
        with self.transaction():
            current = self.renditions([photo_id], purpose)
            self.conn.executemany(
                "UPDATE renditions SET superseded_at = ? WHERE id = ?",
                [(now_iso(), r.id) for r in current],
            )
        return current

    def renditions(
        self, photo_ids: Iterable[int], purpose: str | None = None, *, current: bool = True
    ) -> list[RenditionRecord]:
        out = []
        for chunk in _chunks(sorted(set(photo_ids))):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT * FROM renditions WHERE photo_id IN ({marks})"
            params: list = list(chunk)
            if purpose:
                sql += " AND purpose = ?"
                params.append(purpose)
            if current:
                sql += " AND superseded_at IS NULL"
            out += [
                RenditionRecord(
                    id=r["id"],
                    photo_id=r["photo_id"],
                    purpose=r["purpose"],
                    sha256=r["sha256"],
                    location=r["location"],
                    outcome=r["outcome"],
                    created_at=r["created_at"],
                    superseded_at=r["superseded_at"],
                    shown=tuple(json.loads(r["shown"])),
                )
                for r in self.conn.execute(sql + " ORDER BY id", params)
            ]
        return out

    def add_usage(self, photo_id: int, purpose: str, location: str, *, by: str) -> int:
        """Record a publication; it is linked to the copy current for that purpose."""
        current = self.renditions([photo_id], purpose)
        rendition_id = current[-1].id if current else None
        self.conn.execute(
            "INSERT INTO usages (photo_id, purpose, location, rendition_id, recorded_at, "
            "recorded_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (photo_id, purpose, location) "
            "DO UPDATE SET rendition_id = excluded.rendition_id, "
            "recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by",
            (photo_id, purpose, location, rendition_id, now_iso(), by),
        )
        return self.conn.execute(
            "SELECT id FROM usages WHERE photo_id = ? AND purpose = ? AND location = ?",
            (photo_id, purpose, location),
        ).fetchone()[0]

    def usages(self, photo_ids: Iterable[int], purpose: str | None = None) -> list[UsageRecord]:
        out = []
        for chunk in _chunks(sorted(set(photo_ids))):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT * FROM usages WHERE photo_id IN ({marks})"
            params: list = list(chunk)
            if purpose:
                sql += " AND purpose = ?"
                params.append(purpose)
            out += [
                UsageRecord(
                    id=r["id"],
                    photo_id=r["photo_id"],
                    purpose=r["purpose"],
                    location=r["location"],
                    recorded_at=r["recorded_at"],
                    recorded_by=r["recorded_by"],
                    rendition_id=r["rendition_id"],
                )
                for r in self.conn.execute(sql + " ORDER BY id", params)
            ]
        return out

    def rendition(self, rendition_id: int) -> RenditionRecord | None:
        row = self.conn.execute(
            "SELECT photo_id, purpose FROM renditions WHERE id = ?", (rendition_id,)
        ).fetchone()
        if row is None:
            return None
        found = self.renditions([row[0]], row[1], current=False)
        return next((r for r in found if r.id == rendition_id), None)

    def all_usages(self) -> list[UsageRecord]:
        ids = [r[0] for r in self.conn.execute("SELECT DISTINCT photo_id FROM usages")]
        return self.usages(ids)

    # --- notifications and audit -----------------------------------------------------

    def notify(
        self, kind: str, message: str, *, person_id: str | None = None, photo_id: int | None = None
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO notifications (created_at, kind, person_id, photo_id, message) "
            "VALUES (?, ?, ?, ?, ?)",
            (now_iso(), kind, person_id, photo_id, message),
        )
        return int(cur.lastrowid)

    def notifications(self, kind: str | None = None) -> list[dict]:
        sql = "SELECT * FROM notifications"
        rows = (
            self.conn.execute(sql + " WHERE kind = ? ORDER BY id", (kind,))
            if kind
            else self.conn.execute(sql + " ORDER BY id")
        )
        return [dict(r) for r in rows]

    def audit(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        details: Mapping | None = None,
    ) -> AuditEntry:
        """Append one entry to the hash chain (inside the caller's transaction, if any)."""
        with self.transaction():
            entry = next_entry(
                self.last_audit_entry(),
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                details=dict(details or {}),
            )
            self.conn.execute(
                "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.seq,
                    entry.at,
                    entry.actor,
                    entry.action,
                    entry.object_type,
                    entry.object_id,
                    json.dumps(entry.details, sort_keys=True),
                    entry.prev_hash,
                    entry.hash,
                ),
            )
            if self.sealer is not None:
                head = {
                    "seq": entry.seq,
                    "hash": entry.hash,
                    "seal": self.sealer(entry.seq, entry.hash),
                }
                self.set_setting("audit_head", json.dumps(head))
        return entry

    def audit_head(self) -> dict | None:
        raw = self.get_setting("audit_head")
        return json.loads(raw) if raw else None

    def last_audit_entry(self) -> AuditEntry | None:
        row = self.conn.execute("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        return _audit(row) if row else None

    def audit_entries(self) -> list[AuditEntry]:
        return [_audit(r) for r in self.conn.execute("SELECT * FROM audit_log ORDER BY seq")]


def _audit(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        details=json.loads(row["details"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
