"""People, their groups and safeguarding flags, their data keys and face templates.

Mirrors the people side of the core's catalogue schema
(:mod:`photoguard_core.catalogue.schema`); the core decides, these rows only remember.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

#: Person ids come from the school's information system (SIS); 100 characters is
#: far beyond any SIS id seen, and a key must have a bound on every database.
PERSON_ID_LENGTH = 100

ROLES = ("pupil", "staff", "other")


class Person(models.Model):
    """A pupil, member of staff or other person whose face may appear in photos."""

    id = models.CharField(primary_key=True, max_length=PERSON_ID_LENGTH)
    first_name = models.CharField(max_length=200)
    last_name = models.CharField(max_length=200, blank=True, default="")
    role = models.CharField(max_length=10, choices=[(r, r) for r in ROLES])
    date_of_birth = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "photoguard_person"
        verbose_name_plural = "people"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=ROLES), name="photoguard_person_role_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.id


class PersonGroup(models.Model):
    """A class, year, house or club. Named ``PersonGroup`` so it never reads as
    Django's ``auth.Group`` (a permission group) in code or the admin."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=50, default="group")

    class Meta:
        db_table = "photoguard_group"
        verbose_name = "group"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A person's membership of a group (an explicit table, so it can grow fields)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(PersonGroup, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        db_table = "photoguard_membership"
        constraints = [
            models.UniqueConstraint(fields=["person", "group"], name="photoguard_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.group}"


class PersonFlag(models.Model):
    """A safeguarding flag (looked after, at risk, ...) that overrides any consent."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="flags")
    flag = models.CharField(max_length=50)
    set_at = models.DateTimeField()
    set_by = models.CharField(max_length=200)

    class Meta:
        db_table = "photoguard_person_flag"
        constraints = [
            models.UniqueConstraint(fields=["person", "flag"], name="photoguard_person_flag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.flag}"


class DataKey(models.Model):
    """A data key wrapped by the master key: one per person, one for unassigned faces.

    Deleting the row crypto-shreds everything encrypted with the key (templates and
    face embeddings), which is how an objection to biometric processing is honoured.
    """

    owner = models.CharField(primary_key=True, max_length=PERSON_ID_LENGTH)
    wrapped_key = models.BinaryField()
    key_id = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "photoguard_data_key"

    def __str__(self) -> str:
        return f"data key of {self.owner}"


class FaceTemplate(models.Model):
    """An encrypted face encoding used to recognise an enrolled person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="templates")
    encoding = models.BinaryField()
    source_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "photoguard_template"

    def __str__(self) -> str:
        return f"template {self.pk} of {self.person_id}"
