"""System checks: settings the catalogue cannot work safely without.

They run with ``manage.py check`` (and before ``migrate`` and ``runserver``), so a
misconfigured site fails at deploy time rather than on the first consent change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.checks import Warning as CheckWarning


@register()
def check_use_tz(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The consent ledger and audit log store UTC instants; naive datetimes would lie.

    With ``USE_TZ = False`` Django strips or refuses time zones, so "was this consent
    recorded before the photo went out?" would depend on the server's clock zone.
    """
    if getattr(settings, "USE_TZ", True):
        return []
    return [
        Error(
            "photoguard needs USE_TZ = True: consent and audit times are UTC instants.",
            hint="Set USE_TZ = True in your settings (Django's default since 5.0).",
            id="wagtail_photoguard.E001",
        )
    ]


def sqlite_without_immediate(databases: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Aliases of SQLite databases whose transactions do not take the write lock at BEGIN."""
    out = []
    for alias, db in databases.items():
        if not str(db.get("ENGINE", "")).endswith("sqlite3"):
            continue
        mode = str((db.get("OPTIONS") or {}).get("transaction_mode") or "").upper()
        if mode not in ("IMMEDIATE", "EXCLUSIVE"):
            out.append(alias)
    return out


@register()
def check_sqlite_transaction_mode(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """On SQLite, audit appends and consent changes need the write lock at BEGIN.

    Django opens SQLite transactions DEFERRED: two writers both start reading, and the
    second to write gets "database is locked" at once instead of waiting its turn. The
    chain stays intact either way; this warning saves a demo or small site from
    spurious failures when two editors act at the same moment.
    """
    return [
        CheckWarning(
            f"database {alias!r} is SQLite without IMMEDIATE transactions: concurrent "
            "photoguard writes can fail with 'database is locked'.",
            hint='Add "OPTIONS": {"transaction_mode": "IMMEDIATE"} to the database.',
            id="wagtail_photoguard.W001",
        )
        for alias in sqlite_without_immediate(getattr(settings, "DATABASES", {}))
    ]
