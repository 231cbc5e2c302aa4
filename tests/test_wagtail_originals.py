"""Originals never public: stored outside MEDIA, served only to permitted staff through
an audited, uncacheable view; every other URL the site exposes gives guarded bytes."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.images import ImageFile
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.views.static import serve as serve_media
from wagtail.images import get_image_model
from wagtail.images.views.serve import generate_image_url

from photoguard_core.audit import ORIGINAL_VIEW
from photoguard_core.metadata import read_metadata
from tests.photos import with_gps
from wagtail_photoguard.site_context import core_context
from wagtail_photoguard.storage import (
    NoPublicURL,
    PrivateOriginalsStorage,
    originals_storage,
    originals_storage_problems,
)

IDENTITY = Path(__file__).parent / "fixtures" / "identity" / "images"
TWO_PEOPLE = IDENTITY / "fr__examples__two_people.jpg"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def uploaded():
    """One uploaded image and its original bytes (faces indexed, consents unset)."""
    from wagtail.models import Collection

    if Collection.get_first_root_node() is None:  # flushed by transactional tests
        Collection.add_root(name="Root")
    from photoguard_core.consent import DEFAULT_PURPOSES

    core_context(actor="dsl").store.save_purposes(DEFAULT_PURPOSES)
    data = with_gps(TWO_PEOPLE)
    image = get_image_model()(title="Sports day")
    image.file = ImageFile(io.BytesIO(data), name="jane-smith-year4.jpg")
    image.save()
    return image, data


def _user(username: str, *perms: str, superuser: bool = False):
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username, f"{username}@school.test", "pw")
    user = User.objects.create_user(username, f"{username}@school.test", "pw")
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _is_inside(path: Path, parent: Path) -> bool:
    return parent.resolve() in path.resolve().parents


def test_original_is_stored_privately_outside_media(uploaded):
    image, data = uploaded
    assert isinstance(image.file.storage, PrivateOriginalsStorage)
    assert image.file.storage is originals_storage()
    assert originals_storage_problems() == []
    path = Path(image.file.path)
    assert path.read_bytes() == data
    assert not _is_inside(path, Path(settings.MEDIA_ROOT))
    # Nothing under MEDIA_ROOT holds the original's bytes, under any name.
    digest = hashlib.sha256(data).hexdigest()
    media = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() != digest for p in media)


def test_file_url_is_the_permission_checked_view(uploaded):
    image, _ = uploaded
    view_url = reverse("wagtail_photoguard:original", args=[image.pk])
    assert image.file.url == view_url
    assert not image.file.url.startswith(settings.MEDIA_URL)
    with pytest.raises(NoPublicURL):
        image.file.storage.url("original_images/not-an-image.jpg")


def test_anonymous_gets_no_original_by_any_url(client, uploaded):
    image, data = uploaded
    name = image.file.name
    guesses = [
        reverse("wagtail_photoguard:original", args=[image.pk]),
        image.file.url,
        settings.MEDIA_URL + name,
        settings.MEDIA_URL + "original_images/" + Path(name).name,
        settings.MEDIA_URL + "original_images/jane-smith-year4.jpg",
        reverse("wagtailimages:preview", args=[image.pk, "original"]),
    ]
    for url in guesses:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert data not in _body(response), url
    view = client.get(image.file.url)
    assert view.status_code == 302
    assert "no-store" in view["Cache-Control"]

    # Even a server that does serve MEDIA_ROOT publicly has no original to hand out.
    request = RequestFactory().get(settings.MEDIA_URL + name)
    with pytest.raises(Http404):
        serve_media(request, name, document_root=settings.MEDIA_ROOT)


def test_dynamic_serve_url_gives_a_guarded_rendition(client, uploaded):
    image, data = uploaded
    response = client.get(generate_image_url(image, "original"))
    assert response.status_code == 200
    body = _body(response)
    assert body and body != data
    assert read_metadata(body).gps is None


def test_signed_in_without_permission_is_refused(client, uploaded):
    image, data = uploaded
    editor = _user("editor", "wagtailadmin.access_admin")
    client.force_login(editor)
    response = client.get(image.file.url)
    assert response.status_code == 403
    assert data not in response.content
    entries = core_context().store.audit_entries()
    assert not [e for e in entries if e.action == ORIGINAL_VIEW]


def test_permission_without_admin_access_is_refused(client, uploaded):
    image, _ = uploaded
    client.force_login(_user("parent", "wagtail_photoguard.view_originals"))
    assert client.get(image.file.url).status_code == 403


@pytest.mark.parametrize("who", ["superuser", "safeguarding_lead"])
def test_permitted_staff_get_the_original_and_it_is_audited(client, uploaded, who):
    image, data = uploaded
    if who == "superuser":
        user = _user(who, superuser=True)
    else:
        user = _user(who, "wagtailadmin.access_admin", "wagtail_photoguard.view_originals")
    client.force_login(user)
    response = client.get(image.file.url)
    assert response.status_code == 200
    assert response.content == data
    assert response["Cache-Control"].startswith("private")
    assert "no-store" in response["Cache-Control"]

    store = core_context().store
    last = store.audit_entries()[-1]
    assert last.action == ORIGINAL_VIEW
    assert last.actor == who
    photo = store.photo_by_sha(hashlib.sha256(data).hexdigest())
    assert (last.object_type, last.object_id) == ("photo", str(photo.id))
    # Also in Wagtail's own history of the image.
    from wagtail.models import ModelLogEntry

    history = ModelLogEntry.objects.filter(action="photoguard.original_view", user=user)
    assert history.filter(object_id=str(image.pk)).count() == 1
    assert client.post(image.file.url).status_code == 405  # reads only


def test_rendition_under_media_still_public_and_guarded(client, uploaded):
    image, data = uploaded
    rendition = image.get_rendition("fill-300x200")
    assert rendition.url.startswith(settings.MEDIA_URL)
    path = Path(rendition.file.path)
    assert _is_inside(path, Path(settings.MEDIA_ROOT))
    # What a public media server would send for the rendition's URL.
    name = rendition.url[len(settings.MEDIA_URL) :]
    request = RequestFactory().get(rendition.url)
    response = serve_media(request, name, document_root=settings.MEDIA_ROOT)
    body = _body(response)
    assert response.status_code == 200
    assert body and body != data and data not in body
    assert read_metadata(body).gps is None


def test_admin_preview_is_guarded(client, uploaded):
    image, data = uploaded
    client.force_login(_user("admin", superuser=True))
    response = client.get(reverse("wagtailimages:preview", args=[image.pk, "original"]))
    assert response.status_code == 200
    body = _body(response)
    assert body != data
    assert read_metadata(body).gps is None, "Wagtail's own preview keeps the GPS"
    assert "no-store" in response["Cache-Control"]
