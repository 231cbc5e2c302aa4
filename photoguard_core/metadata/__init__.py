"""Metadata: what a file carries besides its pixels, and proof that none is left.

Public API::

    read_metadata(data, *, name="<bytes>") -> MetadataReport   # the "before" view
    verify_clean(data, fmt, *, name) -> None                   # raises MetadataLeftError
"""

from photoguard_core.metadata.read import read_metadata
from photoguard_core.metadata.report import MetadataReport
from photoguard_core.metadata.verify import verify_clean

__all__ = ["MetadataReport", "read_metadata", "verify_clean"]
