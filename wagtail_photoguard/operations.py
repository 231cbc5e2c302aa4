"""The ``guard-<purpose>`` image operation: ``{% image photo fill-800x600 guard-website %}``.

The operation itself only names the purpose. The redaction happens in the guarded
image model (:mod:`wagtail_photoguard.rendering`), which sees the whole filter —
crop, resize and purpose together — so face boxes can be mapped through the crop
before anything is painted. A rendition without the operation is guarded for the
site's default purpose, so leaving it out never publishes an unguarded face.
"""

from __future__ import annotations

from wagtail.images.image_operations import FilterOperation

PURPOSE_KEY = "photoguard-purpose"


class GuardOperation(FilterOperation):
    #: Renditions must be re-made when consent changes; the catalogue deletes them
    #: then (see signal handlers), so nothing else needs to vary the key.
    vary_fields = ()

    def construct(self, purpose: str) -> None:
        self.purpose = purpose

    def run(self, willow, image, env):
        env[PURPOSE_KEY] = self.purpose
        return willow


def purpose_of(filter_) -> str | None:
    """The purpose a filter names with ``guard-<purpose>``, if any."""
    for operation in filter_.operations:
        if isinstance(operation, GuardOperation):
            return operation.purpose
    return None
