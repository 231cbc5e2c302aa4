"""Catalogue settings, notifications and the hash-chained audit log."""

from __future__ import annotations

from django.db import models

from wagtail_photoguard.models.append_only import AppendOnlyModel
from wagtail_photoguard.models.people import PERSON_ID_LENGTH


class CatalogueSetting(models.Model):
    """A key/value the core keeps in its catalogue (detection-only mode, the sealed
    audit head). Named apart from Wagtail's site settings, which are a different thing."""

    key = models.CharField(primary_key=True, max_length=200)
    value = models.TextField()

    class Meta:
        db_table = "photoguard_setting"

    def __str__(self) -> str:
        return self.key


class Notification(models.Model):
    """Something staff should hear about (a consent expiring, a usage no longer covered).

    Person and photo are plain ids, as in the SQLite catalogue: a notice about a photo
    stays readable after the photo is gone.
    """

    created_at = models.DateTimeField()
    kind = models.CharField(max_length=50)
    person_id = models.CharField(max_length=PERSON_ID_LENGTH, null=True, blank=True)
    photo_id = models.BigIntegerField(null=True, blank=True)
    message = models.TextField()

    class Meta:
        db_table = "photoguard_notification"
        indexes = [models.Index(fields=["kind"], name="photoguard_notification_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


class AuditLogEntry(AppendOnlyModel):
    """One link of the audit hash chain (see :mod:`photoguard_core.audit.chain`).

    ``at`` and ``details`` are stored as the exact text that was hashed (ISO-8601 UTC
    and canonical JSON), so reading an entry back can never change its hash, whatever
    the database does to timestamps or JSON.
    """

    seq = models.PositiveBigIntegerField(primary_key=True)
    at = models.CharField(max_length=32)
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=200)
    details = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "photoguard_audit_log"
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log entries"
        indexes = [
            models.Index(fields=["actor", "at"], name="photoguard_audit_by_actor"),
            models.Index(fields=["action", "at"], name="photoguard_audit_by_action"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at} {self.actor} {self.action} {self.object_type}"


class AuditLock(models.Model):
    """One row that audit appenders lock (``SELECT ... FOR UPDATE``) to take turns.

    Locking the last audit entry instead is not enough on PostgreSQL: a writer that
    waited for that lock still sees the entry it locked as the last one, not the entry
    committed meanwhile, so it would compute a seq already taken. Waiting on a fixed row
    and only then reading the last entry gives every appender the true end of the chain.
    Created on first use (a flushed test database has no rows).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    class Meta:
        db_table = "photoguard_audit_lock"

    def __str__(self) -> str:
        return "audit append lock"
