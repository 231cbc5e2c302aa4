"""The consent-aware flow on real photos: enrol, index, decide, render, withdraw,
shred, audit — through the same functions the CLI calls."""

from __future__ import annotations

import io
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoguard_core.audit import seal_head
from photoguard_core.catalogue.records import PersonRecord
from photoguard_core.catalogue.sqlite_store import SQLiteCatalogue
from photoguard_core.cli.catalogue import verify_audit
from photoguard_core.consent import DEFAULT_PURPOSES
from photoguard_core.consent_records import set_consent
from photoguard_core.context import Context
from photoguard_core.crypto import MasterKey
from photoguard_core.enrolment import EnrolmentError, enrol, record_biometric
from photoguard_core.faces import detect_faces, encode_faces
from photoguard_core.fluid import Change, affected_by
from photoguard_core.indexing import face_embedding, index_files
from photoguard_core.publishing import decide_photo, render_for_purpose
from photoguard_core.report.catalogue_report import uncovered_usages

IDENTITY = Path(__file__).parent / "fixtures" / "identity" / "images"
TWO_PEOPLE = IDENTITY / "fr__examples__two_people.jpg"  # Obama left, Biden right
OBAMA = IDENTITY / "fr__examples__obama.jpg"
BIDEN = IDENTITY / "fr__examples__biden.jpg"


def _visible_encodings(path: Path) -> list[np.ndarray]:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb, detector="hog"), min_size=0)
    return [f.encoding for f in faces if f.encoding is not None]


def _reference(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb), min_size=0)
    return max(faces, key=lambda f: f.box.area).encoding


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    store = SQLiteCatalogue(tmp_path / "catalogue.sqlite")
    master = MasterKey.generate()
    store.sealer = lambda seq, digest: seal_head(master, seq, digest)
    store.save_purposes(DEFAULT_PURPOSES)
    context = Context(store=store, master=master, actor="test-dsl")
    for pid, first, dob in (
        ("obama", "Barack", date(1961, 8, 4)),
        ("biden", "Joe", date(1942, 11, 20)),
    ):
        store.upsert_person(PersonRecord(pid, first, "", "staff", dob, groups=("Staff room",)))
        record_biometric(context, pid, "granted", respondent="self")
    enrol(context, "obama", [OBAMA])
    enrol(context, "biden", [BIDEN])
    yield context
    store.close()


def _index_two_people(ctx: Context) -> int:
    summary = index_files(ctx, [TWO_PEOPLE], workers=1)
    assert summary.indexed == 1 and summary.matched == 2
    return ctx.store.photo_by_sha(_sha(TWO_PEOPLE)).id


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_consents_the_other_does_not(ctx: Context, tmp_path: Path):
    set_consent(ctx, "obama", "website", "granted")
    set_consent(ctx, "biden", "website", "refused")
    photo_id = _index_two_people(ctx)
    faces = sorted(ctx.store.faces(photo_id), key=lambda f: f.box.x0)
    assert [f.person_id for f in faces] == ["obama", "biden"]

    decision = decide_photo(ctx, photo_id, "website")
    assert decision.outcome == "publishable_with_redactions"
    result = render_for_purpose(ctx, photo_id, "website", tmp_path / "web")
    visible = _visible_encodings(result.path)
    assert len(visible) == 1
    assert np.linalg.norm(visible[0] - _reference(OBAMA)) < 0.5
    assert np.linalg.norm(visible[0] - _reference(BIDEN)) > 0.6
    assert max(Image.open(result.path).size) <= DEFAULT_PURPOSES["website"].max_size

    # Nobody consented for social media: both faces are redacted there.
    social = render_for_purpose(ctx, photo_id, "social_media", tmp_path / "social")
    assert _visible_encodings(social.path) == []


def test_withdrawal_rerenders_and_removes_the_old_copy(ctx: Context, tmp_path: Path):
    set_consent(ctx, "obama", "website", "granted")
    photo_id = _index_two_people(ctx)
    first = render_for_purpose(ctx, photo_id, "website", tmp_path / "web")
    assert len(_visible_encodings(first.path)) == 1
    ctx.store.add_usage(photo_id, "website", "https://school.example/news/visit", by="editor")

    _, impact = set_consent(ctx, "obama", "website", "withdrawn")
    assert impact.photos == [photo_id]
    assert [u.location for u in impact.usages] == ["https://school.example/news/visit"]
    assert not first.path.exists(), "the old copy must not keep serving"
    current = ctx.store.renditions([photo_id], "website")
    assert len(current) == 1
    assert _visible_encodings(Path(current[0].location)) == []
    assert ctx.store.notifications("usage_changed")
    stale = uncovered_usages(ctx)
    assert [u.location for u in stale] == ["https://school.example/news/visit"]
    assert "obama" in stale[0].reasons[0]


