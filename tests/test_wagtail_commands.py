"""The management commands, run against the test site."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.images import ImageFile
from django.core.management import call_command
from wagtail.images import get_image_model

from photoguard_core.consent import DEFAULT_PURPOSES
from wagtail_photoguard import signal_handlers
from wagtail_photoguard.site_context import core_context

TWO_PEOPLE = (
    Path(__file__).parent / "fixtures" / "identity" / "images" / "fr__examples__two_people.jpg"
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(monkeypatch):
    from wagtail.models import Collection

    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    core_context().store.save_purposes(DEFAULT_PURPOSES)
    # Uploads made before photoguard was installed: nothing indexed them.
    monkeypatch.setattr(
        signal_handlers, "index_image_task", SimpleNamespace(enqueue=lambda *a: None)
    )


def _upload(name: str):
    image = get_image_model()(title=name)
    image.file = ImageFile(io.BytesIO(TWO_PEOPLE.read_bytes()), name=name)
    image.save()
    return image


def test_index_report_and_audit_verify(site, tmp_path: Path):
    _upload("a.jpg")
    _upload("b.jpg")  # the same content: indexed once
    out = io.StringIO()
    call_command("photoguard_index", stdout=out)
    assert "1 indexed, 1 already indexed, 0 failed" in out.getvalue()
    store = core_context().store
    assert len(store.photos()) == 1 and len(store.faces(store.photos()[0].id)) == 2

    again = io.StringIO()
    call_command("photoguard_index", stdout=again)
    assert "0 indexed, 2 already indexed" in again.getvalue()

    report = io.StringIO()
    call_command("photoguard_report", "--out", str(tmp_path / "r"), stdout=report)
    page = (tmp_path / "r" / "report.html").read_text()
    assert "faces waiting for review" in page.lower()

    verify = io.StringIO()
    call_command("photoguard_audit_verify", stdout=verify)
    assert "intact" in verify.getvalue()
