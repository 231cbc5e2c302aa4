"""Photos, their faces, and the renditions and usages made of them.

A photo is known by its content hash, so the same picture uploaded twice is indexed
once. Where the original lives is kept two ways: ``location`` (text, what the core
reads the pixels from, as in the SQLite catalogue) and an optional generic link to
the site object holding it. The link is generic because the image model is the site's
own swappable model, in an app that will itself depend on this one: a foreign key
would tie the two apps' migrations into a cycle.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from wagtail_photoguard.models.people import PERSON_ID_LENGTH, Person

PHOTO_STATUSES = ("indexed", "failed")
ASSIGNMENTS = ("unknown", "auto", "ambiguous", "confirmed")


class Event(models.Model):
    """A school event photos belong to (sports day, the Year 6 play)."""

    name = models.CharField(max_length=200, unique=True)
    date = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "photoguard_event"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free-text label on photos, used to find them."""

    name = models.CharField(max_length=200, unique=True)

    class Meta:
        db_table = "photoguard_tag"

    def __str__(self) -> str:
        return self.name


class Photo(models.Model):
    """An indexed (or failed) original, identified by the SHA-256 of its bytes."""

    sha256 = models.CharField(max_length=64, unique=True)
    location = models.TextField()
    format = models.CharField(max_length=20, null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    taken_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=[(s, s) for s in PHOTO_STATUSES])
    error = models.TextField(null=True, blank=True)
    indexed_at = models.DateTimeField()
    # Where the original lives in the site (e.g. the custom Wagtail image), if anywhere.
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_id = models.CharField(max_length=64, null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")

    class Meta:
        db_table = "photoguard_photo"
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="photoguard_photo_source")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PHOTO_STATUSES), name="photoguard_photo_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"photo {self.pk} ({self.sha256[:12]})"


class PhotoTag(models.Model):
    """A tag on a photo (an explicit table, so it can grow fields)."""

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="photo_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="photo_tags")

    class Meta:
        db_table = "photoguard_photo_tag"
        constraints = [
            models.UniqueConstraint(fields=["photo", "tag"], name="photoguard_photo_tag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.photo_id}: {self.tag}"


class Face(models.Model):
    """A detected (or hand-drawn) face, and who it is, if anyone.

    The embedding is encrypted with the data key of ``key_owner`` (the assigned person,
    or the pool while unassigned), so shredding a person's key makes it unreadable.
    """

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="faces")
    x0 = models.FloatField()
    y0 = models.FloatField()
    x1 = models.FloatField()
    y1 = models.FloatField()
    detector = models.CharField(max_length=50)
    score = models.FloatField()
    embedding = models.BinaryField(null=True, blank=True)
    key_owner = models.CharField(max_length=PERSON_ID_LENGTH, null=True, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="faces"
    )
    assignment = models.CharField(
        max_length=10, choices=[(a, a) for a in ASSIGNMENTS], default="unknown"
    )
    distance = models.FloatField(null=True, blank=True)
    # The nearest person when unknown or ambiguous, shown to the reviewer.
    candidate = models.CharField(max_length=PERSON_ID_LENGTH, null=True, blank=True)
    manual = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "photoguard_face"
        indexes = [
            models.Index(fields=["person", "assignment"], name="photoguard_face_by_person"),
            models.Index(fields=["assignment"], name="photoguard_face_by_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(assignment__in=ASSIGNMENTS),
                name="photoguard_face_assignment_valid",
            )
        ]

    def __str__(self) -> str:
        return f"face {self.pk} in photo {self.photo_id}"


class FaceRejection(models.Model):
    """A reviewer said this face is *not* this person; matching must not suggest it again."""

    face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="rejections")
    person_id = models.CharField(max_length=PERSON_ID_LENGTH)

    class Meta:
        db_table = "photoguard_face_rejection"
        constraints = [
            models.UniqueConstraint(
                fields=["face", "person_id"], name="photoguard_face_rejection_unique"
            )
        ]

    def __str__(self) -> str:
        return f"face {self.face_id} is not {self.person_id}"


class PhotoRendition(models.Model):
    """A redacted copy made for one purpose; a newer one supersedes it.

    Named apart from Wagtail's image renditions: this is the core's record of a
    consent-checked copy, whatever made it.
    """

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="renditions")
    purpose = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    location = models.TextField()
    outcome = models.CharField(max_length=50)
    # Person ids whose faces were left visible, sorted.
    shown = models.JSONField(default=list)
    created_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "photoguard_rendition"
        indexes = [models.Index(fields=["photo", "purpose"], name="photoguard_rendition_by_photo")]

    def __str__(self) -> str:
        return f"{self.purpose} rendition {self.pk} of photo {self.photo_id}"


class PhotoUsage(models.Model):
    """Where a photo is published (a page, a share, a URL) and for which purpose."""

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="usages")
    purpose = models.CharField(max_length=64)
    location = models.TextField()
    # The copy current when the usage was recorded. SET_NULL: renditions are only
    # superseded, never deleted, except with their photo (which takes usages with it).
    rendition = models.ForeignKey(
        PhotoRendition, null=True, blank=True, on_delete=models.SET_NULL, related_name="usages"
    )
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=200)

    class Meta:
        db_table = "photoguard_usage"
        indexes = [models.Index(fields=["photo", "purpose"], name="photoguard_usage_by_photo")]
        constraints = [
            models.UniqueConstraint(
                fields=["photo", "purpose", "location"], name="photoguard_usage_unique"
            )
        ]

    def __str__(self) -> str:
        return f"photo {self.photo_id} for {self.purpose} at {self.location}"