def test_unchanged_coverage_affects_nothing(ctx: Context):
    set_consent(ctx, "obama", "website", "granted")
    _index_two_people(ctx)
    _, impact = set_consent(ctx, "obama", "website", "granted")  # same again
    assert impact.photos == []


def test_objection_crypto_shreds_and_faces_become_unknown(ctx: Context, tmp_path: Path):
    set_consent(ctx, "obama", "website", "granted")
    photo_id = _index_two_people(ctx)
    obama_face = next(f for f in ctx.store.faces(photo_id) if f.person_id == "obama")
    assert face_embedding(ctx, obama_face.id) is not None

    change = record_biometric(ctx, "obama", "objected", respondent="self")
    assert change.shredded and not change.allowed_after
    assert ctx.store.template_count("obama") == 0
    assert ctx.store.wrapped_key("obama") is None
    face = ctx.store.face(obama_face.id)
    assert face.assignment == "unknown" and face.person_id is None
    assert face_embedding(ctx, obama_face.id) is None
    result = render_for_purpose(ctx, photo_id, "website", tmp_path / "web")
    assert _visible_encodings(result.path) == []
    with pytest.raises(EnrolmentError):
        enrol(ctx, "obama", [OBAMA])


def test_affected_by_flag_and_vulnerability_override(ctx: Context, tmp_path: Path):
    from photoguard_core.consent_records import set_flags

    set_consent(ctx, "obama", "website", "granted")
    photo_id = _index_two_people(ctx)
    render_for_purpose(ctx, photo_id, "website", tmp_path / "web")
    impact = affected_by(ctx, Change("flags", person_id="obama"))
    assert impact.photos == [photo_id]
    set_flags(ctx, "obama", {"at_risk"})
    decision = decide_photo(ctx, photo_id, "website")
    assert all(f.action == "redact" for f in decision.faces)


def test_audit_chain_detects_tampering(ctx: Context):
    set_consent(ctx, "obama", "website", "granted")
    assert verify_audit(ctx).ok
    conn = ctx.store.conn
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
    # A tamperer with SQL access drops the guard and edits an entry.
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
    result = verify_audit(ctx)
    assert not result.ok
    assert any("2" in p for p in result.problems)


def test_consent_ledger_is_append_only(ctx: Context):
    set_consent(ctx, "obama", "website", "granted")
    with pytest.raises(sqlite3.IntegrityError):
        ctx.store.conn.execute("UPDATE consent_ledger SET status = 'granted'")
    with pytest.raises(sqlite3.IntegrityError):
        ctx.store.conn.execute("DELETE FROM consent_ledger")


def test_crash_mid_write_leaves_nothing_half_written(ctx: Context):
    before = len(ctx.store.photos())
    with pytest.raises(RuntimeError), ctx.store.transaction():
        ctx.store.save_photo("f" * 64, "/x.jpg", fmt="JPEG", size=(10, 10), status="indexed")
        raise RuntimeError("power cut")
    assert len(ctx.store.photos()) == before


def test_index_is_idempotent_by_content(ctx: Context, tmp_path: Path):
    _index_two_people(ctx)
    copy = tmp_path / "renamed.jpg"
    copy.write_bytes(TWO_PEOPLE.read_bytes())
    again = index_files(ctx, [copy], workers=1)
    assert again.skipped == 1 and again.indexed == 0


def test_rendered_copy_carries_no_metadata(ctx: Context, tmp_path: Path):
    from photoguard_core.metadata import read_metadata

    photo_id = _index_two_people(ctx)
    result = render_for_purpose(ctx, photo_id, "website", tmp_path / "web")
    assert read_metadata(result.path.read_bytes()).items() == []
    assert Image.open(io.BytesIO(result.path.read_bytes())).format == "JPEG"


