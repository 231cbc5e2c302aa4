"""One contract for every catalogue store: the embedded SQLite file and the Django models.

Each test runs against both :class:`SQLiteCatalogue` and :class:`DjangoCatalogue` and
asserts the same values, so the Wagtail adapter cannot drift from the semantics the
core's operations were written against. The last test runs the core's real flow
(enrol, index, consent, render) on a real photo with the Django store.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import django.db
import numpy as np
import pytest
from PIL import Image

from photoguard_core.audit import seal_head, verify_chain
from photoguard_core.catalogue.records import PersonRecord, PhotoRecord
from photoguard_core.catalogue.sqlite_store import SQLiteCatalogue
from photoguard_core.catalogue.store import CatalogueStore
from photoguard_core.consent import DEFAULT_PURPOSES, BiometricResponse, ConsentEntry
from photoguard_core.crypto import MasterKey
from photoguard_core.geometry import Box
from wagtail_photoguard import models as m
from wagtail_photoguard.store import DjangoCatalogue

IDENTITY = Path(__file__).parent / "fixtures" / "identity" / "images"
TWO_PEOPLE = IDENTITY / "fr__examples__two_people.jpg"  # Obama left, Biden right
OBAMA = IDENTITY / "fr__examples__obama.jpg"
BIDEN = IDENTITY / "fr__examples__biden.jpg"

WHEN = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
INTEGRITY_ERRORS = (sqlite3.IntegrityError, django.db.IntegrityError)
#: The text both stores give back for a timestamp (rendition, usage, notification).
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")

# What each append-only ledger is called in SQLite and in Django, and a column to edit.
LEDGERS = {
    "consent": ("consent_ledger", m.ConsentLedgerEntry, "recorded_by"),
    "biometric": ("biometric_responses", m.BiometricResponseEntry, "recorded_by"),
    "audit": ("audit_log", m.AuditLogEntry, "actor"),
}


@dataclass
class Backend:
    """A store plus the backdoor a tamperer would use on it (raw SQL or the ORM)."""

    name: str
    store: Any
    refusal: type[Exception]
    tamper_update: Callable[[str], None]
    tamper_delete: Callable[[str], None]


def _sqlite_backend(path: Path) -> Backend:
    store = SQLiteCatalogue(path)

    def update(kind: str) -> None:
        table, _, column = LEDGERS[kind]
        store.conn.execute(f"UPDATE {table} SET {column} = 'someone else'")

    def delete(kind: str) -> None:
        store.conn.execute(f"DELETE FROM {LEDGERS[kind][0]}")

    return Backend("sqlite", store, sqlite3.IntegrityError, update, delete)


def _django_backend() -> Backend:
    def update(kind: str) -> None:
        _, model, column = LEDGERS[kind]
        model.objects.update(**{column: "someone else"})

    def delete(kind: str) -> None:
        LEDGERS[kind][1].objects.all().delete()

    return Backend("django", DjangoCatalogue(), m.AppendOnlyError, update, delete)


STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("django", id="django", marks=pytest.mark.django_db(transaction=True)),
]


@pytest.fixture(params=STORES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        made = _sqlite_backend(tmp_path / "catalogue.sqlite")
        yield made
        made.store.close()
    else:
        yield _django_backend()


@pytest.fixture
def store(backend: Backend) -> Any:
    return backend.store


# --- helpers ---------------------------------------------------------------------------


def _person(pid: str, *groups: str, **fields: Any) -> PersonRecord:
    defaults: dict[str, Any] = {"first_name": pid.title(), "role": "pupil"}
    return PersonRecord(id=pid, groups=groups, **{**defaults, **fields})


def _consent(
    pid: str, purpose: str = "website", status: str = "granted", **kw: Any
) -> ConsentEntry:
    fields: dict[str, Any] = {
        "valid_from": date(2025, 1, 1),
        "valid_until": None,
        "recorded_at": WHEN,
        "recorded_by": "dsl",
        "source": "paper form",
    }
    fields.update(kw)
    return ConsentEntry(person_id=pid, purpose=purpose, status=status, **fields)


def _photo(store: Any, name: str, *, status: str = "indexed") -> int:
    sha = hashlib.sha256(name.encode()).hexdigest()
    return store.save_photo(sha, f"/photos/{name}.jpg", fmt="JPEG", size=(800, 600), status=status)


def _face(
    store: Any,
    photo_id: int,
    box: tuple[float, float, float, float] = (0, 0, 100, 100),
    score: float = 0.9,
    **kw: Any,
) -> int:
    kw.setdefault("embedding", None)
    kw.setdefault("key_owner", None)
    return store.add_face(photo_id, Box(*box), detector="centerface", score=score, **kw)


# --- the interface ---------------------------------------------------------------------


def test_implements_every_method_of_the_protocol(store: Any):
    assert isinstance(store, CatalogueStore)
    members = [n for n in vars(CatalogueStore) if not n.startswith("_")]
    assert len(members) > 50
    missing = [n for n in members if not callable(getattr(store, n, None))]
    assert missing == []
    assert store.sealer is None


def test_settings_round_trip(store: Any):
    assert store.get_setting("detection_only") is None
    assert store.get_setting("detection_only", "0") == "0"
    store.set_setting("detection_only", "1")
    store.set_setting("detection_only", "0")
    store.set_setting("other", "")
    assert store.get_setting("detection_only", "1") == "0"
    assert store.get_setting("other", "default") == ""


def test_purposes_round_trip_and_update(store: Any):
    store.save_purposes(DEFAULT_PURPOSES)
    assert store.purposes() == dict(DEFAULT_PURPOSES)
    assert list(store.purposes()) == sorted(DEFAULT_PURPOSES)
    smaller = replace(DEFAULT_PURPOSES["website"], max_size=640, style="pixelate")
    store.save_purposes({"website": smaller})
    assert store.purposes()["website"] == smaller
    assert store.purposes()["newsletter"] == DEFAULT_PURPOSES["newsletter"]


# --- people ----------------------------------------------------------------------------


def test_people_upsert_reports_changes_and_replaces_groups(store: Any):
    amira = _person("p1", "Year 5", "Choir", last_name="Khan", date_of_birth=date(2014, 5, 1))
    assert store.upsert_person(amira) is True
    assert store.person("p1") == replace(amira, groups=("Choir", "Year 5"))
    assert store.upsert_person(amira) is False
    assert store.upsert_person(replace(amira, groups=("Year 5", "Year 5"))) is True
    assert store.person("p1").groups == ("Year 5",)
    assert store.group_members("Year 5") == ["p1"]
    assert store.group_members("Choir") == []
    assert store.upsert_person(replace(amira, groups=("Year 5",), left_on=date(2025, 7, 20)))
    assert store.person("p1").left_on == date(2025, 7, 20)
    assert store.person("nobody") is None


def test_flags_are_replaced_and_survive_upsert(store: Any):
    store.upsert_person(_person("p1"))
    store.set_flags("p1", ["looked_after", "at_risk", "at_risk"], by="dsl")
    assert store.person("p1").flags == frozenset({"looked_after", "at_risk"})
    # An upsert carries no flags: it must not clear a safeguarding flag.
    assert store.upsert_person(_person("p1")) is False
    assert store.person("p1").flags == frozenset({"looked_after", "at_risk"})
    store.set_flags("p1", {"never_publish"}, by="dsl")
    assert store.person("p1").flags == frozenset({"never_publish"})
    store.set_flags("p1", [], by="dsl")
    assert store.person("p1").flags == frozenset()


def test_people_by_id_in_chunks_keep_the_requested_chunk_order(store: Any):
    for pid in ("a", "m", "z"):
        store.upsert_person(_person(pid, "Year 5"))
    assert [p.id for p in store.people()] == ["a", "m", "z"]
    # 700 ids: "z" falls in the first chunk of 500, "a" in the second; each chunk is
    # ordered by id, chunks keep the order asked for, duplicates and unknowns vanish.
    wanted = ["z", *(f"unknown{i}" for i in range(498)), "m", "a", "z", "m"]
    wanted += [f"more{i}" for i in range(200)]
    assert len(wanted) > 500
    assert [p.id for p in store.people(wanted)] == ["m", "z", "a"]
    assert store.people([]) == []
    assert sorted(store.group_members("Year 5")) == ["a", "m", "z"]


# --- consent and biometric ledgers -----------------------------------------------------


def test_consent_ledger_round_trip(store: Any):
    entries = [
        _consent("p1", valid_until=date(2026, 7, 31), note="form returned"),
        _consent("p2", "social_media", "refused"),
        # Recorded in another zone: read back as the same instant.
        _consent(
            "p1", status="withdrawn", recorded_at=WHEN.astimezone(timezone(timedelta(hours=1)))
        ),
    ]
    ids = [store.append_consent(e) for e in entries]
    assert ids == sorted(ids) and len(set(ids)) == 3
    stored = store.consent_entries()
    assert stored == [replace(e, entry_id=i) for e, i in zip(entries, ids, strict=True)]
    assert all(s.recorded_at.utcoffset() == timedelta(0) for s in stored)
    assert [e.entry_id for e in store.consent_entries(["p1"])] == [ids[0], ids[2]]
    assert store.consent_entries([]) == []
    # More than one chunk of person ids.
    many = ["p2", *(f"x{i}" for i in range(600)), "p1"]
    assert [e.entry_id for e in store.consent_entries(many)] == [ids[1], ids[0], ids[2]]


def test_biometric_responses_round_trip(store: Any):
    parent = BiometricResponse("p1", "parent", "Ann Smith", "granted", True, WHEN, "dsl")
    child = BiometricResponse("p1", "child", "", "objected", False, WHEN, "dsl")
    other = BiometricResponse("p2", "self", "p2", "granted", True, WHEN, "office")
    first = store.append_biometric(parent)
    second = store.append_biometric(child)
    store.append_biometric(other)
    assert second > first
    assert store.biometric_responses("p1") == [parent, child]
    assert store.biometric_responses("nobody") == []


@pytest.mark.parametrize("kind", sorted(LEDGERS))
def test_append_only_ledgers_refuse_updates_and_deletes(backend: Backend, kind: str):
    store = backend.store
    store.append_consent(_consent("p1"))
    store.append_biometric(BiometricResponse("p1", "self", "p1", "granted", True, WHEN, "dsl"))
    store.audit("dsl", "consent_change", "person", "p1", {"purpose": "website"})
    before = (store.consent_entries(), store.biometric_responses("p1"), store.audit_entries())

    with pytest.raises(backend.refusal, match="append-only"):
        backend.tamper_update(kind)
    with pytest.raises(backend.refusal, match="append-only"):
        backend.tamper_delete(kind)

    after = (store.consent_entries(), store.biometric_responses("p1"), store.audit_entries())
    assert after == before
    assert verify_chain(store.audit_entries()).ok


# --- keys and templates ----------------------------------------------------------------


def test_wrapped_keys_are_inserted_once_and_deleted(store: Any):
    assert store.wrapped_key("p1") is None
    store.save_wrapped_key("p1", b"\x00wrapped\xff", "k1")
    got = store.wrapped_key("p1")
    assert got == (b"\x00wrapped\xff", "k1") and type(got[0]) is bytes
    with pytest.raises(INTEGRITY_ERRORS):
        store.save_wrapped_key("p1", b"another", "k2")
    assert store.wrapped_key("p1") == (b"\x00wrapped\xff", "k1")
    assert store.delete_wrapped_key("p1") is True
    assert store.delete_wrapped_key("p1") is False
    assert store.wrapped_key("p1") is None


def test_templates_add_count_delete(store: Any):
    for pid in ("p1", "p2"):
        store.upsert_person(_person(pid))
    first = store.add_template("p1", b"t1", "a" * 64)
    store.add_template("p2", b"t2", "b" * 64)
    third = store.add_template("p1", b"t3", "c" * 64)
    assert third > first
    assert store.templates() == [("p1", b"t1"), ("p2", b"t2"), ("p1", b"t3")]
    assert all(type(blob) is bytes for _, blob in store.templates())
    assert (store.template_count("p1"), store.template_count("p2")) == (2, 1)
    assert store.delete_templates("p1") == 2
    assert store.delete_templates("p1") == 0
    assert store.templates() == [("p2", b"t2")]
    with pytest.raises(INTEGRITY_ERRORS):
        store.add_template("nobody", b"t", "d" * 64)


# --- photos and faces ------------------------------------------------------------------


def test_photo_upsert_by_content_hash_keeps_event_date_and_tags(store: Any):
    sha = "a" * 64
    pid = store.save_photo(sha, "/in/a.jpg", fmt="JPEG", size=(640, 480), status="indexed")
    assert store.photo(pid) == PhotoRecord(pid, sha, "/in/a.jpg", "JPEG", 640, 480, "indexed")
    store.set_event(pid, "Sports day")
    store.set_taken_on(pid, date(2025, 6, 1))
    store.add_tags(pid, ["sports", "outdoor", "sports"])
    store.add_tags(pid, ["outdoor"])
    again = store.save_photo(sha, "/moved/a.jpg", fmt=None, size=None, status="failed", error="x")
    assert again == pid
    expected = PhotoRecord(
        pid, sha, "/moved/a.jpg", None, None, None, "failed", "x", "Sports day",
        date(2025, 6, 1), ("outdoor", "sports"),
    )  # fmt: skip
    assert store.photo(pid) == expected
    assert store.photo_by_sha(sha) == expected
    assert store.photo_by_sha("f" * 64) is None
    assert store.photo(pid + 1000) is None
    store.set_event(pid, None)
    store.set_taken_on(pid, None)
    assert (store.photo(pid).event, store.photo(pid).taken_on) == (None, None)
    with pytest.raises(INTEGRITY_ERRORS):
        store.save_photo("b" * 64, "/in/b.jpg", fmt="JPEG", size=(1, 1), status="bogus")


def test_faces_round_trip_assignment_embedding_rejection(store: Any):
    store.upsert_person(_person("p1"))
    photo = _photo(store, "group")
    detected = _face(
        store, photo, (10.5, 20, 110.25, 140), 0.875, embedding=b"e1", key_owner="_pool"
    )
    drawn = _face(store, photo, (200, 20, 260, 90), 1.0, manual=True)
    assert [f.id for f in store.faces(photo)] == [detected, drawn]

    face = store.face(detected)
    assert face.box == Box(10.5, 20, 110.25, 140)
    assert (face.detector, face.score, face.person_id, face.assignment) == (
        "centerface", 0.875, None, "unknown",
    )  # fmt: skip
    assert face.has_embedding and face.key_owner == "_pool" and not face.manual
    assert store.face(drawn).manual and not store.face(drawn).has_embedding
    assert store.face_embedding(detected) == (b"e1", "_pool")
    assert type(store.face_embedding(detected)[0]) is bytes
    assert store.face_embedding(drawn) is None
    assert store.face(10**9) is None and store.face_embedding(10**9) is None

    store.set_assignment(detected, person_id="p1", assignment="auto", distance=0.31)
    store.set_assignment(drawn, person_id=None, assignment="ambiguous", candidate="p1")
    face = store.face(detected)
    assert (face.person_id, face.assignment, face.distance, face.candidate) == (
        "p1", "auto", 0.31, None,
    )  # fmt: skip
    assert store.face(drawn).candidate == "p1"
    store.set_embedding(detected, b"e2", "p1")
    assert store.face_embedding(detected) == (b"e2", "p1")
    assert store.faces_with_key_owner("p1") == [detected]
    assert store.faces_with_key_owner("_pool") == []

    store.reject(drawn, "p2")
    store.reject(drawn, "p2")
    store.reject(drawn, "p3")
    assert store.face(drawn).rejected == frozenset({"p2", "p3"})

    assert [f.id for f in store.faces_of_person("p1")] == [detected]
    assert store.faces_of_person("p1", ("confirmed",)) == []
    assert store.photos_with_faces_to_match() == [photo]
    store.set_assignment(detected, person_id="p1", assignment="confirmed")
    assert store.photos_with_faces_to_match() == []
    store.set_embedding(detected, None, None)
    assert not store.face(detected).has_embedding

    store.delete_faces(photo)
    assert store.faces(photo) == [] and store.face(drawn) is None


def test_faces_for_review_criteria(store: Any):
    store.upsert_person(_person("p1"))
    photo = _photo(store, "review")
    quiet = _photo(store, "quiet")
    expected = []
    expected.append(_face(store, photo, (0, 0, 50, 50), 0.9))  # big and clear
    _face(store, photo, (0, 0, 30, 30), 0.9)  # too small
    _face(store, photo, (0, 0, 50, 50), 0.3)  # too weak
    _face(store, photo, (0, 0, 30, 60), 0.9)  # too narrow: the smaller side counts
    expected.append(_face(store, photo, (10, 10, 50, 50), 0.5))  # exactly at both limits
    expected.append(_face(store, photo, (0, 0, 5, 5), 0.0, manual=True))  # drawn by hand
    ambiguous = _face(store, photo, (0, 0, 5, 5), 0.1)
    store.set_assignment(ambiguous, person_id=None, assignment="ambiguous", candidate="p1")
    expected.append(ambiguous)  # always worth a decision
    for state in ("auto", "confirmed"):
        named = _face(store, photo, (0, 0, 80, 80), 0.99)
        store.set_assignment(named, person_id="p1", assignment=state)
    _face(store, quiet, (0, 0, 10, 10), 0.9)  # too small even for the lenient queue

    assert [f.id for f in store.faces_for_review()] == expected
    lenient = {f.id for f in store.faces_for_review(min_size=20, min_score=0.25)}
    assert lenient == set(expected) | {
        f.id for f in store.faces(photo) if f.assignment == "unknown"
    }
    assert len(lenient) == 7
    assert store.find_photo_ids(needs_review=True) == [photo]


def test_find_photo_ids_criteria(store: Any):
    store.upsert_person(_person("p1", "Year 5"))
    store.upsert_person(_person("p2", "Year 6"))
    a, b, c = (_photo(store, name) for name in "abc")
    d = _photo(store, "d", status="failed")
    e = _photo(store, "e")
    store.set_assignment(_face(store, a), person_id="p1", assignment="auto")
    store.set_assignment(_face(store, b), person_id="p2", assignment="confirmed")
    _face(store, b)  # unknown, big: needs review
    store.set_assignment(_face(store, c), person_id=None, assignment="ambiguous", candidate="p1")
    store.set_assignment(_face(store, c, (0, 0, 10, 10)), person_id="p1", assignment="ambiguous")
    store.set_assignment(_face(store, d), person_id="p1", assignment="auto")
    for photo in (a, e):
        store.set_event(photo, "Sports day")
    store.add_tags(a, ["outdoor"])
    store.add_tags(b, ["indoor"])
    store.set_taken_on(a, date(2025, 6, 1))
    store.set_taken_on(b, date(2025, 7, 1))

    find = store.find_photo_ids
    assert find() == [a, b, c, e]  # failed photos never
    assert find(person="p1") == [a]  # ambiguous faces do not count as shown
    assert find(person="p2") == [b]
    assert find(group="Year 5") == [a]
    assert find(group="Year 6") == [b]
    assert find(group="Nobody") == []
    assert find(event="Sports day") == [a, e]
    assert find(event="Prom") == []
    assert find(tag="outdoor") == [a]
    assert find(tag="missing") == []
    assert find(needs_review=True) == [b, c]
    assert find(since=date(2025, 6, 15)) == [b]
    assert find(until=date(2025, 6, 15)) == [a]
    assert find(since=date(2025, 6, 1), until=date(2025, 7, 1)) == [a, b]
    assert find(person="p1", event="Sports day", tag="outdoor") == [a]
    assert find(group="Year 6", tag="indoor") == [b]
    # Face criteria must hold for the same face: b shows p2 and has a face to review,
    # but not one face that is both.
    assert find(person="p2", needs_review=True) == []
    assert find(person="p1", group="Year 6") == []


# --- renditions and usages -------------------------------------------------------------


def test_renditions_supersede_and_history(store: Any):
    photo = _photo(store, "a")
    first = store.add_rendition(
        photo, "website", sha256="1" * 64, location="/out/1.jpg",
        outcome="publishable", shown=["p2", "p1"],
    )  # fmt: skip
    record = store.rendition(first)
    assert (record.photo_id, record.purpose, record.sha256, record.location) == (
        photo, "website", "1" * 64, "/out/1.jpg",
    )  # fmt: skip
    assert record.outcome == "publishable" and record.shown == ("p1", "p2")
    assert ISO_UTC.match(record.created_at) and record.superseded_at is None

    second = store.add_rendition(
        photo, "website", sha256="2" * 64, location="/out/2.jpg", outcome="withheld"
    )
    social = store.add_rendition(
        photo, "social_media", sha256="3" * 64, location="/out/3.jpg", outcome="publishable"
    )
    assert [r.id for r in store.renditions([photo], "website")] == [second]
    assert [r.id for r in store.renditions([photo])] == [second, social]
    history = store.renditions([photo], "website", current=False)
    assert [r.id for r in history] == [first, second]
    assert ISO_UTC.match(history[0].superseded_at) and history[1].superseded_at is None
    assert history[1].shown == ()

    retired = store.supersede_renditions(photo, "website")
    assert retired == [history[1]]  # as it was while current: superseded_at None
    assert store.renditions([photo], "website") == []
    assert ISO_UTC.match(store.rendition(second).superseded_at)
    assert [r.id for r in store.renditions([photo])] == [social]
    assert store.supersede_renditions(photo, "website") == []
    assert store.rendition(10**9) is None


def test_usages_link_the_current_rendition_and_upsert(store: Any):
    photo, other = _photo(store, "a"), _photo(store, "b")
    early = store.add_usage(photo, "website", "https://school.example/early", by="editor")
    assert store.usages([photo])[0].rendition_id is None

    r1 = store.add_rendition(photo, "website", sha256="1" * 64, location="/1", outcome="ok")
    page = store.add_usage(photo, "website", "https://school.example/news", by="editor")
    usage = store.usages([photo], "website")[-1]
    assert (usage.id, usage.rendition_id, usage.recorded_by) == (page, r1, "editor")
    assert ISO_UTC.match(usage.recorded_at)

    r2 = store.add_rendition(photo, "website", sha256="2" * 64, location="/2", outcome="ok")
    assert store.add_usage(photo, "website", "https://school.example/news", by="head") == page
    usage = store.usages([photo], "website")[-1]
    assert (usage.id, usage.rendition_id, usage.recorded_by) == (page, r2, "head")
    assert [u.id for u in store.usages([photo])] == [early, page]

    social = store.add_usage(photo, "social_media", "https://social.example/1", by="editor")
    elsewhere = store.add_usage(other, "website", "https://school.example/news", by="editor")
    assert [u.id for u in store.usages([photo], "social_media")] == [social]
    assert [u.id for u in store.usages([other, photo])] == [early, page, social, elsewhere]
    assert [u.id for u in store.all_usages()] == [early, page, social, elsewhere]
    assert store.usages([]) == []


def test_many_photos_renditions_and_usages_cross_chunk_boundaries(store: Any):
    with store.transaction():
        ids = [_photo(store, f"bulk{i}") for i in range(505)]
        for photo in ids:
            store.add_rendition(photo, "website", sha256="0" * 64, location="/r", outcome="ok")
            store.add_usage(photo, "website", "https://school.example/gallery", by="editor")
    asked = [*reversed(ids), *ids, 10**9]
    assert [p.id for p in store.photos(asked)] == sorted(ids)
    assert [r.photo_id for r in store.renditions(asked, "website")] == sorted(ids)
    assert [u.photo_id for u in store.usages(asked)] == sorted(ids)
    assert len(store.all_usages()) == 505
    assert len(store.photos()) == 505


# --- notifications ---------------------------------------------------------------------


def test_notifications(store: Any):
    first = store.notify("consent_expiring", "Amira's website consent ends soon", person_id="p1")
    second = store.notify("usage_changed", "Photo 3 was re-rendered", photo_id=3)
    assert second > first
    rows = store.notifications()
    assert [r["id"] for r in rows] == [first, second]
    assert list(rows[0]) == ["id", "created_at", "kind", "person_id", "photo_id", "message"]
    assert ISO_UTC.match(rows[0]["created_at"])
    assert {k: v for k, v in rows[1].items() if k != "created_at"} == {
        "id": second, "kind": "usage_changed", "person_id": None, "photo_id": 3,
        "message": "Photo 3 was re-rendered",
    }  # fmt: skip
    assert [r["id"] for r in store.notifications("consent_expiring")] == [first]
    assert store.notifications("nothing") == []


# --- audit -----------------------------------------------------------------------------


def test_audit_chain_appends_verify_and_the_head_is_sealed(store: Any):
    master = MasterKey.generate()
    sealed: list[tuple[int, str]] = []

    def sealer(seq: int, digest: str) -> str:
        sealed.append((seq, digest))
        return seal_head(master, seq, digest)

    store.sealer = sealer
    first = store.audit("dsl", "consent_change", "person", "p1", {"purpose": "website", "n": 1})
    second = store.audit("editor", "render", "photo", 42, {"shown": ("p1",), "ratio": 0.5})
    with store.transaction():
        third = store.audit("dsl", "shred", "person", "p2")
        fourth = store.audit("dsl", "enrol", "person", "p3", {"nested": {"a": [1, None, True]}})
    entries = store.audit_entries()
    assert entries == [first, second, third, fourth]
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert second.object_id == "42" and second.details == {"shown": ["p1"], "ratio": 0.5}
    assert sealed == [(e.seq, e.hash) for e in entries]
    head = store.audit_head()
    assert (head["seq"], head["hash"]) == (4, fourth.hash)
    report = verify_chain(
        entries, head=(head["seq"], head["hash"]), seal=head["seal"], master=master
    )
    assert report.ok and report.checked == 4, report.problems
    assert store.last_audit_entry() == fourth
    with pytest.raises(ValueError):
        store.audit("dsl", "render", "photo", "1", {"bad": object()})
    assert store.last_audit_entry() == fourth


def test_audit_without_sealer_records_no_head(store: Any):
    assert store.last_audit_entry() is None and store.audit_entries() == []
    entry = store.audit("cli", "config_change", "catalogue", "settings")
    assert entry.seq == 1 and entry.details == {}
    assert store.audit_head() is None
    assert verify_chain(store.audit_entries()).ok


# --- transactions ----------------------------------------------------------------------


def test_a_failed_transaction_leaves_nothing_half_written(store: Any):
    master = MasterKey.generate()
    store.sealer = lambda seq, digest: seal_head(master, seq, digest)
    kept = store.audit("dsl", "config_change", "catalogue", "settings")
    with pytest.raises(RuntimeError, match="power cut"), store.transaction():
        store.upsert_person(_person("p1", "Year 5"))
        store.set_flags("p1", {"at_risk"}, by="dsl")
        store.append_consent(_consent("p1"))
        store.append_biometric(BiometricResponse("p1", "self", "p1", "granted", True, WHEN, "d"))
        store.save_wrapped_key("p1", b"k", "k1")
        store.add_template("p1", b"t", "a" * 64)
        photo = _photo(store, "a")
        store.add_tags(photo, ["outdoor"])
        _face(store, photo)
        with store.transaction():  # a nested block that completes is still undone
            store.add_rendition(photo, "website", sha256="1" * 64, location="/1", outcome="ok")
            store.add_usage(photo, "website", "https://school.example/", by="editor")
        store.notify("usage_changed", "x", photo_id=photo)
        store.set_setting("detection_only", "1")
        store.audit("dsl", "consent_change", "person", "p1")
        raise RuntimeError("power cut")

    assert store.people() == [] and store.group_members("Year 5") == []
    assert store.consent_entries() == [] and store.biometric_responses("p1") == []
    assert store.wrapped_key("p1") is None and store.templates() == []
    assert store.photos() == [] and store.all_usages() == []
    assert store.notifications() == [] and store.get_setting("detection_only") is None
    assert store.audit_entries() == [kept]
    assert store.audit_head()["seq"] == 1
    nxt = store.audit("dsl", "consent_change", "person", "p1")
    assert nxt.seq == 2 and nxt.prev_hash == kept.hash
    head = store.audit_head()
    report = verify_chain(
        store.audit_entries(), head=(head["seq"], head["hash"]), seal=head["seal"], master=master
    )
    assert report.ok, report.problems


def test_a_committed_transaction_is_kept(store: Any):
    with store.transaction():
        store.upsert_person(_person("p1"))
        with store.transaction():
            store.set_setting("k", "v")
    assert store.person("p1") is not None and store.get_setting("k") == "v"


# --- Django only -----------------------------------------------------------------------

django_db = pytest.mark.django_db(transaction=True)


@django_db
def test_django_store_has_no_file_and_tables_are_prefixed():
    assert DjangoCatalogue().path is None
    from django.apps import apps

    config = apps.get_app_config("wagtail_photoguard")
    tables = {model._meta.db_table for model in config.get_models()}
    catalogue = {
        f"photoguard_{name}"
        for name in (
            "setting", "person", "group", "membership", "person_flag", "purpose",
            "consent_ledger", "biometric_response", "data_key", "template", "event", "tag",
            "photo", "photo_tag", "face", "face_rejection", "rendition", "usage",
            "notification", "audit_log",
        )
    }  # fmt: skip
    assert catalogue <= tables
    assert all(t.startswith("photoguard_") for t in tables), sorted(tables)


@django_db
def test_django_append_only_models_refuse_every_orm_path():
    store = DjangoCatalogue()
    store.append_consent(_consent("p1"))
    store.append_biometric(BiometricResponse("p1", "self", "p1", "granted", True, WHEN, "dsl"))
    store.audit("dsl", "consent_change", "person", "p1")
    for _, model, column in LEDGERS.values():
        row = model.objects.get()
        table = model._meta.db_table
        with pytest.raises(m.AppendOnlyError, match=f"{table} is append-only"):
            row.save()
        with pytest.raises(m.AppendOnlyError, match="append-only"):
            row.delete()
        with pytest.raises(m.AppendOnlyError, match="append-only"):
            model.objects.filter(pk=row.pk).update(**{column: "someone else"})
        with pytest.raises(m.AppendOnlyError, match="append-only"):
            model.objects.filter(pk=row.pk).delete()
        with pytest.raises(m.AppendOnlyError, match="append-only"):
            model.objects.bulk_update([row], [column])
        with pytest.raises(m.AppendOnlyError, match="append-only"):
            model.objects.update_or_create(pk=row.pk, defaults={})
        assert model.objects.count() == 1
    # A new object with an existing audit seq must fail, not overwrite the entry.
    entry = store.last_audit_entry()
    forged = m.AuditLogEntry(
        seq=entry.seq, at=entry.at, actor="someone else", action=entry.action,
        object_type=entry.object_type, object_id=entry.object_id, details="{}",
        prev_hash=entry.prev_hash, hash=entry.hash,
    )  # fmt: skip
    with pytest.raises(django.db.IntegrityError):
        forged.save()
    assert store.audit_entries() == [entry]


@django_db
def test_django_audit_a_stale_end_of_chain_is_refused_not_forked():
    """If an appender ever computed a seq that is taken (a stale read of the last
    entry), the primary key refuses it and its whole transaction fails."""
    store = DjangoCatalogue()
    first = store.audit("a", "render", "photo", "1")
    second = store.audit("b", "render", "photo", "2")
    store._last_audit_entry_for_update = lambda: first  # type: ignore[method-assign]
    with pytest.raises(django.db.IntegrityError), store.transaction():
        store.set_setting("written", "in the same transaction")
        store.audit("c", "render", "photo", "3")
    assert store.audit_entries() == [first, second]
    assert store.get_setting("written") is None
    assert verify_chain(store.audit_entries()).ok


@django_db
def test_django_audit_appends_from_threads_never_fork_the_chain():
    from django.db import connection

    store = DjangoCatalogue()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                store.audit(f"worker{n}", "render", "photo", str(i))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = store.audit_entries()
    assert len(entries) == 40 and verify_chain(entries).ok


@pytest.mark.django_db
def test_django_migrations_match_the_models():
    from django.core.management import call_command

    # --check exits non-zero when a model change has no migration.
    call_command("makemigrations", "wagtail_photoguard", "--check", "--dry-run", verbosity=0)


# --- the core's flow on a real photo, with the Django store ----------------------------


def _visible_encodings(path: Path) -> list[np.ndarray]:
    from photoguard_core.faces import detect_faces, encode_faces

    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb, detector="hog"), min_size=0)
    return [f.encoding for f in faces if f.encoding is not None]


def _reference(path: Path) -> np.ndarray:
    from photoguard_core.faces import detect_faces, encode_faces

    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb), min_size=0)
    return max(faces, key=lambda f: f.box.area).encoding


@django_db
def test_real_photo_one_consents_the_other_does_not_with_the_django_store(tmp_path: Path):
    from photoguard_core.cli.catalogue import verify_audit
    from photoguard_core.consent_records import set_consent
    from photoguard_core.context import Context
    from photoguard_core.enrolment import enrol, record_biometric
    from photoguard_core.indexing import index_files
    from photoguard_core.publishing import decide_photo, render_for_purpose

    store = DjangoCatalogue()
    master = MasterKey.generate()
    store.sealer = lambda seq, digest: seal_head(master, seq, digest)
    store.save_purposes(DEFAULT_PURPOSES)
    ctx = Context(store=store, master=master, actor="test-dsl")
    for pid, first, born, ref in (
        ("obama", "Barack", date(1961, 8, 4), OBAMA),
        ("biden", "Joe", date(1942, 11, 20), BIDEN),
    ):
        store.upsert_person(PersonRecord(pid, first, "", "staff", born, groups=("Staff room",)))
        record_biometric(ctx, pid, "granted", respondent="self")
        assert enrol(ctx, pid, [ref]) == 1
    set_consent(ctx, "obama", "website", "granted")
    set_consent(ctx, "biden", "website", "refused")

    summary = index_files(ctx, [TWO_PEOPLE], workers=1)
    assert summary.indexed == 1 and summary.matched == 2
    photo = store.photo_by_sha(hashlib.sha256(TWO_PEOPLE.read_bytes()).hexdigest())
    faces = sorted(store.faces(photo.id), key=lambda f: f.box.x0)
    assert [f.person_id for f in faces] == ["obama", "biden"]
    assert m.Face.objects.filter(photo_id=photo.id, person_id__isnull=False).count() == 2

    assert decide_photo(ctx, photo.id, "website").outcome == "publishable_with_redactions"
    result = render_for_purpose(ctx, photo.id, "website", tmp_path / "web")
    visible = _visible_encodings(result.path)
    assert len(visible) == 1, "exactly one face may stay visible"
    assert np.linalg.norm(visible[0] - _reference(OBAMA)) < 0.5
    assert np.linalg.norm(visible[0] - _reference(BIDEN)) > 0.6

    current = m.PhotoRendition.objects.get(photo_id=photo.id, superseded_at__isnull=True)
    assert current.location == str(result.path) and current.shown == ["obama"]
    assert verify_audit(ctx).ok


def test_system_checks_refuse_naive_times_and_warn_on_deferred_sqlite(settings: Any):
    from wagtail_photoguard.checks import check_use_tz, sqlite_without_immediate

    assert check_use_tz() == []
    settings.USE_TZ = False
    assert [e.id for e in check_use_tz()] == ["wagtail_photoguard.E001"]
    sqlite = "django.db.backends.sqlite3"
    assert sqlite_without_immediate(
        {
            "plain": {"ENGINE": sqlite},
            "immediate": {"ENGINE": sqlite, "OPTIONS": {"transaction_mode": "IMMEDIATE"}},
            "postgres": {"ENGINE": "django.db.backends.postgresql"},
        }
    ) == ["plain"]
