"""Private storage for original images: never under MEDIA, never a public URL.

Stock Wagtail stores originals unchanged (GPS, unredacted faces) in ``original_images/``
under ``MEDIA_ROOT``, so anyone who guesses a file name can fetch one wherever media is
served publicly (DESIGN.md section 6). photoguard keeps them in their own storage
instead, chosen by a storage alias from Django's ``STORAGES``::

    STORAGES = {
        "default": {...},
        "staticfiles": {...},
        "photoguard_originals": {
            "BACKEND": "wagtail_photoguard.storage.PrivateOriginalsStorage",
            "OPTIONS": {"location": "/srv/school/private/originals"},  # outside MEDIA_ROOT
        },
    }
    PHOTOGUARD = {"ORIGINALS_STORAGE": "photoguard_originals"}  # the default alias

:class:`PrivateOriginalsStorage` has no base URL: :meth:`~PrivateOriginalsStorage.url`
answers with the permission-checked, audited view (:mod:`wagtail_photoguard.views.originals`),
so every place Wagtail prints ``image.file.url`` (the images API's ``download_url``,
templates) leads to that view, never to the bytes. Another backend (an S3 bucket) may be
used through the alias; it must be private, and its URLs are then its own business —
the system check below refuses only the mistakes it can see (a location under
``MEDIA_ROOT``, a ``base_url`` under ``MEDIA_URL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.urls import NoReverseMatch, reverse
from django.utils.deconstruct import deconstructible

#: The alias used when ``PHOTOGUARD["ORIGINALS_STORAGE"]`` is not set.
DEFAULT_ALIAS = "photoguard_originals"

#: The URL name of the view that serves an original to permitted staff.
ORIGINAL_URL_NAME = "wagtail_photoguard:original"


class NoPublicURL(ValueError):
    """Raised instead of handing out a URL that would bypass the permission check."""


@deconstructible(path="wagtail_photoguard.storage.PrivateOriginalsStorage")
class PrivateOriginalsStorage(FileSystemStorage):
    """A file system storage whose files have no URL of their own.

    ``base_url`` is ignored on purpose: a URL here would be served by whatever serves
    media, without a permission check or an audit record.
    """

    def url(self, name: str | None) -> str:
        """The permission-checked view of the image stored under ``name``.

        Looked up by file name because a storage only knows names; an unknown name (a
        file no image points to) has no URL at all rather than a guessable one.
        """
        from wagtail.images import get_image_model

        pk = (
            get_image_model().objects.filter(file=name).values_list("pk", flat=True).first()
            if name
            else None
        )
        if pk is None:
            raise NoPublicURL(f"no image is stored as {name!r}; originals have no public URL")
        try:
            return reverse(ORIGINAL_URL_NAME, args=[pk])
        except NoReverseMatch as err:
            raise NoPublicURL(
                "originals have no public URL; include wagtail_photoguard.urls in the site's "
                "URLconf to serve them to permitted staff"
            ) from err


def originals_alias() -> str:
    """The ``STORAGES`` alias originals are kept in (``PHOTOGUARD["ORIGINALS_STORAGE"]``)."""
    # Read directly: the key is optional and conf.DEFAULTS belongs to the settings module.
    return getattr(settings, "PHOTOGUARD", {}).get("ORIGINALS_STORAGE") or DEFAULT_ALIAS


def originals_storage() -> Storage:
    """The storage of ``AbstractGuardedImage.file``, a callable so migrations record the
    function rather than one site's paths, and each site picks its own through settings."""
    return storages[originals_alias()]


def _inside(path: Path, parent: Path) -> bool:
    path, parent = path.resolve(), parent.resolve()
    return path == parent or parent in path.parents


def originals_storage_problems() -> list[str]:
    """What makes the configured originals storage public, as sentences (empty: fine)."""
    alias = originals_alias()
    if alias not in getattr(settings, "STORAGES", {}):
        return [f"STORAGES has no {alias!r} alias for photoguard's originals"]
    storage = storages[alias]
    problems = []
    media_root = getattr(settings, "MEDIA_ROOT", "")
    location = getattr(storage, "location", None)
    if location and media_root and _inside(Path(location), Path(media_root)):
        problems.append(f"storage {alias!r} keeps originals under MEDIA_ROOT ({location})")
    media_url = getattr(settings, "MEDIA_URL", "") or ""
    if not isinstance(storage, PrivateOriginalsStorage):
        base_url = getattr(storage, "base_url", None)
        if base_url and media_url and str(base_url).startswith(media_url):
            problems.append(f"storage {alias!r} serves originals under MEDIA_URL ({base_url})")
    if alias == "default":
        problems.append("originals must not share the default (media) storage")
    return problems


@register()
def check_originals_storage(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Originals carry unredacted faces and GPS: a site must not start with them public."""
    return [
        Error(
            problem,
            hint=(
                "Add a 'photoguard_originals' alias with BACKEND "
                "'wagtail_photoguard.storage.PrivateOriginalsStorage' and a location "
                "outside MEDIA_ROOT (see wagtail_photoguard.storage)."
            ),
            id="wagtail_photoguard.E010",
        )
        for problem in originals_storage_problems()
    ]
