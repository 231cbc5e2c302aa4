"""Background work, on Django tasks (as Wagtail's own tasks): the immediate backend in
tests and the demo, a real queue (database or Redis worker) in production."""

from __future__ import annotations

import logging

from django.apps import apps
from django_tasks import task

from photoguard_core.errors import PhotoguardError
from photoguard_core.indexing import index_bytes

log = logging.getLogger(__name__)


def image_location(image) -> str:
    """How the catalogue names where a Wagtail image's original lives."""
    return f"wagtail-image:{image._meta.label_lower}:{image.pk}"


@task()
def index_image_task(app_label: str, model_name: str, pk: str) -> None:
    """Index one image in the background (see :func:`index_image`)."""
    index_image(apps.get_model(app_label, model_name).objects.get(pk=pk))


def index_image(image, *, actor: str = "indexer") -> bool:
    """Find, encode and match the faces of one image; then drop its renditions, which
    were made (fully redacted) before its faces were known. Re-running is harmless:
    a photo already indexed is recognised by its content hash. Returns success."""
    from wagtail_photoguard.renditions import delete_guarded_renditions
    from wagtail_photoguard.site_context import core_context

    with image.open_file() as handle:
        data = handle.read()
    ctx = core_context(actor=actor)
    try:
        index_bytes(ctx, data, image_location(image), name=f"image {image.pk}")
    except PhotoguardError as err:
        # Recorded as failed in the catalogue; its renditions stay fully redacted.
        log.warning("image %s could not be indexed: %s", image.pk, err.reason)
        return False
    delete_guarded_renditions([image])
    return True
