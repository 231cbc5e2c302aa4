"""Purposes and the two append-only ledgers: consent per purpose and biometric consent.

The ledgers reference people by id as text, not by foreign key, exactly like the SQLite
catalogue: they are evidence of what was in force, so they must outlive the person row
(a pupil who leaves is deleted; what their parents said must stay) and no cascade may
ever reach them.
"""

from __future__ import annotations

from django.db import models

from wagtail_photoguard.models.append_only import AppendOnlyModel
from wagtail_photoguard.models.people import PERSON_ID_LENGTH

CONSENT_STATUSES = ("granted", "refused", "withdrawn")
RESPONDENTS = ("parent", "child", "self")
BIOMETRIC_RESPONSES = ("granted", "objected", "withdrawn")


class Purpose(models.Model):
    """A use of photos (website, newsletter, ...) with its audience and rendition limits.

    Validation of the values lives in the core (:class:`photoguard_core.consent.Purpose`);
    the store builds that dataclass from each row, so a bad row fails loudly when read.
    """

    name = models.CharField(primary_key=True, max_length=64)
    audience = models.CharField(max_length=20)
    max_size = models.PositiveIntegerField()
    style = models.CharField(max_length=20)
    names_with_images = models.BooleanField()
    description = models.TextField(blank=True, default="")

    class Meta:
        db_table = "photoguard_purpose"

    def __str__(self) -> str:
        return self.name.replace("_", " ")


class ConsentLedgerEntry(AppendOnlyModel):
    """One recorded statement of consent for one person and purpose; never edited."""

    person_id = models.CharField(max_length=PERSON_ID_LENGTH)
    purpose = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=[(s, s) for s in CONSENT_STATUSES])
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=200)
    source = models.CharField(max_length=200)
    note = models.TextField(blank=True, default="")

    class Meta:
        db_table = "photoguard_consent_ledger"
        verbose_name = "consent ledger entry"
        verbose_name_plural = "consent ledger entries"
        indexes = [
            models.Index(
                fields=["person_id", "purpose", "recorded_at"], name="photoguard_consent_by_person"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CONSENT_STATUSES),
                name="photoguard_consent_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.purpose}: {self.status}"


class BiometricResponseEntry(AppendOnlyModel):
    """One respondent's answer about biometric processing (PoFA 2012 ss.26-28)."""

    person_id = models.CharField(max_length=PERSON_ID_LENGTH)
    respondent = models.CharField(max_length=10, choices=[(r, r) for r in RESPONDENTS])
    respondent_name = models.CharField(max_length=200)
    response = models.CharField(max_length=10, choices=[(r, r) for r in BIOMETRIC_RESPONSES])
    in_writing = models.BooleanField()
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=200)

    class Meta:
        db_table = "photoguard_biometric_response"
        verbose_name = "biometric response"
        indexes = [
            models.Index(fields=["person_id", "recorded_at"], name="photoguard_biometric_by_person")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(respondent__in=RESPONDENTS),
                name="photoguard_biometric_respondent_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(response__in=BIOMETRIC_RESPONSES),
                name="photoguard_biometric_response_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.respondent} {self.response}"
