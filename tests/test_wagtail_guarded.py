"""Wagtail end to end: an uploaded photo is indexed, every rendition a visitor can load
is redacted by consent and carries no metadata, and a withdrawal removes old files."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model

from photoguard_core.catalogue.records import PersonRecord
from photoguard_core.consent_records import set_consent
from photoguard_core.enrolment import enrol, record_biometric
from photoguard_core.faces import detect_faces, encode_faces
from photoguard_core.metadata import read_metadata
from tests.photos import with_gps
from wagtail_photoguard.consent import record_consent
from wagtail_photoguard.site_context import core_context

IDENTITY = Path(__file__).parent / "fixtures" / "identity" / "images"
TWO_PEOPLE = IDENTITY / "fr__examples__two_people.jpg"  # Obama left, Biden right

pytestmark = pytest.mark.django_db(transaction=True)


def _encodings(data: bytes) -> list[np.ndarray]:
    rgb = np.asarray(PILImage.open(io.BytesIO(data)).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb, detector="hog"), min_size=0)
    return [f.encoding for f in faces if f.encoding is not None]


def _reference(name: str) -> np.ndarray:
    rgb = np.asarray(PILImage.open(IDENTITY / name).convert("RGB"))
    faces = encode_faces(rgb, detect_faces(rgb), min_size=0)
    return max(faces, key=lambda f: f.box.area).encoding


@pytest.fixture
def school():
    from wagtail.models import Collection

    if Collection.get_first_root_node() is None:  # flushed by transactional tests
        Collection.add_root(name="Root")
    ctx = core_context(actor="dsl")
    from photoguard_core.consent import DEFAULT_PURPOSES

    ctx.store.save_purposes(DEFAULT_PURPOSES)
    for pid, first, dob in (
        ("obama", "Barack", date(1961, 8, 4)),
        ("biden", "Joe", date(1942, 11, 20)),
    ):
        ctx.store.upsert_person(PersonRecord(pid, first, "", "staff", dob))
        record_biometric(ctx, pid, "granted", respondent="self")
    enrol(ctx, "obama", [IDENTITY / "fr__examples__obama.jpg"])
    enrol(ctx, "biden", [IDENTITY / "fr__examples__biden.jpg"])
    set_consent(ctx, "obama", "website", "granted")
    set_consent(ctx, "biden", "website", "refused")
    return ctx


def _upload(data: bytes, name: str = "jane-smith-year4.jpg"):
    Image = get_image_model()
    image = Image(title="Governors' visit")
    image.file = ImageFile(io.BytesIO(data), name=name)
    image.save()
    return image


def test_upload_index_and_guarded_renditions(school):
    data = with_gps(TWO_PEOPLE)
    assert read_metadata(data).gps is not None
    image = _upload(data)
    faces = school.store.faces(school.store.photos()[-1].id)
    assert sorted(f.person_id for f in faces) == ["biden", "obama"]

    obama, biden = _reference("fr__examples__obama.jpg"), _reference("fr__examples__biden.jpg")
    for spec in ("fill-600x400|guard-website", "max-500x500", "width-400"):
        rendition = image.get_rendition(spec)
        with rendition.file.open("rb") as handle:
            out = handle.read()
        assert read_metadata(out).items() == [], spec
        assert "jane" not in rendition.file.name
        visible = _encodings(out)
        assert len(visible) == 1, spec
        assert np.linalg.norm(visible[0] - obama) < 0.5
        assert np.linalg.norm(visible[0] - biden) > 0.6

    # Nobody consented to social media: both faces redacted there.
    social = image.get_rendition("fill-600x400|guard-social_media")
    with social.file.open("rb") as handle:
        assert _encodings(handle.read()) == []


def test_withdrawal_deletes_old_rendition_files(school):
    image = _upload(TWO_PEOPLE.read_bytes())
    old = image.get_rendition("fill-600x400|guard-website")
    storage, old_name = old.file.storage, old.file.name
    assert storage.exists(old_name)

    impact = record_consent("obama", "website", "withdrawn", actor="dsl")
    assert impact.photos
    assert not storage.exists(old_name), "the old rendition file must be gone"
    new = image.get_rendition("fill-600x400|guard-website")
    with new.file.open("rb") as handle:
        assert _encodings(handle.read()) == []


def test_unindexed_image_is_fully_redacted(school, monkeypatch):
    from types import SimpleNamespace

    from wagtail_photoguard import signal_handlers

    # The indexing task has not run yet (a busy queue): nothing is known about faces.
    idle = SimpleNamespace(enqueue=lambda *args, **kwargs: None)
    monkeypatch.setattr(signal_handlers, "index_image_task", idle)
    image = _upload(TWO_PEOPLE.read_bytes(), name="not-yet-indexed.jpg")
    rendition = image.get_rendition("fill-600x400")
    with rendition.file.open("rb") as handle:
        out = handle.read()
    pixels = np.asarray(PILImage.open(io.BytesIO(out)).convert("RGB")).astype(int)
    assert pixels.std() < 3, "a rendition of an image whose faces are unknown is blank"
