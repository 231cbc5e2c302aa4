"""The Django app configuration for photoguard's Wagtail adapter."""

from __future__ import annotations

from django.apps import AppConfig


class WagtailPhotoguardConfig(AppConfig):
    """Registers the app; its models hold the catalogue in the site's own database.

    The label stays the module name so permission codenames
    (``wagtail_photoguard.add_consentledgerentry``) say which app they belong to.
    """

    name = "wagtail_photoguard"
    label = "wagtail_photoguard"
    verbose_name = "Photoguard"
    # 64-bit ids everywhere: the SQLite catalogue's INTEGER PRIMARY KEY is 64-bit too,
    # and a busy trust's face and audit tables outgrow 32 bits of ids.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks (imported for its side effect).
        from wagtail_photoguard import checks  # noqa: F401
        from wagtail_photoguard.signal_handlers import register_signal_handlers

        register_signal_handlers()
