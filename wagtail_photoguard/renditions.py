"""Removing guarded renditions when what they show may have changed.

Wagtail keeps rendition files until their rows are deleted, and their URLs are
guessable, so a consent change must delete rows *and* files (Wagtail's own
post-delete handler removes the file once the transaction commits), then purge
the front-end cache when one is configured.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from wagtail.images import get_image_model

from photoguard_core.fluid import Impact


def delete_guarded_renditions(images: Iterable) -> int:
    deleted = 0
    for image in images:
        renditions = list(image.renditions.all())
        urls = [r.url for r in renditions]
        for rendition in renditions:
            rendition.delete()
            deleted += 1
        _purge_front_end_cache(urls)
    return deleted


def images_for_photos(ctx, photo_ids: Iterable[int]) -> list:
    """The site's images whose originals are these catalogue photos.

    The catalogue records the image that was indexed; an identical file uploaded
    again as another image shares its Wagtail ``file_hash`` and is included.
    """
    Image = get_image_model()
    found: dict[int, object] = {}
    for photo in ctx.store.photos(photo_ids):
        pk = image_pk(photo.location)
        image = Image.objects.filter(pk=pk).first() if pk is not None else None
        if image is None:
            continue
        found[image.pk] = image
        if image.file_hash:
            for twin in Image.objects.filter(file_hash=image.file_hash).exclude(pk=image.pk):
                found[twin.pk] = twin
    return list(found.values())


def image_pk(location: str) -> int | None:
    """The image id in a location written by :func:`wagtail_photoguard.tasks.image_location`."""
    prefix, _, rest = location.partition(":")
    if prefix != "wagtail-image":
        return None
    _label, _, pk = rest.rpartition(":")
    return int(pk) if pk.isdigit() else None


def delete_for_impact(ctx, impact: Impact) -> int:
    return delete_guarded_renditions(images_for_photos(ctx, impact.photos))


def _purge_front_end_cache(urls: list[str]) -> None:
    if not urls or not getattr(settings, "WAGTAILFRONTENDCACHE", None):
        return
    from wagtail.contrib.frontend_cache.utils import purge_urls_from_cache

    purge_urls_from_cache(urls)
