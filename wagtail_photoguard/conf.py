"""The ``PHOTOGUARD`` setting, with defaults a school can start from.

PHOTOGUARD = {
    "DEFAULT_PURPOSE": "website",       # what every unmarked rendition is guarded for
    "MASTER_KEY_FILE": "/etc/photoguard/master.key",   # or PHOTOGUARD_MASTER_KEY
    "RECHECK_DETECTOR": "centerface",   # cheap re-check on every rendition
}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "DEFAULT_PURPOSE": "website",
    "MASTER_KEY_FILE": None,
    "RECHECK_DETECTOR": "centerface",
    "ORIGINALS_STORAGE": "photoguard_originals",
}


def get(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "PHOTOGUARD", {})}[name]


def master_key_file() -> Path | None:
    value = get("MASTER_KEY_FILE")
    return Path(value) if value else None
