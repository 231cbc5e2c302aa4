"""The core's :class:`~photoguard_core.context.Context` for this site: the Django store,
the master key from the environment or the configured file, and who is acting."""

from __future__ import annotations

from functools import lru_cache

from photoguard_core.context import Context
from photoguard_core.crypto import MasterKey, resolve_master_key
from wagtail_photoguard import conf
from wagtail_photoguard.store import DjangoCatalogue


@lru_cache(maxsize=1)
def master_key() -> MasterKey:
    return resolve_master_key(conf.master_key_file())


def core_context(actor: str = "site") -> Context:
    store = DjangoCatalogue()
    key = master_key()
    from photoguard_core.audit import seal_head

    store.sealer = lambda seq, digest: seal_head(key, seq, digest)
    return Context(store=store, master=key, actor=actor)
