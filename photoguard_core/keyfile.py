"""Where the master key lives: never inside the catalogue, never in the repository.

Order: ``PHOTOGUARD_MASTER_KEY`` (base64), then ``--key-file``/``PHOTOGUARD_KEY_FILE``,
then a per-catalogue file under the user's configuration folder
(``~/.config/photoguard/keys/``), created with 0600 permissions by ``photoguard init``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def default_key_file(catalogue: Path) -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    tag = hashlib.sha256(str(catalogue.resolve()).encode()).hexdigest()[:12]
    return base / "photoguard" / "keys" / f"{catalogue.stem}-{tag}.key"


def key_file_for(catalogue: Path, explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    env = os.environ.get("PHOTOGUARD_KEY_FILE")
    return Path(env) if env else default_key_file(catalogue)