def test_find_by_event_tag_date_and_review(ctx: Context):
    from photoguard_core.finder import Query, find

    photo_id = _index_two_people(ctx)
    ctx.store.set_event(photo_id, "Governors' visit")
    ctx.store.add_tags(photo_id, ["visitors"])
    ctx.store.set_taken_on(photo_id, date(2026, 3, 3))
    assert [p.id for p in find(ctx, Query(event="Governors' visit"))] == [photo_id]
    assert [p.id for p in find(ctx, Query(tag="visitors"))] == [photo_id]
    assert [p.id for p in find(ctx, Query(group="Staff room"))] == [photo_id]
    assert find(ctx, Query(since=date(2026, 4, 1))) == []
    assert [p.id for p in find(ctx, Query(until=date(2026, 3, 31)))] == [photo_id]
    assert find(ctx, Query(needs_review=True)) == []  # both faces recognised
    assert [p.id for p in find(ctx, Query(purpose="website", status="not-covered"))] == [photo_id]


def test_expiring_consent_is_reported_and_notified_once(ctx: Context, tmp_path: Path):
    from datetime import timedelta

    from photoguard_core.report.catalogue_report import write_catalogue_report

    soon = ctx.now().date() + timedelta(days=10)
    set_consent(ctx, "obama", "website", "granted", until=soon)
    page = write_catalogue_report(ctx, tmp_path / "r").read_text()
    assert "Barack" in page and f"{soon:%d %B %Y}" in page
    write_catalogue_report(ctx, tmp_path / "r")
    assert len(ctx.store.notifications("consent_expiring")) == 1


def test_import_export_round_trip_keeps_flags(ctx: Context):
    from photoguard_core.consent_records import export_people, import_people, set_flags

    set_flags(ctx, "obama", {"at_risk"})
    set_consent(ctx, "obama", "website", "granted", until=date(2027, 7, 31))
    exported = export_people(ctx)
    report = import_people(ctx, exported)
    assert report.errors == [] and report.created == [] and report.consents == []
    # A file without a flags column must not clear a safeguarding flag.
    import_people(ctx, "id,first_name,last_name,role,groups\nobama,Barack,,staff,Staff room\n")
    assert ctx.store.person("obama").flags == frozenset({"at_risk"})


def test_detection_only_stores_no_biometric_data(tmp_path: Path):
    from photoguard_core.context import DETECTION_ONLY
    from photoguard_core.review import accept

    store = SQLiteCatalogue(tmp_path / "d.sqlite")
    store.save_purposes(DEFAULT_PURPOSES)
    store.set_setting(DETECTION_ONLY, "1")
    context = Context(store=store, master=MasterKey.generate(), actor="t")
    store.upsert_person(PersonRecord("obama", "Barack", "", "staff", date(1961, 8, 4)))
    assert not record_biometric(context, "obama", "granted", respondent="self").allowed_after
    summary = index_files(context, [TWO_PEOPLE], workers=1)
    assert summary.indexed == 1 and summary.matched == 0
    photo = store.photo_by_sha(_sha(TWO_PEOPLE))
    faces = store.faces(photo.id)
    assert len(faces) == 2 and not any(f.has_embedding for f in faces)
    assert len(store.faces_for_review()) == 2
    # Named by hand, and covered: the face may be shown.
    set_consent(context, "obama", "website", "granted")
    left = min(faces, key=lambda f: f.box.x0)
    accept(context, left.id, "obama")
    decision = decide_photo(context, photo.id, "website")
    assert [f.action for f in sorted(decision.faces, key=lambda f: f.box.x0)] == ["show", "redact"]
    store.close()


def test_index_bytes_from_an_upload(ctx: Context):
    from photoguard_core.errors import ImageError
    from photoguard_core.indexing import index_bytes

    data = TWO_PEOPLE.read_bytes()
    photo_id = index_bytes(ctx, data, "upload:1")
    photo = ctx.store.photo(photo_id)
    assert photo.location == "upload:1" and photo.status == "indexed"
    assert sorted(f.person_id for f in ctx.store.faces(photo_id)) == ["biden", "obama"]
    with pytest.raises(ImageError):
        index_bytes(ctx, data[: len(data) // 3], "upload:2")
    failed = [p for p in ctx.store.photos() if p.location == "upload:2"]
    assert failed and failed[0].status == "failed" and "truncated" in failed[0].error
