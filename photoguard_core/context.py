"""What every catalogue operation needs: the store, the master key, who is acting, when.

Operations are plain functions taking a :class:`Context` first, so the CLI, the
Wagtail adapter and tests call the same code with their own store and actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from photoguard_core.catalogue.store import CatalogueStore
from photoguard_core.crypto import (
    MasterKey,
    decrypt_embedding,
    encrypt_embedding,
    new_data_key,
    unwrap_key,
    wrap_key,
)

#: Owner of the data key for faces not (yet) assigned to anyone.
POOL = "_pool"
DETECTION_ONLY = "detection_only"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    store: CatalogueStore
    master: MasterKey
    actor: str = "cli"
    clock: Callable[[], datetime] = utc_now
    _keys: dict[str, bytes] = field(default_factory=dict, repr=False)

    def now(self) -> datetime:
        return self.clock()

    @property
    def detection_only(self) -> bool:
        """School-wide mode: no recognition at all, faces assigned by hand."""
        return self.store.get_setting(DETECTION_ONLY, "0") == "1"

    # --- envelope encryption ----------------------------------------------------------

    def data_key(self, owner: str, *, create: bool = True) -> bytes | None:
        """The unwrapped data key of ``owner`` (a person id or :data:`POOL`)."""
        if owner in self._keys:
            return self._keys[owner]
        stored = self.store.wrapped_key(owner)
        if stored is None:
            if not create:
                return None
            # A new key is not cached: if the surrounding transaction rolls back,
            # its stored row is gone, and a cached copy would seal data nobody can
            # open again. The next call reads it back from the store.
            key = new_data_key()
            self.store.save_wrapped_key(
                owner, wrap_key(self.master, key, person_id=owner), self.master.key_id
            )
            return key
        key = unwrap_key(self.master, stored[0], person_id=owner)
        self._keys[owner] = key
        return key

    def seal(self, owner: str, vector: np.ndarray, *, aad: str) -> bytes:
        key = self.data_key(owner)
        return encrypt_embedding(key, vector, aad=f"{owner}|{aad}".encode())

    def open(self, owner: str, blob: bytes, *, aad: str) -> np.ndarray | None:
        """Decrypt, or None when the owner's key is gone (crypto-shredded)."""
        key = self.data_key(owner, create=False)
        if key is None:
            return None
        return decrypt_embedding(key, blob, aad=f"{owner}|{aad}".encode())

    def shred(self, owner: str) -> bool:
        """Delete ``owner``'s data key: everything encrypted with it is unreadable."""
        self._keys.pop(owner, None)
        return self.store.delete_wrapped_key(owner)
