"""The test site's image model: Wagtail's own, guarded by photoguard."""

from django.db import models
from wagtail.images.models import Image

from wagtail_photoguard.image_models import AbstractGuardedImage, AbstractGuardedRendition


class SchoolImage(AbstractGuardedImage):
    admin_form_fields = Image.admin_form_fields


class SchoolRendition(AbstractGuardedRendition):
    image = models.ForeignKey(SchoolImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
