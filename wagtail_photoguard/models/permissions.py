"""Permissions that belong to no stored record, such as seeing original images."""

from __future__ import annotations

from django.db import models

#: ``user.has_perm`` name of the right to see unredacted originals (the safeguarding lead).
VIEW_ORIGINALS = "wagtail_photoguard.view_originals"


class PhotoguardPermission(models.Model):
    """Carries photoguard's global permissions; it has no table and no rows.

    Django attaches permissions to models, and seeing originals is not a right over any
    one catalogue record, so it lives on this tableless model. Being a model gives the
    permission a content type, so Wagtail's group editor and ``has_perm`` treat it like
    any other.
    """

    class Meta:
        managed = False
        db_table = "photoguard_permission"  # never created; prefixed like every table here
        default_permissions = ()
        permissions = [("view_originals", "Can view original (unredacted) images")]
        verbose_name = "photoguard permission"
