"""Signals: every saved image is indexed (as a background task, after commit)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from wagtail.images import get_image_model

from wagtail_photoguard.tasks import index_image_task


def index_on_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields and "file" not in update_fields):
        return
    label, model = instance._meta.app_label, instance._meta.model_name
    transaction.on_commit(lambda: index_image_task.enqueue(label, model, str(instance.pk)))


def register_signal_handlers() -> None:
    post_save.connect(index_on_save, sender=get_image_model(), dispatch_uid="photoguard-index")
