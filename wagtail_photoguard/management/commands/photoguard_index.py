"""``manage.py photoguard_index``: index every image whose faces are not known yet.

Resumable: images already in the catalogue (same content) are skipped, so a run
interrupted half-way carries on where it stopped.
"""

from __future__ import annotations

import hashlib

from django.core.management.base import BaseCommand
from tqdm import tqdm
from wagtail.images import get_image_model

from wagtail_photoguard.site_context import core_context
from wagtail_photoguard.tasks import index_image


class Command(BaseCommand):
    help = "Index the faces of every image not yet in the photoguard catalogue."

    def handle(self, *args, **options) -> None:
        ctx = core_context(actor="photoguard_index")
        images = list(get_image_model().objects.order_by("pk"))
        done = skipped = failed = 0
        for image in tqdm(images, desc="images", unit=" images", disable=None):
            with image.open_file() as handle:
                sha = hashlib.sha256(handle.read()).hexdigest()
            known = ctx.store.photo_by_sha(sha)
            if known is not None and known.status == "indexed":
                skipped += 1
            elif index_image(image, actor="photoguard_index"):
                done += 1
            else:
                failed += 1
        self.stdout.write(f"{done} indexed, {skipped} already indexed, {failed} failed")
        if failed:
            raise SystemExit(1)
