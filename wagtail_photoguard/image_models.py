"""The image model a site uses with photoguard (``WAGTAILIMAGES_IMAGE_MODEL``).

Guarding happens where Wagtail makes every rendition file — templates, rich text,
the images API, srcset and admin thumbnails all come through
``generate_rendition_file`` — so no path can produce an unguarded rendition.

    # myapp/models.py
    class SchoolImage(AbstractGuardedImage):
        admin_form_fields = Image.admin_form_fields

    class SchoolRendition(AbstractGuardedRendition):
        image = models.ForeignKey(SchoolImage, on_delete=models.CASCADE,
                                  related_name="renditions")

        class Meta:
            unique_together = (("image", "filter_spec", "focal_point_key"),)
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.images.models import AbstractImage, AbstractRendition, WagtailImageField, get_upload_to

from wagtail_photoguard.storage import originals_storage


class AbstractGuardedImage(AbstractImage):
    # Wagtail's own field, kept in photoguard's private storage: originals carry
    # unredacted faces and GPS, so they never sit under MEDIA where anyone can guess
    # their URL (see wagtail_photoguard.storage).
    file = WagtailImageField(
        verbose_name=_("file"),
        upload_to=get_upload_to,
        width_field="width",
        height_field="height",
        storage=originals_storage,
    )

    def generate_rendition_file(self, filter, *, source=None):  # noqa: A002 - Wagtail's name
        from wagtail_photoguard.rendering import guarded_rendition_file

        return guarded_rendition_file(self, filter, source=source)

    class Meta(AbstractImage.Meta):
        abstract = True


class AbstractGuardedRendition(AbstractRendition):
    class Meta(AbstractRendition.Meta):
        abstract = True
