"""Append-only models: the consent ledger, biometric responses and the audit log.

A school must be able to show what consent was in force when a photo went out, and an
audit log that can be edited proves nothing; so these rows are written once and never
changed. The SQLite catalogue enforces that with triggers; here the model, its manager
and its querysets refuse every update and delete that goes through the ORM, with an
error that says why, so no code path in the site (admin actions, signal handlers, a
shell session using the models) can rewrite history by accident.

What the ORM cannot stop is raw SQL by someone with database access; the audit log's
hash chain and sealed head (see :mod:`photoguard_core.audit`) make that detectable.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(Exception):
    """An update or delete was attempted on an append-only record."""


def _refuse(model: type[models.Model], operation: str) -> NoReturn:
    table = model._meta.db_table
    raise AppendOnlyError(
        f"{table} is append-only: refusing to {operation}. A change is recorded as a new "
        "entry, never by editing or deleting an old one."
    )


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset that can read and insert, but never update or delete in bulk."""

    def update(self, **kwargs: Any) -> NoReturn:
        _refuse(self.model, "update rows")

    def delete(self) -> NoReturn:
        _refuse(self.model, "delete rows")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        _refuse(self.model, "update rows")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self.model, "update or create rows")

    # Django's own delete() sets this for internal use; keep the raw path closed too.
    def _raw_delete(self, using: str) -> NoReturn:
        _refuse(self.model, "delete rows")


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class AppendOnlyModel(models.Model):
    """Base for rows that are inserted once and then only read."""

    objects = AppendOnlyManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert a new row; refuse to save a row that already exists.

        The insert is forced: with an explicit primary key (the audit log's ``seq``)
        Django would otherwise try an UPDATE first and could overwrite an entry.
        """
        if not self._state.adding:
            _refuse(type(self), f"update {self._meta.object_name} {self.pk}")
        if kwargs.get("update_fields") is not None:
            _refuse(type(self), "update fields")
        kwargs["force_insert"] = True
        kwargs.pop("force_update", None)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(type(self), f"delete {self._meta.object_name} {self.pk}")
